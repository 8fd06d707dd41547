"""Driver errors become core errors only where the caller can cause them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.commerce.tables import coupons
from adapters.persistence.connection import Transaction
from adapters.persistence.identity import refresh_tokens
from adapters.persistence.kernel import sequences
from talia_core.shared.errors import Conflict, ExternalServiceUnavailable


async def _run(engine: AsyncEngine, statement: sa.Executable) -> None:
    async with engine.connect() as connection:
        await Transaction(connection).execute(statement)
        await connection.rollback()


async def test_a_duplicate_key_is_a_conflict(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(sequences.insert().values(name="claims", value=1))

    with pytest.raises(Conflict, match="same unique key"):
        await _run(engine, sequences.insert().values(name="claims", value=2))


async def test_a_reference_to_nothing_is_a_conflict(engine: AsyncEngine) -> None:
    orphan = refresh_tokens.insert().values(
        id="00000000-0000-7000-8000-000000000001",
        session_id="00000000-0000-7000-8000-000000000002",
        token_hash="x" * 64,
        issued_at=sa.func.current_timestamp(),
        expires_at=sa.func.current_timestamp(),
    )
    with pytest.raises(Conflict, match="refers to one that does not exist"):
        await _run(engine, orphan)


async def test_a_missing_required_value_stays_a_defect(engine: AsyncEngine) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        await _run(engine, sequences.insert().values(name="claims", value=None))


async def test_a_failed_check_stays_a_defect_and_is_no_outage(engine: AsyncEngine) -> None:
    coupon = _coupon_row()
    async with engine.begin() as connection:
        await connection.execute(coupons.insert().values(coupon))

    with pytest.raises(sa.exc.DBAPIError) as raised:
        await _run(engine, coupons.update().values(redemptions=-1))

    assert not isinstance(raised.value, ExternalServiceUnavailable)


def _coupon_row() -> dict[str, object]:
    return {
        "id": "00000000-0000-7000-8000-000000000003",
        "code": "CHECKED",
        "kind": "percentage",
        "percent_off_bp": 1_000,
        "active": True,
        "applies_to": [],
        "redemptions": 0,
        "created_at": sa.func.current_timestamp(),
        "updated_at": sa.func.current_timestamp(),
    }
