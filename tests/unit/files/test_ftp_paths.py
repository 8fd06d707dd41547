"""Where a key lies on the FTP server: under the root, as the key says, or nowhere at all."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.files.ftp import remote_path
from talia_core.shared.errors import Malformed
from tests.contracts.files.file_store import UNSAFE_KEYS

ROOT = PurePosixPath("/srv/talia")
SEGMENT = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,30}", fullmatch=True)


def test_the_keys_the_app_makes_lie_under_the_root() -> None:
    assert remote_path(ROOT, "media/2026/11/0b9f2c4e.jpg") == ROOT / "media/2026/11/0b9f2c4e.jpg"
    assert remote_path(ROOT, "documents/0b9f2c4e/3") == ROOT / "documents" / "0b9f2c4e" / "3"


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_an_unsafe_key_has_no_place(key: str) -> None:
    with pytest.raises(Malformed):
        remote_path(ROOT, key)


@given(st.lists(SEGMENT, min_size=1, max_size=8))
def test_a_valid_key_is_the_root_and_its_own_segments(segments: list[str]) -> None:
    path = remote_path(ROOT, "/".join(segments))

    assert path.parts == (*ROOT.parts, *segments)


@given(st.text(max_size=60))
def test_any_text_is_refused_or_kept_under_the_root_without_a_way_up(key: str) -> None:
    try:
        path = remote_path(ROOT, key)
    except Malformed:
        return
    assert path.parts[: len(ROOT.parts)] == ROOT.parts
    assert not {"..", ".", ""} & set(path.parts[len(ROOT.parts) :])
    assert all("\\" not in part and "\r" not in part and "\n" not in part for part in path.parts)
