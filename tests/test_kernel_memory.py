"""What keeps a student's kernel small (issue 6: 30 kernels on one machine).

1. helpers.embeddings imports gensim with scipy.stats, scipy.optimize and
   scipy.spatial deferred (helpers/_deferred_scipy.py): they are not loaded,
   gensim still works when it does use them, and everyone else who imports
   them gets the real modules.
2. plots.show() displays a static figure once, as a PNG, and frees it completely.

Each check runs in a fresh Python process, because what matters is what one
import does to an empty sys.modules.
"""

import json
import subprocess
import sys
import textwrap

import pytest

DEFERRED = ("scipy.stats", "scipy.optimize", "scipy.spatial", "scipy.spatial.distance")


def run_python(code):
    """Run code in a fresh interpreter; return its stdout (fails on any error)."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_importing_embeddings_does_not_load_the_unused_scipy_modules():
    out = run_python(f"""
        import sys
        import helpers.embeddings
        print("gensim.models" in sys.modules)
        print([m for m in {DEFERRED!r} if m in sys.modules])
    """)
    assert out.split("\n")[:2] == ["True", "[]"]


def test_gensim_still_uses_the_deferred_functions_correctly(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("river\tfish\t9.0\nriver\tbank\t6.0\nriver\thospital\t1.0\nfish\trestaurant\t2.0\n")
    out = run_python(f"""
        import math
        import numpy as np
        from helpers import embeddings
        from gensim import matutils
        from gensim.models import keyedvectors

        kv = embeddings.toy_vectors()
        # evaluate_word_pairs calls scipy.stats.pearsonr and spearmanr
        pearson, spearman, oov = kv.evaluate_word_pairs({str(pairs)!r}, dummy4unknown=False)
        gold = [9.0, 6.0, 1.0, 2.0]
        model = [kv.similarity(*p) for p in [("river", "fish"), ("river", "bank"), ("river", "hospital"), ("fish", "restaurant")]]
        ranks = lambda xs: np.argsort(np.argsort(xs))
        independent = np.corrcoef(ranks(gold), ranks(model))[0, 1]  # Spearman = Pearson of ranks
        print(math.isclose(spearman.statistic, independent), oov)
        # matutils.kullback_leibler calls scipy.stats.entropy
        kl = matutils.kullback_leibler([0.5, 0.5], [0.9, 0.1])
        print(math.isclose(kl, 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)))
        # keyedvectors.cdist is scipy.spatial.distance.cdist
        a, b = np.array([[0.0, 3.0]]), np.array([[4.0, 0.0]])
        print(keyedvectors.cdist(a, b).tolist())
    """)
    spearman_and_oov, kl_ok, distance = out.split("\n")[:3]
    assert spearman_and_oov == "True 0.0"
    assert kl_ok == "True"
    assert distance == "[[5.0]]"


def test_later_imports_get_the_real_scipy_modules():
    out = run_python(f"""
        import sys, types
        import helpers.embeddings
        import scipy.stats, scipy.optimize
        from scipy.spatial.distance import cdist
        import scipy
        print(type(scipy.stats) is types.ModuleType, type(scipy.optimize) is types.ModuleType)
        print(sys.modules["scipy.stats"] is scipy.stats, round(float(scipy.stats.norm.cdf(0)), 3))
        print(cdist.__module__, hasattr(scipy.optimize, "minimize"))
    """)
    assert out.split("\n")[:3] == ["True True", "True 0.5", "scipy.spatial.distance True"]


def test_a_module_loaded_before_is_left_alone():
    out = run_python("""
        import scipy.stats
        import helpers.embeddings
        from gensim.models import keyedvectors
        print(keyedvectors.stats is scipy.stats)
    """)
    assert out.startswith("True")


def test_stand_ins_forward_and_clean_up():
    from helpers._deferred_scipy import unused_scipy_deferred

    name = "json.decoder_stand_in_test"  # a module that does not exist: never really loaded
    with unused_scipy_deferred((name,)):
        stand_in = sys.modules[name]
        forwarder = stand_in.anything
        assert "loaded on first use" in repr(forwarder)
        with pytest.raises(AttributeError):
            stand_in.__wrapped__
    assert name not in sys.modules
    with pytest.raises(ModuleNotFoundError):  # first use looks for the real module
        forwarder()


def test_show_displays_a_static_figure_once_as_png_and_frees_it():
    """In the kernel's own backend (matplotlib-inline, as in JupyterLab): one PNG per call,
    nothing auto-displayed at the end of the cell, no figure left in pyplot or in memory."""
    out = run_python("""
        import gc, json, os
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # what ipykernel sets
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shown = []
        shell.display_pub.publish = lambda data, metadata=None, **kw: shown.append(sorted(data))
        shell.run_cell("import matplotlib.pyplot as plt\\nfrom helpers import plots")
        shell.run_cell(
            "for _ in range(3):\\n"
            "    fig, ax = plots.new_figure()\\n"
            "    ax.plot([0, 1], [1, 0])\\n"
            "    plots.show(fig)\\n"
            "del fig, ax")
        from matplotlib.figure import Figure
        import matplotlib.pyplot as plt
        gc.collect()
        print(json.dumps([plt.get_backend(), shown, plt.get_fignums(),
                          sum(isinstance(o, Figure) for o in gc.get_objects())]))
    """)
    backend, shown, open_figures, figures_in_memory = json.loads(out.splitlines()[-1])
    assert "inline" in backend
    assert shown == [["image/png", "text/plain"]] * 3  # one PNG per show, no extra figure at cell end
    assert open_figures == [] and figures_in_memory == 0
