"""Slider panels: controls + one figure updated in place + a text readout.

A Panel is built on a plain update function, `update(**values) -> str`, which
changes the figure's existing artists and returns the readout text. Tests and
notebooks drive it without a browser by setting `panel.controls[name].value`
(or `panel.set(...)`); the browser sees the same thing when a slider moves.

Only notebooks and tests import this module (widgets sit on top of the maths).
"""

from __future__ import annotations

import asyncio
import base64
import html
import io
import struct
import time
import zlib

import ipywidgets as W
import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_webagg_core import FigureCanvasWebAggCore
from matplotlib.ticker import FuncFormatter

from . import plots
from .attention import demo_head, scaled_dot_product_attention, softmax
from .embeddings import (CONTRAST_SENTENCE, RIVER_CLUSTER, SENTENCE, TOWN_CLUSTER, cosine_similarity,
                         display_word, project_2d, sentence_matrix, tokenize, toy_vectors)

__all__ = ["Panel", "slider", "int_slider"]


def png_bytes(rgba, level=3):
    """Encode an RGBA array (H x W x 4, uint8) as PNG: no row filters, zlib at a fast `level`.

    About 2.5 times faster than Pillow's encoder (which tries every row filter) for
    the mostly transparent frames ipympl sends, for frames about 10 % larger.
    """
    h, w, _ = rgba.shape
    raw = np.empty((h, 1 + 4 * w), np.uint8)
    raw[:, 0] = 0  # filter type "None" for every row
    raw[:, 1:] = rgba.reshape(h, 4 * w)

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, level)) + chunk(b"IEND", b""))


#: A frame that follows the previous one by less than this (s) is sent whole (see _fast_diff_image).
BURST_S = 0.1
#: This long (s) after a "diff" frame, the same picture is sent again whole (see Panel._settle).
SETTLE_S = 0.15


def _fast_diff_image(canvas):
    """matplotlib's FigureCanvasWebAggCore.get_diff_image (3.7 to 3.11), encoding with png_bytes.

    Returns (PNG bytes or None, whether the frame is whole). Sends the changed pixels
    ("diff" mode, the rest transparent) or the whole frame ("full"). ipympl's front end
    decodes each PNG asynchronously and drops a frame when the next one arrives before
    it is decoded; a dropped diff leaves its pixels stale for good (ghost bars, two
    titles on top of each other: tests/browser/test_frames_in_browser.py). So a frame
    that follows the previous one by less than BURST_S (a drag, a burst of updates) is
    sent whole, and whole frames use the fastest compression.
    """
    if not canvas._png_is_old:
        return None, False
    now = time.monotonic()
    burst = now - getattr(canvas, "_last_frame_at", -np.inf) < BURST_S
    canvas._last_frame_at = now
    pixels = np.asarray(canvas.get_renderer().buffer_rgba())
    buff = pixels.view(np.uint32).squeeze(2)  # one uint32 per pixel: compare pixels at once
    full = (canvas._force_full or burst or buff.shape != canvas._last_buff.shape
            or (pixels[:, :, 3] != 255).any())  # a transparent pixel cannot be overlaid
    if full:
        canvas.set_image_mode("full")
        output = buff
    else:
        canvas.set_image_mode("diff")
        output = np.where(buff != canvas._last_buff, buff, 0)
    canvas._last_buff = buff.copy()
    canvas._force_full = False
    canvas._png_is_old = False
    return png_bytes(output.view(np.uint8).reshape(*output.shape, 4), level=1 if full else 3), full


def _changeable(ax):
    """The artists of an Axes that an update may change: all but its background, frame and axes."""
    fixed = {ax.patch, ax.xaxis, ax.yaxis, *ax.spines.values()}
    return [a for a in ax.get_children() if a not in fixed]


def slider(description, value, min=-1.0, max=1.0, step=0.05, readout_format=".2f", width="340px"):
    """A FloatSlider sized for the projector (wide description, continuous update)."""
    return W.FloatSlider(value=value, min=min, max=max, step=step, description=description,
                         readout_format=readout_format, continuous_update=True,
                         style={"description_width": "110px"}, layout=W.Layout(width=width))


def int_slider(description, value, min, max, step=1, width="340px"):
    """An IntSlider sized like `slider`."""
    return W.IntSlider(value=value, min=min, max=max, step=step, description=description,
                       continuous_update=True, style={"description_width": "110px"},
                       layout=W.Layout(width=width))


