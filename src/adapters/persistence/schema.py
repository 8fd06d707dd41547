"""Every table, gathered for Alembic and for the schema drift check.

The unit of work inherits every context's bundle of repositories, and each bundle's
modules define its tables: importing it registers them all on ``metadata``.
"""

from adapters.persistence import unit_of_work
from adapters.persistence.metadata import metadata

__all__ = ["metadata", "unit_of_work"]
