#!/usr/bin/env python
"""Classroom load: N students press "Run All" on the same notebook at the same moment.

Starts N Jupyter kernels at once on this machine (localhost only; one process
per kernel, driven concurrently by nbclient from one asyncio loop), each
executing the same notebook top to bottom, as a class on one JupyterHub would.
Reports:

  * successes / N (every cell ran without an error inside the time limits),
  * wall time for all N, from the first launch to the last notebook finished,
  * per kernel: start-up time (launch -> kernel ready), execution time (first
    cell -> last cell), p50 and max,
  * peak RSS per kernel in MiB: VmHWM ("high water mark") of the kernel's
    process from /proc/<pid>/status, read when its last cell has finished,
    before it is shut down; p50 and max,
  * private memory per kernel (Private_Clean + Private_Dirty of
    /proc/<pid>/smaps_rollup at the end): RSS counts shared libraries in every
    kernel, private memory is what one more student really adds,
  * the peak of the sum of all kernels' RSS (sampled every 0.25 s), and the
    largest drop of the machine's MemAvailable during the run: what the
    machine must hold while the class runs.

Usage (from the repository root, with the series' virtualenv):

    python benchmarks/classroom_load.py                       # 30 kernels, notebook 01
    python benchmarks/classroom_load.py --kernels 5 --notebook notebooks/00_start_here.ipynb
    python benchmarks/classroom_load.py --timeout 1800 --json /tmp/load.json

The default notebook is notebooks/01_word_embeddings.ipynb; while it does not
exist yet, the script uses notebooks/00_start_here.ipynb and says so.
Goals: N/N succeed; peak RSS per kernel <= 170 MiB.

Every kernel is shut down at the end, also on errors, timeouts and Ctrl-C: by
nbclient first, then any kernel process this script started that is still
alive is killed by its pid. Exit status 0 when all N succeeded, 1 otherwise
(a missed memory goal is reported, not an error: this is a measurement).
Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_NOTEBOOK = os.path.join(ROOT, "notebooks", "01_word_embeddings.ipynb")
FALLBACK_NOTEBOOK = os.path.join(ROOT, "notebooks", "00_start_here.ipynb")
RSS_GOAL_MIB = 170.0


def proc_status(pid):
    """{'VmHWM': kB, 'VmRSS': kB, ...} of a live process, or {} when it is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmHWM", "VmRSS", "State"):
                    parts = rest.split()
                    out[key] = int(parts[0]) if key != "State" and parts else rest.strip()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return {}
    return out


def proc_smaps_rollup(pid):
    """{'Pss': kB, 'Private_Clean': kB, 'Private_Dirty': kB, ...} of a live process, or {}."""
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, rest = line.partition(":")
                parts = rest.split()
                if parts and parts[0].isdigit():
                    out[key] = int(parts[0])
    except OSError:
        return {}
    return out


