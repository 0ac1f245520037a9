"""Graphs from the lecture notes, shared by the tests that draw and walk them."""
import autograd_core as ag
from autograd_core import Tensor


def fan_out(t0=0.9):
    """f(x, y) = y + e^{xy} with x = cos t, y = t²: t and y fan out (STA414, week 11)."""
    t = Tensor(t0, requires_grad=True, name="t")
    x = ag.cos(t); x.name = "x"
    y = t ** 2;    y.name = "y"
    u = x * y;     u.name = "u"
    e = ag.exp(u); e.name = "e"
    f = y + e;     f.name = "f"
    return dict(t=t, x=x, y=y, u=u, e=e, f=f)
