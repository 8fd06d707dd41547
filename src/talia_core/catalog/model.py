"""Plans and templates: named, priced, switched on and off by admins."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

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


@attrs.frozen
class PlanAllowances:
    """What an invitation bought with the plan may hold; the defaults are a plan's that
    states none (plans made before allowances existed)."""

    guests: int = attrs.field(default=100, validator=attrs.validators.instance_of(int))
    media_count: int = attrs.field(default=10, validator=attrs.validators.instance_of(int))
    media_bytes: int = attrs.field(default=5_000_000, validator=attrs.validators.instance_of(int))
    events: int = attrs.field(default=5, validator=attrs.validators.instance_of(int))
    custom_slug: bool = False
    published_days: int = attrs.field(default=365, validator=attrs.validators.instance_of(int))

    def __attrs_post_init__(self) -> None:
        for name, (low, high) in ALLOWANCE_RANGES.items():
            if not low <= getattr(self, name) <= high:
                raise RuleViolated(
                    f"allowances.{name} is {low} to {high}", {f"allowances.{name}": "out of range"}
                )


ALLOWANCE_RANGES = {
    "guests": (0, 10_000),
    "media_count": (0, 500),
    "media_bytes": (0, 200_000_000),
    "events": (0, 50),
    "published_days": (1, 3_650),
}
MAX_SCHEMA_FIELDS = 200


def _fields(fields: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A template's field schema is data the invitations context reads; here only its
    outline is held to (an object with at most ``MAX_SCHEMA_FIELDS`` properties)."""
    if fields is None:
        return None
    properties = fields.get("properties")
    if not isinstance(properties, Mapping) or not 0 < len(properties) <= MAX_SCHEMA_FIELDS:
        raise RuleViolated(
            f"fields is a JSON schema of 1 to {MAX_SCHEMA_FIELDS} properties",
            {"fields": "invalid"},
        )
    return dict(fields)


@attrs.define
class Plan:
    name: str
    price: Money
    features: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime
    allowances: PlanAllowances = attrs.field(factory=PlanAllowances)
    id: str = attrs.field(factory=new_id)

    @classmethod
    def create(
        cls,
        *,
        name: str,
        price: Money,
        features: list[str],
        active: bool,
        at: datetime,
        allowances: PlanAllowances | None = None,
    ) -> Plan:
        return cls(
            name=required_text("name", name, 120),
            price=_price(price),
            features=_features(features),
            active=active,
            created_at=at,
            updated_at=at,
            allowances=allowances or PlanAllowances(),
        )

    def revise(
        self,
        *,
        at: datetime,
        name: str | None = None,
        price: Money | None = None,
        features: list[str] | None = None,
        active: bool | None = None,
        allowances: PlanAllowances | None = None,
    ) -> None:
        """Change the given fields; the others stay as they are."""
        if allowances is not None:
            self.allowances = allowances
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
    fields: dict[str, Any] | None = None
    """The JSON schema of what an invitation of this design holds; ``None``: the default."""
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
        fields: Mapping[str, Any] | None = None,
    ) -> Template:
        return cls(
            name=required_text("name", name, 120),
            category=required_text("category", category, 60).lower(),
            price=_price(price),
            preview_url=_preview_url(preview_url),
            active=active,
            created_at=at,
            updated_at=at,
            fields=_fields(fields),
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
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        if fields is not None:
            self.fields = _fields(fields)
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
