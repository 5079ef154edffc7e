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

import time

import notebook_driver as drv
import numpy as np
import pytest

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


@pytest.fixture
def burst_page(browser, lab_server):
    handle = drv.open_new_notebook(browser, lab_server, "frame_burst", CELLS)
    yield handle
    handle.close()
    lab_server.shutdown_sessions()


def assert_browser_shows_the_kernels_picture(handle, lab_server):
    time.sleep(drv.FRAMES_SETTLE_S)
    drv.run_cell(handle.page, 2)
    kernel = np.load(lab_server.root / "kernel_pixels.npy")
    shown = drv.browser_pixels(handle.page)
    assert shown.shape == kernel.shape
    differing = int(np.any(shown != kernel, axis=2).sum())
    assert differing == 0, f"{differing} of {kernel.shape[0] * kernel.shape[1]} pixels differ"


def test_a_burst_of_changes_from_code_ends_in_the_kernels_picture(burst_page, lab_server):
    drv.show_panel(burst_page)
    drv.run_cell(burst_page.page, 1)
    assert_browser_shows_the_kernels_picture(burst_page, lab_server)
    burst_page.assert_no_console_errors("during a burst of frames")


def test_a_fast_mouse_drag_ends_in_the_kernels_picture(burst_page, lab_server):
    drv.show_panel(burst_page)
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
