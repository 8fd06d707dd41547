"""Who asks for a commerce move."""

from __future__ import annotations

import attrs

from talia_core.shared.errors import Forbidden


@attrs.frozen
class Actor:
    """Who asks: a customer acting on their own things, or an admin acting on anyone's."""

    id: str
    is_admin: bool = False
    email: str | None = None

    def may_act_for(self, customer_id: str) -> bool:
        return self.is_admin or self.id == customer_id


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only an admin may do this")
