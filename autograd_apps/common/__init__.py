"""What every training job shares (a second job -- e.g. a character-level language
model -- is built from the same parts):

    config.py       Config: a frozen dataclass whose fields declare the options
                    (kinds Integer, Real, Choice, Sizes, Text, Switch validate
                    them in one place) and build the argparse parser
    recipe.py       TrainingConfig: optimiser, lr and schedule, epochs, batch,
                    seed, --resume/--out/...; presets; the optimiser and schedule
    trainer.py      Trainer: the loop, with hooks for step, evaluation, epoch end
    checkpoints.py  CheckpointDir: epoch-NNN.ckpt, last.ckpt, rotation; RNG state
    interrupt.py    StopRequest / Interrupted: Ctrl-C saves and exits 130
    blas.py         blas_threads(n), through threadpoolctl
    progress.py     ProgressBar, through tqdm
    evaluation.py   cross-entropy, misclassification rate, confusion matrix
    report.py       JSON/CSV records, learning curves, confusion matrix, graph, tables
    cli.py          run_command (exit statuses, one-line errors), run folders
"""
