"""Console entry point of ``pdeflow``: ends a Ctrl-C during start-up cleanly.

Loading the command line imports numpy, scipy and xarray, which takes about a
second; an interrupt in that window would otherwise print a traceback.
"""

from __future__ import annotations

import sys

INTERRUPTED = 130  # the shell's code for a process ended by SIGINT


def run() -> None:
    """Load the command line and run it; exit with its code."""
    try:
        from .cli import main
    except KeyboardInterrupt:
        print(
            "pdeflow: interrupted while starting; nothing was written", file=sys.stderr
        )
        sys.exit(INTERRUPTED)
    sys.exit(main())
