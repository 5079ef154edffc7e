"""Notebook 08's training panel in a real JupyterLab: the step slider and the Train button.

In a fresh notebook the panel is shown (its picture is an SVG drawn in the browser by
SvgView). The test moves the step slider with the keyboard: the picture's loss title and
the readout follow the checkpoint. Then it presses Train: while the kernel trains, the
picture is patched many times (the loss title passes through intermediate steps, in
order), the progress bar reaches its end, and the panel ends on the last checkpoint.
"""

from __future__ import annotations

import os
import re
import time

import pytest
from lab_server import ARTIFACTS_DIR
from notebook_driver import open_new_notebook, run_cell

CELLS = [
    "from helpers.lessons import learning_attention\n"
    "panel = learning_attention.training_panel(pause=0.05)\n"
    "panel",
]
TITLE = re.compile(r"training loss ([\d.]+) at step (\d+)")


@pytest.fixture
def training_page(browser, lab_server):
    handle = open_new_notebook(browser, lab_server, "training_panel", CELLS)
    yield handle
    handle.close()
    lab_server.shutdown_sessions()


def picture_title(page):
    """The loss curve's title in the live SVG ('' before it is drawn)."""
    return page.evaluate(
        """() => { const t = Array.from(document.querySelectorAll('.jp-OutputArea-output svg text'))
                     .map(e => e.textContent).find(s => s.startsWith('training loss'));
                   return t || ''; }"""
    )


def readout(page):
    return page.evaluate(
        """() => { const pre = document.querySelector('.jp-OutputArea-output .widget-html-content pre');
                   return pre ? pre.textContent : ''; }"""
    )


def wait_for_title(page, needle, timeout_s=20.0):
    page.wait_for_function(
        """(needle) => Array.from(document.querySelectorAll('.jp-OutputArea-output svg text'))
                         .some(e => e.textContent === needle)""",
        arg=needle, timeout=timeout_s * 1000,
    )


def test_step_slider_and_train_button(training_page):
    page = training_page.page
    run_cell(page, 0)
    wait_for_title(page, "training loss 0.006 at step 200")
    assert readout(page).startswith("step 200: loss 0.006")

    handle = page.locator(".noUi-handle").first
    handle.focus()
    for _ in range(10):  # 10 steps of 5 on the slider: back to step 150
        handle.press("ArrowLeft")
    wait_for_title(page, "training loss 0.010 at step 150")
    page.wait_for_function(
        """() => { const pre = document.querySelector('.jp-OutputArea-output .widget-html-content pre');
                   return pre && pre.textContent.startsWith('step 150:'); }""", timeout=10_000)

    page.locator("button", has_text="Train").first.click()
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = TITLE.search(picture_title(page))
        if match and (not seen or seen[-1] != int(match.group(2))):
            seen.append(int(match.group(2)))
        if seen and seen[-1] == 200 and len(seen) > 1:
            break
        time.sleep(0.02)
    assert len(seen) >= 5, f"the picture was not redrawn while training: {seen}"
    assert seen[1:] == sorted(seen[1:]), seen  # the run moves forward
    wait_for_title(page, "training loss 0.006 at step 200")
    page.wait_for_function(
        """() => { const pre = document.querySelector('.jp-OutputArea-output .widget-html-content pre');
                   return pre && pre.textContent.startsWith('step 200: loss 0.006'); }""", timeout=30_000)
    page.wait_for_function(  # the slider moves to the last checkpoint when training ends
        """() => { const r = document.querySelector('.jp-OutputArea-output .widget-readout');
                   return r && r.textContent.trim() === '200'; }""", timeout=30_000)
    page.wait_for_function(
        """() => window.__bt.panel().sessionContext.session.kernel.status === 'idle'""", timeout=30_000)
    if os.environ.get("BROWSER_TEST_SCREENSHOTS") == "1":
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS_DIR / "training_panel.png"))
    training_page.assert_no_console_errors("while training in notebook 08's panel")
