"""``imageshelf serve`` and ``imageshelf token`` (filled in by the server work)."""

from __future__ import annotations

import argparse

from app.library import Library


def token_command(args: argparse.Namespace) -> int:
    with Library.open(args.library, reconcile=False) as lib:
        print(lib.regenerate_api_token() if args.regenerate else lib.api_token())
    return 0


def serve_command(args: argparse.Namespace) -> int:
    raise SystemExit("imageshelf serve: not built yet")
