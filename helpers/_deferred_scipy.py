"""Import gensim without loading the parts of scipy it never uses here.

Why: importing gensim imports scipy.stats, scipy.optimize and scipy.spatial
for functions of its topic models and evaluation tools (``entropy``,
``spearmanr``, ``cdist``, ``fmin_cg``, ...). Nothing in this series calls them,
yet loading them costs about 45 MiB of memory and half a second per kernel: on
a JupyterHub or one classroom machine with 30 kernels, well over 1 GiB
(benchmarks/classroom_load.py measures it).

While gensim is imported, each of those modules is a stand-in: every name taken
from it is a small forwarder that imports the real module on first use.
Afterwards the stand-ins are removed from ``sys.modules``, so ``import
scipy.stats`` anywhere else gives the real module, as usual. A module that is
already loaded is left alone.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types

#: The modules gensim imports but this series never uses.
UNUSED_BY_THE_SERIES = ("scipy.stats", "scipy.optimize", "scipy.spatial", "scipy.spatial.distance")


class _Forwarder:
    """Stands for ``<module>.<name>``; looks the real object up on first use."""

    def __init__(self, module, name):
        self._module = module
        self._name = name

    def _real(self):
        return getattr(importlib.import_module(self._module), self._name)

    def __call__(self, *args, **kwargs):
        return self._real()(*args, **kwargs)

    def __getattr__(self, attribute):
        return getattr(self._real(), attribute)

    def __repr__(self):
        return f"<{self._module}.{self._name}, loaded on first use>"


class _StandIn(types.ModuleType):
    """A module whose every public attribute is a ``_Forwarder``."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Forwarder(self.__name__, name)


@contextlib.contextmanager
def unused_scipy_deferred(names=UNUSED_BY_THE_SERIES):
    """Within this block, importing one of ``names`` gives a stand-in (see module doc)."""
    stand_ins = {}
    for name in names:
        if name not in sys.modules:
            stand_ins[name] = sys.modules[name] = _StandIn(name, f"Stand-in for {name} while gensim is imported.")
    try:
        yield
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
            parent_name, _, child = name.rpartition(".")
            parent = sys.modules.get(parent_name)
            if parent is not None and vars(parent).get(child) is stand_in:
                delattr(parent, child)
