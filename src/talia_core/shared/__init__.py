"""Shared kernel: ids, time, money, errors, events, pagination and the unit of work."""
