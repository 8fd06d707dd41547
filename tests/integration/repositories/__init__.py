"""Repository contracts: each runs over the in-memory database and SQL on every backend."""
