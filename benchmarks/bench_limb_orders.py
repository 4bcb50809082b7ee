"""Cost per Taylor order of the limb jet: the buffered loop against the flat loop, one process.

Captures the jet requests of a real integration (the benchmark's diagonal flows, T = 20), then
answers every sixth of them with ``jet_limbs.BUFFERED`` off (the flat loop, ``_orders``) and on
(``_orders_buffered``), alternating, medians of 3 (CPU time), and checks that both give the same
limbs.  Prints (never asserts).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_limb_orders.py
"""
from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

import bench_integrator as b  # noqa: E402
from numerics.taylor import jet_limbs  # noqa: E402
from numerics.taylor.integrator import compile_system, integrate  # noqa: E402


def requests(n, D=2, dps=30, T=20):
    """(jet, the (t, y, K, hint) requests of one integration with the limb backend)."""
    system, y0 = b.diag_flow(n, D)
    _, jet = compile_system(system, dps=dps, backend="limbs")
    reqs = []
    orig = jet_limbs.LimbJet.batch

    def record(self, r):
        reqs.extend(r)
        return orig(self, r)

    jet_limbs.LimbJet.batch = record
    try:
        integrate(system, y0, T, dps=dps, backend="limbs")
    finally:
        jet_limbs.LimbJet.batch = orig
    return jet, reqs


def main():
    print(f"cpu count {os.cpu_count()}; load {os.getloadavg()[0]:.2f}")
    for n, D, dps in [(10, 2, 30), (20, 2, 30), (10, 3, 30), (50, 2, 30), (10, 2, 60)]:
        jet, reqs = requests(n, D, dps)
        sub = reqs[::6]
        orders = sum(r[2] for r in sub)
        times, outs = {False: [], True: []}, {}
        for _ in range(3):
            for flag in (False, True):
                jet_limbs.BUFFERED = flag
                c = time.process_time()
                outs[flag] = [jet.batch([r])[0] for r in sub]
                times[flag].append(time.process_time() - c)
        jet_limbs.BUFFERED = True
        same = all(np.array_equal(p.C, q.C) if hasattr(p, "C") else type(p) is type(q)
                   for p, q in zip(outs[True], outs[False]))
        tf, tb = statistics.median(times[False]), statistics.median(times[True])
        print(f"diag{'' if D == 2 else ' depth 3'} n={n} dps={dps}: flat {tf / orders * 1e6:.1f} us/order, "
              f"buffered {tb / orders * 1e6:.1f} us/order, ratio {tb / tf:.2f}, identical limbs {same}", flush=True)


if __name__ == "__main__":
    main()
