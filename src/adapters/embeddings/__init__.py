"""``Embedder``s: OpenAI's embeddings, Hugging Face's feature extraction, and a model that
runs here (the ``local-embeddings`` extra)."""
