"""Drive a notebook in JupyterLab 4 through Playwright (sync API).

Shared by the browser tests and ``benchmarks/browser_latency.py``. Every wait
is on a condition evaluated in the page; the only fixed intervals are polling
periods.

Selectors that JupyterLab 4.x / ipywidgets 8 / anywidget render:

- slider handle ............ ``.noUi-handle`` (noUiSlider, with aria-valuenow/min/max)
- slider widget ............ ``.widget-slider`` (``.widget-hslider`` / ``.widget-vslider``)
- slider readout ........... ``.widget-readout`` inside the slider widget
- readout text widgets ..... ``.widget-html-content``, ``.widget-htmlmath-content``,
  ``div.widget-label`` (``label.widget-label`` is a slider's description)
- one displayed output ..... ``.jp-OutputArea-output`` (a "panel" = one displayed widget tree)
- live panel picture ....... ``.svg-panel-view`` (helpers.panels.view.SvgView, an anywidget:
  a ``div`` holding the scene's markup, SVG tiles in a flex row, patched in place); its
  picture changed when its DOM did (a hash of its ``innerHTML``, or a MutationObserver)
- error / stderr output .... ``.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]``
  (used for both tracebacks and stderr streams; the cell model's ``output_type``
  tells them apart, so the harness reads the model)
- busy prompt .............. ``.jp-InputPrompt`` text ``[*]:``
- widget render failures ... text ``Error displaying widget``, ``.jupyter-widgets-error-widget``
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field


# JavaScript helpers installed in every page before JupyterLab's own scripts.
INIT_SCRIPT = r"""
(() => {
  const bt = {};
  window.__bt = bt;
  bt.iopub = [];          // error / stderr messages seen on the kernel channel

  bt.app = () => window.jupyterapp;
  bt.panel = () => {
    const app = window.jupyterapp;
    return app && app.shell ? app.shell.currentWidget : null;
  };

  // What counts as a panel's picture: a live panel's SVG view (helpers.panels).
  bt.FIGURES = '.svg-panel-view';

  // 32-bit FNV-1a of a picture's markup (its DOM as text). '' while nothing is drawn.
  bt.figureHash = (fig) => {
    if (!fig.querySelector('svg')) return '';
    let h = 2166136261 >>> 0;
    const text = fig.innerHTML;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
    return 'svg' + h.toString(16);
  };

  // A watcher of one picture: changed() is true once its DOM changed after the watcher was
  // made (a MutationObserver: nearly free per frame). stop() disconnects the observer.
  bt.watch = (fig) => {
    let mutated = false;
    const mo = new MutationObserver(() => { mutated = true; });
    mo.observe(fig, {subtree: true, childList: true, attributes: true, characterData: true});
    return {changed: () => mutated, stop: () => mo.disconnect()};
  };

  bt.textOf = (el) => (el.textContent || '').replace(/\s+/g, ' ').trim();

  // For failure messages: what each picture of slider k holds.
  bt.figureSummaries = (k) => Array.from(document.querySelectorAll(`[data-bt-figure~="${k}"]`)).map(fig =>
    `SVG view: ${fig.querySelectorAll('svg').length} tiles, ${fig.innerHTML.length} characters`);

  bt.sliderState = (k) => {
    const slider = document.querySelector(`[data-bt-slider="${k}"]`);
    if (!slider) return null;
    const handle = slider.querySelector('.noUi-handle');
    const readout = slider.querySelector('.widget-readout');
    const panel = slider.closest('.jp-OutputArea-output') || slider.parentElement;
    const texts = Array.from(panel.querySelectorAll(
        '.widget-html-content, .widget-htmlmath-content, div.widget-label'))
      .filter(el => !el.closest('.svg-panel-view'))
      .map(bt.textOf);
    const figs = Array.from(document.querySelectorAll(`[data-bt-figure~="${k}"]`));
    return {
      readout: readout ? bt.textOf(readout) : '',
      panelText: texts.join(' | '),
      figures: figs.map(bt.figureHash),
      valuenow: handle ? handle.getAttribute('aria-valuenow') : null,
      valuemin: handle ? handle.getAttribute('aria-valuemin') : null,
      valuemax: handle ? handle.getAttribute('aria-valuemax') : null,
    };
  };

  bt.sameState = (a, b) => a.readout === b.readout && a.panelText === b.panelText
      && a.figures.join() === b.figures.join();

  bt.sleep = (ms) => new Promise(r => setTimeout(r, ms));

  // Wait until the slider's readout, panel text and figures stop changing
  // (and every figure has been drawn) for `quietMs`.
  bt.settle = async (k, quietMs, timeoutMs) => {
    const t0 = performance.now();
    let last = bt.sliderState(k);
    let since = performance.now();
    while (performance.now() - t0 < timeoutMs) {
      await bt.sleep(50);
      const now = bt.sliderState(k);
      const drawn = now.figures.every(h => h !== '');
      if (!bt.sameState(now, last) || !drawn) { last = now; since = performance.now(); continue; }
      if (performance.now() - since >= quietMs) return {ok: true, state: now};
    }
    return {ok: false, state: last};
  };

  // Latency probe: on the next `arrow` keydown on slider k, look at every animation frame
  // until a picture changed; bt.latency = {ms, textMs, moved}: ms from the event to the frame
  // that shows the changed picture (an SVG view's DOM changed: that frame paints it),
  // textMs to the changed panel readout text (the kernel
  // callback's round trip; null if the panel has no such text), moved: the slider's value changed.
  bt.latency = null;
  bt.armLatency = (k, arrow, timeoutMs) => {
    bt.latency = null;
    const slider = document.querySelector(`[data-bt-slider="${k}"]`);
    const handle = slider.querySelector('.noUi-handle');
    const watchers = Array.from(document.querySelectorAll(`[data-bt-figure~="${k}"]`)).map(bt.watch);
    const s0 = bt.sliderState(k);
    const text0 = s0.panelText;
    const value = () => handle.getAttribute('aria-valuenow');
    const done = (result) => { watchers.forEach(w => w.stop()); bt.latency = result; };
    const onKey = (ev) => {
      if (ev.key !== arrow) return;
      handle.removeEventListener('keydown', onKey, true);
      const t0 = ev.timeStamp;  // same clock as performance.now()
      let textMs = null;
      const poll = () => {
        const now = performance.now();
        if (textMs === null && text0 !== '' && bt.sliderState(k).panelText !== text0) textMs = now - t0;
        if (watchers.some(w => w.changed())) { done({ms: now - t0, textMs, moved: true}); return; }
        if (now - t0 > timeoutMs) { done({ms: null, textMs, moved: value() !== s0.valuenow}); return; }
        requestAnimationFrame(poll);
      };
      requestAnimationFrame(poll);
    };
    handle.addEventListener('keydown', onKey, true);
  };

  // Is the DOM of an SVG view (`view`, a .svg-panel-view) the kernel's markup (a Scene's
  // live_markup())? Parsed as the view's innerHTML is, compared node by node.
  bt.sameAsMarkup = (view, markup) => {
    const kernel = new DOMParser().parseFromString(markup.trim(), 'text/html').body;
    return kernel.childNodes.length === 1 && !!view.firstElementChild
      && view.childNodes.length === 1 && kernel.firstChild.isEqualNode(view.firstElementChild);
  };

  // After an input: wait until readout, panel text (if the panel has any)
  // and at least one associated figure all differ from `before`.
  bt.waitChange = async (k, before, timeoutMs) => {
    const t0 = performance.now();
    let now = bt.sliderState(k);
    const check = (s) => ({
      readout: s.readout !== before.readout,
      panelText: before.panelText === '' || s.panelText !== before.panelText,
      figure: s.figures.some((h, i) => h !== '' && h !== before.figures[i]),
    });
    while (true) {
      const c = check(now);
      if ((c.readout && c.panelText && c.figure) || performance.now() - t0 > timeoutMs) {
        return {changed: c, state: now, ms: performance.now() - t0};
      }
      await new Promise(r => requestAnimationFrame(r));
      now = bt.sliderState(k);
    }
  };
})();
"""

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass
class ConsoleLog:
    """Browser console messages, page errors and non-loopback requests of one page."""

    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def attach(self, page, base_url: str) -> None:
        def on_console(msg):
            loc = msg.location or {}
            where = f" ({loc.get('url', '')}:{loc.get('lineNumber', '')})" if loc.get("url") else ""
            line = f"[{msg.type}] {msg.text}{where}"
            self.messages.append(line)
            if msg.type == "error":
                self.errors.append(line)

        def on_pageerror(exc):
            line = f"[pageerror] {exc}"
            self.messages.append(line)
            self.errors.append(line)

        def on_request(req):
            url = req.url
            if not url.startswith((base_url, "data:", "blob:", "about:")) and not url.startswith(
                base_url.replace("http://", "ws://")
            ):
                self.external_requests.append(url)
                self.messages.append(f"[external request] {url}")

        page.on("console", on_console)
        page.on("pageerror", on_pageerror)
        page.on("request", on_request)

    def text(self) -> str:
        return "\n".join(self.messages)


def split_allowed(errors: list[str], allow: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Split console errors into (unexpected, allowed) using (regex, reason) pairs."""
    unexpected, allowed = [], []
    for line in errors:
        for pattern, reason in allow:
            if re.search(pattern, line):
                allowed.append(f"{line}  <- allowed: {reason}")
                break
        else:
            unexpected.append(line)
    return unexpected, allowed


