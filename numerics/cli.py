r"""The ``ibcheck`` command: ``list``, ``derive``, ``check`` (on top of ``theory`` and ``numerics``).

``ibcheck check --all`` is the main job: derive every catalog entry, verify the papers' own
claims symbolically, and confirm everything numerically on a small random least-squares problem
(fixed seed, 30 digits). Exit status 1 if any claim fails, 2 on bad input.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import functools
import json
import os
import sys
import time

import sympy as sp

from theory.errors import IbcheckError

DEFAULT_DPS = 30
DEFAULT_SEED = 2024


def _err(msg: str) -> None:
    print(f"ibcheck: {msg}", file=sys.stderr)


def _resolve(target: str):
    """A catalog entry name or a spec file path -> (parameterization, literature claims, values)."""
    from theory.catalog import CATALOG

    if target in CATALOG:
        e = CATALOG[target]
        return e.parameterization(), tuple(e.literature()), dict(e.values)
    if os.path.exists(target):
        from theory.spec import load_spec
        return load_spec(target), (), {}
    raise IbcheckError(f"{target!r} is neither a catalog entry ({', '.join(CATALOG)}) nor a spec file")


def _default_values(p, given: dict) -> dict:
    """Constants without a value get 1/2 (positive) or 1/3 (other), said in the output."""
    vals = dict(given)
    for c in p.constants:
        if c.name not in vals:
            vals[c.name] = "1/2" if c.is_positive else "1/3"
    return vals


def _parse_sets(items) -> dict:
    out = {}
    for it in items or ():
        if "=" not in it:
            raise IbcheckError(f"--set expects NAME=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


# ---- list ------------------------------------------------------------------------------------------
def cmd_list(args) -> int:
    from theory.catalog import CATALOG

    if args.json:
        print(json.dumps([{"name": n, "summary": e.summary, "source": e.source} for n, e in CATALOG.items()],
                         indent=2))
        return 0
    for n, e in CATALOG.items():
        print(f"{n:22s} {e.summary}\n{'':22s} source: {e.source}")
    return 0


# ---- derive ----------------------------------------------------------------------------------------
def derivation_record(d) -> dict:
    """A JSON-ready record of a derivation (strings of SymPy expressions + LaTeX)."""
    from theory.claims import NoMirror

    p = d.parameterization
    rec = {"model": p.name, "source": p.source, "params": [str(s) for s in p.params],
           "map": [str(e) for e in p.outputs], "init": [str(v) for v in p.init]}
    if d.law_count is not None:
        c = d.law_count
        rec["law_count"] = {"dimension": c.dimension, "lie_dimension": c.lie_dimension, "laws": c.laws,
                            "per_coordinate": c.per_coordinate}
    rec["laws"] = [{"expr": str(h.expr), "latex": sp.latex(h.expr), "method": h.method,
                    "proof": pr.status} for h, pr in d.laws]
    if isinstance(d.mirror, NoMirror):
        rec["mirror"] = {"exists": False, "reason": d.mirror.reason}
    elif d.mirror is not None:
        pot, pr = d.mirror
        rec["mirror"] = {"exists": True, "proof": pr.status,
                         "potential": None if pot.potential is None else str(pot.potential),
                         "gradient": None if pot.gradient is None else [str(g) for g in pot.gradient],
                         "dual": None if pot.dual is None else str(pot.dual),
                         "dual_gradient": None if pot.dual_gradient is None else [str(g) for g in pot.dual_gradient]}
    rec["limits"] = [{"scale": str(l.scale), "point": str(l.point), "factor": str(l.factor),
                      "leading": str(l.leading), "proof": pr.status} for l, pr in d.limits]
    rec["notes"] = list(d.notes)
    return rec


def cmd_derive(args) -> int:
    from theory import derive
    from theory.catalog import CATALOG

    if args.target in CATALOG and CATALOG[args.target].kind == "function-space":
        from .function_space.check import print_derivation
        return print_derivation(CATALOG[args.target], latex=args.latex, as_json=args.json)

    p, _, _ = _resolve(args.target)
    d = derive(p, use_cache=not args.no_cache)
    if args.latex:
        from theory.latex import latex_document
        print(latex_document(d))
        return 0
    rec = derivation_record(d)
    if args.json:
        print(json.dumps(rec, indent=2))
        return 0
    print(f"{rec['model']}  ({rec['source']})")
    print(f"  map: {', '.join(rec['map'][:4])}{' ...' if len(rec['map']) > 4 else ''}")
    if "law_count" in rec:
        c = rec["law_count"]
        per = " per coordinate" if c["per_coordinate"] else ""
        print(f"  laws{per}: D = {c['dimension']}, dim Lie = {c['lie_dimension']}, K = {c['laws']}")
    for law in rec["laws"]:
        print(f"    {law['expr']}   [{law['proof']}; {law['method']}]")
    m = rec.get("mirror")
    if m:
        if m["exists"]:
            print(f"  mirror potential [{m['proof']}]")
            for key in ("potential", "gradient", "dual", "dual_gradient"):
                if m[key] is not None:
                    print(f"    {key}: {m[key]}")
        else:
            print(f"  no mirror potential: {m['reason']}")
    for l in rec["limits"]:
        print(f"  limit {l['scale']} -> {l['point']}: {l['factor']} * R -> {l['leading']}  [{l['proof']}]")
    for note in rec["notes"]:
        print(f"  note: {note}")
    return 0


# ---- check -----------------------------------------------------------------------------------------
COLUMNS = ("model", "claim", "symbolic", "residual", "tolerance", "digits", "status", "seconds")


def verdict_record(v) -> dict:
    """The stable JSON record of one verdict (documented in the README)."""
    return {"model": v.model, "claim": v.claim, "kind": v.kind, "symbolic": v.symbolic,
            "passed": v.passed, "status": v.details.get("status", "confirmed" if v.passed else "refuted"),
            "residual": v.residual, "tolerance": v.tolerance, "error_estimate": v.error_estimate,
            "digits": round(v.digits, 2), "dps": v.dps, "seconds": round(v.seconds, 3),
            "details": {k: val for k, val in v.details.items() if k != "status"}}


def _row(r: dict) -> str:
    claim = r["claim"] if len(r["claim"]) <= 58 else r["claim"][:55] + "..."
    return (f"{r['model'][:22]:22s} {claim:58s} {r['symbolic'][:9]:9s} {r['residual']:9.2e} "
            f"{r['tolerance']:9.2e} {r['digits']:6.1f} {r['status'][:12]:12s} {r['seconds']:6.2f}")


def default_problem(p, values: dict, *, seed: int, dps: int):
    """A small underdetermined problem (m = n - 1 rows) with exact rational data. For
    sign-constrained models (every output >= 0) the data come from a strictly positive planted
    point, so that a nonnegative interpolant exists."""
    from .problems import Problem, random_problem

    n = p.n_outputs
    prob = random_problem(n, max(1, n - 1), seed=seed)
    if all(o.is_nonnegative for o in p.outputs):
        planted = tuple(sp.Integer(1 + (i % 2)) for i in range(n))
        y = tuple(sum(a * b for a, b in zip(row, planted)) for row in prob.X)
        return Problem(X=prob.X, y=y, values=values, dps=dps, planted=planted)
    return Problem(X=prob.X, y=prob.y, values=values, dps=dps)


def check_target(target: str, *, dps: int, seed: int, sets: dict, backend: str, regimes: bool,
                 progress) -> list:
    from theory import derive, verify
    from theory.catalog import CATALOG

    from .confirm import confirm

    if target in CATALOG and CATALOG[target].kind == "function-space":  # wide nets: own pipeline
        from .function_space.check import check_entry
        return check_entry(CATALOG[target], dps=dps, seed=seed, progress=progress, sets=sets)
    p, literature, values = _resolve(target)
    values = _default_values(p, {**values, **sets})
    t0 = time.perf_counter()
    d = derive(p)
    progress(f"{p.name}: derived in {time.perf_counter() - t0:.2f} s")
    extra = [(c, verify(p, c, potential=d.potential)) for c in literature]
    problem = default_problem(p, values, seed=seed, dps=dps)
    return confirm(d, problem, extra_claims=extra, backend=backend, regimes=regimes, progress=progress)


def _silent(msg: str) -> None:
    pass


def _say(msg: str) -> None:
    print(f"  .. {msg}", file=sys.stderr, flush=True)


def _check_records(target: str, *, dps, seed, sets, backend, regimes, progress, keep_going) -> list:
    """The verdict records of one target; with ``keep_going`` a target that fails to derive
    becomes one failed record instead of an error (``check --all`` goes on)."""
    from .confirm import failed_verdict

    try:
        verdicts = check_target(target, dps=dps, seed=seed, sets=sets, backend=backend,
                                regimes=regimes, progress=progress)
    except IbcheckError as e:
        if not keep_going:
            raise
        verdicts = [failed_verdict(target, "derivation", "error", dps, e, "")]
    return [verdict_record(v) for v in verdicts]


def cmd_check(args) -> int:
    from theory.catalog import CATALOG

    targets = list(CATALOG) if args.all else [args.target]
    if not args.all and not args.target:
        raise IbcheckError("check needs a catalog name, a spec file, or --all")
    quiet = args.json or args.quiet
    progress = _silent if quiet and not args.verbose else _say
    sets = _parse_sets(args.set)
    records, t_start = [], time.perf_counter()
    if not args.json:
        print(" ".join(f"{c:>{w}s}" if i >= 3 else f"{c:{w}s}" for i, (c, w) in
                       enumerate(zip(COLUMNS, (22, 58, 9, 9, 9, 6, 12, 6)))))
    run = functools.partial(_check_records, dps=args.dps, seed=args.seed, sets=sets, backend=args.backend,
                            regimes=not args.no_regimes, progress=progress, keep_going=args.all)
    jobs = min(len(targets), args.jobs or os.cpu_count() or 1)
    if jobs < 1:
        raise IbcheckError(f"--jobs must be at least 1, got {args.jobs}")
    if jobs == 1:
        results = map(run, targets)
    else:  # entries are independent: one process each, rows printed in catalog order
        pool = concurrent.futures.ProcessPoolExecutor(jobs)
        results = pool.map(run, targets)
    try:
        for rows in results:
            for rec in rows:
                records.append(rec)
                if not args.json:
                    print(_row(rec), flush=True)
    finally:
        if jobs > 1:
            pool.shutdown(cancel_futures=True)
    failed = [r for r in records if not r["passed"]]
    total = time.perf_counter() - t_start
    if args.json:
        print(json.dumps({"dps": args.dps, "seed": args.seed, "seconds": round(total, 2),
                          "passed": len(records) - len(failed), "failed": len(failed), "verdicts": records},
                         indent=2, default=str))
    else:
        print(f"\n{len(records) - len(failed)} passed, {len(failed)} failed  ({total:.1f} s, {args.dps} digits, seed {args.seed})")
        for r in failed:
            why = r["details"].get("error", r["status"])
            print(f"  FAILED {r['model']}: {r['claim']} ({why})")
    return 1 if failed else 0


def cmd_reproduce(args) -> int:
    from pathlib import Path

    from . import reproduce

    if args.list or not args.name:
        for name, summary in sorted(reproduce.available().items()):
            print(f"{name:16s} {summary}")
        return 0
    try:
        mod = reproduce.load(args.name)
    except KeyError as e:
        raise IbcheckError(str(e.args[0])) from None
    out = Path(args.out) if args.out else reproduce.default_out_dir(args.name)
    report = mod.run(out, quick=args.quick, progress=_say)
    print(report.table)
    for f in report.files:
        print(f"wrote {f}", file=sys.stderr)
    return 0 if report.passed else 1


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ibcheck", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    pl = sub.add_parser("list", help="the catalog with sources")
    pl.add_argument("--json", action="store_true")
    pd = sub.add_parser("derive", help="derive laws, potential and limits of a catalog entry or spec file")
    pd.add_argument("target", help="catalog name or spec file (TOML/JSON)")
    pd.add_argument("--latex", action="store_true", help="print a standalone LaTeX document")
    pd.add_argument("--json", action="store_true")
    pd.add_argument("--no-cache", action="store_true", help="ignore the on-disk derivation cache")
    pc = sub.add_parser("check", help="derive, then confirm numerically")
    pc.add_argument("target", nargs="?", help="catalog name or spec file")
    pc.add_argument("--all", action="store_true", help="the whole catalog")
    pc.add_argument("--dps", type=int, default=DEFAULT_DPS, help=f"working digits (default {DEFAULT_DPS})")
    pc.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the random problem")
    pc.add_argument("--set", action="append", metavar="NAME=VALUE", help="value of a constant, e.g. alpha=1/10")
    pc.add_argument("--backend", choices=("fast", "mpmath"), default="fast", help="integrator arithmetic")
    pc.add_argument("--no-regimes", action="store_true", help="skip the alpha -> 0 / oo sweeps")
    pc.add_argument("--jobs", type=int, default=0,
                    help="processes for --all (default: one per core; 1 = serial)")
    pc.add_argument("--json", action="store_true", help="one JSON document with one record per claim")
    pc.add_argument("--quiet", action="store_true", help="no progress lines")
    pc.add_argument("--verbose", action="store_true")
    pr = sub.add_parser("reproduce", help="reproduce a seed paper's experiment (table, optional plot)")
    pr.add_argument("name", nargs="?", help="reproduction name (see --list)")
    pr.add_argument("--list", action="store_true", help="the available reproductions")
    pr.add_argument("--out", default=None, help="output folder (default docs/reproductions/NAME)")
    pr.add_argument("--quick", action="store_true", help="a smaller sweep (for tests and a first look)")
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"list": cmd_list, "derive": cmd_derive, "check": cmd_check,
                "reproduce": cmd_reproduce}[args.cmd](args)
    except IbcheckError as e:
        _err(str(e))
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
