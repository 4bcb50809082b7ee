r"""The ``ibcheck`` command: ``list``, ``derive``, ``check`` (on top of ``theory`` and ``numerics``).

``ibcheck check --all`` is the main job: derive every catalog entry, verify the papers' own
claims symbolically, and confirm everything numerically on a small random least-squares problem
(fixed seed, 30 digits). Exit status 1 if any claim fails, 2 on bad input, 130 on Ctrl-C.
``ibcheck verify MODEL --law EXPR ...`` checks a formula from a paper: exit 0 proved, 1 refuted,
3 undecided, 2 bad input. Every input is bounded (``theory.bounds``; docs/robustness.md).
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import signal
import sys
import threading
import time

import sympy as sp

from theory.errors import IbcheckError

DEFAULT_DPS = 30
DEFAULT_SEED = 2024
#: seconds of a target the table below does not list (a spec file): about the mean catalog entry
#: (58.8 s for 25 entries, cold, ``benchmarks/per_entry_cpu.py``, 2026-12-06)
BASE_SECONDS = 2.4
#: measured CPU seconds of every catalog entry, cold cache, 30 digits, one process running them
#: in sequence (``benchmarks/per_entry_cpu.py`` on this 2-core machine, 2026-12-06, re-measured
#: after the potential-value and memo changes of that day: 58.8 s in all). They set the
#: time estimate printed before long work and the order in which ``check --all`` starts its jobs:
#: longest first, so the short ones fill in at the end and the workers finish together (with only
#: the costliest listed, the unlisted ones all counted as the mean and ``diagonal-depth4`` ran
#: last, leaving a worker idle for 1.9 s). The rows and their order do not depend on it.
ENTRY_SECONDS = {"mw-decay": 6.9, "diagonal-product": 6.6, "diagonal-product-pm": 5.5,
                 "relu-spline-gaussian": 5.1, "weightnorm-L3": 4.5, "weightnorm-L2": 3.4,
                 "diagonal-power4-decay": 2.85, "diagonal-depth3": 2.5, "linear-net-2x3x2x2": 2.5,
                 "diagonal-quadratic": 2.4, "diagonal-depth4": 2.4, "weightnorm-separate": 2.2,
                 "diagonal-quadratic-decay": 1.9, "deepproduct-nonneg-L3": 1.4, "deepproduct-nonneg-L4": 1.3,
                 "weightnorm-exp": 1.3, "relu-spline-uniform": 1.15, "sensing-commuting-decay": 1.1,
                 "lora-decay": 1.0, "diagonal-squared": 0.9, "relu-spline-rademacher": 0.55,
                 "weightnorm-nonneg": 0.5, "linear-net-2x2x2": 0.4, "sensing-gaussian-decay": 0.3,
                 "shared-hidden-unit": 0.1}


def version() -> str:
    try:
        from importlib.metadata import version as _v
        return _v("ibcheck")
    except Exception:  # not installed (run from a checkout)
        return "0.1.0"


def _err(msg: str) -> None:
    print(f"ibcheck: {msg}", file=sys.stderr)


def _resolve(target: str):
    """A catalog entry name or a spec file path -> (parameterization, literature claims, values)."""
    from theory.catalog import CATALOG

    from theory import bounds

    if target in CATALOG:
        e = CATALOG[target]  # curated: the limits are for user input
        return e.parameterization(), tuple(e.literature()), dict(e.values)
    if os.path.exists(target):
        from theory.spec import load_spec
        p = load_spec(target)
        bounds.check_model(p)
        est = _derive_estimate(p.dim)
        if est > 5:
            print(f"ibcheck: {p.name} has {p.dim} parameters: deriving may take about {_fmt_s(est)}",
                  file=sys.stderr, flush=True)
        return p, (), {}
    raise IbcheckError(f"{target!r} is neither a catalog entry ({', '.join(CATALOG)}) nor a spec file")


def _derive_estimate(dim: int) -> float:
    """Seconds a derivation may take with ``dim`` parameters, from the worst case measured (a
    product of all parameters: 8 s at 16, 143 s at 24, i.e. a factor ~1.43 per parameter)."""
    return 8.0 * 1.43 ** (dim - 16)


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


_DOMAIN_TESTS = (("positive", "is_positive", "> 0"), ("negative", "is_negative", "< 0"),
                 ("nonnegative", "is_nonnegative", ">= 0"), ("nonpositive", "is_nonpositive", "<= 0"),
                 ("nonzero", "is_nonzero", "!= 0"), ("real", "is_real", "real"))


def check_sets(p, sets: dict) -> dict:
    """``--set`` values: known constants only, exact finite real numbers inside the declared
    domain of the constant (``alpha=-1`` for a positive alpha is refused, exit 2)."""
    from .problems import exact_number

    byname = {c.name: c for c in p.constants}
    out = {}
    for k, v in sets.items():
        c = byname.get(k)
        if c is None:
            raise IbcheckError(f"--set {k}=...: {p.name} has no constant {k!r}; constants: "
                               f"{', '.join(byname) or '(none)'}")
        if len(v) > 200:
            raise IbcheckError(f"--set {k}: the value is longer than 200 characters")
        from theory.spec import parse_expression
        e = exact_number(parse_expression(v, {}, f"--set {k}"), f"--set {k}")
        for dom, attr, words in _DOMAIN_TESTS:
            if c.assumptions0.get(dom) and getattr(e, attr) is False:
                raise IbcheckError(f"--set {k}={v}: {k} is declared {dom} ({k} {words}), got {e}")
        out[k] = v
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
_NONFINITE = (sp.nan, sp.zoo, sp.oo, -sp.oo)


def _nonfinite(*exprs) -> bool:
    for e in exprs:
        if e is None:
            continue
        for x in (e if isinstance(e, (tuple, list)) else (e,)):
            x = sp.sympify(x)
            if x.has(*_NONFINITE) or x.has(sp.I):
                return True
    return False


def finite_derivation(d):
    """The derivation without parts that came out non-finite (nan, zoo, complex: e.g. the
    potential of exp(u) - exp(v)), each replaced by a note saying so: never printed, never
    checked numerically as if it were a formula."""
    from dataclasses import replace

    notes, changes = list(d.notes), {}
    pot = d.potential
    if pot is not None and _nonfinite(pot.potential, pot.gradient, pot.dual, pot.dual_gradient):
        changes["mirror"], changes["limits"] = None, ()
        notes.append("mirror potential not derived: the construction gave a non-finite or complex "
                     "expression (nan/zoo/I) for this map, which ibcheck cannot handle")
    keep = [(c, pr) for c, pr in d.laws if not _nonfinite(c.expr)]
    if len(keep) < len(d.laws):
        changes["laws"] = tuple(keep)
        notes.append(f"{len(d.laws) - len(keep)} law(s) dropped: non-finite expressions")
    if "limits" not in changes:
        lk = [(c, pr) for c, pr in d.limits if not _nonfinite(c.factor, c.leading)]
        if len(lk) < len(d.limits):
            changes["limits"] = tuple(lk)
            notes.append(f"{len(d.limits) - len(lk)} limit(s) dropped: non-finite expressions")
    if not changes:
        return d
    return replace(d, notes=tuple(notes), **changes)


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
    d = finite_derivation(derive(p, use_cache=not args.no_cache))
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
#: (name, width, right-aligned) of the table; --wide prints whole claims
COLUMNS = (("model", 22, False), ("claim", 58, False), ("symbolic", 9, False), ("numeric", 12, False),
           ("residual", 9, True), ("tolerance", 9, True), ("test", 23, False), ("digits", 6, True),
           ("seconds", 7, True))


def _finite(x):
    """A float for strict JSON: finite, or None (the record then says why)."""
    return x if isinstance(x, (int, float)) and math.isfinite(x) else None


def _strict(obj):
    """Replace every non-finite float (inf, nan) by None, recursively: strict JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    return obj


