"""Exceptions: one class per protocol error code, and the ways a connection can fail.

A request's future fails with one of these. :class:`ServerError` and its subclasses are
*answers*: the server read the request and declined it with an error frame, and the
connection stays in step. :class:`ConnectionClosed` means no answer came at all; its
``not_run`` flag tells whether the protocol guarantees the server did not run the request
(which is what makes resending it safe).
"""

from __future__ import annotations

from .layout import ErrorCode


class FramepipeError(Exception):
    """Base of every exception this package raises for a request or a connection."""


class ServerError(FramepipeError):
    """The server answered the request with an error frame (kind 0xFF).

    The subclass tells which code; an unknown code (a newer server) is a plain ServerError.
    """

    #: The wire code this class stands for (``None`` on the base class).
    CODE: ErrorCode | None = None

    def __init__(self, code: int, message: str, op: int, request_id: int) -> None:
        super().__init__(f"{_code_name(code)} (op {op}, id {request_id}): {message}")
        self.code = code
        self.message = message
        self.op = op
        self.id = request_id

    def __reduce__(self):  # keeps the exception picklable despite the custom __init__
        return (type(self), (self.code, self.message, self.op, self.id))


class BadVersion(ServerError):
    """The frame's version was not 1; the server closes the connection after this answer."""

    CODE = ErrorCode.BAD_VERSION


class UnknownKind(ServerError):
    """The frame's kind is not defined."""

    CODE = ErrorCode.UNKNOWN_KIND


class UnknownOp(ServerError):
    """The op is not defined for the frame's kind."""

    CODE = ErrorCode.UNKNOWN_OP


class Malformed(ServerError):
    """The payload has the wrong size for the op (or the length field was below 12)."""

    CODE = ErrorCode.MALFORMED


class FrameTooLarge(ServerError):
    """The length field exceeded the server's max-frame-bytes; the server closes the connection."""

    CODE = ErrorCode.FRAME_TOO_LARGE


class InvalidUtf8(ServerError):
    """A TEXT payload was not well-formed UTF-8."""

    CODE = ErrorCode.INVALID_UTF8


class ShuttingDown(ServerError):
    """The server is draining (or retiring the connection) and did not run this request.

    It did not run any request sent after this one on the same connection either, and it
    closes the connection after this answer: the request is safe to send again elsewhere.
    """

    CODE = ErrorCode.SHUTTING_DOWN


class Internal(ServerError):
    """A bug in the server; never expected."""

    CODE = ErrorCode.INTERNAL


_BY_CODE: dict[int, type[ServerError]] = {
    cls.CODE: cls
    for cls in (BadVersion, UnknownKind, UnknownOp, Malformed, FrameTooLarge, InvalidUtf8, ShuttingDown, Internal)
    if cls.CODE is not None
}


def _code_name(code: int) -> str:
    try:
        return ErrorCode(code).name
    except ValueError:
        return f"error code {code}"


def server_error(code: int, message: str, op: int, request_id: int) -> ServerError:
    """The exception for an error answer: the subclass for ``code``, or ServerError for an unknown code."""
    return _BY_CODE.get(code, ServerError)(code, message, op, request_id)


class ConnectionClosed(FramepipeError):
    """The connection ended before the request's answer arrived.

    ``not_run`` is True when the protocol guarantees that the server did not run the request:
    the request was never completely written, or the server ended the connection cleanly
    (its FIN after answering everything it ran, PROTOCOL.md "Errors" and "Graceful stop").
    After a reset, a malformed answer or a client-side abort it is False: the request may or
    may not have run, so only the caller can decide whether sending it again is safe.
    """

    def __init__(self, message: str, *, not_run: bool = False) -> None:
        super().__init__(message)
        self.not_run = not_run

    def __reduce__(self):
        return (_make_connection_closed, (type(self), str(self), self.not_run))


def _make_connection_closed(cls: type[ConnectionClosed], message: str, not_run: bool) -> ConnectionClosed:
    return cls(message, not_run=not_run)


class ProtocolError(ConnectionClosed):
    """The server sent something the protocol does not allow (wrong id, bad length, ...).

    The client cannot trust anything after it, so the connection is aborted and every request
    still waiting fails with this error.
    """


class ClientClosed(ConnectionClosed):
    """The client was closed before the request could be sent; the server never saw it."""

    def __init__(self, message: str = "client closed") -> None:
        super().__init__(message, not_run=True)

    def __reduce__(self):
        return (type(self), (str(self),))


class RequestTimeout(FramepipeError, TimeoutError):
    """The request's own deadline passed before its answer arrived.

    The connection is unaffected: the request may still be answered by the server (and may
    have run); that late answer is matched to it and dropped.
    """
