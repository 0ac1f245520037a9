"""The state stored in tests/fixtures/checkpoint_v1*.npz.

Those two files were written by the first checkpoint writer (``.npz`` format,
version 1, commit d89ebe4; the second with ``compress=True``), before the
format became safetensors.  The tests rebuild this state and compare.
"""
import numpy as np


def legacy_state():
    weight = (np.arange(6, dtype=np.float32).reshape(3, 2) - 2.5) / 4
    return {
        "format": "autograd-train checkpoint",
        "model": {"0.weight": weight, "0.bias": np.array([0.5, -1.0, 2.0], np.float32)},
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": np.full((3, 2), 0.25)},
                      1: {"step": 3, "exp_avg": np.zeros(3)}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                              "amsgrad": False, "params": [0, 1], "name": None}],
        },
        "scalars": [None, True, False, -5, 2**70, 1.5, -0.0, float("inf"), float("nan"), 0.1,
                    "héllo ✓", b"\x00\xffbytes", np.float32(1.25), np.int64(9), np.bool_(True)],
        "arrays": [np.array(3.5), np.zeros((0, 4)), np.array(["a", "bcd"]),
                   np.arange(4, dtype=np.int64), np.array([True, False])],
        "mixed_keys": {1: "int", "1": "str"},
        "empty": {"list": [], "tuple": (), "dict": {}},
    }
