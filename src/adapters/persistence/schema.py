"""Every table, gathered for Alembic and for the schema drift check.

The unit of work inherits every context's bundle of repositories, and each bundle's
modules define its tables: importing it registers them all on ``metadata``.
"""

from collections.abc import Mapping

from adapters.persistence import unit_of_work
from adapters.persistence.knowledge.tables import is_search_machinery
from adapters.persistence.metadata import metadata

__all__ = ["include_name", "metadata", "unit_of_work"]


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """What Alembic compares: not the full-text machinery migrations write by hand."""
    return not is_search_machinery(name, type_, parent_names.get("table_name"))
