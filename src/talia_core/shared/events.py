"""Domain events: facts the core records, for audit trails and for other contexts to react."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from talia_core.shared.ids import new_id


@attrs.frozen
class DomainEvent:
    """Something that happened; ``name`` is stable, ``data`` is JSON-serialisable."""

    name: str
    occurred_at: datetime
    data: dict[str, Any] = attrs.field(factory=dict)
    id: str = attrs.field(factory=new_id)
