"""``--database``/``--storage`` (``--path-style``) on the command line: the addresses of
a team library, refused in one clear line when wrong (never a traceback), and a password
never printed nor kept; ``library_address`` keeps URLs password-free."""

from __future__ import annotations

import pytest

from imageshelf.app.library import InvalidInput
from imageshelf.app.library import library_address as addresses
from tests.cli.conftest import Cli

GOOD_DB = "postgresql://ann@127.0.0.1:5432/imageshelf"


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["serve", "--database", "mysql://h/db", "--storage", "s3://b"], 2, "postgresql://"),
        (["serve", "--database", "postgresql://h:port/db", "--storage", "s3://b"], 2, "not a URL"),
        (["serve", "--storage", "s3://b"], 2, "needs both addresses"),
        (["serve", "--database", GOOD_DB], 2, "needs both addresses"),
        (["serve", "--database", GOOD_DB, "--storage", "s3://"], 2, "names no bucket"),
        (["serve", "--database", GOOD_DB, "--storage", "gs://b"], 2, "s3://BUCKET"),
        (["serve", "--path-style"], 2, "--path-style goes with"),
        (["ls", "--database", GOOD_DB, "--storage", "s3://b"], 2, "works on a library folder"),
        (["migrate", "a", "b", "--database", GOOD_DB, "--storage", "s3://b"], 2, "--to-database"),
    ],
)
def test_refused_in_one_line(cli: Cli, argv: list[str], code: int, says: str) -> None:
    run = cli(*argv, library=None)
    assert run.code == code and says in run.err, run.err
    assert run.err.count("\n") == 1 and "Traceback" not in run.err


def test_library_beside_a_team_library_is_refused(cli: Cli) -> None:
    run = cli("serve", "--database", GOOD_DB, "--storage", "s3://b")  # cli adds --library
    assert run.code == 2 and "either --library DIR or --database" in run.err


def test_serve_asks_for_the_shared_token(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGESHELF_API_TOKEN", raising=False)
    run = cli(
        "serve",
        "--database",
        "postgresql://ann:pw@127.0.0.1:1/x",
        "--storage",
        "s3://b",
        "--port",
        "0",  # any free port: 8765 may be in use by an Imageshelf on the machine
        library=None,
    )
    assert run.code == 1 and "IMAGESHELF_API_TOKEN" in run.err and "pw" not in run.err


def test_public_url_strips_the_password_only() -> None:
    strip = addresses.public_database_url
    assert strip("postgresql://ann:s%40cret@db.example.org:5433/lib?sslmode=require") == (
        "postgresql://ann@db.example.org:5433/lib?sslmode=require"
    )
    assert strip("postgresql://ann@db/lib") == "postgresql://ann@db/lib"
    assert strip("postgresql://:pw@[::1]/lib") == "postgresql://@[::1]/lib"
    assert (
        strip("postgresql:///lib?host=/run/postgresql") == "postgresql:///lib?host=/run/postgresql"
    )
    assert not addresses.has_password(strip("postgresql://a:b@h/d"))
    back = addresses.with_password("postgresql://ann@db:5433/lib", "p@ss:word")
    assert addresses.has_password(back) and strip(back) == "postgresql://ann@db:5433/lib"


def test_path_style_rides_on_the_storage_url() -> None:
    address = addresses.team(GOOD_DB, "s3://bucket/team", path_style=True)
    assert address.storage == "s3://bucket/team?path_style=1"
    assert "pw" not in addresses.team("postgresql://ann:pw@h/d", "s3://bucket").describe()
    with pytest.raises(InvalidInput):
        addresses.team(GOOD_DB, "")
