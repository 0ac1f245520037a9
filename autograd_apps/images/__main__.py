"""``python -m autograd_apps.images``: the same as ``autograd-train``."""
import sys

from autograd_apps.images.cli import main

if __name__ == "__main__":
    sys.exit(main())
