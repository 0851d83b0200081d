"""The HTTP seam (cog/_net): what each policy sends, which CA bundle it picks, file:// reads,
retries, proxies; through a MockTransport, and once over a real loopback socket."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cog import _net

pytestmark = pytest.mark.unit

URL = "http://127.0.0.1:9/x"  # nothing listens there: the transport answers


def _ok(req: _net.Request) -> requests.Response:
    return _net.response(200, b"ok")


def _client(
    policy: _net.Policy, handler: object = _ok
) -> tuple[_net.Client, _net.MockTransport, list[float]]:
    slept: list[float] = []
    transport = _net.MockTransport(handler)  # type: ignore[arg-type]
    return _net.Client(policy, transport=transport, sleep=slept.append), transport, slept


@pytest.mark.parametrize(
    ("policy", "timeout"),
    [
        (_net.fetch_policy({}), (10.0, 60.0)),
        (_net.index_policy(), (5.0, 30.0)),
        (_net.registry_policy("127.0.0.1:5000", env={}), (3.0, 120.0)),
        (_net.outbound_policy("cog-worker/1"), (10.0, 30.0)),
    ],
)
def test_each_policy_sends_its_timeouts(policy: _net.Policy, timeout: _net.Timeout) -> None:
    client, transport, _ = _client(policy)
    client.get(URL).close()
    client.get(URL, timeout=(1.0, 2.0)).close()  # a caller's own bound wins
    assert [r.timeout for r in transport.requests] == [timeout, (1.0, 2.0)]


def test_the_outbound_policy_sends_cogs_user_agent() -> None:
    client, transport, _ = _client(_net.outbound_policy("cog-worker/1.2.3"))
    client.post(URL, json={"a": 1}).close()
    assert transport.requests[0].headers["User-Agent"] == "cog-worker/1.2.3"
    assert transport.requests[0].body == b'{"a": 1}'


def test_the_fetch_bundle_is_pips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle, other = tmp_path / "pip.pem", tmp_path / "other.pem"
    bundle.write_text("x")
    other.write_text("x")
    missing = str(tmp_path / "missing.pem")
    assert _net.pip_ca_bundle({}) is None
    assert _net.pip_ca_bundle({"PIP_CERT": str(bundle)}) == str(bundle)
    env = {"REQUESTS_CA_BUNDLE": missing, "SSL_CERT_FILE": str(bundle), "PIP_CERT": str(other)}
    assert _net.pip_ca_bundle(env) == str(bundle)  # the first that is a file
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(var, raising=False)
    client, transport, _ = _client(_net.fetch_policy({"PIP_CERT": str(bundle)}))
    client.get(URL).close()
    assert transport.requests[0].verify == str(bundle)


def test_the_registry_bundle(tmp_path: Path) -> None:
    given = tmp_path / "given.crt"
    given.write_text("x")
    certs_d = tmp_path / ".config" / "containers" / "certs.d" / "127.0.0.1:5000"
    certs_d.mkdir(parents=True)
    (certs_d / "ca.crt").write_text("x")
    ssl_file = tmp_path / "ssl.pem"
    ssl_file.write_text("x")
    env = {"HOME": str(tmp_path), "SSL_CERT_FILE": str(ssl_file)}
    assert _net.registry_ca_bundle("127.0.0.1:5000", given, env) == str(given)
    assert _net.registry_ca_bundle("127.0.0.1:5000", None, env) == str(certs_d / "ca.crt")
    assert _net.registry_ca_bundle("127.0.0.1:6000", None, env) == str(ssl_file)
    insecure = _net.registry_policy("127.0.0.1:5000", insecure=True, env=env)
    assert insecure.verify is False


def test_a_chosen_bundle_outranks_requests_ca_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen, env_bundle = tmp_path / "chosen.pem", tmp_path / "env.pem"
    chosen.write_text("x")
    env_bundle.write_text("x")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(env_bundle))
    over, transport, _ = _client(_net.Policy((1.0, 1.0), verify=str(chosen), verify_over_env=True))
    over.get(URL).close()
    assert transport.requests[0].verify == str(chosen)
    # session-wide (as rules/fetch.py always had it): requests lets the variable win
    under, transport, _ = _client(_net.Policy((1.0, 1.0), verify=str(chosen)))
    under.get(URL).close()
    assert transport.requests[0].verify == str(env_bundle)


def test_a_client_certificate_is_sent_with_each_request() -> None:
    client, transport, _ = _client(_net.index_policy().with_(cert=("/c.pem", "/k.pem")))
    client.get(URL).close()
    assert transport.requests[0].cert == ("/c.pem", "/k.pem")


def test_proxies_come_from_the_environment_unless_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client, transport, _ = _client(_net.index_policy())
    client.get(URL).close()
    assert transport.requests[0].proxies.get("http") == "http://127.0.0.1:3128"
    client, transport, _ = _client(_net.registry_policy("127.0.0.1:5000", env={}))
    client.get("http://127.0.0.1:5000/v2/").close()
    assert transport.requests[0].proxies == {}


def test_file_urls_are_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "index.html"
    path.write_bytes(b"<a>pkg</a>" * 1000)
    client = _net.Client(_net.index_policy())
    with client.get(path.as_uri(), stream=True) as resp:
        assert resp.status_code == 200
        assert b"".join(resp.iter_content(1000)) == path.read_bytes()
    head = client.head(path.as_uri())
    assert (head.content, head.headers["Content-Length"]) == (b"", "10000")
    with pytest.raises(FileNotFoundError):
        client.get((tmp_path / "missing").as_uri())
    assert client.post(path.as_uri()).status_code == 405


def test_the_outbound_policy_reads_no_files(tmp_path: Path) -> None:
    # The in-image server's URLs are its clients': file:// must not read the image.
    (tmp_path / "secret").write_text("x")
    client = _net.Client(_net.outbound_policy("cog-worker/1"))
    with pytest.raises(requests.exceptions.InvalidSchema):
        client.get((tmp_path / "secret").as_uri())


def test_a_5xx_is_retried_with_backoff() -> None:
    statuses = iter([503, 502, 200])
    client, transport, slept = _client(
        _net.index_policy().with_(retries=3),
        lambda req: _net.response(next(statuses)),
    )
    assert client.get(URL).status_code == 200
    assert len(transport.requests) == 3
    assert slept == [0.5, 1.0]


def test_retries_end_with_the_last_answer() -> None:
    client, transport, slept = _client(
        _net.index_policy().with_(retries=2, backoff=4.0, max_backoff=5.0),
        lambda req: _net.response(429),
    )
    assert client.get(URL).status_code == 429
    assert (len(transport.requests), slept) == (3, [4.0, 5.0])


def test_a_connection_error_is_retried_then_raised() -> None:
    def refuse(req: _net.Request) -> requests.Response:
        raise requests.ConnectionError("refused")

    client, transport, _ = _client(_net.index_policy().with_(retries=1), refuse)
    with pytest.raises(requests.ConnectionError):
        client.get(URL)
    assert len(transport.requests) == 2


def test_no_retries_by_default_nor_of_posts_or_streams() -> None:
    client, transport, slept = _client(_net.index_policy(), lambda req: _net.response(503))
    assert client.get(URL).status_code == 503
    assert len(transport.requests) == 1
    retrying, transport, slept = _client(
        _net.index_policy().with_(retries=3), lambda req: _net.response(503)
    )
    retrying.post(URL, data=b"x").close()
    retrying.put(URL, data=iter([b"a", b"b"])).close()  # a body that cannot be sent again
    assert len(transport.requests) == 2
    assert slept == []


@pytest.fixture
def server() -> Iterator[str]:
    class Hello(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a second GET reuses the connection

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.integration
def test_the_http_transport_shows_each_new_socket(server: str) -> None:
    seen: list[socket.socket] = []
    transport = _net.HTTPTransport(on_socket=seen.append)
    with _net.Client(_net.index_policy().with_(trust_env=False), transport=transport) as client:
        assert client.get(server).content == b"hello"
        assert client.get(server).content == b"hello"  # the same connection, kept alive
    assert len(seen) == 1
    assert seen[0].family == socket.AF_INET
