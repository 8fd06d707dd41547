"""The WhatsApp Cloud API (Graph) as a local server that counts the replies it is handed.

    .venv/bin/python -m benchmarks.graph_app --port 8100 [--token T] [--phone-number-id P]
        [--webhook http://127.0.0.1:8000/api/whatsapp/webhook --app-secret S]

The tests' ``FakeGraph`` (``tests/integration/channels/graph_server.py``) speaks the wire
format: ``POST /{version}/{phone-number-id}/messages`` with the bearer token answers
``{"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id": "wamid..."}]}``.
Here it runs in a process of its own on a fixed port, and every message it accepts is kept
as ``[recipient, text, unix time]``. ``GET /replies?since=N`` answers the ones from the N-th
on, so a benchmark can poll without reading the whole list again; ``GET /health`` answers
when it is up.

With ``--webhook``, every message it accepts is followed, as Meta does, by a ``sent`` status
notification POSTed there and signed with ``--app-secret``, carrying back the
``biz_opaque_callback_data`` the message was sent with.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
from tests.fakeserver import Recorded, Reply
from tests.integration.channels.graph_server import FakeGraph

TOKEN = "benchmark-graph-token"
PHONE_NUMBER_ID = "1234567890"
VERSION = "v21.0"


class RecordingGraph(FakeGraph):
    keep_alive = True  # as Graph does: the sender's connections are reused

    def __init__(
        self,
        *,
        token: str,
        phone_number_id: str,
        version: str,
        webhook: str | None = None,
        app_secret: str = "",
    ) -> None:
        super().__init__(token=token, phone_number_id=phone_number_id, version=version)
        self.answered: list[tuple[str, str, float]] = []
        self._phone_number_id = phone_number_id
        self._webhook = webhook
        self._app_secret = app_secret.encode()
        self._notifying: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None  # one for every status, made in the loop

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
            if self._webhook is not None:
                assert isinstance(reply.body, dict)
                wamid = reply.body["messages"][0]["id"]
                status = {"id": wamid, "status": "sent", "timestamp": str(int(time.time()))}
                status["recipient_id"] = recipient
                if (ours := payload.get("biz_opaque_callback_data")) is not None:
                    status["biz_opaque_callback_data"] = ours
                task = asyncio.get_running_loop().create_task(self._notify(status))
                self._notifying.add(task)
                task.add_done_callback(self._notifying.discard)
        return reply

    async def _notify(self, status: dict[str, Any]) -> None:
        """The status notification Meta sends for a message it took; retried while the
        webhook does not answer 200, as Meta retries."""
        metadata = {"display_phone_number": "51999999999", "phone_number_id": self._phone_number_id}
        value = {"messaging_product": "whatsapp", "metadata": metadata, "statuses": [status]}
        change = {"value": value, "field": "messages"}
        notification = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [change]}],
        }
        body = json.dumps(notification, separators=(",", ":")).encode()
        digest = hmac.new(self._app_secret, body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
        assert self._webhook is not None
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10)
        for _ in range(30):
            try:
                answer = await self._client.post(self._webhook, content=body, headers=headers)
                if answer.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", default=TOKEN)
    parser.add_argument("--phone-number-id", default=PHONE_NUMBER_ID)
    parser.add_argument("--version", default=VERSION)
    parser.add_argument("--webhook", help="where to POST a status for each message taken")
    parser.add_argument("--app-secret", default="", help="signs the status notifications")
    args = parser.parse_args()
    graph = RecordingGraph(
        token=args.token,
        phone_number_id=args.phone_number_id,
        version=args.version,
        webhook=args.webhook,
        app_secret=args.app_secret,
    )
    asyncio.run(graph.listen(args.port))
