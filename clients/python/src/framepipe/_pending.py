"""What both clients keep for a request between writing it and reading its answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import layout
from .codec import Decoder
from .errors import RequestTimeout


@dataclass(slots=True)
class Pending:
    """A request written (or being written) on a connection and not yet answered.

    ``kind`` and ``op`` are what the answer must echo; None means "do not check" (raw frames
    sent by tools and tests, whose answer may carry anything the server chose).
    """

    id: int
    kind: int | None
    op: int | None
    decode: Decoder
    future: Any  # concurrent.futures.Future or asyncio.Future
    on_answer: Callable[[], None] | None = None  # gives back the in-flight slot
    #: When the request times out (the client's clock), or None. An answer read after it is
    #: dropped even if the timer has not fired yet, so a deadline means the same under load.
    deadline: float | None = None

    def expired(self, now: float) -> bool:
        return self.deadline is not None and now >= self.deadline

    def timed_out(self, timeout: float | None) -> RequestTimeout:
        """The error of this request's deadline (``timeout`` None: found passed when the answer came)."""
        within = f" within {timeout} s" if timeout is not None else " before its deadline"
        return RequestTimeout(f"no answer to id {self.id}{within}")

    def mismatch(self, kind: int, op: int, request_id: int) -> str | None:
        """Why an answer cannot belong to this request, or None when it does.

        Answers come in request order (PROTOCOL.md, "Transport"), so the answer read next
        must carry this request's id; anything else means the stream is out of step.
        """
        if request_id != self.id:
            return f"answer out of order: expected id {self.id}, got id {request_id}"
        if self.kind is not None and kind != layout.ERROR_KIND and kind != self.kind | layout.RESPONSE_BIT:
            return f"answer to id {self.id} has kind 0x{kind:02x}, expected 0x{self.kind | layout.RESPONSE_BIT:02x}"
        if self.op is not None and op != self.op:
            return f"answer to id {self.id} has op {op}, expected {self.op}"
        return None
