"""The offline demo books too, on every database: a web chat visitor asks for an
appointment, is offered slots, picks «la segunda», and the appointment is in the list and
in the calendar's feed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import icalendar

from entrypoints.seed import prepare_demo
from talia_core.identity.model import Role
from talia_core.shared.clock import FakeClock
from tests.api import Api, open_api, settings_for_tests
from tests.unit.scheduling.builders import NOW
from tests.unit.scheduling.test_slots import lima


async def writes(api: Api, headers: dict[str, str], text: str) -> list[dict[str, Any]]:
    """The visitor writes; jobs run as a worker would; the session's history."""
    sent = await api.client.post("/api/webchat/messages", json={"text": text}, headers=headers)
    assert sent.status_code == 202, sent.text
    runner = api.container.use_cases.job_runner()
    while await runner.run_due(100):
        pass
    history = await api.client.get("/api/webchat/messages", headers=headers)
    items: list[dict[str, Any]] = history.json()["items"]
    return items


async def test_quiero_una_cita_then_la_segunda_books_the_second_slot_offered(
    database_url: str, tmp_path: Path
) -> None:
    settings = settings_for_tests(
        database_url,
        demo_data=True,
        channels={"debounce_seconds": 0},
        storage={"local_dir": str(tmp_path)},
    )
    assert await prepare_demo(settings)
    async with open_api(settings, clock=FakeClock(NOW)) as api:
        session = await api.client.post("/api/webchat/sessions", json={"name": "Ana"})
        visitor = {"Authorization": f"Bearer {session.json()['token']}"}

        offered = await writes(api, visitor, "hola, quiero una cita")
        booked = await writes(api, visitor, "la segunda")

        _, staff = await api.user(Role.AGENT)
        listed = (await api.client.get("/api/appointments", headers=staff)).json()
        url = (await api.client.get("/api/calendars/main/feed-url", headers=staff)).json()["url"]
        feed = await api.client.get(url)

    offer = offered[-1]["text"]
    assert "1) lunes 2 de marzo, 09:00" in offer
    assert "2) martes 3 de marzo, 09:00" in offer
    assert "«la segunda»" in offer
    assert booked[-1]["text"].startswith("¡Listo! ✅ Tu cita quedó agendada para el martes 3")
    [appointment] = listed["items"]
    assert appointment["starts_at"].startswith(lima(3, 9).isoformat()[:19])
    assert appointment["channel"] == "webchat"
    assert appointment["customer_name"] == "Ana"
    assert feed.status_code == 200, feed.text
    [event] = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    assert event.decoded("DTSTART") == lima(3, 9)
    assert str(event["SUMMARY"]) == "Cita: Ana"
    assert str(event["STATUS"]) == "CONFIRMED"
