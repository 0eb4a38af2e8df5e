"""Payloads of each operation: building requests, reading answers. No I/O here.

The sync and asyncio clients share this module, so an operation is encoded and decoded the
same way whichever client sends it. numpy is optional: it is only touched when the caller
passes a numpy array, and never imported by this package on its own.
"""

from __future__ import annotations

import array
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence, Union

from . import layout
from .errors import ProtocolError, server_error

#: Anything that exposes a contiguous buffer: bytes, bytearray, memoryview, array, numpy arrays.
Buffer = Union[bytes, bytearray, memoryview]
#: What a STATS or SCALE call accepts (see :func:`float_payload`).
FloatsLike = Union[Iterable[float], "array.array[float]", memoryview, Any]
#: A float32 result: a numpy array when the request was given one, else ``array('f')``.
Floats = Any

_LITTLE_ENDIAN = sys.byteorder == "little"


@dataclass(frozen=True, slots=True)
class Response:
    """One answer frame as received: header fields and the payload, not interpreted.

    ``payload`` is the very buffer the bytes were received into (a bytearray in the sync
    client, bytes in the asyncio one); decoded results such as numpy arrays are views of it.
    """

    kind: int
    op: int
    id: int
    payload: bytes | bytearray

    @property
    def is_error(self) -> bool:
        return self.kind == layout.ERROR_KIND


@dataclass(frozen=True, slots=True)
class Stats:
    """The STATS answer. count 0 gives sum 0 and NaN for the other four."""

    count: int
    sum: float
    min: float
    max: float
    mean: float
    variance: float  # population variance (divided by count)


@dataclass(frozen=True, slots=True)
class Counts:
    """The COUNT answer: UTF-8 bytes, code points, words (runs of non-ASCII-space bytes), lines (0x0A bytes)."""

    bytes: int
    code_points: int
    words: int
    lines: int


#: Turns a response into the value a request's future completes with (or raises).
Decoder = Callable[[Response], Any]


def _numpy_array_type() -> type | None:
    """numpy.ndarray if the caller's program has imported numpy, else None (never imports it)."""
    np = sys.modules.get("numpy")
    return getattr(np, "ndarray", None)


def is_numpy(values: object) -> bool:
    nd = _numpy_array_type()
    return nd is not None and isinstance(values, nd)


def float_payload(values: FloatsLike) -> memoryview:
    """The little-endian float32 bytes of ``values``, without copying where that is possible.

    * a numpy array of dtype float32 (native little-endian) in C order: a view of its memory,
      so the array must not change until the request has been sent; any other numpy array is
      converted (copied) to contiguous little-endian float32, flattened in C order;
    * ``array('f')`` or a memoryview of format 'f': a view of its memory;
    * any other iterable of numbers: packed into a new ``array('f')`` (rounded to float32).

    bytes and bytearray are refused: raw payloads go through ``send``.
    """
    if isinstance(values, (bytes, bytearray, str)):
        raise TypeError("STATS/SCALE take numbers (or a float32 array); send raw payload bytes with send()")
    if is_numpy(values):
        np = sys.modules["numpy"]
        arr = values
        if arr.dtype != np.dtype("<f4") or not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr, dtype="<f4")
        return memoryview(arr.reshape(-1)).cast("B")
    if isinstance(values, array.array) and values.typecode == "f" and _LITTLE_ENDIAN:
        return memoryview(values).cast("B")
    if isinstance(values, memoryview) and values.format == "f" and values.c_contiguous and _LITTLE_ENDIAN:
        return values.cast("B")
    packed = array.array("f", values)
    if not _LITTLE_ENDIAN:
        packed.byteswap()
    return memoryview(packed).cast("B")


def scale_prefix(a: float, b: float) -> bytes:
    """The 8 bytes before SCALE's values: f32 a, f32 b."""
    return layout.SCALE_PREFIX.pack(a, b)


def text_payload(text: str | Buffer) -> Buffer:
    """UTF-8 of ``text``; a bytes-like object is sent as it is (for raw or deliberately invalid input)."""
    if isinstance(text, str):
        return text.encode("utf-8")
    return text


def payload_length(parts: Sequence[Buffer]) -> int:
    return sum(memoryview(p).nbytes for p in parts)


# ---- answers ----

def check_answer(response: Response) -> Response:
    """Raises the typed ServerError for an error answer; returns other answers unchanged."""
    if response.kind != layout.ERROR_KIND:
        return response
    payload = response.payload
    if len(payload) < layout.ERROR_MESSAGE_OFFSET:
        raise ProtocolError(f"error answer to id {response.id} has {len(payload)} payload bytes, no code")
    (code,) = layout.ERROR_CODE.unpack_from(payload, layout.ERROR_CODE_OFFSET)
    message = bytes(payload[layout.ERROR_MESSAGE_OFFSET:]).decode("utf-8", errors="replace")
    raise server_error(code, message, response.op, response.id)


def decode_response(response: Response) -> Response:
    """For raw sends: the response itself, or the typed exception of an error answer."""
    return check_answer(response)


def decode_stats(response: Response) -> Stats:
    payload = check_answer(response).payload
    if len(payload) != layout.STATS_RESPONSE_LENGTH:
        raise ProtocolError(f"STATS answer has {len(payload)} bytes, expected {layout.STATS_RESPONSE_LENGTH}")
    return Stats(*layout.STATS_RESPONSE.unpack_from(payload, 0))


def decode_counts(response: Response) -> Counts:
    payload = check_answer(response).payload
    if len(payload) != layout.COUNT_RESPONSE_LENGTH:
        raise ProtocolError(f"COUNT answer has {len(payload)} bytes, expected {layout.COUNT_RESPONSE_LENGTH}")
    return Counts(*layout.COUNT_RESPONSE.unpack_from(payload, 0))


def floats_decoder(as_numpy: bool) -> Decoder:
    """Decoder of a SCALE answer: a numpy view of the payload, or a new ``array('f')``."""

    def decode(response: Response) -> Floats:
        payload = check_answer(response).payload
        if len(payload) % layout.FLOAT_SIZE:
            raise ProtocolError(f"SCALE answer has {len(payload)} bytes, not a whole number of floats")
        return to_floats(payload, as_numpy)

    return decode


def to_floats(payload: Buffer, as_numpy: bool) -> Floats:
    """Little-endian float32 bytes as numpy (``frombuffer``: no copy, shares the buffer) or ``array('f')``."""
    if as_numpy:
        np = sys.modules.get("numpy")
        if np is None:
            import numpy as np  # only reached when the caller asked for numpy
        return np.frombuffer(payload, dtype="<f4")
    out = array.array("f")
    out.frombytes(payload)
    if not _LITTLE_ENDIAN:
        out.byteswap()
    return out


def text_decoder(raw: bool) -> Decoder:
    """Decoder of UPPER/LOWER: str, or the answer's bytes when the request was given bytes."""

    def decode(response: Response) -> str | bytes:
        payload = check_answer(response).payload
        return bytes(payload) if raw else bytes(payload).decode("utf-8")

    return decode


def decode_ping(response: Response) -> bytes:
    return bytes(check_answer(response).payload)
