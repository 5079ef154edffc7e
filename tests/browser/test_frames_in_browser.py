"""After a burst of slider changes, the browser shows exactly the kernel's picture.

ipympl's front end decodes each PNG frame asynchronously and drops a frame when the
next one arrives before it is decoded. A dropped frame of changed pixels ("diff")
used to leave its pixels stale for good: after 32 quick changes the figure of
notebook 00's panel differed from the kernel's in 7,000 to 19,000 of its 252,000
pixels (ghost bars, numbers on top of each other, an old title). helpers.widgets
now sends frames that come in a burst whole, and the whole picture once more
shortly after the last frame of changed pixels.

Each test builds the panel in a fresh notebook, changes the slider quickly (from
code, then with the mouse), lets the frames settle, and compares the canvas pixel
by pixel with the kernel's Agg buffer (saved by the kernel into the server's
temporary root).
"""

from __future__ import annotations

import json
import time

import notebook_driver as drv
import numpy as np
import pytest
from notebook_driver import PageHandle

CELLS = [
    "%matplotlib widget\n"
    "import numpy as np\n"
    "from helpers import embeddings, widgets\n"
    "panel = widgets.word_vector_panel(embeddings.toy_vectors())\n"
    "panel",
    # 32 value changes in a row: each renders and pushes a frame at once
    "for v in list(np.linspace(0, 1.5, 16)) * 2:\n"
    "    panel.controls['scale'].value = round(float(v), 1)",
    # the kernel's picture, for the comparison
    "np.save('kernel_pixels.npy', np.asarray(panel.fig.canvas.get_renderer().buffer_rgba()))\n"
    "print('saved', panel.controls['scale'].value)",
]
SETTLE_S = 2.0  # far more than helpers.widgets.SETTLE_S plus a frame's round trip


@pytest.fixture
def burst_page(browser, lab_server):
    nb = {
        "cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [],
                   "execution_count": None} for c in CELLS],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    (lab_server.root / "frame_burst.ipynb").write_text(json.dumps(nb))
    handle = PageHandle(browser, lab_server, "frame_burst")
    drv.open_notebook(handle.page, lab_server, "frame_burst.ipynb")
    yield handle
    handle.close()
    lab_server.shutdown_sessions()


def run_cell(page, index, timeout_s=60.0):
    """Run code cell `index` and wait until the kernel is idle again."""
    page.evaluate(
        """(i) => { const p = window.__bt.panel(); p.content.activeCellIndex = i;
                    return window.jupyterapp.commands.execute('notebook:run-cell'); }""",
        index,
    )
    page.wait_for_function(
        """(i) => { const p = window.__bt.panel(); const k = p.sessionContext.session.kernel;
                    const cell = p.content.widgets[i];
                    return k.status === 'idle' && cell.model.executionCount != null
                      && !cell.node.querySelector('.jp-InputPrompt').textContent.includes('[*]'); }""",
        arg=index, timeout=timeout_s * 1000, polling=100,
    )


def browser_pixels(page):
    w, h, px = page.evaluate(
        """() => { const c = document.querySelector('.jupyter-matplotlib-figure canvas');
                   return [c.width, c.height,
                           Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]; }"""
    )
    return np.array(px, dtype=np.uint8).reshape(h, w, 4)


def assert_browser_shows_the_kernels_picture(handle, lab_server):
    time.sleep(SETTLE_S)
    run_cell(handle.page, 2)
    kernel = np.load(lab_server.root / "kernel_pixels.npy")
    shown = browser_pixels(handle.page)
    assert shown.shape == kernel.shape
    differing = int(np.any(shown != kernel, axis=2).sum())
    assert differing == 0, f"{differing} of {kernel.shape[0] * kernel.shape[1]} pixels differ"


def show_panel(handle):
    run_cell(handle.page, 0)
    handle.page.wait_for_function(
        """() => { const c = document.querySelector('.jupyter-matplotlib-figure canvas');
                   if (!c || !c.width) return false;
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   for (let i = 3; i < d.length; i += 4) if (d[i]) return true;
                   return false; }""",
        timeout=60_000,
    )


def test_a_burst_of_changes_from_code_ends_in_the_kernels_picture(burst_page, lab_server):
    show_panel(burst_page)
    run_cell(burst_page.page, 1)
    assert_browser_shows_the_kernels_picture(burst_page, lab_server)
    burst_page.assert_no_console_errors("during a burst of frames")


def test_a_fast_mouse_drag_ends_in_the_kernels_picture(burst_page, lab_server):
    show_panel(burst_page)
    page = burst_page.page
    time.sleep(1.0)
    box = page.locator(".noUi-handle").first.bounding_box()  # the `scale` slider
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for dx in list(range(0, -150, -10)) + list(range(-150, 120, 15)):  # back and forth, no waits
        page.mouse.move(x + dx, y)
    page.mouse.up()
    assert_browser_shows_the_kernels_picture(burst_page, lab_server)
    burst_page.assert_no_console_errors("during a fast drag")
