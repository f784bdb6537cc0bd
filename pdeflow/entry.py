"""Console entry point of ``pdeflow``: ends a Ctrl-C during start-up cleanly.

Loading the command line imports numpy, scipy and xarray, which takes about a
second. An interrupt raised inside those imports can surface as a traceback,
or as numpy's ImportError about a broken install, so SIGINT is only recorded
while they run and acted on once they are done.
"""

from __future__ import annotations

import signal
import sys

INTERRUPTED = 130  # the shell's code for a process ended by SIGINT


def run() -> None:
    """Load the command line and run it; exit with its code."""
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(1))
    try:
        from .cli import main
    except KeyboardInterrupt:
        received.append(1)
    finally:
        signal.signal(signal.SIGINT, previous)

    if received:
        print(
            "pdeflow: interrupted while starting; nothing was written", file=sys.stderr
        )
        sys.exit(INTERRUPTED)
    sys.exit(main())
