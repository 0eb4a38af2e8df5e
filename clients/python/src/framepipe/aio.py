"""The asyncio client: the same operations as :class:`framepipe.Client`, on asyncio streams.

One connection, any number of requests in flight. ``await client.submit_X(...)`` writes the
request (waiting only for a free in-flight slot and for the transport's buffer to drain)
and returns an :class:`asyncio.Future` of the answer; ``await client.X(...)`` waits for the
answer itself. One reader task reads the answers, which the server sends in request order,
checks each against the oldest unanswered request and completes that request's future.

Writing a frame is a synchronous ``transport.write``, so the frames of concurrent tasks
never interleave, and the queue of unanswered requests is in the order of the wire.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Any, Callable

from . import codec, layout
from ._pending import Pending
from ._ops import DEFAULT, AsyncOperations, Call
from .client import DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_RESPONSE_BYTES
from .codec import Buffer, Response
from .errors import ClientClosed, ConnectionClosed, ProtocolError, RequestTimeout


def _settle(future: asyncio.Future, value: Any = None, error: BaseException | None = None) -> None:
    """Completes ``future`` unless it is done already (timed out, or cancelled by its awaiter)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class AsyncClient(AsyncOperations):
    """A pipelining framepipe client for asyncio. Create it with :meth:`connect`.

    Parameters are those of :class:`framepipe.Client`. A request whose awaiting task is
    cancelled, or whose timeout passes, stays queued for its answer, which is then dropped:
    the connection stays in step. Results of SCALE on numpy input are read-only numpy arrays
    over the received ``bytes`` (asyncio streams hand out immutable bytes).
    """

    #: Stream buffer limit: the reader pauses the socket above twice this much unread data.
    STREAM_LIMIT = 1024 * 1024
    #: Frames up to this size are joined into one write.
    SMALL_FRAME = 64 * 1024

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, host: str, port: int,
                 max_in_flight: int | None, timeout: float | None, max_response_bytes: int) -> None:
        """Use :meth:`connect`."""
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1 (or None)")
        self.host = host
        self.port = port
        self._reader = reader
        self._writer = writer
        self._timeout = timeout
        self._max_length = max_response_bytes + layout.MIN_LENGTH
        self._slots = asyncio.Semaphore(max_in_flight) if max_in_flight is not None else None
        self._pending: deque[Pending] = deque()
        self._idle = asyncio.Event()
        self._idle.set()
        self._next_id = 1
        self._closed = False
        self._aborted = False
        self._half_closed = False
        self._ended: ConnectionClosed | None = None
        self._close_callbacks: list[Callable[[ConnectionClosed], None]] = []
        self._reader_task = asyncio.get_running_loop().create_task(self._read_loop(), name=f"framepipe-reader-{host}:{port}")

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
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> AsyncClient:
        """Connects (and completes the TLS handshake when ``ssl_context`` is given)."""
        async with asyncio.timeout(connect_timeout):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=ssl_context, limit=cls.STREAM_LIMIT,
                server_hostname=(server_hostname or host) if ssl_context is not None else None)
        return cls(reader, writer, host=host, port=port, max_in_flight=max_in_flight, timeout=timeout,
                   max_response_bytes=max_response_bytes)

    # ---- operations (the rest come from AsyncOperations) ----

    async def submit_frame(self, frame: Buffer, expected_id: int, *,
                           timeout: float | None = DEFAULT) -> asyncio.Future[Response]:
        """Sends bytes as they are and expects an answer with ``expected_id`` (tools and tests)."""
        return await self._submit(Call(None, None, [frame], codec.decode_response), timeout, raw_id=expected_id)

    # ---- state ----

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    @property
    def is_open(self) -> bool:
        return not self._closed

    def add_close_callback(self, callback: Callable[[ConnectionClosed], None]) -> None:
        """Calls ``callback(reason)`` once the connection has ended (at once if it has)."""
        if self._ended is not None:
            callback(self._ended)
        else:
            self._close_callbacks.append(callback)

    async def wait_closed(self) -> None:
        await asyncio.shield(self._reader_task)

    # ---- closing ----

    async def close(self, timeout: float | None = 10.0) -> None:
        """Stops sending, reads until the server's FIN (every request sent gets its answer),
        then releases the connection; aborts it if that takes longer than ``timeout``.

        A plain connection half-closes at once. asyncio cannot half-close TLS (it has no
        ``write_eof`` for it), so under TLS the client waits for every answer first and then
        sends close_notify and its FIN, which comes to the same on the wire.
        """
        self._closed = True
        try:
            async with asyncio.timeout(timeout):
                if not self._half_closed and self._ended is None:
                    self._half_closed = True
                    if self._writer.can_write_eof():
                        self._writer.write_eof()
                    else:
                        await self._idle.wait()
                        self._writer.close()
                await asyncio.shield(self._reader_task)
        except TimeoutError:
            self.abort()
            await asyncio.shield(self._reader_task)
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except (OSError, ssl.SSLError):
            pass

    def abort(self) -> None:
        """Ends the connection at once; unanswered requests fail with ConnectionClosed (not_run False)."""
        self._closed = True
        self._aborted = True
        self._writer.transport.abort()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- sending ----

    async def _submit(self, call: Call, timeout: Any, raw_id: int | None = None) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        if timeout is DEFAULT:
            timeout = self._timeout
        deadline = None if timeout is None else loop.time() + timeout
        size = codec.payload_length(call.parts)
        if size + layout.MIN_LENGTH > layout.MAX_LENGTH_FIELD:
            raise ValueError(f"payload of {size} bytes does not fit a frame (the length field is a u32)")
        on_answer = None
        if self._slots is not None:
            try:
                async with asyncio.timeout_at(deadline):
                    await self._slots.acquire()
            except TimeoutError:
                future = loop.create_future()
                future.set_exception(RequestTimeout(f"no free slot among the requests in flight within {timeout} s"))
                return future
            on_answer = self._slots.release
        future = self._enqueue(call, timeout, deadline, on_answer, raw_id)
        try:
            await self._writer.drain()
        except (OSError, ssl.SSLError):
            pass  # the connection is failing; the reader task fails the request with the reason
        return future

    def _enqueue(self, call: Call, timeout: float | None, deadline: float | None,
                 on_answer: Callable[[], None] | None = None, raw_id: int | None = None) -> asyncio.Future:
        """Queues and writes one request without awaiting anything, so the queue's order is the
        wire's order; flow control (``drain``) is the caller's business."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        if self._closed:
            if on_answer:
                on_answer()
            future.set_exception(ClientClosed("connection closed; the request was not sent"))
            return future
        kind, op, parts, decode = call
        size = codec.payload_length(parts)
        request_id = raw_id if raw_id is not None else self._next_id
        if raw_id is None:
            self._next_id += 1
        entry = Pending(request_id, kind, op, decode, future, on_answer)
        self._pending.append(entry)
        self._idle.clear()
        if raw_id is None:
            parts = [layout.encode_header(size, kind, op, request_id), *parts]  # type: ignore[arg-type]
        if size <= self.SMALL_FRAME:
            self._writer.write(b"".join(parts))
        else:
            for part in parts:
                self._writer.write(part)
        if deadline is not None:
            entry.deadline = deadline
            timer = loop.call_at(deadline, lambda: _settle(future, error=entry.timed_out(timeout)))
            future.add_done_callback(lambda _: timer.cancel())
        return future

    async def drain(self) -> None:
        """Waits until the transport's write buffer is below its high-water mark."""
        try:
            await self._writer.drain()
        except (OSError, ssl.SSLError):
            pass

    # ---- reading ----

    async def _read_loop(self) -> None:
        ending: ConnectionClosed
        try:
            await self._read_frames()
            ending = (ConnectionClosed("connection aborted by the client") if self._aborted
                      else ConnectionClosed("server closed the connection", not_run=True))
        except ProtocolError as e:
            ending = e
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as e:
            ending = ConnectionClosed("connection aborted by the client" if self._aborted
                                      else f"connection failed: {e!r}")
        except asyncio.CancelledError:  # the loop is shutting down with the client still open
            self._aborted = True
            self._finish(ConnectionClosed("client reader cancelled"))
            raise
        except Exception as e:  # a bug here must not leave callers waiting for ever
            ending = ProtocolError(f"client reader failed: {e!r}")
        self._finish(ending)

    async def _read_frames(self) -> None:
        reader = self._reader
        while True:
            try:
                header = await reader.readexactly(layout.HEADER_LENGTH)
            except asyncio.IncompleteReadError as e:
                if e.partial:
                    raise
                return  # the server's FIN between answers
            length, version, kind, op, rid = layout.HEADER.unpack(header)
            if length < layout.MIN_LENGTH or length > self._max_length:
                raise ProtocolError(f"answer with length field {length}")
            if version != layout.VERSION:
                raise ProtocolError(f"answer with version {version}")
            size = length - layout.MIN_LENGTH
            payload = await reader.readexactly(size) if size else b""
            self._dispatch(kind, op, rid, payload)

    def _dispatch(self, kind: int, op: int, rid: int, payload: bytes) -> None:
        if not self._pending:
            raise ProtocolError(f"answer with id {rid} to no request")
        entry = self._pending.popleft()
        if not self._pending:
            self._idle.set()
        if entry.on_answer:
            entry.on_answer()
        problem = entry.mismatch(kind, op, rid)
        if problem:
            _settle(entry.future, error=ProtocolError(problem))
            raise ProtocolError(problem)
        if entry.expired(asyncio.get_running_loop().time()):
            _settle(entry.future, error=entry.timed_out(None))
            return
        try:
            value = entry.decode(Response(kind, op, rid, payload))
        except Exception as e:
            _settle(entry.future, error=e)
        else:
            _settle(entry.future, value)

    def _finish(self, ending: ConnectionClosed) -> None:
        self._closed = True
        self._ended = ending
        failed = list(self._pending)
        self._pending.clear()
        self._idle.set()
        for entry in failed:
            if entry.on_answer:
                entry.on_answer()
            _settle(entry.future, error=type(ending)(f"no answer to id {entry.id}: {ending}", not_run=ending.not_run))
        if ending.not_run and not self._half_closed and not self._aborted:
            self._half_closed = True
            if self._writer.can_write_eof():
                try:
                    self._writer.write_eof()  # answer the server's FIN with ours
                except (OSError, RuntimeError):
                    pass
        if ending.not_run:
            self._writer.close()  # close_notify under TLS; nothing is left unread
        else:
            self._writer.transport.abort()
        callbacks, self._close_callbacks = self._close_callbacks, []
        for callback in callbacks:
            callback(ending)
