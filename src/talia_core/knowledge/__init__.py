"""The knowledge base: the business's documents, split into passages the assistants search."""
