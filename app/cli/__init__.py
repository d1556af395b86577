"""The ``imageshelf`` command: parses the command line and hands over.

imageshelf [--library DIR] [--host H] [--port P]        the desktop window
imageshelf serve [--public-url URL] [--access-log]      the HTTP API, headless
imageshelf token [--regenerate]
imageshelf import PATH... [--folder F] [--alt TEXT]
imageshelf ls [--folder F] [--search S] [--undescribed] [--json]
imageshelf alt ID (TEXT | --decorative) · mv ID FOLDER · rm ID...
imageshelf export DIR|FILE.zip [--folder F] [--embed-alt-text] [--alt-text-csv COLS] [--replace]
imageshelf keys create --name N --scope S [--folder F]... [--expires-days N]
imageshelf keys list [--json] · keys revoke NAME
imageshelf migrate SRC DST                              copy a library, keeping ids
    (a team side: --from-database URL --from-storage URL, --to-database URL --to-storage URL)
imageshelf install-desktop [--uninstall]
imageshelf discover [--seconds S] [--json]             servers on the LAN (mDNS)

The global options (--library, --host, --port) may stand before or after the
sub-command, and every sub-command honours them. Nothing here imports Qt: only the window
does, and only when it is asked for."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from ..library import export as export_rules
from ..library.locations import default_library_path
from . import common
from .common import DEFAULT_HOST, DEFAULT_PORT, EXIT_CODES_HELP, CommandError, shown_path

DISTRIBUTION = "imageshelf"

Handler = Callable[[argparse.Namespace], int]


def version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree never installed
        return "unknown (not installed)"


def _global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """On the top parser with real defaults in the help; on each sub-parser again with
    SUPPRESS, so that a value given after the sub-command is taken and one given before
    it is not overwritten by the sub-parser's default (argparse's usual trap)."""
    default = None if top else argparse.SUPPRESS
    library = shown_path(default_library_path())
    parser.add_argument(
        "--library",
        type=Path,
        metavar="DIR",
        default=default,
        help=f"the library folder (default: {library})",
    )
    parser.add_argument(
        "--host",
        default=default,
        help=f"address the HTTP server listens on (default: {DEFAULT_HOST}; "
        "the window: as last set in Server settings)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=default,
        help=f"port of the HTTP server (default: {DEFAULT_PORT}; "
        "the window: as last set in Server settings)",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        default=default,
        help="a team library's PostgreSQL database, postgresql://USER@HOST[:PORT]/DB "
        "(the password from PGPASSWORD or ~/.pgpass); with --storage, in place of --library "
        "(the window and serve)",
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        default=default,
        help="a team library's storage: s3://BUCKET[/PREFIX] (credentials, region and "
        "endpoint from the AWS environment: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...)",
    )
    parser.add_argument(
        "--path-style",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="address the S3 bucket in the path (MinIO, Garage, SeaweedFS, moto), "
        "not in the host name",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imageshelf",
        description="A desktop image library with alt text. Without a command: the window.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    _global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, handler: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, epilog=EXIT_CODES_HELP)
        _global_options(p, top=False)
        p.set_defaults(handler=handler)
        return p

    serve = command("serve", "serve", "run the HTTP API headless, in the foreground")
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help=f"base URL for links, e.g. http://192.168.1.5:{DEFAULT_PORT}",
    )
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (to the terminal and the log file)",
    )

    token = command(
        "token",
        "token",
        "print the library's API token (a team library's is $IMAGESHELF_API_TOKEN, "
        "the same for every server of it)",
    )
    token.add_argument("--regenerate", action="store_true", help="make a new token first")

    imp = command("import", "import", "add image files, or folders of them, to the library")
    imp.add_argument("paths", nargs="+", metavar="PATH", help="an image file or a folder")
    imp.add_argument("--folder", metavar="F", help="the library folder to put them in")
    imp.add_argument("--alt", metavar="TEXT", help="alt text for every image imported")
    imp.add_argument("-q", "--quiet", action="store_true", help="no line per image added")

    ls = command("ls", "ls", "list images: id, folder/name and alt text (tab-separated)")
    ls.add_argument("--folder", metavar="F", help="only this folder ('/' for the top level)")
    ls.add_argument("--search", metavar="S", help="names and alt text containing S")
    ls.add_argument("--undescribed", action="store_true", help="only images without alt text")
    ls.add_argument("--json", action="store_true", help="the API's image objects, as JSON")

    alt = command("alt", "alt", "set an image's alt text")
    alt.add_argument("id", metavar="ID")
    alt.add_argument("text", metavar="TEXT", nargs="?")
    alt.add_argument(
        "--decorative",
        action="store_true",
        help="an empty alt text: screen readers skip the image",
    )

    mv = command("mv", "mv", "move an image to another folder ('/' for the top level)")
    mv.add_argument("id", metavar="ID")
    mv.add_argument("folder", metavar="FOLDER")

    rm = command("rm", "rm", "delete images (to the trash: the window or the API restores them)")
    rm.add_argument("ids", nargs="+", metavar="ID")

    export = command(
        "export", "export", "copy originals into a folder or a .zip file, keeping their folders"
    )
    export.add_argument("dir", metavar="DIR", help="a folder, or a file name ending in .zip")
    export.add_argument("--folder", metavar="F", help="only this folder ('/' for the top level)")
    export.add_argument(
        "--embed-alt-text",
        action="store_true",
        help="write each image's alt text and long description into the copy's XMP "
        "(IPTC accessibility fields; the library's files are not changed)",
    )
    export.add_argument(
        "--alt-text-csv",
        metavar="COLS",
        nargs="?",
        const=",".join(export_rules.DEFAULT_CSV_COLUMNS),
        help=f"add {export_rules.CSV_NAME} with these comma-separated columns (default: "
        f"{','.join(export_rules.DEFAULT_CSV_COLUMNS)}; any of "
        f"{', '.join(export_rules.CSV_COLUMNS)})",
    )
    export.add_argument("--replace", action="store_true", help="replace a zip file already there")

    from .keys import add_parser as add_keys_parser

    add_keys_parser(command, lambda p: _global_options(p, top=False))

    from .migrate import add_parser as add_migrate_parser

    add_migrate_parser(command)

    desktop = command(
        "install-desktop", "install-desktop", "add Imageshelf to this user's application menu"
    )
    desktop.add_argument("--uninstall", action="store_true", help="remove it again")

    discover = command("discover", "discover", "list Imageshelf servers announced on the LAN")
    discover.add_argument(
        "--seconds", type=float, default=3.0, help="how long to listen (default: 3)"
    )
    discover.add_argument("--json", action="store_true", help="as JSON")
    return parser


def _handler(name: str) -> Handler:
    """Each sub-command's module is imported only when it runs."""
    if name in ("serve", "token"):
        from imageshelf.server import cli as server_cli

        return server_cli.serve_command if name == "serve" else server_cli.token_command
    if name == "discover":
        from .discover import discover_command

        return discover_command
    if name == "install-desktop":
        from .desktop import install_desktop_command

        return install_desktop_command
    if name == "keys":
        from .keys import keys_command

        return keys_command
    if name == "migrate":
        from .migrate import migrate_command

        return migrate_command
    from . import images

    return {
        "import": images.import_command,
        "ls": images.ls_command,
        "alt": images.alt_command,
        "mv": images.mv_command,
        "rm": images.rm_command,
        "export": images.export_command,
    }[name]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    name = getattr(args, "handler", None)
    try:
        args.address = common.team_address(args, name)
    except CommandError as exc:
        print(f"imageshelf{' ' + name if name else ''}: {exc.message}", file=sys.stderr)
        return exc.code
    if name is None:
        return _window(args)  # no --library: the window reopens the last library
    if name != "discover":  # the network's servers, whatever library
        args.library = common.library_path(args)
    if name == "serve":
        args.host = args.host or DEFAULT_HOST
        args.port = DEFAULT_PORT if args.port is None else args.port
    from ..logs import see_the_log, setup_logging

    if name not in ("serve", "token"):
        setup_logging()
    try:
        return _handler(name)(args)
    except CommandError as exc:
        common.fail(args.command, exc.message)
        return exc.code
    except KeyboardInterrupt:
        common.fail(args.command, "interrupted.")
        return 130
    except Exception:
        import logging

        logging.getLogger("imageshelf.cli").exception("imageshelf %s failed", args.command)
        common.fail(args.command, f"an unexpected error. {see_the_log()}")
        return common.ERROR


def _window(args: argparse.Namespace) -> int:
    from ..ui import gc_pauses  # Qt-free

    gc_pauses.pause_for_start()  # before the imports: the window's ui/gc_pauses.py
    try:
        from ..ui.launch import gui_command
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in ("PySide6", "shiboken6"):
            # Installed, but Qt's own libraries did not load (libEGL, libxkbcommon, ...).
            print(
                f"imageshelf: Qt is installed but could not load: {exc}.\n"
                "  On Debian/Ubuntu: sudo apt-get install libegl1 libgl1 libxkbcommon0 "
                "libfontconfig1 libdbus-1-3 libglib2.0-0 libxcb-cursor0",
                file=sys.stderr,
            )
            return common.ERROR
        print(
            "imageshelf: the window needs PySide6 (Qt), which this install lacks.\n"
            "  Install it with the GUI:  pipx install 'imageshelf[gui]'\n"
            "                     or:  pip install 'imageshelf[gui]'\n"
            "  Without it, these work:  imageshelf serve, import, ls, alt, mv, rm, export "
            "(imageshelf --help)",
            file=sys.stderr,
        )
        return common.ERROR
    return gui_command(args)
