"""``python -m autograd_apps.charlm``: the same as ``autograd-charlm``."""
import sys

from autograd_apps.charlm.cli import main

if __name__ == "__main__":
    sys.exit(main())
