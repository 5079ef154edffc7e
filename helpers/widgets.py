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


# ---------------------------------------------------------- notebook 02 panels


#: Names of the six sliders of bank_embedding_panel, one per toy dimension.
BANK_SLIDER_NAMES = tuple(f"bank_{d}" for d in plots.SHORT_DIMENSIONS)


def _nb02_top_words(tokens, scores, k=3):
    order = np.argsort(-scores, kind="stable")[:k]
    return ", ".join(f"{display_word(tokens[j])} {scores[j]:.2f}" for j in order)


def _nb02_signed_sum(terms):
    """[1.26, -0.8, 0] -> '1.26 - 0.80 + 0.00' (rounded, no -0.00)."""
    vals = [plots.clean_number(t) for t in terms]
    text = f"{vals[0]:.2f}"
    for v in vals[1:]:
        text += f" - {-v:.2f}" if v < 0 else f" + {v:.2f}"
    return text


def bank_embedding_panel(sentence=SENTENCE, word="bank", key="river", *, figsize=(5.8, 8.6)):
    """Six sliders edit `word`'s embedding; its row of scores q·k_j and one score term by term.

    Controls: `bank_town` ... `bank_topic` (the embedding of `word`, one slider per
    dimension, starting at the toy vector) and `key` (which key word the
    term-by-term view shows). The head is demo_head(); the edited embedding is
    the word's row of X, so it changes both its query (x W_q) and its own key (x W_k).
    Top: the word's scores against every word of the sentence (bars).
    Below: q, k and q×k as cells on one fixed colour scale (with a colour bar: the largest
    value any slider setting can give), and the waterfall summing q×k to the score.
    Readout: the vector, the query, the top three scores and the chosen sum.
    Extra attributes for tests: panel.tokens, panel.X (unchanged input),
    panel.score_bars (plots.Bars), panel.term_view (plots.TermByTerm).
    """
    tokens, X = sentence_matrix(sentence)  # (n, 6)
    if word not in tokens:
        raise ValueError(f"{word!r} is not a word of the sentence {sentence!r}; its words are {tokens}")
    if key not in tokens:
        raise ValueError(f"key {key!r} is not a word of the sentence; choose from {tokens}")
    W_q, W_k, _ = demo_head()
    i = tokens.index(word)
    key0 = key

    def row_scores(x):
        X2 = X.copy()
        X2[i] = x
        q = x @ W_q  # (6,)
        K = X2 @ W_k  # (n, 6)
        return q, K, K @ q  # scores (n,)

    # the largest |q|, |k| and |q×k| the sliders (each in [-1, 1]) can reach: the fixed colour scale
    q_max = float(np.abs(W_q).sum(axis=0).max())
    k_max = max(float(np.abs(W_k).sum(axis=0).max()), float(np.abs(X @ W_k).max()))
    color_max = max(q_max, k_max, q_max * k_max)

    q0, K0, s0 = row_scores(X[i])
    fig, (ax_row, gap, ax_cells, ax_sum) = plots.new_figure(4, 1, figsize=figsize,
                                                            height_ratios=(1.45, 0.42, 0.75, 1.35))
    gap.remove()  # room for the words under the bars and the dimensions over the cells
    fig.subplots_adjust(left=0.15, right=0.91, top=0.95, bottom=0.09, hspace=0.3)
    ax_row.set_ylim(*plots.score_row_limits(s0, snap=True))
    bars = plots.Bars(ax_row, tokens, s0, ylabel=f"q_{word} · k_j",
                       title=f"{display_word(word)}'s row of scores")
    ax_row.set_xlabel("key word j")
    j0 = tokens.index(key)
    term = plots.TermByTerm(ax_cells, ax_sum, q0, K0[j0], word, key, snap=True, vmax=color_max)
    # The two rescaling axes only widen while the controls move (powers of two, so a few
    # times per session: every other frame blits), and go back when they are back at the start.
    start = {ax_row: ax_row.get_ylim(), ax_sum: ax_sum.get_ylim()}
    shown = dict(start)

    def widen(ax, lo, hi, at_start):
        shown[ax] = start[ax] if at_start else (min(lo, shown[ax][0]), max(hi, shown[ax][1]))
        ax.set_ylim(*shown[ax])

    def update(key, **dims):
        x = np.array([dims[name] for name in BANK_SLIDER_NAMES], dtype=float)
        at_start = key == key0 and np.allclose(x, X[i])
        q, K, s = row_scores(x)
        widen(ax_row, *plots.score_row_limits(s, snap=True), at_start)
        bars.update(s)
        j = tokens.index(key)
        score = term.update(q, K[j], word, key)
        widen(ax_sum, *ax_sum.get_ylim(), at_start)
        # (lines of at most about 60 characters: the readout fits a 600 px notebook column)
        vec = ", ".join(f"{plots.clean_number(v):.2f}" for v in x)
        terms = _nb02_signed_sum(q * K[j])
        return (f"x_{word} = [{vec}]\n"
                f"q_{word} = x_{word} W_q = [{', '.join(f'{plots.clean_number(v):.2f}' for v in q)}]\n"
                f"top scores: {_nb02_top_words(tokens, s)}\n"
                f"{word} · {display_word(key)}: {terms} = {score:.2f}")

    controls = {name: slider(f"{word}: {dim}", float(X[i, d]), min=-1.0, max=1.0, step=0.05)
                for d, (name, dim) in enumerate(zip(BANK_SLIDER_NAMES, plots.SHORT_DIMENSIONS))}
    controls["key"] = W.Dropdown(options=list(dict.fromkeys(tokens)), value=key,
                                 description="key word", style={"description_width": "110px"},
                                 layout=W.Layout(width="340px"))
    # one column of controls (340 px + Reset): the panel fits a 600 px notebook column
    panel = Panel(controls, fig, update, title=f"Edit {word}'s embedding: who does it listen to?")
    panel.tokens, panel.X, panel.word_index = tokens, X, i
    panel.score_bars, panel.term_view = bars, term
    return panel


