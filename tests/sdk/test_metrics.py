"""Custom metrics: modes, naming rules, type safety, nesting and the no-op outside a prediction."""

from __future__ import annotations

import asyncio
import threading

import pytest

from cog import BaseRunner, current_scope
from cog._sdk.metrics import Metrics, check_metric_name
from cog._sdk.scope import prediction_scope

VALID = ["temperature", "token_count", "TTFT", "T2I_latency", "timing.preprocess", "a", "a.b.c.d"]
INVALID = [
    ("_token", "must start with a letter"),
    ("token_", "end with a letter or digit"),
    ("foo__bar", "consecutive underscores"),
    (".foo", "must not start with a dot"),
    ("foo.", "must not end with a dot"),
    ("foo..bar", "empty segments"),
    ("foo bar", "only letters, digits and underscores"),
    ("cog.system", "'cog.' prefix is reserved"),
    ("predict_time", "reserved by the runtime"),
    ("", "must not be empty"),
    ("a.b.c.d.e", "at most 4 dot-separated segments (got 5)"),
    ("x" * 129, "128 characters or fewer (got 129 characters)"),
    ("1st", "must start with a letter"),
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
    with pytest.raises(ValueError, match=why.replace("(", r"\(").replace(")", r"\)")):
        Metrics().record(name, 1)


@pytest.mark.unit
def test_128_characters_is_the_limit() -> None:
    check_metric_name("x" * 128)


@pytest.mark.unit
def test_modes() -> None:
    metrics = Metrics()
    metrics.record("token_count", 1, mode="incr")
    metrics.record("token_count", 1, mode="incr")
    metrics.record("latency", 1, mode="incr")
    metrics.record("latency", 0.5, mode="incr")
    metrics.record("steps", "preprocessing", mode="append")
    metrics.record("steps", "inference", mode="append")
    metrics.record("status", "running", mode="replace")
    metrics.record("status", "done")
    assert metrics.to_json() == {
        "token_count": 2,
        "latency": 1.5,
        "steps": ["preprocessing", "inference"],
        "status": "done",
    }


@pytest.mark.unit
def test_invalid_mode_and_increment() -> None:
    metrics = Metrics()
    with pytest.raises(
        ValueError, match=r"Invalid metric mode: 'add'\. Expected 'replace', 'incr'"
    ):
        metrics.record("n", 1, mode="add")
    with pytest.raises(TypeError, match="Increment mode requires int or float, got str"):
        metrics.record("n", "1", mode="incr")
    with pytest.raises(TypeError, match="Increment mode requires int or float, got bool"):
        metrics.record("n", True, mode="incr")
    assert len(metrics) == 0


@pytest.mark.unit
@pytest.mark.parametrize("value", [object(), b"bytes", {1: "int key"}, [object()]])
def test_unsupported_values(value: object) -> None:
    with pytest.raises(TypeError, match=r"Unsupported metric value type|str keys"):
        Metrics().record("x", value)


@pytest.mark.unit
def test_type_safety_until_deleted() -> None:
    metrics = Metrics()
    metrics.record("count", 1)
    with pytest.raises(TypeError, match="'count' holds a number and cannot change to a str"):
        metrics.record("count", "oops")
    with pytest.raises(TypeError, match="'count' holds a number, so it cannot be appended to"):
        metrics.record("count", 2, mode="append")
    metrics.record("flag", True)
    with pytest.raises(TypeError, match="holds a bool"):
        metrics.record("flag", 1)
    del metrics["count"]
    metrics.record("count", "now a string")
    assert metrics["count"] == "now a string"


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
def test_a_leaf_and_a_branch_cannot_share_a_name() -> None:
    metrics = Metrics()
    metrics.record("timing", 1)
    with pytest.raises(TypeError, match=r"'timing\.x' would nest inside 'timing'"):
        metrics.record("timing.x", 1)
    del metrics["timing"]
    metrics.record("timing.x", 1)
    with pytest.raises(TypeError, match="'timing' already holds nested metrics"):
        metrics.record("timing", 2)


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
    scope.record_metric("_bad name_", object(), mode="nonsense")  # not even validated
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
        with pytest.raises(TypeError, match="delete it first"):
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
