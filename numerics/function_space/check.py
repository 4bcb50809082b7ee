r"""The check pipeline of ``kind="function-space"`` catalog entries (wide ReLU networks).

One :class:`~numerics.verdict.Verdict` per claim, each with the symbolic status from
``theory.function_space`` and a numeric residual from an independent route:

* normalisation: :math:`\int p = 1` by mpmath quadrature;
* each stated :math:`\zeta` (paper, re-derived piece, negative control): the closed form against
  :math:`\int|w|^3p(w,-wx)\,dw` by quadrature at points of its interval;
* Prop. 15: :math:`\zeta\varrho` constant at points of the interval, :math:`\zeta` by quadrature;
* the kernel closed form against :math:`\mathbb E[(Wx_1+B)_+(Wx_2+B)_+]` by quadrature (Gaussian:
  against the arc-cosine kernel, whose nested quadrature is too slow at 30 digits);
* the spline: interpolation, :math:`C^1` gluing, continuity of :math:`g''/\zeta`, natural ends;
* kernel route = variational route on :math:`S` (details: the theorem's :math:`(u, v)` and the
  least-squares line);
* energy: the spline's :math:`\int_S g''^2/\zeta` = the kernel norm :math:`c^\top\tilde\Theta c`
  (Thms 42-43).

Tolerance :math:`10^{-(dps-5)}`; error estimate: the change of the residual's inputs between
``dps`` and ``dps + 15`` digits. A negative control (``expect="fails"``) passes when the symbolic
check refutes it *and* its residual exceeds tolerance plus estimate (status ``rejected``).
"""
from __future__ import annotations

import time
from dataclasses import replace

import mpmath
import sympy as sp

from theory.function_space.claims import CurvatureWeight, PenaltyRealization
from theory.function_space.derive import (agreement_proof, derive_function_space, verify_curvature,
                                          verify_realization)
from theory.function_space.init_laws import Density, Product, subs
from theory.function_space.kernel import arccos_kernel, interpolate, kernel_value
from theory.function_space.pieces import X, Pieces, less
from theory.function_space.spline import selected_function

from theory.errors import IbcheckError

from ..verdict import Verdict
from .quadrature import kernel_quadrature, mass, zeta_quadrature

EXTRA = 15


def _mp(v, dps):
    with mpmath.workdps(dps + 10):
        return mpmath.mpf(sp.N(v, dps + 20)) if isinstance(v, sp.Basic) else mpmath.mpf(v)


def _verdict(model, claim, kind, residual, estimate, dps, symbolic, t0, details=None, expect="holds"):
    tol = 10.0**-(dps - 5)
    residual, estimate = float(residual), float(estimate)
    if expect == "fails":
        rejected = residual > tol + estimate
        passed = rejected and symbolic in ("refuted", "n/a")
        status = "rejected" if passed else ("accepted (wrong)" if not rejected else "symbolic not refuted")
    else:
        passed = residual <= tol and estimate <= tol and symbolic != "refuted"
        status = "confirmed" if passed else ("inconclusive" if residual <= tol + estimate and symbolic != "refuted"
                                             else "refuted")
    return Verdict(model=model, claim=claim, kind=kind, passed=passed, residual=residual, tolerance=tol, dps=dps,
                   error_estimate=estimate, symbolic=symbolic, seconds=time.perf_counter() - t0,
                   details={"status": status, "expect": expect, **(details or {})})


def _densities(law):
    from theory.function_space.init_laws import KinkLaw, Mixture
    if isinstance(law, Density):
        return [law]
    if isinstance(law, (Product, KinkLaw)):
        return _densities(law.w) + _densities(law.b if isinstance(law, Product) else law.c)
    if isinstance(law, Mixture):
        return [d for _, m in law.parts for d in _densities(m)]
    return []


