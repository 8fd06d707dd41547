"""The client address behind proxies: only what trusted hops report is believed."""

from __future__ import annotations

import pytest
from litestar.types import Scope

from entrypoints.http.auth import client_address

TRUSTED = frozenset({"127.0.0.1", "10.0.0.2"})


def _scope(peer: str, *forwarded: str) -> Scope:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "client": (peer, 4321), "headers": headers}  # type: ignore[typeddict-item]


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        pytest.param("198.51.100.9", ["203.0.113.7"], "198.51.100.9", id="untrusted-peer"),
        pytest.param("127.0.0.1", ["203.0.113.7"], "203.0.113.7", id="one-proxy"),
        pytest.param("127.0.0.1", ["203.0.113.7, 10.0.0.2"], "203.0.113.7", id="two-proxies"),
        pytest.param("127.0.0.1", ["1.2.3.4, 203.0.113.7"], "203.0.113.7", id="spoofed-left"),
        pytest.param("127.0.0.1", ["1.2.3.4", "203.0.113.7"], "203.0.113.7", id="two-headers"),
        pytest.param("127.0.0.1", ["garbage, 203.0.113.7"], "203.0.113.7", id="garbage-left"),
        pytest.param("127.0.0.1", ["203.0.113.7, garbage"], "127.0.0.1", id="garbage-right"),
        pytest.param(
            "127.0.0.1", ["203.0.113.7, fe80::1%" + "x" * 40], "127.0.0.1", id="overlong-right"
        ),
        pytest.param("127.0.0.1", [], "127.0.0.1", id="no-header"),
        pytest.param("127.0.0.1", ["10.0.0.2"], "10.0.0.2", id="only-trusted-hops"),
    ],
)
def test_the_client_is_the_nearest_hop_no_trusted_proxy_vouches_past(
    peer: str, forwarded: list[str], client: str
) -> None:
    assert client_address(_scope(peer, *forwarded), TRUSTED) == client
