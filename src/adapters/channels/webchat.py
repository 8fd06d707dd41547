"""The web chat: the live feed behind the visitor's socket, and its channel sender.

A web chat message is delivered by being shown: the conversation service records it and
publishes it to the feed under the session id (the conversation's ``thread``); every socket
of that session (one per open tab) receives it as a frame (``frame``).

Each subscriber has a bounded queue. A subscriber that falls ``queue_limit`` frames behind
(a socket that stopped reading) is dropped rather than allowed to hold publishers back or
to lose frames silently: its stream ends, the route closes the socket, and the widget
reconnects and reloads the history, so it ends up complete either way. The Redis feed ends
its subscribers the same way when it loses its connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from talia_core.conversations.messages import Message
from talia_core.conversations.ports import Outbound
from talia_core.conversations.vocabulary import Channel, Direction, MessageType
from talia_core.shared.errors import ExternalServiceUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

logger = logging.getLogger("talia.webchat")

QUEUE_LIMIT = 100
"""Frames a subscriber may have waiting before it is dropped as too slow."""


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def frame(message: Message) -> dict[str, Any]:
    """What the socket sends for a message (and, its ``message`` part, what history lists);
    ``audio_url``: a voice reply of ours to play.

    ``client_id`` is the id the visitor's widget gave a message it sent (the part after the
    session id in its ``external_id``), so the widget can match it to the one it shows as
    "sending"; ``None`` for everything else.
    """
    client_id = None
    if (
        message.channel is Channel.WEBCHAT
        and message.direction is Direction.INBOUND
        and message.external_id
        and ":" in message.external_id
    ):
        client_id = message.external_id.split(":", 1)[1]
    return {
        "type": "message",
        "message": {
            "id": message.id,
            "client_id": client_id,
            "direction": message.direction.value,
            "author": message.author.value,
            "type": message.type.value,
            "text": message.text,
            "audio_url": _audio_url(message),
            "status": message.status.value,
            "created_at": _utc(message.created_at),
        },
    }


def _audio_url(message: Message) -> str | None:
    """Our voice reply's public link, for the widget to play (its text is shown too)."""
    media = message.media
    if message.direction is Direction.OUTBOUND and message.type is MessageType.AUDIO and media:
        return media.source
    return None


def draft_frame(text: str) -> dict[str, Any]:
    """What the socket sends for a piece of the answer being written."""
    return {"type": "draft", "text": text}


class _Subscriber:
    """One watcher's frames; an async iterator that ends when the feed drops the watcher."""

    def __init__(self, limit: int) -> None:
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._limit = limit
        self._ended = False

    def offer(self, item: dict[str, Any]) -> None:
        if self._ended:
            return
        if self._queue.qsize() >= self._limit:
            self.end()
            return
        self._queue.put_nowait(item)

    def end(self) -> None:
        """Drop what is waiting and end the stream: the watcher has to catch up from history."""
        if self._ended:
            return
        self._ended = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    def __aiter__(self) -> _Subscriber:
        return self

    async def __anext__(self) -> dict[str, Any]:
        item = await self._queue.get()
        if item is None:
            self._queue.put_nowait(None)  # a second reader ends too
            raise StopAsyncIteration
        return item


class _FanOut:
    """The subscribers of this process, by session."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._by_thread: dict[str, set[_Subscriber]] = {}

    def add(self, thread: str) -> tuple[_Subscriber, bool]:
        """A new subscriber, and whether it is the session's first here."""
        subscriber = _Subscriber(self._limit)
        subscribers = self._by_thread.setdefault(thread, set())
        subscribers.add(subscriber)
        return subscriber, len(subscribers) == 1

    def remove(self, thread: str, subscriber: _Subscriber) -> bool:
        """Forget a subscriber; True when it was the session's last one here."""
        subscribers = self._by_thread.get(thread)
        if subscribers is None or subscriber not in subscribers:
            return False
        subscribers.discard(subscriber)
        if subscribers:
            return False
        del self._by_thread[thread]
        return True

    def deliver(self, thread: str, item: dict[str, Any]) -> None:
        for subscriber in tuple(self._by_thread.get(thread, ())):
            subscriber.offer(item)

    def end_all(self) -> None:
        for subscribers in self._by_thread.values():
            for subscriber in subscribers:
                subscriber.end()
        self._by_thread.clear()

    def watching(self, thread: str) -> int:
        return len(self._by_thread.get(thread, ()))

    @property
    def threads(self) -> int:
        return len(self._by_thread)


