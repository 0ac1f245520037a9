"""The character-level language models (autograd_apps.charlm, ``autograd-charlm``):
the word list and its cleaning, the batches, the models, and the program end
to end on a slice of a few hundred words with tiny models.

Tests that train read Debian's word list (/usr/share/dict/words, package
wamerican, installed by scripts/setup.sh) and skip, saying so, without it.
"""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_core as ag
from autograd_apps.common.cli import EXIT_ERROR
from autograd_apps.common.interrupt import EXIT_INTERRUPTED
from tests.app_runs import one_error_line as _one_error_line, run_cli
from autograd_apps.charlm import cli, config, data, models
from autograd_apps.charlm.inference import nll_per_char, sample_words

ROOT = Path(__file__).resolve().parent.parent

needs_words = pytest.mark.skipif(
    not Path(data.DEFAULT_WORDS).is_file(),
    reason=f"{data.DEFAULT_WORDS} not found (sudo apt-get install {data.DEBIAN_PACKAGE})")

# 300 words: 240 for training (8 batches of 30), 30 for validation, 30 for test.
SLICE = ["--limit-words", "300", "--batch-size", "30", "--no-progress", "--samples", "20"]
TINY = {"mlp": ["--context", "3", "--embedding", "8", "--hidden", "16"],
        "rnn": ["--embedding", "8", "--hidden", "16"],
        "lstm": ["--embedding", "8", "--hidden", "16"],
        "gru": ["--embedding", "8", "--hidden", "16"],
        "transformer": ["--embedding", "16", "--hidden", "32", "--layers", "1", "--heads", "2"],
        "bigram": []}


def run_main(args, interrupt_after=None):
    return run_cli(cli.main, args, interrupt_after)


def one_error_line(capsys):
    return _one_error_line(capsys, "autograd-charlm")


def metrics(run_dir):
    return json.loads((Path(run_dir) / "metrics.json").read_text())


def assert_same_run(a, b):
    """Two runs whose parameters, records, figures and samples are identical."""
    pa = ag.load(Path(a) / "checkpoints" / "last.ckpt")["model"]
    pb = ag.load(Path(b) / "checkpoints" / "last.ckpt")["model"]
    assert list(pa) == list(pb)
    for k in pa:
        assert np.array_equal(pa[k], pb[k]), f"parameter {k} differs"
    da, db = metrics(a), metrics(b)

    def timeless(rows):
        return [{k: v for k, v in r.items() if k not in ("elapsed", "steps_time", "steps_cpu",
                                                         "wall_time", "chars_per_s",
                                                         "training_time")}
                for r in rows]
    assert timeless(da["evals"]) == timeless(db["evals"])
    assert timeless(da["epochs"]) == timeless(db["epochs"])
    assert timeless(da["rows"]) == timeless(db["rows"])     # test NLL and samples


# ---------------------------------------------------------------- the words

def test_cleaning_rules():
    lines = ["Ada", "ada's", "ada", "  zoo \n", "", "Bogotá", "i'm", "co-op", "R2D2", "Éclair",
             "AA's", "aa", "ZOO", "x"]
    assert data.clean_words(lines) == ["ada", "zoo", "aa", "x"]


