"""The web chat's frames, its sender and the in-process live feed.

``LiveFeedContract`` is what every live feed does; the Redis feed runs it too
(``tests/integration/channels/test_redis_live_feed.py``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Protocol

import pytest

from adapters.channels.webchat import (
    InProcessLiveFeed,
    RedisLiveFeed,
    WebChatChannelSender,
    draft_frame,
    frame,
)
from talia_core.conversations.messages import Media, Message
from talia_core.conversations.ports import Outbound
from talia_core.conversations.vocabulary import (
    Author,
    Channel,
    ChannelIdentity,
    DeliveryStatus,
    Direction,
    IdentityKind,
    MessageType,
)

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WAIT = 2.0


def bot_says(text: str) -> Message:
    return Message(
        conversation_id="conv-1",
        channel=Channel.WEBCHAT,
        direction=Direction.OUTBOUND,
        author=Author.BOT,
        type=MessageType.TEXT,
        created_at=AT,
        text=text,
        status=DeliveryStatus.SENT,
    )


async def next_frame(frames: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    return await asyncio.wait_for(anext(frames), WAIT)


async def nothing_arrives(frames: AsyncIterator[dict[str, Any]]) -> bool:
    try:
        await asyncio.wait_for(anext(frames), 0.2)
    except TimeoutError:
        return True
    return False


# --- frames --------------------------------------------------------------------------------


def test_a_visitors_message_comes_with_the_id_their_widget_gave_it() -> None:
    message = Message(
        conversation_id="conv-1",
        channel=Channel.WEBCHAT,
        direction=Direction.INBOUND,
        author=Author.CONTACT,
        type=MessageType.TEXT,
        created_at=datetime(2026, 3, 1, 7, 30, 5, 120000, tzinfo=UTC),
        text="<b>hola</b>",
        external_id="0195a1b2-session:3f0c1d2e-client",
        status=DeliveryStatus.RECEIVED,
    )

    assert frame(message) == {
        "type": "message",
        "message": {
            "id": message.id,
            "client_id": "3f0c1d2e-client",
            "direction": "in",
            "author": "contact",
            "type": "text",
            "text": "<b>hola</b>",
            "audio_url": None,
            "status": "received",
            "created_at": "2026-03-01T07:30:05.120000Z",
        },
    }


def test_a_reply_has_no_client_id_and_its_time_is_given_in_utc() -> None:
    reply = bot_says("¡Hola! ¿En qué te ayudo?")
    reply.created_at = datetime.fromisoformat("2026-03-01T07:00:00-05:00")

    sent = json.loads(json.dumps(frame(reply)))

    assert sent["message"]["client_id"] is None
    assert sent["message"]["author"] == "bot"
    assert sent["message"]["direction"] == "out"
    assert sent["message"]["status"] == "sent"
    assert sent["message"]["created_at"] == "2026-03-01T12:00:00Z"


def test_a_voice_reply_comes_with_the_link_to_play_it_beside_its_text() -> None:
    reply = bot_says("Abrimos a las nueve")
    reply.type = MessageType.AUDIO
    reply.attach(Media(source="/api/conversations/media/dm9pY2U.0a1b", file_key="voice/x.ogg"))

    sent = frame(reply)["message"]

    assert (sent["type"], sent["text"]) == ("audio", "Abrimos a las nueve")
    assert sent["audio_url"] == "/api/conversations/media/dm9pY2U.0a1b"


async def test_the_sender_names_a_message_by_its_own_id() -> None:
    outbound = Outbound(
        message_id="msg-42",
        channel=Channel.WEBCHAT,
        to=ChannelIdentity(IdentityKind.WEBCHAT_SESSION, "session-1"),
        type=MessageType.TEXT,
        thread="session-1",
        text="Hola",
    )

    assert await WebChatChannelSender().send(outbound) == "msg-42"


# --- the contract of a live feed -----------------------------------------------------------


class Feed(Protocol):
    async def publish(self, thread: str, message: Message) -> None: ...

    async def draft(self, thread: str, text: str) -> None: ...

    def watching(self, thread: str) -> int: ...


LiveFeed = InProcessLiveFeed | RedisLiveFeed


class LiveFeedContract:
    """``feed`` holds the sockets; ``publisher`` is where the job worker publishes (the same
    feed in one process, another process's feed over Redis). Both allow 3 waiting frames."""

    async def test_a_subscriber_gets_its_sessions_frames_in_order(
        self, feed: LiveFeed, publisher: Feed
    ) -> None:
        messages = [bot_says(f"mensaje {n}") for n in range(3)]
        async with feed.subscribe("session-a") as frames:
            for message in messages:
                await publisher.publish("session-a", message)

            received = [await next_frame(frames) for _ in messages]

        assert received == [frame(m) for m in messages]

    async def test_drafts_of_the_answer_arrive_in_order_before_the_answer(
        self, feed: LiveFeed, publisher: Feed
    ) -> None:
        reply = bot_says("Hola, ¿en qué te ayudo?")
        async with feed.subscribe("session-a") as frames:
            for piece in ("Hola, ", "¿en qué "):
                await publisher.draft("session-a", piece)
            await publisher.publish("session-a", reply)

            received = [await next_frame(frames) for _ in range(3)]

        assert received == [draft_frame("Hola, "), draft_frame("¿en qué "), frame(reply)]

    async def test_every_open_tab_of_a_session_gets_each_frame(
        self, feed: LiveFeed, publisher: Feed
    ) -> None:
        reply = bot_says("Hola")
        async with feed.subscribe("session-a") as tab1, feed.subscribe("session-a") as tab2:
            await publisher.publish("session-a", reply)

            assert await next_frame(tab1) == frame(reply)
            assert await next_frame(tab2) == frame(reply)

    async def test_a_subscriber_sees_nothing_of_other_sessions(
        self, feed: LiveFeed, publisher: Feed
    ) -> None:
        theirs, ours = bot_says("para b"), bot_says("para a")
        async with feed.subscribe("session-a") as frames, feed.subscribe("session-b"):
            await publisher.publish("session-b", theirs)
            await publisher.publish("session-a", ours)

            assert await next_frame(frames) == frame(ours)
            assert await nothing_arrives(frames)

    async def test_publishing_to_a_session_nobody_watches_is_harmless(
        self, feed: LiveFeed, publisher: Feed
    ) -> None:
        await publisher.publish("session-nobody", bot_says("¿hay alguien?"))

        assert feed.watching("session-nobody") == 0

    async def test_a_subscriber_gets_nothing_published_before_it_came(
        self, feed: LiveFeed, publisher: Feed
    ) -> None:
        before, after = bot_says("antes"), bot_says("después")
        await publisher.publish("session-a", before)
        async with feed.subscribe("session-a") as frames:
            await publisher.publish("session-a", after)

            assert await next_frame(frames) == frame(after)

    async def test_leaving_forgets_the_subscriber_and_the_session_goes_on_for_the_others(
        self, feed: LiveFeed, publisher: Feed
    ) -> None:
        reply = bot_says("sigues ahí")
        async with feed.subscribe("session-a") as staying:
            async with feed.subscribe("session-a"):
                assert feed.watching("session-a") == 2
            assert feed.watching("session-a") == 1

            await publisher.publish("session-a", reply)

            assert await next_frame(staying) == frame(reply)
        assert feed.watching("session-a") == 0

    async def test_a_tab_that_stops_reading_is_dropped_and_does_not_hold_back_the_others(
        self, feed: LiveFeed, publisher: Feed
    ) -> None:
        messages = [bot_says(f"mensaje {n}") for n in range(6)]
        async with feed.subscribe("session-a") as reading, feed.subscribe("session-a") as stuck:
            for message in messages:
                await asyncio.wait_for(publisher.publish("session-a", message), WAIT)
                assert await next_frame(reading) == frame(message)

            # Past 3 waiting frames the stuck tab's stream ends: it must reload the history.
            assert [f async for f in stuck] == []
            assert feed.watching("session-a") == 2  # until its socket leaves


class InProcessLiveFeedTests(LiveFeedContract):
    @pytest.fixture
    def feed(self) -> InProcessLiveFeed:
        return InProcessLiveFeed(queue_limit=3)

    @pytest.fixture
    def publisher(self, feed: InProcessLiveFeed) -> InProcessLiveFeed:
        return feed


async def test_a_tab_that_catches_up_in_time_loses_nothing() -> None:
    feed = InProcessLiveFeed(queue_limit=3)
    messages = [bot_says(f"mensaje {n}") for n in range(3)]
    async with feed.subscribe("session-a") as frames:
        for message in messages:
            await feed.publish("session-a", message)

        assert [await next_frame(frames) for _ in messages] == [frame(m) for m in messages]
