"""Benchmarks: scripts that start servers on loopback and print figures."""
