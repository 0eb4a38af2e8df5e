"""Independent references for the server's answers: exact rational arithmetic, no numpy."""

from __future__ import annotations

import math
import re
import struct
from fractions import Fraction
from typing import Sequence


def f32(x: float) -> float:
    """x rounded to the nearest float32 (the round trip struct does)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def _from_bits(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def _next_f32(x: float, up: bool) -> float:
    if x == 0.0:
        return _from_bits(1) if up else -_from_bits(1)
    bits = f32_bits(x)
    return _from_bits(bits + 1 if (x > 0) == up else bits - 1)


def round_f32(exact: Fraction) -> float:
    """The float32 nearest to an exact rational, ties to even: one rounding, as fma gives."""
    guess = f32(float(exact)) if abs(exact) < Fraction(2) ** 128 else math.copysign(math.inf, exact)
    if math.isinf(guess):
        return guess  # beyond the float32 range either way
    best = None
    for c in (_next_f32(guess, False), guess, _next_f32(guess, True)):
        if math.isinf(c):
            continue
        d = abs(Fraction(c) - exact)
        if best is None or d < best[0] or (d == best[0] and f32_bits(c) % 2 == 0 and f32_bits(best[1]) % 2):
            best = (d, c)
    assert best is not None
    return best[1]


def scale_reference(a: float, b: float, x: float) -> float:
    """fma(a, x, b) rounded once to float32, with IEEE rules for NaN and infinities."""
    a, b, x = f32(a), f32(b), f32(x)
    if any(math.isnan(v) or math.isinf(v) for v in (a, b, x)):
        return f32(a * x + b)  # no finite rounding question: IEEE in double, then narrowed
    return round_f32(Fraction(a) * Fraction(x) + Fraction(b))


def stats_reference(values: Sequence[float]) -> tuple[int, Fraction, float, float, Fraction]:
    """count, exact sum, min, max, exact population variance of finite float32 values."""
    xs = [Fraction(f32(v)) for v in values]
    n = len(xs)
    total = sum(xs, Fraction(0))
    mean = total / n
    variance = sum(((x - mean) ** 2 for x in xs), Fraction(0)) / n
    return n, total, float(min(xs)), float(max(xs)), variance


def check_stats(stats, values: Sequence[float]) -> None:
    """Asserts PROTOCOL.md's accuracy contract for finite inputs."""
    n, total, lo, hi, variance = stats_reference(values)
    abs_sum = math.fsum(abs(f32(v)) for v in values)
    assert stats.count == n
    assert abs(Fraction(stats.sum) - total) <= Fraction(1e-9) * Fraction(abs_sum)
    assert stats.min == lo and stats.max == hi
    assert stats.mean == stats.sum / n
    mean = float(total / n)
    assert abs(Fraction(stats.variance) - variance) <= Fraction(1e-9) * variance + Fraction(1e-15) * Fraction(mean) ** 2


ASCII_SPACE = re.compile(rb"[ \t\n\x0b\x0c\r]+")


def count_reference(text: str) -> tuple[int, int, int, int]:
    raw = text.encode("utf-8")
    words = [w for w in ASCII_SPACE.split(raw) if w]
    return len(raw), len(text), len(words), raw.count(b"\n")
