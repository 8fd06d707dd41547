"""Notifications: telling systems outside Talia what happened, from the outbox's events."""
