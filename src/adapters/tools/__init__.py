"""The business tools of the assistants: each reads through other contexts' use cases,
for the conversation's own contact only; the composition root puts them in the catalogue."""