class InProcessLiveFeed:
    """The feed when the sockets and the job worker share one process (the embedded default)."""

    def __init__(self, *, queue_limit: int = QUEUE_LIMIT) -> None:
        self._subscribers = _FanOut(queue_limit)

    async def publish(self, thread: str, message: Message) -> None:
        self._subscribers.deliver(thread, frame(message))

    async def draft(self, thread: str, text: str) -> None:
        self._subscribers.deliver(thread, draft_frame(text))

    def watching(self, thread: str) -> int:
        """How many subscribers session ``thread`` has (its open tabs)."""
        return self._subscribers.watching(thread)

    @asynccontextmanager
    async def subscribe(self, thread: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """The frames published for session ``thread`` from now on, until the block ends."""
        subscriber, _ = self._subscribers.add(thread)
        try:
            yield subscriber
        finally:
            self._subscribers.remove(thread, subscriber)


SUBSCRIBE_TIMEOUT_SECONDS = 5.0


def _redis_errors() -> tuple[type[Exception], type[OSError]]:
    """What a call to Redis raises, for ``except``: evaluated only once something was raised,
    so redis-py is imported by the client a Redis feed is given, never by this module."""
    from redis.exceptions import RedisError

    return RedisError, OSError


class RedisLiveFeed:
    """The feed across processes: a job worker publishes, the API worker holding the socket
    receives, through Redis pub/sub (channel ``<prefix><session id>``, the frame as JSON).

    A process keeps one pub/sub connection for all its sockets, subscribed to the sessions
    they watch, and opens it while it has any; ``subscribe`` returns once Redis confirmed
    the subscription, so nothing published after that is missed.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "talia:webchat:",
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._subscribers = _FanOut(queue_limit)
        self._lock = asyncio.Lock()
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._confirmed: dict[str, asyncio.Event] = {}

    async def publish(self, thread: str, message: Message) -> None:
        await self._send(thread, frame(message))

    async def draft(self, thread: str, text: str) -> None:
        await self._send(thread, draft_frame(text))

    async def _send(self, thread: str, item: dict[str, Any]) -> None:
        try:
            await self._redis.publish(self._prefix + thread, json.dumps(item))
        except _redis_errors() as error:
            raise ExternalServiceUnavailable("redis", type(error).__name__) from error

    def watching(self, thread: str) -> int:
        """How many subscribers session ``thread`` has in this process."""
        return self._subscribers.watching(thread)

    @asynccontextmanager
    async def subscribe(self, thread: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """The frames published for session ``thread`` from now on, until the block ends.

        ``ExternalServiceUnavailable`` when Redis cannot be reached or does not confirm.
        """
        subscriber = await self._join(thread)
        try:
            yield subscriber
        finally:
            await self._leave(thread, subscriber)

    async def _join(self, thread: str) -> _Subscriber:
        async with self._lock:
            subscriber, first = self._subscribers.add(thread)
            if first:
                self._confirmed[thread] = asyncio.Event()
                try:
                    pubsub = self._pubsub or self._redis.pubsub()
                    self._pubsub = pubsub
                    await pubsub.subscribe(self._prefix + thread)
                except _redis_errors() as error:
                    await self._forget(thread, subscriber)
                    raise ExternalServiceUnavailable("redis", type(error).__name__) from error
                if self._reader is None:
                    self._reader = asyncio.create_task(self._read(pubsub))
            confirmed = self._confirmed[thread]
        try:
            await asyncio.wait_for(confirmed.wait(), SUBSCRIBE_TIMEOUT_SECONDS)
        except TimeoutError:
            await self._leave(thread, subscriber)
            raise ExternalServiceUnavailable("redis", "subscription not confirmed") from None
        return subscriber

    async def _leave(self, thread: str, subscriber: _Subscriber) -> None:
        async with self._lock:
            await self._forget(thread, subscriber)

    async def _forget(self, thread: str, subscriber: _Subscriber) -> None:
        """Under the lock: the session's last subscriber here unsubscribes it; the process's
        last one closes the connection."""
        if not self._subscribers.remove(thread, subscriber):
            return
        self._confirmed.pop(thread, None)
        if self._pubsub is None:
            return
        if self._subscribers.threads == 0:
            await self._close()
            return
        try:
            await self._pubsub.unsubscribe(self._prefix + thread)
        except _redis_errors():
            logger.warning("webchat feed: could not unsubscribe", exc_info=True)

    async def _close(self) -> None:
        reader, pubsub = self._reader, self._pubsub
        self._reader = self._pubsub = None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        if pubsub is not None:
            with contextlib.suppress(*_redis_errors()):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py

    async def _read(self, pubsub: PubSub) -> None:
        try:
            while True:
                received = await pubsub.get_message(timeout=None)
                if received is not None:
                    self._dispatch(received)
        except _redis_errors():
            # Whatever was published meanwhile is lost: every watcher here starts over.
            logger.warning("webchat feed: lost the Redis connection", exc_info=True)
            async with self._lock:
                self._subscribers.end_all()
                self._confirmed.clear()
                await self._close()

    def _dispatch(self, received: dict[str, Any]) -> None:
        kind = received["type"]
        if kind not in ("subscribe", "message"):
            return
        channel = received["channel"]
        thread = (channel.decode() if isinstance(channel, bytes) else channel)[len(self._prefix) :]
        if kind == "subscribe":
            if thread in self._confirmed:
                self._confirmed[thread].set()
            return
        try:
            item = json.loads(received["data"])
        except ValueError:
            logger.warning("webchat feed: an unreadable frame for session %s", thread)
            return
        self._subscribers.deliver(thread, item)


class WebChatChannelSender:
    """The web chat has no provider: a message is delivered by being published to the feed,
    which the conversation service does once it recorded the message as sent."""

    async def send(self, message: Outbound) -> str:
        return message.message_id

    async def hand_off(self, thread: str | None) -> None:
        """The visitor's widget has no notion of who answers."""