def test_word_file_and_its_errors(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("Ada\nada's\nBob\nbob\n\n")
    assert data.read_words(path) == ["ada", "bob"]
    with pytest.raises(data.UsageError, match=r"--words .*nope: no such file"):
        data.read_words(tmp_path / "nope")
    with pytest.raises(data.UsageError, match="not a file"):
        data.read_words(tmp_path)
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(data.UsageError, match="not UTF-8 text"):
        data.read_words(tmp_path / "latin1.txt")
    (tmp_path / "empty.txt").write_text("O'Neil's\n123\n")
    with pytest.raises(data.UsageError, match="no word left after cleaning"):
        data.read_words(tmp_path / "empty.txt")


def test_split_is_seeded_by_word_and_ignores_the_file_order():
    words = [f"w{'abcdefghij'[i % 10]}{'klmnopqrst'[i // 10 % 10]}{'uvwxyz'[i // 100]}"
             for i in range(600)]
    train, val, test = data.split_words(words)
    assert (len(train), len(val), len(test)) == (480, 60, 60)
    assert not (set(train) & set(val) or set(train) & set(test) or set(val) & set(test))
    assert set(train) | set(val) | set(test) == set(words)
    assert data.split_words(words[::-1]) == (train, val, test)      # sorted first
    assert data.split_words(words, seed=1) != (train, val, test)
    small = data.split_words(words, limit=30)
    assert [len(p) for p in small] == [24, 3, 3] and set(small[0]) < set(words)
    assert [len(p) for p in data.split_words(["ab", "cd", "ef"])] == [1, 1, 1]
    with pytest.raises(data.UsageError, match="at least 3 words"):
        data.split_words(["ab", "cd"])


def test_encoding():
    x, y = data.encode(["ab", "z"], 4)
    assert x.tolist() == [[0, 1, 2, 0], [0, 26, 0, 0]]
    assert y.tolist() == [[1, 2, 0, -100], [26, 0, -100, -100]]
    assert data.lengths(y).tolist() == [3, 2]
    assert data.decode(x[0, 1:]) == "ab" and data.decode([26, 0, 5]) == "z"
    with pytest.raises(ValueError, match="needs width 4"):
        data.encode(["abc"], 3)


def test_word_batches_are_bucketed_complete_and_resumable():
    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("abcdefgh"), rng.integers(1, 12))) for _ in range(500)]
    x, y = data.encode(words, 13)
    loader = data.WordBatches(x, y, 16, seed=3, pool=4)
    assert len(loader) == 32
    batches = list(loader)
    seen = np.concatenate([xb[:, 1] for xb, _ in batches])
    assert len(seen) == 500 and sorted(seen.tolist()) == sorted(x[:, 1].tolist())
    for xb, yb in batches:                          # cut to the batch's longest word
        assert xb.shape == yb.shape and (yb[:, -1] != data.IGNORE).any()
    spread = np.mean([np.ptp(data.lengths(yb)) for _, yb in batches])
    assert spread < 3                                # similar lengths (random batches: ~10)
    assert [len(b[0]) for b in batches][-1] == 500 - 31 * 16     # the short batch is last
    second = list(loader)
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(batches, second))  # reshuffled
    # resume in the middle of an epoch
    it = iter(data.WordBatches(x, y, 16, seed=3, pool=4))
    first = data.WordBatches(x, y, 16, seed=3, pool=4)
    it = iter(first)
    for _ in range(5):
        next(it)
    again = data.WordBatches(x, y, 16, seed=3, pool=4)
    again.load_state_dict(first.state_dict())
    for (a, b), (c, d) in zip(it, again):
        assert np.array_equal(a, c) and np.array_equal(b, d)


# ---------------------------------------------------------------- the models

def _tiny_models():
    ag.manual_seed(0)
    return [models.BigramNet(), models.MLP(3, 4, 8), models.RecurrentLM("rnn", 4, 8),
            models.RecurrentLM("lstm", 4, 8, layers=2), models.RecurrentLM("gru", 4, 8),
            models.TransformerLM(7, 8, 2, 2, 16)]


def test_models_are_causal_and_match_the_cross_entropy():
    """Position t sees only the tokens up to t: changing later tokens (or the
    padding) changes none of the earlier predictions."""
    x, y = data.encode(["hello", "ab", "zyx"], 7)
    changed = x.copy()
    changed[:, 3:] = 5
    for model in _tiny_models():
        logits = model(x)
        assert logits.shape == (3, 7, 27)
        np.testing.assert_array_equal(model(changed).data[:, :3], logits.data[:, :3])
        z = logits.data.astype(np.float64)
        logp = z - z.max(-1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(-1, keepdims=True))
        keep = y != -100                                 # the padding is not counted
        reference = -logp[keep, y[keep]].mean()
        assert float(models.token_nll(logits, y)) == pytest.approx(reference, rel=1e-6)


