"""Attempt counters for login throttling: in-process, or shared through Redis."""
