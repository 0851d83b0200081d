"""cog.Path, cog.File, URLPath/URLFile, the streaming iterator hints and the Opaque marker."""

from __future__ import annotations

import io
import pathlib
import pickle
import typing
from collections.abc import AsyncIterator, Iterator

import pytest

from cog import (
    AsyncConcatenateIterator,
    ConcatenateIterator,
    File,
    Opaque,
    Path,
    URLFile,
    URLPath,
)
from cog.types import get_filename

DATA_URL = "data:text/plain;base64,aGVsbG8="  # "hello"


@pytest.mark.unit
def test_path_is_a_posix_path() -> None:
    path = Path("/tmp/out") / "x.png"
    assert isinstance(path, pathlib.PosixPath)
    assert isinstance(path, Path)
    assert str(path) == "/tmp/out/x.png"
    assert Path.validate("/a/b") == pathlib.Path("/a/b")
    local = pathlib.Path("/c")
    assert Path.validate(local) is local


@pytest.mark.unit
def test_data_url_path_downloads_on_convert(tmp_path: pathlib.Path) -> None:
    url_path = Path.validate(DATA_URL)
    assert isinstance(url_path, URLPath)
    assert isinstance(url_path, pathlib.Path)
    assert str(url_path) == DATA_URL
    assert url_path.filename == "file.txt"
    local = url_path.convert()
    assert local.read_bytes() == b"hello"
    assert url_path.convert() == local  # once
    url_path.unlink()
    assert not local.exists()


@pytest.mark.unit
def test_file_validate() -> None:
    handle = File.validate(DATA_URL)
    assert handle.read() == b"hello"
    existing = io.BytesIO(b"x")
    assert File.validate(existing) is existing
    lazy = File.validate("https://example.invalid/weights/model.bin")
    assert isinstance(lazy, URLFile)
    assert lazy.name == "model.bin"  # nothing fetched yet
    with pytest.raises(ValueError, match="'ftp' is not a valid URL scheme"):
        File.validate("ftp://host/file")


@pytest.mark.unit
def test_url_file_pickles_without_fetching() -> None:
    lazy = URLFile("https://example.invalid/a%20b.txt", filename="given.txt")
    restored = pickle.loads(pickle.dumps(lazy))
    assert (restored.url, restored.name) == (lazy.url, "given.txt")
    assert repr(restored) == "<URLFile for 'https://example.invalid/a%20b.txt'>"
    with pytest.raises(ValueError, match="HTTP or HTTPS"):
        URLFile("file:///etc/passwd")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://host/dir/photo%20one.png?x=1", "photo one.png"),
        ("data:image/png;base64,AAAA", "file.png"),
        ("data:,plain", "file.txt"),
        ("https://host/" + "a" * 300 + ".tar.gz", "a" * 196 + "~.gz"),
    ],
)
def test_get_filename(url: str, name: str) -> None:
    assert get_filename(url) == name
    assert len(get_filename(url).encode()) <= 200


@pytest.mark.unit
def test_iterator_hints_are_generic_iterators() -> None:
    assert typing.get_origin(ConcatenateIterator[str]) is ConcatenateIterator
    assert typing.get_args(AsyncConcatenateIterator[str]) == (str,)
    assert issubclass(ConcatenateIterator, Iterator)
    assert issubclass(AsyncConcatenateIterator, AsyncIterator)


@pytest.mark.unit
def test_opaque_marker() -> None:
    assert repr(Opaque) == "cog.Opaque"
    hint = typing.Annotated[list[dict[str, int]], Opaque]
    assert typing.get_args(hint)[1] is Opaque
