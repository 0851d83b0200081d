"""The registry client against a registry played by a MockTransport (cog/_net): the token
challenge flow, chunked uploads and their resumption, without a registry process.

The live-registry tests (test_push.py, test_auth.py) check the same against the real
thing; these pin down the exact requests, which a real registry cannot show.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from cog import _net
from cog.progress import NullProgress
from cog.rules.oci import Descriptor
from cog.rules.registry._api import RegistryClient, RegistryUnreachableError
from cog.rules.registry._challenge import AuthenticationError
from cog.rules.registry._dockerconfig import Credentials
from cog.rules.registry._record import PushRecord
from cog.rules.registry._upload import BlobPusher, UploadSettings

pytestmark = pytest.mark.unit

REGISTRY = "127.0.0.1:5999"  # loopback: nothing listens; the transport answers
REALM = "http://127.0.0.1:5998/token"
REPO = "team/model"


@dataclass
class FakeRegistry:
    """Just enough of the distribution API: token auth, uploads by POST/PATCH/PUT."""

    token: str = "tok-1"
    basic: bool = False  # challenge with Basic instead of Bearer
    blobs: dict[str, bytes] = field(default_factory=dict)
    uploads: dict[str, bytearray] = field(default_factory=dict)
    break_patches: set[int] = field(default_factory=set)  # which PATCHes (1-based) break
    patches: int = 0
    chunked: bool = True  # False: PATCH answers 405 (a registry without chunks)

    def __call__(self, req: _net.Request) -> requests.Response:
        url = urllib.parse.urlsplit(req.url)
        if url.path == "/token":
            return self._token(req)
        if not self._authorised(req):
            return self._challenge()
        if url.path == "/v2/":
            return _net.response(200, b"{}")
        if req.method == "HEAD" and "/blobs/sha256:" in url.path:
            return _net.response(200 if url.path.rsplit("/", 1)[1] in self.blobs else 404)
        if req.method == "POST" and url.path.endswith("/blobs/uploads/"):
            name = f"u{len(self.uploads) + 1}"
            self.uploads[name] = bytearray()
            return _net.response(202, headers={"Location": f"/v2/{REPO}/blobs/uploads/{name}"})
        if "/blobs/uploads/" in url.path:
            return self._upload(req, url.path.rsplit("/", 1)[1], url.query)
        return _net.response(404)

    def _authorised(self, req: _net.Request) -> bool:
        if self.basic:
            return req.headers.get("Authorization", "").startswith("Basic ")
        return req.headers.get("Authorization") == f"Bearer {self.token}"

    def _challenge(self) -> requests.Response:
        header = (
            'Basic realm="registry"'
            if self.basic
            else f'Bearer realm="{REALM}",service="fake",scope="repository:{REPO}:pull,push"'
        )
        return _net.response(401, b"{}", {"WWW-Authenticate": header})

    def _token(self, req: _net.Request) -> requests.Response:
        return _net.response(200, json.dumps({"token": self.token}).encode())

    def _upload(self, req: _net.Request, name: str, query: str) -> requests.Response:
        held = self.uploads.get(name)
        if held is None:
            return _net.response(404)
        here = {"Location": f"/v2/{REPO}/blobs/uploads/{name}", "Range": f"0-{len(held) - 1}"}
        if req.method == "GET":
            return _net.response(204, headers=here)
        if req.method == "PATCH":
            self.patches += 1
            if not self.chunked:
                return _net.response(405)
            if self.patches in self.break_patches:
                raise requests.ConnectionError("connection reset by peer")
            start = int(req.headers["Content-Range"].split("-")[0])
            if start != len(held):
                return _net.response(416, headers=here)
            held += req.body
            return _net.response(202, headers={**here, "Range": f"0-{len(held) - 1}"})
        if req.method == "PUT":
            held += req.body  # a monolithic PUT carries the blob, a closing one nothing
            digest = urllib.parse.parse_qs(query)["digest"][0]
            if "sha256:" + hashlib.sha256(held).hexdigest() != digest:
                return _net.response(400, b'{"errors":[{"code":"DIGEST_INVALID"}]}')
            self.blobs[digest] = bytes(held)
            return _net.response(201)
        return _net.response(405)


def _client(fake: FakeRegistry, **kwargs: object) -> tuple[RegistryClient, _net.MockTransport]:
    transport = _net.MockTransport(fake)
    client = RegistryClient(REGISTRY, credentials=None, env={}, transport=transport, **kwargs)  # type: ignore[arg-type]
    return client, transport


def _blob(tmp_path: Path, data: bytes) -> tuple[Descriptor, Path]:
    path = tmp_path / "blob"
    path.write_bytes(data)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return Descriptor("application/octet-stream", digest, len(data)), path


def _pusher(client: RegistryClient, tmp_path: Path, chunk: int, threshold: int) -> BlobPusher:
    record = PushRecord(tmp_path / "record", REGISTRY)
    return BlobPusher(client, REPO, record, UploadSettings(chunk, threshold))


def _calls(transport: _net.MockTransport) -> list[tuple[str, str]]:
    return [(r.method, urllib.parse.urlsplit(r.url).path) for r in transport.requests]


def test_a_401_fetches_a_token_for_the_scopes_and_retries() -> None:
    fake = FakeRegistry()
    client, transport = _client(fake)
    client.connect([f"repository:{REPO}:pull"])
    assert _calls(transport) == [("GET", "/v2/"), ("GET", "/token"), ("GET", "/v2/")]
    first, token, retry = transport.requests
    assert "Authorization" not in first.headers
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(token.url).query)
    assert query["service"] == ["fake"]
    # the challenge's scope and the caller's, both asked for
    assert set(query["scope"]) == {f"repository:{REPO}:pull", f"repository:{REPO}:pull,push"}
    assert retry.headers["Authorization"] == "Bearer tok-1"
    assert token.timeout == _net.REGISTRY_TIMEOUT == retry.timeout
    # the token is kept: the next request sends it at once
    client.request("GET", "/v2/", [f"repository:{REPO}:pull"]).close()
    assert transport.requests[-1].headers["Authorization"] == "Bearer tok-1"
    assert len(transport.requests) == 4


def test_a_basic_challenge_is_answered_with_the_credentials() -> None:
    fake = FakeRegistry(basic=True)
    transport = _net.MockTransport(fake)
    client = RegistryClient(
        REGISTRY, credentials=Credentials("me", "secret"), env={}, transport=transport
    )
    client.connect()
    assert _calls(transport) == [("GET", "/v2/"), ("GET", "/v2/")]
    assert transport.requests[1].headers["Authorization"] == "Basic bWU6c2VjcmV0"


def test_a_token_refused_again_is_an_authentication_error() -> None:
    fake = FakeRegistry()

    def handler(req: _net.Request) -> requests.Response:
        return _net.response(403) if req.url.startswith(REALM) else fake(req)

    client = RegistryClient(
        REGISTRY, credentials=None, env={}, transport=_net.MockTransport(handler)
    )
    with pytest.raises(AuthenticationError, match="needs a login"):
        client.connect()


def test_a_large_blob_goes_up_in_chunks(tmp_path: Path) -> None:
    fake = FakeRegistry()
    client, transport = _client(fake)
    desc, path = _blob(tmp_path, b"0123456789")
    outcome = _pusher(client, tmp_path, chunk=4, threshold=8).push(
        desc, path, NullProgress().task("x")
    )
    assert fake.blobs[desc.digest] == b"0123456789"
    assert (outcome.how, outcome.bytes_sent, outcome.resumed) == ("uploaded", 10, False)
    patches = [r for r in transport.requests if r.method == "PATCH"]
    assert [r.headers["Content-Range"] for r in patches] == ["0-3", "4-7", "8-9"]
    assert [r.body for r in patches] == [b"0123", b"4567", b"89"]
    assert transport.requests[-1].method == "PUT"
    assert transport.requests[-1].body == b""  # the closing PUT carries no bytes


def test_a_small_blob_is_one_put(tmp_path: Path) -> None:
    fake = FakeRegistry()
    client, transport = _client(fake)
    desc, path = _blob(tmp_path, b"small")
    _pusher(client, tmp_path, chunk=4, threshold=8).push(desc, path, NullProgress().task("x"))
    assert "PATCH" not in [m for m, _ in _calls(transport)]
    assert fake.blobs[desc.digest] == b"small"


def test_a_broken_chunk_resumes_from_what_the_registry_holds(tmp_path: Path) -> None:
    fake = FakeRegistry(break_patches={2})
    client, transport = _client(fake)
    desc, path = _blob(tmp_path, b"0123456789")
    _pusher(client, tmp_path, chunk=4, threshold=8).push(desc, path, NullProgress().task("x"))
    assert fake.blobs[desc.digest] == b"0123456789"
    sent = [(r.method, r.headers.get("Content-Range")) for r in transport.requests]
    at = sent.index(("PATCH", "4-7"))
    # the broken PATCH, then the upload's status (GET), then the same chunk again
    assert sent[at + 1] == ("GET", None)
    assert sent[at + 2 :] == [("PATCH", "4-7"), ("PATCH", "8-9"), ("PUT", None)]


def test_a_chunk_that_keeps_breaking_fails_as_unreachable(tmp_path: Path) -> None:
    fake = FakeRegistry(break_patches=set(range(1, 20)))
    client, _ = _client(fake)
    desc, path = _blob(tmp_path, b"0123456789")
    with pytest.raises(RegistryUnreachableError, match="Cannot reach registry"):
        _pusher(client, tmp_path, chunk=4, threshold=8).push(desc, path, NullProgress().task("x"))
    assert fake.patches == 4  # the first try and three resumptions


def test_an_upload_left_by_an_earlier_push_is_resumed(tmp_path: Path) -> None:
    fake = FakeRegistry(break_patches={2, 3, 4, 5})
    client, _ = _client(fake)
    desc, path = _blob(tmp_path, b"0123456789")
    with pytest.raises(RegistryUnreachableError):
        _pusher(client, tmp_path, chunk=4, threshold=8).push(desc, path, NullProgress().task("x"))
    assert fake.uploads["u1"] == b"0123"
    client, transport = _client(fake)  # a new push, the same record
    outcome = _pusher(client, tmp_path, chunk=4, threshold=8).push(
        desc, path, NullProgress().task("x")
    )
    assert outcome.resumed
    assert outcome.bytes_sent == 6  # only what the registry lacked
    assert fake.blobs[desc.digest] == b"0123456789"
    assert ("POST", f"/v2/{REPO}/blobs/uploads/") not in _calls(transport)


def test_a_registry_without_chunks_gets_the_blob_whole(tmp_path: Path) -> None:
    fake = FakeRegistry(chunked=False)
    client, transport = _client(fake)
    desc, path = _blob(tmp_path, b"0123456789")
    _pusher(client, tmp_path, chunk=4, threshold=8).push(desc, path, NullProgress().task("x"))
    assert fake.blobs[desc.digest] == b"0123456789"
    assert transport.requests[-1].method == "PUT"
    assert transport.requests[-1].body == b"0123456789"


def test_requests_carry_the_registry_policy(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("not read by a mock")
    fake = FakeRegistry()
    client, transport = _client(fake, ca_file=ca)
    client.connect()
    assert {r.verify for r in transport.requests} == {str(ca)}
    assert {r.timeout for r in transport.requests} == {_net.REGISTRY_TIMEOUT}
    assert all(r.proxies == {} for r in transport.requests)  # loopback: never a proxy
