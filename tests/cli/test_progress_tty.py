"""Progress as a user sees it: a real pseudo-terminal, and the same run piped into a file."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import textwrap

import pytest

# What a build does: a task outside any phase, then a phase of parallel downloads.
_SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    from cog.cli._progress_display import command_progress
    from cog.progress import phase

    progress = command_progress(sys.argv[1])
    task = progress.task("Resolving Python packages")
    task.finish("Resolved 12 Python packages")
    with phase(progress, "Fetching", done="fetched", noun="files", total=77 * 587_013) as p:
        def fetch(index):
            item = p.task(f"package{index}.deb", 587_013)
            for _ in range(3):
                time.sleep(0.01)
                item.advance(195_671)
            item.finish()
        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(77)]
        for thread in threads:
            thread.start()
            time.sleep(0.005)
        for thread in threads:
            thread.join()
    progress.info("image written")
    """
)


def _in_pty(args: list[str], env: dict[str, str]) -> str:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    return b"".join(chunks).decode()


def _visible(out: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COG_NO_COLOR")}
    env.update(COLUMNS="100", LINES="40", TERM="xterm-256color", **extra)
    return env


@pytest.mark.integration
def test_a_terminal_gets_live_bars_and_one_summary_per_phase() -> None:
    out = _in_pty([sys.executable, "-c", _SCRIPT, "auto"], _env())
    assert "\x1b[?25l" in out  # the live display hides the cursor while it draws
    assert "\x1b[32m" in out  # green check marks
    tail = _visible(out.rsplit("\x1b[?25h", 1)[1])
    out = _visible(out)
    assert "Fetching ━" in out  # the phase's bar
    assert "/45.2 MB" in out  # bytes done of the total, in human units
    assert "MB/s" in out
    assert "↳ package" in out  # items while they run
    assert out.count("fetched 77 files, 45.2 MB in ") == 1
    assert "✓ Resolving Python packages: Resolved 12 Python packages" in out
    # Once finished, no item stays on screen: what follows the live display is summaries.
    assert "package" not in tail
    assert "image written" in tail


@pytest.mark.integration
def test_no_color_on_a_terminal() -> None:
    out = _in_pty([sys.executable, "-c", _SCRIPT, "auto"], _env(NO_COLOR="1"))
    assert "fetched 77 files" in out
    assert "\x1b[32m" not in out
    assert "\x1b[35m" not in out


@pytest.mark.integration
def test_piped_output_is_a_few_plain_lines() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, "auto"],
        capture_output=True,
        text=True,
        env=_env(),
        check=True,
        timeout=60,
    )
    lines = proc.stderr.splitlines()
    assert lines[:3] == [
        "Resolving Python packages...",
        "Resolving Python packages: Resolved 12 Python packages",
        "Fetching... (45.2 MB)",
    ]
    assert lines[3].startswith("fetched 77 files, 45.2 MB in ")
    assert lines[4:] == ["image written"]
    assert "\x1b" not in proc.stderr


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["quiet", "plain"])
def test_quiet_and_plain_on_a_terminal(mode: str) -> None:
    out = _in_pty([sys.executable, "-c", _SCRIPT, mode], _env())
    assert "\x1b[" not in out
    assert ("fetched 77 files" in out) is (mode == "plain")
    assert "package1.deb" not in out


@pytest.mark.integration
def test_cog_version_does_not_import_rich() -> None:
    probe = "import sys; from cog.cli import main; sys.argv=['cog','--version']\n"
    probe += "try:\n main()\nexcept SystemExit: pass\nprint('rich' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert proc.stdout.splitlines()[-1] == "False"
