"""The one exception the applications report without a traceback."""

__all__ = ["UsageError", "one_line"]


class UsageError(Exception):
    """A problem with the command line, the configuration or the files it names.

    The command line prints it as one line, ``<prog>: error: <message>``, and
    exits with status 2; the message must say what is wrong and with what.

    Example: ``raise UsageError("--out runs/x is a file, not a folder")``.
    """


def one_line(text):
    """`text` with its lines joined by spaces (an error message must be one line).

    Example: ``one_line("a\n  b") == "a b"``.
    """
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())
