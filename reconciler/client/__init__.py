"""Client of the SimpleHelp HTTP API: transport, models and one method per query."""

from reconciler.client.api import QUERIES, SimpleHelpClient
from reconciler.client.errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    RejectedError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)

__all__ = [
    "QUERIES",
    "ApiError",
    "AuthenticationError",
    "NotFoundError",
    "RejectedError",
    "ServerError",
    "SimpleHelpClient",
    "TransportError",
    "UnexpectedResponseError",
]
