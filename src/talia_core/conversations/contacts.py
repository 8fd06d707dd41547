"""A contact: the person behind one or more channel identities."""

from __future__ import annotations

from datetime import datetime

import attrs

from talia_core.conversations.events import Sender, clip
from talia_core.conversations.vocabulary import Channel, ChannelIdentity
from talia_core.shared.ids import new_id
from talia_core.shared.text import optional_text

MAX_NAME = 200


@attrs.define
class Contact:
    name: str | None
    identities: list[ChannelIdentity]
    created_at: datetime
    updated_at: datetime
    phone: str | None = None
    email: str | None = None
    notes: str | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def first_seen(cls, sender: Sender, at: datetime) -> Contact:
        return cls(
            name=clip(sender.name, MAX_NAME),
            identities=list(dict.fromkeys(sender.identities)),
            created_at=at,
            updated_at=at,
            phone=sender.phone,
        )

    def learn(self, sender: Sender, at: datetime) -> bool:
        """Take the identities and details this sender adds; True when anything changed."""
        added = [i for i in sender.identities if i not in self.identities]
        self.identities.extend(added)
        changed = bool(added)
        if sender.name and not self.name:
            self.name = clip(sender.name, MAX_NAME)
            changed = True
        if sender.phone and not self.phone:
            self.phone = sender.phone
            changed = True
        if changed:
            self.updated_at = at
        return changed

    def edit(self, *, name: str | None, email: str | None, notes: str | None, at: datetime) -> None:
        self.name = optional_text("name", name, MAX_NAME)
        self.email = optional_text("email", email, 254)
        self.notes = optional_text("notes", notes, 2000)
        self.updated_at = at

    def identity_for(self, channel: Channel) -> ChannelIdentity | None:
        """The address to reach the contact on a channel (a WhatsApp wa_id before a BSUID)."""
        for kind in channel.identity_kinds:
            for identity in self.identities:
                if identity.kind is kind:
                    return identity
        return None
