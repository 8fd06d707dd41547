"""The contract every ``CallTransfers`` passes: Twilio's call-update API and the fake.

Subclass ``CallTransfersContract`` and provide the fixtures ``transfers`` (able to put calls
through) and ``transferred`` (the call ids it put through, as the other side saw them).
"""

from __future__ import annotations

from collections.abc import Callable

from talia_core.conversations.call_ports import CallTransfers


class CallTransfersContract:
    async def test_a_call_is_put_through(
        self, transfers: CallTransfers, transferred: Callable[[], list[str]]
    ) -> None:
        await transfers.transfer("CA0001")
        await transfers.transfer("CA0002")

        assert transferred() == ["CA0001", "CA0002"]