def _points(lo, hi):
    lo, hi = sp.sympify(lo), sp.sympify(hi)
    if lo == -sp.oo and hi == sp.oo:
        return [sp.Rational(-5, 2), sp.Rational(1, 3), sp.Rational(7, 4)]
    if lo == -sp.oo:
        return [hi - sp.Rational(1, 3), hi - 2, hi - 5]
    if hi == sp.oo:
        return [lo + sp.Rational(1, 3), lo + 2, lo + 5]
    return [lo + (hi - lo) * f for f in (sp.Rational(1, 7), sp.Rational(1, 2), sp.Rational(5, 6))]


def _two(f, dps):
    """f(dps) and f(dps + EXTRA) -> (value at dps, |difference|)."""
    a, b = f(dps), f(dps + EXTRA)
    with mpmath.workdps(dps + EXTRA):
        return a, abs(mpmath.mpf(a) - mpmath.mpf(b))


def check_entry(entry, *, dps: int = 30, seed: int = 0, progress=None, sets=None) -> list:
    """Verdicts for a function-space entry; ``sets`` overrides the built-in constant values
    (``--set sigma_b=1/3``); an unknown name or a non-positive value is an :class:`IbcheckError`."""
    say = progress or (lambda msg: None)
    model = entry.parameterization()
    if sets:
        known = {c.name for c in model.constants}
        for k, v in sets.items():
            if k not in known:
                raise IbcheckError(f"{model.name} has no constant {k!r}; known: {', '.join(sorted(known))}")
            try:
                ok = sp.Rational(v) > 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise IbcheckError(f"--set {k}={v}: a positive rational is needed")
        model = replace(model, values={**model.values, **sets})
    name = model.name
    t0 = time.perf_counter()
    d = derive_function_space(model, dps=dps)
    say(f"{name}: derived in {time.perf_counter() - t0:.2f} s")
    vals = model.value_map()
    law = subs(model.law, vals)
    out = []

    # 1. normalisation
    t0 = time.perf_counter()
    def masses(p):
        with mpmath.workdps(p):
            return max(abs(mass(dd, p) - 1) for dd in _densities(law)) if _densities(law) else mpmath.mpf(0)
    r, est = _two(masses, dps)
    out.append(_verdict(name, "law normalised (every density integrates to 1)", "normalisation", r, est, dps,
                        d.normalisation.status, t0))

    # 2. stated curvature weights and Prop. 15
    for claim in entry.literature():
        t0 = time.perf_counter()
        if isinstance(claim, CurvatureWeight):
            proof = verify_curvature(d.zeta, claim)
            pts = [(x, e) for lo, hi, e in claim.pieces
                   for x in _points(sp.sympify(lo).subs(vals), sp.sympify(hi).subs(vals))]

            def resid(p, pts=pts):
                with mpmath.workdps(p + 10):
                    return max(abs(_mp(sp.sympify(e).subs(vals).subs(X, x), p) - zeta_quadrature(law, x, p))
                               for x, e in pts)
            r, est = _two(resid, dps)
            out.append(_verdict(name, claim.label, "zeta", r, est, dps, proof.status, t0,
                                {"witness": str(proof.witness)} if proof.witness else {}, claim.expect))
        elif isinstance(claim, PenaltyRealization):
            proof = verify_realization(claim)
            pts = _points(claim.lo, claim.hi)

            def resid(p, claim=claim, pts=pts):
                with mpmath.workdps(p + 10):
                    prods = [zeta_quadrature(claim.law, x, p) * _mp(claim.rho.subs(X, x), p) for x in pts]
                    return max(abs(q - prods[0]) / abs(prods[0]) for q in prods)
            r, est = _two(resid, dps)
            out.append(_verdict(name, claim.label, "penalty", r, est, dps, proof.status, t0, {}, claim.expect))
    say(f"{name}: literature claims checked")

    # 3. kernel closed form
    t0 = time.perf_counter()
    zp, zm = d.zeta_plus.subs(vals), d.zeta_minus.subs(vals)
    pairs = [(sp.Rational(-1, 3), sp.Rational(3, 2)), (sp.Rational(1, 2), sp.Rational(1, 2)),
             (sp.Rational(-2), sp.Rational(5, 4))]
    gaussian = name.endswith("gaussian")
    if gaussian:
        sw, sb = (vals[s] for s in model.constants)
        ref = lambda p, a, b: _mp(arccos_kernel(sw, sb, a, b), p)
        label = "kernel closed form = arc-cosine kernel (Cho & Saul 2009)"
    else:
        ref = lambda p, a, b: kernel_quadrature(law, a, b, p)
        label = "kernel closed form = E[(W x1 + B)+ (W x2 + B)+] by quadrature"

    def kres(p):
        with mpmath.workdps(p + 10):
            return max(abs(_mp(kernel_value(zp, zm, a, b), p) - ref(p, a, b)) for a, b in pairs)
    r, est = _two(kres, dps)
    out.append(_verdict(name, label, "kernel", r, est, dps, "n/a", t0))
    if gaussian:  # the swapped arc-cosine kernel must be rejected
        t0 = time.perf_counter()
        def kbad(p):
            with mpmath.workdps(p + 10):
                return max(abs(_mp(kernel_value(zp, zm, a, b), p) - _mp(arccos_kernel(sb, sw, a, b), p))
                           for a, b in pairs)
        r, est = _two(kbad, dps)
        out.append(_verdict(name, "negative control: arc-cosine kernel with sigma_w <-> sigma_b",
                            "kernel", r, est, dps, "n/a", t0, {}, "fails"))
    say(f"{name}: kernel checked")

    # 4. the spline, 5. kernel route = variational route, 6. energy
    sf, ki = d.spline, d.kernel
    if sf.exact and ki.exact:
        sf2, ki2 = sf, ki
    else:
        zv = (zp + zm).merged()
        sf2 = selected_function(model.xs, model.ys, zv, dps=dps + EXTRA)
        ki2 = interpolate(model.xs, model.ys, zp, zm, dps=dps + EXTRA)
    t0 = time.perf_counter()
    r, est = _spline_defect(sf, dps), None
    r2 = _spline_defect(sf2, dps + EXTRA)
    out.append(_verdict(name, "g*: interpolates, C^1, g''/zeta continuous and linear, natural ends", "spline",
                        r, abs(r - r2), dps, d.spline_proof.status, t0, {"energy": str(sf.energy)}))
    t0 = time.perf_counter()
    xs = sf.xs
    grid = sorted(set(list(xs) + [a + (b - a) * f for a, b in zip(xs, xs[1:])
                                  for f in (sp.Rational(1, 4), sp.Rational(1, 2), sp.Rational(2, 3))]))

    def gap(s, k, p):
        with mpmath.workdps(p + 10):
            return max(abs(_mp(k.pieces.at(x), p) - _mp(s.pieces.at(x), p)) for x in grid)
    r = gap(sf, ki, dps)
    r2 = gap(sf2, ki2, dps + EXTRA)
    with mpmath.workdps(dps + EXTRA):
        est = abs(max(abs(_mp(sf(x), dps) - _mp(sf2(x), dps + EXTRA)) for x in grid))
    details = {"u": str(ki.u), "v": str(ki.v), "ols_u": str(d.least_squares[0]), "ols_v": str(d.least_squares[1]),
               "points": len(grid)}
    out.append(_verdict(name, "kernel interpolant + (u x + v) = variational g* on S (20+ digits)", "agreement",
                        r, max(est, abs(r - r2)), dps, d.agreement_proof.status, t0, details))
    # the least-squares line in place of the theorem's term: a different function (negative control)
    t0 = time.perf_counter()
    u_ls, v_ls = d.least_squares
    def ls_gap(p):
        with mpmath.workdps(p + 10):
            return max(abs(_mp(ki.network.at(x) + u_ls * x + v_ls, p) - _mp(sf(x), p)) for x in grid)
    r = ls_gap(dps)
    symbolic = "n/a"
    if ki.exact and sf.exact:
        wrong = Pieces(ki.network.breaks, tuple(e + u_ls * X + v_ls for e in ki.network.exprs))
        symbolic = agreement_proof(sf, replace(ki, pieces=wrong)).status
    out.append(_verdict(name, "negative control: kernel part + least-squares line = g*", "agreement",
                        r, 0.0, dps, symbolic, t0,
                        {"ols_u": str(u_ls), "ols_v": str(v_ls)}, "fails"))
    t0 = time.perf_counter()

    def energy_gap(s, k, p):
        with mpmath.workdps(p + 10):
            c = [_mp(v, p) for v in k.c]
            K = [[_mp(k.K[i, j], p) for j in range(len(c))] for i in range(len(c))]
            norm = mpmath.fsum(c[i] * K[i][j] * c[j] for i in range(len(c)) for j in range(len(c)))
            return abs(norm - _mp(s.energy, p)) / max(abs(norm), 1)
    r = energy_gap(sf, ki, dps)
    r2 = energy_gap(sf2, ki2, dps + EXTRA)
    out.append(_verdict(name, "energy: int_S g''^2/zeta = kernel norm c^T Theta c (Thms 42-43)", "energy",
                        r, abs(r - r2), dps, "n/a", t0, {"energy": str(sp.N(sf.energy, 20))}))
    say(f"{name}: spline and kernel routes compared")
    return out


