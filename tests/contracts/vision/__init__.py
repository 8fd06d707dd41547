"""The contracts of the seeing ports: ``ImageUnderstanding`` and ``SignLanguageReader``."""
