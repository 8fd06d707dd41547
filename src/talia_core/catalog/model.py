"""Plans and templates: named, priced, switched on and off by admins."""

from __future__ import annotations

from datetime import datetime

import attrs

from talia_core.shared.errors import RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.money import Money
from talia_core.shared.text import optional_text, required_text

MAX_FEATURES = 30
MAX_PRICE = 100_000_000  # one million in major units: anything above is a typo


def _price(price: Money) -> Money:
    if price.is_negative or price.amount > MAX_PRICE:
        raise RuleViolated(
            f"price must be between 0 and {MAX_PRICE} minor units", {"price": "out of range"}
        )
    return price


def _features(features: list[str]) -> list[str]:
    if len(features) > MAX_FEATURES:
        raise RuleViolated(
            f"a plan lists at most {MAX_FEATURES} features", {"features": "too many"}
        )
    return [required_text("features", feature, 200) for feature in features]


def _preview_url(url: str | None) -> str | None:
    cleaned = optional_text("preview_url", url, 500)
    if cleaned is not None and not cleaned.startswith(("https://", "http://", "/")):
        raise RuleViolated(
            "preview_url must be an http(s) URL or a path", {"preview_url": "invalid"}
        )
    return cleaned


@attrs.define
class Plan:
    name: str
    price: Money
    features: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime
    id: str = attrs.field(factory=new_id)

    @classmethod
    def create(
        cls, *, name: str, price: Money, features: list[str], active: bool, at: datetime
    ) -> Plan:
        return cls(
            name=required_text("name", name, 120),
            price=_price(price),
            features=_features(features),
            active=active,
            created_at=at,
            updated_at=at,
        )

    def revise(
        self,
        *,
        at: datetime,
        name: str | None = None,
        price: Money | None = None,
        features: list[str] | None = None,
        active: bool | None = None,
    ) -> None:
        """Change the given fields; the others stay as they are."""
        if name is not None:
            self.name = required_text("name", name, 120)
        if price is not None:
            self.price = _price(price)
        if features is not None:
            self.features = _features(features)
        if active is not None:
            self.active = active
        self.updated_at = at


@attrs.define
class Template:
    """An invitation design customers buy and fill in."""

    name: str
    category: str
    price: Money
    preview_url: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
    id: str = attrs.field(factory=new_id)

    @classmethod
    def create(
        cls,
        *,
        name: str,
        category: str,
        price: Money,
        preview_url: str | None,
        active: bool,
        at: datetime,
    ) -> Template:
        return cls(
            name=required_text("name", name, 120),
            category=required_text("category", category, 60).lower(),
            price=_price(price),
            preview_url=_preview_url(preview_url),
            active=active,
            created_at=at,
            updated_at=at,
        )

    def revise(
        self,
        *,
        at: datetime,
        name: str | None = None,
        category: str | None = None,
        price: Money | None = None,
        preview_url: str | None = None,
        active: bool | None = None,
    ) -> None:
        if name is not None:
            self.name = required_text("name", name, 120)
        if category is not None:
            self.category = required_text("category", category, 60).lower()
        if price is not None:
            self.price = _price(price)
        if preview_url is not None:
            self.preview_url = _preview_url(preview_url)
        if active is not None:
            self.active = active
        self.updated_at = at
