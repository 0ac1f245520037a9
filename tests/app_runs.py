"""Running a job's command line inside the tests: the shared helpers of the
image job's and the language-model job's tests."""
import os

from autograd_apps.common.interrupt import INTERRUPT_ENV


def run_cli(main, args, interrupt_after=None):
    """``main(args)`` as the command line gets them (strings); with
    ``interrupt_after=N`` the run is stopped as by Ctrl-C after iteration N."""
    if interrupt_after is not None:
        os.environ[INTERRUPT_ENV] = str(interrupt_after)
    try:
        return main([str(a) for a in args])
    finally:
        os.environ.pop(INTERRUPT_ENV, None)


def one_error_line(capsys, program):
    """stderr of a failed command: exactly one line, the program's error, no traceback."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{program}: error:"), err
    return lines[0]
