"""Conversations: contacts on every channel, their conversations and messages."""
