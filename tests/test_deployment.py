"""The classroom kit: deployment config (Binder/repo2docker, laptops, hubs) and the teacher guide.

repo2docker (what Binder runs) reads its config from `binder/` (or `.binder/`) when that folder
exists, and otherwise from the repository root: `runtime.txt` picks the Python version and
`requirements.txt` is installed with pip from the repository root (so `-e .` means this folder).
Docker is not needed for these tests: when `jupyter-repo2docker` is installed (or named by the
REPO2DOCKER environment variable) its `--no-build --debug` dry run prints the Dockerfile it would
build, and the tests read it; otherwise that test is skipped and the others check the files by
parsing them.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
GUIDE = ROOT / "teacher" / "GUIDE.md"

#: Python versions repo2docker 2026.4 can build (repo2docker.buildpacks.conda.supported_python_version).
R2D_PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
#: Packages that must never reach a student's install (huge, or never needed here).
FORBIDDEN = {"torch", "torchvision", "torchaudio", "tensorflow", "jax", "jaxlib"}
#: Copying the repository for a dry run or a build leaves these out.
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "venv", "__pycache__", "*.egg-info", "build",
                                     ".pytest_cache", ".ipynb_checkpoints", "test-artifacts",
                                     "wheelhouse", "node_modules")


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def binder_dir():
    """The folder repo2docker reads its config from: binder/ or .binder/ if present, else None."""
    for name in ("binder", ".binder"):
        if (ROOT / name).is_dir():
            return ROOT / name
    return None


def config_dir():
    return binder_dir() or ROOT


def requirement_lines(path):
    """The non-empty lines of a requirements file, comments and surrounding blanks removed."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if line:
            lines.append(line)
    return lines


def repo2docker_runs_pip_install_dot():
    """repo2docker's rule: with no binder/ folder, a root pyproject.toml holding both [project]
    and [build-system] makes it run `pip install .` after requirements.txt (a normal, non-editable
    install of this folder)."""
    data = pyproject()
    return binder_dir() is None and "project" in data and "build-system" in data


