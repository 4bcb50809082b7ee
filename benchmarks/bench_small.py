"""Small systems against heyoka: the fair benchmark's rows for diagonal nets n = 2, 3, 5 (and
n = 10 as a check), depth 3 (n = 2) and a small linear net, 30 and 60 digits.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_small.py [--repeat 3] [--only "n=3 "]

Each row is ``bench_integrator.case`` (CPU medians of ``--repeat`` runs, heyoka interleaved, the
same bits); see docs/speed-small-systems.md.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import bench_integrator as b  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--dps", type=int, action="append", default=[])
    args = ap.parse_args()
    b.ARGS = argparse.Namespace(repeat=args.repeat, no_heyoka=False, only=args.only, odefun_cap=0)
    print(f"load {os.getloadavg()[0]:.2f}", flush=True)
    T = 20
    for dps in args.dps or [30]:
        for n in (2, 3, 5, 10):
            s, y = b.diag_flow(n)
            b.case(f"diag u^2-v^2 n={n}", s, y, T, dps)
        s, y = b.diag_flow(2, D=3)
        b.case("diag u^3-v^3 n=2", s, y, T, dps)
        s, y = b.linear_flow((2, 2, 2))
        b.case("deep linear 2x2x2", s, y, T, dps)


if __name__ == "__main__":
    main()
