"""The blocking client: one TCP (or TLS) connection, any number of requests in flight.

Requests are written by the calling thread, in the order the calls take the connection's
write lock; a background reader thread reads the answers, which the server sends in request
order, checks each against the oldest unanswered request (same id, op and kind) and
completes that request's future. Every method is thread-safe.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import ssl
import threading
import time
from collections import deque
from concurrent.futures import Future, InvalidStateError
from typing import Any, Callable

from . import codec, layout
from ._pending import Pending
from ._transport import PlainTransport, TlsTransport, UncleanEof
from ._ops import DEFAULT, Call, SyncOperations
from .codec import Buffer, Response
from .errors import ClientClosed, ConnectionClosed, ProtocolError, RequestTimeout

#: Default bound on requests in flight on one connection (the server's default max-in-flight).
DEFAULT_MAX_IN_FLIGHT = 1024
#: Largest answer accepted by default: the largest answer to a 16 MiB request, with slack.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024


def settle(future: Future, value: Any = None, error: BaseException | None = None) -> bool:
    """Completes ``future`` unless it is done already (timed out); True when this call completed it."""
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
        return True
    except InvalidStateError:
        return False


class Deadlines:
    """One timer thread per client that fails requests whose own timeout has passed.

    A deadline only completes the request's future with :class:`RequestTimeout`; the request
    stays queued for its answer, so the answers that follow still line up with their requests.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def add(self, deadline: float, action: Callable[[], None]) -> None:
        with self._cond:
            if self._stopped:
                return
            heapq.heappush(self._heap, (deadline, next(self._seq), action))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            elif self._heap[0][2] is action:
                self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            due: list[Callable[[], None]] = []
            with self._cond:
                while not self._stopped:
                    now = time.monotonic()
                    while self._heap and self._heap[0][0] <= now:
                        due.append(heapq.heappop(self._heap)[2])
                    if due:
                        break
                    self._cond.wait(self._heap[0][0] - now if self._heap else None)
                if self._stopped:
                    return
            for action in due:
                action()


def tls_context(ca: str | None = None, cert: str | None = None, key: str | None = None) -> ssl.SSLContext:
    """A client TLS context: trusts ``ca`` (PEM file; None: the system's CAs), and for mutual TLS
    presents ``cert`` (PEM chain) with ``key`` (PEM, PKCS#8 or traditional).

    The server's name is checked against its certificate (DNS or IP SAN); TLS 1.2 at least.
    """
    if (cert is None) != (key is None):
        raise ValueError("a client certificate needs its key, and the other way round")
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert is not None:
        context.load_cert_chain(cert, key)
    return context


