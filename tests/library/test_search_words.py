"""A folder library's words (migration 0028, ``sql/sqlite_search.py``): each image's tokens
kept exactly by the triggers whatever its text holds, whoever writes it; a term's
matches read from them the same as the rule (``instr`` on the search text) in every
plan; the images of a library made before 0028 found after it is opened."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from imageshelf.app.library import ALL_FOLDERS, Library
from imageshelf.app.library.filters import SEARCH_FIELD_SEPARATOR, Filter, Sort
from imageshelf.app.library.layout import DB_FILE, META_DIR
from imageshelf.app.library.sql import listing, sqlite_search
from imageshelf.app.library.sql.engine import make_engine, upgrade

# Texts a JSON array built from the text by string replacement could break on: quotes,
# backslashes (one before "u001f" too), control characters, runs of spaces, brackets,
# characters of several bytes, a line separator, a long word.
ALTS = [
    'a "quoted" word',
    "back\\slash \\u001f and \\\\ two",
    "new\nline\ttab\r\ncarriage",
    "  double  spaces  and trailing ",
    "Café CAFÉ cafe café-au-lait",
    "日本の写真 テスト 富士山",
    "📷camera 🏔️mountain",
    "line\u2028separator [json] {\"a\": 1}, 'single'",
    "umbrella umbrellas sunumbrella",
    "x" * 300,
    "",
    None,
]


def _tokens(search_text: str) -> set[str]:
    """The rule: cut at spaces and the fields' separator, 3+ characters."""
    return {w for w in search_text.replace(SEARCH_FIELD_SEPARATOR, " ").split(" ") if len(w) >= 3}


def _assert_words_exact(conn: Connection) -> None:
    rows = conn.execute(text("SELECT pk, search_text FROM images")).all()
    expected = {(word, pk) for pk, search in rows for word in _tokens(search)}
    stored = set(
        conn.execute(
            text(
                "SELECT v.word, w.image_pk FROM search_words w "
                "JOIN search_vocab v ON v.id = w.word_id"
            )
        ).all()
    )
    assert stored == expected
    vocab = dict(conn.execute(text("SELECT word, id FROM search_vocab")).all())
    assert set(vocab) == {word for word, _ in expected}  # no word left that no image holds
    # The vocabulary's trigram index finds each word, and only words there are.
    for word, word_id in vocab.items():
        found = conn.execute(
            text("SELECT rowid FROM search_vocab_fts WHERE search_vocab_fts MATCH :w"),
            {"w": sqlite_search.fts_phrase(word)},
        ).scalars()
        assert word_id in set(found), word
    indexed = conn.execute(
        text("SELECT COUNT(*) FROM search_vocab_fts_docsize")  # one row a document
    ).scalar_one()
    assert indexed == len(vocab)


def test_the_words_follow_adds_edits_moves_and_deletes(
    library: Library, make_image: Callable[..., bytes]
) -> None:
    rng = random.Random(28)
    ids: list[str] = []
    for step in range(60):
        roll = rng.random()
        if roll < 0.45 or not ids:
            record = library.add(
                io.BytesIO(make_image(color=(step * 4 % 256, 7, 9))),
                rng.choice(["IMG_0001.JPG", "umbrella shop.png", "x.jpg", "日本.png"]),
                alt_text=rng.choice(ALTS),
            )
            ids.append(record.id)
        elif roll < 0.7:
            library.update(rng.choice(ids), alt_text=rng.choice(ALTS))
        elif roll < 0.85:
            # A move: the same name where it is free, a new one ("x (2).jpg") where not.
            library.update(rng.choice(ids), folder=rng.choice([None, "a", "b"]))
        else:
            gone = rng.choice(ids)
            library.delete(gone)
            ids.remove(gone)
        with library.engine.connect() as conn:
            _assert_words_exact(conn)
    # Another writer's text, with control characters the library's own rules refuse.
    with library.engine.begin() as conn:
        conn.execute(
            text("UPDATE images SET search_text = :s WHERE id = :id"),
            {"s": "\x01ctrl\x1besc words\x7f\x1fsep\\u0001", "id": ids[0]},
        )
        _assert_words_exact(conn)


def _scan(conn: Connection, flt: Filter) -> list[str]:
    where, params = listing.where_clause(flt, "scan")
    return [r.id for r in listing._rows(conn, where, params, 0, 1000, Sort.NEWEST)]


TERMS = ["umbrella", "UMBRELLA", "mbrel", "cafe", "café-au", "日本の写", "camera", "quoted",
         '"quoted"', "slash", "\\u001f", "line\u2028sep", "x" * 40, "nowhere", "img_0001",
         "umb", "ella umb", "e\nli"]  # fmt: skip


