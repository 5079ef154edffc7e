"""Notebook 04's "Type your own sentence" panel, typed into as a student would.

In a fresh notebook the panel of lesson 04 (helpers.lessons.values_and_context) that has a
text box is shown; the test types into the box with the keyboard, letter by letter (so the
kernel sees every half-typed word on the way, as it does when a student types), and
presses Enter. A good sentence changes the readout and the picture, and the view's DOM
then equals the kernel's markup (parsed and compared node by node), after a sentence of
another length (the markup sent whole) and after one of the same length (a patch). A typo shows a
friendly message under the picture, while the picture and the readout stay as they were;
the next good sentence clears the message.
"""

from __future__ import annotations

import json
import time

import pytest
from notebook_driver import cell_output_text, open_new_notebook, run_cell, show_panel, view_markup, \
    views_equal_markups

CELLS = [
    "import json\n"
    "import ipywidgets as W\n"
    "from helpers.lessons import values_and_context as lesson\n"
    "panel = next(p for p in lesson.panels().values()\n"
    "             if any(isinstance(c, W.Text) for c in p.controls.values()))\n"
    "panel",
    "print(json.dumps([panel.scene.live_markup()]))",
]


@pytest.fixture
def text_page(browser, lab_server):
    handle = open_new_notebook(browser, lab_server, "text_box", CELLS)
    yield handle
    handle.close()
    lab_server.shutdown_sessions()


def panel_texts(page):
    """The readout (<pre>) and the message under the picture, as the page shows them."""
    return page.evaluate(
        """() => { const out = document.querySelector('.jp-OutputArea-output');
                   const pre = out.querySelector('.widget-html-content pre');
                   const htmls = Array.from(out.querySelectorAll('.widget-html-content'))
                     .map(e => e.textContent.trim()).filter(t => t);
                   return {readout: pre ? pre.textContent : '', all: htmls}; }"""
    )


def type_sentence(page, text, letter_by_letter=False):
    box = page.locator(".widget-text input").first
    if letter_by_letter:
        box.fill("")
        box.press_sequentially(text, delay=15)
    else:
        box.fill(text)
    box.press("Enter")


def wait_for_text(page, needle, timeout_s=10.0):
    page.wait_for_function(
        """(needle) => Array.from(document.querySelectorAll('.jp-OutputArea-output .widget-html-content'))
                         .some(e => e.textContent.includes(needle))""",
        arg=needle, timeout=timeout_s * 1000,
    )


def wait_for_idle_kernel(page):
    page.wait_for_function(
        "() => window.__bt.panel().sessionContext.session.kernel.status === 'idle'", timeout=20_000)
    time.sleep(0.5)


def assert_view_shows_the_kernels_markup(page, when):
    run_cell(page, 1)
    same = views_equal_markups(page, 0, json.loads(cell_output_text(page, 1)))
    assert same == [True], f"the picture is not the kernel's {when}"


def test_typing_sentences_into_the_box(text_page):
    page = text_page.page
    show_panel(text_page)
    wait_for_text(page, "9 words: tom is going to fish at the river bank")
    first = view_markup(page)

    type_sentence(page, "The fisherman is at the lake", letter_by_letter=True)
    wait_for_text(page, "6 words: the fisherman is at the lake")
    wait_for_idle_kernel(page)
    after = view_markup(page)
    assert after != first, "the picture did not change for a new sentence"
    assert_view_shows_the_kernels_markup(page, "after typing a sentence")

    type_sentence(page, "The fisherman is at the sea")  # as many words: a patch
    wait_for_text(page, "6 words: the fisherman is at the sea")
    wait_for_idle_kernel(page)
    assert_view_shows_the_kernels_markup(page, "after a sentence of the same length")
    good = view_markup(page)

    type_sentence(page, "Tom went to the rivr")
    wait_for_text(page, "unknown words: 'went'")
    texts = panel_texts(page)
    assert "did you mean river?" in " ".join(texts["all"])
    assert texts["readout"].startswith("6 words: the fisherman is at the sea")  # the last good one
    wait_for_idle_kernel(page)
    assert view_markup(page) == good, "a bad sentence changed the picture"

    type_sentence(page, "river bank")
    wait_for_text(page, "2 words: river bank")
    assert not any("unknown" in t for t in panel_texts(page)["all"]), "the message stayed"
    text_page.assert_no_console_errors("while typing into the sentence box")
