#!/usr/bin/env python
"""Slider latency: how long from "a slider moved" to "the new picture exists as PNG bytes".

For every notebook of the series this script starts a real Jupyter kernel
(nbclient, the venv's python3 kernel), runs the notebook's cells in order (they
use ``%matplotlib widget``, so figures have ipympl canvases), then finds every
``helpers.widgets.Panel`` living in the kernel and, for each panel and each of
its controls, sets ``control.value`` to a sequence of new valid values (sliders
step across their range and back, dropdowns / toggle buttons cycle through
their options, checkboxes flip) and times, inside the kernel with
``time.perf_counter``, what a browser-attached ipympl canvas does for that
change:

  update  the panel's update function (changes the artists; wrapped and timed)
  widget  the rest of the value change: traitlets, the readout HTML sync
  draw    the Agg render. A Panel with ``draw_frame`` (helpers.widgets) renders
          the frame itself inside the value change: only the changed artists
          over a cached background, or the whole figure when the layout
          changed. (An older Panel only called ``draw_idle``: ipympl sent a
          "draw" request to the browser, which answered "draw", and then
          ``canvas.draw()`` rendered the whole figure; the script emulates
          that answer.) ...
  png     ... then ``manager.refresh_all()`` -> ``canvas.get_diff_image()``:
          compare with the previous frame, keep changed pixels (``diff`` mode)
          or the whole frame (``full``), encode as PNG with Pillow ...
  send    ... and ``canvas.send_binary(png)``: one comm message to the browser.

It also records the CPU time of the kernel's thread for the whole chain
(``time.thread_time``): on a busy machine wall time > CPU time, and the
difference is time spent waiting for a core, not work the figure costs.

The total of the five is the latency the goal refers to (p50 <= 20 ms). Time in
the network and in the browser (decode, paint) is not included. The browser is
emulated as attached: ``canvas.syncing_data_url`` is switched off, as ipympl
does when the front-end says "initialized" (otherwise every draw would also
encode a second, full PNG for the static data URL).

Usage (from the repository root, with the series' virtualenv):

    python benchmarks/slider_latency.py                       # every notebook
    python benchmarks/slider_latency.py --notebooks notebooks/03_softmax_and_masking.ipynb
    python benchmarks/slider_latency.py --samples 30 --warmup 3 --json /tmp/latency.json
    python benchmarks/slider_latency.py --device-pixel-ratio 2   # a HiDPI browser

Prints one row per (notebook, panel, control), then where the time goes.
Exit status: 0 when every notebook ran and was measured, 1 when a notebook
failed to execute (the error is printed). Slow figures never fail the script:
this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GOAL_MS = 20.0
PARTS = ("update", "widget", "draw", "png", "send")
PART_NAMES = {
    "update": "update function (artist changes)",
    "widget": "widget overhead (traitlets, readout)",
    "draw": "Agg render (Panel.draw_frame or canvas.draw)",
    "png": "diff + PNG encode (get_diff_image)",
    "send": "comm send of the PNG",
}


# --------------------------------------------------------------------------
# Kernel side: this module is imported inside the notebook's kernel, and
# measure_in_kernel() runs there. Keep its imports light and local.
# --------------------------------------------------------------------------


def _value_sequence(w, n):
    """n new valid values for widget w, each different from the one before, or (None, why)."""
    import ipywidgets as W
    import numpy as np

    cur = w.value
    if isinstance(w, (W.widgets.widget_selection._MultipleSelection,)):
        values = [(v,) for v in w._options_values]
        if len(values) < 2:
            return None, "fewer than 2 options"
    elif hasattr(w, "_options_values"):  # Dropdown, ToggleButtons, RadioButtons, SelectionSlider
        values = list(w._options_values)
        if len(values) < 2:
            return None, "fewer than 2 options"
    elif isinstance(cur, bool):  # Checkbox, ToggleButton
        values = [not cur, cur]
    elif isinstance(w, W.FloatLogSlider):
        k = int(np.floor((w.max - w.min) / w.step + 1e-9))
        grid = [float(w.base ** (w.min + i * w.step)) for i in range(k + 1)]
        values = _pingpong(_spread(grid, n), cur, n)
        return values, ("" if values else "range has one value")
    elif isinstance(cur, (int, float)) and all(hasattr(w, a) for a in ("min", "max", "step")):
        if isinstance(cur, int) and not isinstance(w, W.FloatSlider):
            grid = list(range(int(w.min), int(w.max) + 1, max(1, int(w.step or 1))))
        else:
            step = w.step or (w.max - w.min) / 50
            k = int(np.floor((w.max - w.min) / step + 1e-9))
            grid = [round(float(w.min + i * step), 10) for i in range(k + 1)]
        values = _pingpong(_spread(grid, n), cur, n)
        return values, ("" if values else "range has one value")
    else:
        return None, f"{type(w).__name__} with value {cur!r}: no list of valid values to step through"
    # cycle through the options, starting after the current one
    try:
        i0 = values.index(cur)
    except ValueError:
        i0 = -1
    return [values[(i0 + 1 + k) % len(values)] for k in range(n)], ""


def _spread(grid, n):
    """At most ~n/2+1 evenly spaced grid points, both ends included (the sweep covers the range)."""
    import numpy as np

    m = max(2, n // 2 + 1)
    if len(grid) <= m:
        return list(grid)
    idx = sorted(set(np.linspace(0, len(grid) - 1, m).round().astype(int).tolist()))
    return [grid[i] for i in idx]


def _pingpong(points, cur, n):
    """n values going min -> max -> min -> ..., starting at a point != cur (neighbours differ)."""
    if len(points) < 2:
        return None
    cycle = list(points) + list(points[-2:0:-1])
    start = next((i for i, v in enumerate(cycle) if v != cur), 0)
    return [cycle[(start + k) % len(cycle)] for k in range(n)]


def _find_panels(user_ns):
    """Every helpers.widgets.Panel alive in the kernel, with a name: [(name, panel)]."""
    import gc

    from helpers.widgets import Panel

    found, seen = [], set()

    def add(name, obj):
        if isinstance(obj, Panel) and id(obj) not in seen:
            seen.add(id(obj))
            found.append((name, obj))

    for name, obj in list(user_ns.items()):
        if not name.startswith("_") and name not in ("In", "Out"):
            add(name, obj)
            if isinstance(obj, (list, tuple)):
                for i, o in enumerate(obj):
                    add(f"{name}[{i}]", o)
            elif isinstance(obj, dict):
                for k, o in list(obj.items()):
                    add(f"{name}[{k!r}]", o)
    for n, obj in sorted((user_ns.get("Out") or {}).items()):  # a panel shown without a name
        add(f"Out[{n}]", obj)
    for obj in gc.get_objects():  # anything else still alive
        if isinstance(obj, Panel):
            add("(unnamed)", obj)
    return found


def _figure_facts(fig):
    from matplotlib.text import Text

    w, h = fig.canvas.get_width_height(physical=True)
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    return {"inches": [round(float(x), 2) for x in fig.get_size_inches()], "dpi": float(fig.dpi),
            "pixels": [int(w), int(h)], "axes": len(fig.axes),
            "visible_texts": len(texts), "artists": len(fig.findobj())}


def _artist_breakdown(fig, reps=8):
    """Exclusive Agg draw CPU time (ms per full draw) by artist class, e.g. {'Text': 40.1, 'XAxis': 9.0}.

    Every class whose instances are in the figure gets its `draw` wrapped by a
    timer that subtracts the time of nested draws; the figure is drawn `reps` times.
    Approximate (the timers cost a little) but shows which kind of artist is expensive.
    """
    import functools
    from collections import defaultdict
    from time import thread_time as clock  # CPU time: robust when other processes share the cores

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    owners = {}
    for cls in {type(a) for a in fig.findobj()}:
        owner = next((c for c in cls.__mro__ if "draw" in c.__dict__), None)
        if owner is not None:
            owners[owner] = owner.__dict__["draw"]
    stack, excl = [], defaultdict(float)

    def wrap(orig):
        @functools.wraps(orig)
        def timed(self, *args, **kwargs):
            t = clock()
            stack.append(0.0)
            try:
                return orig(self, *args, **kwargs)
            finally:
                child = stack.pop()
                dt = clock() - t
                excl[type(self).__name__] += dt - child
                if stack:
                    stack[-1] += dt

        return timed

    try:
        for owner, orig in owners.items():
            setattr(owner, "draw", wrap(orig))
        t0 = clock()
        for _ in range(reps):
            FigureCanvasAgg.draw(fig.canvas)
        total = clock() - t0
    finally:
        for owner, orig in owners.items():
            setattr(owner, "draw", orig)
    out = {k: 1000 * v / reps for k, v in sorted(excl.items(), key=lambda kv: -kv[1])}
    out["(outside artists)"] = max(0.0, 1000 * total / reps - sum(out.values()))
    return out


def measure_in_kernel(user_ns, samples=30, warmup=3, device_pixel_ratio=1.0, out_path=None):
    """Time every control of every Panel in this kernel; write/return a JSON-able dict."""
    import io
    from time import perf_counter as clock, thread_time

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    result = {"backend": matplotlib.get_backend(), "panels": [], "device_pixel_ratio": device_pixel_ratio}
    for name, panel in _find_panels(user_ns):
        fig = panel.fig
        canvas = fig.canvas
        rec = {"name": name, "title": panel.title or name, "canvas": type(canvas).__module__ + "." +
               type(canvas).__name__, "controls": []}
        is_web = hasattr(canvas, "get_diff_image") and hasattr(canvas, "send_binary")
        syncing = getattr(canvas, "syncing_data_url", None)
        if syncing is not None:
            canvas.syncing_data_url = False  # as if a browser had sent "initialized"
        if device_pixel_ratio != 1.0 and hasattr(canvas, "handle_set_device_pixel_ratio"):
            canvas.handle_set_device_pixel_ratio({"device_pixel_ratio": device_pixel_ratio})

        def render():
            """What ipympl does on the browser's "draw" request.

            Returns (wall, cpu) times of draw, png, send, and the frame's mode and size.
            """
            t0, c0 = clock(), thread_time()
            FigureCanvasAgg.draw(canvas)  # the Agg half of FigureCanvasWebAggCore.draw
            t1, c1 = clock(), thread_time()
            if is_web:
                canvas._png_is_old = True  # set by FigureCanvasWebAggCore.draw
                png = canvas.get_diff_image()  # manager.refresh_all() -> diff + PNG
                mode = canvas._current_image_mode
            else:  # a non-web backend: encode the full frame the same way
                from PIL import Image
                import numpy as np

                buf = io.BytesIO()
                Image.fromarray(np.asarray(canvas.buffer_rgba())).save(buf, format="png")
                png, mode = buf.getvalue(), "full"
            t2, c2 = clock(), thread_time()
            if is_web and png is not None:
                canvas.send_binary(png)
            t3, c3 = clock(), thread_time()
            return (t1 - t0, t2 - t1, t3 - t2), (c1 - c0, c2 - c1, c3 - c2), mode, len(png or b"")

        # A Panel with `draw_frame` renders and pushes each frame itself while a browser
        # is attached (no "draw" round trip): time its parts where they happen.
        pushes = is_web and syncing is not None and hasattr(panel, "draw_frame")
        frame = {}

        def timed(key, fn):
            def wrapper(*args):
                t, c = clock(), thread_time()
                result = fn(*args)
                frame[key] = (clock() - t, thread_time() - c)
                if key == "png":
                    frame["size"] = len(result or b"")
                return result
            return wrapper

        if pushes:  # instance attributes shadow the methods ipympl calls
            canvas.get_diff_image = timed("png", canvas.get_diff_image)
            canvas.send_binary = timed("send", canvas.send_binary)
            panel.draw_frame = timed("frame", panel.draw_frame)

        render()  # the first (full) frame the browser gets when the canvas appears
        rec["figure"] = _figure_facts(fig)
        try:
            rec["artist_ms"] = _artist_breakdown(fig)
        except Exception as e:  # a diagnostic only
            rec["artist_ms"] = {"(breakdown failed: %s)" % type(e).__name__: 0.0}
        timing = {}
        original_update = panel._update

        def timed_update(**values):
            t, c = clock(), thread_time()
            try:
                return original_update(**values)
            finally:
                timing["update"] = (clock() - t, thread_time() - c)

        panel._update = timed_update
        try:
            for cname, w in panel.controls.items():
                crec = {"control": cname, "widget": type(w).__name__}
                values, why = _value_sequence(w, warmup + samples)
                if not values:
                    crec["skipped"] = why
                    rec["controls"].append(crec)
                    continue
                parts = {p: [] for p in PARTS}
                cpu_parts = {p: [] for p in PARTS}
                parts["total"], parts["cpu"], modes, sizes, errors = [], [], [], [], []
                for k, v in enumerate(values):
                    timing.clear()
                    frame.clear()
                    t0, c0 = clock(), thread_time()
                    try:
                        w.value = v
                    except Exception as e:  # a value the panel rejects: note it, keep going
                        errors.append(f"{v!r}: {type(e).__name__}: {e}")
                        continue
                    t1, c1 = clock(), thread_time()
                    if pushes:  # the frame was drawn and sent inside the value change
                        if "frame" not in frame:
                            continue
                        (fw, fc), (pw, pc), (sw, sc) = (frame.get(k, (0.0, 0.0)) for k in ("frame", "png", "send"))
                        draw, png, send = fw - pw - sw, pw, sw
                        cpus = (fc - pc - sc, pc, sc)
                        mode, size = canvas._current_image_mode, frame.get("size", 0)
                        inline, inline_cpu = fw, fc
                    else:
                        (draw, png, send), cpus, mode, size = render()
                        inline = inline_cpu = 0.0
                    cpu = thread_time() - c0
                    if "update" not in timing:  # no change event (value equal to the old one)
                        continue
                    if k < warmup:
                        continue
                    upd, upd_cpu = timing["update"]
                    for p, x in zip(PARTS, (upd, t1 - t0 - upd - inline, draw, png, send)):
                        parts[p].append(1000 * x)
                    for p, x in zip(PARTS, (upd_cpu, c1 - c0 - upd_cpu - inline_cpu) + cpus):
                        cpu_parts[p].append(1000 * x)
                    parts["total"].append(1000 * (t1 - t0 - inline + draw + png + send))
                    parts["cpu"].append(1000 * cpu)
                    modes.append(mode)
                    sizes.append(size)
                crec.update(ms=parts, cpu_ms=cpu_parts, modes=sorted(set(modes)), png_bytes=sizes,
                            values=[repr(v) for v in values[:6]] + (["..."] if len(values) > 6 else []))
                if errors:
                    crec["errors"] = errors[:5]
                rec["controls"].append(crec)
        finally:
            panel._update = original_update
            if pushes:
                del canvas.get_diff_image, canvas.send_binary, panel.draw_frame
            try:
                panel.reset()
            except Exception:
                pass
            if syncing is not None:
                canvas.syncing_data_url = syncing
        result["panels"].append(rec)
    if out_path:
        with open(out_path, "w", encoding="utf-8") as f:
            json.dump(result, f)
    return result


# --------------------------------------------------------------------------
# Driver side
# --------------------------------------------------------------------------


def _pct(xs, q):
    import numpy as np

    return float(np.percentile(np.asarray(xs, dtype=float), q)) if len(xs) else float("nan")


def run_notebook(path, samples, warmup, dpr, cell_timeout, startup_timeout):
    """Execute the notebook in a fresh kernel, then measure its panels there; returns a dict."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    uses_widget = any(c.cell_type == "code" and "%matplotlib widget" in c.source for c in nb.cells)
    if not uses_widget:  # the series always uses ipympl; measure what students get
        nb.cells.insert(0, nbformat.v4.new_code_cell("%matplotlib widget"))
    fd, out_path = tempfile.mkstemp(prefix="slider_latency_", suffix=".json")
    os.close(fd)
    code = (
        "import importlib.util as _slb_u\n"
        f"_slb_spec = _slb_u.spec_from_file_location('_slider_latency', {os.path.abspath(__file__)!r})\n"
        "_slb_mod = _slb_u.module_from_spec(_slb_spec); _slb_spec.loader.exec_module(_slb_mod)\n"
        f"_slb_mod.measure_in_kernel(get_ipython().user_ns, samples={samples}, warmup={warmup}, "
        f"device_pixel_ratio={dpr}, out_path={out_path!r})\n"
        "None"
    )
    bench = nbformat.v4.new_code_cell(code)
    nb.cells.append(bench)
    client = NotebookClient(nb, timeout=cell_timeout, startup_timeout=startup_timeout,
                            kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
    client.reset_execution_trackers()
    t0 = time.perf_counter()
    log = tempfile.TemporaryFile()  # the kernel's own stdout/stderr (its start-up warnings)
    try:
        with client.setup_kernel(stdout=log, stderr=log):
            for i, cell in enumerate(nb.cells[:-1]):
                if cell.cell_type == "code":
                    client.execute_cell(cell, i)
            t_run = time.perf_counter() - t0
            client.timeout = max(cell_timeout, 1800)
            client.execute_cell(bench, len(nb.cells) - 1)
        with open(out_path, encoding="utf-8") as f:
            result = json.load(f)
    except Exception as e:
        log.seek(0)
        tail = log.read().decode(errors="replace").strip().splitlines()[-5:]
        if tail:
            e.kernel_log = tail
        raise
    finally:
        log.close()
        try:
            os.remove(out_path)
        except OSError:
            pass
    result.update(notebook=os.path.basename(path), run_s=t_run, injected_widget=not uses_widget,
                  measure_s=time.perf_counter() - t0 - t_run)
    return result


def _short(text, n):
    return text if len(text) <= n else text[: n - 1] + "…"


def report(results, samples, warmup):
    rows = []
    for r in results:
        for p in r.get("panels", []):
            for c in p["controls"]:
                rows.append((r["notebook"], p, c))
    print()
    print(f"Slider latency, ms: value change -> update -> Agg draw -> PNG (ipympl get_diff_image) -> send"
          f"   ({warmup} warm-ups, then up to {samples} samples per control; goal p50 <= {GOAL_MS:g} ms)")
    head = (f"{'notebook':<26} {'panel':<34} {'control':<16} {'n':>3} {'p50':>7} {'p95':>7}  "
            f"{'cpu':>6}  {'update':>6} {'widget':>6} {'draw':>6} {'png':>6} {'send':>5}  {'frame':<9} {'KiB':>5}  goal")
    print(head)
    print("-" * len(head))
    for nbname, p, c in rows:
        base = f"{_short(nbname[:-6], 26):<26} {_short(p['title'], 34):<34} {_short(c['control'], 16):<16}"
        if "skipped" in c:
            print(f"{base}   - skipped: {c['skipped']}")
            continue
        ms = c["ms"]
        n = len(ms["total"])
        if not n:
            print(f"{base}   0 no samples (errors: {c.get('errors')})")
            continue
        p50 = _pct(ms["total"], 50)
        kib = _pct(c["png_bytes"], 50) / 1024
        print(f"{base} {n:>3} {p50:>7.1f} {_pct(ms['total'], 95):>7.1f} {_pct(ms['cpu'], 50):>6.1f}  "
              + " ".join(f"{_pct(ms[k], 50):>6.1f}" for k in PARTS[:4]) + f" {_pct(ms['send'], 50):>5.2f}  "
              + f"{'/'.join(c['modes']):<9} {kib:>5.0f}  {'ok' if p50 <= GOAL_MS else 'MISS'}")
        if c.get("errors"):
            print(f"{'':<78} rejected values: {c['errors'][:2]}")
    print("(p50/p95: wall time of the whole chain; cpu: median CPU time the kernel's thread spent on it"
          " -- wall > cpu means the kernel waited for a core;\n update/widget/draw/png/send: medians of each"
          " part (wall); frame: ipympl image mode; KiB: median PNG size)")

    # figures
    print()
    print("Figures of the panels:")
    for r in results:
        for p in r.get("panels", []):
            f = p.get("figure", {})
            print(f"  {r['notebook'][:-6]:<26} {_short(p['title'], 44):<44} {f.get('inches')} in @ "
                  f"{f.get('dpi'):g} dpi = {f.get('pixels', ['?', '?'])[0]}x{f.get('pixels', ['?', '?'])[1]} px, "
                  f"{f.get('axes')} axes, {f.get('visible_texts')} visible texts, {f.get('artists')} artists")

    # which artists the Agg render spends its time on
    classes = {}
    print()
    print("Agg render by artist class (exclusive CPU ms per full draw, timers around each class's draw,"
          " 8 draws; top 6):")
    for r in results:
        for p in r.get("panels", []):
            am = p.get("artist_ms", {})
            tot = sum(am.values()) or float("nan")
            top = sorted(am.items(), key=lambda kv: -kv[1])[:6]
            print(f"  {r['notebook'][:-6]:<26} {_short(p['title'], 34):<34} {tot:6.1f} ms: "
                  + ", ".join(f"{k} {v:.1f}" for k, v in top))
            for k, v in am.items():
                classes[k] = classes.get(k, 0.0) + v
    if classes:
        tot = sum(classes.values())
        print("  all panels: " + ", ".join(f"{k} {100 * v / tot:.0f}%" for k, v in
                                            sorted(classes.items(), key=lambda kv: -kv[1])[:8]))

    # where the time goes
    sums = {k: 0.0 for k in PARTS}
    cpu_sums = {k: 0.0 for k in PARTS}
    per_panel = []
    for nbname, p, c in rows:
        if "ms" not in c or not c["ms"]["total"]:
            continue
        for k in PARTS:
            sums[k] += sum(c["ms"][k])
            cpu_sums[k] += sum(c["cpu_ms"][k])
    for r in results:
        for p in r.get("panels", []):
            ctrls = [c for c in p["controls"] if "ms" in c]
            n = sum(len(c["ms"]["total"]) for c in ctrls)
            if n:
                wall = {k: sum(sum(c["ms"][k]) for c in ctrls) / n for k in PARTS}
                cpu = {k: sum(sum(c["cpu_ms"][k]) for c in ctrls) / n for k in PARTS}
                per_panel.append((r["notebook"][:-6], p["title"], n, wall, cpu))
    grand, cpu_grand = sum(sums.values()), sum(cpu_sums.values())
    print()
    if grand <= 0:
        print("No samples were taken (no panels found?).")
        return
    print("Where the time goes (share of all measured time, all panels and controls):")
    print(f"  {'part':<50} {'wall':>6} {'CPU':>6}")
    for k in sorted(PARTS, key=lambda k: -sums[k]):
        print(f"  {PART_NAMES[k]:<50} {100 * sums[k] / grand:5.1f}% {100 * cpu_sums[k] / cpu_grand:5.1f}%")
    top = max(PARTS, key=lambda k: cpu_sums[k])
    print(f"  -> dominant: {PART_NAMES[top]}")
    print()
    print("Mean ms per sample, by panel (wall | CPU of the kernel thread):")
    print(f"  {'notebook':<26} {'panel':<34} {'n':>4} " + " ".join(f"{k:>6}" for k in PARTS)
          + f" {'total':>6} | " + " ".join(f"{k:>6}" for k in PARTS) + f" {'total':>6}  dominant")
    for nbname, title, n, wall, cpu in per_panel:
        dom = max(PARTS, key=lambda k: cpu[k])
        print(f"  {nbname:<26} {_short(title, 34):<34} {n:>4} " + " ".join(f"{wall[k]:>6.1f}" for k in PARTS)
              + f" {sum(wall.values()):>6.1f} | " + " ".join(f"{cpu[k]:>6.1f}" for k in PARTS)
              + f" {sum(cpu.values()):>6.1f}  {dom}")
    totals = [x for _, _, c in rows if "ms" in c for x in c["ms"]["total"]]
    cpus = [x for _, _, c in rows if "ms" in c for x in c["ms"].get("cpu", [])]
    met = sum(1 for _, _, c in rows if "ms" in c and c["ms"]["total"] and _pct(c["ms"]["total"], 50) <= GOAL_MS)
    measured = sum(1 for _, _, c in rows if "ms" in c and c["ms"]["total"])
    print()
    print(f"Summary: {measured} controls measured, {met} meet p50 <= {GOAL_MS:g} ms; "
          f"all samples: p50 {_pct(totals, 50):.1f} ms, p95 {_pct(totals, 95):.1f} ms, max {max(totals):.1f} ms "
          f"(CPU p50 {_pct(cpus, 50):.1f} ms)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notebooks", nargs="+", default=None,
                    help="notebooks to measure (default: notebooks/[0-9][0-9]_*.ipynb)")
    ap.add_argument("--samples", type=int, default=30, help="timed value changes per control (default 30)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed value changes first (default 3)")
    ap.add_argument("--device-pixel-ratio", type=float, default=1.0,
                    help="emulate a browser with this devicePixelRatio (2 = HiDPI/Retina; default 1)")
    ap.add_argument("--cell-timeout", type=int, default=300, help="seconds per notebook cell (default 300)")
    ap.add_argument("--startup-timeout", type=int, default=120, help="seconds for a kernel to start")
    ap.add_argument("--json", help="also write the raw samples (ms) to this file")
    args = ap.parse_args(argv)
    if args.samples < 1 or args.warmup < 0:
        ap.error("--samples must be >= 1 and --warmup >= 0")

    paths = args.notebooks or sorted(glob.glob(os.path.join(ROOT, "notebooks", "[0-9][0-9]_*.ipynb")))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    print(f"Measuring {len(paths)} notebook(s): {', '.join(os.path.basename(p) for p in paths)}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, device pixel ratio {args.device_pixel_ratio:g}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results, failed = [], []
    for path in paths:
        name = os.path.basename(path)
        t0 = time.perf_counter()
        try:
            r = run_notebook(path, args.samples, args.warmup, args.device_pixel_ratio,
                             args.cell_timeout, args.startup_timeout)
        except Exception as e:  # report and go on with the other notebooks
            msg = [line for line in re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip().splitlines() if line.strip()]
            failed.append(name)
            print(f"  {name}: FAILED after {time.perf_counter() - t0:.1f} s: {type(e).__name__}: "
                  f"{' | '.join(msg[-4:]) if msg else ''}")
            if getattr(e, "kernel_log", None):
                print("    kernel log: " + "\n    kernel log: ".join(e.kernel_log))
            continue
        results.append(r)
        print(f"  {name}: ran in {r['run_s']:.1f} s, backend {r['backend']}, {len(r['panels'])} panel(s) "
              f"measured in {r['measure_s']:.1f} s"
              + ("  (no %matplotlib widget in the notebook: injected)" if r["injected_widget"] else ""))
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
          "  (other processes on the machine slow the wall times down)")
    report(results, args.samples, args.warmup)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"samples": args.samples, "warmup": args.warmup, "results": results}, f)
        print(f"raw samples written to {args.json}")
    if failed:
        print(f"FAILED to run: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