@pytest.mark.parametrize("words_cap", [0, 1, sqlite_search.WORDS_CAP])
def test_a_term_found_through_its_words_is_the_rule_in_every_plan(
    library: Library,
    make_image: Callable[..., bytes],
    monkeypatch: pytest.MonkeyPatch,
    words_cap: int,
) -> None:
    # words_cap 0: only a term no word holds is read from the words; 1: a term held by
    # one word (several: the phrase); the default: every term of 4+ within one word.
    monkeypatch.setattr(sqlite_search, "WORDS_CAP", words_cap)
    for i in range(36):
        library.add(
            io.BytesIO(make_image(color=(i * 7 % 256, 30, 60))),
            f"img_{i:04d}.png",
            alt_text=ALTS[i % len(ALTS)],
            folder=[None, "a", "a/b"][i % 3],
        )
    used_words = 0
    with library.engine.connect() as conn:
        for cap in (0, 3, listing.RESOLVE_CAP):
            monkeypatch.setattr(listing, "RESOLVE_CAP", cap)
            for term in TERMS:
                for folder in [ALL_FOLDERS, None, "a"]:
                    flt = Filter(folder=folder, search=term)
                    expected = _scan(conn, flt)
                    resolved = listing.resolve(conn, flt)
                    used_words += resolved.term_words is not None
                    total = listing.count(conn, resolved)
                    assert total == len(expected), (term, folder, cap)
                    assert listing.count(conn, Filter(folder=folder, search=term)) == total
                    for plan in ("member", "sort"):
                        where, params = listing.where_clause(resolved, plan)
                        got = listing._rows(conn, where, params, 0, 1000, Sort.NEWEST)
                        assert [r.id for r in got] == expected, (term, folder, plan, cap)
                    for offset in range(0, max(total, 1), 5):
                        page = listing.page(conn, resolved, offset, 5, total=total)
                        assert [r.id for r in page] == expected[offset : offset + 5]
    assert used_words > 0
    # Through the library, as the window and the API ask.
    umbrellas = library.list_images(search="Umbrella", page_size=100)
    assert umbrellas.total == len([r for r in umbrellas.items if "umbrella" in r.alt_text.lower()])


def test_which_terms_the_words_answer(library: Library, make_image: Callable[..., bytes]) -> None:
    library.add(io.BytesIO(make_image()), "umbrella.png", alt_text="an umbrella, umbrellas")
    with library.engine.connect() as conn:
        holding = conn.execute(
            text("SELECT id FROM search_vocab WHERE instr(word, 'umbrella') ORDER BY id")
        ).scalars()
        # umbrella.png, "umbrella," and umbrellas (of the name and of the alt text)
        assert sqlite_search.words_of(conn, "umbrella") == tuple(holding)
        assert len(sqlite_search.words_of(conn, "umbrella") or ()) >= 3
        assert sqlite_search.words_of(conn, "nowhere") == ()  # no word: no match, exact
        assert sqlite_search.words_of(conn, "umb") is None  # one trigram: the phrase
        assert sqlite_search.words_of(conn, "an umbrella") is None  # across words
        assert sqlite_search.words_of(conn, "umbrella" + SEARCH_FIELD_SEPARATOR) is None


def test_a_library_made_before_the_words_finds_its_images_through_them(tmp_path: Path) -> None:
    root = tmp_path / "old"
    (root / META_DIR).mkdir(parents=True)
    engine = make_engine(root / META_DIR / DB_FILE)
    upgrade(engine, "0027")
    with engine.begin() as conn:
        for i, search in enumerate(["a.jpg\x1fa.jpg\x1fumbrella red", "b.jpg\x1fb.jpg\x1f"]):
            conn.execute(
                text(
                    "INSERT INTO images (id, folder, filename, original_filename, "
                    "content_type, size, width, height, sha256, mtime_ns, alt_text, "
                    "search_text, created_at, updated_at) VALUES (:id, '', :n, :n, "
                    "'image/jpeg', 1, 1, 1, 'x', 0, NULL, :s, :t, :t)"
                ),
                {"id": f"img_{i:026d}", "n": f"{'ab'[i]}.jpg", "s": search, "t": i},
            )
    engine.dispose()
    with Library.open(root, reconcile=False) as lib:
        with lib.engine.connect() as conn:
            _assert_words_exact(conn)
            flt = listing.resolve(conn, Filter(search="umbrella"))
            assert flt.term_words is not None and len(flt.term_words) == 1
        assert [r.filename for r in lib.list_images(search="umbrella").items] == ["a.jpg"]
