"""Dramatiq's command line with JSON log lines from the start, in the parent process too.

Dramatiq sets up logging with `basicConfig`, which leaves a root logger that already has a
handler alone: configured first, the parent's own lines and its forked children's are JSON.
"""

import sys

from dramatiq.cli import main

from tasks.logs import configure_logging

if __name__ == "__main__":
    configure_logging()
    sys.exit(main())
