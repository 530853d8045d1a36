"""Benchmarks of agentdesk against the bare-stack ceilings of ../shared/limits (not tests)."""
