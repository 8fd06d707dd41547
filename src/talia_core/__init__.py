"""Talia's core: the business, its rules, use cases and the ports it needs.

Imports only the standard library and attrs.
"""
