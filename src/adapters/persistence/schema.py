"""Every table, gathered for Alembic and for the schema drift check."""

from adapters.persistence import (
    catalog,
    commerce,
    conversations,
    feedback,
    identity,
    jobs,
    kernel,
)
from adapters.persistence.metadata import metadata

__all__ = [
    "catalog",
    "commerce",
    "conversations",
    "feedback",
    "identity",
    "jobs",
    "kernel",
    "metadata",
]
