"""Entrypoints: settings, the composition root, the HTTP app and the ``talia`` command."""
