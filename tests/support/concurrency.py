"""Calls run in threads released at the same moment."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import TypeVar

T = TypeVar("T")


#: How long any wait may take before the test fails (generous: this is not a timing test).
DEADLINE = 60.0


def concurrently(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run each call in its own thread, all released at once by a barrier; results in order."""
    barrier = Barrier(len(calls))

    def released(call: Callable[[], T]) -> T:
        """Wait for every other thread, then call."""
        barrier.wait(timeout=DEADLINE)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(released, call) for call in calls]
        return [future.result(timeout=DEADLINE) for future in futures]