def verdict_record(v) -> dict:
    """The stable JSON record of one verdict (documented in the README). Strict JSON: a number
    that does not exist (a check that could not run or was skipped) is null, and
    ``missing`` says why."""
    from .verdict import test_meaning

    status = v.details.get("status", "confirmed" if v.passed else "refuted")
    rec = {"model": v.model, "claim": v.claim, "kind": v.kind, "symbolic": v.symbolic,
           "passed": v.passed, "status": status,
           "residual": _finite(v.residual), "tolerance": _finite(v.tolerance),
           "error_estimate": _finite(v.error_estimate), "test": test_meaning(v.kind, wide=True),
           "digits": round(v.digits, 2) if v.kind != "no-mirror" and _finite(v.residual) is not None else None,
           "dps": v.dps, "seconds": round(v.seconds, 3),
           "details": _strict({k: val for k, val in v.details.items() if k != "status"})}
    if rec["residual"] is None:
        rec["missing"] = v.details.get("reason") or v.details.get("error") or "the check did not run"
    return rec


def _num(x) -> str:
    return f"{x:9.2e}" if x is not None else f"{'-':>9s}"


def _row(r: dict, wide: bool = False) -> str:
    from .verdict import test_meaning

    claim = r["claim"] if wide or len(r["claim"]) <= 58 else r["claim"][:55] + "..."
    digits = f"{r['digits']:6.1f}" if r.get("digits") is not None else f"{'-':>6s}"
    test = test_meaning(r["kind"])
    return (f"{r['model'] if wide else r['model'][:22]:22s} {claim:58s} {r['symbolic'][:9]:9s} "
            f"{r['status'][:12]:12s} {_num(r['residual'])} {_num(r['tolerance'])} {test:23s} "
            f"{digits} {r['seconds']:7.2f}")


