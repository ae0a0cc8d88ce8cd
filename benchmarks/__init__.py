"""Benchmarks of abtool against the pandas + scipy script a user would otherwise write."""
