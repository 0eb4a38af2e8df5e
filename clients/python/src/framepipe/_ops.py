"""The operations, written once for every client.

A client only provides ``_submit(call, timeout)``, which sends one request and returns a
future of its decoded answer; these mixins turn each operation into a :class:`Call` (what
to send, and how to read the answer) and offer it in the two forms every client has:
``submit_X`` (a future, for pipelining) and ``X`` (the answer itself).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Any, NamedTuple, Sequence

from . import codec, layout
from .codec import Buffer, Counts, Decoder, Floats, FloatsLike, Response, Stats


class _Unset:
    """Marks "use the client's default timeout", as distinct from None ("no timeout")."""

    def __repr__(self) -> str:
        return "<client default>"


#: The default of every ``timeout`` parameter: the timeout the client was created with.
DEFAULT: Any = _Unset()


class Call(NamedTuple):
    """One request before it has an id: header fields, payload buffers, answer decoder.
    (kind and op are None only for raw frames, whose answer is not checked against them.)"""

    kind: int | None
    op: int | None
    parts: list[Buffer]
    decode: Decoder


def parts_of(payload: Buffer | Sequence[Buffer]) -> list[Buffer]:
    """A raw payload as buffers to send one after another (none is copied)."""
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return [payload]
    if isinstance(payload, (list, tuple)):
        return list(payload)
    return [memoryview(payload).cast("B")]  # array.array, numpy arrays, other buffers


def raw_call(kind: int, op: int, payload: Buffer | Sequence[Buffer]) -> Call:
    return Call(kind, op, parts_of(payload), codec.decode_response)


def stats_call(values: FloatsLike) -> Call:
    return Call(layout.KIND_FLOATS, layout.OP_STATS, [codec.float_payload(values)], codec.decode_stats)


def scale_call(a: float, b: float, values: FloatsLike) -> Call:
    return Call(layout.KIND_FLOATS, layout.OP_SCALE, [codec.scale_prefix(a, b), codec.float_payload(values)],
                codec.floats_decoder(codec.is_numpy(values)))


def text_call(op: int, text: str | Buffer) -> Call:
    decode = codec.decode_counts if op == layout.OP_COUNT else codec.text_decoder(not isinstance(text, str))
    return Call(layout.KIND_TEXT, op, [codec.text_payload(text)], decode)


def ping_call(payload: Buffer) -> Call:
    return Call(layout.KIND_PING, layout.OP_PING, [payload], codec.decode_ping)


class SyncOperations:
    """Operations of the blocking clients. ``timeout`` is in seconds (None: wait for ever)."""

    def _submit(self, call: Call, timeout: Any) -> Future:
        raise NotImplementedError

    def submit(self, kind: int, op: int, payload: Buffer | Sequence[Buffer] = b"", *,
               timeout: float | None = DEFAULT) -> Future[Response]:
        """Sends a raw request. The future gives the :class:`Response` (payload uninterpreted)
        or raises the typed exception of an error answer. ``payload`` (one buffer or a sequence
        sent one after another) is not copied and must not change until answered."""
        return self._submit(raw_call(kind, op, payload), timeout)

    def send(self, kind: int, op: int, payload: Buffer | Sequence[Buffer] = b"", *,
             timeout: float | None = DEFAULT) -> Response:
        return self.submit(kind, op, payload, timeout=timeout).result()

    def submit_stats(self, values: FloatsLike, *, timeout: float | None = DEFAULT) -> Future[Stats]:
        """STATS of float32 ``values`` (a numpy float32 array is sent from its own memory)."""
        return self._submit(stats_call(values), timeout)

    def stats(self, values: FloatsLike, *, timeout: float | None = DEFAULT) -> Stats:
        return self.submit_stats(values, timeout=timeout).result()

    def submit_scale(self, a: float, b: float, values: FloatsLike, *,
                     timeout: float | None = DEFAULT) -> Future[Floats]:
        """SCALE: ``fma(a, x, b)`` for each value, rounded once to float32. The result is a numpy
        float32 array over the received bytes when ``values`` is a numpy array, else ``array('f')``."""
        return self._submit(scale_call(a, b, values), timeout)

    def scale(self, a: float, b: float, values: FloatsLike, *, timeout: float | None = DEFAULT) -> Floats:
        return self.submit_scale(a, b, values, timeout=timeout).result()

    def submit_upper(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Future[Any]:
        """UPPER as Java's ``toUpperCase(Locale.ROOT)``; str in, str out (bytes in, bytes out)."""
        return self._submit(text_call(layout.OP_UPPER, text), timeout)

    def upper(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Any:
        return self.submit_upper(text, timeout=timeout).result()

    def submit_lower(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Future[Any]:
        """LOWER as Java's ``toLowerCase(Locale.ROOT)``; str in, str out (bytes in, bytes out)."""
        return self._submit(text_call(layout.OP_LOWER, text), timeout)

    def lower(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Any:
        return self.submit_lower(text, timeout=timeout).result()

    def submit_count(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Future[Counts]:
        """COUNT: UTF-8 bytes, code points, words, lines."""
        return self._submit(text_call(layout.OP_COUNT, text), timeout)

    def count(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Counts:
        return self.submit_count(text, timeout=timeout).result()

    def submit_ping(self, payload: Buffer = b"", *, timeout: float | None = DEFAULT) -> Future[bytes]:
        """PING: the server sends the payload back."""
        return self._submit(ping_call(payload), timeout)

    def ping(self, payload: Buffer = b"", *, timeout: float | None = DEFAULT) -> bytes:
        return self.submit_ping(payload, timeout=timeout).result()


class AsyncOperations:
    """Operations of the asyncio clients: ``await submit_X(...)`` returns once the request is
    written (after waiting for a free slot), giving an :class:`asyncio.Future` of the answer;
    ``await X(...)`` gives the answer."""

    async def _submit(self, call: Call, timeout: Any) -> asyncio.Future:
        raise NotImplementedError

    async def submit(self, kind: int, op: int, payload: Buffer | Sequence[Buffer] = b"", *,
                     timeout: float | None = DEFAULT) -> asyncio.Future[Response]:
        """Sends a raw request; the future gives the Response or raises the typed error."""
        return await self._submit(raw_call(kind, op, payload), timeout)

    async def send(self, kind: int, op: int, payload: Buffer | Sequence[Buffer] = b"", *,
                   timeout: float | None = DEFAULT) -> Response:
        return await (await self.submit(kind, op, payload, timeout=timeout))

    async def submit_stats(self, values: FloatsLike, *, timeout: float | None = DEFAULT) -> asyncio.Future[Stats]:
        return await self._submit(stats_call(values), timeout)

    async def stats(self, values: FloatsLike, *, timeout: float | None = DEFAULT) -> Stats:
        return await (await self.submit_stats(values, timeout=timeout))

    async def submit_scale(self, a: float, b: float, values: FloatsLike, *,
                           timeout: float | None = DEFAULT) -> asyncio.Future[Floats]:
        return await self._submit(scale_call(a, b, values), timeout)

    async def scale(self, a: float, b: float, values: FloatsLike, *, timeout: float | None = DEFAULT) -> Floats:
        return await (await self.submit_scale(a, b, values, timeout=timeout))

    async def submit_upper(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> asyncio.Future[Any]:
        return await self._submit(text_call(layout.OP_UPPER, text), timeout)

    async def upper(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Any:
        return await (await self.submit_upper(text, timeout=timeout))

    async def submit_lower(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> asyncio.Future[Any]:
        return await self._submit(text_call(layout.OP_LOWER, text), timeout)

    async def lower(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Any:
        return await (await self.submit_lower(text, timeout=timeout))

    async def submit_count(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> asyncio.Future[Counts]:
        return await self._submit(text_call(layout.OP_COUNT, text), timeout)

    async def count(self, text: str | Buffer, *, timeout: float | None = DEFAULT) -> Counts:
        return await (await self.submit_count(text, timeout=timeout))

    async def submit_ping(self, payload: Buffer = b"", *, timeout: float | None = DEFAULT) -> asyncio.Future[bytes]:
        return await self._submit(ping_call(payload), timeout)

    async def ping(self, payload: Buffer = b"", *, timeout: float | None = DEFAULT) -> bytes:
        return await (await self.submit_ping(payload, timeout=timeout))