def _header() -> str:
    return " ".join(f"{n:>{w}s}" if right else f"{n:{w}s}" for n, w, right in COLUMNS)


def default_problem(p, values: dict, *, seed: int, dps: int):
    """A small underdetermined problem (m = n - 1 rows) with exact rational data. For
    sign-constrained models (every output >= 0) the data come from a strictly positive planted
    point, so that a nonnegative interpolant exists. A one-output model gets one equation
    (m = n = 1): its KKT and regime checks are then skipped with a reason."""
    from .problems import Problem, random_problem

    n = p.n_outputs
    prob = random_problem(n, max(1, n - 1), seed=seed)
    if all(o.is_nonnegative for o in p.outputs):
        planted = tuple(sp.Integer(1 + (i % 2)) for i in range(n))
        y = tuple(sum(a * b for a, b in zip(row, planted)) for row in prob.X)
        return Problem(X=prob.X, y=y, values=values, dps=dps, planted=planted)
    return Problem(X=prob.X, y=prob.y, values=values, dps=dps)


def check_target(target: str, *, dps: int, seed: int, sets: dict, backend: str, regimes: bool,
                 progress, limits=None) -> list:
    from theory import bounds, derive, verify
    from theory.catalog import CATALOG

    from .confirm import confirm

    if target in CATALOG and CATALOG[target].kind == "function-space":  # wide nets: own pipeline
        from .function_space.check import check_entry
        from .verdict import flag_inconsistency
        return [flag_inconsistency(v) for v in check_entry(CATALOG[target], dps=dps, seed=seed, progress=progress,
                                                                sets=sets)]
    with bounds.using(limits or bounds.limits()):
        p, literature, values = _resolve(target)
        values = _default_values(p, {**values, **check_sets(p, sets)})
        t0 = time.perf_counter()
        d = finite_derivation(derive(p))
        progress(f"{p.name}: derived in {time.perf_counter() - t0:.2f} s")
        pot = d.potential
        extra = [(c, verify(p, c, potential=pot)) for c in literature]
        problem = default_problem(p, values, seed=seed, dps=dps)
        return confirm(d, problem, extra_claims=extra, backend=backend, regimes=regimes, progress=progress)


def _silent(msg: str) -> None:
    pass


def _say(msg: str) -> None:
    print(f"  .. {msg}", file=sys.stderr, flush=True)