def _spline_defect(sf, dps):
    """max over the knots of |g - y|, jumps of g, g', g''/zeta across breaks, |g''/zeta| at the ends."""
    with mpmath.workdps(dps + 10):
        ivs = [(a, b, g) for a, b, g in sf.pieces.intervals() if not less(a, sf.xs[0]) and not less(sf.xs[-1], b)]
        ev = lambda e, x: _mp(sp.sympify(e).subs(X, x), dps)
        defects = []
        for a, b, g in ivs:
            for x, y in zip(sf.xs, sf.ys):
                if x in (a, b):
                    defects.append(abs(ev(g, x) - _mp(y, dps)))
        ratio = lambda a, b, g: sp.diff(g, X, 2) / sf.zeta.piece_at_interval(a, b)
        for (a, b, g), (_, c, g2) in zip(ivs, ivs[1:]):
            for k in (0, 1):
                defects.append(abs(ev(sp.diff(g, X, k), b) - ev(sp.diff(g2, X, k), b)))
            defects.append(abs(ev(ratio(a, b, g), b) - ev(ratio(b, c, g2), b)))
        a, b, g = ivs[0]
        defects.append(abs(ev(ratio(a, b, g), a)))
        a, b, g = ivs[-1]
        defects.append(abs(ev(ratio(a, b, g), b)))
        return max(defects)


