"""Custom metrics: modes, naming rules, type safety, nesting and the no-op outside a prediction."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest

from cog import BaseRunner, current_scope
from cog._sdk.metrics import Metrics, check_metric_name
from cog._sdk.scope import prediction_scope

VALID = ["temperature", "token_count", "TTFT", "T2I_latency", "timing.preprocess", "a", "a.b.c.d"]
# Messages as the reference runtime words them (coglet 0.23, observed).
INVALID = [
    ("_token", "metric name segment '_token' must start with a letter"),
    ("token_", "metric name segment 'token_' must end with a letter or digit"),
    ("foo__bar", "metric name segment 'foo__bar' must not contain consecutive underscores"),
    (".foo", "metric name must not start with a dot"),
    ("foo.", "metric name must not end with a dot"),
    ("foo..bar", "metric name must not contain empty segments (consecutive dots)"),
    ("foo bar", "metric name segment 'foo bar' contains invalid character ' '"),
    ("cog.system", "the 'cog.' prefix is reserved for system metrics"),
    ("predict_time", "'predict_time' is reserved by the runtime"),
    ("", "metric name must not be empty"),
    ("a.b.c.d.e", "metric name must have at most 4 dot-separated segments (got 5)"),
    ("x" * 129, "metric name must be 128 characters or fewer (got 129 characters)"),
    ("1st", "metric name segment '1st' must start with a letter"),
    ("\u00e9t\u00e9", "must start with a letter"),
    ("a.b_", "metric name segment 'b_' must end with a letter or digit"),
]


@pytest.mark.unit
@pytest.mark.parametrize("name", VALID)
def test_valid_names(name: str) -> None:
    check_metric_name(name)
    metrics = Metrics()
    metrics.record(name, 1)
    assert metrics[name] == 1


@pytest.mark.unit
@pytest.mark.parametrize(("name", "why"), INVALID, ids=[n[:12] or "empty" for n, _ in INVALID])
def test_invalid_names(name: str, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        Metrics().record(name, 1)


@pytest.mark.unit
def test_limits_are_inclusive() -> None:
    check_metric_name("x" * 128)
    check_metric_name("cog")  # only the "cog." prefix is reserved


@pytest.mark.unit
def test_modes() -> None:
    metrics = Metrics()
    metrics.record("token_count", 1, mode="incr")
    metrics.record("token_count", 1, mode="incr")
    metrics.record("latency", 1.0, mode="incr")
    metrics.record("latency", 0.5, mode="incr")
    metrics.record("steps", "preprocessing", mode="append")
    metrics.record("steps", "inference", mode="append")
    metrics.record("status", "running", mode="replace")
    metrics.record("status", "done", mode=None)
    assert metrics.to_json() == {
        "token_count": 2,
        "latency": 1.5,
        "steps": ["preprocessing", "inference"],
        "status": "done",
    }
    assert list(metrics.to_json()) == ["latency", "status", "steps", "token_count"]


@pytest.mark.unit
def test_invalid_mode_and_increment() -> None:
    metrics = Metrics()
    with pytest.raises(TypeError, match=r"Invalid metric mode: 'add'\. Expected 'replace', 'incr'"):
        metrics.record("n", 1, mode="add")
    with pytest.raises(TypeError, match="Increment mode requires int or float, got str"):
        metrics.record("n", "1", mode="incr")
    with pytest.raises(TypeError, match="Increment mode requires int or float, got bool"):
        metrics.record("n", True, mode="incr")
    with pytest.raises(TypeError, match="Unsupported metric value type: NoneType"):
        metrics.record("n", None, mode="append")
    assert len(metrics) == 0


@pytest.mark.unit
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (object(), "Unsupported metric value type: object. Expected bool, int, float, str"),
        (b"bytes", "Unsupported metric value type: bytes"),
        ((1, 2), "Unsupported metric value type: tuple"),
        ({1: "int key"}, "metric dict keys must be str, got int"),
        ([object()], "Cannot convert object to JSON metric value"),
    ],
)
def test_unsupported_values(value: object, message: str) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        Metrics().record("x", value)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("first", "second", "mode", "old", "new"),
    [
        (1, "oops", "replace", "int", "str"),
        (1, 1.5, "replace", "int", "float"),  # int and float are distinct, as in the reference
        (1, 0.5, "incr", "int", "float"),
        (1.5, 1, "incr", "float", "int"),
        (True, 1, "replace", "bool", "int"),
        ("x", 1, "incr", "str", "int"),
        (1, "y", "append", "int", "str"),
        (1, [5], "replace", "int", "list"),
    ],
)
def test_type_safety(first: object, second: object, mode: str, old: str, new: str) -> None:
    metrics = Metrics()
    metrics.record("count", first, mode="append" if mode == "append" else "replace")
    message = f"Metric 'count' has type {old}, cannot set to {new} without deleting first"
    with pytest.raises(TypeError, match=re.escape(message)):
        metrics.record("count", second, mode=mode)
    del metrics["count"]
    metrics.record("count", second, mode=mode)
    assert "count" in metrics


@pytest.mark.unit
def test_append_keeps_the_element_type_and_lists_a_scalar() -> None:
    metrics = Metrics()
    metrics.record("tags", "x")
    metrics.record("tags", "y", mode="append")
    metrics.record("lists", [1], mode="append")
    metrics.record("lists", [2], mode="append")
    metrics.record("n", 2, mode="incr")
    metrics.record("n", 3, mode="append")
    assert metrics.to_json() == {"lists": [[1], [2]], "n": [2, 3], "tags": ["x", "y"]}
    with pytest.raises(TypeError, match="has type str, cannot set to list"):
        metrics.record("tags", ["z"])
    with pytest.raises(TypeError, match="'n' holds a list of values and cannot be incremented"):
        metrics.record("n", 1, mode="incr")


@pytest.mark.unit
def test_none_deletes_and_missing_delete_is_quiet() -> None:
    metrics = Metrics()
    metrics["a"] = 1
    metrics.record("a", None)
    assert "a" not in metrics
    del metrics["never_set"]
    metrics.record("b", [1])
    metrics["b"] = None
    assert metrics.to_json() == {}


@pytest.mark.unit
def test_dot_paths_nest() -> None:
    metrics = Metrics()
    metrics.record("timing.preprocess", 0.12)
    metrics.record("timing.inference", 0.85)
    metrics.record("a.b.c.d", {"k": [1, 2]})
    assert metrics.to_json() == {
        "timing": {"preprocess": 0.12, "inference": 0.85},
        "a": {"b": {"c": {"d": {"k": [1, 2]}}}},
    }
    assert list(metrics) == ["timing.preprocess", "timing.inference", "a.b.c.d"]


@pytest.mark.unit
def test_a_name_and_a_dotted_name_under_it_the_later_wins() -> None:
    metrics = Metrics()
    metrics.record("timing", 1)
    metrics.record("timing.x", 2)
    metrics.record("usage.x", 1)
    metrics.record("usage", 2)
    assert metrics.to_json() == {"timing": {"x": 2}, "usage": 2}
    metrics.record("timing", 3)
    assert metrics.to_json() == {"timing": 3, "usage": 2}


@pytest.mark.unit
def test_nested_keys_are_sorted_like_the_reference() -> None:
    metrics = Metrics()
    metrics.record("zeta", {"b": 1, "a": {"d": 1, "c": 2}})
    metrics.record("alpha.beta", 1)
    metrics.record("alpha.aardvark", 2)
    rendered = metrics.to_json()
    assert list(rendered) == ["alpha", "zeta"]
    assert rendered == {
        "alpha": {"aardvark": 2, "beta": 1},
        "zeta": {"a": {"c": 2, "d": 1}, "b": 1},
    }
    assert repr(rendered) == (
        "{'alpha': {'aardvark': 2, 'beta': 1}, 'zeta': {'a': {'c': 2, 'd': 1}, 'b': 1}}"
    )


@pytest.mark.unit
def test_stored_values_are_copies() -> None:
    metrics = Metrics()
    tags = ["a"]
    metrics.record("tags", tags)
    tags.append("b")
    snapshot = metrics.to_json()
    assert snapshot == {"tags": ["a"]}
    snapshot["tags"].append("c")  # type: ignore[attr-defined]
    assert metrics["tags"] == ["a"]


@pytest.mark.unit
def test_outside_a_prediction_everything_is_a_silent_no_op() -> None:
    scope = current_scope()
    assert not scope.active
    scope.record_metric("token_count", 1)
    scope.record_metric("_bad name_", object())  # not even validated
    with pytest.raises(TypeError, match="Invalid metric mode"):
        scope.record_metric("n", 1, mode="nonsense")  # except the mode, as the reference does
    scope.metrics["x"] = 1
    del scope.metrics["x"]
    assert dict(scope.metrics) == {}
    assert scope.metrics_json() == {}
    runner = BaseRunner()
    runner.record_metric("temperature", 0.7)
    runner.scope.metrics["n"] = 1
    assert runner.scope.metrics_json() == {}


class _Runner(BaseRunner):
    def run(self) -> str:
        self.record_metric("temperature", 0.7)
        self.record_metric("token_count", 1, mode="incr")
        self.record_metric("token_count", 1, mode="incr")
        self.scope.metrics["scratch"] = 42
        del self.scope.metrics["scratch"]
        return "ok"


@pytest.mark.unit
def test_prediction_scope_collects_and_reports_each_record() -> None:
    events: list[tuple[str, object, str]] = []
    with prediction_scope(lambda *event: events.append(event), context={"user": "u1"}) as scope:
        assert current_scope() is scope
        assert scope.context == {"user": "u1"}
        assert _Runner().run() == "ok"
        assert scope.metrics_json() == {"temperature": 0.7, "token_count": 2}
    assert events == [
        ("temperature", 0.7, "replace"),
        ("token_count", 1, "incr"),
        ("token_count", 1, "incr"),
        ("scratch", 42, "replace"),
        ("scratch", None, "replace"),
    ]
    assert not current_scope().active


@pytest.mark.unit
def test_invalid_records_raise_inside_a_prediction() -> None:
    with prediction_scope():
        with pytest.raises(ValueError, match="consecutive underscores"):
            BaseRunner().record_metric("foo__bar", 1)
        BaseRunner().record_metric("count", 1)
        with pytest.raises(TypeError, match="without deleting first"):
            BaseRunner().record_metric("count", "oops")


@pytest.mark.unit
def test_threads_started_by_a_sync_model_reach_its_scope() -> None:
    with prediction_scope() as scope:
        worker = threading.Thread(target=lambda: current_scope().record_metric("from_thread", 1))
        worker.start()
        worker.join()
        assert scope.metrics_json() == {"from_thread": 1}


@pytest.mark.unit
def test_concurrent_async_predictions_keep_their_own_scopes() -> None:
    async def predict(label: str, gate: asyncio.Event) -> dict[str, object]:
        with prediction_scope() as scope:
            current_scope().record_metric("label", label)
            await gate.wait()
            current_scope().record_metric("steps", label, mode="append")
            return scope.metrics_json()

    async def main() -> list[dict[str, object]]:
        gate = asyncio.Event()
        tasks = [asyncio.create_task(predict(name, gate)) for name in ("a", "b")]
        await asyncio.sleep(0)
        gate.set()
        return list(await asyncio.gather(*tasks))

    assert asyncio.run(main()) == [
        {"label": "a", "steps": ["a"]},
        {"label": "b", "steps": ["b"]},
    ]
