"""The benchmarks stay runnable: each suite runs in its quick setting and the
engine agrees with its hand-written NumPy baseline. No timing is asserted here
(machines are shared and noisy); the figures live in docs/benchmarks.md."""
import json

import numpy as np
import pytest

from benchmarks import __main__ as runner


@pytest.mark.slow
def test_every_suite_runs_quick_and_writes_results(tmp_path):
    out = tmp_path / "latest.json"
    assert runner.main(["--quick", "--out", str(out), "--doc", str(tmp_path / "b.md")]) == 0
    results = json.loads(out.read_text())
    suites = results["suites"]
    assert set(suites) == set(runner.SUITES)
    # the engine and the hand-written baselines compute the same thing
    assert suites["engine"]["mlp_step"]["max_param_difference_after_3_steps"] < 1e-5
    assert suites["training"]["mlp_784_200_10"]["max_param_difference_after_one_step"] < 1e-5
    assert suites["training"]["cnn_2conv"]["max_param_difference_after_one_step"] < 1e-5
    assert suites["hvp"]["mlp_784_200_10"]["max_rel_diff_vs_hand_hvp"] < 1e-4
    assert max(suites["conv"]["max_param_difference_after_one_step"].values()) < 1e-5
    for value in (suites["engine"]["per_op_0d"]["forward"], suites["engine"]["chain"]["seconds"],
                  suites["training"]["mlp_784_200_10"]["ratio"], suites["conv"]["engine_over_numpy"]):
        assert np.isfinite(value) and value > 0
