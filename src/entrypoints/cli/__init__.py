"""The ``talia`` command."""
