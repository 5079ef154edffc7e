"""Start and stop a throw-away JupyterLab (or Voilà) server and a headless Chromium.

Used by ``tests/browser/conftest.py`` and ``test_voila_in_browser.py``.
Nothing here writes outside a temporary folder: the repo parts the notebooks
need are copied into it, and every Jupyter/IPython/matplotlib config, data and
runtime directory points inside it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
# Screenshots and logs of failed browser tests (git-ignored).
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"
# Folders of the repo a notebook may need at run time; missing ones are skipped.
COPY_DIRS = ("notebooks", "helpers", "data")
# Where fixture notebooks land inside the server root.
FIXTURE_SUBDIR = "_browser_fixtures"

DEFAULT_BROWSER = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# JupyterLab user settings seeded into the temporary settings dir.
LAB_SETTINGS = {
    # Render every cell, so selectors see all outputs and widgets at once
    # (the default windowing only renders cells near the viewport).
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
    },
    # No "would you like news?" toast covering the page, no update checks.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
}


def browser_executable() -> str:
    """Path of the Chromium binary to drive (``BROWSER_EXECUTABLE`` overrides)."""
    return os.environ.get("BROWSER_EXECUTABLE", DEFAULT_BROWSER)


def browser_unavailable_reason() -> str | None:
    """Why a browser test cannot run here, or None when it can."""
    exe = browser_executable()
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        return f"Chromium not found or not executable at {exe!r} (set BROWSER_EXECUTABLE)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the env
        return f"the Python package 'playwright' is not importable ({exc})"
    return None


def launch_browser(playwright):
    """Launch headless Chromium from the system binary (never a downloaded one)."""
    return playwright.chromium.launch(executable_path=browser_executable(), args=CHROMIUM_ARGS)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(
        src,
        dst,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )


def prepare_root(root: Path, fixtures: bool = True) -> None:
    """Copy what the notebooks need (and the fixture notebooks) into ``root``."""
    for name in COPY_DIRS:
        src = REPO_ROOT / name
        if src.is_dir():
            _copy_tree(src, root / name)
    if fixtures and FIXTURES_DIR.is_dir():
        _copy_tree(FIXTURES_DIR, root / FIXTURE_SUBDIR)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class LabServer:
    """A running JupyterLab; use :func:`start_lab` to make one."""

    root: Path
    port: int
    token: str
    proc: subprocess.Popen
    log_path: Path
    tmp: Path
    _log_file: object = field(repr=False, default=None)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str, **query: str) -> str:
        """URL of ``path`` on the server, with the token in the query."""
        params = "&".join([f"token={self.token}"] + [f"{k}={v}" for k, v in query.items()])
        return f"{self.base_url}/{path.lstrip('/')}?{params}"

    def lab_url(self, notebook: str) -> str:
        """URL opening ``notebook`` (relative to the server root) in JupyterLab.

        ``reset`` starts from an empty workspace so that notebooks opened by an
        earlier test are not restored next to this one.
        """
        return f"{self.base_url}/lab/tree/{notebook}?reset&token={self.token}"

    def api(self, method: str, path: str, timeout: float = 10.0):
        req = urllib.request.Request(
            f"{self.base_url}/api/{path.lstrip('/')}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_sessions(self) -> None:
        """Shut down every kernel session (between tests, so kernels don't pile up)."""
        try:
            for session in self.api("GET", "sessions"):
                self.api("DELETE", f"sessions/{session['id']}")
        except (urllib.error.URLError, OSError, ValueError):
            pass

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (and any kernel it left behind): terminate, then kill."""
        if self.proc.poll() is None:
            self.shutdown_sessions()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        # The server ran in its own process group: reap kernels it may have orphaned.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self._log_file is not None:
            self._log_file.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def jupyter_env(tmp: Path, root: Path) -> tuple[dict, dict]:
    """({name: dir}, environment): every Jupyter/IPython/matplotlib directory inside ``tmp``,
    and a PYTHONPATH that makes the kernel import the copied helpers in ``root``."""
    jhome = tmp / "jupyter"
    dirs = {
        name: jhome / name
        for name in ("config", "data", "runtime", "settings", "workspaces", "ipython", "mpl")
    }
    for path in dirs.values():
        path.mkdir(parents=True)
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTER_PLATFORM_DIRS="1",
        IPYTHONDIR=str(dirs["ipython"]),
        MPLCONFIGDIR=str(dirs["mpl"]),
        # The kernel imports the copied helpers, not the working tree's.
        PYTHONPATH=os.pathsep.join([str(root)] + [p for p in [env.get("PYTHONPATH")] if p]),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    return dirs, env


def _stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Terminate, then kill, a server started in its own process group, and its kernels."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class VoilaServer:
    """A running ``voila <notebook>``; use :func:`start_voila` to make one."""

    port: int
    token: str
    proc: subprocess.Popen
    log_path: Path
    tmp: Path
    _log_file: object = field(repr=False, default=None)

    @property
    def url(self) -> str:
        """The dashboard's address (Voilà serves the one notebook at /)."""
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)

    def stop(self) -> None:
        _stop(self.proc)
        if self._log_file is not None:
            self._log_file.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def start_voila(notebook: str, timeout: float = 60.0) -> VoilaServer:
    """Copy the repo parts into a temp dir and serve ``notebook`` (relative to the repo root)
    with ``voila``: on 127.0.0.1, a free port, a random token, no browser opened."""
    tmp = Path(tempfile.mkdtemp(prefix="browser-voila-"))
    root = tmp / "root"
    root.mkdir()
    prepare_root(root, fixtures=True)
    if notebook.startswith("tests/browser/fixtures/"):
        notebook = f"{FIXTURE_SUBDIR}/{notebook.removeprefix('tests/browser/fixtures/')}"
    _dirs, env = jupyter_env(tmp, root)
    port, token = _free_port(), secrets.token_hex(24)
    log_path = tmp / "voila.log"
    log_file = open(log_path, "w")  # noqa: SIM115 - closed in VoilaServer.stop
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", str(root / notebook), "--no-browser", f"--port={port}",
         "--Voila.port_retries=0", "--Voila.ip=127.0.0.1", f"--token={token}"],
        cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = VoilaServer(port, token, proc, log_path, tmp, log_file)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        # listening is enough: the dashboard page itself starts the kernel (Voilà has no /api/status)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return server
        except OSError:
            time.sleep(0.25)
    tail = server.log_tail()
    server.stop()
    raise RuntimeError(f"voila did not start within {timeout:g} s\n--- log (tail) ---\n{tail}")


