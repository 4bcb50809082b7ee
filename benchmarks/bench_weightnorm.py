"""Cold-cache ``derive`` time of the weight-normalization models (issue 13: under 10 s at n <= 3).

Each model runs in a fresh process with the derivation cache off (``IBCHECK_CACHE=off``), so
neither the on-disk cache nor SymPy's in-process caches carry over from another model. Prints
one line per model: total wall seconds, CPU seconds of the process (steadier on a shared machine)
and the wall split (law count, laws, mirror). A script, not a test.

    python benchmarks/bench_weightnorm.py [--n 1 2 3] [--only weightnorm-L3]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CASES = {
    "weightnorm-L2": "W.signed(2, {n})",
    "weightnorm-L3": "W.signed(3, {n})",
    "weightnorm-nonneg": "W.nonneg(2, {n})",
    "weightnorm-nonneg-L3": "W.nonneg(3, {n})",
    "weightnorm-separate": "W.separate(2, {n})",
    "weightnorm-exp": "W.exponential({n})",
}

CHILD = """
import json, time
from theory.catalog import weightnorm as W
from theory.derive import derive
p = {build}
t, c = time.perf_counter(), time.process_time()
d = derive(p, use_cache=False)
print(json.dumps({{"seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "timings": d.timings,
                  "notes": list(d.notes)}}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "IBCHECK_CACHE": "off", "PYTHONPATH": root, "OPENBLAS_NUM_THREADS": "1"}
    print(f"{'model':24s} {'n':>2s} {'total':>7s} {'cpu':>7s} {'count':>7s} {'laws':>7s} {'mirror':>7s}  notes")
    worst = 0.0
    for name, build in CASES.items():
        if args.only and name not in args.only:
            continue
        for n in args.n:
            out = subprocess.run([sys.executable, "-c", CHILD.format(build=build.format(n=n))],
                                 capture_output=True, text=True, env=env, cwd=root)
            if out.returncode:
                print(f"{name:24s} {n:2d}  failed: {out.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            t = r["timings"]
            worst = max(worst, r["seconds"])
            print(f"{name:24s} {n:2d} {r['seconds']:7.2f} {r['cpu']:7.2f} {t.get('law count', 0):7.2f} "
                  f"{t.get('laws', 0):7.2f} {t.get('mirror', 0):7.2f}  {'; '.join(r['notes'])[:70]}", flush=True)
    print(f"slowest: {worst:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
