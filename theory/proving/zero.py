r"""Deciding whether expressions vanish identically: the one place where a proof verdict is made.

* **proved**: every component simplifies to exactly 0 (a chain of cheap-to-expensive SymPy
  rewrites: ``cancel``, ``expand``, ``simplify`` with trig/hyperbolic/log rewrites; before them,
  a real-valued sum of ``asinh`` and ``log`` terms is exponentiated into an algebraic identity,
  :mod:`.log_identities`; a ``Piecewise`` component is tried by sign cases first);
* **refuted**: at an exact rational point (respecting the symbols' assumptions) some component
  is nonzero, either exactly (a nonzero SymPy number) or numerically with certified digits:
  ``evalf`` in strict mode at 50 and at 100 digits, both nonzero with the same sign (strict
  evalf refuses to return a value it cannot tell from zero). This is a *relative* test: a
  remainder of size :math:`10^{-40}` is refuted, which 30-digit numerics could never see.
  The point and value are reported;
* **undecided**: neither; "proved" is never reported for this.
"""
from __future__ import annotations

import random
from typing import Iterable, Sequence

import sympy as sp

from ..claims import Proof
from .log_identities import exp_form_zero
from ..memo import memo

#: digits used to evaluate a remainder at a witness point
EVAL_DIGITS = 50


@memo(4096)
def simplify_to_zero(e: sp.Expr) -> sp.Expr:
    """Simplify ``e`` through increasingly expensive rewrites; returns the simplest form found
    (exactly ``0`` when the identity is proved).

    Rewrites with ``force=True`` (power denesting, log expansion) are valid only for positive
    arguments, so they are used only when every free symbol is declared positive; otherwise
    ``sqrt(u**2) - u`` would be "proved" for real ``u``.
    """
    e = sp.sympify(e)
    if e == 0:
        return sp.Integer(0)
    # sums of asinh and log terms: exponentiate (real-valued only; see log_identities)
    if e.has(sp.asinh) and exp_form_zero(e):
        return sp.Integer(0)
    positive = all(s.is_positive for s in e.free_symbols)
    steps = [
        lambda x: sp.cancel(sp.together(x)),
        sp.expand,
        sp.simplify,
        lambda x: sp.simplify(x.rewrite(sp.exp)),
        # inverse hyperbolic functions as logarithms: asinh(3/4) - log(2) -> 0
        lambda x: sp.simplify(sp.expand_log(x.rewrite(sp.log))),
        # radicands as products: sqrt(r**2 + 2r + 1) -> r + 1 when r + 1 > 0 (exact, by assumptions)
        lambda x: sp.simplify(factor_radicands(x)),
    ]
    if positive:
        steps[2:2] = [lambda x: sp.powsimp(sp.powdenest(sp.expand_power_base(x, force=True), force=True),
                                           force=True)]
        steps.append(lambda x: sp.simplify(sp.expand_log(sp.logcombine(x, force=True), force=True)))
    best = e
    for step in steps:
        try:
            r = step(best)
        except Exception:  # noqa: BLE001 - a rewrite SymPy fails on (KeyError: zoo, ...) proves nothing
            continue
        if r == 0:
            return sp.Integer(0)
        if sp.count_ops(r) <= sp.count_ops(best):
            best = r
    if best.is_number and _algebraic_zero(best):
        return sp.Integer(0)
    return best


def factor_radicands(e, *, square_roots_only: bool = False):
    """Factor the bases (sums) of fractional powers -- of half-integer powers only with
    ``square_roots_only`` -- a value-preserving rewrite, so SymPy's own assumption-aware rules
    can take roots of perfect powers (``sqrt((a+b)**2)`` with a+b > 0 becomes a+b)."""
    return e.replace(lambda x: x.is_Pow and x.exp.is_Rational and not x.exp.is_integer and x.base.is_Add
                     and (x.exp.q == 2 or not square_roots_only),
                     lambda x: sp.factor(x.base) ** x.exp)


def _algebraic_zero(c) -> bool:
    """A constant built from rationals by field operations and radicals is exactly 0 iff its
    minimal polynomial is ``x`` (an exact computation, no numerics)."""
    if not all(a.is_Rational for a in c.atoms(sp.Number)) or c.atoms(sp.Function) or c.has(sp.pi, sp.E):
        return False
    try:
        return sp.minimal_polynomial(c, sp.Dummy("x")).is_Symbol
    except (NotImplementedError, ValueError, TypeError, sp.PolynomialError):
        return False


def _interval_map(a, b, t):
    """A bijection from t > 0 onto the open interval (a, b) (ends may be infinite)."""
    if a == -sp.oo and b == sp.oo:
        return None
    if b == sp.oo:
        return a + t
    if a == -sp.oo:
        return b - t
    return a + (b - a) / (1 + t)


