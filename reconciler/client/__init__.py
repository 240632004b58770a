"""Client of the SimpleHelp HTTP API: transport, models and one method per query."""

from reconciler.client.api import SimpleHelpClient
from reconciler.client.errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    RejectedError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from reconciler.client.queries import QUERIES

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
