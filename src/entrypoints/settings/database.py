"""The database settings (``TALIA_DATABASE__*``): where to connect, and how."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator


class DatabasePooler(StrEnum):
    NONE = "none"
    TRANSACTION = "transaction"


class DatabaseSettings(BaseModel):
    url: str = Field(
        "sqlite+aiosqlite:///./talia.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite, postgresql+asyncpg or mysql+asyncmy.",
    )
    pool_size: Annotated[int, Field(ge=1, le=200)] = 10
    echo: bool = False
    pooler: DatabasePooler = Field(
        DatabasePooler.NONE,
        description="transaction: the PostgreSQL URL is a pooler in transaction mode (PgBouncer, "
        "Supabase's Supavisor on port 6543), which gives each transaction any server connection.",
    )
    migration_url: str = Field(
        "",
        description="Where `talia migrate` connects, directly to the server; empty: the URL.",
    )

    @field_validator("url", "migration_url")
    @classmethod
    def _supported(cls, value: str, info: ValidationInfo) -> str:
        drivers = ("sqlite+aiosqlite://", "postgresql+asyncpg://", "mysql+asyncmy://")
        if (value or info.field_name == "url") and not value.startswith(drivers):
            raise ValueError(f"must start with one of {', '.join(drivers)}")
        return value

    @model_validator(mode="after")
    def _pooler_on_postgresql(self) -> DatabaseSettings:
        if self.pooler is DatabasePooler.TRANSACTION and not self.url.startswith("postgresql"):
            raise ValueError("TALIA_DATABASE__POOLER=transaction needs a postgresql+asyncpg URL")
        return self
