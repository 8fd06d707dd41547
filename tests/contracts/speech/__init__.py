"""The contracts of the hearing ports: ``SpeechToText`` and ``TextToSpeech``."""