def _check_records(target: str, *, dps, seed, sets, backend, regimes, progress, keep_going, limits=None) -> list:
    """The verdict records of one target; with ``keep_going`` a target that fails to derive
    becomes one failed record instead of an error (``check --all`` goes on)."""
    from .verdict import failed_verdict

    try:
        verdicts = check_target(target, dps=dps, seed=seed, sets=sets, backend=backend,
                                regimes=regimes, progress=progress, limits=limits)
    except IbcheckError as e:
        if not keep_going:
            raise
        verdicts = [failed_verdict(target, "derivation", "error", dps, e, "")]
    return [verdict_record(v) for v in verdicts]


def _estimate(targets: list, dps: int, jobs: int) -> float:
    """Seconds expected: the targets' 30-digit costs (:data:`ENTRY_SECONDS`), times (dps/30)^1.6
    (measured on diagonal-depth3: 3.7 s, 7.8 s, 32.8 s at 30, 60, 120 digits), spread over the jobs."""
    base = sum(ENTRY_SECONDS.get(t, BASE_SECONDS) for t in targets)
    return base * max(1.0, (dps / DEFAULT_DPS) ** 1.6) / max(1, min(jobs, len(targets)))


def _fmt_s(x: float) -> str:
    return f"{x:.0f} s" if x < 120 else f"{x / 60:.1f} min"


def cmd_check(args) -> int:
    from theory import bounds
    from theory.catalog import CATALOG

    if args.all and args.target:
        raise IbcheckError(f"give a target or --all, not both (got {args.target!r} and --all)")
    if not args.all and not args.target:
        raise IbcheckError("check needs a catalog name, a spec file, or --all")
    if args.jobs is not None and args.jobs < 1:
        raise IbcheckError(f"--jobs/--workers must be at least 1, got {args.jobs}")
    scheduler = getattr(args, "scheduler", None)
    if scheduler is not None:
        from .executors import validate
        validate(args.jobs, scheduler, "--jobs/--workers")
    bounds.check_dps(args.dps)
    targets = list(CATALOG) if args.all else [args.target]
    quiet = args.json or args.quiet
    sets = _parse_sets(args.set)
    if sets and args.all:
        raise IbcheckError("--set applies to one target; it cannot be combined with --all")
    jobs = min(len(targets), args.jobs or os.cpu_count() or 1)
    if scheduler is not None:
        jobs = len(targets)  # the cluster decides; every entry is a job of its own
    # workers stay silent when several run (their lines would interleave); the parent reports
    # a counter and an ETA per finished target instead
    progress = _silent if (quiet and not args.verbose) or jobs > 1 else _say
    est = _estimate(targets, args.dps, jobs)
    if not quiet and (est > 30 or args.dps > 2 * DEFAULT_DPS):
        print(f"ibcheck: {len(targets)} target(s) at {args.dps} digits on {jobs} process(es): "
              f"expect about {_fmt_s(est)}", file=sys.stderr, flush=True)
    records, t_start = [], time.perf_counter()
    run = functools.partial(_check_records, dps=args.dps, seed=args.seed, sets=sets, backend=args.backend,
                            regimes=not args.no_regimes, progress=progress, keep_going=args.all,
                            limits=bounds.limits())
    header_done = False
    from .executors import open_executor, ordered_map

    # entries are independent: one job each on a process pool or a Dask cluster (--scheduler),
    # the longest first (ENTRY_SECONDS), the rows printed in catalog order
    finished = []

    def done(i):  # the counter and ETA follow the entries as they finish, in any order
        finished.append(i)
        if len(targets) > 1 and not quiet:
            k, el = len(finished), time.perf_counter() - t_start
            print(f"  [{k}/{len(targets)}] {targets[i]} done; {_fmt_s(el)} elapsed, "
                  f"ETA {_fmt_s(el / k * (len(targets) - k))}", file=sys.stderr, flush=True)

    with open_executor(None if scheduler else jobs, scheduler) as ex:
        if len(targets) > 1 and not quiet and jobs > 1:  # connected, the pool up: say so
            print(f"  [0/{len(targets)}] started on {'the cluster ' + scheduler if scheduler else f'{jobs} processes'}, "
                  "the longest entries first", file=sys.stderr, flush=True)
        results = ordered_map(ex, run, targets, cost=lambda t: ENTRY_SECONDS.get(t, BASE_SECONDS), done=done)
        for target, rows in zip(targets, results):
            for rec in rows:
                records.append(rec)
                if not args.json:
                    if not header_done:  # no header when an error comes before any row
                        print(_header(), flush=True)
                        header_done = True
                    print(_row(rec, wide=args.wide), flush=True)
    failed = [r for r in records if not r["passed"]]
    skipped = [r for r in records if r["status"] == "skipped"]
    total = time.perf_counter() - t_start
    if args.json:
        print(json.dumps({"dps": args.dps, "seed": args.seed, "seconds": round(total, 2),
                          "passed": len(records) - len(failed) - len(skipped), "skipped": len(skipped),
                          "failed": len(failed), "verdicts": records}, indent=2, allow_nan=False))
    else:
        sk = f", {len(skipped)} skipped" if skipped else ""
        print(f"\n{len(records) - len(failed) - len(skipped)} passed, {len(failed)} failed{sk}  "
              f"({total:.1f} s, {args.dps} digits, seed {args.seed})")
        for r in skipped:
            print(f"  skipped {r['model']}: {r['claim']} ({r['missing']})")
        for r in failed:
            why = r["details"].get("error") or r["details"].get("why") or r["status"]
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
    from .executors import open_executor, validate

    validate(args.workers, args.scheduler)
    with open_executor(args.workers, args.scheduler) as ex:  # the sweep's points as jobs
        report = reproduce.run(mod, out, quick=args.quick, progress=_say, executor=ex)
    print(report.table)
    for f in report.files:
        print(f"wrote {f}", file=sys.stderr)
    return 0 if report.passed else 1


