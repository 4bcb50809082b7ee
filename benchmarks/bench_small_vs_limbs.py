"""The small jet (numerics.taylor.jet_small) against the limb jet on the same programs.

Both jets are forced (``jet_fast.prefers_limbs`` patched) on diagonal nets, depth-3 nets and
small linear nets around the limb threshold; whole integrations (T = 20), CPU time, best of 3.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_small_vs_limbs.py [dps]
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import bench_integrator as b  # noqa: E402
from numerics.taylor import integrator, jet_fast  # noqa: E402
from numerics.taylor.decompose import decompose  # noqa: E402

CASES = [("diag n=5", lambda: b.diag_flow(5)), ("diag n=6", lambda: b.diag_flow(6)),
         ("diag n=8", lambda: b.diag_flow(8)), ("diag n=10", lambda: b.diag_flow(10)),
         ("depth3 n=4", lambda: b.diag_flow(4, D=3)), ("depth3 n=6", lambda: b.diag_flow(6, D=3)),
         ("linear 2x2x2", lambda: b.linear_flow((2, 2, 2)))]


def timed(system, y0, dps, limbs: bool):
    """(best CPU seconds of 3, jet class name, steps) with the limb jet forced on or off."""
    orig = jet_fast.prefers_limbs
    integrator._JETS = integrator._LRU(64)
    jet_fast.prefers_limbs = lambda program: limbs
    try:
        integrator.integrate(system, y0, 20, dps=dps)
        kind = type(integrator.compile_system(system, dps=dps)[1]).__name__
        best = float("inf")
        for _ in range(3):
            c = time.process_time()
            tr = integrator.integrate(system, y0, 20, dps=dps)
            best = min(best, time.process_time() - c)
    finally:
        jet_fast.prefers_limbs = orig
    return best, kind, len(tr.orders)


def main():
    dps = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    print(f"load {os.getloadavg()[0]:.2f}", flush=True)
    for name, make in CASES:
        system, y0 = make()
        products = sum(1 for n in decompose(system).nodes if n.op in ("mul", "sq"))
        small, limbs = timed(system, y0, dps, False), timed(system, y0, dps, True)
        print(f"{name:14s} dps={dps} products={products:3d} small {small[0]:.3f}s [{small[1]}] "
              f"limbs {limbs[0]:.3f}s [{limbs[1]}] steps {small[2]}/{limbs[2]}  small/limbs "
              f"{small[0] / limbs[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
