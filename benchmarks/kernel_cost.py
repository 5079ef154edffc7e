#!/usr/bin/env python
"""Kernel cost of a live panel: CPU time and bytes sent per control change.

For every panel of `helpers.lessons.all_panels()` (each lesson's panels, built as
its notebook builds them) and every control of it, the script makes 3 warm-up
changes and then 30 timed ones, as a student dragging the control would:
sliders sweep their range back and forth by their step, drop-downs and toggle
buttons cycle through their options, a text box alternates between its first
text and that text with its first two words swapped. For each change it records

  * kernel CPU time (time.process_time around `control.value = v`: the draw of the
    new scene, the patch, the readout, everything the change runs in this process),
  * bytes sent to the browser: every comm message the panel's widgets send during
    the change (the picture's patch or whole markup, the readout, the message line),
    measured as the JSON of the message's data plus its binary buffers. The echo of
    the control's own value is left out: a browser drag does not need it.

It prints one row per control with p50 and p95 of both, and flags (`!`) the rows
over the targets of issue 11: CPU p50 3 ms, p95 8 ms; 8 KiB sent per change.

Usage (from the repository root, with the series' virtualenv and helpers importable):

    python benchmarks/kernel_cost.py
    python benchmarks/kernel_cost.py --samples 30 --warmup 3 --panels "05 multi_head"

No kernel, no browser: the panels run in this process, their widgets on ipywidgets'
dummy comms, whose `send` is wrapped to count the bytes. Exit status 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CPU_P50_MS, CPU_P95_MS, BYTES_MAX = 3.0, 8.0, 8 * 1024


def value_sequence(control, n):
    """n new values for `control`, each different from the one before, in a student's order."""
    if hasattr(control, "options") and control.options:
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        start = options.index(control.value) if control.value in options else 0
        return [options[(start + 1 + i) % len(options)] for i in range(n)] if len(options) > 1 else []
    if hasattr(control, "min") and hasattr(control, "step"):
        grid = np.arange(control.min, control.max + control.step / 2, control.step)
        if isinstance(control.value, int):
            grid = grid.astype(int)
        sweep = list(grid) + list(grid[-2:0:-1])  # there and back
        start = int(np.argmin(np.abs(grid - control.value)))
        values = [sweep[(start + 1 + i) % len(sweep)] for i in range(n)]
        return [type(control.value)(round(float(v), 10)) for v in values]
    if isinstance(control.value, str):
        words = control.value.split()
        other = " ".join(words[1:2] + words[:1] + words[2:]) if len(words) > 1 else control.value + "s"
        return [other if i % 2 == 0 else control.value for i in range(n)]
    return []


def panel_widgets(panel):
    """Every widget of the panel's box (title, controls, Reset, view, readout, message)."""
    found, todo = [], [panel.widget()]
    while todo:
        w = todo.pop()
        found.append(w)
        todo.extend(getattr(w, "children", ()))
    return found


class ByteCounter:
    """Counts the bytes of every comm message the given widgets send (data JSON + buffers)."""

    def __init__(self, widgets):
        self.total = 0
        for w in widgets:
            if getattr(w, "comm", None) is not None:
                w.comm.send = self._wrap(w.comm.send)

    def _wrap(self, send):
        def counting_send(data=None, metadata=None, buffers=None):
            if self.counting:
                self.total += len(json.dumps(data, separators=(",", ":"), default=str))
                self.total += sum(len(memoryview(b).cast("B")) for b in (buffers or ()))
            return send(data=data, metadata=metadata, buffers=buffers)
        return counting_send

    counting = True


def measure(panel, name, samples, warmup):
    """(cpu ms per change, bytes per change) lists for `samples` changes of control `name`."""
    control = panel.controls[name]
    others = [w for w in panel_widgets(panel) if w is not control]
    counter = ByteCounter(others)
    values = value_sequence(control, warmup + samples)
    cpu, sent = [], []
    for i, v in enumerate(values):
        counter.total = 0
        t0 = time.process_time()
        control.value = v
        t1 = time.process_time()
        if i >= warmup:
            cpu.append((t1 - t0) * 1000)
            sent.append(counter.total)
    panel.reset()
    return cpu, sent


def row(key, panel, name, cpu, sent):
    p50, p95 = np.percentile(cpu, 50), np.percentile(cpu, 95)
    b50, b_max = np.percentile(sent, 50), max(sent)
    flag = "!" if (p50 > CPU_P50_MS or p95 > CPU_P95_MS or b_max > BYTES_MAX) else ""
    return (f"| {key} | `{name}` | {len(cpu)} | {p50:.2f} | {p95:.2f} | {b50:.0f} | {b_max:.0f} | "
            f"{'error: ' + panel.error[:40] if panel.error else ''} | {flag} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--panels", nargs="*", help='keys of all_panels(), e.g. "00 word_vector"')
    args = parser.parse_args(argv)
    from helpers.lessons import all_panels

    panels = all_panels()
    keys = args.panels or list(panels)
    print(f"{len(keys)} panels; {args.warmup} warm-ups + {args.samples} changes per control; "
          f"flag (!) over p50 {CPU_P50_MS:g} ms / p95 {CPU_P95_MS:g} ms CPU or {BYTES_MAX} bytes")
    print("| panel | control | n | CPU p50 ms | CPU p95 ms | bytes p50 | bytes max | note | over |")
    print("|---|---|--:|--:|--:|--:|--:|---|---|")
    flagged = 0
    for key in keys:
        panel = panels[key]
        for name in panel.controls:
            cpu, sent = measure(panel, name, args.samples, args.warmup)
            if not cpu:
                print(f"| {key} | `{name}` | 0 | | | | | no other value | |")
                continue
            line = row(key, panel, name, cpu, sent)
            flagged += line.endswith("! |")
            print(line, flush=True)
    print(f"{flagged} control(s) over a target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
