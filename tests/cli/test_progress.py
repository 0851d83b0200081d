"""terminal_progress: bars on a terminal, plain lines otherwise, nothing when quiet."""

from __future__ import annotations

import io
import threading

import pytest

from cog.cli._progress import (
    BarProgress,
    PlainProgress,
    format_amount,
    format_size,
    terminal_progress,
)
from cog.progress import NullProgress


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
    layer = progress.task("Fetching torch", total=3 << 30)
    count = progress.task("Locking packages")
    layer.advance(1 << 30)
    progress.info("using 2 indexes")
    count.finish("12 packages")
    layer.finish()
    layer.finish()  # a second finish is harmless
    assert stream.getvalue() == (
        "Fetching torch... (3.0 GiB)\n"
        "Locking packages...\n"
        "using 2 indexes\n"
        "Locking packages: 12 packages\n"
        "Fetching torch: done\n"
    )


@pytest.mark.unit
def test_bars_redraw_in_place() -> None:
    stream, clock = _Terminal(), _Clock()
    progress = BarProgress(stream, color=False, clock=clock, width=80)
    task = progress.task("layer", total=4)
    assert stream.getvalue() == "  layer " + "░" * 24 + "   0% 0/4\n"
    clock.now = 1.0
    task.advance(2)
    assert stream.getvalue().endswith("\x1b[1F\x1b[J  layer " + "█" * 12 + "░" * 12 + "  50% 2/4\n")
    task.finish()
    assert stream.getvalue().endswith("\x1b[1F\x1b[J✓ layer: 2\n")


@pytest.mark.unit
def test_bars_throttle_redraws() -> None:
    stream, clock = _Terminal(), _Clock()
    progress = BarProgress(stream, color=False, clock=clock, width=80)
    task = progress.task("blob", total=100)
    drawn = stream.getvalue()
    for _ in range(50):
        task.advance(1)  # the clock does not move: no redraw
    assert stream.getvalue() == drawn
    clock.now = 0.5
    task.advance(1)
    assert stream.getvalue().endswith("  51% 51/100\n")


@pytest.mark.unit
def test_info_scrolls_above_the_bars_and_long_lines_are_cut() -> None:
    stream, clock = _Terminal(), _Clock()
    progress = BarProgress(stream, color=False, clock=clock, width=30)
    progress.task("a very long description of a layer being pushed", total=None)
    progress.info("hello")
    assert stream.getvalue() == (
        "  a very long description of…\n\x1b[1F\x1b[Jhello\n  a very long description of…\n"
    )


@pytest.mark.unit
def test_color_on_and_off() -> None:
    colored, plain = _Terminal(), _Terminal()
    BarProgress(colored, color=True, width=80).task("x", total=2).finish("ok")
    BarProgress(plain, color=False, width=80).task("x", total=2).finish("ok")
    assert "\x1b[3" in colored.getvalue()
    assert "\x1b[3" not in plain.getvalue()
    assert plain.getvalue().endswith("✓ x: ok\n")


@pytest.mark.unit
def test_threads_share_one_display() -> None:
    stream = _Terminal()
    progress = BarProgress(stream, color=False, width=80)
    tasks = [progress.task(f"t{i}", total=1000) for i in range(4)]

    def work(index: int) -> None:
        for _ in range(1000):
            tasks[index].advance(1)
        tasks[index].finish()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = [line for line in stream.getvalue().split("\n") if "✓" in line]
    assert sorted(line.rsplit("✓ ", 1)[1] for line in finished) == [
        "t0: 1000",
        "t1: 1000",
        "t2: 1000",
        "t3: 1000",
    ]


@pytest.mark.unit
def test_amounts() -> None:
    assert format_amount(3, 10) == "3/10"
    assert format_amount(5, None) == "5"
    assert format_amount(1 << 20, 3 << 20) == "1.0 MiB/3.0 MiB"
    assert format_size(512) == "512 B"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(5 << 40) == "5120.0 GiB"
