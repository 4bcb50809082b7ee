"""CPU time of a cold serial ``check`` per catalog entry, split into derivation, literature
verification and numeric confirmation (issue 15; docs/speed-symbolic-rules.md).

    IBCHECK_CACHE=$(mktemp -d) PYTHONPATH=. python benchmarks/per_entry_cpu.py [NAME ...]

One process runs the entries in catalog order (as ``check --all --jobs 1`` does: the memo tables
of ``theory.memo`` are shared between entries). Times are ``time.process_time`` (user + sys of
this process); function-space entries have no separate derive/verify/confirm split.
"""
from __future__ import annotations

import collections
import sys
import time


def main(names) -> None:
    import theory
    import numerics.confirm as nc
    from numerics import cli
    from theory.catalog import CATALOG

    acc = collections.defaultdict(float)

    def timed(mod, name, key):
        f = getattr(mod, name)

        def g(*a, **k):
            t0 = time.process_time()
            try:
                return f(*a, **k)
            finally:
                acc[key] += time.process_time() - t0
        setattr(mod, name, g)

    timed(theory, "derive", "derive")
    timed(theory, "verify", "verify")
    timed(nc, "confirm", "confirm")
    total = 0.0
    for name in names or list(CATALOG):
        acc.clear()
        t0 = time.process_time()
        cli._check_records(name, dps=30, seed=2024, sets={}, backend="fast", regimes=True,
                           progress=cli._silent, keep_going=True)
        dt = time.process_time() - t0
        total += dt
        print(f"{name:28s} {dt:6.2f}  derive {acc['derive']:5.2f} verify {acc['verify']:5.2f} "
              f"confirm {acc['confirm']:5.2f}", flush=True)
    print(f"TOTAL {total:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
