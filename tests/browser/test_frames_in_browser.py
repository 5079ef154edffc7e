"""After a burst of changes, the browser shows exactly the kernel's picture.

A live panel's view (helpers.panels.view.SvgView) gets the first scene whole and after
that patches by custom messages; a scene of another structure is sent whole again and
bumps `rev`, and the browser drops a patch meant for an older markup. If the browser
applied a patch to the wrong element, applied it twice, or kept one meant for an older
markup, its picture would drift away from the kernel's. So each test changes controls
quickly, then has the kernel print its current markup (`Scene.live_markup()`), parses it
in the page as the view parses it, and compares it node by node with the view's DOM
(`isEqualNode`): equal, or the test fails.

- a burst from code: 40 changes in a row, patches (the slider) and whole scenes (the
  bar count) interleaved;
- a fast mouse drag back and forth, no waits;
- every live panel of the lessons (``helpers.lessons.all_panels()``), each control set to
  a few values in a row (seeded).
"""

from __future__ import annotations

import json

import notebook_driver as drv
import pytest

# A panel whose structure changes with one control (`bars`: a whole re-send) and not with
# the other (`frequency`: patches of bar heights, numbers and the title).
PANEL = (
    "import json\n"
    "import numpy as np\n"
    "from helpers.panels import LivePanel, Scene, int_slider, slider\n"
    "from helpers.panels.pieces.bars import bars\n"
    "\n"
    "def draw(frequency, count):\n"
    "    x = np.linspace(0, 2 * np.pi, count)\n"
    "    scene = Scene()\n"
    "    bars(scene, 'wave', np.sin(frequency * x), [f'x{i}' for i in range(count)],\n"
    "         colours=['#3b6ea5'] * count, ylim=(-1.1, 1.1), ticks=(-1.0, 0.0, 1.0),\n"
    "         title=f'{count} bars, frequency {frequency:.2f}', numbers='{:.2f}', height=240)\n"
    "    return scene, f'frequency {frequency:.2f}, {count} bars'\n"
    "\n"
    "panel = LivePanel({'frequency': slider('frequency', 1.0, 0.0, 3.0, 0.05),\n"
    "                   'count': int_slider('bars', 6, 3, 9)}, draw)\n"
    "panel"
)
BURST = (
    "for k, v in enumerate(list(np.linspace(0, 3, 20)) * 2):\n"
    "    panel.controls['frequency'].value = round(float(v), 2)\n"
    "    if k % 7 == 3:\n"
    "        panel.controls['count'].value = 3 + k % 7 + k // 7 % 3\n"
    "print(panel.controls['frequency'].value, panel.controls['count'].value)"
)
PRINT_MARKUP = "print(json.dumps([panel.scene.live_markup()]))"


def assert_views_show_the_kernels_markup(handle, print_cell, view_cell=0):
    drv.run_cell(handle.page, print_cell)
    markups = json.loads(drv.cell_output_text(handle.page, print_cell))
    same = drv.views_equal_markups(handle.page, view_cell, markups)
    assert same is not None, f"the page shows another number of views than the kernel's {len(markups)}"
    assert all(same), (f"{same.count(False)} of {len(same)} views differ from the kernel's markup; "
                       f"first view's DOM starts {drv.view_markup(handle.page, view_cell)[:300]!r}")


def test_a_burst_of_changes_from_code_ends_in_the_kernels_picture(burst_page):
    drv.run_cell(burst_page.page, 1)
    assert drv.cell_output_text(burst_page.page, 1).split() == ["3.0", "8"]  # the burst ran to its end
    assert_views_show_the_kernels_markup(burst_page, 2)
    burst_page.assert_no_console_errors("during a burst of changes")