# ---- verify ----------------------------------------------------------------------------------------
VERIFY_EXIT = {"proved": 0, "refuted": 1, "undecided": 3}


def _claim_symbols(p, coordinate: bool) -> tuple[dict, tuple, tuple]:
    """Names an EXPR may use: the model's parameters (template symbols for a separable model)
    and constants, plus the claim variables w, mu (one coordinate) or w_1.., mu_1.. (whole)."""
    names = {s.name: s for s in p.constants}
    params = p.coordinate.params if coordinate else p.params
    names.update({s.name: s for s in params})
    if coordinate:
        w = (sp.Symbol("w", real=True),)
        mu = (sp.Symbol("mu", real=True),)
    else:
        w = p.output_symbols("w")
        mu = tuple(sp.Symbol(f"mu_{i + 1}", real=True) for i in range(p.n_outputs))
    for s in w + mu:
        if s.name in names:
            raise IbcheckError(f"{p.name}: the model's symbol {s.name!r} collides with the claim variable "
                               f"{s.name!r}; rename it in the model")
    return names, w, mu


def _parse_claim_expr(text, names: dict, where: str):
    from theory.spec import parse_expression

    return parse_expression(text, names, where)


def build_claims(p, args) -> list:
    """The claims stated on the command line, parsed with the spec files' safe parser."""
    from theory.claims import ConservedQuantity, LimitingRegularizer, MirrorPotential

    coordinate = p.is_separable and not args.whole
    names, w, mu = _claim_symbols(p, coordinate)
    params = set(p.coordinate.params if coordinate else p.params)
    claims = []
    for text in args.law or ():
        e = _parse_claim_expr(text, {k: v for k, v in names.items()}, "--law")
        if not (e.free_symbols & params):
            raise IbcheckError(f"--law {text!r} does not involve any parameter "
                               f"({', '.join(sorted(s.name for s in params))})")
        claims.append(ConservedQuantity(expr=e, coordinate=coordinate))
    pot_given = any(x for x in (args.potential, args.gradient, args.dual_gradient))
    pot = None
    if pot_given:
        wn = {**names, **{s.name: s for s in w}}
        mn = {**names, **{s.name: s for s in mu}}
        R = None if args.potential is None else _parse_claim_expr(args.potential, wn, "--potential")
        grad = dual = None
        if args.gradient:
            if len(args.gradient) != len(w):
                raise IbcheckError(f"--gradient: give {len(w)} component(s) (one --gradient per "
                                   f"{', '.join(s.name for s in w)}), got {len(args.gradient)}")
            grad = tuple(_parse_claim_expr(g, wn, "--gradient") for g in args.gradient)
        if args.dual_gradient:
            if len(args.dual_gradient) != len(mu):
                raise IbcheckError(f"--dual-gradient: give {len(mu)} component(s), got {len(args.dual_gradient)}")
            dual = tuple(_parse_claim_expr(g, mn, "--dual-gradient") for g in args.dual_gradient)
        pot = MirrorPotential(variables=w, potential=R, gradient=grad,
                              dual_variables=mu if dual is not None else (), dual_gradient=dual,
                              coordinate=coordinate)
        claims.append(pot)
    if args.limit is not None:
        if not coordinate:
            raise IbcheckError("--limit is per coordinate: it needs a separable model")
        scale = next((c for c in p.constants if c.name == args.scale), None)
        if scale is None:
            raise IbcheckError(f"--scale {args.scale!r} is not a constant of {p.name} "
                               f"({', '.join(c.name for c in p.constants) or 'none'})")
        if args.point not in ("0", "oo"):
            raise IbcheckError(f"--point must be 0 or oo, got {args.point!r}")
        if args.factor is None:
            raise IbcheckError("--limit needs --factor EXPR (e.g. 1/log(1/alpha)), the normalisation of R")
        wn = {**names, **{s.name: s for s in w}}
        claims.append(LimitingRegularizer(
            scale=scale, point=sp.Integer(0) if args.point == "0" else sp.oo,
            factor=_parse_claim_expr(args.factor, names, "--factor"),
            leading=_parse_claim_expr(args.limit, wn, "--limit"), variable=w[0], coordinate=True))
    if not claims:
        raise IbcheckError("verify needs a claim: --law, --potential, --gradient, --dual-gradient or --limit")
    return claims, pot


