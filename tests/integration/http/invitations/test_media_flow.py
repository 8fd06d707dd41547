"""An invitation's media through the real app on SQLite, PostgreSQL and MariaDB, with Pillow
and the local file store: a phone photo with GPS in its EXIF is uploaded, processed by the
worker's job and served to guests as a WebP without any metadata, cached for good; refused
files leave nothing behind."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from talia_core.identity.model import Role
from tests.api import Api, assert_problem, open_api, settings_for_tests
from tests.contracts.media.image_processor import photo, turned_photo_with_gps
from tests.shop import plan

COMPLETE = {"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14"}
LIMIT = 400_000


@pytest.fixture
async def media_api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    settings = settings_for_tests(database_url, storage={"local_dir": str(tmp_path / "media")})
    async with open_api(settings) as opened:
        yield opened


def stored(api: Api) -> list[Path]:
    """The files the app's store holds, without the hidden sidecars that keep their types."""
    root = Path(api.container.settings().storage.local_dir)
    files = root.rglob("*") if root.exists() else []
    return sorted(p for p in files if p.is_file() and not p.name.startswith("."))


async def run_jobs(api: Api) -> None:
    runner = api.container.use_cases.job_runner()
    while await runner.run_due(100):
        pass


async def invitation(api: Api) -> tuple[dict[str, str], str]:
    """A customer's headers and the URL of their invitation on a ten-file plan."""
    _, admin = await api.user(Role.ADMIN)
    plan_id = await plan(api, admin, allowances={"media_count": 10, "media_bytes": LIMIT})
    owner_id, owner = await api.user()
    made = await api.client.post(
        "/api/invitations", json={"owner_id": owner_id, "plan_id": plan_id}, headers=admin
    )
    assert made.status_code == 201, made.text
    return owner, f"/api/invitations/{made.json()['id']}"


async def upload(api: Api, url: str, owner: dict[str, str], content: bytes, **form: str) -> Any:
    return await api.client.post(
        f"{url}/media",
        files={"file": ("IMG_0001.jpg", content, "image/jpeg")},
        data=form,
        headers=owner,
    )


async def test_a_photo_with_gps_is_served_upright_as_webp_without_metadata_cached_for_good(
    media_api: Api,
) -> None:
    api = media_api
    owner, url = await invitation(api)

    uploaded = await upload(api, url, owner, turned_photo_with_gps(2400, 1800), role="cover")
    assert uploaded.status_code == 202, uploaded.text
    item = uploaded.json()
    assert (item["status"], item["role"], item["kind"]) == ("processing", "cover", "image")
    await run_jobs(api)

    listed = (await api.client.get(f"{url}/media", headers=owner)).json()
    [ready] = listed
    assert (ready["status"], ready["width"], ready["height"]) == ("ready", 1800, 2400)
    renditions = {(r["name"], r["format"]): r for r in ready["renditions"]}
    assert set(renditions) == {
        ("display", "webp"), ("display", "jpeg"), ("thumb", "webp"), ("thumb", "jpeg")
    }  # fmt: skip
    display = renditions[("display", "webp")]
    assert (display["width"], display["height"]) == (1200, 1600)

    hidden = await api.client.get(display["url"])
    assert_problem(hidden, 404)  # not published yet
    await api.client.put(f"{url}/data", json=COMPLETE, headers=owner)
    published = await api.client.post(f"{url}/publish", headers=owner)
    assert published.status_code == 200, published.text

    served = await api.client.get(display["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/webp"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = served.headers["etag"]
    image = Image.open(io.BytesIO(served.content))
    assert (image.format, image.size) == ("WEBP", (1200, 1600))
    assert not image.getexif()
    assert "exif" not in image.info
    assert "icc_profile" not in image.info
    again = await api.client.get(display["url"], headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")

    unpublished = await api.client.post(f"{url}/unpublish", headers=owner)
    assert unpublished.status_code == 200, unpublished.text
    assert_problem(await api.client.get(display["url"]), 404)
    assert_problem(await api.client.get("/media/0123456789abcdef.1600.webp"), 404)


async def test_refused_files_leave_nothing_stored(media_api: Api) -> None:
    api = media_api
    owner, url = await invitation(api)

    text = await upload(api, url, owner, b"Lista de invitados: Ana, Luis, Rosa\n")
    assert_problem(text, 422, "file")
    heavy = photo(64, 64) + b"\x00" * LIMIT
    assert_problem(await upload(api, url, owner, heavy), 413, "file")
    assert stored(api) == []
    assert (await api.client.get(f"{url}/media", headers=owner)).json() == []

    for side in range(10):
        taken = await upload(api, url, owner, photo(40 + side, 40))
        assert taken.status_code == 202, taken.text
    kept = stored(api)
    eleventh = await upload(api, url, owner, photo(90, 90))

    assert_problem(eleventh, 422, "file")
    assert stored(api) == kept
    assert len((await api.client.get(f"{url}/media", headers=owner)).json()) == 10


async def test_an_owner_orders_and_deletes_media_and_a_stranger_sees_none(media_api: Api) -> None:
    api = media_api
    owner, url = await invitation(api)
    first = (await upload(api, url, owner, photo(50, 50))).json()
    second = (await upload(api, url, owner, photo(60, 60))).json()
    await run_jobs(api)
    _, stranger = await api.user()

    assert_problem(await api.client.get(f"{url}/media", headers=stranger), 404)
    assert_problem(await api.client.delete(f"{url}/media/{first['id']}", headers=stranger), 404)
    moved = await api.client.patch(
        f"{url}/media/{second['id']}", json={"position": 0, "role": "cover"}, headers=owner
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["position"], moved.json()["role"]) == (0, "cover")
    assert_problem(
        await api.client.patch(f"{url}/media/{second['id']}", json={}, headers=owner), 400
    )

    before = len(stored(api))
    renditions = moved.json()["renditions"]
    removed = await api.client.delete(f"{url}/media/{second['id']}", headers=owner)
    assert removed.status_code == 204, removed.text
    # Its original and its renditions' files: a photo smaller than a thumbnail has the same
    # bytes, so the same file, for both sizes.
    assert len(renditions) == 4
    assert len(stored(api)) == before - 1 - len({r["file_name"] for r in renditions})
    [left] = (await api.client.get(f"{url}/media", headers=owner)).json()
    assert (left["id"], left["position"]) == (first["id"], 0)


async def test_a_deleted_invitation_goes_at_once_and_its_files_follow_by_the_worker(
    media_api: Api,
) -> None:
    api = media_api
    owner, url = await invitation(api)
    for side in (50, 60):
        assert (await upload(api, url, owner, photo(side, side))).status_code == 202
    await run_jobs(api)
    held = stored(api)

    removed = await api.client.delete(url, headers=owner)

    assert removed.status_code == 204, removed.text
    assert_problem(await api.client.get(url, headers=owner), 404)
    assert_problem(await api.client.get(f"{url}/media", headers=owner), 404)
    assert stored(api) == held
    await run_jobs(api)
    assert stored(api) == []
