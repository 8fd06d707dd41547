"""Identity: users, roles, sessions (refresh-token families), throttling and the audit log."""
