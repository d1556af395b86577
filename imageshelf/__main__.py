"""``python -m imageshelf``: the ``imageshelf`` command (see ``imageshelf.app.cli``)."""

import sys

from imageshelf.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
