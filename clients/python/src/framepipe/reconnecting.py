"""Clients that outlive their connections, as the Java ``ReconnectingClient`` does.

When the server retires a connection (``max-connection-age``) or drains, these clients open a
new one and send again the requests the server did not run, exactly once each and before any
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

:class:`ReconnectingClient` is the blocking one, :class:`AsyncReconnectingClient` the asyncio
one; :class:`_Resender` holds the decisions both make.
"""

from __future__ import annotations

import asyncio
import enum
import ssl
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

from ._ops import DEFAULT, AsyncOperations, Call, SyncOperations
from .aio import AsyncClient
from .client import DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_RESPONSE_BYTES, Client, Deadlines, settle
from .codec import Response, decode_response
from .errors import ClientClosed, ConnectionClosed, RequestTimeout, ServerError, ShuttingDown

Deferred = list[Callable[[], Any]]


class _Outcome(enum.Enum):
    PENDING = 1
    ANSWERED = 2
    RESEND = 3
    FAILED = 4


@dataclass(slots=True, eq=False)
class _Request:
    """One request as the caller made it; it may travel on several connections."""

    call: Call
    future: Any  # concurrent.futures.Future or asyncio.Future: what the caller holds
    attempts: int = 0
    outcome: _Outcome = _Outcome.PENDING
    declined: ShuttingDown | None = None
    deadline: float | None = None  # an answer read after it is dropped, as in Client


@dataclass(slots=True, eq=False)
class _Session:
    """One connection and the requests sent on it and not yet settled, in order."""

    client: Any  # Client or AsyncClient
    sent: deque[_Request] = field(default_factory=deque)
    unresolved: int = 0
    answered: int = 0
    usable: bool = True


def _complete(request: _Request, response: Response, now: float) -> None:
    """Completes the caller's future with the decoded answer (or the decoding's error)."""
    if request.deadline is not None and now >= request.deadline:
        _set(request.future, error=RequestTimeout("no answer before the request's deadline"))
        return
    try:
        value = request.call.decode(response)
    except Exception as e:
        _set(request.future, error=e)
    else:
        _set(request.future, value)


def _set(future: Any, value: Any = None, error: BaseException | None = None) -> None:
    """Completes either kind of future unless it is done (timed out, cancelled)."""
    if isinstance(future, Future):
        settle(future, value, error)
    elif not future.done():
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)