class NotebookError(RuntimeError):
    pass


def new_page(browser, base_url: str, viewport=(1400, 1000), device_scale_factor: float = 1.0):
    """A fresh context + page with the JS helpers and a console log attached.

    ``viewport`` is in CSS px; browser zoom 150 % on a 1280 x 800 window is
    ``viewport=(853, 533), device_scale_factor=1.5``.
    """
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        device_scale_factor=device_scale_factor,
    )
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    log = ConsoleLog()
    log.attach(page, base_url)
    return context, page, log


# Console errors that are harmless, as (regex, why it is harmless). Matches are
# printed, not failed. Keep this list short and explain every entry.
CONSOLE_ALLOW: list[tuple[str, str]] = []

# Open pages, newest last: the test failure hook screenshots the newest one.
LIVE_PAGES: list = []


class PageHandle:
    """A Playwright page plus everything collected about it."""

    def __init__(self, browser, server, name: str, viewport=(1400, 1000),
                 device_scale_factor: float = 1.0):
        self.name = name
        self.server = server
        self.context, self.page, self.console = new_page(
            browser, server.base_url, viewport, device_scale_factor
        )
        self._checked = 0
        LIVE_PAGES.append(self)

    def new_console_errors(self) -> tuple[list[str], list[str]]:
        """(unexpected, allowed) console errors since the last call."""
        fresh = self.console.errors[self._checked :]
        self._checked = len(self.console.errors)
        return split_allowed(fresh, CONSOLE_ALLOW)

    def assert_no_console_errors(self, when: str) -> None:
        unexpected, allowed = self.new_console_errors()
        for line in allowed:
            print(f"console error (allowed) {when}: {line}")
        assert not unexpected, f"browser console errors {when}:\n" + "\n".join(unexpected)
        assert not self.console.external_requests, (
            "the page requested non-loopback URLs (the series must work offline):\n"
            + "\n".join(self.console.external_requests)
        )

    def close(self) -> None:
        if self in LIVE_PAGES:
            LIVE_PAGES.remove(self)
        try:
            self.context.close()
        except Exception:  # noqa: BLE001 - browser may already be gone
            pass


