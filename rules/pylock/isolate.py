"""uv, run where an sdist's own code cannot harm the host, when sdists are allowed.

To read the metadata of an sdist that does not state it statically (PKG-INFO 2.2+ without
Dynamic fields, or pyproject.toml's [project]), uv builds it: the sdist's setup.py runs.
Under bubblewrap that code sees the host read-only, writes only to the resolve's own
folder (uv's cache and TMPDIR go there too, so nothing it leaves is reused later), and
has no capabilities. It keeps the network: uv needs the indexes.
"""

from __future__ import annotations

from pathlib import Path

from cog.rules.host_tools import which


def isolated(argv: list[str], work: Path) -> list[str]:
    """``argv`` (uv pip compile, run in ``work``) under bubblewrap, when it is installed."""
    bwrap = which("bwrap")
    if bwrap is None:
        return argv  # as pip would: the sdist's metadata build runs on the host
    (work / "tmp").mkdir(exist_ok=True)
    command = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    command += ["--bind", str(work), str(work), "--setenv", "TMPDIR", str(work / "tmp")]
    command += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--cap-drop", "ALL"]
    command += ["--new-session", "--die-with-parent", "--chdir", str(work)]
    return [*command, *argv, "--cache-dir", str(work / "uv-cache")]
