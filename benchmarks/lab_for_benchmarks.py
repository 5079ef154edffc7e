"""A throw-away JupyterLab and a headless Chromium for the browser benchmarks.

`start()` copies notebooks/, helpers/ and data/ into a temporary folder, points every
Jupyter, IPython and matplotlib directory inside it, and serves it with JupyterLab on
127.0.0.1 (a free port, a random token, `window.jupyterapp` exposed so that a script can
run JupyterLab commands, every cell rendered). `browser(playwright)` launches the system
Chromium (`BROWSER_EXECUTABLE`, default /usr/bin/chromium; never a downloaded one).
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
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SETTINGS = {  # JupyterLab user settings: render every cell, no news or update toasts
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True},
}


def chromium() -> str:
    return os.environ.get("BROWSER_EXECUTABLE", "/usr/bin/chromium")


def browser(playwright):
    """Headless Chromium from the system binary."""
    return playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)


class Lab:
    """A running JupyterLab on a copy of the repo's notebooks; `stop()` ends it and its kernels."""

    def __init__(self, tmp: Path, root: Path, port: int, token: str, proc: subprocess.Popen):
        self.tmp, self.root, self.port, self.token, self.proc = tmp, root, port, token, proc

    def notebook_url(self, rel_path: str) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/{rel_path}?reset&token={self.token}"

    def shutdown_kernels(self) -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/sessions",
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                sessions = json.loads(answer.read())
            for session in sessions:
                urllib.request.urlopen(urllib.request.Request(
                    f"http://127.0.0.1:{self.port}/api/sessions/{session['id']}", method="DELETE",
                    headers={"Authorization": f"token {self.token}"}), timeout=10).close()
        except OSError:
            pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.shutdown_kernels()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own process group: kernels left behind
        except (ProcessLookupError, PermissionError):
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def start(timeout: float = 90.0) -> Lab:
    tmp = Path(tempfile.mkdtemp(prefix="bench-lab-"))
    root = tmp / "root"
    for name in ("notebooks", "helpers", "data"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    dirs = {name: tmp / "jupyter" / name for name in ("config", "data", "runtime", "settings",
                                                       "workspaces", "ipython", "mpl")}
    for path in dirs.values():
        path.mkdir(parents=True)
    for rel, content in SETTINGS.items():
        (dirs["settings"] / rel).parent.mkdir(parents=True, exist_ok=True)
        (dirs["settings"] / rel).write_text(json.dumps(content))
    env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH")}
    env.update(JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
               JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), JUPYTER_PLATFORM_DIRS="1",
               IPYTHONDIR=str(dirs["ipython"]), MPLCONFIGDIR=str(dirs["mpl"]), PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.pathsep.join([str(root)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(24)
    log = open(tmp / "lab.log", "w")  # noqa: SIM115 - the process keeps it
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--allow-root", "--ServerApp.open_browser=False",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
         "--ServerApp.terminals_enabled=False", f"--LabApp.user_settings_dir={dirs['settings']}",
         f"--LabApp.workspaces_dir={dirs['workspaces']}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.expose_app_in_browser=True", "--LanguageServerManager.autodetect=False"],
        cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    lab = Lab(tmp, root, port, token, proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2):
                return lab
        except OSError:
            time.sleep(0.25)
    tail = (tmp / "lab.log").read_text(errors="replace")[-2000:]
    lab.stop()
    raise RuntimeError(f"JupyterLab did not start within {timeout:g} s:\n{tail}")