def wait_for_lab(page, timeout_s: float = 60.0) -> None:
    """Wait until the JupyterLab application has started."""
    page.wait_for_function(
        "() => !!(window.jupyterapp && window.jupyterapp.shell && window.jupyterapp.restored)",
        timeout=timeout_s * 1000,
    )
    page.evaluate("async () => { await window.jupyterapp.restored; }")


def open_notebook(page, server, rel_path: str, timeout_s: float = 60.0) -> None:
    """Open ``rel_path`` via /lab/tree/... and wait for its kernel to be idle.

    Fails early (with the dialog's text) if a dialog such as "Select Kernel"
    blocks the notebook.
    """
    page.goto(server.lab_url(rel_path), wait_until="domcontentloaded")
    handle = page.wait_for_function(
        """(path) => {
          const dialog = document.querySelector('.jp-Dialog');
          if (dialog) return 'dialog: ' + dialog.innerText.replace(/\\s+/g, ' ').slice(0, 300);
          const app = window.jupyterapp;
          if (!app || !app.shell) return false;
          const panel = app.shell.currentWidget;
          if (!panel || !panel.context || panel.context.path !== path || !panel.sessionContext) return false;
          const sc = panel.sessionContext;
          const kernel = sc.session && sc.session.kernel;
          if (!sc.isReady || !kernel || kernel.status !== 'idle') return false;
          if (!panel.content.widgets.length) return false;
          return 'ready';
        }""",
        arg=rel_path,
        timeout=timeout_s * 1000,
        polling=100,
    )
    state = handle.json_value()
    if state != "ready":
        raise NotebookError(f"opening {rel_path}: {state}")
    # Record every error / stderr message on the kernel channel, including those
    # from widget callbacks (comm messages), which no cell output shows.
    page.evaluate(
        """() => {
          const panel = window.__bt.panel();
          const app = window.jupyterapp;
          if (app.shell.collapseLeft) app.shell.collapseLeft();
          panel.sessionContext.iopubMessage.connect((_, msg) => {
            const type = msg.header.msg_type;
            const parent = (msg.parent_header || {}).msg_type || '';
            if (type === 'error') {
              window.__bt.iopub.push({type, parent, ename: msg.content.ename,
                evalue: msg.content.evalue, text: (msg.content.traceback || []).join('\\n')});
            } else if (type === 'stream' && msg.content.name === 'stderr') {
              window.__bt.iopub.push({type: 'stderr', parent, text: msg.content.text});
            }
          });
        }"""
    )


