"""The backward pass step by step: viz.backward_frames (one drawing per step of
the engine's own sweep), save_frames, show_frames, and the sweep's per-visit
callback they are built on."""
import re
import shutil
import struct
import sys

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor, graph, viz
from autograd_core.graph import toposort
import nn

from tests.course_graphs import fan_out

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` program is not installed")

T0 = 0.9


def grad_of(root, tensor, gradient=None):
    return ag.autograd.grad(root, tensor, grad_outputs=gradient, retain_graph=True)[0].data


def box(frame, label):
    """The Graphviz attributes of the tensor box titled ``label`` in a frame."""
    hits = [line for line in frame.graph.source.splitlines()
            if re.match(r"\s*t\d+ \[", line) and f"<B>{label}</B>" in line]
    assert len(hits) == 1, (label, hits)
    return hits[0]


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


# ---------------------------------------------------------------------------
# The frames of the lecture notes' example
# ---------------------------------------------------------------------------

def test_frames_follow_the_engines_reversed_topological_order():
    g = fan_out()
    frames = viz.backward_frames(g["f"])
    assert [fr.label for fr in frames] == ["f", "e", "u", "y", "x", "t"]
    assert all(fr.tensor is t for fr, t in zip(frames, reversed(toposort(g["f"]))))
    assert [(fr.step, fr.steps) for fr in frames] == [(k, 6) for k in range(1, 7)]
    assert "BackwardFrame 3 of 6: u" in repr(frames[2])


def test_each_visited_cotangent_is_the_gradient_and_partial_sums_accumulate():
    g = fan_out()
    f = g["f"]
    frames = viz.backward_frames(f)
    # the v̄ of the node visited at each step is final: ∂f/∂node
    for fr in frames:
        np.testing.assert_allclose(fr.cotangent, grad_of(f, fr.tensor), rtol=1e-14)
    # by hand: v̄_f = 1, ē = 1, ū = e^u, ȳ = 1 + x e^u (two children), x̄ = y e^u, t̄ = 2t ȳ − sin t x̄
    x, y = np.cos(T0), T0 ** 2
    eu = np.exp(x * y)
    ybar, xbar = 1 + x * eu, y * eu
    expected = [
        {"f": 1.0, "y": 1.0, "e": 1.0},                       # f sends 1 to y and to e
        {"f": 1.0, "y": 1.0, "e": 1.0, "u": eu},
        {"f": 1.0, "y": ybar, "e": 1.0, "u": eu, "x": xbar},  # y's second share arrives
        {"f": 1.0, "y": ybar, "e": 1.0, "u": eu, "x": xbar, "t": 2 * T0 * ybar},
        {"f": 1.0, "y": ybar, "e": 1.0, "u": eu, "x": xbar, "t": 2 * T0 * ybar - np.sin(T0) * xbar},
    ]
    expected.append(expected[-1])
    for fr, want in zip(frames, expected):
        assert set(fr.cotangents) == set(want), fr
        for label, value in want.items():
            np.testing.assert_allclose(fr.cotangents[label], value, rtol=1e-14, err_msg=f"{fr} {label}")
    assert [sorted(fr.complete) for fr in frames[:3]] == [["f"], ["e", "f"], ["e", "f", "u"]]
    assert frames[-1].complete == {"t", "x", "y", "u", "e", "f"}
    np.testing.assert_allclose(frames[-1].cotangent,
                               (ybar * 2 * T0) + xbar * -np.sin(T0), rtol=1e-14)


def test_frames_touch_no_grad_and_keep_the_graph():
    g = fan_out()
    viz.backward_frames(g["f"])
    assert all(t.grad is None for t in g.values())
    g["f"].backward()                                    # the graph is still there
    eu = np.exp(np.cos(T0) * T0 ** 2)
    np.testing.assert_allclose(g["t"].grad.data,
                               (1 + np.cos(T0) * eu) * 2 * T0 - np.sin(T0) * T0 ** 2 * eu)
    # after backward(retain_graph=True) the frames can still be drawn; .grad is left as it was
    h = fan_out()
    h["f"].backward(retain_graph=True)
    before = h["t"].grad.item()
    assert len(viz.backward_frames(h["f"])) == 6 and h["t"].grad.item() == before


def test_the_drawing_marks_the_visited_node_the_partial_sums_and_the_unreached():
    frames = viz.backward_frames(fan_out()["f"])
    third = frames[2]                                    # visiting u
    assert viz._CURRENT_FILL in box(third, "u") and viz._STEP_COLOR in box(third, "u")
    assert viz._PARTIAL_COLOR in box(third, "y")         # ȳ summed, y not visited yet
    assert viz._UNREACHED in box(third, "t")             # nothing reached t yet
    for label in "fe":
        line = box(third, label)
        assert viz._PARTIAL_COLOR not in line and viz._UNREACHED not in line and ">v̄<" in line
    assert "backward step 3 of 6: visiting u" in third.graph.source
    # the edges into the visited op carry the shares back: drawn against the data flow
    assert third.graph.source.count("dir=back") == 3     # x and y → mul, mul → u
    assert "v̄ summed so far" in third.graph.source       # the legend
    # constants carry no v̄
    frames = viz.backward_frames(Tensor(2.0, requires_grad=True, name="w") * Tensor(3.0, name="c"))
    assert ">v̄<" not in box(frames[0], "c") and ">v̄<" in box(frames[0], "w")


@needs_dot
def test_every_frame_has_the_same_layout():
    frames = viz.backward_frames(fan_out()["f"])
    sizes = {png_size(fr.graph.pipe(format="png")) for fr in frames}
    assert len(sizes) == 1
    positions = []
    for fr in frames:
        plain = fr.graph.pipe(format="plain").decode()
        positions.append([line.split()[1:4] for line in plain.splitlines() if line.startswith("node")])
    assert all(p == positions[0] for p in positions)


# ---------------------------------------------------------------------------
# A two-layer network
# ---------------------------------------------------------------------------

def test_two_layer_network_frames_give_the_textbook_backward_pass():
    rng = np.random.default_rng(0)
    xv, tv = rng.standard_normal((3, 1)), rng.standard_normal((2, 1))
    W1 = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b1 = Tensor(rng.standard_normal((4, 1)), requires_grad=True)
    W2 = Tensor(rng.standard_normal((2, 4)), requires_grad=True)
    b2 = Tensor(rng.standard_normal((2, 1)), requires_grad=True)
    x, t = Tensor(xv, name="x"), Tensor(tv, name="t")
    z = W1 @ x + b1;                  z.name = "z"
    h = ag.sigmoid(z);                h.name = "h"
    y = W2 @ h + b2;                  y.name = "y"
    L = 0.5 * ((y - t) ** 2).sum();   L.name = "L"
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    frames = viz.backward_frames(L, params=params)
    order = list(reversed(toposort(L)))
    assert len(frames) == len(order) and all(fr.tensor is n for fr, n in zip(frames, order))
    for fr in frames:
        np.testing.assert_allclose(fr.cotangent, grad_of(L, fr.tensor), rtol=1e-12, atol=1e-15)
    # the lecture's equations: ȳ = y − t, W̄2 = ȳ hᵀ, b̄2 = ȳ, h̄ = W2ᵀȳ, z̄ = h̄ σ'(z), W̄1 = z̄ xᵀ, b̄1 = z̄
    final = frames[-1].cotangents
    ybar = y.data - tv
    hbar = W2.data.T @ ybar
    zbar = hbar * h.data * (1 - h.data)
    for label, value in [("y", ybar), ("h", hbar), ("z", zbar), ("W2", ybar @ h.data.T),
                         ("b2", ybar), ("W1", zbar @ xv.T), ("b1", zbar)]:
        np.testing.assert_allclose(final[label], value, rtol=1e-12, err_msg=label)
    labels = [fr.label for fr in frames]
    assert labels[0] == "L" and set(labels[-4:]) == {"W1", "b1", "W2", "b2"}   # leaves last
    assert {"W1", "b1", "W2", "b2"} <= frames[-1].complete
    assert "x" not in final and "t" not in final           # constants are not swept


def test_frames_of_an_nn_model_with_collapsed_modules():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    with viz.record_modules(model) as calls:
        loss = nn.functional.mse_loss(model(x), np.zeros((5, 2), dtype=np.float32))
    frames = viz.backward_frames(loss, modules=calls, collapse=True)
    assert len(frames) == len(toposort(loss))
    for fr in frames:
        np.testing.assert_allclose(fr.cotangent, grad_of(loss, fr.tensor), rtol=1e-5, atol=1e-7)
    labels = [fr.label for fr in frames]
    assert "0.weight" in labels and "2.bias" in labels        # names from the model
    # when the node visited is inside a collapsed module, that module's box is highlighted
    weight_frame = frames[labels.index("0.weight")]
    boxes = [line for line in weight_frame.graph.source.splitlines() if re.match(r"\s*m\d+ \[", line)]
    lit = [line for line in boxes if viz._CURRENT_FILL in line]
    assert len(lit) == 1 and "0 · Linear" in lit[0]


def test_a_non_scalar_root_needs_its_cotangent():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True, name="x")
    y = ag.sin(x) * x
    with pytest.raises(ValueError, match="backward_frames: grad can be implicitly created only"):
        viz.backward_frames(y)
    u = np.array([1.0, -1.0, 0.5])
    frames = viz.backward_frames(y, gradient=u)
    np.testing.assert_allclose(frames[0].cotangent, u)
    np.testing.assert_allclose(frames[-1].cotangent, grad_of(y, x, Tensor(u)))


def test_errors():
    with pytest.raises(RuntimeError, match="backward_frames: root does not require grad"):
        viz.backward_frames(Tensor(1.0) * 2.0)
    x = Tensor(2.0, requires_grad=True)
    y = ag.exp(x)
    y.backward()
    with pytest.raises(RuntimeError, match=r"backward\(retain_graph=True\)"):
        viz.backward_frames(y)
    with pytest.raises(TypeError, match="backward_frames: root must be a Tensor"):
        viz.backward_frames(np.ones(2))


# ---------------------------------------------------------------------------
# Saving and showing
# ---------------------------------------------------------------------------

@needs_dot
def test_save_frames_writes_numbered_files(tmp_path):
    frames = viz.backward_frames(fan_out()["f"])
    paths = viz.save_frames(frames, tmp_path / "png")
    assert [p.rsplit("/", 1)[1] for p in paths] == [f"step_{k:03d}.png" for k in range(1, 7)]
    sizes = set()
    for p in paths:
        with open(p, "rb") as fh:
            sizes.add(png_size(fh.read()))
    assert len(sizes) == 1
    svgs = viz.save_frames(frames, tmp_path / "svg", format="svg", prefix="bwd")
    assert svgs[-1].endswith("bwd_006.svg")
    with open(svgs[2], encoding="utf-8") as fh:
        text = fh.read()
    assert "<svg" in text and "visiting u" in text
    # backward_frames(path=...) saves as it draws
    viz.backward_frames(fan_out()["f"], path=tmp_path / "direct", format="svg")
    assert sorted(p.name for p in (tmp_path / "direct").iterdir())[0] == "step_001.svg"


@needs_dot
def test_save_frames_as_a_gif_with_pillow(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    frames = viz.backward_frames(fan_out()["f"])
    paths = viz.save_frames(frames, tmp_path, gif=True, duration=0.5)
    assert len(paths) == 7 and paths[-1].endswith("step.gif")
    with Image.open(paths[-1]) as gif:
        assert gif.format == "GIF" and gif.n_frames == 6
        assert gif.info["duration"] == 500


def test_save_frames_errors(tmp_path, monkeypatch):
    frames = viz.backward_frames(fan_out()["f"])
    with pytest.raises(ValueError, match="save_frames: frames is empty"):
        viz.save_frames([], tmp_path)
    with pytest.raises(TypeError, match=r"frames\[0\] is a ComputationGraph, not a BackwardFrame"):
        viz.save_frames([frames[0].graph], tmp_path)
    with pytest.raises(ValueError, match="unknown format 'docx'"):
        viz.save_frames(frames, tmp_path, format="docx")
    with pytest.raises(ValueError, match="prefix"):
        viz.save_frames(frames, tmp_path, prefix="a/b")
    monkeypatch.setitem(sys.modules, "PIL", None)          # as if Pillow were not installed
    with pytest.raises(ImportError, match="gif=True needs Pillow"):
        viz.save_frames(frames, tmp_path, gif=True)
    assert not list(tmp_path.iterdir())                    # nothing written by a refused call


@needs_dot
def test_show_frames_embeds_images_without_widgets(monkeypatch):
    display = pytest.importorskip("IPython.display")
    shown = []
    monkeypatch.setattr(display, "display", lambda obj: shown.append(obj))
    frames = viz.backward_frames(fan_out()["f"])
    assert viz.show_frames(frames) is None                 # no kernel here: images
    assert len(shown) == 6 and all(isinstance(s, display.Image) for s in shown)
    assert png_size(shown[0].data) == png_size(frames[0].graph.pipe(format="png"))
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(ImportError, match="interactive=True needs ipywidgets"):
        viz.show_frames(frames, interactive=True)


class FakeWidgets:
    """The few ipywidgets names show_frames uses, to test its wiring without the package."""

    class _Widget:
        def __init__(self, children=(), **kw):
            self.children, self._observers = tuple(children), []
            self.__dict__.update(kw)

        def observe(self, fn, names):
            self._observers.append(fn)

        def __setattr__(self, name, value):
            old = self.__dict__.get(name)
            object.__setattr__(self, name, value)
            if name == "value" and old is not None:
                for fn in self.__dict__.get("_observers", ()):
                    fn({"name": "value", "old": old, "new": value})

    HTML = IntSlider = Play = HBox = VBox = _Widget
    links = []

    @classmethod
    def jslink(cls, a, b):
        cls.links.append((a, b))


@needs_dot
def test_show_frames_slider_wiring(monkeypatch):
    ipython = pytest.importorskip("IPython")
    monkeypatch.setitem(sys.modules, "ipywidgets", FakeWidgets)
    frames = viz.backward_frames(fan_out()["f"])
    # in a kernel, with ipywidgets importable, the default is the slider
    monkeypatch.setattr(ipython, "get_ipython", lambda: type("Shell", (), {"kernel": object()})())
    box = viz.show_frames(frames)
    (controls, picture) = box.children
    play, slider = controls.children
    assert (slider.min, slider.max, slider.value) == (1, 6, 1) and (play.min, play.max) == (1, 6)
    assert FakeWidgets.links[-1] == ((play, "value"), (slider, "value"))
    assert "visiting f" in picture.value
    slider.value = 3
    assert "visiting u" in picture.value and "<svg" in picture.value


@needs_dot
def test_show_frames_slider_with_ipywidgets():
    widgets = pytest.importorskip("ipywidgets")
    frames = viz.backward_frames(fan_out()["f"])
    box = viz.show_frames(frames, interactive=True)
    (controls, picture) = box.children
    play, slider = controls.children
    assert isinstance(slider, widgets.IntSlider) and (slider.min, slider.max) == (1, 6)
    assert "visiting f" in picture.value
    slider.value = 3
    assert "visiting u" in picture.value


# ---------------------------------------------------------------------------
# The engine's sweep callback
# ---------------------------------------------------------------------------

def test_sweep_calls_on_visit_in_its_order_with_the_sums_so_far():
    g = fan_out()
    f = g["f"]
    seen = []

    def on_visit(node, cotangent, so_far):
        pending = {k: so_far(t) for k, t in g.items()}
        seen.append((node.name, float(cotangent), {k: v for k, v in pending.items() if v is not None}))

    graph.sweep((f,), (np.float64(1.0),), None, retain_graph=True, on_leaf=lambda n, c: None,
                on_visit=on_visit)
    assert [name for name, _, _ in seen] == ["f", "e", "u", "y", "x", "t"]
    assert seen[0][2] == {"y": 1.0, "e": 1.0}              # after f handed out its shares
    assert set(seen[2][2]) == {"y", "x"}                   # after u: y (twice reached) and x pending
    assert seen[-1][2] == {}
    # with targets (autograd.grad's path) only the nodes on a path to a target are visited
    names = []
    graph.sweep((f,), (np.float64(1.0),), [g["u"]], retain_graph=True,
                on_visit=lambda node, c, s: names.append(node.name))
    assert names == ["f", "e", "u"]
