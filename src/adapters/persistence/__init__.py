"""SQLAlchemy 2 (async, Core) persistence for SQLite, PostgreSQL and MySQL/MariaDB."""
