"""Command lines for tests, written as words rather than one string per line."""

from os import PathLike


def argv(*parts: str | PathLike | list[str]) -> list[str]:
    """Build an argument list: strings split on spaces, paths and lists kept whole.

    A path stays one argument even when it contains a space, which a single
    formatted string split on spaces would break apart.
    """
    words: list[str] = []
    for part in parts:
        if isinstance(part, str):
            words.extend(part.split())
        elif isinstance(part, list):
            words.extend(part)
        else:
            words.append(str(part))
    return words
