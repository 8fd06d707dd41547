"""In-memory fakes of the storage ports: they pass the same contract suites as SQL."""
