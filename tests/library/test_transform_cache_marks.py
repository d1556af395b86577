"""The transform cache's use marks (least recently used evicted first; a result's mtime
written at most once a minute), as the server's socket loop makes them: the same result
marked again and again, another result in between, the mark of a result whose file
went."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imageshelf.app.library import transform_cache
from imageshelf.app.library.derived import FolderDerived
from imageshelf.app.library.transform_cache import TransformCache

SHA = "ab" * 32


def _cache(root: Path, limit: list[int]) -> TransformCache:
    return TransformCache(FolderDerived(root), lambda: limit[0])


def test_the_newest_result_marked_again_then_another_keeps_the_order(tmp_path: Path) -> None:
    limit = [10**9]
    cache = _cache(tmp_path, limit)
    a = cache.put(SHA, "a.webp", b"a" * 100)
    b = cache.put(SHA, "b.webp", b"b" * 100)
    for _ in range(3):
        cache.touch(b, wait=False)  # already the newest: nothing to change
    cache.touch(a, wait=False)
    cache.touch(b, wait=False)  # newest again, after a: a is the least recently used
    limit[0] = 150
    cache.evict()
    assert not (tmp_path / a).exists() and (tmp_path / b).exists()
    cache.touch(a, wait=False)  # evicted: no mark, no file made
    assert not (tmp_path / a).exists()
    assert cache.total_bytes == 100


def test_a_result_used_again_and_again_gets_its_mtime_when_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = _cache(tmp_path, [10**9])
    key = cache.put(SHA, "a.webp", b"a" * 100)
    path = tmp_path / key
    os.utime(path, (1_000_000, 1_000_000))
    cache.touch(key, wait=False)  # written less than a minute ago: the mtime waits
    assert path.stat().st_mtime == 1_000_000
    monkeypatch.setattr(transform_cache, "TOUCH_EVERY_S", 0.0)  # every mark is due
    cache.touch(key, wait=False)
    assert path.stat().st_mtime > 1_000_000


def test_the_opener_for_the_loop_opens_the_result_until_it_goes(tmp_path: Path) -> None:
    cache = _cache(tmp_path, [10**9])
    key = cache.put(SHA, "a.webp", b"a" * 100)
    opener = cache.opener_at_once(key)
    assert opener is not None
    with opener() as f:
        assert f.read() == b"a" * 100
    cache.discard(SHA)
    with pytest.raises(FileNotFoundError):
        opener()