class _Resender:
    """The state and decisions both reconnecting clients share. Its methods run under the sync
    client's lock, or on the event loop; they never block and never complete a future
    themselves: what to complete goes into ``deferred``, run once the lock is released."""

    def _init_resender(self, host: str, port: int, max_attempts: int, max_connect_failures: int,
                       min_backoff: float, max_backoff: float) -> None:
        self.host = host
        self.port = port
        self._max_attempts = max_attempts
        self._max_connect_failures = max_connect_failures
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._session: _Session | None = None
        self._waiting: deque[_Request] = deque()
        self._connecting = False
        self._closed = False
        self._empty_sessions = 0
        self._connect_failures = 0
        self._connections = 0
        self._resent = 0
        self._declined = 0

    def _retire(self, client: Any) -> None:
        """Closes a connection nobody sends on any more, without blocking."""
        raise NotImplementedError

    def _clock(self) -> float:
        raise NotImplementedError

    def _register(self, session: _Session, request: _Request) -> None:
        request.outcome = _Outcome.PENDING
        request.attempts += 1
        session.sent.append(request)
        session.unresolved += 1

    def _record_outcome(self, session: _Session, request: _Request, inner: Any, deferred: Deferred) -> bool:
        """Files the outcome of one send; True when a new connection should be opened."""
        session.unresolved -= 1
        error = inner.exception()
        if error is None:
            request.outcome = _Outcome.ANSWERED
            session.answered += 1
            response, now = inner.result(), self._clock()
            deferred.append(lambda: _complete(request, response, now))
        elif isinstance(error, ShuttingDown):
            self._declined += 1
            request.outcome = _Outcome.RESEND  # declined: not run, nor anything after it
            request.declined = error
            session.usable = False
        elif isinstance(error, ConnectionClosed) and error.not_run:
            request.outcome = _Outcome.RESEND
            session.usable = False
        elif isinstance(error, ServerError):
            request.outcome = _Outcome.ANSWERED  # an answer all the same: the request was read
            session.answered += 1
            deferred.append(lambda: _set(request.future, error=error))
        else:
            request.outcome = _Outcome.FAILED  # a reset or a broken answer: ran or not, unknown
            session.usable = False
            deferred.append(lambda: _set(request.future, error=error))
        # Answers come in order, so settled requests leave from the head.
        while session.sent and session.sent[0].outcome in (_Outcome.ANSWERED, _Outcome.FAILED):
            session.sent.popleft()
        return self._settle_if_done(session, deferred)

    def _settle_if_done(self, session: _Session, deferred: Deferred) -> bool:
        """Once a retiring connection has no request left in doubt, the requests to send again
        go to the front of the queue (they were made before anything queued since); True when
        a new connection should be opened."""
        if session is not self._session or session.usable or session.unresolved > 0:
            return False
        self._session = None
        again = [r for r in session.sent if r.outcome is _Outcome.RESEND]
        session.sent.clear()
        # A connection that only declined (a server refusing or draining) slows the next attempt.
        self._empty_sessions = self._empty_sessions + 1 if session.answered == 0 and again else 0
        deferred.append(lambda: self._retire(session.client))
        for r in reversed(again):
            if r.future.done():
                continue  # timed out or cancelled meanwhile: nobody waits for it any more
            if self._closed:
                deferred.append(lambda r=r: _set(r.future, error=ClientClosed("client closed before the request was run")))
            elif r.attempts >= self._max_attempts:
                final: Exception = r.declined if r.declined is not None else ConnectionClosed(
                    f"connection closed {r.attempts} times before the request was run", not_run=True)
                deferred.append(lambda r=r, final=final: _set(r.future, error=final))
            else:
                self._resent += 1
                self._waiting.appendleft(r)
        return bool(self._waiting) and self._want_connect()

    def _want_connect(self) -> bool:
        """Claims the right to open the next connection."""
        if self._connecting or self._closed or self._session is not None:
            return False
        self._connecting = True
        return True

    def _backoff(self) -> float:
        failures = max(self._empty_sessions, self._connect_failures)
        if failures == 0:
            return 0.0
        return min(self._min_backoff * 2 ** min(failures - 1, 30), self._max_backoff)

    def _connect_failed(self, error: BaseException, deferred: Deferred) -> bool:
        """After a failed attempt: True to try again; after too many, the waiting requests fail."""
        self._connecting = False
        self._connect_failures += 1
        if self._connect_failures >= self._max_connect_failures:
            self._connect_failures = 0
            for r in self._waiting:
                deferred.append(lambda r=r: _set(r.future, error=ConnectionClosed(
                    f"cannot reconnect to {self.host}:{self.port}: {error!r}", not_run=True)))
            self._waiting.clear()
        return bool(self._waiting) and self._want_connect()

    def _take_waiting(self, session: _Session) -> list[_Request]:
        """On a new connection: the queue in order, requests sent again first, registered on it."""
        self._connecting = False
        self._connect_failures = 0
        self._connections += 1
        self._session = session
        batch = []
        while self._waiting:
            r = self._waiting.popleft()
            if not r.future.done():
                self._register(session, r)
                batch.append(r)
        return batch

    @property
    def connections(self) -> int:
        """Connections opened so far, the first included."""
        return self._connections

    @property
    def resent(self) -> int:
        """Requests sent again because the server had not run them."""
        return self._resent

    @property
    def declined(self) -> int:
        """SHUTTING_DOWN answers received (a drain or ``max-connection-age`` declining a
        request); requests sent again after a clean close without one count in ``resent`` only."""
        return self._declined


