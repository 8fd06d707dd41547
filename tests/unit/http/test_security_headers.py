"""Every answer tells the browser what it may do with it."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx

from entrypoints.http.app import create_app
from tests.api import Api, open_api, settings_for_tests


async def test_a_json_answer_may_not_be_sniffed_framed_or_run(api: Api) -> None:
    response = await api.client.get("/health")

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert (
        response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    assert "strict-transport-security" not in response.headers


async def test_a_page_runs_its_own_inline_scripts_and_scripts_of_this_origin_only(
    api: Api,
) -> None:
    page = await api.client.get("/webchat/")
    policy = page.headers["content-security-policy"]

    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    for script in re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


async def test_over_https_browsers_are_told_to_keep_to_it() -> None:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:", http={"trusted_proxies": ["10.0.0.2"]}
    )
    async with open_api(settings, in_memory=True) as api:
        direct = await api.client.get("https://talia.test/health")
        transport = httpx.ASGITransport(app=create_app(api.container), client=("10.0.0.2", 9))
        async with httpx.AsyncClient(transport=transport, base_url="http://talia.test") as proxied:
            forwarded = await proxied.get("/health", headers={"x-forwarded-proto": "https"})
        spoofed = await api.client.get("/health", headers={"x-forwarded-proto": "https"})

    assert direct.headers["strict-transport-security"].startswith("max-age=31536000")
    assert forwarded.headers["strict-transport-security"].startswith("max-age=31536000")
    assert "strict-transport-security" not in spoofed.headers
