"""Public links to our voice replies: each names its file, none can be made for another."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.channels.media_links import MEDIA_PATH, SignedMediaLinks

LINKS = SignedMediaLinks(b"k" * 32, base_url="https://talia.example")
keys = st.text(min_size=1, max_size=200)


def _token(link: str) -> str:
    return link.rsplit("/", 1)[1]


@given(keys)
def test_a_link_names_the_file_it_was_made_for(key: str) -> None:
    link = LINKS.link(key)

    assert link.startswith(f"https://talia.example{MEDIA_PATH}/")
    assert LINKS.file_key(_token(link)) == key


@given(keys, st.data())
def test_a_token_changed_anywhere_names_no_file(key: str, data: st.DataObject) -> None:
    token = _token(LINKS.link(key))
    at = data.draw(st.integers(0, len(token) - 1))
    other = data.draw(st.sampled_from("abcdefABCDEF0123456789-_.").filter(lambda c: c != token[at]))

    assert LINKS.file_key(token[:at] + other + token[at + 1 :]) is None


@given(keys)
def test_a_link_made_with_another_key_names_no_file(key: str) -> None:
    stranger = SignedMediaLinks(b"x" * 32)

    assert LINKS.file_key(_token(stranger.link(key))) is None
