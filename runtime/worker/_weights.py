"""The ``weights`` argument of setup(): from COG_WEIGHTS, else a ``weights`` path in the project.

Typed as the model asks: ``str`` gets the value as is, ``File`` an open file, ``Path`` (or
no annotation) a path. COG_WEIGHTS may be a path or an http(s) or data URL, as the
reference documents: a URL is downloaded first (with cog's User-Agent, or
COG_USER_AGENT), so a ``Path`` is a real local file the model can open and a ``File``
reads the downloaded bytes.
"""

from __future__ import annotations

import os
import typing
import urllib.parse
from collections.abc import Callable
from typing import Any

from cog._compat import UNION_ORIGINS

_URL_SCHEMES = ("data", "http", "https")
_TIMEOUT = 60.0  # seconds for each socket operation; COG_SETUP_TIMEOUT bounds the whole


class WeightsDownloadError(RuntimeError):
    """COG_WEIGHTS names a URL that could not be downloaded (fails setup, with this message)."""


def _weights_type(setup: Callable[..., Any]) -> object:
    try:
        hints = typing.get_type_hints(setup)
    except (NameError, TypeError):
        return None
    hint = hints.get("weights")
    if typing.get_origin(hint) in UNION_ORIGINS:
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = members[0] if members else None
    return hint


def is_url(source: str) -> bool:
    return urllib.parse.urlsplit(source).scheme.lower() in _URL_SCHEMES


def weights_argument(setup: Callable[..., Any], weights: str | None, project_dir: str) -> object:
    from cog._sdk.value_types import File, Path  # noqa: PLC0415 (keep the worker's start lean)

    source = weights
    if not source:
        local = os.path.join(project_dir, "weights")
        if not os.path.exists(local):
            return None
        source = local
    kind = _weights_type(setup)
    if kind is str:
        return source
    path = download(source) if is_url(source) else source
    if isinstance(kind, type) and issubclass(kind, File):
        return open(path, "rb")
    return Path(path)


def _shown(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() == "data":
        return url.split(",", 1)[0] + ",..."
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=host, query="", fragment="").geturl()


def download(url: str) -> str:
    """Fetch ``url`` into a folder of its own under the temp dir; the file's path."""
    # Imported here: the worker imports this module on every start, ssl and all is slow.
    import shutil  # noqa: PLC0415
    import tempfile  # noqa: PLC0415
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    from cog._sdk.useragent import get_user_agent  # noqa: PLC0415
    from cog._sdk.value_types import get_filename  # noqa: PLC0415

    agent = os.environ.get("COG_USER_AGENT") or get_user_agent()
    request = urllib.request.Request(url, headers={"User-Agent": agent})  # noqa: S310 (schemes checked)
    directory = tempfile.mkdtemp(prefix="cog-weights-")
    path = os.path.join(directory, get_filename(url) or "weights")
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response, open(path, "wb") as out:  # noqa: S310
            shutil.copyfileobj(response, out)
    except urllib.error.HTTPError as exc:
        shutil.rmtree(directory, ignore_errors=True)
        raise WeightsDownloadError(
            f"cannot download the weights (COG_WEIGHTS) from {_shown(url)}: HTTP {exc.code}"
        ) from None
    except (OSError, ValueError) as exc:
        shutil.rmtree(directory, ignore_errors=True)
        reason = getattr(exc, "reason", None) or exc
        raise WeightsDownloadError(
            f"cannot download the weights (COG_WEIGHTS) from {_shown(url)}: {reason}"
        ) from None
    return path
