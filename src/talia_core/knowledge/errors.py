"""Why a document could not be read."""

from __future__ import annotations

from talia_core.shared.errors import TaliaError


class Unreadable(TaliaError):
    """The bytes cannot be read as their kind: encrypted, corrupt, over the page limit,
    a compressed part that expands too far, or no text at all. The document fails with
    ``detail`` as its reason; trying again would not help."""
