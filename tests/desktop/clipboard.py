"""A second program that reads the X clipboard the way an editor pasting would, and prints
what it holds as JSON: ``{"formats", "html", "text"}``. The clipboard's owner (the app)
answers over the X server, so this checks what another program really receives.

python -m tests.desktop.clipboard
"""

from __future__ import annotations

import json
import sys

from PySide6.QtGui import QGuiApplication


def main() -> int:
    app = QGuiApplication(sys.argv[:1])
    mime = app.clipboard().mimeData()
    print(
        json.dumps(
            {
                "formats": list(mime.formats()),
                "html": mime.html() if mime.hasHtml() else None,
                "text": mime.text() if mime.hasText() else None,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
