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


def bar_panel():
    """A Panel on an ipympl canvas whose sent frames are recorded as (mode, pixels)."""
    fig = ipympl_figure()
    ax = fig.add_subplot()
    bars = ax.bar([0, 1], [0.5, 0.5])
    ax.set_ylim(0, 1)

    def update(a):
        bars[0].set_height(a)
        return ""

    panel = widgets.Panel({"a": widgets.slider("a", 0.5, 0.0, 1.0)}, fig, update)
    sent = []
    fig.canvas.send_binary = lambda png: sent.append((fig.canvas._current_image_mode, decode(png)))
    return panel, sent


def test_fast_diff_frames_equal_ipympl_frames(monkeypatch):
    monkeypatch.setattr(widgets, "BURST_S", 0.0)  # frames far apart: diffs, as ipympl's
    panel, _ = bar_panel()
    canvas = panel.fig.canvas
    assert "get_diff_image" in vars(canvas)  # the Panel's encoder replaces ipympl's
    modes = []
    for a in (0.2, 0.9, 0.4):
        panel._update(a=a)
        FigureCanvasAgg.draw(canvas)
        last, force_full = canvas._last_buff.copy(), canvas._force_full
        frames = []
        for get in (lambda: widgets._fast_diff_image(canvas)[0],
                    lambda: FigureCanvasWebAggCore.get_diff_image(canvas)):
            canvas._last_buff, canvas._force_full, canvas._png_is_old = last.copy(), force_full, True
            frames.append((decode(get()), canvas._current_image_mode))
        (fast, mode), (slow, slow_mode) = frames
        assert mode == slow_mode and np.array_equal(fast, slow)
        modes.append(mode)
    assert "diff" in modes


def push(panel, a):
    """Move the slider: with a browser attached, Panel.refresh renders and sends the frame."""
    panel.controls["a"].value = a


def test_frames_in_a_burst_are_whole_frames_far_apart_are_diffs(monkeypatch):
    """ipympl's front end drops a frame that is not decoded when the next arrives: a dropped
    diff would leave stale pixels, so frames close together are sent whole."""
    panel, sent = bar_panel()
    monkeypatch.setattr(widgets, "BURST_S", 0.0)
    push(panel, 0.3)
    monkeypatch.setattr(widgets, "BURST_S", 60.0)  # every frame counts as close to the last
    push(panel, 0.4)
    push(panel, 0.5)
    assert [mode for mode, _ in sent] == ["diff", "full", "full"]
    assert (sent[-1][1][..., 3] == 255).all()  # a whole frame: no transparent pixel
    assert np.array_equal(sent[-1][1], np.asarray(panel.fig.canvas.buffer_rgba()))


def test_a_diff_is_followed_by_the_whole_picture(monkeypatch):
    """SETTLE_S after a diff, the same picture is sent again whole, even if the browser dropped it."""
    import asyncio
    import threading

    monkeypatch.setattr(widgets, "BURST_S", 0.0)
    monkeypatch.setattr(widgets, "SETTLE_S", 0.05)
    panel, sent = bar_panel()

    async def drag():
        push(panel, 0.3)  # a diff: schedules the whole frame
        push(panel, 0.7)  # another diff: the whole frame moves after it
        await asyncio.sleep(0.2)

    # in a thread of its own: another event loop may be running in this one (Playwright's)
    thread = threading.Thread(target=lambda: asyncio.run(drag()))
    thread.start()
    thread.join()
    assert [mode for mode, _ in sent] == ["diff", "diff", "full"]
    assert np.array_equal(sent[-1][1], np.asarray(panel.fig.canvas.buffer_rgba()))
    assert panel._settle_timer is None