def _claim_text(c) -> dict:
    from theory.claims import ConservedQuantity, LimitingRegularizer

    if isinstance(c, ConservedQuantity):
        return {"kind": "law", "expr": str(c.expr), "coordinate": c.coordinate}
    if isinstance(c, LimitingRegularizer):
        return {"kind": "limit", "scale": str(c.scale), "point": str(c.point), "factor": str(c.factor),
                "leading": str(c.leading), "variable": str(c.variable)}
    out = {"kind": "mirror", "variables": [str(v) for v in c.variables], "coordinate": c.coordinate}
    for k in ("potential", "gradient", "dual_variables", "dual_gradient"):
        v = getattr(c, k)
        if v is not None and v != ():
            out[k] = [str(x) for x in v] if isinstance(v, tuple) else str(v)
    return out


def cmd_verify(args) -> int:
    from theory import bounds, derive, verify

    with bounds.using(_limits_from(args)):
        p, _, _ = _resolve(args.target)
        claims, pot = build_claims(p, args)
        potential = pot
        if potential is None and args.limit is not None:
            potential = finite_derivation(derive(p)).potential
        results = []
        for c in claims:
            pr = verify(p, c, potential=potential) if args.limit is not None and c is claims[-1] \
                else verify(p, c)
            results.append((c, pr))
    statuses = [pr.status for _, pr in results]
    code = 1 if "refuted" in statuses else (3 if "undecided" in statuses else 0)
    if args.json:
        recs = []
        for c, pr in results:
            recs.append({"claim": _claim_text(c), "status": pr.status, "identity": pr.identity,
                         "remainder": str(pr.remainder), "method": pr.method,
                         "witness": None if pr.witness is None else {str(k): str(v) for k, v in pr.witness.items()},
                         "witness_value": None if pr.witness_value is None else str(pr.witness_value)})
        print(json.dumps({"model": p.name, "exit": code, "results": recs}, indent=2, allow_nan=False))
        return code
    for c, pr in results:
        t = _claim_text(c)
        what = {k: v for k, v in t.items() if k not in ("kind", "coordinate", "variables", "dual_variables")}
        print(f"{t['kind']}: {'; '.join(f'{k} = {v}' for k, v in what.items())}")
        print(f"  {pr.status}: {pr.identity}" + (f" [{pr.method}]" if pr.method else ""))
        if pr.status != "proved":
            print(f"  remainder: {pr.remainder}")
            if pr.witness:
                print(f"  at {', '.join(f'{k} = {v}' for k, v in pr.witness.items())}: {pr.witness_value}")
    return code