@memo(1024)
def split_cases_zero(e: sp.Expr) -> bool:
    r"""Prove ``e == 0`` by cases when it holds piecewise: the arguments of ``Abs``, ``sign`` and of
    ``Piecewise`` conditions are rational functions of one symbol :math:`x`; between consecutive
    real zeros and poles of them (inside :math:`x`'s declared domain) each has one sign, so on each
    open interval :math:`x` is replaced by a bijection from :math:`t > 0` and SymPy resolves the
    pieces exactly. At each breakpoint the value is computed exactly; where it is defined it must
    be 0 too. ``False`` means "not proved this way" (never "refuted")."""
    args = [a.args[0] for a in e.atoms(sp.Abs, sp.sign)]
    for pw in e.atoms(sp.Piecewise):
        for _, cond in pw.args:
            args += [r.lhs - r.rhs for r in cond.atoms(sp.Rel)]
    if not args:
        return False
    syms = set().union(*(sp.sympify(a).free_symbols for a in args))
    if len(syms) != 1:
        return False
    x = syms.pop()
    points = set()
    for arg in args:
        num, den = sp.fraction(sp.together(arg))
        for part in (num, den):
            if not part.is_polynomial(x):
                return False
            if part.has(x):
                try:
                    points |= {r for r in sp.Poly(part, x).real_roots()}
                except (sp.PolynomialError, NotImplementedError):
                    return False
    lo = sp.Integer(0) if (x.is_positive or x.is_nonnegative) else -sp.oo
    hi = sp.Integer(0) if (x.is_negative or x.is_nonpositive) else sp.oo
    inner = sorted((p for p in points if p.is_real and lo < p < hi), key=lambda r: float(r))
    if len(inner) > 8:
        return False
    ends = [lo, *inner, hi]
    t = sp.Symbol("t_case", positive=True)
    for a, b in zip(ends, ends[1:]):
        phi = _interval_map(a, b, t)
        if phi is None:
            return False
        if simplify_to_zero(e.xreplace({x: phi})) != 0:
            return False
    for p in inner:
        v = e.xreplace({x: p})
        if v.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            continue  # undefined at the breakpoint: the statement says nothing there
        if simplify_to_zero(v) != 0:
            return False
    return True


def sample_point(symbols: Iterable[sp.Symbol], rng: random.Random,
                 constraints: Sequence = ()) -> dict:
    """A random exact rational point respecting each symbol's sign assumptions and the
    ``constraints`` (boolean SymPy relations such as ``s**2 < 1``; up to 50 redraws)."""
    symbols = sorted(set(symbols), key=str)
    for _ in range(50):
        pt = {}
        for s in symbols:
            q = sp.Rational(rng.randint(1, 29), rng.randint(2, 13))
            if s.is_positive or s.is_nonnegative:
                val = q
            elif s.is_negative or s.is_nonpositive:
                val = -q
            else:
                val = q if rng.random() < 0.5 else -q
            pt[s] = val
        if all(bool(c.xreplace(pt)) for c in constraints):
            return pt
    raise ValueError(f"could not draw a point satisfying {constraints}")


def evaluate(e: sp.Expr, point: dict):
    """Value of ``e`` at ``point``: an exact number when SymPy can reduce it, else a
    50-digit Float. Returns ``None`` where e is undefined there (division by zero, log 0)."""
    v = sp.sympify(e).xreplace(point)
    if v.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return None
    if v.is_Rational:
        return v
    try:
        f = sp.N(v, EVAL_DIGITS)
    except (TypeError, ValueError):  # pragma: no cover
        return None
    if not f.is_number or f.has(sp.zoo, sp.nan):
        return None
    return f


def certified_value(e: sp.Expr, point: dict):
    """The value of ``e`` at ``point`` when it is certified nonzero: an exact nonzero number, or a
    Float that strict ``evalf`` returns at :data:`EVAL_DIGITS` and at twice as many digits with
    the same sign. ``None`` when the value is zero, undefined, not real-or-complex, or cannot be
    told from zero."""
    from sympy.core.evalf import PrecisionExhausted

    v = sp.sympify(e).xreplace(point)
    if v.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or v.free_symbols:
        return None
    if v.is_Rational:
        return v if v != 0 else None
    vals = []
    for digits in (EVAL_DIGITS, 2 * EVAL_DIGITS):
        try:
            f = sp.N(v, digits, strict=True, maxn=4 * digits)
        except (PrecisionExhausted, TypeError, ValueError, ZeroDivisionError):
            return None
        if not f.is_number or f.has(sp.zoo, sp.nan) or f == 0:
            return None
        vals.append(f)
    a, b = vals
    if a.is_real and b.is_real and sp.sign(a) != sp.sign(b):
        return None
    return a


def is_clearly_nonzero(val) -> bool:
    """Whether a value from :func:`certified_value` (or an exact number) is nonzero."""
    if val is None:
        return False
    if val.is_Rational:
        return val != 0
    return val != 0