#: How many cached backgrounds (one per layout: figure pixels each) a Panel keeps.
MAX_BACKGROUNDS = 10
#: An axes whose limits take more values than this is redrawn whole, not cached per limits.
MAX_LIMITS = 12


def wrapping():
    """The layout of a row of widgets that wraps onto the next line in a narrow column."""
    return W.Layout(flex_flow="row wrap", max_width="100%")


class Panel:
    """Controls, a figure updated in place, and a readout; call `display(panel)` to show it.

    controls: dict name -> ipywidgets value widget (sliders, dropdowns, toggles).
    fig: a matplotlib figure made with helpers.plots.new_figure (drawn once).
    update: function(**values) -> str; changes the figure's artists, returns the readout.
    catch: exception classes that `update` raises for bad input (e.g. (UnknownWordError,
    ValueError, TypeError)): refresh shows their message in `message` (and `error`),
    keeps the figure and readout of the last good input and returns that readout; the
    next successful update clears the message. Other exceptions propagate.
    A Reset button puts every control back to its starting value.

    Redrawing: while a browser shows the figure (an ipympl canvas that got the
    front-end's "initialized" message), every update renders the new frame at
    once and pushes it (`draw_frame`), without waiting for the browser to ask.
    Only the artists that change are redrawn, over a cached picture of the
    rest ("blitting"). Without a browser (tests, nbconvert, a static backend)
    the figure is drawn the ordinary way (`draw_idle`).
    Frames carry only the changed pixels, except frames that come in a burst
    (whole, see _fast_diff_image); SETTLE_S after a frame of changed pixels the
    whole picture follows, so the browser's copy ends exact even if it dropped one.
    """

    def __init__(self, controls, fig, update, *, title="", columns=1, catch=()):
        self.controls = dict(controls)
        self.fig = fig
        self.title = title
        self._update = update
        # Exceptions of these classes raised by `update` (bad input typed by a student) are
        # shown in self.message; the figure and the readout keep their last good state.
        self._catch = tuple(catch)
        self.error = ""  # the message of the last caught exception, "" after a success
        self._initial = {k: w.value for k, w in self.controls.items()}
        self._holding = False
        self.readout = W.HTML()
        self.message = W.HTML()  # friendly errors (e.g. unknown words) go here
        self.reset_button = W.Button(description="Reset", icon="undo", layout=W.Layout(width="90px"))
        self.reset_button.on_click(lambda _: self.reset())
        for w in self.controls.values():
            w.observe(self._on_change, names="value")
        # cached pictures of everything that does not change, one per layout seen (see
        # _background_key), most recently used last: {key: (background, artists drawn over it)}
        self._backgrounds = {}
        self._limits = {}  # {axes: the different limits it has had}
        self._dynamic = set()  # artists an update has changed so far
        self._whole = set()  # axes whose limits follow the data: redrawn whole
        self._redrawn = []  # what draw_frame draws over the background, in drawing order
        self._own_draw = False
        self._settle_timer = None  # the pending Panel._settle call, if any
        fig.canvas.mpl_connect("draw_event", self._on_draw_event)
        if getattr(type(fig.canvas), "get_diff_image", None) is FigureCanvasWebAggCore.get_diff_image:
            fig.canvas.get_diff_image = self._frame_png  # ipympl's frames
        self.text = ""
        self.refresh()
        self._columns = columns
        self._box = None

    # -- driving the panel
    def values(self):
        """The controls' current values, by name."""
        return {k: w.value for k, w in self.controls.items()}

    def refresh(self):
        """Run the update function with the current values and redraw (in place)."""
        interactive = matplotlib.is_interactive()
        matplotlib.interactive(False)  # no "draw" request per changed artist: one redraw below
        try:
            self.text = self._update(**self.values())
        except self._catch as err:  # friendly message; keep the last good figure and readout
            self.error = str(err)
            self.message.value = (f"<div style='font-size:14px; color:#B35806'>"
                                  f"{html.escape(self.error)}</div>")
            return self.text
        finally:
            matplotlib.interactive(interactive)
        if self.error:  # this input worked: take the last error's message away
            self.error = ""
            self.message.value = ""
        self.readout.value = (f"<pre style='font-size:14px; margin:0; white-space:pre-wrap'>"
                              f"{html.escape(self.text)}</pre>")
        if getattr(self.fig.canvas, "syncing_data_url", True):  # no browser shows it (yet)
            self.fig.canvas.draw_idle()
        else:
            self.draw_frame()
        return self.text

    def set(self, **values):
        """Set several controls at once, update once; returns the readout text."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise KeyError(f"no control named {sorted(unknown)}; this panel has {sorted(self.controls)}")
        self._holding = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._holding = False
        return self.refresh()

    def reset(self):
        """Put every control back to its starting value."""
        return self.set(**self._initial)

    def _on_change(self, change):
        if not self._holding:
            self.refresh()

    # -- drawing: full frames, or only the changed artists over a cached background
    def draw_frame(self):
        """Render the current state into the canvas and show it (ipympl: push it to the browser).

        Artists changed since the last frame are found by matplotlib's `stale`
        flags. If they were already redrawn in earlier frames, the cached
        background of the current layout (figure size, axes positions and
        visibility, every axes' limits and tick labels) is restored and only
        those artists, and the artists stacked above them in their axes (unless
        they lie outside it, like a title), are drawn again. Backgrounds are kept for up to MAX_BACKGROUNDS layouts, so
        switching back to a head count, a sentence or a context word seen before
        is a blit too. An axes whose limits have taken more than MAX_LIMITS
        values (they follow the data) is redrawn whole from then on, ticks and all.
        Otherwise the figure is drawn in full: first without what is redrawn,
        to cache the background, then with it.
        """
        fig, canvas = self.fig, self.fig.canvas
        if not isinstance(canvas, FigureCanvasAgg):  # no pixel buffer to blit into
            canvas.draw()
            return
        candidates = [a for ax in fig.axes if ax.get_visible() for a in _changeable(ax)]
        changed = {a for a in candidates if a.stale}
        figure_changed = any(a.stale for a in fig.get_children() if a not in fig.axes and a is not fig.patch)
        layout, scales = self._layout_key()
        for ax, scale in scales.items():
            if ax not in self._whole:  # (once redrawn whole, its limits no longer matter)
                self._limits.setdefault(ax, set()).add(scale[:2])
        follows = {ax for ax, limits in self._limits.items() if len(limits) > MAX_LIMITS} - self._whole
        if figure_changed or follows or not changed <= self._dynamic:
            self._dynamic |= changed
            self._whole |= follows
            self._backgrounds.clear()  # they have these artists drawn in
        key = self._background_key(layout, scales)
        entry = self._backgrounds.pop(key, None)
        if entry is None:
            self._full_draw(key)
        else:  # a layout seen before: its background, and the changed artists over it
            background, self._redrawn = self._backgrounds[key] = entry  # (now most recent)
            canvas.restore_region(background)
            renderer = canvas.get_renderer()
            for a in self._redrawn:
                a.draw(renderer)
        for a in candidates:
            a.stale = False
        for ax in fig.axes:
            ax.stale = False
        fig.stale = False
        canvas.blit(fig.bbox)

    def _full_draw(self, key):
        canvas = self.fig.canvas
        renderer = canvas.get_renderer()
        self._redrawn = []
        # the changing artists and everything stacked above them that may cover them: what
        # lies outside the axes (a title, a legend below it) stays in the background
        for ax in self.fig.axes:
            if not ax.get_visible():
                continue
            if ax in self._whole:
                self._redrawn.append(ax)
                continue
            frame = list(ax.spines.values()) if ax.axison and ax.get_frame_on() else []
            artists = sorted(_changeable(ax) + frame, key=lambda a: a.zorder)  # (not the ticks: slow)
            lowest = min((a.zorder for a in artists if a in self._dynamic), default=None)
            if lowest is not None:
                self._redrawn += [a for a in artists if a.zorder >= lowest and (
                    a in self._dynamic or a.get_window_extent(renderer).overlaps(ax.bbox))]
        for a in self._redrawn:
            a.set_animated(True)  # matplotlib leaves animated artists out of a full draw
        self._own_draw = True
        try:
            FigureCanvasAgg.draw(canvas)
        finally:
            self._own_draw = False
            for a in self._redrawn:
                a.set_animated(False)
        self._backgrounds[key] = (canvas.copy_from_bbox(self.fig.bbox), self._redrawn)
        while len(self._backgrounds) > MAX_BACKGROUNDS:
            del self._backgrounds[next(iter(self._backgrounds))]  # the least recently used
        for a in self._redrawn:
            a.draw(renderer)

    def _layout_key(self):
        """What the cached background depends on: (figure size and axes placement, {axes: scale}).

        An axes' scale is its limits and tick labels.
        """
        layout = [self.fig.canvas.get_width_height(physical=True), self.fig.dpi]
        scales = {}
        for ax in self.fig.axes:
            layout.append((ax.get_visible(), tuple(ax.get_position().bounds)))
            if ax.get_visible():
                scales[ax] = (ax.get_xlim(), ax.get_ylim()) + tuple(
                    tuple(axis.major.formatter.format_ticks(axis.get_majorticklocs()))
                    for axis in (ax.xaxis, ax.yaxis) if axis.get_visible())
        return tuple(layout), scales

    def _background_key(self, layout, scales):
        """What a background depends on: the layout and the scales of the axes not redrawn whole."""
        return layout, tuple(scales.get(ax) for ax in self.fig.axes if ax not in self._whole)

    # -- frames for the browser (ipympl)
    def _frame_png(self):
        """ipympl's get_diff_image: the next frame's PNG; after a diff, a whole frame follows."""
        png, full = _fast_diff_image(self.fig.canvas)
        if png is not None and not full:
            self._schedule_settle()
        return png

    def _schedule_settle(self):
        try:
            loop = asyncio.get_running_loop()  # the kernel's event loop
        except RuntimeError:  # none (a script): nothing to schedule
            return
        if self._settle_timer is not None:
            self._settle_timer.cancel()
        self._settle_timer = loop.call_later(SETTLE_S, self._settle)

    def _settle(self):
        """Send the current picture again, whole: repairs the browser's copy if it dropped a diff."""
        self._settle_timer = None
        canvas = self.fig.canvas
        if canvas.manager is None:
            return
        canvas._force_full = True
        canvas._png_is_old = True
        canvas.manager.refresh_all()

    def _on_draw_event(self, event):
        if not self._own_draw:  # someone else drew the figure: the backgrounds may be out of date
            self._backgrounds.clear()
            for ax in self.fig.axes:  # what it drew is up to date (empty texts stay `stale`)
                for a in _changeable(ax):
                    a.stale = False

    # -- showing the panel
    def widget(self):
        """The ipywidgets box: title, controls, Reset, the figure, the readout."""
        if self._box is None:
            controls = list(self.controls.values())
            if self._columns > 1:
                per = -(-len(controls) // self._columns)
                cols = [W.VBox(controls[i:i + per]) for i in range(0, len(controls), per)]
                control_box = W.HBox(cols, layout=wrapping())
            else:
                control_box = W.VBox(controls)
            header = [W.HTML(f"<b style='font-size:15px'>{html.escape(self.title)}</b>")] if self.title else []
            canvas = self.fig.canvas
            figure = canvas if isinstance(canvas, W.DOMWidget) else W.Output()
            if isinstance(figure, W.Output):  # a non-widget backend: show a static picture
                with figure:
                    from IPython.display import display
                    display(self.fig)
            # the rows wrap, so that the controls fit a narrow column (about 590 CSS px on a
            # 1024 x 768 laptop with the file browser open) instead of running past it
            self._box = W.VBox(header + [W.HBox([control_box, self.reset_button], layout=wrapping()), figure,
                                         self.readout, self.message],
                               layout=W.Layout(align_items="flex-start"))
        return self._box

    def _repr_mimebundle_(self, **kwargs):
        # The live widget for JupyterLab, plus a PNG of the first state for static
        # viewers (a code host, nbviewer). text/plain is fixed so nbval can compare it.
        box = self.widget()
        data = box._repr_mimebundle_(**kwargs)
        bundle = data[0] if isinstance(data, tuple) else data
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png")
        bundle = dict(bundle)
        bundle["image/png"] = base64.b64encode(buf.getvalue()).decode("ascii")
        bundle["text/plain"] = f"Panel: {self.title or 'sliders'} ({', '.join(self.controls)})"
        return bundle


def _fixed_locator(locs):
    """A FixedLocator at `locs` (one tick per cell of the grid)."""
    from matplotlib.ticker import FixedLocator

    return FixedLocator(list(locs))


