"""Push, pull and log in to any OCI registry: ``cog.rules.registry``.

``push`` sends only the blobs a registry lacks (HEAD, cross-repository mount, chunked and
resumable uploads, several at once) and the manifest last with its exact bytes; ``pull``
verifies every digest into the content-addressed cache and an OCI layout.
"""

from __future__ import annotations

from .auth import Credentials, credentials_for, login
from .image_pull import PullResult, pull
from .image_push import PushResult, push
from .reference import Reference, default_registry, model_reference, parse_reference

__all__ = [
    "Credentials",
    "PullResult",
    "PushResult",
    "Reference",
    "credentials_for",
    "default_registry",
    "login",
    "model_reference",
    "parse_reference",
    "pull",
    "push",
]
