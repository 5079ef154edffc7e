"""LivePanel: controls, a picture drawn in the browser, a readout and a message line.

A panel is `LivePanel(controls, draw)`: `draw(**values) -> (Scene, readout text)`
computes the lesson's numbers with helpers (the maths students read) and builds the
picture; the panel calls it whenever a control moves and sends the browser only what
changed (helpers.panels.view.SvgView). Bad input typed by a student (the exception
classes in `catch`) shows its message and keeps the last good picture and readout.

Tests and notebooks drive a panel without a browser: set `panel.controls[name].value`
(or `panel.set(...)`), then read `panel.scene` (what the browser shows) and
`panel.text` (the readout). Static viewers (GitHub, nbviewer, an HTML export) get
`image/svg+xml`: the same scene the live view starts from, in rows of 580 px.
"""

from __future__ import annotations

import html

import ipywidgets as W

from .controls import wrapping
from .scene import STATIC_WIDTH
from .view import SvgView

MESSAGE_COLOR = "#B35806"


def readout_markup(text):
    """The readout as HTML: monospaced, 14 px, wrapped in a narrow column."""
    return f"<pre style='font-size:14px;margin:0;white-space:pre-wrap'>{html.escape(text)}</pre>"


class LivePanel:
    """Controls + a live SVG picture + readout + message; display it like a widget.

    controls: {name: ipywidgets value widget}. draw: function(**values) -> (Scene, str).
    catch: exception classes of bad input (their message is shown; nothing else changes).
    columns: how many columns the controls are laid out in (they wrap when narrow).
    """

    def __init__(self, controls, draw, *, title="", catch=(ValueError,), columns=1):
        self.controls = dict(controls)
        self.title = title
        self._draw = draw
        self._catch = tuple(catch)
        self._columns = columns
        self._initial = self.values()
        self._holding = False
        self.error = ""  # the message of the last caught exception; "" after a success
        self.readout = W.HTML()
        self.message = W.HTML()
        self.reset_button = W.Button(description="Reset", icon="undo", layout=W.Layout(width="90px"))
        self.reset_button.on_click(lambda _: self.reset())
        scene, self.text = draw(**self._initial)  # the first state must draw: no catch here
        self.readout.value = readout_markup(self.text)
        self.view = SvgView(scene)
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self._box = None

    @property
    def scene(self):
        """The Scene the browser shows now."""
        return self.view.scene

    def values(self):
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def refresh(self):
        """Draw with the current values and send the change; returns the readout text."""
        try:
            scene, text = self._draw(**self.values())
        except self._catch as err:
            self.error = str(err)
            self.message.value = (f"<div style='font-size:14px;color:{MESSAGE_COLOR}'>"
                                  f"{html.escape(self.error)}</div>")
            return self.text
        if self.error:
            self.error, self.message.value = "", ""
        self.view.show(scene)
        self.text = text
        self.readout.value = readout_markup(text)
        return text

    def set(self, **values):
        """Set several controls at once and draw once; returns the readout text."""
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

    def _on_change(self, _change):
        if not self._holding:
            self.refresh()

    def widget(self):
        """The ipywidgets box: title, controls and Reset, the picture, the readout, the message."""
        if self._box is None:
            controls = list(self.controls.values())
            if self._columns > 1:
                per = -(-len(controls) // self._columns)
                control_box = W.HBox([W.VBox(controls[i:i + per]) for i in range(0, len(controls), per)],
                                     layout=wrapping())
            else:
                control_box = W.VBox(controls, layout=W.Layout(max_width="100%"))
            header = [W.HTML(f"<b style='font-size:15px'>{html.escape(self.title)}</b>")] if self.title else []
            self._box = W.VBox(header + [W.HBox([control_box, self.reset_button], layout=wrapping()),
                                         self.view, self.readout, self.message],
                               layout=W.Layout(max_width="100%", align_items="stretch"))
        return self._box

    def static_svg(self):
        """The picture a static viewer shows: the live view's current scene in rows of 580 px."""
        return self.scene.static_svg(STATIC_WIDTH)

    def _repr_mimebundle_(self, **kwargs):
        # the live widget for JupyterLab, Voila and RISE; the first state as SVG for static
        # viewers; text/plain fixed so that nbval can compare it
        data = self.widget()._repr_mimebundle_(**kwargs)
        bundle = dict(data[0] if isinstance(data, tuple) else data)
        bundle["image/svg+xml"] = self.static_svg()
        bundle["text/plain"] = f"Panel: {self.title or 'sliders'} ({', '.join(self.controls)})"
        return bundle
