"""The User-Agent of cog's own HTTP requests: webhooks, uploads, downloads (as the reference's)."""

from __future__ import annotations

from cog._version import __version__


def get_user_agent() -> str:
    """``cog-worker/<version>``, the reference's python server's form (its 0.9 to 0.16)."""
    return f"cog-worker/{__version__}"
