"""Calling functions: what an agent may dial, as whom, for how long and when."""
