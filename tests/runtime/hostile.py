"""An HTTP server on 127.0.0.1:0 that misbehaves on purpose: for file inputs and webhooks.

Paths (any method; a request body is read and ignored):

- ``/trickle``: a 200 with a huge Content-Length, then one byte every ``interval`` s.
- ``/trickle-head``: the status line, then a header one byte every ``interval`` s, never
  ending (a webhook receiver that never answers, but never goes quiet either).
- ``/endless``: a 200 without a length, then zeros as fast as the peer reads them.
- ``/sized/N``: a 200 with Content-Length N and N bytes; ``/unsized/N``: N bytes, no length.
"""

from __future__ import annotations

import contextlib
import socket
import threading

_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"


class HostileServer:
    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.open = 0  # connections being served now
        self.served = 0  # connections accepted so far
        self.hung_up = threading.Event()  # a peer hung up on a trickle or an endless body
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.open += 1
                self.served += 1
                self._sockets.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            path = _read_request(conn)
            self._respond(conn, path)
        except OSError:
            self.hung_up.set()
        finally:
            with self._lock:
                self.open -= 1
            conn.close()

    def _respond(self, conn: socket.socket, path: str) -> None:
        if path.startswith("/trickle-head"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            self._drip(conn)
        elif path.startswith("/trickle"):
            conn.sendall(_HEAD + b"Content-Length: 1000000000\r\n\r\n")
            self._drip(conn)
        elif path.startswith("/endless"):
            conn.sendall(_HEAD + b"Connection: close\r\n\r\n")
            block = bytes(1 << 16)
            while not self._stop.is_set():
                conn.sendall(block)
        elif path.startswith(("/sized/", "/unsized/")):
            size = int(path.rsplit("/", 1)[1])
            length = b"Content-Length: %d\r\n" % size if path.startswith("/sized/") else b""
            conn.sendall(_HEAD + length + b"Connection: close\r\n\r\n")
            conn.sendall(bytes(size))
        else:
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    def _drip(self, conn: socket.socket) -> None:
        while not self._stop.wait(self.interval):
            conn.sendall(b"x")

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _read_request(conn: socket.socket) -> str:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionResetError
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return lines[0].split(b" ")[1].decode()
