"""Character-level language models of English words: the ``autograd-charlm`` job.

    data.py       Debian's word list (wamerican), cleaned, split 80/10/10, encoded;
                  WordBatches (words of similar length per batch)
    models.py     bigram (counts and net), mlp (Bengio et al. 2003), rnn, lstm, gru,
                  a causal transformer; the training loss
    inference.py  NLL per character on held-out words; sampling new words
    config.py     CharLMConfig (every option of the command line), PRESETS
    report.py     the table (nats and bits per character), samples, learning curves
    cli.py        main(): one model or all of them, --resume
"""
from autograd_apps.charlm.cli import CHECKPOINT_FORMAT, PROG, main
from autograd_apps.charlm.config import PRESETS, CharLMConfig

__all__ = ["main", "PROG", "CHECKPOINT_FORMAT", "CharLMConfig", "PRESETS"]
