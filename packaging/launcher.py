"""The bundle's entry point: the ``imageshelf`` command, as the wheel's script runs it."""

import multiprocessing
import sys

from imageshelf.app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
