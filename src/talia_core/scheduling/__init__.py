"""Scheduling: business hours, free slots and appointments that never double-book a slot."""
