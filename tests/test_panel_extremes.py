"""Every control of every live panel in the series, at its extremes: no NaN, nothing empty.

Each panel is built as its notebook builds it (`helpers.lessons.all_panels()`). Every
slider is set to its minimum and its maximum, every dropdown and toggle to each option,
then all sliders to their minima and to their maxima at once. After each setting the
scene the browser would show is checked: no "nan" or "inf" anywhere in its markup or
in the readout (the scene refuses non-finite coordinates itself), no error message,
and every shown tile still draws something.
"""

import re
from collections import Counter

import pytest

from helpers.lessons import all_panels

NOT_A_NUMBER = re.compile(r"\b(nan|inf)\b", re.IGNORECASE)
DRAWN = re.compile(r"<(rect|circle|path|line|polyline|polygon)\b")
#: How many live panels each notebook has (a panel that disappears is a failure too).
PANELS_PER_NOTEBOOK = {"00": 1, "01": 1, "02": 2, "03": 2, "04": 2, "05": 1, "06": 4, "08": 1, "09": 3}

PANELS = all_panels()


def test_every_notebook_has_its_panels():
    counts = Counter(name[:2] for name in PANELS)
    for notebook, expected in PANELS_PER_NOTEBOOK.items():
        assert counts[notebook] >= expected, f"notebook {notebook}: {counts[notebook]} panels, expected {expected}"


def is_slider(control):
    return hasattr(control, "min") and hasattr(control, "max")


def ends(control):
    """The values to try for one control: a slider's ends, or every option."""
    if is_slider(control):
        return [control.min, control.max]
    options = getattr(control, "options", None)
    if options is None:
        return []  # a text box or a button: the lesson's own tests type into it
    return [option[1] if isinstance(option, tuple) else option for option in options]


def settings(panel):
    """(description, values for panel.set) for every extreme of every control."""
    for name, control in panel.controls.items():
        for value in ends(control):
            yield f"{name}={value!r}", {name: value}
    sliders = {n: c for n, c in panel.controls.items() if is_slider(c)}
    if len(sliders) > 1:
        yield "all sliders at min", {n: c.min for n, c in sliders.items()}
        yield "all sliders at max", {n: c.max for n, c in sliders.items()}


def problems(scene):
    found = []
    for i, markup in enumerate(scene.tile_markups()):
        if NOT_A_NUMBER.search(re.sub(r"<[^>]*>", " ", markup)) or re.search(r'="[^"]*\b(nan|inf)\b', markup):
            found.append(f"tile {i} shows nan or inf")
        if not DRAWN.search(markup):
            found.append(f"tile {i} draws nothing")
    return found


@pytest.mark.parametrize("name", sorted(PANELS))
def test_every_control_at_its_extremes(name):
    panel = PANELS[name]
    tried = 0
    for description, values in settings(panel):
        readout = panel.set(**values)
        assert not panel.error, f"{name}, {description}: {panel.error}"
        assert not NOT_A_NUMBER.search(readout), f"{name}, {description}: readout {readout!r}"
        assert problems(panel.scene) == [], f"{name}, {description}"
        tried += 1
    assert tried >= 1, f"{name}: no control was moved"
    panel.reset()
