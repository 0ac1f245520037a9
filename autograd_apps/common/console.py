"""Printing for the applications: results to stdout, warnings to stderr.

Both flush at once, so that the lines of a long run appear in a log file as
they happen.  Warnings carry the program's name (``set_program``).
"""
import sys

__all__ = ["say", "warn", "set_program", "program"]

_program = "autograd_apps"


def set_program(name):
    """Name the program in warnings and errors (the console script's name).

    Example: ``set_program("autograd-train")``.
    """
    global _program
    _program = str(name)


def program():
    """The name set by ``set_program`` (default ``autograd_apps``)."""
    return _program


def say(*parts):
    """``print`` to stdout, flushed."""
    print(*parts, flush=True)


def warn(message):
    """One line ``<program>: warning: <message>`` on stderr."""
    print(f"{_program}: warning: {message}", file=sys.stderr, flush=True)
