"""Every table, gathered for Alembic and for the schema drift check."""

from adapters.persistence import feedback, identity, kernel
from adapters.persistence.metadata import metadata

__all__ = ["feedback", "identity", "kernel", "metadata"]
