"""The web chat widget as a visitor uses it: the real app served by uvicorn on a loopback
port (embedded SQLite, demo data, jobs in process), Debian's Chromium driven headless by
Playwright. Without /usr/bin/chromium the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    async_playwright,
    expect,
)

from adapters.persistence import migrations
from adapters.persistence.engine import create_database_engine
from entrypoints.bootstrap import open_talia
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.seed import seed_demo_data
from tests.api import settings_for_tests
from tests.prerequisites import missing

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPLY_TIMEOUT_MS = 20_000


@asynccontextmanager
async def serving(workdir: Path, **settings_overrides: Any) -> AsyncIterator[str]:
    """The app as ``talia serve`` runs it on SQLite with demo data, in a thread of its own."""
    settings = settings_for_tests(
        f"sqlite+aiosqlite:///{workdir}/talia.db",
        demo_data=True,
        storage={"local_dir": str(workdir / "media")},
        **settings_overrides,
    )
    engine = create_database_engine(settings.database.url)
    try:
        await migrations.upgrade(engine)
    finally:
        await engine.dispose()
    async with open_talia(settings) as talia:
        await seed_demo_data(talia)

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(build_container(settings)),
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started or not thread.is_alive():
                break
            await asyncio.sleep(0.05)
        assert server.started, "the app did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 15)
        listener.close()


@pytest.fixture(scope="module")
async def base_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with serving(tmp_path_factory.mktemp("webchat-e2e")) as url:
        yield url


@pytest.fixture(scope="module")
async def assistants_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """The same app answered by the demo assistants held as data, on the offline model."""
    workdir = tmp_path_factory.mktemp("webchat-assistants-e2e")
    async with serving(workdir, assistant={"provider": "definitions"}) as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


class Visit:
    """A page plus everything it asked for and every error it met."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.expected_errors: tuple[str, ...] = ()
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    async def open_chat(self) -> None:
        launcher = self.page.get_by_test_id("talia-launcher")
        await launcher.click()
        await expect(launcher).to_have_attribute("aria-expanded", "true")
        await expect(self.page.get_by_test_id("talia-input")).to_be_focused()

    async def write(self, text: str) -> None:
        await self.page.get_by_test_id("talia-input").fill(text)
        await self.page.get_by_test_id("talia-input").press("Enter")

    def said_by(self, author: str) -> Locator:
        return self.page.get_by_test_id("talia-messages").locator(f'[data-author="{author}"]')


@pytest.fixture
async def visit(browser: Browser, base_url: str) -> AsyncIterator[Visit]:
    context = await browser.new_context(base_url=base_url)
    visit = Visit(await context.new_page())
    yield visit
    await context.close()
    assert [e for e in visit.errors if not any(x in e for x in visit.expected_errors)] == []
    assert all(url.startswith(base_url) for url in visit.requests), visit.requests


async def test_a_visitor_greets_gets_an_answer_and_finds_the_conversation_after_a_reload(
    visit: Visit,
) -> None:
    page = visit.page
    await page.goto("/webchat/")
    await visit.open_chat()

    await visit.write("Hola")

    mine = visit.said_by("contact")
    await expect(mine).to_have_count(1)
    await expect(mine.first).to_contain_text("Hola")
    bot = visit.said_by("bot")
    await expect(bot.first).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    await expect(bot.first.locator(".text")).not_to_be_empty()
    # The server's copy of the greeting took the place of the one shown as "sending".
    await expect(mine).to_have_count(1)
    await expect(mine.first).to_have_attribute("data-status", "received")
    replies = await bot.count()

    await page.reload()
    await visit.open_chat()

    await expect(visit.said_by("contact")).to_have_count(1)
    await expect(visit.said_by("contact").first).to_contain_text("Hola")
    await expect(visit.said_by("bot")).to_have_count(replies)


async def test_what_a_visitor_writes_is_shown_as_text_never_as_markup(visit: Visit) -> None:
    page = visit.page
    markup = '<img src="/x" onerror="document.title=\'pwned\'"><b>hola</b>'
    await page.goto("/webchat/")
    await visit.open_chat()

    await visit.write(markup)

    mine = visit.said_by("contact")
    await expect(mine.first.locator(".text")).to_have_text(markup)
    await expect(mine.first).to_have_attribute("data-status", "received", timeout=10_000)
    assert await page.get_by_test_id("talia-messages").locator("img, b").count() == 0
    assert await page.title() != "pwned"


async def test_a_session_the_server_refuses_is_forgotten_and_writing_opens_a_new_one(
    visit: Visit, base_url: str
) -> None:
    page = visit.page
    visit.expected_errors = ("status of 401",)  # the history asked with the forged token
    key = f"talia-chat:{base_url}"
    forged = '{"session_id": "s", "token": "forged.token", "expires_at": "2999-01-01T00:00:00Z"}'
    await page.add_init_script(
        f"if (!sessionStorage.seeded) {{ localStorage.setItem({key!r}, {forged!r});"
        " sessionStorage.seeded = 1; }"
    )
    await page.goto("/webchat/")

    # The socket is closed with 4401; the widget drops the token. (Polled from here: the
    # page's Content-Security-Policy forbids the eval that wait_for_function polls with.)
    for _ in range(100):
        if await page.evaluate(f"localStorage.getItem({key!r})") is None:
            break
        await asyncio.sleep(0.05)
    assert await page.evaluate(f"localStorage.getItem({key!r})") is None
    await visit.open_chat()
    await visit.write("Hola de nuevo")

    await expect(visit.said_by("contact").first).to_have_attribute(
        "data-status", "received", timeout=10_000
    )
    stored = await page.evaluate(f"JSON.parse(localStorage.getItem({key!r}))")
    assert stored["token"] != "forged.token"


# Every state of the draft the widget showed (inside its shadow root), in order: the answer
# as it was being written.
RECORD_DRAFTS = """
window.taliaDrafts = [];
const attachShadow = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) {
  const root = attachShadow.call(this, init);
  new MutationObserver(() => {
    const draft = root.querySelector('[data-testid="talia-draft"] .text');
    if (draft && draft.textContent) window.taliaDrafts.push(draft.textContent);
  }).observe(root, { subtree: true, childList: true, characterData: true });
  return root;
};
"""


async def test_the_answer_is_shown_as_it_is_written_then_as_the_message(
    browser: Browser, assistants_url: str
) -> None:
    context = await browser.new_context(base_url=assistants_url)
    visit = Visit(await context.new_page())
    page = visit.page
    await page.add_init_script(RECORD_DRAFTS)
    await page.goto("/webchat/")
    await visit.open_chat()

    await visit.write("Hola")

    bot = visit.said_by("bot")
    await expect(bot.first.locator(".text")).not_to_be_empty(timeout=REPLY_TIMEOUT_MS)
    answer = await bot.first.locator(".text").text_content()
    drafts: list[str] = await page.evaluate("window.taliaDrafts")
    await expect(page.get_by_test_id("talia-draft")).to_have_count(0)
    await context.close()
    assert visit.errors == []
    assert len(drafts) > 1, drafts
    assert answer is not None
    assert answer.startswith(drafts[-1].strip())
