"""Sound re-encoded: the ``AudioConverter`` on PyAV (FFmpeg), with WAV, raw PCM and μ-law
handled by the standard library alone."""
