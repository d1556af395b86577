"""``imageshelf serve`` and ``imageshelf token``: the headless faces of the server.
Nothing here imports Qt: both run on an install without the ``gui`` extra.

``serve`` opens the library (refusing one another process holds), starts the watcher
when the core has one, serves with waitress until SIGTERM/SIGINT, then stops cleanly:
requests in flight finish, the watcher stops, the library closes, exit status 0."""

from __future__ import annotations

import argparse
import inspect
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from imageshelf.app.library import Library, LibraryError, api_token, rules
from imageshelf.app.library import library_address as addresses
from imageshelf.app.library.library_address import LibraryAddress
from imageshelf.app.logs import see_the_log, setup_logging

from .access_log import AccessLog
from .auth import TOKEN_ENV, configured_token
from .runner import BackgroundServer, check_can_listen

log = logging.getLogger(__name__)


def _fail(command: str, message: str) -> int:
    print(f"imageshelf {command}: {message}", file=sys.stderr, flush=True)
    return 1


def stored_token(library_dir: Path) -> str | None:
    """The token kept in the library, read without opening it — so ``imageshelf token``
    works while ``imageshelf serve`` (which holds the library's lock) is running."""
    return api_token.read(library_dir)


def token_command(args: argparse.Namespace) -> int:
    if getattr(args, "address", None) is not None:
        return _team_token(args)
    if not args.regenerate:
        token = stored_token(args.library)
        if token:
            print(token)
            return 0
    try:
        with Library.open(args.library, reconcile=False) as lib:
            print(lib.regenerate_api_token() if args.regenerate else lib.api_token())
    except LibraryError as exc:
        return _fail("token", exc.message)
    return 0


def _team_token(args: argparse.Namespace) -> int:
    """A team library keeps no token: every server of it asks for $IMAGESHELF_API_TOKEN
    (``_open``), so that is what this prints, or says how to set."""
    if args.regenerate:
        return _fail(
            "token",
            f"a team library's token is ${TOKEN_ENV}, set where each of its servers runs: "
            "to change it, set a new value there and restart every server. API keys "
            "(imageshelf keys create --database ... --storage ...) can be made and "
            "revoked one by one without a restart.",
        )
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        return _fail(
            "token",
            f"a team library keeps no token of its own: its servers ask for ${TOKEN_ENV}, "
            "the same on every server, and it is not set here. Set it where the servers "
            f"run, e.g. export {TOKEN_ENV}=$(openssl rand -hex 24), or make an API key: "
            "imageshelf keys create --database ... --storage ... --name NAME --scope admin.",
        )
    print(token)
    return 0


def open_library(path: Path) -> Library:
    """Opens the library following outside changes (the watcher, started before the
    start-up reconcile so nothing falls between the two) where the core has a watcher."""
    if "watch" in inspect.signature(Library.open).parameters:
        return Library.open(path, watch=True)
    return Library.open(path)


def _check_public_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.startswith(("http://", "https://")) or len(value) < 10:
        raise LibraryError(
            f"--public-url must be an absolute http(s) URL such as "
            f"http://192.168.1.5:{rules.DEFAULT_PORT}, not {value!r}."
        )
    return value.rstrip("/")


def serve_command(args: argparse.Namespace) -> int:
    setup_logging()
    if getattr(args, "access_log", False):
        # Request lines go to the terminal as well as the log file.
        access = logging.getLogger("imageshelf.access")
        to_terminal = logging.StreamHandler(sys.stdout)
        to_terminal.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        access.addHandler(to_terminal)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # From the start, so a Ctrl+C during a long start-up reconcile still ends cleanly.
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        return _serve(args, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _open(args: argparse.Namespace) -> tuple[Library, str]:
    """The library to serve and how to name it: the folder, or the team library given by
    ``--database``/``--storage`` (``args.address``)."""
    address: LibraryAddress | None = getattr(args, "address", None)
    if address is None:
        library = open_library(args.library)
        return library, str(library.root)
    if not os.environ.get(TOKEN_ENV, "").strip():
        # Every server of a team library must ask for the same token: the one set here.
        raise LibraryError(
            f"A team library is served with the token in ${TOKEN_ENV}, the same for "
            "every server of it (API keys, kept in its database, work on every server): "
            f"set it, e.g. export {TOKEN_ENV}=$(openssl rand -hex 24)."
        )
    return addresses.open_library(address), address.describe()


def _serve(args: argparse.Namespace, stop: threading.Event) -> int:
    try:
        public_url = _check_public_url(args.public_url)
        check_can_listen(args.host, args.port)
        library, where = _open(args)
    except LibraryError as exc:
        return _fail("serve", exc.message)
    try:
        token, from_env = configured_token(library)
        token_source = (
            f"from ${TOKEN_ENV}"
            if from_env
            else f"'imageshelf token --library {library.root}' prints it"
        )
        server = BackgroundServer(
            library, host=args.host, port=args.port, token=token, public_url=public_url
        )
        if getattr(args, "access_log", False):
            server.app.wsgi_app = AccessLog(server.app.wsgi_app)  # type: ignore[method-assign]
        server.start()
    except LibraryError as exc:
        library.close()
        return _fail("serve", exc.message)

    try:
        log.info("serving %s on %s", where, server.base_url)
        print(f"Imageshelf serves {where}", flush=True)
        print(f"Listening on {server.base_url}  (API: {server.base_url}/v3/images)", flush=True)
        if public_url:
            print(f"Image links use {public_url}", flush=True)
        print(f"API token: {token_source}", flush=True)
        if server.announcer is not None and server.announcer.active:
            print(
                f"Announced on the local network as '{server.announcer.name}' "
                f"(mDNS, at {', '.join(server.announcer.addresses)})",
                flush=True,
            )
        print("Press Ctrl+C to stop.", flush=True)
        while not stop.wait(0.5):
            if not server.running:
                return _fail("serve", f"the HTTP server stopped unexpectedly. {see_the_log()}")
        print("Stopping: letting requests in flight finish...", flush=True)
    finally:
        server.stop()
        library.close()
    print("Stopped.", flush=True)
    return 0
