"""Runtimes of the durable jobs: who claims them from the database, and where they run."""
