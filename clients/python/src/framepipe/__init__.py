"""framepipe: a Python client for the framepipe binary frame pipeline.

Quick start::

    import framepipe
    with framepipe.Client("127.0.0.1", 7070) as client:
        print(client.stats([1.0, 2.0, 3.0, 4.0]))      # Stats(count=4, sum=10.0, ...)
        print(client.upper("Hi ß"))                     # 'HI SS'
        futures = [client.submit_ping(b"x") for _ in range(1000)]   # pipelined
        answers = [f.result() for f in futures]

See README.md for the asyncio client, TLS, timeouts and the reconnecting clients.
"""

from .aio import AsyncClient
from .client import Client, tls_context
from .codec import Counts, Response, Stats
from .errors import (
    BadVersion,
    ClientClosed,
    ConnectionClosed,
    FrameTooLarge,
    FramepipeError,
    Internal,
    InvalidUtf8,
    Malformed,
    ProtocolError,
    RequestTimeout,
    ServerError,
    ShuttingDown,
    UnknownKind,
    UnknownOp,
)
from .layout import ErrorCode
from .reconnecting import AsyncReconnectingClient, ReconnectingClient

__version__ = "0.1.0"

__all__ = [
    "AsyncClient",
    "AsyncReconnectingClient",
    "BadVersion",
    "Client",
    "ClientClosed",
    "ConnectionClosed",
    "Counts",
    "ErrorCode",
    "FrameTooLarge",
    "FramepipeError",
    "Internal",
    "InvalidUtf8",
    "Malformed",
    "ProtocolError",
    "ReconnectingClient",
    "RequestTimeout",
    "Response",
    "ServerError",
    "ShuttingDown",
    "Stats",
    "UnknownKind",
    "UnknownOp",
    "__version__",
    "tls_context",
]
