"""Small builders the container calls: clients and their lifetimes, resilience policies,
channel adapters, language models, readiness probes and the job doorbell. Each takes
settings and what it wires, so ``entrypoints.container`` stays a table of providers."""
