"""Notebook 04's "Type your own sentence" panel, typed into as a student would.

In a fresh notebook: the panel is shown; the test types into its text box and
presses Enter. A good sentence changes the readout and the figure, and the figure
then equals the kernel's picture pixel by pixel. A typo shows a friendly message
under the figure, while the figure and the readout stay as they were; the next
good sentence clears the message.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from notebook_driver import FRAMES_SETTLE_S as SETTLE_S
from notebook_driver import browser_pixels, open_new_notebook, run_cell, show_panel

CELLS = [
    "%matplotlib widget\n"
    "import numpy as np\n"
    "from helpers import widgets\n"
    "panel = widgets.sentence_panel()\n"
    "panel",
    "np.save('kernel_pixels.npy', np.asarray(panel.fig.canvas.get_renderer().buffer_rgba()))\n"
    "print('saved')",
]


@pytest.fixture
def text_page(browser, lab_server):
    handle = open_new_notebook(browser, lab_server, "text_box", CELLS)
    yield handle
    handle.close()
    lab_server.shutdown_sessions()


def panel_texts(page):
    """The readout (<pre>) and the message under the figure, as the page shows them."""
    return page.evaluate(
        """() => { const out = document.querySelector('.jp-OutputArea-output');
                   const pre = out.querySelector('.widget-html-content pre');
                   const htmls = Array.from(out.querySelectorAll('.widget-html-content'))
                     .map(e => e.textContent.trim()).filter(t => t);
                   return {readout: pre ? pre.textContent : '', all: htmls}; }"""
    )


def type_sentence(page, text):
    box = page.locator(".widget-text input").first
    box.fill(text)
    box.press("Enter")


def wait_for_text(page, needle, timeout_s=10.0):
    page.wait_for_function(
        """(needle) => Array.from(document.querySelectorAll('.jp-OutputArea-output .widget-html-content'))
                         .some(e => e.textContent.includes(needle))""",
        arg=needle, timeout=timeout_s * 1000,
    )


def test_typing_sentences_into_the_box(text_page, lab_server):
    page = text_page.page
    show_panel(text_page)
    wait_for_text(page, "9 words: tom is going to fish at the river bank")
    time.sleep(SETTLE_S)
    first = browser_pixels(page)

    type_sentence(page, "The fisherman is at the lake")
    wait_for_text(page, "6 words: the fisherman is at the lake")
    time.sleep(SETTLE_S)
    after = browser_pixels(page)
    assert np.any(after != first), "the figure did not change for a new sentence"
    run_cell(page, 1)
    kernel = np.load(lab_server.root / "kernel_pixels.npy")
    assert after.shape == kernel.shape and not np.any(after != kernel), "the figure is not the kernel's"

    type_sentence(page, "Tom went to the rivr")
    wait_for_text(page, "unknown words: 'went'")
    texts = panel_texts(page)
    assert "did you mean river?" in " ".join(texts["all"])
    assert texts["readout"].startswith("6 words: the fisherman is at the lake")  # the last good one
    time.sleep(SETTLE_S)
    assert not np.any(browser_pixels(page) != after), "a bad sentence changed the figure"

    type_sentence(page, "river bank")
    wait_for_text(page, "2 words: river bank")
    assert not any("unknown" in t for t in panel_texts(page)["all"]), "the message stayed"
    text_page.assert_no_console_errors("while typing into the sentence box")
