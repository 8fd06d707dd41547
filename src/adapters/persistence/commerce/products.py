"""The products commerce sells, read from the catalog context's tables."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa

from adapters.persistence.catalog import plans, templates
from adapters.persistence.connection import Transaction
from adapters.persistence.mapping import money
from talia_core.commerce.products import Product, ProductKind, ProductRef


class SqlAlchemyProductCatalog:
    """Reads the catalog context's tables: one query per kind of product asked for."""

    _TABLES = {ProductKind.PLAN: plans, ProductKind.TEMPLATE: templates}

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def find(self, refs: Collection[ProductRef]) -> dict[ProductRef, Product]:
        found: dict[ProductRef, Product] = {}
        for kind, table in self._TABLES.items():
            ids = sorted({ref.id for ref in refs if ref.kind is kind})
            if not ids:
                continue
            query = sa.select(
                table.c.id,
                table.c.name,
                table.c.price_amount,
                table.c.price_currency,
                table.c.active,
            ).where(table.c.id.in_(ids))
            for row in (await self._tx.execute(query)).mappings():
                ref = ProductRef(kind, row["id"])
                found[ref] = Product(ref, row["name"], money(row, "price"), row["active"])
        return found
