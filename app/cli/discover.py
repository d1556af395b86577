"""``imageshelf discover``: Imageshelf servers announcing themselves on the LAN (mDNS,
``_imageshelf._tcp``), one a line — name, API address, version — or as JSON."""

from __future__ import annotations

import argparse
import json

from .common import NOT_FOUND, OK, CommandError


def discover_command(args: argparse.Namespace) -> int:
    from imageshelf.server.discovery import browse

    seconds = float(args.seconds)
    if not 0.5 <= seconds <= 60:
        raise CommandError("--seconds is a time from 0.5 to 60.")
    try:
        found = browse(seconds)
    except OSError as exc:
        raise CommandError(f"cannot listen for mDNS on this machine: {exc}.") from None
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": f.name,
                        "urls": f.urls,
                        "api": [u + f.path for u in f.urls],
                        "version": f.version,
                    }
                    for f in found
                ],
                indent=2,
            )
        )
    else:
        for f in found:
            print(f"{f.name}\t{' '.join(u + f.path for u in f.urls)}\t{f.version}")
    if not found and not args.json:
        print("No Imageshelf server answered on this network.", flush=True)
    return OK if found else NOT_FOUND