def start_lab(timeout: float = 60.0, fixtures: bool = True, attempts: int = 3) -> LabServer:
    """Copy the repo into a temp dir, start JupyterLab on it and wait for /api/status."""
    tmp = Path(tempfile.mkdtemp(prefix="browser-lab-"))
    root = tmp / "root"
    root.mkdir()
    prepare_root(root, fixtures=fixtures)

    dirs, env = jupyter_env(tmp, root)
    for rel, content in LAB_SETTINGS.items():
        target = dirs["settings"] / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(content))

    log_path = tmp / "server.log"
    last_error = ""
    for _attempt in range(attempts):
        port = _free_port()
        token = secrets.token_hex(24)
        cmd = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--allow-root",
            "--ServerApp.open_browser=False",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root}",
            f"--IdentityProvider.token={token}",
            "--ServerApp.terminals_enabled=False",
            f"--LabApp.user_settings_dir={dirs['settings']}",
            f"--LabApp.workspaces_dir={dirs['workspaces']}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            # window.jupyterapp: lets the harness run JupyterLab commands directly.
            "--LabApp.expose_app_in_browser=True",
            "--LanguageServerManager.autodetect=False",
        ]
        log_file = open(log_path, "w")  # noqa: SIM115 - closed in LabServer.stop
        proc = subprocess.Popen(
            cmd,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = LabServer(root, port, token, proc, log_path, tmp, log_file)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                last_error = f"server exited with code {proc.returncode}"
                break
            try:
                status = server.api("GET", "status", timeout=2.0)
                if isinstance(status, dict):
                    return server
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.25)
        else:
            last_error = f"/api/status did not answer within {timeout:g} s"
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log_file.close()
        tail = server.log_tail()
        if "already in use" not in tail:
            break
    shutil.rmtree(tmp, ignore_errors=True)
    shown = " ".join(cmd).replace(token, "***")
    raise RuntimeError(
        f"JupyterLab did not start ({last_error}).\n"
        f"command: {shown}\n--- server log (tail) ---\n{tail or '(empty)'}"
    )
