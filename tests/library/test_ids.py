"""Ids are not guessable from a neighbour's: within one millisecond they are independent
random values, not the previous one plus 1 (python-ulid's monotonic ULID())."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

from ulid import ULID

from imageshelf.app.library import rules


def test_ids_made_in_the_same_millisecond_are_independent() -> None:
    by_millisecond: dict[int, list[int]] = defaultdict(list)
    for _ in range(5000):
        ulid = ULID.from_str(rules.new_image_id()[len(rules.ID_PREFIX) :])
        by_millisecond[ulid.milliseconds].append(int(ulid) & ((1 << 80) - 1))
    neighbours = [(a, b) for randoms in by_millisecond.values() for a, b in pairwise(randoms)]
    assert len(neighbours) > 100, "5000 ids should share milliseconds"
    # Monotonic generation makes b - a == 1 every time; random parts differ by ~2**79.
    assert not [1 for a, b in neighbours if abs(b - a) < 1 << 40]


def test_ids_are_valid_and_sort_by_time() -> None:
    first = rules.new_image_id()
    assert rules.is_image_id(first)
    later = [rules.new_image_id() for _ in range(50)]
    assert all(
        ULID.from_str(x[4:]).milliseconds >= ULID.from_str(first[4:]).milliseconds for x in later
    )
