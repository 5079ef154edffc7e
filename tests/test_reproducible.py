"""Reproducible and offline: the notebooks give the same text every run, anywhere, without a network.

Executes the notebooks with nbclient from a temporary copy of notebooks/, in an
isolated environment: HOME, MPLCONFIGDIR, IPYTHONDIR and the JUPYTER_* folders
point into a temporary folder, and a sitecustomize.py on the kernel's
PYTHONPATH makes every socket connection to a non-loopback address fail (the
kernel itself talks to this process over loopback). Then it checks:

* every notebook runs without an error with the network blocked (all six, once);
* notebooks with random draws or training (01, 02, 08) give identical text outputs
  when run a second time;
* the working directory does not matter: 00 run from the repository root gives
  the same text as run from the notebooks folder;
* nothing new appears in the repository (git status before/after, ignoring
  __pycache__): the notebooks write nowhere but the temporary folder.

All tests here are marked `slow` (about 30 to 60 s in total, one module-scoped
set of runs); they run in the default `pytest` command. Deselect with -m "not slow".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(p.name for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
#: notebooks with seeded random draws or Word2Vec training: run twice and compared
RANDOM = [n for n in NOTEBOOKS if n.startswith(("01_", "02_", "08_"))]
#: the notebook run from two working directories (the quickest one)
CWD_NOTEBOOK = next((n for n in NOTEBOOKS if n.startswith("00_")), NOTEBOOKS[0] if NOTEBOOKS else None)

BLOCKER = '''
"""Test-only: refuse every network connection except loopback and Unix sockets."""
import ipaddress
import socket

_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def _allowed(sock, address):
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return True  # Unix sockets and the like
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:  # a host name: it would need DNS, which is the network
        return False


def _guard(sock, address):
    if not _allowed(sock, address):
        raise OSError(f"network access blocked by the offline test: {address!r}")


def connect(self, address):
    _guard(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _guard(self, address)
    return _connect_ex(self, address)


socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
NETWORK_BLOCKED = True
'''


def _text_outputs(nb):
    """Per code cell: the text of its outputs (streams, text/plain, errors), images left out.

    One print can reach the notebook in several stream chunks, depending on timing, so
    consecutive chunks of the same stream are joined before comparing.
    """
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        texts, previous = [], None
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                name = out.get("name")
                if previous == ("stream", name):
                    texts[-1] += out.get("text", "")
                else:
                    texts.append(f"{name}: {out.get('text', '')}")
                previous = ("stream", name)
                continue
            if kind in ("execute_result", "display_data"):
                texts.append(str(out.get("data", {}).get("text/plain", "")))
            elif kind == "error":
                texts.append(f"ERROR {out.get('ename')}: {out.get('evalue')}")
            previous = (kind, None)
        cells.append(texts)
    return cells


def _errors(nb):
    return [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def _git_status():
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return {line for line in out.splitlines()
            if "__pycache__" not in line and ".pytest_cache" not in line}


class Runner:
    """Executes notebooks in the isolated, offline environment."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.copy = tmp / "notebooks"
        shutil.copytree(NOTEBOOK_DIR, self.copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        self.site = tmp / "site"
        self.site.mkdir()
        (self.site / "sitecustomize.py").write_text(BLOCKER)
        home = tmp / "home"
        env = {"HOME": home, "MPLCONFIGDIR": tmp / "mpl", "IPYTHONDIR": tmp / "ipython",
               "JUPYTER_CONFIG_DIR": tmp / "jupyter-config", "JUPYTER_DATA_DIR": tmp / "jupyter-data",
               "JUPYTER_RUNTIME_DIR": tmp / "jupyter-runtime", "XDG_CACHE_HOME": home / ".cache",
               "XDG_CONFIG_HOME": home / ".config"}
        for path in env.values():
            path.mkdir(parents=True, exist_ok=True)
        self.env = {k: str(v) for k, v in env.items()}
        pythonpath = os.environ.get("PYTHONPATH")
        self.env["PYTHONPATH"] = str(self.site) + (os.pathsep + pythonpath if pythonpath else "")

    def run(self, name, cwd=None):
        """Execute notebook `name` (from the temporary copy); returns the executed notebook."""
        nb = nbformat.read(self.copy / name, as_version=4)
        cwd = self.copy if cwd is None else cwd
        client = NotebookClient(nb, timeout=300, kernel_name="python3", startup_timeout=120,
                                resources={"metadata": {"path": str(cwd)}})
        return client.execute(env={**os.environ, **self.env})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    if not NOTEBOOKS:
        pytest.skip("no notebooks yet")
    tmp = tmp_path_factory.mktemp("reproducible")
    before = _git_status()
    mp = pytest.MonkeyPatch()
    runner = Runner(tmp)
    try:
        # this process writes the kernels' connection files: into the temporary folder too
        for key in ("JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "IPYTHONDIR"):
            mp.setenv(key, runner.env[key])
        first = {name: runner.run(name) for name in NOTEBOOKS}
        second = {name: runner.run(name) for name in RANDOM}
        from_root = runner.run(CWD_NOTEBOOK, cwd=ROOT)
    finally:
        mp.undo()
    after = _git_status()
    return {"first": first, "second": second, "from_root": from_root, "new_in_repo": after - before,
            "runner": runner}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_offline_without_errors(runs, name):
    nb = runs["first"][name]
    assert _errors(nb) == []
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", RANDOM)
def test_second_run_gives_identical_text(runs, name):
    a, b = _text_outputs(runs["first"][name]), _text_outputs(runs["second"][name])
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, f"{name}: code cell {i} differs between runs"


def test_working_directory_does_not_matter(runs):
    a = _text_outputs(runs["first"][CWD_NOTEBOOK])
    b = _text_outputs(runs["from_root"])
    assert _errors(runs["from_root"]) == []
    assert a == b


def test_nothing_written_to_the_repository(runs):
    assert runs["new_in_repo"] == set(), (
        "running the notebooks changed the repository (if someone else edited it meanwhile, "
        f"re-run): {sorted(runs['new_in_repo'])}")


def test_kernel_really_used_the_temporary_folders(runs):
    # the kernels wrote their connection files and IPython profile under the temporary folder
    env = runs["runner"].env
    assert any(Path(env["IPYTHONDIR"]).iterdir()), "the kernel did not use the temporary IPYTHONDIR"


# ---------------------------------------------------------------- the blocker itself


def _python_with_blocker(tmp_path, code):
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True,
                          text=True, timeout=60)


def test_blocker_refuses_the_network_and_allows_loopback(tmp_path):
    code = """
        import socket, sitecustomize
        assert sitecustomize.NETWORK_BLOCKED
        for address in (("192.0.2.1", 80), ("2001:db8::1", 80), ("example.org", 443)):
            family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
            s = socket.socket(family, socket.SOCK_STREAM)
            try:
                s.connect(address)
            except OSError as err:
                assert "blocked by the offline test" in str(err), err
            else:
                raise SystemExit(f"connected to {address}")
            finally:
                s.close()
        try:
            socket.create_connection(("192.0.2.1", 80), timeout=1)
        except OSError as err:
            assert "blocked" in str(err), err
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client = socket.create_connection(server.getsockname(), timeout=5)
        client.close(); server.close()
        print("ok")
    """
    result = _python_with_blocker(tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_blocker_is_active_inside_the_kernel(runs):
    # a kernel started like the notebook kernels cannot reach the network
    runner = runs["runner"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('192.0.2.1', 80), timeout=2)\n"
        "    print('connected')\n"
        "except OSError as err:\n"
        "    print(type(err).__name__, 'blocked' in str(err))\n")])
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("JUPYTER_RUNTIME_DIR", runner.env["JUPYTER_RUNTIME_DIR"])
        NotebookClient(nb, timeout=60, kernel_name="python3",
                       resources={"metadata": {"path": str(runner.copy)}}).execute(
            env={**os.environ, **runner.env})
    finally:
        mp.undo()
    assert nb.cells[0].outputs[0]["text"].strip() == "OSError True"
