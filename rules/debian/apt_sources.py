"""Reading the host's apt sources: deb822 ``*.sources`` and one-line ``*.list`` files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cog.rules.debian.control import iter_stanzas

DEFAULT_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


@dataclass(frozen=True)
class AptEntry:
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None
    origin: str  # the file it came from, for messages


def _one_line(line: str, origin: str) -> AptEntry | None:
    line = line.split("#", 1)[0].strip()
    if not line:
        return None
    words = line.split()
    if words[0] != "deb":
        return None  # deb-src and anything else
    words = words[1:]
    options: dict[str, str] = {}
    if words and words[0].startswith("["):
        opts: list[str] = []
        while words:
            w = words.pop(0)
            opts.append(w.strip("[]"))
            if w.endswith("]"):
                break
        for o in opts:
            key, _, value = o.partition("=")
            if key:
                options[key] = value
    if len(words) < 2:
        return None
    return AptEntry(
        uri=words[0].rstrip("/"),
        suites=(words[1],),
        components=tuple(words[2:]),
        signed_by=options.get("signed-by"),
        origin=origin,
    )


def _deb822(text: str, origin: str) -> list[AptEntry]:
    # Comment lines are not fields; drop them before parsing paragraphs.
    cleaned = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("#"))
    entries: list[AptEntry] = []
    for stanza in iter_stanzas(cleaned):
        if "deb" not in stanza.get("Types", "").split():
            continue
        if stanza.get("Enabled", "yes").lower() == "no":
            continue
        signed_by = stanza.get("Signed-By")
        if signed_by and "\n" in signed_by:
            signed_by = None  # an inline key block; fall back to the archive keyring
        entries.extend(
            AptEntry(
                uri=uri.rstrip("/"),
                suites=tuple(stanza.get("Suites", "").split()),
                components=tuple(stanza.get("Components", "").split()),
                signed_by=signed_by,
                origin=origin,
            )
            for uri in stanza.get("URIs", "").split()
        )
    return entries


def read_apt_sources(etc_apt: Path) -> list[AptEntry]:
    """Entries in apt's order: sources.list first, then sources.list.d sorted by name."""
    entries: list[AptEntry] = []
    main = etc_apt / "sources.list"
    if main.is_file():
        for line in main.read_text().splitlines():
            entry = _one_line(line, str(main))
            if entry is not None:
                entries.append(entry)
    parts = etc_apt / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.suffix == ".list":
                for line in path.read_text().splitlines():
                    entry = _one_line(line, str(path))
                    if entry is not None:
                        entries.append(entry)
            elif path.suffix == ".sources":
                entries.extend(_deb822(path.read_text(), str(path)))
    return entries
