"""Contract suites, one per port: each is run by the fake's tests and by every real adapter's.

The suites live here; the tests that run them live beside the adapter they exercise
(``tests/unit`` for fakes, ``tests/integration`` for real adapters and databases).
"""
