"""Run every notebook in a real JupyterLab + Chromium and drive its sliders.

For each notebook (notebooks/*.ipynb, sorted; plus the harness's own fixture):

1. ``test_runs_clean``: open it at /lab/tree/<path>, wait for an idle kernel,
   clear all outputs, Run All, wait until done; no error output, no traceback
   on stderr, no widget that failed to render, no browser console error, no
   request leaving 127.0.0.1.
2. ``test_sliders_move_readout_and_figure``: for the first slider of each
   panel (at most BROWSER_TEST_MAX_SLIDERS, default 3): press an arrow key on
   the handle, then drag it with the mouse; after each, the slider's readout,
   the panel's readout text (HTML/Label widgets, if any) and the panel's picture
   must all change (a live panel's SVG view: its DOM), and no widget callback may raise.

Environment knobs: BROWSER_EXECUTABLE, BROWSER_TEST_MAX_SLIDERS,
BROWSER_TEST_RUN_TIMEOUT (s per notebook, default 180),
BROWSER_TEST_CHANGE_TIMEOUT (s per slider move, default 5),
BROWSER_TEST_SOLUTIONS=1 (also run notebooks/solutions/*.ipynb),
BROWSER_TEST_NOTEBOOKS (os.pathsep-separated paths relative to the repo root,
replacing the default list), BROWSER_TEST_SCREENSHOTS=1 (also save a screenshot
of every notebook after its sliders moved, in test-artifacts/).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import notebook_driver as drv
import pytest
from lab_server import ARTIFACTS_DIR, FIXTURE_SUBDIR, FIXTURES_DIR, REPO_ROOT
from notebook_driver import PageHandle

MAX_SLIDERS = int(os.environ.get("BROWSER_TEST_MAX_SLIDERS", "3"))
RUN_TIMEOUT = float(os.environ.get("BROWSER_TEST_RUN_TIMEOUT", "180"))
CHANGE_TIMEOUT = float(os.environ.get("BROWSER_TEST_CHANGE_TIMEOUT", "5"))


def notebook_paths() -> list[str]:
    """Server-relative paths of the notebooks to test."""
    override = os.environ.get("BROWSER_TEST_NOTEBOOKS")
    if override:
        return [p for p in override.split(os.pathsep) if p]
    nb_dir = REPO_ROOT / "notebooks"
    paths = [f"notebooks/{p.name}" for p in sorted(nb_dir.glob("*.ipynb"))]
    if os.environ.get("BROWSER_TEST_SOLUTIONS") == "1":
        paths += [f"notebooks/solutions/{p.name}" for p in sorted(nb_dir.glob("solutions/*.ipynb"))]
    # The harness's own fixture: keeps the slider checks exercised whatever the lessons contain.
    paths += [f"{FIXTURE_SUBDIR}/{p.name}" for p in sorted(FIXTURES_DIR.glob("*.ipynb"))]
    return paths


@dataclass
class NotebookSession:
    path: str
    handle: PageHandle
    run: drv.RunResult | None
    open_error: str | None
    iopub_seen: int = 0


@pytest.fixture(scope="module", params=notebook_paths(), ids=lambda p: p)
def notebook(request, browser, lab_server):
    """The notebook opened in JupyterLab, outputs cleared and all cells run."""
    path = request.param
    handle = PageHandle(browser, lab_server, path)
    session = NotebookSession(path, handle, None, None)
    try:
        drv.open_notebook(handle.page, lab_server, path)
        session.run = drv.run_all(handle.page, timeout_s=RUN_TIMEOUT)
        session.iopub_seen = len(handle.page.evaluate("() => window.__bt.iopub"))
    except Exception as exc:  # noqa: BLE001 - reported by the tests, with a screenshot
        session.open_error = f"{type(exc).__name__}: {exc}"
    yield session
    handle.close()
    lab_server.shutdown_sessions()


def _require_clean_run(notebook: NotebookSession) -> None:
    if notebook.open_error:
        pytest.fail(f"{notebook.path}: could not open/run: {notebook.open_error}", pytrace=False)


def test_lab_loads_with_widget_extensions(lab_page, lab_server):
    """JupyterLab starts and has the ipywidgets and anywidget front-end extensions (anywidget
    shows the live panels' SVG views, helpers.panels.view.SvgView)."""
    page = lab_page.page
    page.goto(lab_server.url("lab"), wait_until="domcontentloaded")
    drv.wait_for_lab(page)
    names = page.evaluate(
        """() => JSON.parse(document.getElementById('jupyter-config-data').textContent)
                   .federated_extensions.map(e => e.name)"""
    )
    for needed in ("@jupyter-widgets/jupyterlab-manager", "anywidget"):
        assert needed in names, f"JupyterLab extension {needed} is not installed (have: {names})"
    lab_page.assert_no_console_errors("while loading JupyterLab")


def test_runs_clean(notebook: NotebookSession):
    _require_clean_run(notebook)
    run = notebook.run
    print(f"{notebook.path}: {run.n_code_cells} code cells ran in {run.seconds:.1f} s")
    for text in run.stderr:
        print(f"stderr output (not an error, but worth a look): {text.strip()[:300]}")
    problems = run.problems()
    if problems:
        drv.scroll_to_first_problem(notebook.handle.page)
    assert not problems, f"{notebook.path}:\n" + "\n\n".join(problems)
    notebook.handle.assert_no_console_errors(f"while running {notebook.path}")


def _check_move(page, notebook, target, before, how, after) -> list[str]:
    changed = after["changed"]
    state = after["state"]
    what = f"{notebook.path}, cell {target.cell}, slider {target.description!r}, {how}"
    failures = []
    if not changed["readout"]:
        failures.append(f"{what}: slider readout stayed {before['readout']!r}")
    if not changed["panelText"]:
        failures.append(
            f"{what}: the panel's readout text did not change within {CHANGE_TIMEOUT:.0f} s "
            f"(still {before['panelText']!r})"
        )
    if not changed["figure"]:
        failures.append(
            f"{what}: the panel's picture ({target.figure_source} picture: an SVG view's DOM) "
            f"did not change within {CHANGE_TIMEOUT:.0f} s"
        )
    if not failures:
        print(
            f"{what}: readout {before['readout']!r} -> {state['readout']!r}, picture changed "
            f"after {after['ms']:.0f} ms"
        )
    return failures


def test_sliders_move_readout_and_figure(notebook: NotebookSession):
    _require_clean_run(notebook)
    if notebook.run.problems():
        pytest.skip(f"{notebook.path} did not run cleanly; test_runs_clean reports why")
    page = notebook.handle.page
    targets, n_handles = drv.find_sliders(page, MAX_SLIDERS)
    if not targets:
        pytest.skip(f"{notebook.path} has no slider ({n_handles} .noUi-handle elements)")
    failures = []
    for target in targets:
        if target.n_figures == 0:
            failures.append(
                f"{notebook.path}, cell {target.cell}, slider {target.description!r}: "
                "no picture (SVG view) found in its panel or anywhere in the notebook"
            )
            continue
        drv.scroll_figure_into_view(page, target.key)
        before = drv.settle(page, target.key)
        arrow = drv.press_key(page, target.key, before)
        after = drv.wait_change(page, target.key, before, CHANGE_TIMEOUT)
        failures += _check_move(page, notebook, target, before, f"key {arrow}", after)

        before = drv.settle(page, target.key)
        how = drv.drag_handle(page, target.key, before)
        after = drv.wait_change(page, target.key, before, CHANGE_TIMEOUT)
        failures += _check_move(page, notebook, target, before, f"mouse {how}", after)
        drv.settle(page, target.key)

    errors, notebook.iopub_seen = drv.callback_errors_since(page, notebook.iopub_seen)
    failures += [f"error in a widget callback: {e}" for e in errors]
    if os.environ.get("BROWSER_TEST_SCREENSHOTS") == "1":
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        name = notebook.path.replace("/", "__").removesuffix(".ipynb")
        page.screenshot(path=str(ARTIFACTS_DIR / f"sliders_{name}.png"))
    assert not failures, "\n".join(failures)
    notebook.handle.assert_no_console_errors(f"while moving sliders in {notebook.path}")