@dataclass
class RunResult:
    completed: bool  # NotebookActions.runAll resolved true (no cell failed)
    seconds: float
    cell_errors: list[str]
    unexecuted: list[str]
    stderr: list[str]
    traceback_in_stderr: list[str]
    widget_errors: list[str]
    callback_errors: list[str]
    n_code_cells: int

    def problems(self) -> list[str]:
        out = []
        if not self.completed:
            out.append("Run All did not complete successfully (a cell failed or was interrupted)")
        out += [f"error output: {e}" for e in self.cell_errors]
        out += [f"traceback on stderr: {e}" for e in self.traceback_in_stderr]
        out += [f"widget failed to render: {e}" for e in self.widget_errors]
        out += [f"error in a widget callback: {e}" for e in self.callback_errors]
        if self.unexecuted:
            out.append("cells without an execution count after Run All: " + "; ".join(self.unexecuted))
        return out


def run_all(page, timeout_s: float = 180.0) -> RunResult:
    """Clear all outputs, run all cells, wait until done, and collect what went wrong."""
    t0 = time.monotonic()
    page.evaluate(
        """() => {
          const cmds = window.jupyterapp.commands;
          window.__bt.runAll = null;
          cmds.execute('notebook:clear-all-cell-outputs')
            .then(() => cmds.execute('notebook:run-all-cells'))
            .then(ok => { window.__bt.runAll = {ok: !!ok}; },
                  err => { window.__bt.runAll = {ok: false, error: String(err)}; });
        }"""
    )
    page.wait_for_function(
        """() => {
          const bt = window.__bt;
          if (!bt.runAll) return false;
          const panel = bt.panel();
          const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
          if (!kernel || kernel.status !== 'idle') return false;
          const prompts = panel.node.querySelectorAll('.jp-InputPrompt');
          for (const p of prompts) if (p.textContent.includes('[*]')) return false;
          for (const o of panel.node.querySelectorAll('.jp-OutputArea-output'))
            if (o.textContent.trim().startsWith('Loading widget')) return false;
          return true;
        }""",
        timeout=timeout_s * 1000,
        polling=100,
    )
    seconds = time.monotonic() - t0
    data = page.evaluate(
        """() => {
          const bt = window.__bt;
          const panel = bt.panel();
          const res = {ok: bt.runAll.ok, runError: bt.runAll.error || '', errors: [], unexecuted: [],
                       stderr: [], tracebackStderr: [], widgetErrors: [], nCode: 0};
          panel.content.widgets.forEach((cell, i) => {
            const m = cell.model;
            if (m.type !== 'code') return;
            res.nCode += 1;
            const src = m.sharedModel.getSource();
            const label = `cell ${i + 1} (${src.split('\\n')[0].slice(0, 60)})`;
            if (src.trim() && m.executionCount == null) res.unexecuted.push(label);
            for (const o of m.outputs.toJSON()) {
              if (o.output_type === 'error') {
                res.errors.push(`${label}: ${o.ename}: ${o.evalue}\\n${(o.traceback || []).join('\\n')}`);
              } else if (o.output_type === 'stream' && o.name === 'stderr') {
                const text = Array.isArray(o.text) ? o.text.join('') : o.text;
                (text.includes('Traceback') ? res.tracebackStderr : res.stderr).push(`${label}: ${text}`);
              }
            }
            for (const el of cell.node.querySelectorAll('.jp-OutputArea-output')) {
              const t = bt.textOf(el);
              if (t.startsWith('Error displaying widget') || el.querySelector('.jupyter-widgets-error-widget'))
                res.widgetErrors.push(`${label}: ${t.slice(0, 200)}`);
            }
          });
          return res;
        }"""
    )
    callback_errors, _ = callback_errors_since(page, 0)
    return RunResult(
        completed=bool(data["ok"]),
        seconds=seconds,
        cell_errors=[strip_ansi(e) for e in data["errors"]],
        unexecuted=data["unexecuted"],
        stderr=data["stderr"],
        traceback_in_stderr=data["tracebackStderr"],
        widget_errors=data["widgetErrors"],
        callback_errors=callback_errors,
        n_code_cells=data["nCode"],
    )


