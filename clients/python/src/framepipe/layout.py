"""The wire layout of a frame, described once (the Python twin of the server's FrameDescriptor).

Every other module takes offsets, sizes, kinds, ops and error codes from here, so a change
to the protocol is a change to this file alone. Requests and responses share one layout;
every integer and float is little-endian (PROTOCOL.md, "Frame layout")::

    offset size field
         0    4 length   u32: bytes after this field = 12 + payload length
         4    1 version  u8: always 1
         5    1 kind     u8
         6    2 op       u16, echoed in the response
         8    8 id       u64, chosen by the client, echoed in the response
        16    n payload  length - 12 bytes

Offsets are relative to the first byte of the frame (its length field).
"""

from __future__ import annotations

import enum
import struct

LENGTH_OFFSET = 0
VERSION_OFFSET = 4
KIND_OFFSET = 5
OP_OFFSET = 6
ID_OFFSET = 8
PAYLOAD_OFFSET = 16

#: Bytes of the header, the length field included.
HEADER_LENGTH = PAYLOAD_OFFSET
#: Size of the length field; the length counts the bytes after it.
LENGTH_FIELD_SIZE = 4
#: The smallest legal length: the rest of the header and no payload.
MIN_LENGTH = HEADER_LENGTH - LENGTH_FIELD_SIZE
#: The server's default max-frame-bytes (a value of the length field).
DEFAULT_MAX_LENGTH = 16 * 1024 * 1024
#: The largest value a u32 length field can hold.
MAX_LENGTH_FIELD = 0xFFFF_FFFF

VERSION = 1

#: The whole header in one struct: length, version, kind, op, id.
HEADER = struct.Struct("<IBBHQ")
assert HEADER.size == HEADER_LENGTH
#: Just the length field, read before the rest of a frame has arrived.
LENGTH = struct.Struct("<I")

# Kinds and ops of requests (PROTOCOL.md, "Requests").
KIND_FLOATS = 1
KIND_TEXT = 2
KIND_PING = 3
OP_STATS = 1
OP_SCALE = 2
OP_UPPER = 1
OP_LOWER = 2
OP_COUNT = 3
OP_PING = 0

#: A response's kind is the request's kind with this bit set.
RESPONSE_BIT = 0x80
#: Kind of every error response.
ERROR_KIND = 0xFF

# Error payload: u16 code, then a UTF-8 message.
ERROR_CODE_OFFSET = 0
ERROR_MESSAGE_OFFSET = 2
ERROR_CODE = struct.Struct("<H")

# STATS response payload: u64 count, then five f64.
STATS_COUNT_OFFSET = 0
STATS_SUM_OFFSET = 8
STATS_MIN_OFFSET = 16
STATS_MAX_OFFSET = 24
STATS_MEAN_OFFSET = 32
STATS_VARIANCE_OFFSET = 40
STATS_RESPONSE_LENGTH = 48
STATS_RESPONSE = struct.Struct("<Qddddd")
assert STATS_RESPONSE.size == STATS_RESPONSE_LENGTH

# SCALE request payload: f32 a, f32 b, then the values.
SCALE_A_OFFSET = 0
SCALE_B_OFFSET = 4
SCALE_VALUES_OFFSET = 8
SCALE_PREFIX = struct.Struct("<ff")
assert SCALE_PREFIX.size == SCALE_VALUES_OFFSET

# COUNT response payload: four u64.
COUNT_BYTES_OFFSET = 0
COUNT_CODE_POINTS_OFFSET = 8
COUNT_WORDS_OFFSET = 16
COUNT_LINES_OFFSET = 24
COUNT_RESPONSE_LENGTH = 32
COUNT_RESPONSE = struct.Struct("<QQQQ")
assert COUNT_RESPONSE.size == COUNT_RESPONSE_LENGTH

#: Size of one float32 value on the wire.
FLOAT_SIZE = 4


class ErrorCode(enum.IntEnum):
    """The u16 code of an error response (PROTOCOL.md, "Errors")."""

    BAD_VERSION = 1
    UNKNOWN_KIND = 2
    UNKNOWN_OP = 3
    MALFORMED = 4
    FRAME_TOO_LARGE = 5
    INVALID_UTF8 = 6
    SHUTTING_DOWN = 7
    INTERNAL = 8


def encode_header(payload_length: int, kind: int, op: int, request_id: int, version: int = VERSION) -> bytes:
    """The 16 header bytes of a frame carrying ``payload_length`` bytes of payload."""
    length = MIN_LENGTH + payload_length
    if length > MAX_LENGTH_FIELD:
        raise ValueError(f"payload of {payload_length} bytes does not fit a frame (length field is a u32)")
    return HEADER.pack(length, version, kind, op, request_id)
