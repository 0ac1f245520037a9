"""The applications built on autograd_core, nn and optim: one package per job.

    autograd_apps/common/   what every training job shares: configuration
                            dataclass -> command line, Trainer (loop and hooks),
                            checkpoints and exact resume, Ctrl-C, BLAS threads,
                            progress bar, evaluation, reports and plots
    autograd_apps/images/   image classification on Fashion-MNIST or MNIST
                            (``autograd-train``, ``python -m autograd_apps.images``)
    autograd_apps/charlm/   character-level language models of English words
                            (``autograd-charlm``, ``python -m autograd_apps.charlm``)

Layers: the engine ``autograd_core`` -> ``nn`` -> ``optim`` -> these
applications; benchmarks and tests sit on top.  Nothing here is imported by the
layers below, and nothing here imports ``benchmarks``.

``python -m autograd_apps JOB [options]`` runs a job by name (``JOBS``).
"""

__all__ = ["JOBS"]

# job name -> the module whose main(argv) runs it
JOBS = {"images": "autograd_apps.images.cli", "charlm": "autograd_apps.charlm.cli"}
