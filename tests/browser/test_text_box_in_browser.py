"""Notebook 04's "Type your own sentence" panel, typed into as a student would.

In a fresh notebook: the panel is shown; the test types into its text box. A good
sentence changes the readout and the picture, and the picture the browser then shows
(its SVG after the whole markup and the patches) holds the kernel's scene: the same
texts and the same cell colours. A typo shows a friendly message under the picture,
while the picture and the readout stay as they were; the next good sentence clears the
message.
"""

from __future__ import annotations

import json

import pytest
from notebook_driver import open_new_notebook, run_cell

CELLS = [
    "from helpers.lessons import values_and_context\n"
    "panel = values_and_context.sentence_panel()\n"
    "panel",
    "import html, json, re\n"
    "markup = panel.scene.live_markup()\n"
    "rects = re.findall(r'<rect\\b([^>]*)\\bdata-i=', markup)\n"
    "json.dump({'texts': [html.unescape(t) for t in re.findall(r'<text[^>]*>([^<]*)</text>', markup)],\n"
    "           'fills': [re.search(r'\\bfill=\"([^\"]*)\"', r).group(1) for r in rects]},\n"
    "          open('kernel_scene.json', 'w'))\n"
    "print('saved')",
]

BROWSER_SCENE = """() => { const root = document.querySelector('.jp-OutputArea-output .svg-panel-view');
    return {texts: Array.from(root.querySelectorAll('text')).map(n => n.textContent),
            fills: Array.from(root.querySelectorAll('rect[data-i]')).map(n => n.getAttribute('fill'))}; }"""


def browser_scene(page):
    return page.evaluate(BROWSER_SCENE)


def show_panel(handle):
    """Run the first cell (it shows the panel) and wait until its picture is in the page."""
    run_cell(handle.page, 0)
    handle.page.wait_for_function(
        "() => !!document.querySelector('.jp-OutputArea-output .svg-panel-view svg rect')", timeout=60_000)


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
    first = browser_scene(page)

    type_sentence(page, "The fisherman is at the lake")
    wait_for_text(page, "6 words: the fisherman is at the lake")
    page.wait_for_function("() => document.querySelectorAll('.svg-panel-view text').length > 0")
    after = browser_scene(page)
    assert after != first, "the picture did not change for a new sentence"
    run_cell(page, 1)
    kernel = json.loads((lab_server.root / "kernel_scene.json").read_text())
    assert after == kernel, "the picture is not the kernel's"

    type_sentence(page, "The fisherman is at the sea")  # as many words: a patch
    wait_for_text(page, "6 words: the fisherman is at the sea")
    run_cell(page, 1)
    kernel = json.loads((lab_server.root / "kernel_scene.json").read_text())
    assert browser_scene(page) == kernel, "the patched picture is not the kernel's"
    good = browser_scene(page)

    type_sentence(page, "Tom went to the rivr")
    wait_for_text(page, "unknown words: 'went'")
    texts = panel_texts(page)
    assert "did you mean river?" in " ".join(texts["all"])
    assert texts["readout"].startswith("6 words: the fisherman is at the sea")  # the last good one
    assert browser_scene(page) == good, "a bad sentence changed the picture"

    type_sentence(page, "river bank")
    wait_for_text(page, "2 words: river bank")
    assert not any("unknown" in t for t in panel_texts(page)["all"]), "the message stayed"
    text_page.assert_no_console_errors("while typing into the sentence box")
