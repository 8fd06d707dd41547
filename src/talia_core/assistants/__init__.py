"""Assistants: definitions held as data, the language models they run on, their tools."""
