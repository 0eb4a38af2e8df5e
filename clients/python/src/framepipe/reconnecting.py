"""A blocking client that outlives its connections, as the Java ``ReconnectingClient`` does.

When the server retires a connection (``max-connection-age``) or drains, this client opens a
new one and sends again the requests the server did not run, exactly once each and before any
request made later. Which requests did not run follows from the protocol's close rules
(PROTOCOL.md, "Errors" and "Graceful stop"; docs/protocol.md, "max-connection-age"):

* a request answered SHUTTING_DOWN was not run, nor was any request sent after it on that
  connection (they end unanswered when the server closes);
* when the connection ends cleanly (the server's FIN, no error), every request still
  unanswered was not run: the server answers everything it ran before its FIN;
* a request that was never completely written was not run.

Those are sent again on the next connection, in their original order. After a reset or a
broken answer nobody knows whether the unanswered requests ran, so they fail with
:class:`ConnectionClosed` (``not_run`` False) instead of being guessed at; later requests go
to a new connection. Reconnecting backs off (doubling from ``min_backoff`` to
``max_backoff``) while connections end without answering anything, so a server that keeps
declining is not hammered.
"""

from __future__ import annotations

import enum
import ssl
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from . import codec, layout
from .client import DEFAULT, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_RESPONSE_BYTES, Client, Deadlines, _parts, settle
from .codec import Buffer, Counts, Decoder, Floats, FloatsLike, Response, Stats
from .errors import ClientClosed, ConnectionClosed, RequestTimeout, ServerError, ShuttingDown


class _Outcome(enum.Enum):
    PENDING = 1
    ANSWERED = 2
    RESEND = 3
    FAILED = 4


@dataclass(slots=True, eq=False)
class _Request:
    """One request as the caller made it; it may travel on several connections."""

    kind: int
    op: int
    parts: list[Buffer]
    decode: Decoder
    future: Future
    attempts: int = 0
    outcome: _Outcome = _Outcome.PENDING
    declined: ShuttingDown | None = None
    deadline: float | None = None  # an answer read after it is dropped, as in Client


@dataclass(slots=True, eq=False)
class _Session:
    """One connection and the requests sent on it and not yet settled, in order."""

    client: Client
    sent: deque[_Request] = field(default_factory=deque)
    unresolved: int = 0
    answered: int = 0
    usable: bool = True


