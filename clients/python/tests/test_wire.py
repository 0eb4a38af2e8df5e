"""The layout and codec against the hex exchanges in docs/protocol.md, byte for byte (no server)."""

from __future__ import annotations

import array
import math

import pytest

from framepipe import codec, errors, layout
from framepipe.codec import Response


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(" ".join(text.split()))


def frame(kind: int, op: int, rid: int, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return layout.encode_header(len(payload), kind, op, rid) + payload


def response(raw: bytes) -> Response:
    length, version, kind, op, rid = layout.HEADER.unpack_from(raw, 0)
    assert length == len(raw) - layout.LENGTH_FIELD_SIZE and version == layout.VERSION
    return Response(kind, op, rid, raw[layout.PAYLOAD_OFFSET:])


def test_header_layout_is_16_bytes_little_endian() -> None:
    raw = layout.encode_header(4, 2, 0x0102, 0x0807060504030201)
    assert raw == bytes([16, 0, 0, 0, 1, 2, 0x02, 0x01, 1, 2, 3, 4, 5, 6, 7, 8])
    assert layout.HEADER_LENGTH == layout.PAYLOAD_OFFSET == 16
    assert (layout.VERSION_OFFSET, layout.KIND_OFFSET, layout.OP_OFFSET, layout.ID_OFFSET) == (4, 5, 6, 8)


def test_stats_exchange() -> None:
    req = frame(layout.KIND_FLOATS, layout.OP_STATS, 1, codec.float_payload([1.0, 2.0, 3.0, 4.0]))
    assert req == hexbytes("1c 00 00 00 01 01 01 00 01 00 00 00 00 00 00 00"
                           "00 00 80 3f 00 00 00 40 00 00 40 40 00 00 80 40")
    res = response(hexbytes("3c 00 00 00 01 81 01 00 01 00 00 00 00 00 00 00"
                            "04 00 00 00 00 00 00 00 00 00 00 00 00 00 24 40"
                            "00 00 00 00 00 00 f0 3f 00 00 00 00 00 00 10 40"
                            "00 00 00 00 00 00 04 40 00 00 00 00 00 00 f4 3f"))
    assert codec.decode_stats(res) == codec.Stats(4, 10.0, 1.0, 4.0, 2.5, 1.25)


def test_scale_exchange() -> None:
    req = frame(layout.KIND_FLOATS, layout.OP_SCALE, 2, codec.scale_prefix(2.0, 1.0), codec.float_payload([1.0, 2.0]))
    assert req == hexbytes("1c 00 00 00 01 01 02 00 02 00 00 00 00 00 00 00"
                           "00 00 00 40 00 00 80 3f 00 00 80 3f 00 00 00 40")
    res = response(hexbytes("14 00 00 00 01 81 02 00 02 00 00 00 00 00 00 00 00 00 40 40 00 00 a0 40"))
    assert codec.floats_decoder(False)(res) == array.array("f", [3.0, 5.0])


def test_text_exchanges() -> None:
    assert frame(layout.KIND_TEXT, layout.OP_UPPER, 3, codec.text_payload("Hi ß")) == hexbytes(
        "11 00 00 00 01 02 01 00 03 00 00 00 00 00 00 00 48 69 20 c3 9f")
    res = response(hexbytes("11 00 00 00 01 82 01 00 03 00 00 00 00 00 00 00 48 49 20 53 53"))
    assert codec.text_decoder(False)(res) == "HI SS"
    assert frame(layout.KIND_TEXT, layout.OP_COUNT, 5, codec.text_payload("a b\n")) == hexbytes(
        "10 00 00 00 01 02 03 00 05 00 00 00 00 00 00 00 61 20 62 0a")
    res = response(hexbytes("2c 00 00 00 01 82 03 00 05 00 00 00 00 00 00 00"
                            "04 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00"
                            "02 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00"))
    assert codec.decode_counts(res) == codec.Counts(4, 4, 2, 1)


def test_ping_exchange() -> None:
    assert frame(layout.KIND_PING, layout.OP_PING, 6, b"ok") == hexbytes(
        "0e 00 00 00 01 03 00 00 06 00 00 00 00 00 00 00 6f 6b")


def test_error_answer_becomes_its_typed_exception() -> None:
    raw = hexbytes("23 00 00 00 01 ff 01 00 07 00 00 00 00 00 00 00 02 00") + b"kind 9 is not defined"
    with pytest.raises(errors.UnknownKind) as info:
        codec.decode_response(response(raw))
    e = info.value
    assert (e.code, e.message, e.op, e.id) == (2, "kind 9 is not defined", 1, 7)
    assert isinstance(e, errors.ServerError) and isinstance(e, errors.FramepipeError)


@pytest.mark.parametrize("code, cls", [
    (1, errors.BadVersion), (2, errors.UnknownKind), (3, errors.UnknownOp), (4, errors.Malformed),
    (5, errors.FrameTooLarge), (6, errors.InvalidUtf8), (7, errors.ShuttingDown), (8, errors.Internal),
])
def test_every_code_has_its_class(code: int, cls: type) -> None:
    res = Response(layout.ERROR_KIND, 3, 42, layout.ERROR_CODE.pack(code) + "é".encode())
    with pytest.raises(cls) as info:
        codec.check_answer(res)
    assert info.value.code == code == cls.CODE and info.value.message == "é"
    assert (info.value.op, info.value.id) == (3, 42)


def test_unknown_code_is_a_plain_server_error_and_short_error_a_protocol_error() -> None:
    with pytest.raises(errors.ServerError) as info:
        codec.check_answer(Response(layout.ERROR_KIND, 0, 1, layout.ERROR_CODE.pack(99)))
    assert type(info.value) is errors.ServerError and info.value.code == 99
    with pytest.raises(errors.ProtocolError):
        codec.check_answer(Response(layout.ERROR_KIND, 0, 1, b"\x01"))


def test_float_payload_rounds_to_float32_and_refuses_bytes() -> None:
    assert bytes(codec.float_payload([0.1])) == array.array("f", [0.1]).tobytes()
    assert bytes(codec.float_payload(iter([1, 2]))) == array.array("f", [1, 2]).tobytes()
    assert math.isinf(codec.to_floats(codec.float_payload([1e39]), False)[0])
    with pytest.raises(TypeError):
        codec.float_payload(b"\x00\x00\x80\x3f")


def test_stats_answer_of_wrong_size_is_a_protocol_error() -> None:
    with pytest.raises(errors.ProtocolError):
        codec.decode_stats(Response(0x81, 1, 1, bytes(40)))


def test_exceptions_pickle() -> None:
    import pickle
    e = pickle.loads(pickle.dumps(errors.server_error(7, "draining", 1, 9)))
    assert isinstance(e, errors.ShuttingDown) and (e.code, e.message, e.op, e.id) == (7, "draining", 1, 9)
    c = pickle.loads(pickle.dumps(errors.ConnectionClosed("gone", not_run=True)))
    assert c.not_run and str(c) == "gone"
