"""Finding a wheel file by name in simple index pages (PEP 503 HTML, PEP 691 JSON) and
find-links locations (a local folder or an HTML page of links)."""

from __future__ import annotations

import json
import re
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

from cog.rules.debian.index_fetch import TransportError, file_url_path, get_text

_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.1"
)


def normalize(name: str) -> str:
    """PEP 503 project name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def url_basename(url: str) -> str:
    path = urllib.parse.urlsplit(url).path
    return urllib.parse.unquote(path.rsplit("/", 1)[-1])


def links_on_page(text: str, content_type: str, page_url: str) -> dict[str, str]:
    """filename -> absolute URL (fragment dropped) for every file a page lists."""
    if "json" in content_type or text.lstrip().startswith("{"):
        data = json.loads(text)
        pairs = [(f["filename"], f["url"]) for f in data.get("files", [])]
    else:
        parser = _Links()
        parser.feed(text)
        pairs = [(url_basename(h), h) for h in parser.hrefs]
    result = {}
    for filename, href in pairs:
        absolute = urllib.parse.urljoin(page_url, href)
        result[filename] = urllib.parse.urldefrag(absolute).url
    return result


def read_page(url: str) -> tuple[str, str, str]:
    """(text, content type, the URL relative links resolve against)."""
    if url.startswith("file:"):
        path = file_url_path(url)
        if path.is_dir():
            page = path / "index.html"
            return page.read_text(), "text/html", page.as_uri()
    text, content_type = get_text(url, headers={"Accept": _ACCEPT})
    return text, content_type, url


def find_in_index(index_url: str, project: str, filename: str) -> str | None:
    page = f"{index_url.rstrip('/')}/{normalize(project)}/"
    try:
        text, content_type, base = read_page(page)
    except (TransportError, OSError):
        return None
    return links_on_page(text, content_type, base).get(filename)


def find_in_find_links(location: str, filename: str) -> str | None:
    if "://" not in location or location.startswith("file:"):
        folder = file_url_path(location) if location.startswith("file:") else Path(location)
        if folder.is_dir():
            candidate = folder / filename
            return candidate.resolve().as_uri() if candidate.is_file() else None
        if not folder.is_file():
            return None
        location = folder.resolve().as_uri()
    try:
        text, content_type, base = read_page(location)
    except (TransportError, OSError):
        return None
    return links_on_page(text, content_type, base).get(filename)
