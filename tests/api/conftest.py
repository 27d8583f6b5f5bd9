"""One ``kiln serve`` per test module (tests keep apart by using projects of their own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import Api, Server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(home=tmp_path_factory.mktemp("kiln-serve"))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def api(server: Server) -> Api:
    return server.client()


@pytest.fixture
def server_api_pair(server: Server) -> tuple[Api, Api]:
    """Two clients of two different projects."""
    return server.client(), server.client()
