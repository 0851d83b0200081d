#!/usr/bin/env python3
"""Write this repository's own cog.lock: the base packages and runtime wheels every image
starts from (Python 3.11 on Debian bookworm, linux/amd64), from third_party's pins.

    .venv/bin/python scripts/lock_self.py            # re-lock only if third_party changed
    .venv/bin/python scripts/lock_self.py --upgrade  # take the newest versions

tests/lock/test_self_lock.py fails when third_party changed and this was not re-run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cog.errors import CogError, LockError
from cog.locking import LockSpec, base_inputs_checksum, resolve_lock
from cog.progress import Task
from cog.rules import lockfile_text
from cog.rules._files import atomic_write
from cog.rules.lockfile import Lock

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "cog.lock"
PYTHON_VERSION = "3.11"
PLATFORM = "linux/amd64"


class _Lines:
    def task(self, description: str, total: int | None = None) -> Task:
        print(description, file=sys.stderr)
        return _Done()

    def info(self, message: str) -> None:
        print(message, file=sys.stderr)


class _Done:
    def advance(self, amount: int) -> None:
        pass

    def finish(self, message: str | None = None) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upgrade", action="store_true", help="ignore the current pins")
    args = parser.parse_args()
    checksum = base_inputs_checksum(PYTHON_VERSION, PLATFORM)
    previous: Lock | None = None
    if LOCK.exists():
        try:
            previous = lockfile_text.loads(LOCK.read_text(), str(LOCK))
        except LockError as e:
            print(f"ignoring the unreadable {LOCK}: {e.message}", file=sys.stderr)
    if previous is not None and previous.inputs_sha256 == checksum and not args.upgrade:
        print(f"{LOCK} is up to date", file=sys.stderr)
        return 0
    try:
        lock, _ = resolve_lock(
            LockSpec(python_version=PYTHON_VERSION),
            checksum=checksum,
            platform=PLATFORM,
            previous=previous,
            upgrade=args.upgrade,
            progress=_Lines(),
        )
    except CogError as e:
        print(str(e), file=sys.stderr)
        return 1
    atomic_write(LOCK, lockfile_text.dumps(lock).encode())
    LOCK.chmod(0o644)
    print(f"wrote {LOCK}: {len(lock.debian)} Debian packages, {len(lock.runtime)} wheels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
