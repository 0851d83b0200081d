"""In-image paths the build writes and the runtime reads (shared by rules/ and runtime/)."""

from __future__ import annotations

RUNTIME_SITE = "/usr/local/lib/cog-runtime"
"""The runtime's own dependencies (trio, Hypercorn, Quart, pydantic...): on the
supervisor's sys.path only, never on the model's (``python -m cog.runtime`` adds it)."""
