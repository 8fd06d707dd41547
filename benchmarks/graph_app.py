"""The WhatsApp Cloud API (Graph) as a local server that counts the replies it is handed.

    .venv/bin/python -m benchmarks.graph_app --port 8100 [--token T] [--phone-number-id P]

The tests' ``FakeGraph`` (``tests/integration/channels/graph_server.py``) speaks the wire
format: ``POST /{version}/{phone-number-id}/messages`` with the bearer token answers
``{"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id": "wamid..."}]}``.
Here it runs in a process of its own on a fixed port, and every message it accepts is kept
as ``[recipient, text, unix time]``. ``GET /replies?since=N`` answers the ones from the N-th
on, so a benchmark can poll without reading the whole list again; ``GET /health`` answers
when it is up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qs

from tests.fakeserver import Recorded, Reply
from tests.integration.channels.graph_server import FakeGraph

TOKEN = "benchmark-graph-token"
PHONE_NUMBER_ID = "1234567890"
VERSION = "v21.0"


class RecordingGraph(FakeGraph):
    def __init__(self, *, token: str, phone_number_id: str, version: str) -> None:
        super().__init__(token=token, phone_number_id=phone_number_id, version=version)
        self.answered: list[tuple[str, str, float]] = []

    async def listen(self, port: int) -> None:
        """Serve on ``port`` of the loopback address until cancelled."""
        server = await asyncio.start_server(self._serve, self.host, port)
        self.base_url = f"http://{self.host}:{port}"
        async with server:
            await server.serve_forever()

    def answer(self, request: Recorded) -> Reply:
        # Kept requests would only grow: the replies list holds what is counted.
        self.requests.clear()
        if request.method == "GET" and request.path == "/health":
            return Reply(200, {"status": "ok"})
        if request.method == "GET" and request.path == "/replies":
            since = int(parse_qs(request.query).get("since", ["0"])[0])
            return Reply(200, {"replies": self.answered[since:]})
        return super().answer(request)

    def _send(self, payload: dict[str, Any]) -> Reply:
        reply = super()._send(payload)
        if reply.status == 200:
            recipient = payload.get("to") or payload.get("recipient") or ""
            text = payload.get("text", {}).get("body") or json.dumps(payload, sort_keys=True)
            self.answered.append((recipient, text, time.time()))
        return reply


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", default=TOKEN)
    parser.add_argument("--phone-number-id", default=PHONE_NUMBER_ID)
    parser.add_argument("--version", default=VERSION)
    args = parser.parse_args()
    graph = RecordingGraph(
        token=args.token, phone_number_id=args.phone_number_id, version=args.version
    )
    asyncio.run(graph.listen(args.port))