def check_identity(components: Sequence[sp.Expr], identity: str, *, points: int = 6, seed: int = 0,
                   constraints: Sequence = (), extra_symbols: Iterable = ()) -> Proof:
    """Decide whether every expression in ``components`` is identically zero (see module doc).

    ``identity`` is the statement being checked (shown in reports); ``constraints`` restrict
    the random points (e.g. a shape parameter ``|s| < 1``).
    """
    comps = [sp.sympify(c) for c in components]
    syms = set(extra_symbols)
    for c in comps:  # simplification never adds symbols: the remainders' symbols are among these
        syms |= c.free_symbols
    early = _early_refutation(comps, identity, points, seed, constraints, syms)
    if early is not None:
        return early
    # a Piecewise component is tried by cases first: simplify works on the whole Piecewise at once
    # and rarely decides it (the cases are the cheaper proof, and the same one as below)
    by_cases = [c.has(sp.Piecewise) and split_cases_zero(c) for c in comps]
    remainders = [sp.Integer(0) if bc else simplify_to_zero(c) for c, bc in zip(comps, by_cases)]
    if all(r == 0 for r in remainders) and not any(by_cases):
        return Proof("proved", identity, sp.Integer(0), method="symbolic simplification")
    if all(r == 0 or split_cases_zero(r) for r in remainders):
        return Proof("proved", identity, sp.Integer(0),
                     method="symbolic simplification on each sign case of the Abs/Piecewise arguments")
    for r in remainders:
        syms |= r.free_symbols
    # evaluate the *original* component: the forced rewrites above (powdenest/expand_power_base
    # with force=True) may change values off the positive orthant, so a refutation found on the
    # simplified remainder alone could be spurious.
    nonzero = [c for c, r in zip(comps, remainders) if r != 0]
    found = _certified_witness(nonzero, _sample_points(syms, seed, points, constraints))
    if found is not None:
        return Proof("refuted", identity, _pack(remainders), witness=found[0], witness_value=found[1],
                     method="nonzero at an exact rational point")
    return Proof("undecided", identity, _pack(remainders),
                 method=f"did not simplify to 0; zero at {points} random rational points")


#: a 15-digit value above this (in absolute value) makes a component worth certifying before
#: simplifying it; the gate only decides the order of work, never a verdict
_PROBE_GATE = 1e-6


def _probe(e, point) -> bool:
    """Whether a quick 15-digit (uncertified) value of ``e`` at ``point`` is far from 0."""
    try:
        v = sp.sympify(e).xreplace(point)
        if v.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or v.free_symbols:
            return False
        f = sp.N(v, 15)
        return bool(f.is_number and not f.has(sp.zoo, sp.nan) and abs(complex(f)) > _PROBE_GATE)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return False


def _early_refutation(comps, identity, points, seed, constraints, syms):
    r"""The refutation :func:`check_identity` would reach after simplifying, found before it.

    A component that is certified nonzero (:func:`certified_value`) at an admissible point can
    simplify to 0 by no value-preserving rewrite, so the rewrite chain cannot prove the
    statement and is skipped (issue 15: most of a refutation's time went into failed rewrites).
    Only when a quick 15-digit value at the first point is far from 0 (otherwise the usual order
    is kept: simplification first). The points, their order and the certification are those of
    the refutation loop in :func:`check_identity`, so the witness and its value are the same;
    the reported remainders are only the cheap value-preserving rewrite
    ``cancel(together(.))`` of each component, not the full chain's simplest form."""
    pts = _sample_points(syms, seed, points, constraints)
    try:
        first = next(pts, None)
        # a statement that will be proved pays for one point and one probe only
        if first is None or not any(_probe(c, first) for c in comps):
            return None
        rest = list(pts)
    except TypeError:  # a constraint in symbols the components lack: undecidable here, keep the usual order
        return None
    found = _certified_witness(comps, [first] + rest)
    if found is None:
        return None
    return Proof("refuted", identity, _pack([_cheap_form(x) for x in comps]), witness=found[0],
                 witness_value=found[1], method="nonzero at an exact rational point")


def _sample_points(syms, seed, points, constraints):
    """The refutation's admissible random points, drawn lazily in their fixed order (the same
    sequence for the early and the late refutation, so both report the same witness)."""
    rng = random.Random(seed)
    for _ in range(points):
        try:
            yield sample_point(syms, rng, constraints)
        except ValueError:
            return


def _certified_witness(comps, pts):
    """The first ``(point, value)`` where some component is certified nonzero, or ``None``."""
    for pt in pts:
        for c in comps:
            val = certified_value(c, pt)
            if is_clearly_nonzero(val):
                return pt, val
    return None


def _cheap_form(e):
    """``cancel(together(e))`` (value-preserving where ``e`` is defined), ``e`` when it fails."""
    try:
        r = sp.cancel(sp.together(e))
    except Exception:  # noqa: BLE001 - as in simplify_to_zero: a failed rewrite changes nothing
        return e
    return sp.Integer(0) if r == 0 else r


def _pack(rs):
    return rs[0] if len(rs) == 1 else tuple(rs)
