"""numpy in and out without copies, and large frames (4 MiB and more)."""

from __future__ import annotations

import math

import pytest

import framepipe
from framepipe import codec, layout
from reference import check_stats, scale_reference

np = pytest.importorskip("numpy")


@pytest.fixture(scope="module")
def client(port: int):
    with framepipe.Client("127.0.0.1", port, timeout=60) as c:
        yield c


def test_request_payload_is_the_arrays_own_memory() -> None:
    values = np.arange(1000, dtype=np.float32)
    payload = codec.float_payload(values)
    assert payload.nbytes == values.nbytes
    assert np.shares_memory(np.frombuffer(payload, dtype=np.uint8), values)
    # Anything else is converted (copied) to contiguous little-endian float32, C order.
    for other in (values.astype(np.float64), values[::2], values.astype(">f4"), values.reshape(10, 100).T):
        converted = codec.float_payload(other)
        assert not np.shares_memory(np.frombuffer(converted, dtype=np.uint8), values)
        assert np.array_equal(np.frombuffer(converted, dtype="<f4"), np.ravel(other, order="C").astype(np.float32))


def test_scale_result_is_a_view_of_the_received_bytes(client: framepipe.Client) -> None:
    values = np.linspace(-1, 1, 100_000, dtype=np.float32)  # large: received straight into its own buffer
    result = client.scale(3.0, 0.5, values)
    assert isinstance(result, np.ndarray) and result.dtype == np.dtype("<f4") and result.shape == values.shape
    assert not result.flags.owndata and isinstance(result.base, memoryview)
    assert isinstance(result.base.obj, bytearray) and len(result.base.obj) == values.nbytes
    assert result.flags.writeable
    small = client.scale(3.0, 0.5, values[:10])  # small answers: copied out of the read buffer once, then viewed
    assert isinstance(small.base.obj, bytearray) and len(small.base.obj) == 40
    r = client.send(layout.KIND_FLOATS, layout.OP_SCALE, [codec.scale_prefix(3.0, 0.5), codec.float_payload(values)])
    view = codec.to_floats(r.payload, True)
    assert np.shares_memory(view, np.frombuffer(r.payload, dtype=np.uint8))
    assert np.array_equal(view, result)


def test_stats_of_1_mi_floats(client: framepipe.Client) -> None:
    rng = np.random.default_rng(11)
    values = (rng.standard_normal(1 << 20) * 50 + 1000).astype(np.float32)  # 4 MiB
    s = client.stats(values)
    listed = values.tolist()
    exact_sum = math.fsum(listed)  # correctly rounded: far inside the 1e-9 contract
    mean = exact_sum / len(listed)
    variance = math.fsum((x - mean) ** 2 for x in listed) / len(listed)
    assert s.count == 1 << 20
    assert abs(s.sum - exact_sum) <= 1e-9 * math.fsum(abs(x) for x in listed)
    assert (s.min, s.max) == (float(values.min()), float(values.max()))
    assert s.mean == s.sum / s.count
    assert abs(s.variance - variance) <= 1e-9 * variance + 1e-15 * mean * mean + 1e-12 * variance


def test_stats_of_numpy_matches_exact_reference(client: framepipe.Client) -> None:
    values = np.random.default_rng(3).uniform(-1e3, 1e3, 5000).astype(np.float32)
    check_stats(client.stats(values), values.tolist())
    check_stats(client.stats(values.reshape(50, 100)), values.tolist())  # any shape, flattened
    check_stats(client.stats(values.astype(np.float64)), values.tolist())  # converted to float32


def test_scale_of_several_mib(client: framepipe.Client) -> None:
    rng = np.random.default_rng(5)
    values = rng.uniform(-1e6, 1e6, 1_500_000).astype(np.float32)  # 6 MiB each way
    a, b = np.float32(1.0000001), np.float32(-12.375)
    result = client.scale(float(a), float(b), values)
    assert result.shape == values.shape
    # a*x is exact in float64, so only the addition rounds before narrowing; where that double
    # rounding could differ from fma's single rounding, check with exact arithmetic.
    approx = (values.astype(np.float64) * float(a) + float(b)).astype(np.float32)
    differ = np.flatnonzero(result != approx)
    assert len(differ) < 100
    for i in differ:
        assert result[i] == scale_reference(float(a), float(b), float(values[i]))


def test_largest_frame_the_server_takes(client: framepipe.Client) -> None:
    values = np.ones((layout.DEFAULT_MAX_LENGTH - layout.MIN_LENGTH) // 4, dtype=np.float32)  # 16 MiB frame
    s = client.stats(values)
    assert (s.count, s.sum, s.variance) == (len(values), float(len(values)), 0.0)
