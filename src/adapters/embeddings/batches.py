"""Texts cut into the requests a provider takes: consecutive, in order, each within a count
of texts and (for providers that limit what a request sums up to) of characters."""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def batches(
    texts: Sequence[str], max_texts: int, max_chars: int | None = None
) -> Iterator[list[str]]:
    """A text longer than ``max_chars`` by itself goes alone: the provider says whether it
    takes it."""
    batch: list[str] = []
    chars = 0
    for text in texts:
        full = len(batch) == max_texts
        if batch and (full or (max_chars is not None and chars + len(text) > max_chars)):
            yield batch
            batch, chars = [], 0
        batch.append(text)
        chars += len(text)
    if batch:
        yield batch
