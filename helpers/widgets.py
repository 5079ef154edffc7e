"""Slider panels: controls + one figure updated in place + a text readout.

A Panel is built on a plain update function, `update(**values) -> str`, which
changes the figure's existing artists and returns the readout text. Tests and
notebooks drive it without a browser by setting `panel.controls[name].value`
(or `panel.set(...)`); the browser sees the same thing when a slider moves.

Only notebooks and tests import this module (widgets sit on top of the maths).
"""

from __future__ import annotations

import base64
import html
import io

import ipywidgets as W
import numpy as np

__all__ = ["Panel", "slider", "int_slider"]


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


class Panel:
    """Controls, a figure updated in place, and a readout; call `display(panel)` to show it.

    controls: dict name -> ipywidgets value widget (sliders, dropdowns, toggles).
    fig: a matplotlib figure made with helpers.plots.new_figure (drawn once).
    update: function(**values) -> str; changes the figure's artists, returns the readout.
    A Reset button puts every control back to its starting value.
    """

    def __init__(self, controls, fig, update, *, title="", columns=1):
        self.controls = dict(controls)
        self.fig = fig
        self.title = title
        self._update = update
        self._initial = {k: w.value for k, w in self.controls.items()}
        self._holding = False
        self.readout = W.HTML()
        self.message = W.HTML()  # friendly errors (e.g. unknown words) go here
        self.reset_button = W.Button(description="Reset", icon="undo", layout=W.Layout(width="90px"))
        self.reset_button.on_click(lambda _: self.reset())
        for w in self.controls.values():
            w.observe(self._on_change, names="value")
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
        self.text = self._update(**self.values())
        self.readout.value = f"<pre style='font-size:14px; margin:0'>{html.escape(self.text)}</pre>"
        self.fig.canvas.draw_idle()
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

    # -- showing the panel
    def widget(self):
        """The ipywidgets box: title, controls, Reset, the figure, the readout."""
        if self._box is None:
            controls = list(self.controls.values())
            if self._columns > 1:
                per = -(-len(controls) // self._columns)
                cols = [W.VBox(controls[i:i + per]) for i in range(0, len(controls), per)]
                control_box = W.HBox(cols)
            else:
                control_box = W.VBox(controls)
            header = [W.HTML(f"<b style='font-size:15px'>{html.escape(self.title)}</b>")] if self.title else []
            canvas = self.fig.canvas
            figure = canvas if isinstance(canvas, W.DOMWidget) else W.Output()
            if isinstance(figure, W.Output):  # a non-widget backend: show a static picture
                with figure:
                    from IPython.display import display
                    display(self.fig)
            self._box = W.VBox(header + [W.HBox([control_box, self.reset_button]), figure,
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


# ---------------------------------------------------------- notebook 00


def word_vector_panel(vectors, words=None):
    """Notebook 00's warm-up: pick a word, scale it, see its six numbers as bars.

    vectors: KeyedVectors (the toy table). Controls: `word` (Dropdown), `scale` (slider).
    """
    from . import plots
    from .embeddings import DIMENSIONS, display_word

    words = list(vectors.key_to_index) if words is None else list(words)
    fig, ax = plots.new_figure(figsize=(7, 3.6))
    bars = plots.Bars(ax, DIMENSIONS, vectors[words[0]], ylim=(-1.6, 1.6),
                      color=plots.RIVER_COLOR, ylabel="value")
    title = ax.set_title("")
    fig.tight_layout()

    def update(word, scale):
        vector = scale * np.asarray(vectors[word])
        bars.update(vector)
        for bar in bars.bars:
            bar.set_color(plots.word_color(word))
        title.set_text(f"{scale:.2f} × vector of '{display_word(word)}'")
        return f"{display_word(word)} × {scale:.2f} = {np.round(vector, 2).tolist()}"

    controls = {
        "word": W.Dropdown(options=[(display_word(w), w) for w in words], value=words[0],
                           description="word", style={"description_width": "110px"}),
        "scale": slider("scale", 1.0, min=0.0, max=1.5, step=0.1),
    }
    return Panel(controls, fig, update, title="A word and its six numbers")

# ==== notebook 01 panels (only the notebook 01 author edits between these lines) ====
# ==== end notebook 01 ====

# ==== notebook 02 panels (only the notebook 02 author edits between these lines) ====
# ==== end notebook 02 ====

# ==== notebook 03 panels (only the notebook 03 author edits between these lines) ====
# ==== end notebook 03 ====

# ==== notebook 04 panels (only the notebook 04 author edits between these lines) ====
# ==== end notebook 04 ====

# ==== notebook 05 panels (only the notebook 05 author edits between these lines) ====
# ==== end notebook 05 ====
