"""``python -m autograd_apps JOB [options]``: run one of the applications by name."""
import importlib
import sys

from autograd_apps import JOBS


def main(argv=None):
    """Dispatch to ``JOBS[argv[0]]``'s ``main(argv[1:])``; returns its exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    usage = (f"usage: python -m autograd_apps {{{','.join(JOBS)}}} [options]   "
             f"(python -m autograd_apps JOB --help for a job's options)")
    if not argv or argv[0] in ("-h", "--help"):
        print(usage, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    job, rest = argv[0], argv[1:]
    if job not in JOBS:
        print(f"autograd_apps: error: unknown job {job!r} (choose from {', '.join(JOBS)})",
              file=sys.stderr)
        return 2
    return importlib.import_module(JOBS[job]).main(rest)


if __name__ == "__main__":
    sys.exit(main())