def scaling_samples(n_pairs=2000, n_keys=9, max_dk=256, seed=0):
    """The random numbers behind scaling_panel, drawn in this order from default_rng(seed):
    q_pairs (n_pairs, max_dk), k_pairs (n_pairs, max_dk), q (max_dk,), keys (n_keys, max_dk),
    all i.i.d. standard normal. A panel with d_k uses the first d_k columns of each."""
    rng = np.random.default_rng(seed)
    q_pairs = rng.standard_normal((n_pairs, max_dk))
    k_pairs = rng.standard_normal((n_pairs, max_dk))
    q = rng.standard_normal(max_dk)
    keys = rng.standard_normal((n_keys, max_dk))
    return q_pairs, k_pairs, q, keys


SCALING_EDGES = np.arange(-50.5, 51.0, 1.0)  # histogram bins of width 1 centred on -50..50


#: The d_k the scaling panel starts at: one head of the paper's base model (d_model 512, 8 heads).
#: At our head's d_k = 6 both histograms would be narrow spikes in the middle of axes wide
#: enough for d_k = 256; at 64 the first picture already shows the point: a wide orange
#: spread (std about 8) next to a narrow blue one (std about 1).
SCALING_START_DK = 64


def scaling_panel(d_k=SCALING_START_DK, n_pairs=2000, n_keys=9, max_dk=256, seed=0, *,
                  figsize=(5.8, 7.0)):
    """A d_k slider (1..max_dk, starting at d_k): the spread of q·k and the softmax weights,
    with and without dividing by sqrt(d_k).

    Top: histograms of q·k over n_pairs random pairs (unscaled and divided by
    sqrt(d_k)), on fixed bins and fixed axes (so a wider spread looks wider). Bottom:
    softmax weights of one random query over n_keys random keys, unscaled and scaled.
    The numbers come from scaling_samples(n_pairs, n_keys, max_dk, seed); moving the
    slider uses more or fewer of the same coordinates, so the picture changes smoothly.
    Extra attributes for tests: panel.hist_unscaled, panel.hist_scaled
    (plots.Histogram), panel.weight_bars_unscaled, panel.weight_bars_scaled (bar containers).
    """
    q_pairs, k_pairs, q, keys = scaling_samples(n_pairs, n_keys, max_dk, seed)
    pair_dots = np.cumsum(q_pairs * k_pairs, axis=1)  # (n_pairs, max_dk): column d-1 = q·k with d_k=d
    key_dots = np.cumsum(q[None, :] * keys, axis=1)  # (n_keys, max_dk)

    fig, (ax_h, ax_w) = plots.new_figure(2, 1, figsize=figsize)
    hist_u = plots.Histogram(ax_h, SCALING_EDGES, color=plots.UNSCALED_COLOR, label="q·k")
    hist_s = plots.Histogram(ax_h, SCALING_EDGES, color=plots.SCALED_COLOR, label="q·k / √d_k")
    ax_h.set_xlim(SCALING_EDGES[0], SCALING_EDGES[-1])
    ax_h.set_ylim(0, 0.65)
    ax_h.set_xlabel(f"score (one per random pair, {n_pairs} pairs)")
    ax_h.set_ylabel("share of pairs\nper unit")
    # No histogram bar reaches the legend's corner for any d_k (tested), so it can lie under
    # them: then it stays in the cached background instead of being redrawn every frame.
    ax_h.legend(loc="upper right").set_zorder(0.9)
    title_h = ax_h.set_title("")
    x = np.arange(n_keys)
    bars_u = ax_w.bar(x - 0.2, np.zeros(n_keys), width=0.4, color=plots.UNSCALED_COLOR,
                      label="softmax(q·k)")
    bars_s = ax_w.bar(x + 0.2, np.zeros(n_keys), width=0.4, color=plots.SCALED_COLOR,
                      label="softmax(q·k / √d_k)")
    ax_w.set_xticks(x, [str(j + 1) for j in x])
    ax_w.set_xlabel(f"key (one query, {n_keys} random keys)")
    ax_w.set_ylabel("softmax weight")
    ax_w.set_ylim(0, 1.05)
    # No legend here: a bar can reach 1 at any key. The colours are the histogram's (its legend).
    ax_w.axhline(1 / n_keys, color=plots.OTHER_COLOR, linestyle="--", linewidth=1)
    ax_w.text(1.01, 1 / n_keys, f"1/{n_keys}", transform=ax_w.get_yaxis_transform(), va="center",
              color=plots.OTHER_COLOR, fontsize=plots.SMALL_FONT - 1)
    title_w = ax_w.set_title("")
    fig.subplots_adjust(left=0.16, right=0.92, top=0.94, bottom=0.09, hspace=0.5)

    def update(d_k):
        d_k = int(d_k)
        dots = pair_dots[:, d_k - 1]
        scaled = dots / np.sqrt(d_k)
        hist_u.update(dots)
        hist_s.update(scaled)
        s = key_dots[:, d_k - 1]
        w_u = softmax(s)
        w_s = softmax(s / np.sqrt(d_k))
        for bar, v in zip(bars_u, w_u):
            bar.set_height(v)
        for bar, v in zip(bars_s, w_s):
            bar.set_height(v)
        title_h.set_text(f"d_k = {d_k}: std {dots.std():.2f}, scaled {scaled.std():.2f}")
        title_w.set_text(f"softmax weights; largest {w_u.max():.2f}, scaled {w_s.max():.2f}")
        return (f"d_k = {d_k}\n"
                f"spread (std) of q·k over {n_pairs} pairs: {dots.std():.2f}   (√d_k = {np.sqrt(d_k):.2f})\n"
                f"after dividing by √d_k:              {scaled.std():.2f}\n"
                f"largest weight: {w_u.max():.2f} without scaling, {w_s.max():.2f} with scaling")

    controls = {"d_k": int_slider("d_k", d_k, 1, max_dk)}
    panel = Panel(controls, fig, update, title="How long vectors blow up the scores")
    panel.hist_unscaled, panel.hist_scaled = hist_u, hist_s
    panel.weight_bars_unscaled, panel.weight_bars_scaled = bars_u, bars_s
    return panel


