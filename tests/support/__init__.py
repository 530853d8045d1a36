"""Helpers and fixtures shared by the test folders and the benchmarks, one module per concept."""
