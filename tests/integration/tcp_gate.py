"""A TCP forwarder in front of a real server, which a test can close (the server seems
stopped: connections refused, open ones cut) and open again, or have close by itself once
some bytes went through (the server stops in the middle of an upload), or hold there
(an upload hangs in the middle, for a test to kill the uploader)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import attrs

HOST = "127.0.0.1"


@attrs.define
class TcpGate:
    """Forwards ``HOST:port`` to ``target``; see the module."""

    port: int
    target: tuple[str, int]
    close_after_bytes: int | None = None  # sent to the server, counted from the last open()
    hold_after_bytes: int | None = None  # then nothing more is sent until close()
    holding: threading.Event = attrs.field(factory=threading.Event)  # set once it holds
    _cut: threading.Event = attrs.field(factory=threading.Event)
    _listener: socket.socket | None = None
    _open: list[socket.socket] = attrs.field(factory=list)
    _sent: int = 0
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def open(self) -> None:
        """Accept connections again."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self.port))
        listener.listen(16)
        self._listener, self._sent = listener, 0
        self._cut = threading.Event()
        self.holding.clear()
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        """Refuse new connections and cut the open ones."""
        self._cut.set()
        with self._lock:
            listener, self._listener = self._listener, None
            doomed, self._open = self._open, []
        for sock in [*doomed, *([listener] if listener else [])]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    server.close()
                    return
                self._open += [client, server]
            threading.Thread(
                target=self._pump, args=(client, server, True, self._cut), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(server, client, False, self._cut), daemon=True
            ).start()

    def _pump(
        self, source: socket.socket, sink: socket.socket, upstream: bool, cut: threading.Event
    ) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
                if not upstream:
                    continue
                with self._lock:
                    self._sent += len(chunk)
                    sent = self._sent
                if self.close_after_bytes is not None and sent >= self.close_after_bytes:
                    self.close()
                    return
                if self.hold_after_bytes is not None and sent >= self.hold_after_bytes:
                    self.holding.set()
                    cut.wait()
                    return
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def tcp_gate(port: int, target: tuple[str, int]) -> Iterator[TcpGate]:
    """Yield an open gate on ``port`` to ``target``; closed at the end."""
    gate = TcpGate(port=port, target=target)
    gate.open()
    try:
        yield gate
    finally:
        gate.close()
