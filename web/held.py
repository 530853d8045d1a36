"""A reading reused for a few seconds, so a burst of requests makes one read behind it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from flask import Flask

T = TypeVar("T")


class Held(Generic[T]):
    """The last reading, taken again once it is `seconds` old; one reading at a time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._reading: tuple[float, T] | None = None

    def get(self, read: Callable[[], T]) -> T:
        """The held reading, or a new one from `read` when it is too old."""
        with self._lock:  # the others wait for this reading instead of making their own
            if self._reading is None or time.monotonic() - self._reading[0] >= self.seconds:
                self._reading = (time.monotonic(), read())
            return self._reading[1]


def held(app: Flask, key: str, seconds: float) -> Held[T]:
    """The app's reading kept under `key` (made on first use)."""
    found: Held[T] = app.extensions.setdefault(key, Held(seconds))
    return found