def mem_available_kib():
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Run:
    """One kernel executing the notebook: its client, pid and measurements."""

    def __init__(self, index, nb, nb_dir, args, log_dir):
        self.index = index
        self.source_nb, self.nb_dir, self.args = nb, nb_dir, args
        self.log_path = os.path.join(log_dir, f"kernel_{index:02d}.log")
        self.launches = 0  # > 1 when a kernel died while starting and was launched again
        self.launch_errors = []
        self.pids = []  # every kernel process started for this run (for the final clean-up)
        self.t_launch = None
        self.new_client()

    def new_client(self):
        from nbclient import NotebookClient

        self.nb = copy.deepcopy(self.source_nb)
        self.client = NotebookClient(self.nb, timeout=self.args.cell_timeout,
                                     startup_timeout=self.args.startup_timeout, kernel_name="python3",
                                     resources={"metadata": {"path": self.nb_dir}})
        self.pid = None
        self.connection_file = None
        self.ok = False
        self.error = ""
        self.cells_done = 0
        self.t_ready = self.t_done = None
        self.hwm_kib = None  # VmHWM at the end of execution
        self.private_kib = None  # private (not shared with other kernels) memory at the end
        self.pss_kib = None  # proportional set size at the end (shared pages split between sharers)
        self.rss_max_kib = 0  # largest VmRSS seen by the sampler

    def note_pid(self):
        """Remember the kernel's pid (and connection file) as soon as the process exists."""
        if self.pid is None:
            km = self.client.km
            prov = getattr(km, "provisioner", None) if km is not None else None
            pid = getattr(prov, "pid", None) if prov is not None else None
            if pid:
                self.pid = pid
                self.connection_file = getattr(km, "connection_file", None)
                self.pids.append((pid, self.connection_file))
        return self.pid

    async def execute(self):
        """Launch (again, with new random ports, if the kernel dies while starting), then run."""
        self.t_launch = time.perf_counter()
        while True:
            self.launches += 1
            await self.execute_once()
            if self.ok or self.t_ready is not None or self.launches > self.args.launch_retries:
                return
            # Died before it was ready (e.g. "Address already in use": another process took
            # one of its random ports between choice and bind). Jupyter Server's restarter
            # relaunches such a kernel on new random ports; do the same.
            self.launch_errors.append(self.error)
            self.error = ""
            self.new_client()

    async def execute_once(self):
        with open(self.log_path, "ab") as log:
            try:
                async with self.client.async_setup_kernel(stdout=log, stderr=log):
                    self.t_ready = time.perf_counter()
                    self.note_pid()
                    for i, cell in enumerate(self.nb.cells):
                        if cell.cell_type == "code":
                            await self.client.async_execute_cell(cell, i)
                            self.cells_done += 1
                    self.t_done = time.perf_counter()
                    self.read_hwm()
                    self.ok = True
            except asyncio.CancelledError:
                self.error = "cancelled (overall --timeout reached)"
                self.read_hwm()
                raise
            except Exception as e:  # a cell error, a timeout, a dead kernel
                lines = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip().splitlines()  # no colour codes
                self.error = f"{type(e).__name__}: " + " | ".join(line for line in lines[-4:] if line.strip())
                self.note_pid()
                self.read_hwm()
            finally:
                # nbclient leaves an atexit clean-up registered when the start fails; it is done
                import atexit

                atexit.unregister(self.client._cleanup_kernel)

    def read_hwm(self):
        if self.pid and self.hwm_kib is None:
            st = proc_status(self.pid)
            if st.get("VmHWM"):
                self.hwm_kib = st["VmHWM"]
                sm = proc_smaps_rollup(self.pid)
                if sm:
                    self.private_kib = sm.get("Private_Clean", 0) + sm.get("Private_Dirty", 0)
                    self.pss_kib = sm.get("Pss")


def percentile(xs, q):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


async def sample_memory(runs, stop, peak):
    """Every 0.25 s: each kernel's VmRSS; the peak of their sum goes into peak['sum_kib']."""
    while not stop.is_set():
        total = 0
        for r in runs:
            pid = r.note_pid()
            if pid:
                rss = proc_status(pid).get("VmRSS", 0)
                r.rss_max_kib = max(r.rss_max_kib, rss)
                total += rss
        if total > peak["sum_kib"]:
            peak["sum_kib"], peak["at_s"] = total, time.perf_counter() - peak["t0"]
        avail = mem_available_kib()
        if avail is not None:
            peak["min_avail_kib"] = min(peak.get("min_avail_kib", avail), avail)
        try:
            await asyncio.wait_for(stop.wait(), 0.25)
        except asyncio.TimeoutError:
            pass


async def run_all(runs, args):
    stop = asyncio.Event()
    peak = {"sum_kib": 0, "at_s": 0.0, "t0": time.perf_counter(), "avail0_kib": mem_available_kib()}
    sampler = asyncio.create_task(sample_memory(runs, stop, peak))

    async def one(r):
        if args.stagger:
            await asyncio.sleep(r.index * args.stagger)
        await r.execute()

    tasks = [asyncio.create_task(one(r)) for r in runs]
    timed_out = False
    try:
        done, pending = await asyncio.wait(tasks, timeout=args.timeout)
        if pending:
            timed_out = True
            for t in pending:
                t.cancel()
            # let nbclient shut those kernels down (bounded)
            await asyncio.wait(pending, timeout=60)
            for r, t in zip(runs, tasks):
                if t in pending:
                    r.ok = False
                    r.error = f"stopped: overall --timeout {args.timeout:g} s reached ({r.error or 'running'})"
    finally:
        stop.set()
        await sampler
    return peak, timed_out


