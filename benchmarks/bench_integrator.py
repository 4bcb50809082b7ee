"""Benchmark of the Taylor integrator: ibcheck fast / reference vs heyoka vs mpmath.odefun.

Prints (never asserts) per case: compile time, integration time (median of ``--repeat`` runs,
ibcheck and heyoka runs interleaved so that both see the same machine load), and the digits of
agreement of the final states; tolerance 10^-dps on every side.

- heyoka (optional: ``pip install heyoka``, the ``bench`` extra) runs twice: in ibcheck's working
  precision (dps + 10 guard digits, the same arithmetic: the headline ratio) and in the bare dps
  digits.  Its system is translated node by node from the same decomposed program, every
  constant as ``hy.real(str, prec)``; compile time is reported apart.
- mpmath.odefun runs on every flow on [0, T/20] and then on the whole [0, T] (the same pieces
  are timed with ibcheck) until the ``--odefun-cap`` seconds run out; a capped piece prints the
  lower bound cap / ibcheck's time on that piece (odefun's steps grow as the flow comes to rest,
  so a piece's time does not extrapolate linearly).

Then two sweeps: the cost of one Taylor step vs n (hand-built diagonal nets, n = 10 ..
``--max-n``) and the integration cost vs digits (30, 60, 120).

    python3 benchmarks/bench_integrator.py --quick
    python3 benchmarks/bench_integrator.py            # full: n = 10, 20, 50 at 30 and 60 digits
    python3 benchmarks/bench_integrator.py --only "n=50 dps=60" --no-heyoka --odefun-cap 300
"""
from __future__ import annotations

import argparse
import functools
import os
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import mpmath  # noqa: E402
import sympy as sp  # noqa: E402

from numerics.taylor.decompose import decompose  # noqa: E402
from numerics.flows import gradient_flow  # noqa: E402
from numerics.taylor.integrator import _work_prec, compile_system, integrate, order_for  # noqa: E402
from numerics.taylor import jet_fast, jet_fixed  # noqa: E402
from numerics.taylor.jets import exact_to_mpf, get_backend  # noqa: E402
from numerics.problems import random_problem  # noqa: E402
from theory.catalog import diagonal, linear  # noqa: E402

try:
    import heyoka as hy
    import numpy as np
except ImportError:  # pragma: no cover
    hy = None


