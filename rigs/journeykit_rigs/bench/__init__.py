"""Benchmarks (docs/performance.md): fan-out, sweep, engine cost, ingest."""
