"""Seeded generators of realistic logs with a known effect, for demos, tests and benchmarks."""
