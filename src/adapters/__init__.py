"""Adapters: technology plugged into the core's ports, one port each."""
