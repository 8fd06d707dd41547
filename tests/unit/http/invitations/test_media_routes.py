"""Invitation media routes over the in-memory fakes (the file store and the image processor
put in through the container): malformed forms are refused naming what is wrong, and an
upload's job, run here as a worker runs it, makes the renditions guests get by name."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from dependency_injector import providers

from adapters.memory.files import InMemoryFileStore
from adapters.memory.media import FakeImageProcessor
from entrypoints.container import Container
from talia_core.identity.model import Role
from tests.api import Api, assert_problem, open_api, settings_for_tests
from tests.contracts.media.image_processor import photo

COMPLETE = {"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14"}


class Fakes:
    def __init__(self) -> None:
        self.files = InMemoryFileStore()
        self.processor = FakeImageProcessor()

    def install(self, container: Container) -> None:
        container.gateways.files.override(providers.Object(self.files))
        container.gateways.image_processor.override(providers.Object(self.processor))


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
async def api(fakes: Fakes) -> AsyncIterator[Api]:
    settings = settings_for_tests("sqlite+aiosqlite:///:memory:")
    async with open_api(settings, in_memory=True, prepare=fakes.install) as opened:
        yield opened


async def owned(api: Api) -> tuple[dict[str, str], str]:
    _, admin = await api.user(Role.ADMIN)
    owner_id, owner = await api.user()
    made = await api.client.post("/api/invitations", json={"owner_id": owner_id}, headers=admin)
    assert made.status_code == 201, made.text
    return owner, f"/api/invitations/{made.json()['id']}/media"


async def test_a_form_without_a_file_or_with_an_unknown_role_is_refused(
    api: Api, fakes: Fakes
) -> None:
    owner, url = await owned(api)

    no_file = await api.client.post(url, data={"role": "photo"}, headers=owner)
    bad_role = await api.client.post(
        url, files={"file": ("a.jpg", photo(20, 20))}, data={"role": "poster"}, headers=owner
    )
    audio_cover = await api.client.post(
        url, files={"file": ("a.ogg", b"OggS" + b"\x00" * 50)}, data={"role": "cover"},
        headers=owner,
    )  # fmt: skip

    assert_problem(no_file, 400)
    assert_problem(bad_role, 400)
    assert_problem(audio_cover, 422, "role")
    assert fakes.files.keys() == []


async def test_an_upload_is_processed_by_its_job_and_its_files_served_once_published(
    api: Api, fakes: Fakes
) -> None:
    owner, url = await owned(api)
    uploaded = await api.client.post(
        url, files={"file": ("a.png", photo(1000, 500, "PNG"))}, headers=owner
    )
    assert uploaded.status_code == 202, uploaded.text
    track = await api.client.post(
        url, files={"file": ("song.ogg", b"OggS" + b"\x00" * 50)}, headers=owner
    )
    assert track.status_code == 201, track.text
    assert track.json()["status"] == "ready"

    runner = api.container.use_cases.job_runner()
    while await runner.run_due(10):
        pass

    item = (await api.client.get(f"{url}/{uploaded.json()['id']}", headers=owner)).json()
    assert item["status"] == "ready"
    assert fakes.processor.processed == 1
    thumb = next(r for r in item["renditions"] if (r["name"], r["format"]) == ("thumb", "jpeg"))
    assert (thumb["width"], thumb["height"]) == (400, 200)
    audio_url = track.json()["renditions"][0]["url"]
    assert_problem(await api.client.get(thumb["url"]), 404)

    invitation = url.removesuffix("/media")
    await api.client.put(f"{invitation}/data", json=COMPLETE, headers=owner)
    assert (await api.client.post(f"{invitation}/publish", headers=owner)).status_code == 200
    served = await api.client.get(thumb["url"])
    song = await api.client.get(audio_url)

    assert (served.status_code, served.headers["content-type"]) == (200, "image/jpeg")
    assert served.content.startswith(b"\xff\xd8")
    assert (song.status_code, song.headers["content-type"]) == (200, "audio/ogg")
    assert song.headers["cache-control"] == "public, max-age=31536000, immutable"