class ReconnectingClient:
    """Same operations as :class:`framepipe.Client` (``submit_X`` returns a future, ``X``
    blocks), over a succession of connections (see the module docstring). Thread-safe.

    :param max_attempts: sends of one request before a SHUTTING_DOWN answer is final.
    :param max_connect_failures: consecutive failed connection attempts after which the
        requests waiting for a connection fail with ConnectionClosed.
    :param min_backoff, max_backoff: the first and the longest delay, in seconds, before
        reconnecting after a connection that answered nothing or could not be opened.
    :param max_in_flight: requests whose future is not done before ``submit`` blocks.
    :param timeout: default per-request timeout in seconds, across all its attempts.

    The first connection is opened by the constructor, which fails at once if the server
    cannot be reached.
    """

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
        max_attempts: int = 10,
        max_connect_failures: int = 20,
        min_backoff: float = 0.01,
        max_backoff: float = 2.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.host = host
        self.port = port
        self._connect_args: dict[str, Any] = dict(
            ssl_context=ssl_context, server_hostname=server_hostname, connect_timeout=connect_timeout,
            max_in_flight=None, timeout=None, max_response_bytes=max_response_bytes)
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._max_connect_failures = max_connect_failures
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._slots = threading.BoundedSemaphore(max_in_flight) if max_in_flight is not None else None
        self._deadlines = Deadlines(f"framepipe-deadlines-{host}:{port}")
        self._lock = threading.Lock()  # guards the state below
        # Held while requests are handed to a connection, so they reach it in order.
        self._send_lock = threading.Lock()
        self._session: _Session | None = None
        self._waiting: deque[_Request] = deque()
        self._connecting = False
        self._closed = False
        self._empty_sessions = 0
        self._connect_failures = 0
        self._connections = 0
        self._resent = 0
        self._on_connected(Client(host, port, **self._connect_args))

    # ---- operations ----

    def submit(self, kind: int, op: int, payload: Buffer | Sequence[Buffer] = b"", *,
               timeout: float | None = DEFAULT) -> Future[Response]:
        return self._submit(kind, op, _parts(payload), codec.decode_response, timeout)

    def send(self, kind: int, op: int, payload: Buffer | Sequence[Buffer] = b"", *,
             timeout: float | None = DEFAULT) -> Response:
        return self.submit(kind, op, payload, timeout=timeout).result()

    def submit_stats(self, values: FloatsLike, *, timeout: float | None = DEFAULT) -> Future[Stats]:
        return self._submit(layout.KIND_FLOATS, layout.OP_STATS, [codec.float_payload(values)],
                            codec.decode_stats, timeout)

    def stats(self, values: FloatsLike, *, timeout: float | None = DEFAULT) -> Stats:
        return self.submit_stats(values, timeout=timeout).result()

    def submit_scale(self, a: float, b: float, values: FloatsLike, *,
                     timeout: float | None = DEFAULT) -> Future[Floats]:
        parts = [codec.scale_prefix(a, b), codec.float_payload(values)]
        return self._submit(layout.KIND_FLOATS, layout.OP_SCALE, parts,
                            codec.floats_decoder(codec.is_numpy(values)), timeout)

    def scale(self, a: float, b: float, values: FloatsLike, *, timeout: float | None = DEFAULT) -> Floats:
        return self.submit_scale(a, b, values, timeout=timeout).result()

    def submit_upper(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Future[Any]:
        return self._submit(layout.KIND_TEXT, layout.OP_UPPER, [codec.text_payload(text)],
                            codec.text_decoder(not isinstance(text, str)), timeout)

    def upper(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Any:
        return self.submit_upper(text, timeout=timeout).result()

    def submit_lower(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Future[Any]:
        return self._submit(layout.KIND_TEXT, layout.OP_LOWER, [codec.text_payload(text)],
                            codec.text_decoder(not isinstance(text, str)), timeout)

    def lower(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Any:
        return self.submit_lower(text, timeout=timeout).result()

    def submit_count(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Future[Counts]:
        return self._submit(layout.KIND_TEXT, layout.OP_COUNT, [codec.text_payload(text)],
                            codec.decode_counts, timeout)

    def count(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Counts:
        return self.submit_count(text, timeout=timeout).result()

    def submit_ping(self, payload: Buffer = b"", *, timeout: float | None = DEFAULT) -> Future[bytes]:
        return self._submit(layout.KIND_PING, layout.OP_PING, [payload], codec.decode_ping, timeout)

    def ping(self, payload: Buffer = b"", *, timeout: float | None = DEFAULT) -> bytes:
        return self.submit_ping(payload, timeout=timeout).result()

    # ---- state ----

    @property
    def connections(self) -> int:
        """Connections opened so far, the first included."""
        with self._lock:
            return self._connections

    @property
    def resent(self) -> int:
        """Requests sent again because the server had not run them."""
        with self._lock:
            return self._resent

    # ---- closing ----

    def close(self, timeout: float | None = 10.0) -> None:
        """Closes the current connection as :meth:`Client.close` does (requests already sent
        get their answers); requests waiting for a connection fail with ClientClosed."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            waiting, self._waiting = list(self._waiting), deque()
            session = self._session
        for r in waiting:
            settle(r.future, error=ClientClosed("client closed before the request was sent"))
        if session is not None:
            session.client.close(timeout)
        self._deadlines.stop()

    def __enter__(self) -> ReconnectingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- requests ----

    def _submit(self, kind: int, op: int, parts: list[Buffer], decode: Decoder, timeout: float | None) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        if timeout is DEFAULT:
            timeout = self._timeout
        if self._slots is not None:
            if not self._slots.acquire(timeout=timeout):
                future.set_exception(RequestTimeout(f"no free slot among the requests in flight within {timeout} s"))
                return future
            future.add_done_callback(lambda _: self._slots.release())  # type: ignore[union-attr]
        request = _Request(kind, op, parts, decode, future)
        if timeout is not None:
            request.deadline = time.monotonic() + timeout
            self._deadlines.add(request.deadline, lambda: settle(future, error=RequestTimeout(
                f"no answer within {timeout} s")))
        with self._send_lock:
            with self._lock:
                if self._closed:
                    session = None
                    closed = True
                else:
                    closed = False
                    session = self._session if self._session is not None and self._session.usable else None
                    if session is not None:
                        self._register(session, request)
                    else:
                        self._waiting.append(request)
                        self._start_connect()
            if closed:
                settle(future, error=ClientClosed("client closed; the request was not sent"))
            elif session is not None:
                self._send_on(session, request)
        return future

    def _register(self, session: _Session, request: _Request) -> None:
        """Under the lock."""
        request.outcome = _Outcome.PENDING
        request.attempts += 1
        session.sent.append(request)
        session.unresolved += 1

    def _send_on(self, session: _Session, request: _Request) -> None:
        """Under the send lock, not the lock (writing can block while the server pushes back)."""
        inner = session.client.submit(request.kind, request.op, request.parts, timeout=None)
        inner.add_done_callback(lambda f: self._on_outcome(session, request, f))

    def _on_outcome(self, session: _Session, request: _Request, inner: Future) -> None:
        deferred: list[Callable[[], Any]] = []
        with self._lock:
            session.unresolved -= 1
            error = inner.exception()
            if error is None:
                request.outcome = _Outcome.ANSWERED
                session.answered += 1
                deferred.append(lambda: self._complete(request, inner.result()))
            elif isinstance(error, ShuttingDown):
                request.outcome = _Outcome.RESEND  # declined: not run, nor anything after it
                request.declined = error
                session.usable = False
            elif isinstance(error, ConnectionClosed) and error.not_run:
                request.outcome = _Outcome.RESEND
                session.usable = False
            elif isinstance(error, ServerError):
                request.outcome = _Outcome.ANSWERED  # an answer all the same (the request was read)
                session.answered += 1
                deferred.append(lambda: settle(request.future, error=error))
            else:
                request.outcome = _Outcome.FAILED  # a reset or a broken answer: ran or not, unknown
                session.usable = False
                deferred.append(lambda: settle(request.future, error=error))
            # Answers come in order, so settled requests leave from the head.
            while session.sent and session.sent[0].outcome in (_Outcome.ANSWERED, _Outcome.FAILED):
                session.sent.popleft()
            connect = self._settle_if_done(session, deferred)
        self._run(deferred, connect)

    def _complete(self, request: _Request, response: Response) -> None:
        if request.deadline is not None and time.monotonic() >= request.deadline:
            settle(request.future, error=RequestTimeout("no answer before the request's deadline"))
            return
        try:
            value = request.decode(response)
        except Exception as e:
            settle(request.future, error=e)
        else:
            settle(request.future, value)

    def _on_session_closed(self, session: _Session) -> None:
        deferred: list[Callable[[], Any]] = []
        with self._lock:
            session.usable = False
            connect = self._settle_if_done(session, deferred)
        self._run(deferred, connect)

    def _settle_if_done(self, session: _Session, deferred: list[Callable[[], Any]]) -> bool:
        """Under the lock. Once a retiring connection has no request left in doubt, the requests
        to send again go to the front of the queue (they were made before anything queued
        since); True when a new connection should be opened."""
        if session is not self._session or session.usable or session.unresolved > 0:
            return False
        self._session = None
        again = [r for r in session.sent if r.outcome is _Outcome.RESEND]
        session.sent.clear()
        # A connection that only declined (a server refusing or draining) slows the next attempt.
        self._empty_sessions = self._empty_sessions + 1 if session.answered == 0 and again else 0
        deferred.append(lambda: _retire(session.client))
        for r in reversed(again):
            if r.future.done():
                continue  # timed out meanwhile: nobody waits for it any more
            if self._closed:
                deferred.append(lambda r=r: settle(r.future, error=ClientClosed("client closed before the request was run")))
            elif r.attempts >= self._max_attempts:
                final: Exception = r.declined if r.declined is not None else ConnectionClosed(
                    f"connection closed {r.attempts} times before the request was run", not_run=True)
                deferred.append(lambda r=r, final=final: settle(r.future, error=final))
            else:
                self._resent += 1
                self._waiting.appendleft(r)
        return bool(self._waiting) and self._want_connect()

    # ---- connections ----

    def _want_connect(self) -> bool:
        """Under the lock: claims the right to open the next connection."""
        if self._connecting or self._closed or self._session is not None:
            return False
        self._connecting = True
        return True

    def _start_connect(self) -> None:
        """Under the lock."""
        if self._want_connect():
            self._spawn_connect()

    def _spawn_connect(self) -> None:
        failures = max(self._empty_sessions, self._connect_failures)
        delay = 0.0 if failures == 0 else min(self._min_backoff * 2 ** min(failures - 1, 30), self._max_backoff)
        threading.Thread(target=self._connect_once, args=(delay,), name="framepipe-reconnect", daemon=True).start()

    def _run(self, deferred: list[Callable[[], Any]], connect: bool) -> None:
        """Outside the lock: completes futures (in order), then opens a connection if asked."""
        for action in deferred:
            action()
        if connect:
            with self._lock:
                self._spawn_connect()

    def _connect_once(self, delay: float) -> None:
        if delay:
            time.sleep(delay)
        try:
            client = Client(self.host, self.port, **self._connect_args)
        except (OSError, ssl.SSLError) as e:
            deferred: list[Callable[[], Any]] = []
            with self._lock:
                self._connecting = False
                self._connect_failures += 1
                if self._connect_failures >= self._max_connect_failures:
                    self._connect_failures = 0
                    for r in self._waiting:
                        deferred.append(lambda r=r: settle(r.future, error=ConnectionClosed(
                            f"cannot reconnect to {self.host}:{self.port}: {e!r}", not_run=True)))
                    self._waiting.clear()
                connect = bool(self._waiting) and self._want_connect()
            self._run(deferred, connect)
            return
        self._on_connected(client)

    def _on_connected(self, client: Client) -> None:
        with self._send_lock:
            with self._lock:
                self._connecting = False
                self._connect_failures = 0
                if self._closed:
                    session = None
                else:
                    self._connections += 1
                    session = _Session(client)
                    self._session = session
                    batch = []
                    # The queue in order: requests sent again first, then those made while reconnecting.
                    while self._waiting:
                        r = self._waiting.popleft()
                        if not r.future.done():
                            self._register(session, r)
                            batch.append(r)
            if session is None:
                _retire(client)
                return
            for r in batch:
                self._send_on(session, r)
        client.add_close_callback(lambda _: self._on_session_closed(session))


def _retire(client: Client) -> None:
    """Closes a connection nobody sends on any more (politely: FIN, then its FIN), without
    blocking the caller, which may be that connection's own reader thread."""
    threading.Thread(target=client.close, name="framepipe-retire", daemon=True).start()
