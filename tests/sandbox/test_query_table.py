"""One query table: the sandbox serves exactly the queries the client knows."""

from __future__ import annotations

from reconciler.client import QUERIES
from reconciler.sandbox.routes import build_routes


def test_sandbox_and_client_name_the_same_38_queries_with_the_same_write_flag() -> None:
    served = {query: route.write for query, route in build_routes().items()}
    assert len(served) == 38
    assert served == dict(QUERIES)
