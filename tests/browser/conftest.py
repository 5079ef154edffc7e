"""Fixtures for the browser tests: a throw-away JupyterLab and headless Chromium.

- ``lab_server`` (session): the repo's notebooks/, helpers/, data/ and the
  fixture notebooks copied to a temp dir and served by JupyterLab on 127.0.0.1.
- ``browser`` (session): Chromium from ``BROWSER_EXECUTABLE`` (default
  /usr/bin/chromium), never a Playwright-downloaded one.
- ``lab_page`` (function): a fresh page whose console errors are collected.

Without Chromium or Playwright the tests are skipped, except under ``CI=true``,
where that is a failure. When a test fails, a screenshot and the console log
are saved in ``test-artifacts/`` at the repo root.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab_server as _lab  # noqa: E402
import notebook_driver as _drv  # noqa: E402

# Fixture notebooks are inputs for the harness, not tests (nbval must not collect them).
collect_ignore = ["fixtures"]

ARTIFACTS_DIR = _lab.ARTIFACTS_DIR


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: drives JupyterLab in headless Chromium (deselect with -m 'not browser')"
    )


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def require_browser() -> None:
    """Skip (or, under CI=true, fail) when Chromium or Playwright is missing."""
    reason = _lab.browser_unavailable_reason()
    if reason is None:
        return
    if in_ci():
        pytest.fail(
            f"browser tests cannot run: {reason}. Under CI=true a missing browser is a "
            "failure; install Debian's chromium (apt-get install chromium) and "
            "`pip install playwright`, or point BROWSER_EXECUTABLE at a Chromium binary.",
            pytrace=False,
        )
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def browser_available():
    require_browser()
    return True


@pytest.fixture(scope="session")
def lab_server(browser_available):
    try:
        server = _lab.start_lab(timeout=float(os.environ.get("BROWSER_TEST_START_TIMEOUT", "60")))
        error = None
    except RuntimeError as exc:
        error = str(exc)
    if error:
        pytest.fail(error, pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(browser_available):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        browser = _lab.launch_browser(pw)
    except Exception as exc:  # noqa: BLE001
        pw.stop()
        msg = f"could not launch Chromium at {_lab.browser_executable()!r}: {exc}"
        if in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture
def lab_page(browser, lab_server, request):
    """A fresh Playwright page (own context) with console errors collected.

    ``lab_page.page`` is the Playwright page; ``lab_page.console.errors`` the
    console errors and uncaught page errors seen so far.
    """
    handle = _drv.PageHandle(browser, lab_server, request.node.name)
    yield handle
    handle.close()


def _safe_name(nodeid: str) -> str:
    """test_x[notebooks/01_a.ipynb] -> test_x[notebooks__01_a.ipynb]"""
    name = nodeid.split("::", 1)[-1].replace("/", "__")
    return re.sub(r"[^A-Za-z0-9_.\-\[\]]+", "_", name)[:150]


def save_artifacts(handle: _drv.PageHandle | None, nodeid: str, longrepr: str) -> list[Path]:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    stem = str(ARTIFACTS_DIR / _safe_name(nodeid))
    saved = []
    parts = [f"test: {nodeid}", "", "--- failure ---", longrepr]
    if handle is not None:
        png = Path(stem + ".png")
        try:
            handle.page.screenshot(path=str(png), timeout=10_000)
            saved.append(png)
        except Exception as exc:  # noqa: BLE001
            parts.append(f"(screenshot failed: {exc})")
        parts += ["", "--- browser console ---", handle.console.text() or "(empty)"]
        try:
            iopub = handle.page.evaluate("() => window.__bt ? window.__bt.iopub : []")
            parts += ["", "--- kernel errors/stderr seen on iopub ---"]
            parts += [f"[{m['type']} from {m['parent']}] {_drv.strip_ansi(m.get('text', ''))}" for m in iopub]
        except Exception:  # noqa: BLE001
            pass
        parts += ["", "--- JupyterLab server log (tail) ---", handle.server.log_tail(60)]
    log = Path(stem + ".log")
    log.write_text("\n".join(parts))
    saved.append(log)
    return saved


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and report.when in ("setup", "call"):
        handle = next(
            (v for v in item.funcargs.values() if isinstance(v, _drv.PageHandle)), None
        ) or next(
            (v.handle for v in item.funcargs.values()
             if isinstance(getattr(v, "handle", None), _drv.PageHandle)),
            None,
        )
        if handle is None and _drv.LIVE_PAGES:
            handle = _drv.LIVE_PAGES[-1]
        if handle is not None or report.when == "call":
            try:
                saved = save_artifacts(handle, item.nodeid, str(report.longrepr))
                report.sections.append(
                    ("browser artifacts", "\n".join(str(p) for p in saved))
                )
            except Exception as exc:  # noqa: BLE001 - never hide the real failure
                report.sections.append(("browser artifacts", f"could not save: {exc}"))
    return report
