"""Hypothesis strategies for shapes that broadcast, and arrays on them."""
import numpy as np
from hypothesis import strategies as st


@st.composite
def shapes(draw, min_dims=0, max_dims=3, max_side=4):
    return tuple(draw(st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims)))


@st.composite
def broadcastable_pair(draw, max_dims=3, max_side=4):
    """Two shapes that broadcast: each axis of the shorter shape is either
    equal to the other's, or 1, and either shape may have fewer axes."""
    out = draw(shapes(min_dims=0, max_dims=max_dims, max_side=max_side))
    result = []
    for _ in range(2):
        ndim = draw(st.integers(0, len(out)))
        tail = out[len(out) - ndim:]
        result.append(tuple(n if draw(st.booleans()) else 1 for n in tail))
    return tuple(result)


def array(seed, shape, low=-2.0, high=2.0, positive=False):
    rng = np.random.default_rng(seed)
    if positive:
        return rng.uniform(0.5, 2.0, size=shape)
    return rng.uniform(low, high, size=shape)