def format_kernel_error(msg: dict, tail: int = 10) -> str:
    """``ename: evalue`` plus the last ``tail`` lines of the traceback, without colours."""
    lines = [ln for ln in strip_ansi(msg.get("text", "")).splitlines() if ln.strip()]
    head = f"{msg.get('ename')}: {msg.get('evalue')}" if msg.get("ename") else "traceback on stderr"
    return head + "\n    " + "\n    ".join(lines[-tail:])


def callback_errors_since(page, start: int) -> tuple[list[str], int]:
    """Errors raised in widget callbacks (comm messages, not cell execution) after
    iopub message number ``start``; identical ones are reported once with a count."""
    msgs = page.evaluate("() => window.__bt.iopub")
    counts: dict[str, int] = {}
    for m in msgs[start:]:
        if m["parent"] == "execute_request":
            continue  # shown in the cell's output and reported from there
        if m["type"] == "error" or "Traceback" in m.get("text", ""):
            text = format_kernel_error(m)
            counts[text] = counts.get(text, 0) + 1
    errs = [t if n == 1 else f"({n} times) {t}" for t, n in counts.items()]
    return errs, len(msgs)


def scroll_to_first_problem(page) -> None:
    """Bring the first error/stderr output into view (for the failure screenshot)."""
    page.evaluate(
        """() => { const el = document.querySelector(
             '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]');
           if (el) el.scrollIntoView({block: 'center'}); }"""
    )


@dataclass
class SliderTarget:
    key: int
    description: str
    cell: int
    n_figures: int
    figure_source: str  # "panel", "next" or "previous"


def find_sliders(page, max_sliders: int = 3) -> tuple[list[SliderTarget], int]:
    """Mark the first enabled slider of each panel (up to ``max_sliders``) and its figure(s).

    A panel is one displayed output (``.jp-OutputArea-output``). A slider's
    figures are the pictures (SVG views of live panels) inside
    the same output; failing that, the next picture after it in the notebook;
    failing that, the previous one.
    Returns the targets and the total number of slider handles on the page.
    """
    data = page.evaluate(
        """(maxSliders) => {
          const bt = window.__bt;
          const panel = bt.panel();
          const root = panel.content.node;
          const handles = root.querySelectorAll('.noUi-handle');
          const figs = Array.from(root.querySelectorAll(bt.FIGURES));
          const seen = new Set();
          const targets = [];
          for (const target of root.querySelectorAll('.noUi-target')) {
            if (targets.length >= maxSliders) break;
            if (target.hasAttribute('disabled')) continue;
            if (!target.getClientRects().length) continue;  // hidden (e.g. a closed tab/accordion)
            const slider = target.closest('.widget-slider') || target.closest('.jupyter-widgets');
            const out = slider.closest('.jp-OutputArea-output');
            if (!out || seen.has(out)) continue;
            seen.add(out);
            const k = targets.length;
            slider.setAttribute('data-bt-slider', String(k));
            let chosen = figs.filter(f => out.contains(f));
            let source = 'panel';
            if (!chosen.length) {
              const after = figs.filter(f => slider.compareDocumentPosition(f) & Node.DOCUMENT_POSITION_FOLLOWING);
              const before = figs.filter(f => slider.compareDocumentPosition(f) & Node.DOCUMENT_POSITION_PRECEDING);
              if (after.length) { chosen = [after[0]]; source = 'next'; }
              else if (before.length) { chosen = [before[before.length - 1]]; source = 'previous'; }
              else source = 'none';
            }
            for (const f of chosen) {
              const prev = f.getAttribute('data-bt-figure');
              f.setAttribute('data-bt-figure', prev ? `${prev} ${k}` : String(k));
            }
            const cell = slider.closest('.jp-Cell');
            const label = slider.querySelector('label.widget-label');
            targets.push({key: k, description: label ? bt.textOf(label) : '',
                          cell: panel.content.widgets.findIndex(w => w.node === cell) + 1,
                          nFigures: chosen.length, source});
          }
          return {targets, nHandles: handles.length};
        }""",
        max_sliders,
    )
    targets = [
        SliderTarget(t["key"], t["description"], t["cell"], t["nFigures"], t["source"])
        for t in data["targets"]
    ]
    return targets, data["nHandles"]


