"""The kinds of job the knowledge base records."""

from __future__ import annotations

from datetime import datetime, timedelta

from talia_core.knowledge.model import Document
from talia_core.shared.jobs import Job, job_id_for

INGEST_JOB = "knowledge.ingest"
EMBED_JOB = "knowledge.embed"
SETTLE_JOB = "knowledge.settle"


def ingestion(document: Document, at: datetime) -> Job:
    """Read and index the document's current revision."""
    payload = {"document_id": document.id, "revision": document.revision}
    return Job.new(INGEST_JOB, payload, at=at, job_id=ingestion_id(document))


def ingestion_id(document: Document) -> str:
    """One ingestion job per revision of a document, whoever asks for it."""
    return job_id_for(f"{INGEST_JOB}:{document.id}:{document.revision}")


def embedding(at: datetime) -> Job:
    """Compute the vectors chunks are missing; one such job waits at a time."""
    return Job.new(EMBED_JOB, {}, at=at, debounce_key=EMBED_JOB)


def settling(at: datetime, delay: timedelta) -> Job:
    """Fail the documents whose ingestion stopped for good, ``delay`` from ``at``; one such
    job waits at a time, put off by each new request."""
    return Job.new(SETTLE_JOB, {}, at=at, delay=delay, debounce_key=SETTLE_JOB)
