"""Controls sized for a projector: sliders, dropdowns, toggle buttons, and a wrapping row.

Every control updates continuously while it is dragged and has a 110 px description,
so the labels of a panel line up. Rows wrap onto the next line in a narrow column
(about 590 CSS px on a 1024 x 768 laptop with the file browser open).

The controls do not echo the browser's value back (ipywidgets 8 sends an `echo_update`
message for every change by default; the documented opt-out for a widget's attribute is
the trait metadata `echo_update=False`). The echo only serves other browser windows
open on the same kernel; a panel answers each change with its picture anyway, and every
view of one page shares the control's model. Without it a change costs the kernel one
message fewer (benchmarks/README.md, classroom drag).
"""

from __future__ import annotations

import ipywidgets as W
from traitlets import CFloat, CInt, Int, Unicode

DESCRIPTION_WIDTH = "110px"
CONTROL_WIDTH = "340px"


class FloatSlider(W.FloatSlider):
    """ipywidgets' FloatSlider whose value is not echoed back to the browser."""
    value = CFloat(0.0, help="Float value").tag(sync=True, echo_update=False)


class IntSlider(W.IntSlider):
    """ipywidgets' IntSlider whose value is not echoed back to the browser."""
    value = CInt(0, help="Int value").tag(sync=True, echo_update=False)


class Dropdown(W.Dropdown):
    """ipywidgets' Dropdown whose choice (its synced `index`) is not echoed back."""
    index = Int(None, help="Selected index", allow_none=True).tag(sync=True, echo_update=False)


class ToggleButtons(W.ToggleButtons):
    """ipywidgets' ToggleButtons whose choice (its synced `index`) is not echoed back."""
    index = Int(None, help="Selected index", allow_none=True).tag(sync=True, echo_update=False)


class Text(W.Text):
    """ipywidgets' Text whose value is not echoed back to the browser."""
    value = Unicode(help="String value").tag(sync=True, echo_update=False)


def _style():
    return {"description_width": DESCRIPTION_WIDTH}


def slider(description, value, min=-1.0, max=1.0, step=0.05, readout_format=".2f", width=CONTROL_WIDTH):
    """A FloatSlider with a wide description that updates while it is dragged."""
    return FloatSlider(value=value, min=min, max=max, step=step, description=description,
                         readout_format=readout_format, continuous_update=True, style=_style(),
                         layout=W.Layout(width=width, max_width="100%"))


def int_slider(description, value, min, max, step=1, width=CONTROL_WIDTH):
    """An IntSlider sized like `slider`."""
    return IntSlider(value=value, min=min, max=max, step=step, description=description,
                       continuous_update=True, style=_style(), layout=W.Layout(width=width, max_width="100%"))


def dropdown(description, options, value, width=CONTROL_WIDTH):
    """A Dropdown; `options` as ipywidgets takes them (values, or (label, value) pairs)."""
    return Dropdown(options=options, value=value, description=description, style=_style(),
                      layout=W.Layout(width=width, max_width="100%"))


def toggle(description, options, value, button_width="48px"):
    """ToggleButtons for a few choices (a head count, a mask on or off)."""
    return ToggleButtons(options=options, value=value, description=description,
                           style={"description_width": DESCRIPTION_WIDTH, "button_width": button_width},
                           layout=W.Layout(max_width="100%"))


def text_box(description, value, width="560px", placeholder=""):
    """A one-line Text box that reports every keystroke (continuous_update=True)."""
    return Text(value=value, description=description, placeholder=placeholder, continuous_update=True,
                  style=_style(), layout=W.Layout(width=width, max_width="100%"))


def wrapping():
    """The layout of a row of widgets that wraps onto the next line in a narrow column."""
    return W.Layout(flex_flow="row wrap", max_width="100%")
