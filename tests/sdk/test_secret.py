"""cog.Secret never shows its value, wherever it is printed."""

from __future__ import annotations

import copy
import logging
import pickle
import traceback

import pytest

from cog import Secret

VALUE = "hunter2-very-secret"


@pytest.mark.unit
def test_value_is_reachable_only_on_purpose() -> None:
    secret = Secret(VALUE)
    assert secret.get_secret_value() == VALUE
    assert Secret().get_secret_value() is None
    assert Secret(None).get_secret_value() is None


@pytest.mark.unit
@pytest.mark.parametrize(
    "render",
    [
        str,
        repr,
        lambda s: f"{s}",
        lambda s: f"{s!r}",
        lambda s: "%s %r" % (s, s),  # noqa: UP031
        lambda s: "{} {!r}".format(s, s),  # noqa: UP032
        lambda s: str([s]),
        lambda s: str((s, 1)),
        lambda s: str({"key": s}),
        lambda s: str({s}),
        lambda s: repr(copy.deepcopy(s)),
    ],
    ids=[
        "str",
        "repr",
        "fstring",
        "fstring-r",
        "percent",
        "format",
        "list",
        "tuple",
        "dict",
        "set",
        "deepcopy",
    ],
)
def test_renderings_are_redacted(render: object) -> None:
    assert callable(render)
    text = render(Secret(VALUE))
    assert VALUE not in text
    assert "**********" in text


@pytest.mark.unit
def test_exact_renderings() -> None:
    secret = Secret(VALUE)
    assert str(secret) == "**********"
    assert repr(secret) == "Secret(**********)"
    assert str(Secret()) == ""


@pytest.mark.unit
def test_logging_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("cog.tests.secret")
    with caplog.at_level(logging.INFO, logger="cog.tests.secret"):
        log.info("token=%s", Secret(VALUE))
        log.info("args %r", [Secret(VALUE)])
        log.info(Secret(VALUE))
    assert VALUE not in caplog.text
    assert caplog.text.count("**********") == 3


@pytest.mark.unit
def test_exceptions_and_tracebacks_are_redacted() -> None:
    secret = Secret(VALUE)
    with pytest.raises(ValueError, match="bad token") as caught:
        raise ValueError("bad token", secret, {"token": secret})
    rendered = "".join(traceback.format_exception(caught.value))
    assert VALUE not in str(caught.value)
    assert VALUE not in repr(caught.value)
    assert VALUE not in rendered
    assert "Secret(**********)" in rendered


@pytest.mark.unit
def test_no_side_door_through_vars() -> None:
    with pytest.raises(TypeError):
        vars(Secret(VALUE))


@pytest.mark.unit
def test_pickles_for_the_worker_and_compares_by_value() -> None:
    secret = Secret(VALUE)
    restored = pickle.loads(pickle.dumps(secret))
    assert restored == secret
    assert restored.get_secret_value() == VALUE
    assert Secret("a") != Secret("b")
    with pytest.raises(AttributeError):
        secret.secret_value = "other"  # type: ignore[misc]
