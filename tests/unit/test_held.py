"""A held reading serves a burst of callers with one read, and is read again once old."""

from __future__ import annotations

from web.held import Held


def test_a_reading_is_reused_while_it_is_held() -> None:
    reads: list[int] = []
    reading: Held[int] = Held(seconds=3600)
    answers = [reading.get(lambda: reads.append(1) or len(reads)) for _ in range(50)]
    assert answers == [1] * 50
    assert len(reads) == 1


def test_a_reading_held_for_no_time_is_taken_each_time() -> None:
    reads: list[int] = []
    reading: Held[int] = Held(seconds=0)
    assert [reading.get(lambda: reads.append(1) or len(reads)) for _ in range(3)] == [1, 2, 3]


def test_a_reading_of_none_is_held_too() -> None:
    reads: list[int] = []
    reading: Held[None] = Held(seconds=3600)
    for _ in range(3):
        reading.get(lambda: reads.append(1))
    assert len(reads) == 1
