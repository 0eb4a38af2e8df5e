"""TLS and mutual TLS against servers started with test certificates (EC P-256, PKCS#8)."""

from __future__ import annotations

import asyncio
import ssl

import pytest

import framepipe


@pytest.fixture(scope="module")
def tls_server(certs):
    from conftest import Server
    s = Server("--tls-cert-chain", str(certs["server.pem"]), "--tls-key", str(certs["server.key"]))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def mtls_server(certs):
    from conftest import Server
    s = Server("--tls-cert-chain", str(certs["server.pem"]), "--tls-key", str(certs["server.key"]),
               "--tls-client-auth", "require", "--tls-ca", str(certs["ca.pem"]))
    yield s
    s.stop()


def test_tls_by_ip_and_by_name(tls_server, certs) -> None:
    context = framepipe.tls_context(ca=str(certs["ca.pem"]))
    for host in ("127.0.0.1", "localhost"):
        with framepipe.Client(host, tls_server.frame_port, ssl_context=context) as c:
            assert c.tls_version in ("TLSv1.3", "TLSv1.2")
            assert c.stats([1, 2, 3, 4]).mean == 2.5
            assert c.upper("Hi ß") == "HI SS"


def test_tls_pipelining_large_frames_and_close(tls_server, certs) -> None:
    np = pytest.importorskip("numpy")
    context = framepipe.tls_context(ca=str(certs["ca.pem"]))
    c = framepipe.Client("127.0.0.1", tls_server.frame_port, ssl_context=context)
    values = np.random.default_rng(2).uniform(-1, 1, 1 << 20).astype(np.float32)
    big = c.submit_scale(2.0, 1.0, values)
    pings = [c.submit_ping(i.to_bytes(3, "little")) for i in range(3000)]
    c.close()  # every request already sent is answered before the connection ends
    assert np.array_equal(big.result(0), values * np.float32(2) + np.float32(1))
    assert [f.result(0) for f in pings] == [i.to_bytes(3, "little") for i in range(3000)]


def test_tls_refuses_an_untrusted_server(tls_server, certs, tmp_path) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        framepipe.Client("127.0.0.1", tls_server.frame_port, ssl_context=framepipe.tls_context())  # system CAs
    context = framepipe.tls_context(ca=str(certs["ca.pem"]))
    with pytest.raises(ssl.SSLCertVerificationError):  # the name is not in the certificate
        framepipe.Client("127.0.0.1", tls_server.frame_port, ssl_context=context, server_hostname="example.org")


def test_asyncio_tls(tls_server, certs) -> None:
    context = framepipe.tls_context(ca=str(certs["ca.pem"]))

    async def main() -> None:
        c = await framepipe.AsyncClient.connect("127.0.0.1", tls_server.frame_port, ssl_context=context)
        futures = [await c.submit_upper(f"x{i}") for i in range(2000)]
        assert await c.count("a b\n") == framepipe.Counts(4, 4, 2, 1)
        await c.close()
        assert [f.result() for f in futures] == [f"X{i}" for i in range(2000)]
    asyncio.run(asyncio.wait_for(main(), 60))


def test_mutual_tls(mtls_server, certs) -> None:
    context = framepipe.tls_context(ca=str(certs["ca.pem"]), cert=str(certs["client.pem"]),
                                    key=str(certs["client.key"]))
    with framepipe.Client("127.0.0.1", mtls_server.frame_port, ssl_context=context) as c:
        assert c.lower("ÀB") == "àb" and c.ping(b"m") == b"m"

    async def main() -> None:
        async with await framepipe.AsyncClient.connect("localhost", mtls_server.frame_port, ssl_context=context) as ac:
            assert (await ac.stats([5.0])).sum == 5.0
    asyncio.run(asyncio.wait_for(main(), 60))


def test_mutual_tls_refuses_a_client_without_certificate(mtls_server, certs) -> None:
    context = framepipe.tls_context(ca=str(certs["ca.pem"]))
    # TLS 1.3 finishes the client's side of the handshake before the server checks the
    # certificate, so the refusal arrives as the first read fails.
    with pytest.raises((ssl.SSLError, framepipe.ConnectionClosed, ConnectionError)):
        with framepipe.Client("127.0.0.1", mtls_server.frame_port, ssl_context=context) as c:
            c.ping(b"x", timeout=10)


def test_tls_context_needs_cert_and_key_together(certs) -> None:
    with pytest.raises(ValueError):
        framepipe.tls_context(ca=str(certs["ca.pem"]), cert=str(certs["client.pem"]))


def _raw_tls_half_close(port: int, ca: str, requests: int) -> int:
    """Sends PINGs over raw TLS, then close_notify and FIN at once (a TLS half-close, RFC 8446
    6.1), and counts the answers read until the server's close. Library-free on purpose."""
    import socket
    context = ssl.create_default_context(cafile=ca)
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            sock.sendall(outgoing.read())
            incoming.write(sock.recv(65536))
    sock.sendall(outgoing.read())
    frames = b"".join(framepipe.layout.encode_header(1, 3, 0, i) + b"x" for i in range(1, requests + 1))
    tls.write(frames)
    try:
        tls.unwrap()
    except ssl.SSLWantReadError:
        pass
    sock.sendall(outgoing.read())  # the pings, then close_notify
    sock.shutdown(socket.SHUT_WR)
    received = b""
    while True:
        try:
            received += tls.read(65536)
            continue
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            break
        data = sock.recv(65536)
        if not data:
            incoming.write_eof()
        else:
            incoming.write(data)
    sock.close()
    return len(received) // (framepipe.layout.HEADER_LENGTH + 1)


@pytest.mark.xfail(reason="server bug: a client's close_notify drops the requests not yet answered "
                          "(plain TCP half-close answers them all); the client works around it", strict=False)
def test_server_answers_everything_sent_before_a_tls_half_close(tls_server, certs) -> None:
    assert _raw_tls_half_close(tls_server.frame_port, str(certs["ca.pem"]), 200) == 200
