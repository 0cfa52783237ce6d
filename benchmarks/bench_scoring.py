"""Benchmark: scoring and the pair catalogue at several round sizes.

Usage::

    .venv/bin/python benchmarks/bench_scoring.py                 # sizes 200x100, 2000x1000, 10000x5000
    .venv/bin/python benchmarks/bench_scoring.py --sizes 2000x1000 --top-k 100

Each size runs in its own process (so the peak memory is that size's alone): it
generates a round with :func:`matchmaker.generator.generate.generate_round`, loads it, and
reports

* the time to build the scoring context (bitmasks, TF-IDF),
* the time of the whole catalogue (rules + scores + pruning, blocks on ``--workers``
  threads) and the pairs it keeps with the K-best pruning (``--top-k``; 0 uses the
  settings' ``max_pairs`` rule), and the peak memory after it,
* the time of the rules alone (``constraints.eligible_block``), then of scoring alone
  over every eligible pair held in memory, on one thread (wall and CPU seconds) and on
  ``--workers`` threads, as pairs scored per second,
* the peak resident memory of the process (``ru_maxrss``).

Other processes share the machine: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

DEFAULT_SIZES = ("200x100", "2000x1000", "10000x5000")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _timed(fn, *args):
    """(result, wall seconds, CPU seconds of the process, all threads)."""
    t, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - t, time.process_time() - c


def run_one(n_visitors: int, n_hosts: int, top_k: int, seed: int, workers: int) -> dict:
    """Measure one size in this process; returns the figures."""
    from matchmaker.constraints import eligible_block
    from matchmaker.generator.generate import generate_round
    from matchmaker.inputs.loading import load_round
    from matchmaker.pairs import catalogue
    from matchmaker.scoring import ScoringContext, score_pairs

    r = {"size": f"{n_visitors}x{n_hosts}", "possible_pairs": n_visitors * n_hosts, "workers": workers}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        generate_round(Path(tmp) / "round", n_visitors=n_visitors, n_hosts=n_hosts, seed=seed)
        rnd = load_round(Path(tmp) / "round")
        r["load_s"] = time.perf_counter() - t
    rnd.settings["scoring"]["options"]["top_k"] = top_k
    r["peak_mb_loaded"] = _peak_mb()

    ctx, r["context_s"], _ = _timed(ScoringContext.build, rnd)

    # 1. The whole catalogue: rules + scores + pruning, blocks on `workers` threads.
    cat, r["catalogue_s"], r["catalogue_cpu_s"] = _timed(
        lambda: catalogue.build_catalogue(rnd, context=ctx, workers=workers))
    r.update(kept_pairs=cat.n_kept, top_k=cat.top_k, top_k_source=cat.top_k_source,
             pruned_top_k=cat.n_pruned_top_k, eligible_pairs=cat.n_eligible)
    r["peak_mb_catalogue"] = _peak_mb()
    del cat

    # 2. Scoring alone: hold every eligible pair, then score them (1 thread, then `workers`).
    step = max(1, catalogue.BLOCK_CELLS // max(rnd.n_hosts, 1))
    starts = range(0, rnd.n_visitors, step)
    blocks, r["rules_s"], _ = _timed(
        lambda: [eligible_block(rnd, np.arange(a, min(a + step, rnd.n_visitors))) for a in starts])
    _, r["scoring_s"], r["scoring_cpu_s"] = _timed(lambda: [score_pairs(rnd, b, ctx)["score"].sum() for b in blocks])
    with ThreadPoolExecutor(max_workers=workers) as pool:
        _, r["scoring_threads_s"], _ = _timed(
            lambda: list(pool.map(lambda b: score_pairs(rnd, b, ctx)["score"].sum(), blocks)))
    r["pairs_per_s"] = r["eligible_pairs"] / r["scoring_s"]
    r["pairs_per_s_threads"] = r["eligible_pairs"] / r["scoring_threads_s"]
    r["peak_mb"] = _peak_mb()
    return r


def _report(r: dict) -> str:
    k = f"K = {r['top_k']} ({r['top_k_source']})" if r["top_k"] else "no K-best pruning"
    return "\n".join([
        f"{r['size']}: {r['eligible_pairs']:,} eligible of {r['possible_pairs']:,} pairs "
        f"(generate + load {r['load_s']:.1f} s, scoring context {r['context_s']:.2f} s)",
        f"  scoring alone, 1 thread:  {r['scoring_s']:6.2f} s wall ({r['scoring_cpu_s']:.2f} s CPU) "
        f"= {r['pairs_per_s'] / 1e6:.2f} M pairs/s",
        f"  scoring alone, {r['workers']} threads: {r['scoring_threads_s']:6.2f} s wall "
        f"= {r['pairs_per_s_threads'] / 1e6:.2f} M pairs/s",
        f"  rules alone (constraints.eligible_block), 1 thread: {r['rules_s']:.2f} s",
        f"  whole catalogue (rules + scores + pruning), {r['workers']} threads: {r['catalogue_s']:.2f} s wall "
        f"({r['catalogue_cpu_s']:.2f} s CPU); kept {r['kept_pairs']:,} pairs, {k}, dropped "
        f"{r['pruned_top_k']:,}",
        f"  peak memory: {r['peak_mb_catalogue']:.0f} MB after the catalogue "
        f"({r['peak_mb_loaded']:.0f} MB after loading); {r['peak_mb']:.0f} MB holding every eligible pair",
    ])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", default=list(DEFAULT_SIZES), help="VISITORSxHOSTS")
    p.add_argument("--top-k", type=int, default=0, help="scoring.options.top_k for the catalogue (0: settings rule)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="threads for the catalogue and threaded scoring")
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        nv, nh = (int(x) for x in args.one.split("x"))
        print(json.dumps(run_one(nv, nh, args.top_k, args.seed, args.workers)))
        return 0
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared with other processes)")
    for size in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", size, "--top-k", str(args.top_k),
                              "--seed", str(args.seed), "--workers", str(args.workers)], capture_output=True, text=True)
        if out.returncode:
            print(f"{size}: failed\n{out.stderr}", file=sys.stderr)
            return 1
        print(_report(json.loads(out.stdout.strip().splitlines()[-1])), flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
