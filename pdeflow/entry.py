"""Console entry point of ``pdeflow`` and its handling of SIGINT and SIGTERM.

Loading the command line imports numpy, scipy and xarray, which takes about a
second. An interrupt raised inside those imports can surface as a traceback,
or as numpy's ImportError about a broken install, so signals are held while
they run and delivered once they are done.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

INTERRUPTED = 130  # the shell's code for a process ended by SIGINT
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """Turn SIGINT and SIGTERM into KeyboardInterrupt and remember which came.

    SIGTERM would otherwise end the process at once, leaving temporary files
    behind. Handlers are installed only in the main thread, where Python
    delivers signals.
    """

    def __init__(self) -> None:
        self.received = 0
        self._previous: dict[int, object] = {}

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = {
                number: signal.signal(number, self._raise) for number in SIGNALS
            }
        return self

    def _raise(self, number: int, frame: object) -> None:
        self.received = self.received or number
        raise KeyboardInterrupt

    def __exit__(self, *exc_info: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold SIGINT and SIGTERM during a block, then deliver the first one.

    The block (the write of a run file, the imports at start-up) then always
    completes. The signal is raised again once the earlier handlers are back,
    so a default action such as ending the process still takes place.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {
        number: signal.signal(number, lambda number, frame: received.append(number))
        for number in SIGNALS
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if received:
        signal.raise_signal(received[0])


def run() -> None:
    """Load the command line and run it; exit with its code."""
    try:
        with deferred_interrupts():
            from .cli import main
    except KeyboardInterrupt:
        print(
            "pdeflow: interrupted while starting; nothing was written", file=sys.stderr
        )
        sys.exit(INTERRUPTED)

    try:
        code = main()
    except KeyboardInterrupt:
        print(
            "pdeflow: interrupted; files finished before it are kept", file=sys.stderr
        )
        code = INTERRUPTED
    # The work is done: an interrupt now must not turn into a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
