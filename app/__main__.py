"""The ``imageshelf`` command: parses the command line and hands over; no logic here.

imageshelf [--library DIR] [--host H] [--port P]      the desktop window
imageshelf serve --library DIR [--host] [--port] [--public-url URL]
imageshelf token --library DIR [--regenerate]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.library import rules
from app.library.locations import default_library_path

DEFAULT_HOST = rules.DEFAULT_HOST
DEFAULT_PORT = rules.DEFAULT_PORT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imageshelf", description="A desktop image library with alt text."
    )
    parser.add_argument("--library", type=Path, help="library folder (default: %(default)s)")
    parser.add_argument("--host", help="address the HTTP server listens on")
    parser.add_argument("--port", type=int, help="port of the HTTP server")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the HTTP API headless, in the foreground")
    serve.add_argument("--library", type=Path, default=default_library_path())
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--public-url", help=f"base URL for links, e.g. http://192.168.1.5:{DEFAULT_PORT}"
    )

    token = sub.add_parser("token", help="print the library's API token")
    token.add_argument("--library", type=Path, default=default_library_path())
    token.add_argument("--regenerate", action="store_true", help="make a new token first")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from server.cli import serve_command

        return serve_command(args)
    if args.command == "token":
        from server.cli import token_command

        return token_command(args)
    from app.ui.launch import gui_command

    return gui_command(args)


if __name__ == "__main__":
    sys.exit(main())
