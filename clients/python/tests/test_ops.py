"""Every operation of the sync client against the real server, with exact expected values."""

from __future__ import annotations

import array
import math
import os
import random

import pytest

import framepipe
from framepipe import layout
from reference import check_stats, count_reference, f32, scale_reference


@pytest.fixture(scope="module")
def client(port: int):
    with framepipe.Client("127.0.0.1", port, timeout=30) as c:
        yield c


def test_stats_of_the_documented_example(client: framepipe.Client) -> None:
    assert client.stats([1.0, 2.0, 3.0, 4.0]) == framepipe.Stats(4, 10.0, 1.0, 4.0, 2.5, 1.25)


@pytest.mark.parametrize("seed, n, centre, spread", [
    (1, 1, 0.0, 1.0), (2, 7, -3.5, 100.0), (3, 10_000, 0.0, 1e3), (4, 5_000, 1e6, 1.0),  # large mean, small spread
    (5, 3_000, -2e4, 1e-2), (6, 30_000, 10.0, 1e5),
])
def test_stats_meets_the_accuracy_contract(client: framepipe.Client, seed: int, n: int, centre: float,
                                           spread: float) -> None:
    rng = random.Random(seed)
    values = [f32(centre + rng.uniform(-spread, spread)) for _ in range(n)]
    check_stats(client.stats(values), values)


def test_stats_of_nothing(client: framepipe.Client) -> None:
    s = client.stats([])
    assert (s.count, s.sum) == (0, 0.0)
    assert all(math.isnan(v) for v in (s.min, s.max, s.mean, s.variance))


def test_stats_with_nan_and_infinities(client: framepipe.Client) -> None:
    s = client.stats([1.0, math.nan, 2.0])
    assert s.count == 3 and all(math.isnan(v) for v in (s.sum, s.min, s.max, s.mean, s.variance))
    s = client.stats([1.0, math.inf, 2.0])
    assert (s.count, s.sum, s.min, s.max, s.mean) == (3, math.inf, 1.0, math.inf, math.inf)
    assert math.isnan(s.variance)
    s = client.stats([math.inf, -math.inf])
    assert math.isnan(s.sum) and math.isnan(s.mean) and math.isnan(s.variance)
    assert (s.min, s.max) == (-math.inf, math.inf)


def test_scale_of_the_documented_example(client: framepipe.Client) -> None:
    assert client.scale(2.0, 1.0, [1.0, 2.0]) == array.array("f", [3.0, 5.0])
    assert client.scale(2.0, 1.0, []) == array.array("f")


def test_scale_rounds_once(client: framepipe.Client) -> None:
    rng = random.Random(7)
    for a, b in [(1.1, -0.3), (-3.0e-3, 7.25), (0.1, 0.2), (1e20, -1e19), (3.0, 1e-30)]:
        xs = [f32(rng.uniform(-1e4, 1e4)) for _ in range(2000)] + [0.0, -0.0, 1e-40, 3.4e38]
        ys = client.scale(a, b, xs)
        assert isinstance(ys, array.array) and ys.typecode == "f"
        expected = [scale_reference(a, b, x) for x in xs]
        bad = [(x, y, e) for x, y, e in zip(xs, ys, expected) if not (y == e or (math.isnan(y) and math.isnan(e)))]
        assert not bad, f"a={a} b={b}: {bad[:5]}"


def test_scale_with_nan_and_infinities(client: framepipe.Client) -> None:
    ys = client.scale(2.0, 1.0, [math.nan, math.inf, -math.inf])
    assert math.isnan(ys[0]) and ys[1] == math.inf and ys[2] == -math.inf
    ys = client.scale(math.inf, 0.0, [0.0, 1.0])  # inf * 0 is NaN
    assert math.isnan(ys[0]) and ys[1] == math.inf


# Texts where Python's str.upper()/lower() agree with Java's Locale.ROOT mappings.
UPPER_TEXTS = ["hello, world", "Hi ß", "straße", "ﬁne ﬂow", "ǆ ǉ ǌ", "ÿ é ñ ø å", "ΐ", "ŉ", "ʼn", "άλφα",
               "привет мир", "ա", "\u0390", "", "x" * 70_000]
LOWER_TEXTS = ["HELLO, World", "ÀB", "ΟΔΟΣ ΟΔΟΣ.", "ΣΑΣ", "ΑΣ ΒΣ", "ÉÈÊ", "ПРИВЕТ", "Ǆ ǅ", ""]


@pytest.mark.parametrize("text", UPPER_TEXTS, ids=range(len(UPPER_TEXTS)))
def test_upper(client: framepipe.Client, text: str) -> None:
    assert client.upper(text) == text.upper()


@pytest.mark.parametrize("text", LOWER_TEXTS, ids=range(len(LOWER_TEXTS)))
def test_lower(client: framepipe.Client, text: str) -> None:
    assert client.lower(text) == text.lower()


def test_documented_text_examples(client: framepipe.Client) -> None:
    assert client.upper("Hi ß") == "HI SS"
    assert client.lower("ÀB") == "àb"
    assert client.lower("ΟΔΟΣ") == "οδος"  # final sigma
    assert client.upper(b"abc") == b"ABC"  # bytes in, bytes out


@pytest.mark.parametrize("text", ["a b\n", "", "   ", "\n\n\n", "héllo wörld\n\tx\r\ny", "日本語 テキスト\x0bz\x0c",
                                  "emoji 🎉🎉 x\n", "a\u00a0b"])  # NBSP is not ASCII white space
def test_count(client: framepipe.Client, text: str) -> None:
    assert tuple(vars_of(client.count(text))) == count_reference(text)


def vars_of(c: framepipe.Counts) -> tuple[int, int, int, int]:
    return c.bytes, c.code_points, c.words, c.lines


def test_ping(client: framepipe.Client) -> None:
    payload = os.urandom(10_000)
    assert client.ping(payload) == payload
    assert client.ping(b"") == b""
    assert client.ping(b"ok") == b"ok"


def test_raw_send(client: framepipe.Client) -> None:
    r = client.send(layout.KIND_PING, layout.OP_PING, b"raw")
    assert (r.kind, r.op, r.payload) == (layout.KIND_PING | layout.RESPONSE_BIT, 0, b"raw")
    r = client.send(layout.KIND_FLOATS, layout.OP_SCALE, [layout.SCALE_PREFIX.pack(2, 1), array.array("f", [1])])
    assert bytes(r.payload) == array.array("f", [3.0]).tobytes()
