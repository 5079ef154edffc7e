"""Spike benchmark: kernel CPU and bytes sent per control change, per design.

Designs: "ipympl" (today's helpers.widgets Panel, its canvas told "initialized"
as a browser does, so every change renders and sends a PNG frame), "patch"
(design a, anywidget + keyed SVG patches), "html" (design b, the whole SVG in
an ipywidgets.HTML). Panels: notebook 05's heatmaps per head, notebook 04's
context word. Each control gets `--warmup` changes, then `--samples` timed
ones; CPU = time.process_time() around `control.value = v` (everything the
kernel does for the change, the comm sends included, nothing the browser does).
Bytes = JSON length (compact) of every widget comm message's content plus its
binary buffers, sent during the change (the Jupyter message header, ~0.5 KiB
per message, is not counted).

    python benchmarks/spike_live_panels/kernel_bench.py [--samples 30] [--warmup 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parent)]

import matplotlib  # noqa: E402

matplotlib.use("module://ipympl.backend_nbagg")

import ipywidgets as W  # noqa: E402

SENT = []  # (bytes) of every widget message since the last reset


def _hook_sends():
    original = W.Widget._send

    def counting(self, msg, buffers=None):
        size = len(json.dumps(msg, separators=(",", ":"), default=str))
        size += sum(len(memoryview(b).cast("B")) for b in (buffers or []))
        SENT.append(size)
        return original(self, msg, buffers)

    W.Widget._send = counting


def pct(xs, q):
    s = sorted(xs)
    return s[max(1, math.ceil(q / 100 * len(s))) - 1]


def values_for(w, n):
    if isinstance(w, (W.FloatSlider, W.IntSlider)):
        steps = int(round((w.max - w.min) / w.step))
        grid = [w.min + i * w.step for i in range(steps + 1)]
        i = min(range(len(grid)), key=lambda k: abs(grid[k] - w.value))
        out, d = [], 1
        while len(out) < n:
            if not 0 <= i + d < len(grid):
                d = -d
            i += d
            out.append(round(grid[i], 10))
        return out
    opts = [o[1] if isinstance(o, tuple) else o for o in w.options]
    start = opts.index(w.value)
    return [opts[(start + 1 + k) % len(opts)] for k in range(n)]


def build(design, which):
    from helpers import attention, embeddings, widgets
    from spike_live_panels import panels

    vectors = embeddings.toy_vectors()
    if which == "05 heads":
        W_q, W_k, W_v, W_o, _ = attention.demo_heads()
        if design == "ipympl":
            p = widgets.multi_head_panel(vectors, W_q, W_k, W_v, W_o)
        else:
            p = panels.multi_head_panel(vectors, W_q, W_k, W_v, W_o, view=design)
    else:
        p = (widgets.bank_context_panel(vectors=vectors) if design == "ipympl"
             else panels.bank_context_panel(vectors=vectors, view=design))
    p.widget()
    if design == "ipympl":  # what the front end says when the canvas appears
        p.fig.canvas._handle_message(p.fig.canvas, {"type": "initialized"}, [])
        p.fig.canvas.manager.refresh_all()
    return p


def measure(panel, name, samples, warmup):
    w = panel.controls[name]
    cpu, sent = [], []
    for k, v in enumerate(values_for(w, warmup + samples)):
        SENT.clear()
        c0 = time.process_time()
        w.value = v
        c1 = time.process_time()
        if k >= warmup:
            cpu.append((c1 - c0) * 1e3)
            sent.append(sum(SENT))
    return cpu, sent


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    _hook_sends()
    cases = [("05 heads", "sharpness"), ("05 heads", "num_heads"), ("05 heads", "sentence"),
             ("04 context", "sharpness"), ("04 context", "word")]
    rows = []
    for which, control in cases:
        for design in ("ipympl", "patch", "html"):
            panel = build(design, which)
            cpu, sent = measure(panel, control, args.samples, args.warmup)
            rows.append(dict(panel=which, control=control, design=design, cpu=cpu, sent=sent))
            if design == "ipympl":
                import matplotlib.pyplot as plt
                plt.close(panel.fig)
    print(f"kernel CPU per change (ms) and bytes sent per change, {args.samples} changes after "
          f"{args.warmup} warm-ups; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    head = f"{'panel':<11} {'control':<10} {'design':<7} {'cpu p50':>8} {'cpu p95':>8} {'KiB p50':>8} {'KiB p95':>8}"
    print(head + "\n" + "-" * len(head))
    for r in rows:
        print(f"{r['panel']:<11} {r['control']:<10} {r['design']:<7} {pct(r['cpu'], 50):>8.2f} "
              f"{pct(r['cpu'], 95):>8.2f} {pct(r['sent'], 50) / 1024:>8.2f} {pct(r['sent'], 95) / 1024:>8.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