def slider_locator(page, key: int):
    return page.locator(f'[data-bt-slider="{key}"] .noUi-handle').first


def settle(page, key: int, quiet_ms: int = 400, timeout_s: float = 15.0) -> dict:
    """Wait until the slider's readout, panel text and figures are stable and drawn."""
    res = page.evaluate(
        "([k, q, t]) => window.__bt.settle(k, q, t)", [key, quiet_ms, int(timeout_s * 1000)]
    )
    if not res["ok"]:
        pictures = page.evaluate("(k) => window.__bt.figureSummaries(k)", key)
        raise NotebookError(f"slider {key}: figure/readout never settled: {res['state']}; "
                            f"its pictures: {pictures}")
    return res["state"]


def slider_state(page, key: int) -> dict:
    return page.evaluate("(k) => window.__bt.sliderState(k)", key)


def is_vertical(page, key: int) -> bool:
    return page.evaluate(
        "(k) => !!document.querySelector(`[data-bt-slider=\"${k}\"] .noUi-vertical`)", key
    )


def at_max(state: dict) -> bool:
    try:
        return float(state["valuenow"]) >= float(state["valuemax"])
    except (TypeError, ValueError):
        return False


def at_min(state: dict) -> bool:
    try:
        return float(state["valuenow"]) <= float(state["valuemin"])
    except (TypeError, ValueError):
        return False


def wait_change(page, key: int, before: dict, timeout_s: float = 5.0) -> dict:
    """Poll (each animation frame) until readout, panel text and figure changed."""
    return page.evaluate(
        "([k, b, t]) => window.__bt.waitChange(k, b, t)", [key, before, int(timeout_s * 1000)]
    )


def press_key(page, key: int, before: dict) -> str:
    """Focus the slider handle and press the arrow key that moves it inward."""
    handle = slider_locator(page, key)
    handle.scroll_into_view_if_needed()
    handle.focus()
    arrow = "ArrowLeft" if at_max(before) else "ArrowRight"
    page.keyboard.press(arrow)
    return arrow


def drag_handle(page, key: int, before: dict, distance: float = 30.0) -> str:
    """Drag the slider handle with the mouse by ``distance`` px, away from the end it is at."""
    handle = slider_locator(page, key)
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    if box is None:
        raise NotebookError(f"slider {key}: handle has no bounding box (hidden?)")
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    sign = -1 if at_max(before) else 1
    page.mouse.move(x, y)
    page.mouse.down()
    if is_vertical(page, key):
        page.mouse.move(x, y - sign * distance, steps=6)
        page.mouse.up()
        return f"drag {'up' if sign > 0 else 'down'} {distance:.0f}px"
    page.mouse.move(x + sign * distance, y, steps=6)
    page.mouse.up()
    return f"drag {'right' if sign > 0 else 'left'} {distance:.0f}px"


def scroll_figure_into_view(page, key: int) -> None:
    page.evaluate(
        """(k) => { const f = document.querySelector(`[data-bt-figure~="${k}"]`);
                    if (f) f.scrollIntoView({block: 'center'}); }""",
        key,
    )