def _limits_from(args):
    from theory import bounds

    kw = {f: getattr(args, f) for f in ("max_chars", "max_degree", "max_terms", "max_params", "max_dps")
          if getattr(args, f, None) is not None}
    for f, v in kw.items():
        if v < 1:
            raise IbcheckError(f"--{f.replace('_', '-')} must be at least 1, got {v}")
    return bounds.Limits(**{**bounds.DEFAULT.__dict__, **kw})


def _add_limits(parser) -> None:
    from theory.bounds import DEFAULT

    g = parser.add_argument_group("resource limits (docs/robustness.md)")
    g.add_argument("--max-degree", type=int, default=None, metavar="N",
                   help=f"largest exponent / estimated polynomial degree (default {DEFAULT.max_degree})")
    g.add_argument("--max-terms", type=int, default=None, metavar="N",
                   help=f"largest estimated number of terms of an expanded expression (default {DEFAULT.max_terms})")
    g.add_argument("--max-params", type=int, default=None, metavar="N",
                   help=f"most scalar parameters of a model (default {DEFAULT.max_params})")
    g.add_argument("--max-chars", type=int, default=None, metavar="N",
                   help=f"longest expression string (default {DEFAULT.max_chars})")
    g.add_argument("--max-dps", type=int, default=None, metavar="N",
                   help=f"highest --dps accepted (default {DEFAULT.max_dps})")
    g.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="stop with a clear error (exit 2) after this wall time (default: none)")


class TimeLimit(BaseException):
    """Raised by the --timeout alarm. A BaseException, so that no ``except Exception`` inside
    SymPy or mpmath can swallow it on the way out."""


