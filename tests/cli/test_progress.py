"""terminal_progress: bars on a terminal, plain lines otherwise, nothing when quiet."""

from __future__ import annotations

import io
import threading

import pytest

from cog.cli._progress_bars import BarProgress
from cog.cli._progress_display import (
    PlainProgress,
    format_amount,
    format_seconds,
    format_size,
    terminal_progress,
)
from cog.progress import NullProgress, phase


@pytest.fixture(autouse=True)
def _a_capable_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests stand in for a terminal that can redraw, whatever TERM the run has."""
    monkeypatch.setenv("TERM", "xterm-256color")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.unit
def test_mode_selection() -> None:
    assert isinstance(terminal_progress(io.StringIO()), PlainProgress)
    assert isinstance(terminal_progress(_Terminal()), BarProgress)
    assert isinstance(terminal_progress(_Terminal(), mode="plain"), PlainProgress)
    assert isinstance(terminal_progress(io.StringIO(), mode="tty"), BarProgress)
    assert isinstance(terminal_progress(_Terminal(), mode="quiet"), NullProgress)


@pytest.mark.unit
def test_plain_lines() -> None:
    stream = io.StringIO()
    progress = terminal_progress(stream, mode="plain")
    layer = progress.task("Fetching torch", total=3_000_000_000)
    count = progress.task("Locking packages")
    layer.advance(1 << 30)
    progress.info("using 2 indexes")
    count.finish("12 packages")
    layer.finish()
    layer.finish()  # a second finish is harmless
    assert stream.getvalue() == (
        "Fetching torch... (3.0 GB)\n"
        "Locking packages...\n"
        "using 2 indexes\n"
        "Locking packages: 12 packages\n"
        "Fetching torch: done\n"
    )


@pytest.mark.unit
def test_plain_phase_prints_a_few_lines_never_one_per_file() -> None:
    stream, clock = io.StringIO(), _Clock()
    progress = PlainProgress(stream, clock=clock)
    with phase(progress, "Fetching", done="fetched", noun="files", total=77 * 587_013) as p:
        for index in range(77):
            item = p.task(f"file{index}.deb", total=587_013)
            clock.now += 0.07
            item.advance(587_013)
            item.finish()
        cached = p.task("cached.deb", total=10)
        cached.finish("cached")
    lines = stream.getvalue().splitlines()
    assert lines == [
        "Fetching... (45.2 MB)",
        "fetched 77 files, 45.2 MB in 5.4 s (1 already present)",
    ]


@pytest.mark.unit
def test_plain_phase_reports_a_long_transfer_every_ten_seconds() -> None:
    stream, clock = io.StringIO(), _Clock()
    progress = PlainProgress(stream, clock=clock)
    with phase(progress, "Pushing r/m", done="pushed", noun="blobs", total=4_000_000_000) as p:
        blob = p.task("abc", total=4_000_000_000)
        for _ in range(40):
            clock.now += 1.0
            blob.advance(100_000_000)
        blob.finish()
    assert stream.getvalue().splitlines() == [
        "Pushing r/m... (4.0 GB)",
        "Pushing r/m: 1.0/4.0 GB, 100.0 MB/s",
        "Pushing r/m: 2.0/4.0 GB, 100.0 MB/s",
        "Pushing r/m: 3.0/4.0 GB, 100.0 MB/s",
        "Pushing r/m: 4.0/4.0 GB, 100.0 MB/s",
        "pushed 1 blobs, 4.0 GB in 40.0 s",
    ]


@pytest.mark.unit
def test_a_failed_phase_prints_no_summary() -> None:
    stream = io.StringIO()
    progress = PlainProgress(stream)

    def fail() -> None:
        with phase(progress, "Fetching", done="fetched", noun="files", total=5) as p:
            p.task("a", total=5).finish()
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail()
    assert stream.getvalue() == "Fetching... (5 B)\n"


@pytest.mark.unit
def test_a_progress_without_phases_gets_the_items() -> None:
    seen: list[str] = []

    class Old(NullProgress):
        def info(self, message: str) -> None:
            seen.append(message)

    with phase(Old(), "Fetching", done="fetched", noun="files") as p:
        p.info("one")
    assert seen == ["one"]


@pytest.mark.unit
def test_bars_finish_with_one_summary_line() -> None:
    stream = _Terminal()
    progress = BarProgress(stream, color=False, width=100, refresh=False)
    with phase(progress, "Fetching", done="fetched", noun="files", total=3_000_000) as p:
        items = [p.task(f"f{i}.whl", total=1_000_000) for i in range(3)]
        for item in items:
            item.advance(1_000_000)
            item.finish()
    text = stream.getvalue()
    assert text.count("✓ fetched 3 files, 3.0 MB in ") == 1
    assert "f0.whl" not in text.rsplit("✓", 1)[1]


@pytest.mark.unit
def test_bars_draw_bytes_speed_and_time_left() -> None:
    stream, clock = _Terminal(), _Clock()
    progress = BarProgress(stream, color=False, width=120, refresh=False, clock=clock)
    with phase(progress, "Pulling", done="pulled", noun="blobs", total=50_000_000) as p:
        blob = p.task("0123456789ab", total=50_000_000)
        clock.now = 1.0
        blob.advance(20_000_000)
        progress.rich.refresh()
        clock.now = 2.0
        blob.advance(5_000_000)
        progress.rich.refresh()
        drawn = stream.getvalue()
        blob.finish()
    assert "Pulling ━" in drawn
    assert "25.0/50.0 MB" in drawn
    assert "5.0 MB/s, 5.0 s left" in drawn  # the last second moved 5 MB; 25 MB to go
    assert "↳ 0123456789ab 25.0/50.0 MB" in drawn


@pytest.mark.unit
def test_info_and_tasks_outside_phases() -> None:
    stream = _Terminal()
    progress = BarProgress(stream, color=False, width=80, refresh=False)
    task = progress.task("Resolving Python packages")
    progress.info("hello")
    task.finish("Resolved 3 Python packages")
    text = stream.getvalue()
    assert "hello\n" in text
    assert "✓ Resolving Python packages: Resolved 3 Python packages\n" in text


@pytest.mark.unit
def test_color_on_and_off() -> None:
    colored, plain = _Terminal(), _Terminal()
    BarProgress(colored, color=True, width=80, refresh=False).task("x", total=2).finish("ok")
    BarProgress(plain, color=False, width=80, refresh=False).task("x", total=2).finish("ok")
    assert "\x1b[32m" in colored.getvalue()
    assert "\x1b[3" not in plain.getvalue()
    assert "✓ x: ok\n" in plain.getvalue()


@pytest.mark.unit
def test_threads_share_one_display() -> None:
    stream = _Terminal()
    progress = BarProgress(stream, color=False, width=80)
    with phase(progress, "Pushing", done="pushed", noun="blobs", total=4000) as p:
        tasks = [p.task(f"t{i}", total=1000) for i in range(4)]

        def work(index: int) -> None:
            for _ in range(1000):
                tasks[index].advance(1)
            tasks[index].finish()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert stream.getvalue().count("✓ pushed 4 blobs, 4.0 kB in ") == 1


@pytest.mark.unit
def test_amounts() -> None:
    assert format_amount(3, 10) == "3/10"
    assert format_amount(5, None) == "5"
    assert format_amount(1_000_000, 3_000_000) == "1.0/3.0 MB"
    assert format_amount(500_000, 3_000_000) == "500.0 kB/3.0 MB"
    assert format_size(512) == "512 B"
    assert format_size(1500) == "1.5 kB"
    assert format_size(45_200_000) == "45.2 MB"
    assert format_size(5 * 10**12) == "5000.0 GB"
    assert format_seconds(5.25) == "5.2 s"
    assert format_seconds(125) == "2 min 05 s"


@pytest.mark.unit
def test_a_dumb_terminal_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    assert isinstance(terminal_progress(_Terminal()), PlainProgress)
    assert isinstance(terminal_progress(_Terminal(), mode="tty"), BarProgress)