class ReconnectingClient(SyncOperations, _Resender):
    """The blocking reconnecting client: same operations as :class:`framepipe.Client`
    (``submit_X`` returns a future, ``X`` blocks), over a succession of connections (see the
    module docstring). Thread-safe.

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
        self._init_resender(host, port, max_attempts, max_connect_failures, min_backoff, max_backoff)
        self._connect_args: dict[str, Any] = dict(
            ssl_context=ssl_context, server_hostname=server_hostname, connect_timeout=connect_timeout,
            max_in_flight=None, timeout=None, max_response_bytes=max_response_bytes)
        self._timeout = timeout
        self._slots = threading.BoundedSemaphore(max_in_flight) if max_in_flight is not None else None
        self._deadlines = Deadlines(f"framepipe-deadlines-{host}:{port}")
        self._lock = threading.Lock()  # guards the _Resender state
        # Held while requests are handed to a connection, so they reach it in order. Writing can
        # block (the server pushes back), so it is never taken under the lock.
        self._send_lock = threading.Lock()
        self._on_connected(Client(host, port, **self._connect_args))

    def _clock(self) -> float:
        return time.monotonic()

    def _retire(self, client: Client) -> None:
        # close() waits for the server's FIN; this may be that connection's own reader thread.
        threading.Thread(target=client.close, name="framepipe-retire", daemon=True).start()

    # ---- requests ----

    def _submit(self, call: Call, timeout: Any) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        if timeout is DEFAULT:
            timeout = self._timeout
        if self._slots is not None:
            if not self._slots.acquire(timeout=timeout):
                future.set_exception(RequestTimeout(f"no free slot among the requests in flight within {timeout} s"))
                return future
            future.add_done_callback(lambda _: self._slots.release())  # type: ignore[union-attr]
        request = _Request(call, future)
        if timeout is not None:
            request.deadline = time.monotonic() + timeout
            self._deadlines.add(request.deadline, lambda: settle(future, error=RequestTimeout(
                f"no answer within {timeout} s")))
        connect = False
        with self._send_lock:
            with self._lock:
                closed = self._closed
                session = self._session if self._session is not None and self._session.usable else None
                if closed:
                    pass
                elif session is not None:
                    self._register(session, request)
                else:
                    self._waiting.append(request)
                    connect = self._want_connect()
            if closed:
                settle(future, error=ClientClosed("client closed; the request was not sent"))
            elif session is not None:
                self._send_on(session, request)
        if connect:
            self._spawn_connect()
        return future

    def _send_on(self, session: _Session, request: _Request) -> None:
        """Under the send lock, not the lock."""
        kind, op, parts, _ = request.call
        inner = session.client.submit(kind, op, parts, timeout=None)
        inner.add_done_callback(lambda f: self._on_outcome(session, request, f))

    def _on_outcome(self, session: _Session, request: _Request, inner: Future) -> None:
        deferred: Deferred = []
        with self._lock:
            connect = self._record_outcome(session, request, inner, deferred)
        self._run(deferred, connect)

    def _on_session_closed(self, session: _Session) -> None:
        deferred: Deferred = []
        with self._lock:
            session.usable = False
            connect = self._settle_if_done(session, deferred)
        self._run(deferred, connect)

    def _run(self, deferred: Deferred, connect: bool) -> None:
        """Outside the lock: completes futures (in order), then opens a connection if asked."""
        for action in deferred:
            action()
        if connect:
            self._spawn_connect()

    # ---- connections ----

    def _spawn_connect(self) -> None:
        with self._lock:
            delay = self._backoff()
        threading.Thread(target=self._connect_once, args=(delay,), name="framepipe-reconnect", daemon=True).start()

    def _connect_once(self, delay: float) -> None:
        if delay:
            time.sleep(delay)
        try:
            client = Client(self.host, self.port, **self._connect_args)
        except (OSError, ssl.SSLError) as e:
            deferred: Deferred = []
            with self._lock:
                again = self._connect_failed(e, deferred)
            self._run(deferred, again)
            return
        self._on_connected(client)

    def _on_connected(self, client: Client) -> None:
        with self._send_lock:
            with self._lock:
                closed = self._closed
                if closed:
                    self._connecting = False
                else:
                    session = _Session(client)
                    batch = self._take_waiting(session)
            if closed:
                self._retire(client)
                return
            for r in batch:
                self._send_on(session, r)
        client.add_close_callback(lambda _: self._on_session_closed(session))

    # ---- closing ----

    def close(self, timeout: float | None = 10.0) -> None:
        """Closes the current connection as :meth:`Client.close` does (requests already sent get
        their answers); requests waiting for a connection fail with ClientClosed."""
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


class AsyncReconnectingClient(AsyncOperations, _Resender):
    """The asyncio reconnecting client: same operations as :class:`framepipe.AsyncClient`, same
    rules and options as :class:`ReconnectingClient`. Create it with :meth:`connect`."""

    def __init__(self, host: str, port: int, connect_args: dict[str, Any], *, max_in_flight: int | None,
                 timeout: float | None, max_attempts: int, max_connect_failures: int, min_backoff: float,
                 max_backoff: float) -> None:
        """Use :meth:`connect`."""
        self._init_resender(host, port, max_attempts, max_connect_failures, min_backoff, max_backoff)
        self._connect_args = connect_args
        self._timeout = timeout
        self._slots = asyncio.Semaphore(max_in_flight) if max_in_flight is not None else None
        self._tasks: set[asyncio.Task] = set()  # reconnects and retiring closes, kept referenced

    @classmethod
    async def connect(
        cls,
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
    ) -> AsyncReconnectingClient:
        """Opens the first connection (failing at once if the server cannot be reached)."""
        args: dict[str, Any] = dict(ssl_context=ssl_context, server_hostname=server_hostname,
                                    connect_timeout=connect_timeout, max_in_flight=None, timeout=None,
                                    max_response_bytes=max_response_bytes)
        self = cls(host, port, args, max_in_flight=max_in_flight, timeout=timeout, max_attempts=max_attempts,
                   max_connect_failures=max_connect_failures, min_backoff=min_backoff, max_backoff=max_backoff)
        self._on_connected(await AsyncClient.connect(host, port, **args))
        return self

    def _clock(self) -> float:
        return asyncio.get_running_loop().time()

    def _retire(self, client: AsyncClient) -> None:
        self._spawn(client.close())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- requests ----

    async def _submit(self, call: Call, timeout: Any) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        if timeout is DEFAULT:
            timeout = self._timeout
        request = _Request(call, future)
        if timeout is not None:
            request.deadline = loop.time() + timeout
        if self._slots is not None:
            try:
                async with asyncio.timeout_at(request.deadline):
                    await self._slots.acquire()
            except TimeoutError:
                future.set_exception(RequestTimeout(f"no free slot among the requests in flight within {timeout} s"))
                return future
            future.add_done_callback(lambda _: self._slots.release())  # type: ignore[union-attr]
        if request.deadline is not None:
            timer = loop.call_at(request.deadline, lambda: _set(future, error=RequestTimeout(
                f"no answer within {timeout} s")))
            future.add_done_callback(lambda _: timer.cancel())
        if self._closed:
            future.set_exception(ClientClosed("client closed; the request was not sent"))
            return future
        session = self._session if self._session is not None and self._session.usable else None
        if session is not None:
            self._register(session, request)
            self._send_on(session, request)
            await session.client.drain()
        else:
            self._waiting.append(request)
            if self._want_connect():
                self._spawn(self._connect_once(self._backoff()))
        return future

    def _send_on(self, session: _Session, request: _Request) -> None:
        kind, op, parts, _ = request.call
        # The inner connection gives back the response; the caller's decoder runs once, at the end.
        inner = session.client._enqueue(Call(kind, op, parts, decode_response), None, None)
        inner.add_done_callback(lambda f: self._on_outcome(session, request, f))

    def _on_outcome(self, session: _Session, request: _Request, inner: asyncio.Future) -> None:
        deferred: Deferred = []
        if inner.cancelled():  # only when the loop is shutting down
            return
        connect = self._record_outcome(session, request, inner, deferred)
        self._run(deferred, connect)

    def _on_session_closed(self, session: _Session) -> None:
        deferred: Deferred = []
        session.usable = False
        self._run(deferred, self._settle_if_done(session, deferred))

    def _run(self, deferred: Deferred, connect: bool) -> None:
        for action in deferred:
            action()
        if connect:
            self._spawn(self._connect_once(self._backoff()))

    # ---- connections ----

    async def _connect_once(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        try:
            client = await AsyncClient.connect(self.host, self.port, **self._connect_args)
        except (OSError, ssl.SSLError, TimeoutError) as e:
            deferred: Deferred = []
            again = self._connect_failed(e, deferred)
            self._run(deferred, again)
            return
        self._on_connected(client)

    def _on_connected(self, client: AsyncClient) -> None:
        if self._closed:
            self._connecting = False
            self._retire(client)
            return
        session = _Session(client)
        for r in self._take_waiting(session):
            self._send_on(session, r)
        client.add_close_callback(lambda _: self._on_session_closed(session))

    # ---- closing ----

    async def close(self, timeout: float | None = 10.0) -> None:
        """Closes the current connection as :meth:`AsyncClient.close` does; requests waiting for
        a connection fail with ClientClosed."""
        if self._closed:
            return
        self._closed = True
        waiting, self._waiting = list(self._waiting), deque()
        for r in waiting:
            _set(r.future, error=ClientClosed("client closed before the request was sent"))
        if self._session is not None:
            await self._session.client.close(timeout)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    async def __aenter__(self) -> AsyncReconnectingClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