def diag_flow(n, D=2, seed=1):
    p = diagonal.quadratic(n) if D == 2 else diagonal.depth(D, n)
    pr = random_problem(n, max(1, n // 2), seed=seed)
    f = gradient_flow(p, pr.X, pr.y, values={"alpha": sp.Rational(1, 10)}, duals=False)
    return f.system, f.y0


def linear_flow(widths=(3, 3, 3, 3), seed=1):
    p = linear_net(widths)
    n = p.n_outputs
    pr = random_problem(n, max(1, n // 2), seed=seed)
    f = gradient_flow(p, pr.X, pr.y, duals=False)
    return f.system, f.y0


linear_net = linear.linear_net


# ---- heyoka -----------------------------------------------------------------------------------
def heyoka_run(system, y0, T, dps, prec):
    """heyoka in ``prec`` bits with tolerance 10^-dps (compact mode, like ibcheck's generic code)."""
    prog = decompose(system)

    def real(c):
        c = sp.sympify(c)
        if c.is_Rational:
            return hy.real(str(c.p), prec) / hy.real(str(c.q), prec)
        return hy.real(mpmath.nstr(exact_to_mpf(c, prec + 20), dps + 10, strip_zeros=False), prec)

    st = hy.make_vars(*[f"x{i}" for i in range(system.size)])
    tm = hy.time
    ex = []
    for n in prog.nodes:
        a = [ex[j] for j in n.args]
        op = n.op
        if op == "state":
            ex.append(st[n.value])
        elif op == "time":
            ex.append(tm)
        elif op == "const":
            ex.append(hy.expression(real(n.value)))
        elif op == "lin":
            terms = [x if c == 1 else (-x if c == -1 else hy.expression(real(c)) * x) for c, x in zip(n.coeffs, a)]
            if n.value != 0:
                terms.append(hy.expression(real(n.value)))
            ex.append(hy.sum(terms) if len(terms) > 1 else terms[0])
        elif op == "mul":
            ex.append(a[0] * a[1])
        elif op == "sq":
            # a power, not a*a: heyoka then uses its square recurrence (half the convolution),
            # as ibcheck does for its "sq" nodes
            ex.append(a[0] ** 2)
        elif op == "div":
            ex.append(a[0] / a[1])
        elif op == "pow":
            ex.append(a[0] ** hy.expression(real(n.value)))
        elif op in ("sqrt", "exp", "sin", "cos", "sinh", "cosh", "tanh", "log", "atan", "asinh", "asin", "atanh"):
            ex.append(getattr(hy, op)(a[0]))
        else:
            raise ValueError(op)
    sysl = [(st[i], ex[o]) for i, o in enumerate(prog.outputs)]
    x0 = np.array([hy.real(mpmath.nstr(exact_to_mpf(v, prec + 20), dps + 10, strip_zeros=False), prec) for v in y0])
    t0 = time.perf_counter()
    ta = hy.taylor_adaptive(sysl, x0, fp_type=hy.real, prec=prec, compact_mode=True,
                            tol=hy.real(f"1e-{dps}", prec))
    tc = time.perf_counter() - t0
    runs, cpus, steps = [], [], []

    def run():
        ta.time = hy.real(0, prec)
        ta.state[:] = x0
        c0, t0 = time.process_time(), time.perf_counter()
        out = ta.propagate_until(hy.real(T, prec))
        runs.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        steps.append(out[3])

    def result():
        with mpmath.workdps(dps + 10):
            final = [mpmath.mpf(str(v)) for v in ta.state]
        return tc, statistics.median(runs), final, ta.order, steps[-1], statistics.median(cpus)

    return run, result


# ---- mpmath.odefun ----------------------------------------------------------------------------
class _Timeout(Exception):
    pass


def odefun_rhs(system, expanded=False):
    """The right-hand side for mpmath.odefun: by default with the intermediates (w, r, g)
    computed once per call, in order, as ibcheck and heyoka get them; ``expanded=True`` gives
    the fully substituted expressions (5-6x costlier per evaluation on the diagonal nets)."""
    tsym = system.time or sp.Symbol("_t")
    if expanded:
        return sp.lambdify([tsym] + list(system.states), list(system.expanded_rhs()), modules="mpmath")
    args = [tsym] + list(system.states)
    steps = []
    for s_, e in system.intermediates:
        steps.append(sp.lambdify(list(args), e, modules="mpmath"))
        args.append(s_)
    out = sp.lambdify(list(args), list(system.rhs), modules="mpmath")

    def f(*vals):
        vals = list(vals)
        for g in steps:
            vals.append(g(*vals))
        return out(*vals)

    return f


def odefun_run(system, y0, T, dps, cap, t_short, expanded=False):
    """mpmath.odefun (Taylor series, degree and step chosen by mpmath) at ``dps`` digits:
    [(t, seconds, state)] for t = ``t_short`` and then t = T (odefun's solution object continues
    from its cache).  The whole call is capped at ``cap`` seconds by an alarm; a piece that
    does not finish is left out.  CPU seconds (odefun is single-threaded Python)."""
    f = odefun_rhs(system, expanded)

    def handler(*_):
        raise _Timeout

    out = []
    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(cap)
    try:
        with mpmath.workdps(dps):
            t0 = time.process_time()
            F = mpmath.odefun(lambda t, z: f(t, *z), 0, [exact_to_mpf(v, mpmath.mp.prec) for v in y0])
            y_short = F(t_short)
            out.append((t_short, time.process_time() - t0, y_short))
            yT = F(T)
            out.append((T, time.process_time() - t0, yT))
    except _Timeout:
        pass
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return out


# ---- ibcheck ----------------------------------------------------------------------------------
def ibcheck_run(system, y0, T, dps, backend, repeat=None, between=None, cpu=False):
    """(compile seconds, median integration seconds, last trajectory[, median CPU seconds]);
    ``between()`` runs before each ibcheck run (heyoka's runs, interleaved)."""
    t0 = time.perf_counter()
    compile_system(system, dps=dps, backend=backend)
    tc = time.perf_counter() - t0
    runs, cpus, tr = [], [], None
    for _ in range(repeat or (ARGS.repeat if backend == "fast" else 1)):
        if between is not None:
            between()
        c0 = time.process_time()
        tr = integrate(system, y0, T, dps=dps, backend=backend)
        cpus.append(time.process_time() - c0)
        runs.append(tr.integrate_seconds)
    if cpu:
        return tc, statistics.median(runs), tr, statistics.median(cpus)
    return tc, statistics.median(runs), tr


def digits(a, b, dps):
    with mpmath.workdps(dps + 20):
        d = max(abs(x - y) / max(1, abs(y)) for x, y in zip(a, b))
        return float(dps + 10) if d == 0 else float(-mpmath.log10(d))


def case(name, system, y0, T, dps, reference=False, odefun_cap=0):
    """One benchmark flow: ibcheck (fast path) vs heyoka at ibcheck's working precision (the
    same arithmetic: the headline ratio) and at the bare ``dps`` digits, vs mpmath.odefun."""
    if ARGS.only and not any(k in f"{name} dps={dps}" for k in ARGS.only):
        return
    c = decompose(system).count()
    heys = []
    if hy is not None and not ARGS.no_heyoka:
        for bits in (_work_prec(dps), int(dps * 3.3219280948873626) + 1):
            heys.append((bits,) + heyoka_run(system, y0, T, dps, bits))

    def between():
        for _, run, _ in heys:
            run()

    tc, ti, tr, tcpu = ibcheck_run(system, y0, T, dps, "fast", between=between if heys else None, cpu=True)
    jet = compile_system(system, dps=dps)[1]
    kind = type(jet).__name__.strip("_")
    line = (f"{name:<26} dps={dps:<3} states={system.size:<4} nodes={sum(v for k, v in c.items() if k != 'lin_terms'):<5} "
            f"steps={len(tr.orders):<5} K={tr.orders[0] if tr.orders else '-':<3} compile={tc:7.3f}s "
            f"integrate={ti:8.3f}s (cpu {tcpu:.3f}s) [{kind}] est.err={mpmath.nstr(tr.error_estimate, 2)}")
    if reference:
        _, tref, trr = ibcheck_run(system, y0, T, dps, "reference")
        line += f"\n{'':<28}reference={tref:.3f}s ({tref / ti:.1f}x fast), fast vs reference: {digits(tr.final, trr.final, dps):.1f} digits"
    for bits, _, res in heys:
        hc, hi, hfinal, horder, hsteps, hcpu = res()
        same = "same precision as ibcheck" if bits == _work_prec(dps) else f"{dps} digits only"
        line += (f"\n{'':<28}heyoka {bits} bits ({same}): compile={hc:.3f}s integrate={hi:.3f}s (cpu {hcpu:.3f}s) "
                 f"order={horder} steps={hsteps}  ratio ibcheck/heyoka wall={ti / hi:.2f} cpu={tcpu / hcpu:.2f}  "
                 f"agreement={digits(tr.final, hfinal, dps):.1f} digits")
    for expanded in ((False, True) if odefun_cap else ()):
        # main column: intermediates shared (the same program as ibcheck and heyoka get);
        # second column, labelled: the fully expanded right-hand side
        form = "expanded rhs" if expanded else "shared w, r, g"
        t_short = sp.Rational(T, 20)
        pieces = {tt: (to, out) for tt, to, out in odefun_run(system, y0, T, dps, odefun_cap, t_short, expanded)}
        for tt in (t_short, T):
            # ibcheck timed alone on the same piece, like odefun (not interleaved with heyoka); CPU time
            _, _, trs, ti_t = ibcheck_run(system, y0, tt, dps, "fast", cpu=True)
            if tt not in pieces:  # odefun ran past the cap: the ratio is at least cap / ibcheck
                line += (f"\n{'':<28}mpmath.odefun ({form}) on [0, {tt}]: > {odefun_cap}s (capped) vs ibcheck "
                         f"{ti_t:.4f}s cpu  ratio odefun/ibcheck > {odefun_cap / ti_t:.0f}")
                break
            to, out = pieces[tt]
            line += (f"\n{'':<28}mpmath.odefun ({form}) on [0, {tt}]: {to:.2f}s vs ibcheck {ti_t:.4f}s cpu  "
                     f"ratio odefun/ibcheck={to / ti_t:.0f}  agreement={digits(trs.final, out, dps):.1f} digits")
    print(line, flush=True)


def hand_diag(n, seed=1):
    """Diagonal net u_i^2 - v_i^2 with m = n/2 rows of seeded rational data (no rank check:
    the sweep only times Taylor steps), built directly as an ODESystem with w, r, g shared."""
    import random
    from numerics.taylor.odes import ODESystem
    rng = random.Random(seed)
    m = max(1, n // 2)
    us, vs = sp.symbols(f"u0:{n}"), sp.symbols(f"v0:{n}")
    w, r, g = sp.symbols(f"w0:{n}"), sp.symbols(f"r0:{m}"), sp.symbols(f"g0:{n}")
    X = [[sp.Rational(rng.randint(-16, 16), 8) for _ in range(n)] for _ in range(m)]
    yy = [sp.Rational(rng.randint(-16, 16), 8) for _ in range(m)]
    inter = [(w[i], us[i] ** 2 - vs[i] ** 2) for i in range(n)]
    # unevaluated sums, as numerics.flows builds them (SymPy's canonical Add is quadratic here)
    lin = functools.partial(sp.Add, evaluate=False)
    inter += [(r[j], lin(*[sp.Mul(X[j][i], w[i]) for i in range(n)], -yy[j])) for j in range(m)]
    inter += [(g[i], lin(*[sp.Mul(X[j][i], r[j]) for j in range(m)])) for i in range(n)]
    rhs = [-2 * us[i] * g[i] for i in range(n)] + [2 * vs[i] * g[i] for i in range(n)]
    return ODESystem(us + vs, tuple(rhs), tuple(inter), name=f"hand-diag{n}"), [sp.Rational(1, 10)] * (2 * n)


def sweep_n(ns, dps=30):
    K = order_for(mpmath.mpf(10) ** -dps)
    print(f"\n# cost of one Taylor step (order {K}) vs n: hand-built diagonal net, dps={dps}; "
          f"ns/madd = step time / (lin_terms K + mul K(K+1)/2 + sq K(K+1)/4) multiply-adds")
    prec = _work_prec(dps)
    be = get_backend("fast")
    for n in ns:
        t0 = time.perf_counter()
        system, y0 = hand_diag(n)
        tb = time.perf_counter() - t0
        t0 = time.perf_counter()
        prog = decompose(system)
        td = time.perf_counter() - t0
        c = prog.count()
        out = []
        for name, make in (("fast", jet_fast._FastJet), ("fixed", jet_fixed.FixedJet)):
            t0 = time.perf_counter()
            with mpmath.workprec(prec), be.context(prec):
                jet = make(prog, prec)
            tc = time.perf_counter() - t0
            with mpmath.workprec(prec), be.context(prec):
                y = [be.from_mpf(exact_to_mpf(v, prec)) for v in y0]
                t = be.from_mpf(mpmath.mpf(0))
                args = (t, y, K, be.from_mpf(mpmath.mpf(1) / 8)) if name == "fixed" else (t, y, K)
                reps = max(1, min(5, int(0.5 / max(1e-3, _once(jet, args)))))
                ts = min(_once(jet, args) for _ in range(reps))
            work = c["lin_terms"] * K + (c.get("mul", 0) + c.get("sq", 0) / 2) * K * (K + 1) / 2
            label = "mpfr" if name == "fast" else "fixed"
            out.append(f"{label}: compile={tc:6.2f}s step={ts * 1e3:9.2f} ms ({ts / work * 1e9:4.0f} ns/madd)")
        print(f"n={n:<5} states={system.size:<5} lin_terms={c['lin_terms']:<7} products={c.get('mul', 0) + c.get('sq', 0):<5} "
              f"build={tb:6.2f}s decompose={td:5.2f}s  " + "  ".join(out), flush=True)


def _once(jet, args):
    t0 = time.perf_counter()
    jet(*args)
    return time.perf_counter() - t0


def sweep_digits(n=10, T=20):
    print(f"\n# cost vs digits (diagonal net n={n}, T={T}; heyoka interleaved when installed)")
    system, y0 = diag_flow(n)
    for dps in (30, 60, 120):
        hrun = hres = None
        if hy is not None and not ARGS.no_heyoka:
            hrun, hres = heyoka_run(system, y0, T, dps, _work_prec(dps))
        tc, ti, tr = ibcheck_run(system, y0, T, dps, "fast", between=hrun)
        line = (f"dps={dps:<4} K={tr.orders[0]:<3} steps={len(tr.orders):<4} compile={tc:.3f}s integrate={ti:.3f}s "
                f"per step={ti / len(tr.orders) * 1e3:.1f} ms")
        if hres is not None:
            _, hi, hfinal, _, hsteps, _ = hres()
            line += f"  heyoka={hi:.3f}s steps={hsteps} ratio={ti / hi:.2f} agreement={digits(tr.final, hfinal, dps):.1f}"
        print(line, flush=True)


def check_cost(name="diagonal-quadratic", dps=30):
    """The full cost of one numeric check of a catalog claim: the flow integrated at ``dps`` and
    ``dps + extra`` digits until it converges (:func:`numerics.checks.run`), then the mirror
    identity checked on the common grid -- next to the integrator's own share of it."""
    from numerics.checks import check_mirror, run
    from numerics.cli import default_problem
    from theory.catalog import CATALOG
    e = CATALOG[name]
    p = e.parameterization()
    prob = default_problem(p, e.values, seed=7, dps=dps)
    flow = gradient_flow(p, prob.X, prob.y, values=e.values)
    pot = [c for c in e.literature() if hasattr(c, "gradient")][0]
    c0, t0 = time.process_time(), time.perf_counter()
    runs = run(flow, dps=dps, converge=True)
    c1 = time.process_time()
    v = check_mirror(runs, pot)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    integ = runs.lo.integrate_seconds + runs.hi.integrate_seconds
    print(f"\n# full check cost: {name} (n={len(flow.params)}), mirror identity, dps={dps} and {dps + runs.extra}: "
          f"check={cpu:.3f}s cpu ({wall:.3f}s wall), of which the two runs (integration and stop tests)="
          f"{c1 - c0:.3f}s cpu ({100 * (c1 - c0) / cpu:.0f}%; integrator alone {integ:.3f}s wall), "
          f"{len(runs.lo.orders)} + {len(runs.hi.orders)} steps; verdict {v.details.get('status')}", flush=True)


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small subset (n = 10, 30 digits)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-heyoka", action="store_true")
    ap.add_argument("--odefun-cap", type=int, default=120, help="seconds allowed to mpmath.odefun")
    ap.add_argument("--max-n", type=int, default=1000, help="largest n of the cost-vs-n sweep")
    ap.add_argument("--only", action="append", default=[],
                    help="run only the flows whose 'name dps=D' contains this (repeatable); "
                         "no sweeps")
    ARGS = ap.parse_args()
    if ARGS.quick:
        ARGS.repeat = min(ARGS.repeat, 1)
    print(f"heyoka: {'%s' % hy.__version__ if hy is not None else 'not installed'}; "
          f"cpu count {os.cpu_count()}; load {os.getloadavg()[0]:.2f}")
    T = 20
    s2, y2 = diag_flow(2)
    case("diag u^2-v^2 n=2 (tiny)", s2, y2, T, 30, reference=True, odefun_cap=ARGS.odefun_cap)
    ns = (10,) if ARGS.quick else (10, 20, 50)
    dpss = (30,) if ARGS.quick else (30, 60)
    for dps in dpss:
        for n in ns:
            s, y = diag_flow(n)
            case(f"diag u^2-v^2 n={n}", s, y, T, dps, reference=(n == 10), odefun_cap=ARGS.odefun_cap)
    s3, y3 = diag_flow(10, D=3)
    sl, yl = linear_flow()
    for dps in dpss:
        case("diag u^3-v^3 n=10", s3, y3, T, dps, odefun_cap=ARGS.odefun_cap)
        case("deep linear 3x3x3x3", sl, yl, T, dps, odefun_cap=ARGS.odefun_cap)
    if ARGS.only:
        return
    check_cost()
    sizes = (10, 50) if ARGS.quick else tuple(n for n in (10, 20, 50, 100, 200, 500, 1000) if n <= ARGS.max_n)
    sweep_n(sizes)
    sweep_digits()


if __name__ == "__main__":
    main()
