"""``LanguageModel`` adapters: OpenAI's Responses API and Hugging Face's chat completions."""
