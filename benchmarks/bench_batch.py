"""Batched flows vs single runs: 16 property flows of one program (same data X, different
initial scales), integrated one by one with ``integrate`` and together with ``integrate_batch``.

Prints (never asserts) CPU seconds of both, the ratio batch / singles, and whether every
trajectory is identical digit for digit to a single run with the batch's backend (it must be:
exact fixed point, per-flow steps; under "fast" a batch of 4 flows or more runs on the limb jet,
``numerics.taylor.jet_fast.batch_backend``, while the single runs timed use the program's own
jet, the best one for one flow). Single and batched runs alternate, medians of ``--repeat``.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_batch.py    # n = 3 (property tests), 10, 20; 30 digits
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_batch.py --n 50 --dps 60 --flows 16
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import mpmath  # noqa: E402
import sympy as sp  # noqa: E402

from numerics.flows import gradient_flow  # noqa: E402
from numerics.problems import random_problem  # noqa: E402
from numerics.taylor.batch import integrate_batch  # noqa: E402
from numerics.taylor.integrator import _program, compile_system, integrate  # noqa: E402
from numerics.taylor.jet_fast import batch_backend  # noqa: E402
from theory.catalog import diagonal  # noqa: E402


def flows(n, count, seed=1):
    """``count`` diagonal-net flows on one problem, initial scale alpha = (j + 4)/40."""
    p = diagonal.quadratic(n)
    pr = random_problem(n, max(1, n // 2), seed=seed)
    out = [gradient_flow(p, pr.X, pr.y, values={"alpha": sp.Rational(j + 4, 40)}, duals=False)
           for j in range(count)]
    return out[0].system, [f.y0 for f in out]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, action="append")
    ap.add_argument("--dps", type=int, default=30)
    ap.add_argument("--flows", type=int, default=16)
    ap.add_argument("--T", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    print(f"cpu count {os.cpu_count()}; load {os.getloadavg()[0]:.2f}; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    for n in a.n or [3, 10, 20]:
        system, y0s = flows(n, a.flows)
        jet = type(compile_system(system, dps=a.dps)[1]).__name__
        bk = batch_backend(_program(system), len(y0s))
        singles, batches = [], []
        for _ in range(a.repeat):
            c0 = time.process_time()
            one = [integrate(system, y0, a.T, dps=a.dps) for y0 in y0s]
            singles.append(time.process_time() - c0)
            c0 = time.process_time()
            many = integrate_batch(system, y0s, a.T, dps=a.dps)
            batches.append(time.process_time() - c0)
        twins = one if bk == "fast" else [integrate(system, y0, a.T, dps=a.dps, backend=bk) for y0 in y0s]
        same = all(p.times == q.times and p.final == q.final and p.orders == q.orders for p, q in zip(twins, many))
        with mpmath.workdps(a.dps + 20):
            dev = max(abs(p - q) for s1, b1 in zip(one, many) for p, q in zip(s1.final, b1.final))
        ts, tb = statistics.median(singles), statistics.median(batches)
        steps = sum(len(t.orders) for t in one)
        print(f"diag n={n:<3} dps={a.dps} flows={a.flows} singles [{jet}] batch [{bk}] steps={steps}: "
              f"{a.flows} single runs {ts:.3f}s cpu, one batch {tb:.3f}s cpu, ratio batch/singles={tb / ts:.2f}; "
              f"identical to single runs on [{bk}]: {same}; largest deviation from the timed single runs "
              f"{mpmath.nstr(dev, 3)}", flush=True)


if __name__ == "__main__":
    main()
