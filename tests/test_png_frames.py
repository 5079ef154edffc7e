"""The PNG frames a Panel pushes to ipympl decode to the same pixels as ipympl's own frames."""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.backends.backend_webagg_core import FigureCanvasWebAggCore  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from helpers import widgets  # noqa: E402


def decode(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_png_bytes_round_trip():
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    rgba[5:20] = 0  # long runs, as in a diff frame
    assert np.array_equal(decode(widgets.png_bytes(rgba)), rgba)


def ipympl_figure():
    from ipympl.backend_nbagg import Canvas, FigureManager

    fig = Figure(figsize=(3, 2), dpi=100)
    canvas = Canvas(fig)
    FigureManager(canvas, 0)
    canvas.syncing_data_url = False  # as after the browser's "initialized"
    return fig


def test_fast_diff_frames_equal_ipympl_frames():
    fig = ipympl_figure()
    ax = fig.add_subplot()
    bars = ax.bar([0, 1], [0.5, 0.5])
    ax.set_ylim(0, 1)

    def update(a):
        bars[0].set_height(a)
        return ""

    widgets.Panel({"a": widgets.slider("a", 0.5, 0.0, 1.0)}, fig, update)
    canvas = fig.canvas
    assert "get_diff_image" in vars(canvas)  # the Panel's encoder replaces ipympl's
    modes = []
    for a in (0.2, 0.9, 0.4):
        update(a)
        FigureCanvasAgg.draw(canvas)
        last, force_full = canvas._last_buff.copy(), canvas._force_full
        frames = []
        for get in (canvas.get_diff_image, lambda: FigureCanvasWebAggCore.get_diff_image(canvas)):
            canvas._last_buff, canvas._force_full, canvas._png_is_old = last.copy(), force_full, True
            frames.append((decode(get()), canvas._current_image_mode))
        (fast, mode), (slow, slow_mode) = frames
        assert mode == slow_mode and np.array_equal(fast, slow)
        modes.append(mode)
    assert "diff" in modes
