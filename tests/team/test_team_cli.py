"""``imageshelf token`` and ``imageshelf keys`` on a team library (``--database``,
``--storage``, as serve takes them), through the real command line: the token is
$IMAGESHELF_API_TOKEN (said plainly when unset, and how to change it); keys made,
listed and revoked there are the ones the library's servers check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from imageshelf.app.library import Library, storage_from_url
from tests.s3_server import S3Server, s3_bucket, s3_server

__all__ = ["s3_bucket", "s3_server"]

PY = [sys.executable, "-m", "imageshelf"]
REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PY, *args], capture_output=True, text=True, timeout=120, env=env, cwd=REPO
    )


def _env(s3_server: S3Server, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "IMAGESHELF_API_TOKEN"}
    return {**env, **s3_server.env(), "PYTHONPATH": str(REPO), **extra}


def test_token_is_the_environments(pg_database: str, s3_bucket: str, s3_server: S3Server) -> None:
    team = ["--database", pg_database, "--storage", f"s3://{s3_bucket}/t", "--path-style"]
    unset = _run(["token", *team], _env(s3_server))
    assert unset.returncode == 1 and unset.stdout == ""
    assert "$IMAGESHELF_API_TOKEN" in unset.stderr and "keeps no token" in unset.stderr
    assert len(unset.stderr.strip().splitlines()) == 1
    given = _run(["token", *team], _env(s3_server, IMAGESHELF_API_TOKEN="team-secret"))
    assert (given.returncode, given.stdout, given.stderr) == (0, "team-secret\n", "")
    again = _run(["token", "--regenerate", *team], _env(s3_server, IMAGESHELF_API_TOKEN="x"))
    assert again.returncode == 1 and "restart every server" in again.stderr


def test_keys_on_a_team_library(
    pg_database: str, s3_bucket: str, s3_server: S3Server, tmp_path: Path
) -> None:
    team = ["--database", pg_database, "--storage", f"s3://{s3_bucket}/k", "--path-style"]
    env = _env(s3_server)
    made = _run(
        ["keys", "create", *team, "--name", "ci", "--scope", "upload", "--folder", "a"], env
    )
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("isk_") and "\n" not in secret
    listed = _run(["keys", "list", "--json", *team], env)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert (row["name"], row["scope"], row["folders"]) == ("ci", "upload", ["a"])
    # The key is the library's: a process of it (a server's) verifies the secret.
    storage = storage_from_url(f"s3://{s3_bucket}/k?path_style=1", tmp_path / "staging")
    with Library.open_team(pg_database, storage) as lib:
        found = lib.keys.verify(secret)
        assert found is not None and found.name == "ci"
        gone = _run(["keys", "revoke", "ci", *team], env)
        assert gone.returncode == 0, gone.stderr
        assert lib.keys.verify(secret) is None
    missing = _run(["keys", "revoke", "ci", *team], env)
    assert missing.returncode == 3 and "ci" in missing.stderr


def test_folder_commands_refuse_a_team_library(pg_database: str, s3_server: S3Server) -> None:
    done = _run(["ls", "--database", pg_database, "--storage", "s3://b/p"], _env(s3_server))
    assert done.returncode == 2
    assert "serve, token and keys" in done.stderr
