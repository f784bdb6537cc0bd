"""Progress bars of long runs, shown on a terminal unless switched off."""

from __future__ import annotations

from tqdm.auto import tqdm


def progress_bar(
    total: float, progress: bool | None, unit: str, initial: float = 0
) -> tqdm:
    """Return a tqdm bar that counts ``unit`` up to ``total``.

    Parameters
    ----------
    total : float
        Final count: a time of the flow or a number of steps.
    progress : bool or None
        True shows the bar, False hides it, None shows it only when standard
        error is a terminal.
    unit : str
        Name of one count, such as ``"t"`` or ``"step"``.
    initial : float
        Count already done, for resumed runs. Pass integers for counts of
        steps, since tqdm shows the counter in the type of ``initial``.
    """
    return tqdm(
        total=total,
        initial=initial,
        disable=None if progress is None else not progress,
        unit=unit,
        desc="pdeflow",
        leave=False,
    )
