"""Fault-injection and concurrency tests against real PostgreSQL, Redis and processes."""
