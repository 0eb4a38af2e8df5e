"""Blocking byte transports for the sync client: plain TCP, and TLS over memory BIOs.

The sync client writes from the callers' threads and reads on its own reader thread, at the
same time. A plain socket allows that. An ``ssl.SSLSocket`` does not promise it (OpenSSL
forbids using one SSL object from two threads at once), so TLS runs on an ``SSLObject``
with memory BIOs: encryption and decryption happen under a short lock that is never held
while the socket blocks, and the socket itself is only read by the reader thread and only
written by the (serialised) writers.
"""

from __future__ import annotations

import socket
import ssl
import threading

from .codec import Buffer


class UncleanEof(ConnectionError):
    """The byte stream ended in a way that does not prove the server finished (TLS truncation)."""


class PlainTransport:
    """TCP as it is."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def sendall(self, data: Buffer) -> None:
        self.sock.sendall(data)

    def recv_into(self, buffer: memoryview) -> int:
        """Bytes received into ``buffer``; 0 at the server's FIN."""
        return self.sock.recv_into(buffer)

    def shutdown_write(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)


class TlsTransport:
    """TLS 1.2/1.3 over a blocking socket, safe for one reader and one writer at a time."""

    #: Plaintext encrypted per step, so a large frame is not held twice in memory.
    CHUNK = 256 * 1024

    def __init__(self, sock: socket.socket, context: ssl.SSLContext, server_hostname: str | None) -> None:
        self.sock = sock
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=False,
                                     server_hostname=server_hostname)
        # Guards the SSLObject and both BIOs; held only for in-memory work, never across socket I/O.
        self._lock = threading.Lock()
        # Serialises whoever sends ciphertext, so records leave in the order they were made.
        self._write_lock = threading.Lock()
        self._write_closed = False

    def handshake(self) -> None:
        """Runs the handshake on the calling thread (before the reader thread exists)."""
        while True:
            try:
                with self._lock:
                    self._tls.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                data = self.sock.recv(65536)
                with self._lock:
                    if data:
                        self._incoming.write(data)
                    else:
                        self._incoming.write_eof()

    @property
    def version(self) -> str | None:
        return self._tls.version()

    def _flush(self) -> None:
        with self._write_lock:
            self._send_pending()

    def _send_pending(self) -> None:
        """Under the write lock: sends whatever ciphertext the SSL object has produced."""
        with self._lock:
            data = self._outgoing.read()
        if data:
            self.sock.sendall(data)

    def sendall(self, data: Buffer) -> None:
        view = memoryview(data).cast("B")
        with self._write_lock:
            for start in range(0, max(len(view), 1), self.CHUNK):
                with self._lock:
                    self._tls.write(view[start:start + self.CHUNK])
                    cipher = self._outgoing.read()
                self.sock.sendall(cipher)

    def recv_into(self, buffer: memoryview) -> int:
        """Plaintext received into ``buffer``; 0 when the server ended TLS with close_notify."""
        while True:
            with self._lock:
                try:
                    return self._tls.read(len(buffer), buffer)
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLZeroReturnError:
                    return 0
                except ssl.SSLEOFError as e:
                    raise UncleanEof(f"TLS stream ended without close_notify: {e}") from e
                owed = self._outgoing.pending
            if owed and self._write_lock.acquire(blocking=False):
                # Reading can produce records to send (a key update answer). A writer that holds
                # the lock sends them with its next record; otherwise send them now.
                try:
                    self._send_pending()
                finally:
                    self._write_lock.release()
            data = self.sock.recv(256 * 1024)
            with self._lock:
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()

    def shutdown_write(self) -> None:
        """Sends close_notify, then the TCP FIN; answers can still be read afterwards (TLS half-close)."""
        with self._write_lock:
            if self._write_closed:
                return
            self._write_closed = True
            with self._lock:
                try:
                    self._tls.unwrap()
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    pass  # close_notify is in the outgoing BIO; the peer's comes later
                data = self._outgoing.read()
            if data:
                self.sock.sendall(data)
        self.sock.shutdown(socket.SHUT_WR)
