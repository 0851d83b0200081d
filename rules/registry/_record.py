"""Local memory of pushes, under the cache dir: which repositories of a registry hold a
blob (so a push elsewhere on that registry can mount it instead of uploading), and where
an unfinished chunked upload lives (so the next push resumes it).

Losing this record costs only speed: every entry is checked against the registry.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cog.rules._files import atomic_write


def _safe(registry: str) -> str:
    return "".join(c if c.isalnum() or c in ".-" else "_" for c in registry)


class PushRecord:
    def __init__(self, root: Path, registry: str) -> None:
        self._dir = root / "registry" / _safe(registry)

    def _blob_file(self, digest: str) -> Path:
        return self._dir / "blobs" / digest.removeprefix("sha256:")

    def repositories(self, digest: str) -> list[str]:
        try:
            text = self._blob_file(digest).read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [line for line in dict.fromkeys(text.splitlines()) if line]

    def add(self, digest: str, repository: str) -> None:
        if repository in self.repositories(digest):
            return
        path = self._blob_file(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        # One short line per append: concurrent writers interleave whole lines.
        with path.open("a", encoding="utf-8") as out:
            out.write(repository + "\n")

    def _upload_file(self, repository: str, digest: str) -> Path:
        repo_key = hashlib.sha256(repository.encode()).hexdigest()[:16]
        return self._dir / "uploads" / f"{repo_key}-{digest.removeprefix('sha256:')}"

    def upload_location(self, repository: str, digest: str) -> str | None:
        try:
            return self._upload_file(repository, digest).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def save_upload(self, repository: str, digest: str, location: str) -> None:
        atomic_write(self._upload_file(repository, digest), location.encode())

    def clear_upload(self, repository: str, digest: str) -> None:
        self._upload_file(repository, digest).unlink(missing_ok=True)
