"""Image references (``host[:port]/repository[:tag][@digest]``) and the COG_MODEL* overrides.

Docker's grammar, with one deliberate difference: there is no built-in default registry
host. A reference without a host takes COG_REGISTRY_HOST, and without that it is an error
that says how to fix it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cog.errors import RegistryError

DEFAULT_TAG = "latest"
RESERVED_TAG_PREFIX = "cog-"

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
_HOST = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?"
)

_HOST_HINT = (
    "Write the registry host first (HOST[:PORT]/OWNER/MODEL[:TAG]), "
    "or set COG_REGISTRY_HOST to the registry to use by default."
)


@dataclass(frozen=True)
class Reference:
    """A parsed image reference. ``tag`` is None only when a digest is given alone."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def target(self) -> str:
        """What goes after /manifests/: the digest when there is one, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _is_host(component: str) -> bool:
    # Docker's rule: the first component names a host when it has a dot, a port or is
    # localhost; otherwise it is part of the repository path.
    return "." in component or ":" in component or component == "localhost"


def _split_name(name: str, ref: str) -> tuple[str | None, str]:
    first, sep, rest = name.partition("/")
    if sep and _is_host(first):
        if not _HOST.fullmatch(first):
            raise RegistryError(
                f"Invalid registry host {first!r} in image reference {ref!r}",
                "A host is a DNS name or IP address with an optional :PORT.",
            )
        return first, rest
    return None, name


def _check_repository(repository: str, ref: str) -> None:
    if not repository or not all(_COMPONENT.fullmatch(c) for c in repository.split("/")):
        raise RegistryError(
            f"Invalid repository {repository!r} in image reference {ref!r}",
            "A repository is lowercase letters, digits and separators (. _ -), "
            "in /-separated parts, like owner/my-model.",
        )


def _check_tag(tag: str, ref: str) -> None:
    if not _TAG.fullmatch(tag):
        raise RegistryError(
            f"Invalid tag {tag!r} in image reference {ref!r}",
            "A tag is up to 128 letters, digits, _ . or -, not starting with . or -.",
        )


def _registry_host_from_env(env: Mapping[str, str]) -> str | None:
    host = env.get("COG_REGISTRY_HOST", "").strip()
    if not host:
        return None
    if not _HOST.fullmatch(host):
        raise RegistryError(f"COG_REGISTRY_HOST={host!r} is not a registry host", _HOST_HINT)
    return host


def default_registry(env: Mapping[str, str] | None = None) -> str:
    """The registry for commands given none (``cog login``): COG_REGISTRY_HOST."""
    host = _registry_host_from_env(os.environ if env is None else env)
    if host is None:
        raise RegistryError(
            "No registry given and COG_REGISTRY_HOST is not set",
            "Name the registry (cog login HOST[:PORT]) or set COG_REGISTRY_HOST.",
        )
    return host


def parse_reference(ref: str, *, env: Mapping[str, str] | None = None) -> Reference:
    """Parse ``ref``; a missing tag becomes ``latest`` unless a digest is given."""
    env = os.environ if env is None else env
    text = ref.strip()
    if not text:
        raise RegistryError("Empty image reference", _HOST_HINT)
    digest: str | None = None
    if "@" in text:
        text, _, digest = text.partition("@")
        if not _DIGEST.fullmatch(digest):
            raise RegistryError(
                f"Invalid digest {digest!r} in image reference {ref!r}",
                "A digest is sha256: followed by 64 lowercase hex characters.",
            )
    tag: str | None = None
    last_slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > last_slash:
        text, tag = text[:colon], text[colon + 1 :]
        _check_tag(tag, ref)
    host, repository = _split_name(text, ref)
    if host is None:
        host = _registry_host_from_env(env)
        if host is None:
            raise RegistryError(f"Image reference {ref!r} names no registry host", _HOST_HINT)
    _check_repository(repository, ref)
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(registry=host, repository=repository, tag=tag, digest=digest)


def _reject_reserved(tag: str | None, source: str) -> None:
    if tag is not None and tag.startswith(RESERVED_TAG_PREFIX):
        raise RegistryError(
            f"Tag {tag!r} from {source} starts with {RESERVED_TAG_PREFIX!r}",
            f"Tags starting with {RESERVED_TAG_PREFIX} are reserved for tags cog generates; "
            "choose another tag.",
        )


def timestamp_tag(now: datetime) -> str:
    """The tag cog generates when COG_MODEL has none (reserved prefix, UTC, sortable)."""
    return RESERVED_TAG_PREFIX + now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _from_cog_model(value: str, env: Mapping[str, str], now: datetime | None) -> Reference:
    parsed = parse_reference(value, env=env)
    name = value.strip().partition("@")[0]
    if name.rfind(":") > name.rfind("/"):
        _reject_reserved(parsed.tag, "COG_MODEL")
        return parsed
    if parsed.digest is not None:
        return parsed
    return replace(parsed, tag=timestamp_tag(now or datetime.now(UTC)))


def model_reference(
    image: str | None,
    *,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Reference:
    """The destination of ``cog push``: ``image`` (CLI argument or cog.yaml ``image``)
    with COG_MODEL, or else COG_MODEL_REGISTRY / COG_MODEL_REPO / COG_MODEL_TAG, applied.
    """
    env = os.environ if env is None else env
    whole = env.get("COG_MODEL", "").strip()
    if whole:
        return _from_cog_model(whole, env, now)
    registry = env.get("COG_MODEL_REGISTRY", "").strip() or None
    repo = env.get("COG_MODEL_REPO", "").strip() or None
    tag = env.get("COG_MODEL_TAG", "").strip() or None
    if registry is not None and not _HOST.fullmatch(registry):
        raise RegistryError(f"COG_MODEL_REGISTRY={registry!r} is not a registry host", _HOST_HINT)
    if repo is not None:
        if "@" in repo or ":" in repo or (_is_host(repo.partition("/")[0]) and "/" in repo):
            raise RegistryError(
                f"COG_MODEL_REPO={repo!r} must be a repository path only",
                "Leave out the registry host, tag and digest: COG_MODEL_REPO=owner/model.",
            )
        _check_repository(repo, f"COG_MODEL_REPO={repo}")
    if tag is not None:
        _check_tag(tag, f"COG_MODEL_TAG={tag}")
        _reject_reserved(tag, "COG_MODEL_TAG")
    if image is not None:
        base = parse_reference(
            image, env=env if registry is None else {"COG_REGISTRY_HOST": registry}
        )
    elif repo is not None:
        host = registry or _registry_host_from_env(env)
        if host is None:
            raise RegistryError("No registry host for the model reference", _HOST_HINT)
        base = Reference(registry=host, repository=repo, tag=DEFAULT_TAG, digest=None)
    else:
        raise RegistryError(
            "No image to push: no image name given and no COG_MODEL set",
            "Pass an image name (cog push HOST/OWNER/MODEL), set `image:` in cog.yaml, "
            "or set COG_MODEL.",
        )
    if registry is not None:
        base = replace(base, registry=registry)
    if repo is not None:
        base = replace(base, repository=repo)
    if tag is not None:
        base = replace(base, tag=tag, digest=None)
    return base
