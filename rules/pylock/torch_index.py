"""torch, torchvision and torchaudio as the reference picks them: the CPU build with
``gpu: false``, the build for the pinned CUDA with ``gpu: true`` and ``cuda: "X.Y"``.

The reference adds PyTorch's own index for these (``BASE/cpu``, ``BASE/cu118``, …). No
host name is written into cog's files, so BASE is a setting, ``COG_TORCH_INDEX_URL``
(PyTorch publishes its indexes under one base URL; a mirror of it works the same). Builds
the user's own pip/uv configuration offers (an index or find-links folder with
``torch-X+cpu`` wheels) are used first; the setting is needed only when they offer none,
and then a clear error names it instead of a silent 3 GB CUDA download.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from cog.errors import LockError
from cog.progress import Progress
from cog.rules.debian.index_fetch import TransportError
from cog.rules.pylock.cpu import _WHEEL, _compatible, _listing, _release
from cog.rules.pylock.index_config import IndexConfig
from cog.rules.pylock.resolve import Resolved, Target
from cog.rules.pylock.simple import links_on_page, normalize, read_page
from cog.rules.pylock.uv_errors import ResolutionError

SETTING = "COG_TORCH_INDEX_URL"


@dataclass(frozen=True)
class Variant:
    """Which build: ``cpu`` or ``cu118``; ``label`` for messages."""

    tag: str
    label: str


def variant_for(*, gpu: bool, cuda: str | None) -> Variant | None:
    if not gpu:
        return Variant("cpu", "CPU")
    if cuda is None:
        return None  # the default (PyPI) build, as the reference does without a pin
    major, _, rest = cuda.partition(".")
    return Variant(f"cu{major}{rest.split('.')[0] or '0'}", f"CUDA {cuda}")


def torch_base() -> str | None:
    value = os.environ.get(SETTING, "").strip()
    return value.rstrip("/") or None


def with_torch_index(index: IndexConfig, variant: Variant) -> IndexConfig:
    """``index`` plus ``BASE/<variant>`` when the setting is given."""
    base = torch_base()
    if base is None:
        return index
    url = f"{base}/{variant.tag}"
    return replace(
        index,
        extra_index_urls=(url, *index.extra_index_urls),
        # pip's --extra-index-url behaviour, as the reference's pip has it: the best
        # version across every index, not the first index that lists a name.
        index_strategy=index.index_strategy or "unsafe-best-match",
        origins=((url, f"{SETTING}={base}"), *index.origins),
    )


def _setting_versions(project: str, variant: Variant, python: str, arch: str) -> list[str]:
    base = torch_base()
    if base is None:
        return []
    url = f"{base}/{variant.tag}/{normalize(project)}/"
    try:
        text, content_type, page_base = read_page(url)
    except FileNotFoundError:
        return []
    except TransportError as e:
        if e.status == 404:
            return []
        raise _unreachable(url, project, variant, base, e) from e
    except OSError as e:
        raise _unreachable(url, project, variant, base, e) from e
    names = links_on_page(text, content_type, page_base).keys()
    return _matching(names, project, python, arch, variant.tag)


def _unreachable(url: str, project: str, variant: Variant, base: str, e: Exception) -> LockError:
    return LockError(
        f"could not read {url} for the {variant.label} build of {project}: {e}",
        hint=f"Check {SETTING} (now {base}): it must be the base URL of PyTorch's wheel "
        f"indexes (or a mirror), under which {variant.tag}/ is a simple index.",
    )


def offered(
    project: str, index: IndexConfig, variant: Variant, python: str, arch: str
) -> list[str]:
    """Versions of ``project``'s ``variant`` build for the target, highest first."""
    found = set(_setting_versions(project, variant, python, arch))
    found.update(local_versions(project, index, python, arch, variant.tag))
    return sorted(found, key=_release, reverse=True)


def local_versions(project: str, index: IndexConfig, python: str, arch: str, tag: str) -> list[str]:
    """Like ``cpu.cpu_versions``, for any local version tag (``cpu``, ``cu118``)."""
    names: set[str] = set()
    for location in index.find_links:
        names.update(_listing(location, project, is_index=False))
    for location in index.indexes():
        names.update(_listing(location, project, is_index=True))
    return _matching(names, project, python, arch, tag)


def _matching(names: Iterable[str], project: str, python: str, arch: str, tag: str) -> list[str]:
    versions = set()
    for filename in names:
        m = _WHEEL.match(filename)
        if not m or normalize(m["name"]) != normalize(project):
            continue
        if m["version"].endswith(f"+{tag}") and _compatible(m["tags"], python, arch):
            versions.add(m["version"])
    return sorted(versions, key=_release, reverse=True)


def missing_build(project: str, version: str, variant: Variant, python: str) -> LockError:
    base = torch_base()
    if base is None:
        return LockError(
            f"{project} {version} would be PyPI's CUDA build, but the model asks for the "
            f"{variant.label} build and no configured index offers one "
            f"({project}==X+{variant.tag} for Python {python})",
            hint=f"Set {SETTING} to the base URL of PyTorch's wheel indexes (or a mirror of "
            f"them; {variant.tag}/ under it is read), or add an index or find-links folder "
            "with those wheels to pip's or uv's configuration"
            + (", or set build.gpu: true to take the CUDA build." if variant.tag == "cpu" else "."),
        )
    return LockError(
        f"{base}/{variant.tag}/ ({SETTING}) has no {variant.label} build of {project} that "
        f"fits the other requirements for Python {python}",
        hint=f"Pin a {project} version that has a {variant.tag} build, or change build.cuda "
        "to a CUDA version this torch was built for.",
    )


_LOCAL = re.compile(r"\+(?P<tag>[a-z0-9]+)$")


def has_variant(version: str, variant: Variant) -> bool:
    match = _LOCAL.search(version)
    return match is not None and match["tag"] == variant.tag


Compile = Callable[[Sequence[str], Sequence[str]], Resolved]


def resolve_with_variant(
    requirements: Sequence[str],
    compile_: Compile,
    *,
    index: IndexConfig,
    target: Target,
    variant: Variant,
    names: Iterable[str],
    progress: Progress,
) -> Resolved:
    """The resolution with each of ``names`` (torch & co.) at its ``variant`` build.

    A constraint on a package nobody requires is inert, so the builds on offer are
    constrained up front: one resolution in the usual case.
    """
    arch = target.uv_platform.split("-", 1)[0]
    python = target.python_version
    offers = {n: offered(n, index, variant, python, arch) for n in sorted(names)}
    constraints = [f"{n}=={versions[0]}" for n, versions in offers.items() if versions]
    resolved = None
    if constraints:
        try:
            resolved = compile_(requirements, constraints)
        except ResolutionError:  # uv's own failures (missing, crashed, offline) propagate
            progress.info(
                f"the {variant.label} builds on offer ({', '.join(constraints)}) do not fit"
            )
        else:
            for wheel in resolved.wheels:
                if offers.get(wheel.name):
                    progress.info(f"{variant.label} build: chose {wheel.name} {wheel.version}")
    if resolved is None:
        resolved = compile_(requirements, ())
    # On aarch64 PyPI's torch is the CPU build and carries no +cpu: nothing to check.
    if arch == "x86_64":
        for wheel in resolved.wheels:
            if wheel.name in offers and not has_variant(wheel.version, variant):
                raise missing_build(wheel.name, wheel.version, variant, python)
    return resolved
