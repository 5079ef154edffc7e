"""The generic live-panel layer: it knows nothing of attention or of the story.

    scene      Scene: a picture as SVG tiles with keyed parts; patches between scenes
    view       SvgView: the anywidget that shows a scene and applies patches in the browser
    controls   sliders, dropdowns, toggles, a text box, sized for a projector
    panel      LivePanel(controls, draw): draw(**values) -> (Scene, readout); errors, Reset, static SVG
    pieces     drawing pieces that add tiles to a scene: heatmap, bars, colour bar, word map, ...

Lessons (helpers.lessons) build their panels from these; the maths below (helpers.attention,
helpers.embeddings, ...) computes every number a panel shows.
"""

from .controls import dropdown, int_slider, slider, text_box, toggle, wrapping
from .panel import LivePanel
from .scene import Scene, apply_patch, attrs_markup

__all__ = ["LivePanel", "Scene", "apply_patch", "attrs_markup", "dropdown", "int_slider", "slider",
           "text_box", "toggle", "wrapping"]