class Client(SyncOperations):
    """A pipelining framepipe client on one connection (see the module docstring).

    Each operation comes twice: ``submit_X(...)`` writes the request and returns a
    :class:`concurrent.futures.Future` at once, so many requests can be in flight;
    ``X(...)`` is ``submit_X(...).result()``. A future completes with the decoded answer, or
    fails with a :class:`~framepipe.ServerError` subclass (the server answered with an error),
    :class:`~framepipe.ConnectionClosed` (no answer will come) or
    :class:`~framepipe.RequestTimeout` (the request's own timeout passed).

    Futures complete on the reader thread, in request order; a callback added to one must not
    block on this client's answers (the thread that would deliver them is the one running it).

    :param max_in_flight: requests written and not yet answered before ``submit`` blocks
        (None: no bound; TCP flow control is then the only brake).
    :param timeout: default per-request timeout in seconds (None: wait for ever). It covers
        waiting for a free slot, writing and the answer.
    :param ssl_context: TLS when given (see :func:`tls_context`); ``server_hostname`` defaults
        to ``host``.
    """

    #: Answers with more payload than this are received straight into their own buffer.
    LARGE_PAYLOAD = 64 * 1024
    #: Size of the reader's buffer for everything else (holds at least one small frame whole).
    RECV_BUFFER = 256 * 1024

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 7070,
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        connect_timeout: float | None = 10.0,
        max_in_flight: int | None = DEFAULT_MAX_IN_FLIGHT,
        timeout: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1 (or None)")
        self.host = host
        self.port = port
        self._timeout = timeout
        self._max_length = max_response_bytes + layout.MIN_LENGTH
        self._slots = threading.BoundedSemaphore(max_in_flight) if max_in_flight is not None else None
        self._state = threading.Lock()  # guards everything below up to the reader
        self._pending: deque[Pending] = deque()
        self._next_id = 1
        self._closed = False  # no new requests
        self._aborted = False
        self._half_closed = False
        self._half_close_when_idle = False  # close() asked for a FIN once nothing is in flight
        self._ended: ConnectionClosed | None = None  # why the connection ended, once it has
        self._close_callbacks: list[Callable[[ConnectionClosed], None]] = []
        # Held while a request is queued and written, so the queue's order is the wire's order.
        self._send_lock = threading.Lock()
        self._deadlines = Deadlines(f"framepipe-deadlines-{host}:{port}")

        sock = socket.create_connection((host, port), timeout=connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            if ssl_context is not None:
                tls = TlsTransport(sock, ssl_context, server_hostname or host)
                tls.handshake()  # still under connect_timeout
                self._transport: PlainTransport | TlsTransport = tls
            else:
                self._transport = PlainTransport(sock)
            sock.settimeout(None)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._reader = threading.Thread(target=self._read_loop, name=f"framepipe-reader-{host}:{port}", daemon=True)
        self._reader.start()

    # ---- operations (the rest come from SyncOperations) ----

    def submit_frame(self, frame: Buffer, expected_id: int, *, timeout: float | None = DEFAULT) -> Future[Response]:
        """Sends bytes as they are (a whole frame, possibly a broken one) and waits for an answer
        with ``expected_id``, whatever its kind and op. For tools and tests of the server."""
        return self._submit(Call(None, None, [frame], codec.decode_response), timeout, raw_id=expected_id)

    # ---- state ----

    @property
    def in_flight(self) -> int:
        """Requests written (or being written) and not yet answered."""
        with self._state:
            return len(self._pending)

    @property
    def is_open(self) -> bool:
        """True while new requests are accepted."""
        with self._state:
            return not self._closed

    @property
    def tls_version(self) -> str | None:
        return self._transport.version if isinstance(self._transport, TlsTransport) else None

    def add_close_callback(self, callback: Callable[[ConnectionClosed], None]) -> None:
        """Calls ``callback(reason)`` once the connection has ended (at once if it has), on the reader thread."""
        with self._state:
            ended = self._ended
            if ended is None:
                self._close_callbacks.append(callback)
        if ended is not None:
            callback(ended)

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Waits until the connection has ended; False when ``timeout`` passed first."""
        self._reader.join(timeout)
        return not self._reader.is_alive()

    # ---- closing ----

    def close(self, timeout: float | None = 10.0) -> None:
        """Closes the way PROTOCOL.md asks: stop sending, keep reading until the server's FIN,
        so every request already sent still gets its answer; then release the socket.

        Over plain TCP the client half-closes (FIN) at once. Under TLS it first waits for every
        answer and only then sends close_notify and its FIN, because the server drops requests
        still unanswered when a close_notify arrives (see README, "Closing").

        If that takes longer than ``timeout`` seconds, the connection is aborted and the requests
        still waiting fail with :class:`ConnectionClosed`. Called from a future's callback (on
        the reader thread) it only starts the close and returns.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._state:
            self._closed = True
            self._half_close_when_idle = True
            now = not self._pending or not isinstance(self._transport, TlsTransport)
        if now:
            self._half_close(timeout)
        if threading.current_thread() is self._reader:
            return
        self._reader.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if self._reader.is_alive():
            self.abort()
            self._reader.join()
        self._deadlines.stop()

    def _half_close(self, timeout: float | None = None) -> None:
        """Shuts down the sending side once (close_notify first under TLS), after any writer
        still inside the socket. The reader thread never waits for that writer (the writer may
        be waiting for the reader to make room): it gives up, and tries again once nothing is
        in flight, when no writer can be inside."""
        if threading.current_thread() is self._reader:
            locked = self._send_lock.acquire(blocking=False)
        else:
            locked = self._send_lock.acquire(timeout=-1 if timeout is None else timeout)
        if not locked:
            return
        try:
            with self._state:
                if self._half_closed or self._ended is not None:
                    return
                self._half_closed = True
            try:
                self._transport.shutdown_write()
            except OSError:
                pass  # already gone: the reader reports why
        finally:
            self._send_lock.release()

    def abort(self) -> None:
        """Ends the connection at once; requests not yet answered fail with ConnectionClosed
        (``not_run`` False: the server may have run them)."""
        with self._state:
            self._closed = True
            self._aborted = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the reader and any blocked writer
        except OSError:
            pass

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- sending ----

    def _submit(self, call: Call, timeout: Any, raw_id: int | None = None) -> Future:
        """Queues and writes one request; the future completes with ``call.decode(answer)``."""
        kind, op, parts, decode = call
        future: Future = Future()
        future.set_running_or_notify_cancel()  # a request on the wire cannot be called back
        if timeout is DEFAULT:
            timeout = self._timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._slots is not None:
            if not self._slots.acquire(timeout=timeout):
                future.set_exception(RequestTimeout(f"no free slot among the requests in flight within {timeout} s"))
                return future
            on_answer = self._slots.release
        else:
            on_answer = None
        size = codec.payload_length(parts)
        if size + layout.MIN_LENGTH > layout.MAX_LENGTH_FIELD:
            if on_answer:
                on_answer()
            raise ValueError(f"payload of {size} bytes does not fit a frame (the length field is a u32)")
        with self._send_lock:
            with self._state:
                if self._closed:
                    entry = None
                else:
                    request_id = raw_id if raw_id is not None else self._next_id
                    if raw_id is None:
                        self._next_id += 1
                    entry = Pending(request_id, kind, op, decode, future, on_answer)
                    self._pending.append(entry)
            if entry is None:
                if on_answer:
                    on_answer()
                future.set_exception(ClientClosed("connection closed; the request was not sent"))
                return future
            if deadline is not None:
                entry.deadline = deadline
                self._deadlines.add(deadline, lambda: settle(future, error=entry.timed_out(timeout)))
            try:
                if raw_id is not None:
                    self._write(parts)
                else:
                    header = layout.encode_header(size, kind, op, entry.id)  # type: ignore[arg-type]
                    self._write([header, *parts])
            except OSError as e:
                self._unsent(entry, e)
        return future

    def _write(self, parts: list[Buffer]) -> None:
        """Under the send lock. Small frames go out in one write (one TCP segment with NODELAY)."""
        total = codec.payload_length(parts)
        if total <= self.LARGE_PAYLOAD:
            self._transport.sendall(b"".join(parts))
        else:
            for part in parts:
                self._transport.sendall(part)

    def _unsent(self, entry: Pending, error: OSError) -> None:
        """Under the send lock: ``entry`` was not completely written, so the server cannot
        have run it. No frame can follow a partial one: no more requests, and our FIN tells
        the server to answer what came complete before it and close."""
        with self._state:
            self._closed = True
            self._half_closed = True
            if self._pending and self._pending[-1] is entry:
                self._pending.pop()
                owned = True
            else:
                owned = False  # the reader has already failed it along with the rest
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        if owned:
            if entry.on_answer:
                entry.on_answer()
            settle(entry.future, error=ConnectionClosed(f"request id {entry.id} not sent: {error!r}", not_run=True))

    # ---- reading ----

    def _read_loop(self) -> None:
        try:
            self._read_frames()
            with self._state:
                aborted = self._aborted
            ending = (ConnectionClosed("connection aborted by the client") if aborted
                      else ConnectionClosed("server closed the connection", not_run=True))
        except ProtocolError as e:
            ending = e
        except (OSError, ssl.SSLError, UncleanEof) as e:
            with self._state:
                aborted = self._aborted
            ending = ConnectionClosed("connection aborted by the client" if aborted else f"connection failed: {e!r}")
        except BaseException as e:  # a bug here must not leave callers waiting for ever
            ending = ProtocolError(f"client reader failed: {e!r}")
        self._finish(ending)

    def _read_frames(self) -> None:
        """Reads answers until the server's FIN (returns) or a failure (raises)."""
        buf = bytearray(self.RECV_BUFFER)
        view = memoryview(buf)
        recv = self._transport.recv_into
        start = end = 0
        while True:
            while end - start >= layout.LENGTH_FIELD_SIZE:
                (length,) = layout.LENGTH.unpack_from(buf, start)
                if length < layout.MIN_LENGTH or length > self._max_length:
                    raise ProtocolError(f"answer with length field {length}")
                total = layout.LENGTH_FIELD_SIZE + length
                if end - start >= total:
                    _, version, kind, op, rid = layout.HEADER.unpack_from(buf, start)
                    payload = bytearray(view[start + layout.PAYLOAD_OFFSET:start + total])
                    start += total
                elif end - start >= layout.HEADER_LENGTH and length - layout.MIN_LENGTH > self.LARGE_PAYLOAD:
                    # A large answer: receive its payload straight into its own buffer, which a
                    # numpy result then wraps without a copy.
                    _, version, kind, op, rid = layout.HEADER.unpack_from(buf, start)
                    payload = bytearray(length - layout.MIN_LENGTH)
                    have = end - start - layout.HEADER_LENGTH
                    payload[:have] = view[start + layout.PAYLOAD_OFFSET:end]
                    into = memoryview(payload)
                    while have < len(payload):
                        n = recv(into[have:])
                        if n == 0:
                            raise UncleanEof(f"connection ended inside the answer to id {rid}")
                        have += n
                    into.release()
                    start = end = 0
                else:
                    break
                if version != layout.VERSION:
                    raise ProtocolError(f"answer with version {version}")
                self._dispatch(kind, op, rid, payload)
            if start == end:
                start = end = 0
            elif len(buf) - end < self.LARGE_PAYLOAD + layout.HEADER_LENGTH:
                kept = bytes(view[start:end])
                view[:len(kept)] = kept
                start, end = 0, len(kept)
            n = recv(view[end:])
            if n == 0:
                if start != end:
                    raise UncleanEof("connection ended inside an answer")
                return
            end += n

    def _dispatch(self, kind: int, op: int, rid: int, payload: bytearray) -> None:
        with self._state:
            entry = self._pending.popleft() if self._pending else None
            idle_close = not self._pending and self._half_close_when_idle
        if entry is None:
            raise ProtocolError(f"answer with id {rid} to no request")
        if idle_close:
            self._half_close()
        if entry.on_answer:
            entry.on_answer()
        problem = entry.mismatch(kind, op, rid)
        if problem:
            settle(entry.future, error=ProtocolError(problem))
            raise ProtocolError(problem)
        if entry.expired(time.monotonic()):
            settle(entry.future, error=entry.timed_out(None))
            return
        try:
            value = entry.decode(Response(kind, op, rid, payload))
        except Exception as e:  # a typed error answer, or an answer that does not decode
            settle(entry.future, error=e)
        else:
            settle(entry.future, value)

    def _finish(self, ending: ConnectionClosed) -> None:
        """On the reader thread, once: fails what is still waiting and releases the socket."""
        with self._state:
            self._closed = True
            self._ended = ending
            failed = list(self._pending)
            self._pending.clear()
            callbacks, self._close_callbacks = self._close_callbacks, []
            half_close = not self._half_closed and not self._aborted and ending.not_run
            self._half_closed = True
        for entry in failed:
            if entry.on_answer:
                entry.on_answer()
            settle(entry.future, error=type(ending)(f"no answer to id {entry.id}: {ending}", not_run=ending.not_run))
        if half_close:
            # The server ended cleanly: answer its FIN with ours (after close_notify under TLS).
            # A writer still inside the socket is woken by a bare FIN instead (its frame is cut).
            try:
                if self._send_lock.acquire(blocking=False):
                    try:
                        self._transport.shutdown_write()
                    finally:
                        self._send_lock.release()
                else:
                    self._sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        else:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)  # wakes a writer blocked on a dead connection
            except OSError:
                pass
        with self._send_lock:  # no writer is inside the socket any more
            self._sock.close()
        self._deadlines.stop()
        for callback in callbacks:
            callback(ending)