@contextlib.contextmanager
def _deadline(seconds):
    """SIGALRM after ``seconds`` of wall time (main thread, POSIX); a no-op otherwise."""
    if not seconds:
        yield
        return
    if seconds <= 0:
        raise IbcheckError(f"--timeout must be positive, got {seconds}")
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def ring(signum, frame):
        raise TimeLimit(seconds)

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, like every other bad input
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="ibcheck", description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", action="version", version=f"ibcheck {version()}")
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    pl = sub.add_parser("list", help="the catalog with sources")
    pl.add_argument("--json", action="store_true")
    pd = sub.add_parser("derive", help="derive laws, potential and limits of a catalog entry or spec file")
    pd.add_argument("target", help="catalog name or spec file (TOML/JSON)")
    pd.add_argument("--latex", action="store_true", help="print a standalone LaTeX document")
    pd.add_argument("--json", action="store_true")
    pd.add_argument("--no-cache", action="store_true", help="ignore the on-disk derivation cache")
    _add_limits(pd)
    pc = sub.add_parser("check", help="derive, then confirm numerically")
    pc.add_argument("target", nargs="?", help="catalog name or spec file")
    pc.add_argument("--all", action="store_true", help="the whole catalog")
    pc.add_argument("--dps", type=int, default=DEFAULT_DPS,
                    help=f"working digits (default {DEFAULT_DPS}; at least 15, at most --max-dps)")
    pc.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the random problem")
    pc.add_argument("--set", action="append", metavar="NAME=VALUE", help="value of a constant, e.g. alpha=1/10")
    pc.add_argument("--backend", choices=("fast", "mpmath"), default="fast", help="integrator arithmetic")
    pc.add_argument("--no-regimes", action="store_true", help="skip the alpha -> 0 / oo sweeps")
    pc.add_argument("--jobs", "--workers", dest="jobs", type=int, default=None,
                    help="processes for --all (default: one per core; 1 = serial)")
    pc.add_argument("--scheduler", metavar="ADDRESS", default=None,
                    help="run --all's entries on a Dask cluster (tcp://HOST:8786; extra 'distributed'; "
                         "docs/distributed.md)")
    pc.add_argument("--json", action="store_true", help="one strict JSON document with one record per claim")
    pc.add_argument("--wide", action="store_true", help="whole claims and model names in the table")
    pc.add_argument("--quiet", action="store_true", help="no progress lines")
    pc.add_argument("--verbose", action="store_true")
    _add_limits(pc)
    pv = sub.add_parser("verify", help="prove or refute a claim stated on the command line",
                        description="Exit 0 proved, 1 refuted, 3 undecided, 2 bad input. Expressions use the "
                                    "spec-file syntax (docs/spec-format.md). For a separable model write "
                                    "them per coordinate in the template symbols and w (primal) / mu (dual).")
    pv.add_argument("target", help="catalog name or spec file")
    pv.add_argument("--law", action="append", metavar="EXPR", help="a conserved quantity h(x)")
    pv.add_argument("--potential", metavar="EXPR", help="the mirror potential R(w)")
    pv.add_argument("--gradient", action="append", metavar="EXPR", help="grad R(w) (one per output w_i)")
    pv.add_argument("--dual-gradient", action="append", metavar="EXPR", help="grad Q(mu), the inverse map")
    pv.add_argument("--limit", metavar="EXPR", help="the limiting regularizer leading(w)")
    pv.add_argument("--factor", metavar="EXPR", help="the normalising factor of the limit, e.g. 1/log(1/alpha)")
    pv.add_argument("--scale", default="alpha", help="the constant that goes to the limit (default alpha)")
    pv.add_argument("--point", default="0", help="0 or oo (default 0)")
    pv.add_argument("--whole", action="store_true",
                    help="claims about all outputs at once (w_1.., mu_1..) instead of one coordinate")
    pv.add_argument("--json", action="store_true")
    _add_limits(pv)
    pr = sub.add_parser("reproduce", help="reproduce a seed paper's experiment (table, optional plot)")
    pr.add_argument("name", nargs="?", help="reproduction name (see --list)")
    pr.add_argument("--list", action="store_true", help="the available reproductions")
    pr.add_argument("--out", default=None, help="output folder (default docs/reproductions/NAME)")
    pr.add_argument("--quick", action="store_true", help="a smaller sweep (for tests and a first look)")
    pr.add_argument("--workers", type=int, default=None, metavar="N",
                    help="processes for the sweep's points (default: the reproduction's own choice)")
    pr.add_argument("--scheduler", metavar="ADDRESS", default=None,
                    help="run the sweep's points on a Dask cluster (docs/distributed.md)")
    return ap


def _dispatch(args) -> int:
    from theory import bounds

    cmds = {"list": cmd_list, "derive": cmd_derive, "check": cmd_check, "verify": cmd_verify,
            "reproduce": cmd_reproduce}
    with bounds.using(_limits_from(args)), _deadline(getattr(args, "timeout", None)):
        return cmds[args.cmd](args)


def main(argv=None) -> int:
    """Exit status: 0 ok, 1 a claim failed (verify: refuted), 2 bad input, 3 undecided (verify),
    70 internal error (a bug: please report it), 130 interrupted, 141 output pipe closed."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else 2
    try:
        code = _dispatch(args)
        sys.stdout.flush()  # a closed pipe shows up here, not in the interpreter's exit flush
        return code
    except IbcheckError as e:
        _err(str(e))
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except TimeLimit as e:
        _err(f"stopped: the time limit of {e.args[0]:g} s was reached (raise it with --timeout)")
        return 2
    except BrokenPipeError:  # e.g. `ibcheck check --all | head -1`: stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except (RecursionError, MemoryError) as e:
        _err(f"the input is too large to handle ({type(e).__name__}); lower its size or degree")
        return 2
    except Exception as e:  # a bug: one line, never a traceback (IBCHECK_DEBUG=1 shows it)
        if os.environ.get("IBCHECK_DEBUG"):
            raise
        _err(f"internal error: {type(e).__name__}: {str(e)[:300]} (a bug in ibcheck; please report it; "
             "IBCHECK_DEBUG=1 shows the traceback)")
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