# ---------------------------------------------------------- notebook 05 panels

#: A row of weights whose largest and smallest weight differ by less than this picks no word.
FLAT_SPREAD = 0.02
#: Notebook 05's panel, in inches: narrower than the notebook column (5.8 in = 580 px), so
#: that the canvas is never cut; the word labels of three heads in a row (points, >= 10).
PANEL_05_SIZE = (5.8, 5.8)
PANEL_05_NARROW_LABELS = 10


def multi_head_panel(vectors, W_q, W_k, W_v, W_o, head_counts=(1, 2, 3, 6)):
    """Notebook 05: the same projections cut into 1, 2, 3 or 6 heads; one heatmap per head.

    Controls: `num_heads` (ToggleButtons over head_counts), `sentence` (Dropdown of the
    story's two sentences), `sharpness` (0 to 3; the panel uses W_q = sharpness × W_q,
    so 1 = the given W_q). The figure is PANEL_05_SIZE (5.8 in: never cut in the notebook
    column): up to 3 heads in a row, 6 heads in 2 rows of 3. Unused heatmap slots are hidden. The readout names, for each head, the word *bank*
    attends to most and the word *going* attends to most, or "all about 0.11" when that
    row's weights are even (largest minus smallest < FLAT_SPREAD).
    """
    from . import plots
    from .attention import multi_head_attention
    from .embeddings import SENTENCE, CONTRAST_SENTENCE, sentence_matrix, display_word

    sentences = {"river": SENTENCE, "money": CONTRAST_SENTENCE}
    matrices = {key: sentence_matrix(text, vectors) for key, text in sentences.items()}
    n = len(matrices["river"][0])
    if any(len(tokens) != n for tokens, _ in matrices.values()):
        raise ValueError("the panel's sentences must have the same number of words")
    max_heads = max(head_counts)
    fig, axes = plots.new_figure(2, 3, figsize=PANEL_05_SIZE)
    axes = axes.ravel()
    blank = np.zeros((n, n))
    tokens0 = matrices["river"][0]
    maps = [plots.heatmap(ax, blank, tokens0, tokens0, vmin=0, vmax=1, annotate=False,
                          colorbar=False, xlabel="", ylabel="") for ax in axes[:max_heads]]
    width_in, height_in = fig.get_size_inches()
    # a horizontal colour bar under the heatmaps, so that the width goes to the heatmaps
    colorbar_ax = fig.add_axes([1.9 / width_in, 0.36 / height_in, 3.3 / width_in, 0.13 / height_in])
    fig.colorbar(maps[0].image, cax=colorbar_ax, orientation="horizontal")
    colorbar_ax.text(-0.04, 0.5, "weight", ha="right", va="center", fontsize=plots.SMALL_FONT,
                     transform=colorbar_ax.transAxes)
    fig.suptitle("each row: a query word; each column: a key word", fontsize=plots.FONT)
    arranged = {}  # the head count the axes are laid out for
    written = {}  # {axes: (tick labels, title columns) it shows}

    def arrange(num_heads):
        """Lay the visible heads out: 1 row for up to 3 heads, else 2 rows of 3; square heatmaps."""
        if arranged.get("heads") == num_heads:
            return
        arranged["heads"] = num_heads
        rows, cols = (1, num_heads) if num_heads <= 3 else (2, -(-num_heads // 2))
        narrow = cols >= 3  # three in a row: smaller labels, the key words turned upright
        size = PANEL_05_NARROW_LABELS if narrow else plots.SMALL_FONT
        left, right, top, bottom = 0.75, 0.12, 0.45, 0.6  # inches: word labels, margin, title, colour bar
        gap, title_h, xlabels_h = 0.12, 0.3, 0.62 if narrow else 0.62
        cell_w = (width_in - left - right - gap * (cols - 1)) / cols
        cell_h = (height_in - top - bottom) / rows
        side = min(cell_w, cell_h - title_h - xlabels_h)
        row_w = cols * side + (cols - 1) * gap
        x0 = left + (width_in - left - right - row_w) / 2
        for h, ax in enumerate(axes):
            r, c = divmod(h, cols)
            y_top = height_in - top - r * cell_h - (cell_h - side - title_h - xlabels_h) / 2 - title_h
            ax.set_position([(x0 + c * (side + gap)) / width_in, (y_top - side) / height_in,
                             side / width_in, side / height_in])
            # word labels on the left of each row only: the heads of a row share their query words
            ax.tick_params(labelsize=size, labelleft=(c == 0), labelrotation=0, axis="y")
            ax.tick_params(labelsize=size, labelrotation=90 if narrow else 45, axis="x")
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("center" if narrow else "right")
        arranged["title size"] = size + 1

    def choice(row, tokens):
        """The word a row of weights picks, or 'all about 1/n' when it picks none."""
        if row.max() - row.min() < FLAT_SPREAD:
            return f"all about {row.mean():.2f}"
        return f"{display_word(tokens[row.argmax()])} {row.max():.2f}"

    def update(num_heads, sentence, sharpness):
        tokens, X = matrices[sentence]
        _, weights = multi_head_attention(X, sharpness * W_q, W_k, W_v, W_o, num_heads)  # (h, n, n)
        d_k = X.shape[1] // num_heads
        labels = [display_word(t) for t in tokens]
        lines = [f"{num_heads} head(s), d_k = {d_k}, sharpness {sharpness:.2f}, sentence: {sentences[sentence]}"]
        arrange(num_heads)
        bank, going = tokens.index("bank"), tokens.index("going")
        for h, (ax, hm) in enumerate(zip(axes, maps)):
            ax.set_visible(h < num_heads)
            if h >= num_heads:
                continue
            hm.update(weights[h])
            cols = f"col {h * d_k}" if d_k == 1 else f"cols {h * d_k}-{(h + 1) * d_k - 1}"
            if written.get(ax) != (labels, cols, arranged["title size"]):  # setting them is slow
                written[ax] = (labels, cols, arranged["title size"])
                ax.set_xticklabels(labels)
                ax.set_yticklabels(labels)
                ax.set_title(f"head {h} ({cols})", fontsize=arranged["title size"])
            lines.append(f"head {h}: bank -> {choice(weights[h, bank], tokens)}, "
                         f"going -> {choice(weights[h, going], tokens)}")
        return "\n".join(lines)

    controls = {
        "num_heads": W.ToggleButtons(options=list(head_counts), value=2, description="heads",
                                     style={"button_width": "48px", "description_width": "110px"}),
        "sentence": W.Dropdown(options=[(text, key) for key, text in sentences.items()], value="river",
                               description="sentence", style={"description_width": "110px"},
                               layout=W.Layout(width="480px")),
        "sharpness": slider("sharpness × W_q", 1.0, min=0.0, max=3.0, step=0.1),
    }
    return Panel(controls, fig, update, title="One heatmap per head")
