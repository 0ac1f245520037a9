"""Image classification on Fashion-MNIST (default) or MNIST: the ``autograd-train`` job.

    config.py   ImagesConfig (every option of the command line), PRESETS, TEXTBOOK
    data.py     the images, split into training / validation / test
    models.py   logreg, mlp, mlp-deep, cnn; names with their real sizes
    report.py   test accuracy, plots, the published and lecture-notes figures
    cli.py      main(): one run, the textbook recipe, --resume
"""
from autograd_apps.images.cli import CHECKPOINT_FORMAT, PROG, main
from autograd_apps.images.config import PRESETS, TEXTBOOK, ImagesConfig
from autograd_apps.images.report import LECTURE_NOTES_MNIST, PUBLISHED_BENCHMARKS

__all__ = ["main", "PROG", "CHECKPOINT_FORMAT", "ImagesConfig", "PRESETS", "TEXTBOOK",
           "PUBLISHED_BENCHMARKS", "LECTURE_NOTES_MNIST"]
