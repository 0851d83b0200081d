from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cog.errors import RegistryError
from cog.rules.registry.reference import (
    Reference,
    default_registry,
    model_reference,
    parse_reference,
)

DIGEST = "sha256:" + "ab" * 32
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reg.example:5000/acme/m", Reference("reg.example:5000", "acme/m", "latest", None)),
        ("reg.example/acme/model:v1", Reference("reg.example", "acme/model", "v1", None)),
        ("localhost/model:1.0-rc", Reference("localhost", "model", "1.0-rc", None)),
        ("127.0.0.1:5000/a/b/c", Reference("127.0.0.1:5000", "a/b/c", "latest", None)),
        ("[::1]:5000/a/b:t", Reference("[::1]:5000", "a/b", "t", None)),
        (f"reg.example/acme/m@{DIGEST}", Reference("reg.example", "acme/m", None, DIGEST)),
        (f"reg.example/acme/m:v2@{DIGEST}", Reference("reg.example", "acme/m", "v2", DIGEST)),
    ],
)
def test_parse_reference(text: str, expected: Reference) -> None:
    assert parse_reference(text, env={}) == expected


@pytest.mark.unit
def test_reference_without_host_needs_cog_registry_host() -> None:
    with pytest.raises(RegistryError) as err:
        parse_reference("acme/model:v1", env={})
    assert "names no registry host" in err.value.message
    assert err.value.hint is not None
    assert "COG_REGISTRY_HOST" in err.value.hint
    ref = parse_reference("acme/model:v1", env={"COG_REGISTRY_HOST": "reg.example:8443"})
    assert ref == Reference("reg.example:8443", "acme/model", "v1", None)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("reg.example/Acme/model", "Invalid repository"),
        ("reg.example/acme/model:-bad", "Invalid tag"),
        ("reg.example/acme/model@sha256:abc", "Invalid digest"),
        ("reg.example/", "Invalid repository"),
        ("", "Empty image reference"),
    ],
)
def test_invalid_references(text: str, fragment: str) -> None:
    with pytest.raises(RegistryError, match=fragment):
        parse_reference(text, env={})


@pytest.mark.unit
def test_target_and_str() -> None:
    ref = parse_reference(f"reg.example/a/b:t@{DIGEST}", env={})
    assert ref.target == DIGEST
    assert str(ref) == f"reg.example/a/b:t@{DIGEST}"
    assert parse_reference("reg.example/a/b", env={}).target == "latest"


@pytest.mark.unit
def test_cog_model_takes_precedence_and_gets_a_timestamp_tag() -> None:
    env = {"COG_MODEL": "reg.example/acme/m", "COG_MODEL_TAG": "ignored", "COG_MODEL_REPO": "x/y"}
    ref = model_reference("other.example/z/z:1", env=env, now=NOW)
    assert ref == Reference("reg.example", "acme/m", "cog-20260102T030405Z", None)
    ref = model_reference(None, env={"COG_MODEL": "reg.example/acme/m:v3"}, now=NOW)
    assert ref.tag == "v3"


@pytest.mark.unit
def test_cog_model_parts_override_the_image() -> None:
    env = {
        "COG_MODEL_REGISTRY": "reg2.example:5000",
        "COG_MODEL_REPO": "team/model",
        "COG_MODEL_TAG": "staging",
    }
    ref = model_reference("reg.example/acme/m:v1", env=env)
    assert ref == Reference("reg2.example:5000", "team/model", "staging", None)
    only_tag = model_reference("reg.example/acme/m:v1", env={"COG_MODEL_TAG": "prod"})
    assert only_tag == Reference("reg.example", "acme/m", "prod", None)
    # No image at all: the parts and COG_REGISTRY_HOST make the whole reference.
    ref = model_reference(None, env={"COG_REGISTRY_HOST": "reg.example", "COG_MODEL_REPO": "a/b"})
    assert ref == Reference("reg.example", "a/b", "latest", None)
    # A host-less image takes COG_MODEL_REGISTRY as its host.
    ref = model_reference("acme/m", env={"COG_MODEL_REGISTRY": "reg3.example"})
    assert ref == Reference("reg3.example", "acme/m", "latest", None)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"COG_MODEL_TAG": "cog-123"}, "reserved"),
        ({"COG_MODEL": "reg.example/a/b:cog-x"}, "reserved"),
        ({"COG_MODEL_REPO": "reg.example/a/b"}, "repository path only"),
        ({"COG_MODEL_REPO": "a/b:v1"}, "repository path only"),
        ({"COG_MODEL_REGISTRY": "not a host"}, "not a registry host"),
    ],
)
def test_bad_overrides(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(RegistryError, match=fragment):
        model_reference("reg.example/acme/m", env=env)


@pytest.mark.unit
def test_no_image_and_no_env_names_the_fix() -> None:
    with pytest.raises(RegistryError) as err:
        model_reference(None, env={})
    assert err.value.hint is not None
    assert "COG_MODEL" in err.value.hint


@pytest.mark.unit
def test_default_registry_is_cog_registry_host() -> None:
    assert default_registry({"COG_REGISTRY_HOST": "reg.example:5000"}) == "reg.example:5000"
    with pytest.raises(RegistryError, match="COG_REGISTRY_HOST is not set"):
        default_registry({})