def test_bigram_counts_are_normalised_smoothed_counts():
    x, y = data.encode(["ab", "abb", "b"], 4)
    counts = models.BigramCounts(smoothing=0.5).fit(x, y)
    n = counts.counts.numpy()
    assert n.sum() == 9 and n[0, 1] == 2 and n[1, 2] == 2 and n[2, 2] == 1 and n[2, 0] == 3
    p = np.exp(counts.log_probs().numpy())
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert p[2, 0] == pytest.approx((3 + 0.5) / (4 + 27 * 0.5))
    assert models.count_parameters(counts) == 729
    with pytest.raises(ValueError, match="smoothing must be positive"):
        models.BigramCounts(smoothing=0)


def test_sampling_is_reproducible_with_a_seed():
    x, y = data.encode(["hello", "help", "held", "yellow", "fellow"], 8)
    model = models.BigramCounts(smoothing=0.01).fit(x, y)
    words = sample_words(model, 20, max_len=8, seed=0)
    assert len(words) == 20 and all(set(w) <= set("abcdefghijklmnopqrstuvwxyz") for w in words)
    assert all(len(w) <= 8 for w in words)
    assert sample_words(model, 20, max_len=8, seed=0) == words
    assert sample_words(model, 20, max_len=8, generator=ag.Generator().manual_seed(0)) == words
    assert sample_words(model, 20, max_len=8, seed=1) != words
    assert sample_words(model, 0, max_len=8) == []


def test_nll_per_char_counts_every_letter_and_the_end():
    x, y = data.encode(["ab", "c"], 4)
    model = models.BigramNet()              # zero weights: the uniform distribution
    nll, tokens = nll_per_char(model, x, y)
    assert tokens == 5 and nll == pytest.approx(math.log(27))


# ---------------------------------------------------------------- the command line

@pytest.mark.parametrize("argv, message", [
    (["--model", "lstm", "--context", "4"], "--context does not apply to --model lstm"),
    (["--model", "mlp", "--heads", "2"], "--heads does not apply to --model mlp"),
    (["--model", "gru", "--smoothing", "0.5"], "--smoothing does not apply"),
    (["--model", "transformer", "--embedding", "30", "--heads", "4"], "multiple of --heads"),
])
def test_options_that_do_not_fit_the_model(argv, message, capsys, tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("\n".join(["alpha", "beta", "gamma", "delta", "epsilon"]))
    assert run_main(argv + ["--words", words, "--out", tmp_path / "run"]) == EXIT_ERROR
    assert message in one_error_line(capsys)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv, message", [
    (["--model", "lstm2"], "invalid choice"),
    (["--model", "mlp", "--context", "0"], "positive integer"),
    (["--limit-words", "2"], "an integer >= 3"),
    (["--model", "mlp", "--dropout", "1"], "probability"),
])
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert message in one_error_line(capsys)


def test_missing_word_list_says_which_package_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(data, "DEFAULT_WORDS", str(tmp_path / "dict" / "words"))
    data._CACHE.clear()
    for model in ("lstm", "all"):
        assert run_main(["--model", model, "--out", tmp_path / "run"]) == EXIT_ERROR
        err = one_error_line(capsys)
        assert f"{tmp_path / 'dict' / 'words'} not found" in err
        assert "apt-get install wamerican" in err and "--words FILE" in err
    assert run_main(["--words", tmp_path / "mine.txt", "--out", tmp_path / "run"]) == EXIT_ERROR
    assert "--words" in one_error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_resume_without_a_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--resume"]) == EXIT_ERROR
    assert "no run with a checkpoint under runs/charlm/" in one_error_line(capsys)