def find_repo2docker():
    candidates = [os.environ.get("REPO2DOCKER"), shutil.which("jupyter-repo2docker"),
                  str(Path(sys.executable).parent / "jupyter-repo2docker")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


# ---------------------------------------------------------------- runtime.txt


def test_runtime_txt_pins_a_python_that_repo2docker_builds_and_pyproject_allows():
    path = config_dir() / "runtime.txt"
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: Binder would pick its default Python"
    text = path.read_text(encoding="utf-8")
    assert len(text.strip().splitlines()) == 1, f"runtime.txt must hold one line, got {text!r}"
    match = re.fullmatch(r"python-(3\.\d+)", text.strip())
    assert match, f"runtime.txt must read like 'python-3.11' (minor version only), got {text.strip()!r}"
    version = match.group(1)
    assert version in R2D_PYTHONS, f"repo2docker builds Python {R2D_PYTHONS}, not {version}"
    requires = SpecifierSet(pyproject()["project"]["requires-python"])
    assert Version(version) in requires, f"runtime.txt asks for {version}, pyproject allows {requires}"


def test_a_binder_folder_leaves_no_ignored_config_at_the_root():
    """When binder/ exists repo2docker reads only it: a root runtime.txt would be silently ignored."""
    folder = binder_dir()
    if folder is None:
        pytest.skip("no binder/ folder: repo2docker reads the root files")
    assert not (ROOT / "runtime.txt").exists(), \
        f"runtime.txt at the root is ignored because {folder.name}/ exists: move it there"
    lines = requirement_lines(folder / "requirements.txt")
    assert "-r ../requirements.txt" in lines, \
        f"{folder.name}/requirements.txt should include the students' file with '-r ../requirements.txt'"


# ---------------------------------------------------------- requirements.txt


def test_requirements_txt_installs_the_runtime_packages_jupyterlab_and_this_folder_last():
    lines = requirement_lines(ROOT / "requirements.txt")
    assert lines and lines[-1] == "-e .", \
        f"the last line of requirements.txt must be '-e .' (install this folder), got {lines[-1:]}"
    specs = {}
    for line in lines[:-1]:
        assert not line.startswith("-"), f"only '-e .' may be a pip option line, got {line!r}"
        assert "://" not in line and "git+" not in line and " @ " not in line, \
            f"no URLs or direct references (offline wheelhouses and Binder cache need names): {line!r}"
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name not in specs, f"{req.name} is listed twice"
        assert name not in FORBIDDEN, f"{req.name} must not be a student requirement"
        specs[name] = req.specifier
    assert "jupyterlab" in specs, "requirements.txt must install jupyterlab (the README opens it)"
    for dep in pyproject()["project"]["dependencies"]:
        req = Requirement(dep)
        name = canonicalize_name(req.name)
        assert name in specs, f"pyproject dependency {req.name} is missing from requirements.txt"
        assert specs[name] == req.specifier, \
            f"{req.name}: requirements.txt says {specs[name]}, pyproject.toml says {req.specifier}"


def test_requirements_dev_builds_on_the_students_file():
    """`pip download -r requirements-dev.txt` must fetch the students' packages too."""
    lines = requirement_lines(ROOT / "requirements-dev.txt")
    assert lines and lines[0] == "-r requirements.txt"
    for line in lines[1:]:
        assert not line.startswith("-e") and "://" not in line, line
        assert canonicalize_name(Requirement(line).name) not in FORBIDDEN, line


# ------------------------------------------------------- repo2docker dry run


def test_repo2docker_dry_run_uses_runtime_txt_and_requirements_txt(tmp_path):
    exe = find_repo2docker()
    if exe is None:
        pytest.skip("jupyter-repo2docker is not installed (pip install jupyter-repo2docker, "
                    "or set REPO2DOCKER to its path); the parsing tests above still ran")
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=COPY_IGNORE)
    result = subprocess.run([exe, "--no-build", "--debug", "--user-id", "1000", "--user-name", "jovyan",
                             str(repo)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    version = (config_dir() / "runtime.txt").read_text(encoding="utf-8").strip().split("-", 1)[1]
    assert f"python={version}" in log, f"repo2docker did not take Python {version} from runtime.txt:\n{log[:2000]}"
    requirements = "binder/requirements.txt" if binder_dir() else "requirements.txt"
    assert re.search(r'pip install --no-cache-dir -r "[^"]*' + re.escape(requirements) + '"', log), \
        f"repo2docker does not install {requirements}:\n{log[-3000:]}"
    # the rule used by test_binder_install_finds_the_toy_vectors matches what repo2docker does
    runs_dot = re.search(r"pip install --no-cache-dir \.\s*$", log, re.MULTILINE) is not None
    assert runs_dot == repo2docker_runs_pip_install_dot()


# --------------------------------------------- Binder: a non-editable install


def test_binder_keeps_the_editable_install():
    """Binder must not run a plain `pip install .`: that copy of helpers would look for data/
    next to site-packages and every notebook would fail. binder/requirements.txt installs
    ../requirements.txt (which ends with -e .), and its presence stops repo2docker's `pip install .`."""
    assert not repo2docker_runs_pip_install_dot(), \
        "add binder/requirements.txt with '-r ../requirements.txt' so repo2docker keeps the -e install"
    lines = (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8").split()
    assert lines == ["-r", "../requirements.txt"]


# ------------------------------------------------------------ teacher guide


NOTEBOOK_NAME = re.compile(r"\b\d\d_[A-Za-z0-9_]+\.ipynb\b")


def guide_text():
    assert GUIDE.is_file(), "teacher/GUIDE.md is missing"
    return GUIDE.read_text(encoding="utf-8")


def test_guide_mentions_every_notebook():
    text = guide_text()
    notebooks = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert notebooks, "no notebooks found"
    missing = [name for name in notebooks if name not in text]
    assert not missing, f"teacher/GUIDE.md never mentions {missing}"


def test_guide_mentions_only_notebooks_that_exist():
    named = sorted(set(NOTEBOOK_NAME.findall(guide_text())))
    assert named, "teacher/GUIDE.md names no notebook file"
    unknown = [name for name in named
               if not (NOTEBOOKS / name).is_file() and not (NOTEBOOKS / "solutions" / name).is_file()]
    assert not unknown, f"teacher/GUIDE.md names notebooks that do not exist: {unknown}"


def test_guide_panels_exist_and_are_used_by_the_notebook_it_names():
    """Each row of the guide's 'Panels at a glance' table: the function exists in helpers.widgets
    or in a lesson module (`lessons.<name>.<function>`) and the named notebook calls it."""
    import importlib

    rows = re.findall(r"^\| `(\d\d_[A-Za-z0-9_]+\.ipynb)` \|.*?`((?:lessons\.[a-z_]+)|widgets)\.([a-z_0-9]+)`",
                      guide_text(), re.MULTILINE)
    assert len(rows) >= 8, f"expected the table of panels, found {rows}"
    for notebook, module, function in rows:
        found = importlib.import_module(f"helpers.{module}")
        assert callable(getattr(found, function, None)), f"helpers.{module} has no {function}"
        source = (NOTEBOOKS / notebook).read_text(encoding="utf-8")
        called = f"{module.rsplit('.', 1)[-1]}.{function}("
        short = module.rsplit(".", 1)[-1]
        aliases = re.findall(rf"import {short} as (\w+)", source)  # e.g. "as lesson", "as block"
        assert called in source or any(f"{alias}.{function}(" in source for alias in aliases), \
            f"{notebook} does not call {called}"