def measure_key_latency(page, key: int, arrow: str, timeout_s: float = 5.0) -> dict:
    """Press ``arrow`` on slider ``key``; return ``{"ms", "textMs"}``: milliseconds from
    the keydown event to the first animation frame whose figure pixels differ
    (None if they did not within the timeout), and to the first frame whose
    panel readout text differs (None if the panel has no readout text), and
    ``moved``: whether the slider's value changed at all."""
    page.evaluate(
        "([k, a, t]) => window.__bt.armLatency(k, a, t)", [key, arrow, int(timeout_s * 1000)]
    )
    slider_locator(page, key).focus()
    page.keyboard.press(arrow)
    page.wait_for_function("() => window.__bt.latency !== null", timeout=(timeout_s + 5) * 1000)
    return page.evaluate("() => window.__bt.latency")


# -- small notebooks written by a test (tests/browser/test_frames_in_browser.py, ...)

def open_new_notebook(browser, lab_server, name, cells):
    """Write a notebook of these code cells into the server's root and open it."""
    nb = {
        "cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [],
                   "execution_count": None} for c in cells],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    (lab_server.root / f"{name}.ipynb").write_text(json.dumps(nb))
    handle = PageHandle(browser, lab_server, name)
    open_notebook(handle.page, lab_server, f"{name}.ipynb")
    return handle


def run_cell(page, index, timeout_s=60.0):
    """Run code cell `index` (again, if it ran before) and wait until the kernel is idle again."""
    before = page.evaluate(
        """(i) => { const p = window.__bt.panel(); p.content.activeCellIndex = i;
                    const count = p.content.widgets[i].model.executionCount;
                    window.jupyterapp.commands.execute('notebook:run-cell');
                    return count; }""",
        index,
    )
    page.wait_for_function(
        """([i, before]) => { const p = window.__bt.panel(); const k = p.sessionContext.session.kernel;
                    const cell = p.content.widgets[i];
                    return k.status === 'idle' && cell.model.executionCount != null
                      && cell.model.executionCount !== before
                      && !cell.node.querySelector('.jp-InputPrompt').textContent.includes('[*]'); }""",
        arg=[index, before], timeout=timeout_s * 1000, polling=100,
    )


def cell_output_text(page, index):
    """The text a code cell printed (its stream outputs, from the cell model: not cut by the page)."""
    return page.evaluate(
        """(i) => window.__bt.panel().content.widgets[i].model.outputs.toJSON()
                   .filter(o => o.output_type === 'stream' && o.name === 'stdout')
                   .map(o => Array.isArray(o.text) ? o.text.join('') : o.text).join('')""",
        index,
    )


def view_markup(page, cell=0, view=0):
    """The DOM of SVG view number `view` in cell `cell`'s outputs, as markup."""
    return page.evaluate(
        """([c, v]) => window.__bt.panel().content.widgets[c].node
                         .querySelectorAll('.svg-panel-view')[v].innerHTML""",
        [cell, view],
    )


def views_equal_markups(page, cell, markups, timeout_s=5.0):
    """Wait until the SVG views in cell `cell`'s outputs show `markups` (one per view, in page
    order: each parsed and compared node by node, `bt.sameAsMarkup`); returns the list of
    booleans at the end (all True, or the state when the timeout ran out)."""
    js = """([c, markups]) => {
      const views = window.__bt.panel().content.widgets[c].node.querySelectorAll('.svg-panel-view');
      if (views.length !== markups.length) return null;
      return markups.map((m, i) => window.__bt.sameAsMarkup(views[i], m));
    }"""
    deadline = time.monotonic() + timeout_s
    while True:
        same = page.evaluate(js, [cell, markups])
        if (same is not None and all(same)) or time.monotonic() > deadline:
            return same
        time.sleep(0.1)


def show_panel(handle, cell=0):
    """Run code cell `cell` (it shows one or more live panels) and wait until every SVG view
    in its output is drawn."""
    run_cell(handle.page, cell)
    wait_for_views(handle, cell)


def wait_for_views(handle, cell=0):
    """Wait until cell `cell`'s outputs hold SVG views and every one of them is drawn."""
    handle.page.wait_for_function(
        """(c) => { const views = window.__bt.panel().content.widgets[c].node.querySelectorAll('.svg-panel-view');
                    return views.length > 0 && Array.from(views).every(v => v.querySelector('svg')); }""",
        arg=cell, timeout=60_000,
    )