def test_a_fast_mouse_drag_ends_in_the_kernels_picture(burst_page):
    page = burst_page.page
    before = drv.view_markup(page)
    box = page.locator(".noUi-handle").first.bounding_box()  # the `frequency` slider
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    # right, then left past the start (about 0.8 below it), no waits: ends away from where it began
    for dx in list(range(0, 150, 10)) + list(range(150, -61, -15)):
        page.mouse.move(x + dx, y)
    page.mouse.up()
    # the slider sends its last value when the kernel has answered the one before: wait until
    # the kernel's readout shows the value the slider shows, then compare the pictures
    page.wait_for_function(
        """() => { const out = window.__bt.panel().content.widgets[0].node;
                   const shown = out.querySelector('.widget-readout').textContent.trim();
                   return Array.from(out.querySelectorAll('.widget-html-content'))
                     .some(e => e.textContent.includes(`frequency ${shown},`)); }""",
        timeout=15_000,
    )
    assert drv.view_markup(page) != before, "the drag did not change the picture"
    assert_views_show_the_kernels_markup(burst_page, 2)
    burst_page.assert_no_console_errors("during a fast drag")


# Every live panel of the lessons in one output; each control of each panel set to a few
# values in a row, seeded (sliders on their grid, dropdowns and toggles by index; text boxes
# are left alone: test_text_box_in_browser.py types into one).
LESSON_PANELS = (
    "import json, random\n"
    "import ipywidgets as W\n"
    "from IPython.display import display\n"
    "from helpers.lessons import all_panels\n"
    "from helpers.panels.view import SvgView\n"
    "panels = [p for p in all_panels().values() if isinstance(getattr(p, 'view', None), SvgView)]\n"
    "for p in panels:\n"
    "    display(p)\n"
    "print(len(panels))"
)
LESSON_BURST = (
    "rng = random.Random(11)\n"
    "def some_values(control):\n"
    "    if isinstance(control, (W.FloatSlider, W.IntSlider)):\n"
    "        steps = int(round((control.max - control.min) / control.step))\n"
    "        return [('value', min(control.max, round(control.min + control.step * rng.randint(0, steps), 6)))\n"
    "                for _ in range(4)]\n"
    "    if hasattr(control, 'index') and control.options:\n"
    "        return [('index', rng.randrange(len(control.options))) for _ in range(4)]\n"
    "    return []\n"
    "changes = 0\n"
    "for p in panels:\n"
    "    for control in p.controls.values():\n"
    "        for name, value in some_values(control):\n"
    "            setattr(control, name, value)\n"
    "            changes += 1\n"
    "print(changes)"
)
LESSON_MARKUPS = "print(json.dumps([p.scene.live_markup() for p in panels]))"


CELLS = [PANEL, BURST, PRINT_MARKUP, LESSON_PANELS, LESSON_BURST, LESSON_MARKUPS]


@pytest.fixture(scope="module")
def burst_page(browser, lab_server):
    """One notebook of CELLS for the module's tests (one kernel start), the panel shown."""
    handle = drv.open_new_notebook(browser, lab_server, "frame_burst", CELLS)
    drv.show_panel(handle)
    yield handle
    handle.close()
    lab_server.shutdown_sessions()


def test_every_lesson_panel_ends_in_the_kernels_picture(burst_page):
    page = burst_page.page
    drv.run_cell(page, 3, timeout_s=120)
    n = int(drv.cell_output_text(page, 3).split()[-1])
    if not n:
        pytest.skip("no lesson has a live panel on helpers.panels yet")
    drv.wait_for_views(burst_page, 3)
    _, seen = drv.callback_errors_since(page, 0)
    drv.run_cell(page, 4, timeout_s=120)
    changes = int(drv.cell_output_text(page, 4).split()[-1])
    print(f"{n} lesson panels, {changes} control changes from code")
    errors, _ = drv.callback_errors_since(page, seen)
    assert not errors, "errors while changing the lessons' controls:\n" + "\n".join(errors)
    assert_views_show_the_kernels_markup(burst_page, 5, view_cell=3)
    burst_page.assert_no_console_errors("while changing every lesson panel's controls")
