"""The in-process example runs against a real database, as a batch job would."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from entrypoints.bootstrap import open_talia
from talia_core.feedback.model import ClaimKind
from tests.api import settings_for_tests

ROOT = Path(__file__).resolve().parents[2]


async def test_the_claims_report_example_lists_open_claims(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/talia.db"
    migrate = [sys.executable, "-m", "entrypoints", "migrate"]
    env = {"TALIA_DATABASE__URL": url, "PATH": "/usr/bin:/bin"}
    await asyncio.to_thread(
        subprocess.run, migrate, env=env, check=True, cwd=tmp_path, capture_output=True
    )
    async with open_talia(settings_for_tests(url)) as talia:
        await talia.feedback.file_claim(
            kind=ClaimKind.CLAIM,
            customer_name="Rosa",
            customer_email="rosa@example.com",
            customer_phone=None,
            customer_document=None,
            subject="Wrong date on the invitation",
            description="The date printed is wrong",
            request="Fix it",
        )

    script = ROOT / "examples" / "claims_report.py"
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "1 open claim(s)"
    assert "Rosa: Wrong date on the invitation" in result.stdout
