"""A small TCP proxy for fault tests: forwards to the database and cuts a connection when
the client sends a marked statement (before or after passing it on)."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class _Link:
    client: socket.socket
    server: socket.socket
    frozen: bool = False

    def cut(self) -> None:
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@dataclass
class CuttingProxy:
    """Listens on 127.0.0.1 (a free port) and forwards to `target`.

    `arm(marker, forward=…)` makes the next connection that sends `marker` be cut: before the
    server sees the statement (`forward=False`), or after the server got it but before its
    answer reaches the client (`forward=True`).
    """

    target: tuple[str, int]
    cuts: int = 0
    _marker: bytes | None = None
    _forward: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listener: socket.socket = field(init=False)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def arm(self, marker: bytes, *, forward: bool) -> None:
        with self._lock:
            self._marker, self._forward = marker, forward

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            link = _Link(client, server)
            threading.Thread(target=self._client_to_server, args=(link,), daemon=True).start()
            threading.Thread(target=self._server_to_client, args=(link,), daemon=True).start()

    def _client_to_server(self, link: _Link) -> None:
        while True:
            try:
                chunk = link.client.recv(65536)
            except OSError:
                return
            if not chunk:
                link.cut()
                return
            with self._lock:
                hit = self._marker is not None and self._marker in chunk
                forward = self._forward
                if hit:
                    self._marker = None
                    self.cuts += 1
            if hit:
                link.frozen = True
                if forward:
                    link.server.sendall(chunk)
                    threading.Event().wait(0.5)  # the server commits meanwhile
                link.cut()
                return
            try:
                link.server.sendall(chunk)
            except OSError:
                return

    def _server_to_client(self, link: _Link) -> None:
        while True:
            try:
                chunk = link.server.recv(65536)
            except OSError:
                return
            if not chunk or link.frozen:
                if not chunk:
                    link.cut()
                return
            try:
                link.client.sendall(chunk)
            except OSError:
                return
