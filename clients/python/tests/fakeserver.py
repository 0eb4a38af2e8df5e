"""A scripted stand-in for the server, for client behaviour the real one will not show on demand
(answers held back, late, out of order, a reset). It speaks the same frames."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Callable

from framepipe import layout

Frame = tuple[int, int, int, bytes]  # kind, op, id, payload


def answer(kind: int, op: int, rid: int, payload: bytes) -> bytes:
    return layout.encode_header(len(payload), kind, op, rid) + payload


class FakeServer:
    """Accepts one connection; ``handler(frame, conn)`` runs for each frame it reads (in order)
    on the server's thread. ``received_fin`` is set when the client half-closes."""

    def __init__(self, handler: Callable[[Frame, socket.socket], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.handler = handler
        self.frames: list[Frame] = []
        self.received_fin = threading.Event()
        self.conn: socket.socket | None = None
        self.close_on_fin = True  # answer the client's FIN with ours once the frames are handled
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _recv_exact(self, conn: socket.socket, n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _run(self) -> None:
        conn, _ = self.listener.accept()
        self.conn = conn
        try:
            while True:
                head = self._recv_exact(conn, layout.HEADER_LENGTH)
                if head is None:
                    self.received_fin.set()
                    if self.close_on_fin:
                        conn.shutdown(socket.SHUT_WR)
                    return
                length, _, kind, op, rid = layout.HEADER.unpack(head)
                payload = self._recv_exact(conn, length - layout.MIN_LENGTH) or b""
                frame = (kind, op, rid, payload)
                self.frames.append(frame)
                self.handler(frame, conn)
        except OSError:
            return

    def reset(self) -> None:
        """Closes with a TCP reset (SO_LINGER 0)."""
        assert self.conn is not None
        self.close_on_fin = False
        self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.conn.shutdown(socket.SHUT_RD)  # wakes the server thread; close() then resets
        self.thread.join(5)
        self.conn.close()

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
        self.listener.close()


def echo(frame: Frame, conn: socket.socket) -> None:
    kind, op, rid, payload = frame
    conn.sendall(answer(kind | layout.RESPONSE_BIT, op, rid, payload))


class ScriptedServer:
    """Accepts connection after connection; ``handler(index, frame, conn)`` answers each frame
    and returns "close" to end that connection cleanly (FIN after what it sent), "reset" to
    reset it, or None to carry on. ``frames[index]`` lists what each connection received."""

    def __init__(self, handler: Callable[[int, Frame, socket.socket], str | None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.handler = handler
        self.frames: list[list[Frame]] = []
        self.threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            index = len(self.frames)
            self.frames.append([])
            t = threading.Thread(target=self._serve, args=(index, conn), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, index: int, conn: socket.socket) -> None:
        reader = FakeServer._recv_exact
        try:
            while True:
                head = reader(self, conn, layout.HEADER_LENGTH)  # type: ignore[arg-type]
                if head is None:
                    conn.shutdown(socket.SHUT_WR)
                    break
                length, _, kind, op, rid = layout.HEADER.unpack(head)
                payload = reader(self, conn, length - layout.MIN_LENGTH) or b""  # type: ignore[arg-type]
                self.frames[index].append((kind, op, rid, payload))
                action = self.handler(index, (kind, op, rid, payload), conn)
                if action == "close":
                    conn.shutdown(socket.SHUT_WR)
                    while conn.recv(65536):  # read and discard until the client's FIN, as the server does
                        pass
                    break
                if action == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.listener.close()


def shutting_down(frame: Frame) -> bytes:
    kind, op, rid, _ = frame
    return answer(layout.ERROR_KIND, op, rid, layout.ERROR_CODE.pack(layout.ErrorCode.SHUTTING_DOWN) + b"retiring")
