"""``migrations/versions.HEAD`` (what the library compares to skip Alembic on every open)
is Alembic's own head, and the revisions form one line."""

from __future__ import annotations

from importlib.resources import as_file, files

from alembic.script import ScriptDirectory

from imageshelf.app.library.migrations import versions
from imageshelf.app.library.sql import engine


def test_head_constant_is_alembics_head() -> None:
    with as_file(files(engine._CORE_PACKAGE).joinpath("migrations")) as scripts:
        script = ScriptDirectory(str(scripts))
        heads = script.get_heads()
        assert heads == [versions.HEAD], "bump HEAD in migrations/versions/__init__.py"
        assert engine.head_revision() == versions.HEAD
        chain = [rev.revision for rev in script.walk_revisions()]
    assert chain[-1] == "0001" and len(chain) == len(set(chain))