def print_derivation(entry, *, latex: bool = False, as_json: bool = False) -> int:
    """``ibcheck derive NAME`` for a function-space entry."""
    import json

    from theory.function_space.latex import latex_document, record

    d = derive_function_space(entry.parameterization())
    if latex:
        print(latex_document(d))
        return 0
    rec = record(d)
    if as_json:
        print(json.dumps(rec, indent=2))
        return 0
    print(f"{rec['model']}  ({rec['source']})")
    print(f"  law: {rec['law']}   [normalisation {rec['normalisation']}]")
    print("  zeta:")
    for p in rec["zeta"]:
        print(f"    ({p['from']}, {p['to']}): {p['expr']}")
    if "spline" in rec:
        print(f"  at {rec['values']}, data x = {rec['x']}, y = {rec['y']}:")
        print(f"    g''/zeta at the knots: {rec['g_second_over_zeta_at_knots']}")
        print(f"    energy int_S g''^2/zeta = {rec['energy']}   [Euler-Lagrange: {rec['spline_proof']}]")
        print(f"    theorem's linear term: u = {rec['u']}, v = {rec['v']};  least squares: {rec['least_squares']}")
        print(f"    kernel interpolant + u x + v = g* on S: {rec['kernel_equals_spline']}")
        for p in rec["spline"]:
            print(f"    g* on ({p['from']}, {p['to']}): {p['expr']}")
    return 0
