"""Time theory.laws.lie.lie_count on deep linear nets (widths 1..5, depth 2..4).

Usage: python3 benchmarks/bench_lie.py [--backend auto|modular|flint|sympy] [--points N]
       [--quick | --worst] [--compare flint]
Prints architecture, D, laws, known (catalog formula), bracket layers, wall-clock and CPU seconds
(CPU time is the robust figure on a shared machine), and the maxima.

NARROW (in the default grid with the python-flint engines) are nets with a narrow end, which need 4-5
bracket layers: the slowest found with widths <= 5 and depth <= 4. ``--worst`` runs only the
search they were picked from: a x h1 x h2 x h3 x b for a, b in 1..5 and hidden widths 4 and 5
(150 nets).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from theory.catalog.linear import known_law_count, linear_net  # noqa: E402
from theory.laws.lie import lie_count  # noqa: E402

GRID = ([(d,) * (L + 1) for L in (2, 3, 4) for d in (2, 3, 4, 5)]
        + [(2, 3, 2, 2), (1, 5, 1), (3, 5, 2), (2, 4, 3, 5), (5, 2, 4, 1), (4, 3, 5, 2, 3),
           (1, 3, 3, 1), (1, 4, 4, 4, 1), (2, 5, 5, 2), (3, 1, 3), (2, 3, 3, 3, 1)])
# the slowest nets of the --worst search (five bracket layers; 1.4-3.5 s cpu with the fmpz
# jets, backend="flint") and two others
NARROW = [(2, 4, 4, 4, 1), (3, 5, 5, 5, 1), (2, 5, 5, 4, 1), (2, 5, 5, 5, 1), (1, 5, 5, 5, 2),
          (2, 4, 5, 5, 1), (2, 4, 5, 4, 1), (1, 4, 5, 4, 2), (2, 5, 4, 5, 1), (1, 5, 5, 5, 3),
          (2, 5, 5, 1), (2, 5, 5, 5, 2)]
QUICK = [w for w in GRID if len(w) * max(w) <= 16]
WORST = [(a, *h, b) for h in [(5, 5, 5), (4, 4, 4), (5, 4, 5), (4, 5, 4), (5, 5, 4), (4, 5, 5)]
         for a in range(1, 6) for b in range(1, 6)]


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--points", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--worst", action="store_true", help="the narrow-end search (150 nets)")
    ap.add_argument("--compare", default=None, metavar="BACKEND",
                    help="also time this backend (e.g. flint: the exact fmpz jets) and print "
                         "the cpu ratio BACKEND / --backend")
    args = ap.parse_args(argv)
    grid = QUICK if args.quick else WORST if args.worst else GRID + (
        NARROW if args.backend in ("auto", "modular", "flint") else [])  # (SymPy engines: minutes each)
    extra = f"{args.compare + ' cpu':>12}{'ratio':>7}" if args.compare else ""
    print(f"{'architecture':<18}{'D':>5}{'laws':>6}{'known':>7}{'depth':>7}{'seconds':>10}{'cpu':>8}"
          + extra)
    worst = worst_cpu = 0.0
    bad = 0
    slowest = None
    for w in grid:
        p = linear_net(w)
        t0, c0 = time.perf_counter(), time.process_time()
        c = lie_count(p, points=args.points, backend=args.backend)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if dc > worst_cpu:
            slowest = w
        worst, worst_cpu = max(worst, dt), max(worst_cpu, dc)
        flag = "" if c.laws == known_law_count(w) else "  MISMATCH"
        if args.compare:
            c1 = time.process_time()
            r = lie_count(p, points=args.points, backend=args.compare)
            d1 = time.process_time() - c1
            flag = f"{d1:>12.3f}{d1 / dc:>7.1f}" + flag
            if (r.laws, r.lie_dims) != (c.laws, c.lie_dims):
                flag += "  BACKENDS DISAGREE"
        bad += "MISMATCH" in flag or "DISAGREE" in flag
        print(f"{'x'.join(map(str, w)):<18}{c.dimension:>5}{c.laws:>6}{known_law_count(w):>7}"
              f"{c.bracket_depth:>7}{dt:>10.3f}{dc:>8.3f}{flag}")
    print(f"max time: {worst:.3f} s wall, {worst_cpu:.3f} s cpu (slowest by cpu: "
          f"{'x'.join(map(str, slowest))}); {bad} mismatches "
          f"(backend={args.backend}, points={args.points})")


if __name__ == "__main__":
    main()
