"""Spike: the checks a test of the chosen design would make, without a browser.

1. The static picture (image/svg+xml of the mime bundle) is the live view's
   first state: its tiles are, character for character, the tiles of the
   markup the widget view starts from (only the tiles' x/y placement differs).
2. The browser's picture stays the kernel's picture: starting from the first
   scene, applying every patch sent (with apply_patch, the ES module's steps in
   Python) gives exactly the keyed parts of the current scene, after a random
   walk over every control.
Prints one line per panel; exit status 1 if a check fails.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parent)]

from helpers import attention, embeddings  # noqa: E402
from spike_live_panels import panels  # noqa: E402
from spike_live_panels.livepanel import apply_patch  # noqa: E402

TILE = re.compile(r"<svg xmlns=\"http://www.w3.org/2000/svg\"(?: x=\"\d+\" y=\"\d+\")? (viewBox=.*?</svg>)")


def tiles(markup):
    # nested tiles do not occur: each tile is one flat <svg>
    return TILE.findall(markup)


def main():
    vectors = embeddings.toy_vectors()
    W_q, W_k, W_v, W_o, _ = attention.demo_heads()
    ok = True
    for name, make in (("05 heads", lambda: panels.multi_head_panel(vectors, W_q, W_k, W_v, W_o)),
                       ("04 context", lambda: panels.bank_context_panel(vectors=vectors))):
        panel = make()
        bundle = panel._repr_mimebundle_()
        svg = bundle["image/svg+xml"]
        static = tiles(svg[svg.index(">") + 1:svg.rindex("</svg>")])  # the tiles inside the outer <svg>
        live = [t for t in tiles(panel.view.markup) if "display:none" not in t]
        same_first = static == live and len(live) > 0
        rng = random.Random(0)
        browser = panel.scene.keyed()
        sent = panel.view.send
        patches, rev = [], panel.view.rev
        panel.view.send = lambda content, buffers=None: patches.append(content)
        for _ in range(60):
            cname, w = rng.choice(list(panel.controls.items()))
            if hasattr(w, "options"):
                opts = [o[1] if isinstance(o, tuple) else o for o in w.options]
                w.value = rng.choice(opts)
            else:
                w.value = round(rng.uniform(w.min, w.max) / w.step) * w.step
            if panel.view.rev != rev:  # a whole new markup was sent (the structure changed)
                rev, browser = panel.view.rev, panel.scene.keyed()
            for patch in patches:
                browser = apply_patch(browser, patch)
            patches.clear()
        panel.view.send = sent
        same_after = browser == panel.scene.keyed()
        ok &= same_first and same_after
        print(f"{name}: static picture == live first state: {same_first} ({len(live)} tiles); "
              f"patched picture == kernel's scene after 60 random changes: {same_after}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
