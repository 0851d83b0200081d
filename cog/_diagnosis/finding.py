"""What one `cog doctor` check found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """``ok`` false and ``warning`` true: worth saying, not a failure (the exit code stays 0)."""

    check: str
    ok: bool
    message: str
    hint: str | None = None
    fix: Callable[[], str] | None = None  # applies the fix, returns what it did
    warning: bool = False
    file: str | None = None  # where, relative to the project ("run.py")
    line: int | None = None

    @property
    def failed(self) -> bool:
        return not self.ok and not self.warning

    @property
    def where(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
