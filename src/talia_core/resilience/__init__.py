"""Resilience: how outbound calls are bounded, retried, broken off and replaced."""
