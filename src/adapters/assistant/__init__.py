"""Assistants behind the ``Assistant`` port; the offline one is driven by a definition."""