def test_job_selectors():
    r = subprocess.run([sys.executable, "-m", "autograd_apps", "charlm", "--help"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "autograd-charlm" in r.stdout and "--words FILE" in r.stdout
    script = (ROOT / "scripts" / "main.sh").read_text()
    assert 'JOB=images' in script and '"$1" == "charlm"' in script
    assert "wamerican" in (ROOT / "scripts" / "setup.sh").read_text().split("APT_PACKAGES=")[1]


# ---------------------------------------------------------------- end to end, on a slice

@needs_words
def test_a_run_writes_the_table_samples_curves_and_checkpoints(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_main(["--model", "transformer", "--epochs", "2", "--out", out, "--graph"]
                    + TINY["transformer"] + SLICE) == 0
    stdout = capsys.readouterr().out
    assert "Test NLL per character (30 test words; trained on 240)" in stdout
    doc = metrics(out)
    assert (doc["n_train"], doc["n_val"], doc["n_test"]) == (240, 30, 30)
    assert doc["iterations_per_epoch"] == 8 and len(doc["epochs"]) == 2
    assert [r["iteration"] for r in doc["evals"]] == [2, 4, 6, 8, 10, 12, 14, 16]
    row, = doc["rows"]
    assert row["model"] == "transformer" and row["parameters"] > 0
    assert 1.0 < row["test_nll"] < math.log(27) + 0.2
    assert row["test_bits"] == pytest.approx(row["test_nll"] / math.log(2))
    assert row["test_tokens"] == int(data.lengths(data.load_data(
        config.resolve(config.CharLMConfig(model="transformer", limit_words=300), 240))
        ["y_test"]).sum())
    assert len(row["samples"]) == 20
    results = (out / "results.md").read_text()
    assert "| model | architecture | parameters |" in results
    assert "| uniform |" in results and "3.2958 | 4.7549 |" in results
    assert f"{row['test_nll']:.4f} | {row['test_bits']:.4f} |" in results
    assert len((out / "samples.txt").read_text().splitlines()) == 21
    assert (out / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (out / "graph.svg").read_bytes()
    ckpts = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert ckpts == ["epoch-001.ckpt", "epoch-002.ckpt", "last.ckpt"]
    last = ag.load(out / "checkpoints" / "last.ckpt")
    assert last["format"] == cli.CHECKPOINT_FORMAT and last["finished"]
    assert last["model"]["wpe.weight"].shape == (data.load_data(
        config.CharLMConfig(limit_words=300))["width"], 16)
    assert run_main(["--model", "transformer", "--out", out] + SLICE) == EXIT_ERROR
    assert "already holds a run" in one_error_line(capsys)


@needs_words
def test_bigram_counts_and_net_agree(tmp_path):
    """The net W[previous] trained by AdamW reaches the NLL of the normalised counts."""
    out = tmp_path / "bigram"
    assert run_main(["--model", "bigram", "--limit-words", "3000", "--smoothing", "0.1",
                     "--epochs", "20", "--no-progress", "--samples", "0", "--out", out]) == 0
    counts, net = metrics(out)["rows"]
    assert (counts["model"], net["model"]) == ("bigram (counts)", "bigram (net)")
    assert abs(counts["train_nll"] - net["train_nll"]) < 5e-3
    assert abs(counts["test_nll"] - net["test_nll"]) < 5e-3
    assert counts["test_nll"] < math.log(27) - 0.5


@needs_words
@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_a_sequence_model_learns_what_a_bigram_cannot(model, tmp_path):
    """On 240 training words, 40 epochs: the training NLL falls far below the
    bigram's (the best a model of the previous letter can do there) and below
    log 27 -- out of reach of a wrong gradient."""
    out = tmp_path / model
    size = (["--embedding", "32", "--hidden", "64", "--heads", "2", "--layers", "1"]
            if model == "transformer" else ["--embedding", "16", "--hidden", "64"])
    assert run_main(["--model", model, "--epochs", "40", "--lr", "1e-2", "--samples", "0",
                     "--out", out] + size + SLICE) == 0
    d = data.load_data(config.CharLMConfig(limit_words=300))
    bigram = models.BigramCounts(smoothing=1e-3).fit(d["x_train"], d["y_train"])
    floor, _ = nll_per_char(bigram, d["x_train"], d["y_train"])
    train = metrics(out)["epochs"][-1]["train_cost"]
    assert train < floor - 0.5 and floor < math.log(27), (train, floor)


@needs_words
@pytest.mark.parametrize("model", models.MODELS)
def test_compiled_training_equals_eager_bitwise(model, tmp_path, capsys):
    """--compile (each step one traced program, one per batch length) gives the
    eager run bit for bit; the transformer with dropout (random numbers drawn
    inside the program) also when interrupted and resumed with --compile."""
    args = ["--model", model, "--epochs", "2" if model == "transformer" else "1"] \
        + TINY[model] + SLICE + (["--dropout", "0.1"] if model == "transformer" else [])
    eager, compiled = tmp_path / "eager", tmp_path / "compiled"
    assert run_main(args + ["--out", eager]) == 0
    assert "--compile" not in capsys.readouterr().out
    if model == "transformer":
        assert run_main(args + ["--out", compiled, "--compile"],
                        interrupt_after=11) == EXIT_INTERRUPTED
        assert run_main(["--resume", compiled, "--compile", "--no-progress"]) == 0
    else:
        assert run_main(args + ["--out", compiled, "--compile"]) == 0
        assert "compiled steps (--compile)" in capsys.readouterr().out
    assert_same_run(eager, compiled)


@needs_words
@pytest.mark.parametrize("stop_at", [8, 11], ids=["after-epoch-1", "mid-epoch-2"])
def test_resume_gives_the_identical_run(stop_at, tmp_path, capsys):
    args = ["--model", "gru", "--epochs", "2", "--dropout", "0.2", "--layers", "2"] \
        + TINY["gru"] + SLICE
    straight, out = tmp_path / "straight", tmp_path / "run"
    assert run_main(args + ["--out", straight]) == 0
    assert run_main(args + ["--out", out], interrupt_after=stop_at) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert "Ctrl-C" in err and f"--resume {out}" in err
    state = ag.load(out / "checkpoints" / "last.ckpt")
    assert state["iteration"] == stop_at and not state["finished"]
    assert run_main(["--resume", out, "--no-progress"]) == 0
    assert "Resuming" in capsys.readouterr().out
    assert_same_run(straight, out)


@needs_words
def test_all_models_with_an_interruption(tmp_path, capsys, monkeypatch):
    """--model all (the default): every model in one folder, then the table; an
    interruption in the third model resumes to the same figures."""
    small = ["--epochs", "1", "--embedding", "8", "--hidden", "16", "--layers", "1",
             "--heads", "2", "--context", "3", "--limit-words", "150", "--batch-size", "40",
             "--samples", "5", "--no-progress"]
    monkeypatch.chdir(tmp_path)
    assert run_main(small + ["--out", "straight"]) == 0
    stdout = capsys.readouterr().out
    assert "Test NLL per character" in stdout
    table = (tmp_path / "straight" / "results.md").read_text()
    for name in ("uniform", "unigram", "bigram (counts)", "bigram (net)", "mlp", "rnn", "lstm",
                 "gru", "transformer"):
        assert f"| {name} |" in table
    assert (tmp_path / "straight" / "learning_curves.png").is_file()
    summary = json.loads((tmp_path / "straight" / "summary.json").read_text())
    assert [r["model"] for r in summary["rows"]][2:] == [
        "bigram (counts)", "bigram (net)", "mlp", "rnn", "lstm", "gru", "transformer"]
    # 3 batches per model: bigram 1-3, mlp 4-6, rnn 7-9; stop in the rnn's second batch
    out = Path("runs") / "charlm" / "interrupted"
    assert run_main(small + ["--out", out], interrupt_after=2) == EXIT_INTERRUPTED
    assert f"--resume {out}" in capsys.readouterr().err
    assert run_main(["--resume", "--no-progress"]) == 0      # the latest run under runs/charlm
    for model in ("bigram", "mlp", "transformer"):
        assert_same_run(tmp_path / "straight" / model, out / model)
    resumed = json.loads((out / "summary.json").read_text())

    def figures(rows):
        return [(r["model"], r["test_nll"], [s["word"] for s in r.get("samples", [])])
                for r in rows]
    assert figures(resumed["rows"]) == figures(summary["rows"])
