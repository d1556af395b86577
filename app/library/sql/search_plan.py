"""How a page of search results is read (``listing.page``, ``keyset``'s cursor pages):
walking the sort's index and testing each row, walking it and testing each pk against
the term's matches, or sorting the matches. A choice of cost only: every plan gives the
same rows (``tests/library/test_query_plans.py``)."""

from __future__ import annotations

# Rough costs in microseconds, measured at 100,000 images (benchmarks/bench_queries.py),
# for choosing how to read a page of search results:
#   "scan": walk the sort index, reading each row to test the term   → per row walked
#   "member": walk the sort index, testing each pk against the set of matches from the
#             trigram index                                          → per match + per row
#   "sort": read every match through the trigram index, sort them    → per match
_COST_SCAN_ROW = 0.6
_COST_MEMBER_MATCH = 0.5
_COST_MEMBER_ROW = 0.3
_COST_SORT_MATCH = 2.5


def search_plan(offset: int, limit: int, matches: int, in_scope: int, *, reversible: bool) -> str:
    """The cheapest way to a page of ``matches`` search results spread over ``in_scope``
    rows: a common term's first page is found by walking a few hundred rows, a rare
    term's by sorting its handful of matches."""
    start = min(offset, max(matches - offset - limit, 0)) if reversible else offset
    walked = min((start + limit) * in_scope / matches, in_scope)
    costs = {
        "scan": walked * _COST_SCAN_ROW,
        "member": matches * _COST_MEMBER_MATCH + walked * _COST_MEMBER_ROW,
        "sort": matches * _COST_SORT_MATCH,
    }
    return min(costs, key=costs.__getitem__)