def kill_leftovers(runs):
    """Kill, by pid, every kernel process this script started that is still alive."""
    killed = []
    for pid, connection_file in [p for r in runs for p in r.pids]:
        if not pid or not proc_status(pid):
            continue
        cmd = proc_cmdline(pid)
        # make sure the pid still belongs to our kernel (pids can be reused)
        if "ipykernel" not in cmd or (connection_file and connection_file not in cmd):
            continue
        if proc_status(pid).get("State", "").startswith("Z"):
            continue  # a zombie: already dead, waiting to be reaped
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            pass
    return killed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", type=int, default=30, help="kernels started at once (default 30)")
    ap.add_argument("--notebook", default=None,
                    help="notebook to run (default notebooks/01_word_embeddings.ipynb, "
                         "or 00_start_here.ipynb while 01 does not exist)")
    ap.add_argument("--cell-timeout", type=int, default=600, help="seconds per cell (default 600)")
    ap.add_argument("--startup-timeout", type=int, default=600,
                    help="seconds for a kernel to become ready (default 600; 30 kernels on 2 cores start slowly)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds for the whole run (default 1800)")
    ap.add_argument("--stagger", type=float, default=0.0,
                    help="seconds between kernel launches (default 0: all at once)")
    ap.add_argument("--launch-retries", type=int, default=2,
                    help="relaunch a kernel that dies before it is ready, up to this many times, on new "
                         "random ports, as Jupyter Server's restarter does (default 2; 0 = never)")
    ap.add_argument("--json", help="also write the per-kernel results to this file")
    ap.add_argument("--keep-logs", action="store_true", help="keep the kernels' stdout/stderr logs")
    args = ap.parse_args(argv)
    if args.kernels < 1:
        ap.error("--kernels must be >= 1")

    import nbformat

    path = args.notebook
    note = ""
    if path is None:
        path = DEFAULT_NOTEBOOK
        if not os.path.exists(path):
            path = FALLBACK_NOTEBOOK
            note = (f" ({os.path.relpath(DEFAULT_NOTEBOOK, ROOT)} does not exist yet: "
                    f"using {os.path.relpath(FALLBACK_NOTEBOOK, ROOT)})")
    if not os.path.exists(path):
        print(f"no such notebook: {path}", file=sys.stderr)
        return 1
    nb = nbformat.read(path, as_version=4)
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    nb_dir = os.path.dirname(os.path.abspath(path))
    log_dir = tempfile.mkdtemp(prefix="classroom_load_")
    print(f"Classroom load: {args.kernels} kernels at once, each running {os.path.basename(path)} "
          f"({n_code} code cells) top to bottom{note}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    runs = [Run(i, nb, nb_dir, args, log_dir) for i in range(args.kernels)]
    t0 = time.perf_counter()
    peak, timed_out = {"sum_kib": 0, "at_s": 0.0}, False
    try:
        peak, timed_out = asyncio.run(run_all(runs, args))
    except KeyboardInterrupt:
        print("interrupted: shutting the kernels down")
    finally:
        wall = time.perf_counter() - t0
        time.sleep(0.5)
        killed = kill_leftovers(runs)
        if killed:
            time.sleep(0.5)
            print(f"killed {len(killed)} kernel process(es) that were still alive: {killed}")

    # -- report
    print()
    head = (f"{'kernel':>6} {'pid':>8} {'ok':>4} {'launches':>8} {'cells':>7} {'startup s':>10} {'exec s':>8} "
            f"{'peak RSS MiB':>13} {'private MiB':>12} {'PSS MiB':>8}  error")
    print(head)
    print("-" * len(head))
    for r in runs:
        startup = (r.t_ready - r.t_launch) if r.t_ready and r.t_launch else None
        exe = (r.t_done - r.t_ready) if r.t_done and r.t_ready else None
        hwm = r.hwm_kib / 1024 if r.hwm_kib else None
        print(f"{r.index:>6} {r.pid or '-':>8} {'yes' if r.ok else 'NO':>4} {r.launches:>8} "
              f"{r.cells_done:>3}/{n_code:<3} "
              f"{startup if startup is not None else float('nan'):>10.1f} "
              f"{exe if exe is not None else float('nan'):>8.1f} "
              f"{hwm if hwm is not None else float('nan'):>13.1f} "
              f"{r.private_kib / 1024 if r.private_kib else float('nan'):>12.1f} "
              f"{r.pss_kib / 1024 if r.pss_kib else float('nan'):>8.1f}  {r.error[:110]}")
    ok = [r for r in runs if r.ok]
    startups = [r.t_ready - r.t_launch for r in runs if r.t_ready]
    execs = [r.t_done - r.t_ready for r in ok]
    totals = [r.t_done - r.t_launch for r in ok]
    hwms = [r.hwm_kib / 1024 for r in runs if r.hwm_kib]
    print()
    print(f"successes:            {len(ok)}/{len(runs)}" + ("   (overall --timeout reached)" if timed_out else ""))
    relaunched = [r for r in runs if r.launches > 1]
    if relaunched:
        print(f"relaunched kernels:   {len(relaunched)} died while starting and were launched again: "
              + "; ".join(f"kernel {r.index}: {r.launch_errors[0][:90]}" for r in relaunched[:3]))
    print(f"wall time for all:    {wall:.1f} s")
    print(f"kernel start-up:      p50 {percentile(startups, 50):.1f} s, max {max(startups, default=float('nan')):.1f} s")
    print(f"execution per kernel: p50 {percentile(execs, 50):.1f} s, max {max(execs, default=float('nan')):.1f} s"
          f"   (start-up + execution: p50 {percentile(totals, 50):.1f} s, max {max(totals, default=float('nan')):.1f} s)")
    print(f"peak RSS per kernel:  p50 {percentile(hwms, 50):.1f} MiB, max {max(hwms, default=float('nan')):.1f} MiB"
          f"   (goal <= {RSS_GOAL_MIB:g} MiB: "
          f"{sum(h <= RSS_GOAL_MIB for h in hwms)}/{len(runs)} kernels within it)")
    privs = [r.private_kib / 1024 for r in runs if r.private_kib]
    print(f"private memory:       p50 {percentile(privs, 50):.1f} MiB, max {max(privs, default=float('nan')):.1f} MiB"
          "   (at the end, not shared with other kernels: what each extra student really costs)")
    print(f"sum of kernels' RSS:  peak {peak['sum_kib'] / 1024:.0f} MiB at {peak['at_s']:.1f} s")
    if peak.get("avail0_kib") and peak.get("min_avail_kib"):
        print(f"machine memory used:  {(peak['avail0_kib'] - peak['min_avail_kib']) / 1024:.0f} MiB at most "
              "(drop of MemAvailable during the run; other processes on the machine count too)")
    print(f"load average after:   {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    mem_ok = len(hwms) == len(runs) and max(hwms) <= RSS_GOAL_MIB
    print()
    print(f"SUMMARY: {len(ok)}/{len(runs)} succeeded running {os.path.basename(path)}; wall {wall:.1f} s; "
          f"exec p50 {percentile(execs, 50):.1f} s / max {max(execs, default=float('nan')):.1f} s; "
          f"peak RSS p50 {percentile(hwms, 50):.0f} / max {max(hwms, default=float('nan')):.0f} MiB; "
          f"goals: success {'met' if len(ok) == len(runs) else 'MISSED'}, "
          f"RSS <= {RSS_GOAL_MIB:g} MiB {'met' if mem_ok else 'MISSED'}")

    failed = [r for r in runs if not r.ok]
    for r in failed[:3]:  # the end of a failed kernel's own log helps
        try:
            with open(r.log_path, encoding="utf-8", errors="replace") as f:
                tail = f.read().strip().splitlines()[-5:]
        except OSError:
            tail = []
        if tail:
            print(f"kernel {r.index} log (last lines):\n  " + "\n  ".join(tail))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"notebook": os.path.basename(path), "kernels": len(runs), "wall_s": wall,
                       "mem_available_drop_mib": ((peak["avail0_kib"] - peak["min_avail_kib"]) / 1024
                                                  if peak.get("avail0_kib") and peak.get("min_avail_kib") else None),
                       "sum_rss_peak_mib": peak["sum_kib"] / 1024,
                       "runs": [{"index": r.index, "ok": r.ok, "error": r.error, "pid": r.pid,
                                 "launches": r.launches, "launch_errors": r.launch_errors,
                                 "startup_s": (r.t_ready - r.t_launch) if r.t_ready else None,
                                 "exec_s": (r.t_done - r.t_ready) if r.t_done else None,
                                 "peak_rss_mib": r.hwm_kib / 1024 if r.hwm_kib else None,
                                 "private_mib": r.private_kib / 1024 if r.private_kib else None,
                                 "pss_mib": r.pss_kib / 1024 if r.pss_kib else None,
                                 "max_sampled_rss_mib": r.rss_max_kib / 1024} for r in runs]}, f, indent=1)
        print(f"per-kernel results written to {args.json}")
    if args.keep_logs:
        print(f"kernel logs kept in {log_dir}")
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    return 0 if len(ok) == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
