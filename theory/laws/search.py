r"""Finding and proving conservation laws :math:`h(x)` of :math:`\dot x = -M(x)J_G(x)^\top\nabla L(G(x))`.

A function :math:`h` is conserved for *every* loss iff

.. math::  J_G(x)\,M(x)\,\nabla h(x) = 0 \quad\text{for all } x

(Marcotte, Gribonval, Peyré, NeurIPS 2023, Prop. 2.5: :math:`\nabla h \perp M\nabla G_i` for all i).
Laws are found by

1. an exact ansatz: :math:`h = \sum_\alpha a_\alpha x^\alpha` over homogeneous monomials of degree
   1, 2, ... (and Laurent monomials of negative degree for small templates), the coefficients
   solving the linear system obtained by collecting x-monomials of :math:`J_G M \nabla h`
   (exact nullspace over QQ, or over QQ(constants));
2. for non-polynomial fields, and after the ansatz for polynomial ones: logarithmic and rational
   laws :math:`\sum_k c_k \log P_k + F` over Darboux candidates (:mod:`theory.laws.darboux`);
   rational fields are first multiplied row by row by their common denominator;
3. the method of characteristics for a 2-parameter template :math:`g(u, v)`: :math:`h` is constant
   along :math:`du/ds = \eta_u g_u,\ dv/ds = \eta_v g_v`, so a first integral of
   :math:`dv/du = \eta_v g_v / (\eta_u g_u)` is a law (non-polynomial laws, e.g.
   :math:`u^{2-D} + v^{2-D}` for :math:`u^D - v^D`, Woodworth et al. COLT 2020, Sec. 5).

Only laws proved by :func:`prove_law` (through :func:`theory.proving.zero.check_identity`) are returned.
"""
from __future__ import annotations

import itertools
import random
from typing import Iterable, Sequence

import sympy as sp
from sympy.polys.matrices import DomainMatrix

from ..claims import ConservedQuantity, LawCount, Proof
from ..errors import IbcheckError
from ..parameterization import Parameterization
from ..memo import memo
from ..proving.zero import check_identity, sample_point

#: the identity every law must satisfy (shown in proofs and reports)
LAW_IDENTITY = r"J_G M \nabla h = 0"
#: Laurent ansatz only for templates with at most this many parameters (the basis grows fast)
_LAURENT_MAX_PARAMS = 4


# =============================================================================================
# the model a law lives on
# =============================================================================================
def _system(p: Parameterization, coordinate: bool):
    """(params, outputs, metric matrix, constants) of the whole model or its template."""
    if not isinstance(p, Parameterization):
        raise IbcheckError(f"expected a Parameterization, got {type(p).__name__}")
    if coordinate:
        if p.coordinate is None:
            raise IbcheckError(f"{p.name}: coordinate=True but the model is not separable")
        c = p.coordinate
        M = sp.eye(len(c.params)) if c.rates is None else sp.diag(*c.rates)
        return tuple(c.params), (c.output,), M, tuple(p.constants)
    return tuple(p.params), tuple(p.outputs), p.metric_matrix(), tuple(p.constants)


def _check_symbols(p, h, params, constants, coordinate):
    extra = sp.sympify(h).free_symbols - set(params) - set(constants)
    if extra:
        where = "template parameters" if coordinate else "parameters"
        raise IbcheckError(
            f"{p.name}: the law {h} uses {', '.join(sorted(map(str, extra)))}, which are not "
            f"{where} ({', '.join(map(str, params))}) or constants "
            f"({', '.join(map(str, constants)) or 'none'})")


# =============================================================================================
# proof
# =============================================================================================
@memo(1024)
def prove_law(p: Parameterization, h, *, coordinate: bool = False) -> Proof:
    r"""Decide whether :math:`h` is conserved for every loss: :math:`J_G(x) M(x) \nabla h(x) = 0`.

    With ``coordinate=True`` ``h`` is in the template symbols and is checked on the template
    coordinate (it then holds for every coordinate). A regularizer (weight decay) is ignored:
    this is the "conserved for every loss when the explicit regularizer is off" statement;
    with the regularizer on, such laws generally drift.
    """
    params, outputs, M, constants = _system(p, coordinate)
    h = sp.sympify(h)
    _check_symbols(p, h, params, constants, coordinate)
    grad = sp.Matrix([sp.diff(h, x) for x in params])
    J = sp.Matrix(list(outputs)).jacobian(sp.Matrix(list(params)))
    comps = list(J * M * grad)
    return check_identity(comps, LAW_IDENTITY, extra_symbols=params)


# =============================================================================================
# search
# =============================================================================================
def find_laws(p: Parameterization, *, max_degree: int = 4, count: LawCount | None = None,
              coordinate: bool | None = None) -> tuple:
    r"""Conservation laws of ``p``, each proved (``origin="derived"``).

    For separable models the laws are per coordinate (template symbols, ``coordinate=True``)
    unless ``coordinate=False``. Stops once ``count.laws`` independent laws are found (the
    count defaults to :func:`theory.laws.lie.lie_count`). Methods in order: polynomial ansatz of
    degree 1..``max_degree``; Laurent ansatz (small templates); characteristics (2-parameter
    templates). Returns fewer laws than the count when these methods do not find them all.
    """
    from .lie import lie_count

    if max_degree < 1:
        raise IbcheckError(f"max_degree must be >= 1, got {max_degree}")
    coord = p.is_separable if coordinate is None else bool(coordinate)
    if count is None:
        count = lie_count(p, template=coord)
    target = count.laws
    params, outputs, M, constants = _system(p, coord)
    found: list = []
    if target <= 0:
        return ()
    rng = random.Random(0)
    pts = [_point(params, constants, rng) for _ in range(2)]

    def add(expr, method):
        if len(found) >= target:
            return
        expr = sp.sympify(expr)
        if expr.is_polynomial(*params):
            expr = sp.expand(expr)
        if expr.is_number or not _independent([f.expr for f in found], expr, params, pts):
            return
        if prove_law(p, expr, coordinate=coord).proved:
            found.append(ConservedQuantity(expr, origin="derived", method=method, coordinate=coord))

    polynomial = _polynomial_fields(params, outputs, M)
    if not polynomial:
        # rational/algebraic fields: the log-rational ansatz first (it also finds the rational
        # laws, as products of powers), the symbolic ansatz only for what it missed
        _log_stage(params, outputs, M, constants, add)
        if len(found) >= target:
            return tuple(found)
    for deg in range(1, max_degree + 1):
        for h in _ansatz(params, outputs, M, _monomials(params, deg)):
            add(h, f"ansatz degree {deg}")
        if len(found) >= target:
            return tuple(found)
    if len(params) <= _LAURENT_MAX_PARAMS:
        for deg in range(1, max_degree + 1):
            for h in _ansatz(params, outputs, M, _laurent_monomials(params, -deg, max_degree)):
                add(h, f"ansatz degree {-deg}")
            if len(found) >= target:
                return tuple(found)
    if polynomial:
        _log_stage(params, outputs, M, constants, add)
        if len(found) >= target:
            return tuple(found)
    if len(params) == 2 and len(outputs) == 1:
        h = characteristic_law(params, outputs[0], M)
        if h is not None:
            add(h, "characteristics")
    return tuple(found)


def _polynomial_fields(params, outputs, M) -> bool:
    """Whether every entry of :math:`J_G M` is a polynomial in the parameters."""
    J = sp.Matrix(list(outputs)).jacobian(sp.Matrix(list(params)))
    return all(sp.sympify(e).is_polynomial(*params) for e in J * M)


def _log_stage(params, outputs, M, constants, add) -> None:
    r"""Laws :math:`\sum_k c_k\log P_k + F` (:mod:`theory.laws.darboux`), each proved by ``add``."""
    from .darboux import log_laws

    for h in log_laws(params, outputs, M, constants):
        add(h, "log-rational ansatz (Darboux)" if h.has(sp.log) else "rational ansatz (Darboux)")


def law_summary(found: Sequence, count: LawCount) -> str:
    """``"found k of K laws"`` (``per coordinate`` for separable templates)."""
    where = " per coordinate" if count.per_coordinate else ""
    return f"found {len(found)} of {count.laws} laws{where}"


def laws_equivalent(p: Parameterization, derived: Iterable, literature: Iterable, *,
                    coordinate: bool = False, points: int = 3, seed: int = 0) -> bool:
    r"""Whether every literature law is functionally dependent on the derived ones: at random
    exact points the gradients of derived + literature laws have the same rank as those of the
    derived laws alone (gradients parallel, not textual equality)."""
    params, _, _, constants = _system(p, coordinate)
    der = [getattr(h, "expr", h) for h in derived]
    lit = [getattr(h, "expr", h) for h in literature]
    rng = random.Random(seed)
    for _ in range(points):
        pt = _point(params, constants, rng)
        if _grad_rank(der + lit, params, pt) != _grad_rank(der, params, pt):
            return False
    return True


# =============================================================================================
# ansatz
# =============================================================================================
def _monomials(params, deg):
    """All monomials of total degree ``deg`` in ``params``."""
    return [sp.Mul(*c) for c in itertools.combinations_with_replacement(params, deg)]


def _laurent_monomials(params, total, bound):
    """Laurent monomials of total degree ``total`` (< 0) with exponents in [-bound, bound]."""
    out = []
    for exps in itertools.product(range(-bound, bound + 1), repeat=len(params)):
        if sum(exps) == total:
            out.append(sp.Mul(*[x**e for x, e in zip(params, exps)]))
    return out


def _ansatz(params, outputs, M, basis) -> list:
    r"""Exact solutions :math:`h = \sum a_k m_k` of :math:`J_G M \nabla h \equiv 0` (nullspace of
    the coefficient matrix, over QQ or QQ(constants))."""
    if not basis:
        return []
    J = sp.Matrix(list(outputs)).jacobian(sp.Matrix(list(params)))
    JM = _clear_denominators(J * M, params)
    if JM is None:  # a row with radicals or functions that do not clear: out of reach here
        return []
    columns = []
    keys: dict = {}
    for m in basis:
        g = sp.Matrix([sp.diff(m, x) for x in params])
        col = {}
        for i, e in enumerate(JM * g):
            for term, coeff in _terms(sp.expand(e), params):
                key = (i, term)
                col[key] = col.get(key, 0) + coeff
        columns.append(col)
        for k in col:
            keys.setdefault(k, len(keys))
    if not keys:
        return list(basis)
    entries = [[0] * len(basis) for _ in range(len(keys))]
    for c, col in enumerate(columns):
        for k, v in col.items():
            entries[keys[k]][c] = v
    flat = [sp.sympify(v) for row in entries for v in row]
    dom, elems = sp.polys.constructor.construct_domain(flat, field=True)
    A = DomainMatrix([elems[r * len(basis):(r + 1) * len(basis)] for r in range(len(keys))],
                     (len(keys), len(basis)), dom)
    null = A.nullspace().to_Matrix()
    laws = []
    for r in range(null.rows):
        vec = [sp.sympify(a) for a in null.row(r)]
        piv = next(a for a in vec if a != 0)
        vec = [sp.cancel(a / piv) for a in vec]  # monic: first coefficient 1
        if all(a.is_Rational for a in vec):      # then integer coefficients, content 1
            den = sp.ilcm(*[a.q for a in vec])
            vec = [a * den for a in vec]
        laws.append(sp.expand(sum((a * m for a, m in zip(vec, basis)), sp.Integer(0))))
    return laws


def _clear_denominators(JM, params):
    r"""Each row of :math:`J_G M` times the common denominator of the row (which leaves the
    nullspace of the ansatz unchanged: the row's identity is multiplied by a nonzero function);
    ``None`` when a row does not become polynomial (radicals, transcendental functions)."""
    out = sp.Matrix(JM)
    for i in range(out.rows):
        row = [sp.together(e) for e in out.row(i)]
        dens = [sp.fraction(e)[1] for e in row]
        if all(not d.free_symbols & set(params) for d in dens):
            continue
        den = sp.lcm_list(dens) if all(d.is_polynomial(*params) for d in dens) else None
        if den is None:
            return None
        for j, e in enumerate(row):
            c = sp.cancel(e * den)
            if not c.is_polynomial(*params):
                return None
            out[i, j] = sp.expand(c)
    return out


def _terms(e, params):
    """(x-monomial, coefficient) pairs of an expanded Laurent polynomial in ``params``."""
    for t in sp.Add.make_args(e):
        if t == 0:
            continue
        coeff, mono = t.as_independent(*params, as_Add=False)
        yield mono, coeff


# =============================================================================================
# characteristics
# =============================================================================================
def characteristic_law(params, output, M=None):
    r"""A first integral of :math:`dv/du = \eta_v g_v / (\eta_u g_u)` for a 2-parameter template
    :math:`g(u, v)` (:math:`\eta` = the diagonal of ``M``), or ``None``.

    Separable right-hand side :math:`F(u)\,G(v)`: :math:`h = \int dv/G(v) - \int F(u)\,du`;
    otherwise SymPy's ``dsolve`` is tried and solved for its constant.
    """
    u, v = params
    M = sp.eye(2) if M is None else sp.Matrix(M)
    if M[0, 1] != 0 or M[1, 0] != 0:
        return None
    gu, gv = sp.diff(output, u), sp.diff(output, v)
    if gu == 0 or gv == 0:
        return None
    ratio = sp.simplify(M[1, 1] * gv / (M[0, 0] * gu))
    sep = sp.separatevars(ratio, symbols=[u, v], dict=True)
    if sep:
        F = sep.get("coeff", 1) * sep.get(u, 1)
        G = sep.get(v, 1)
        return sp.simplify(sp.integrate(1 / G, v) - sp.integrate(F, u))
    f = sp.Function("f")
    try:
        sols = sp.dsolve(sp.Eq(f(u).diff(u), ratio.subs(v, f(u))), f(u))
    except (NotImplementedError, ValueError):
        return None
    C1 = sp.Symbol("C1")
    for sol in (sols if isinstance(sols, list) else [sols]):
        cs = sp.solve(sp.Eq(sol.lhs.subs(f(u), v), sol.rhs), C1)
        if cs:
            return sp.simplify(cs[0])
    return None


# =============================================================================================
# helpers
# =============================================================================================
def _point(params, constants, rng):
    return sample_point(list(params) + list(constants), rng)


def _grad_rank(exprs, params, pt) -> int:
    if not exprs:
        return 0
    rows = [[_exact(sp.diff(h, x).xreplace(pt)) for x in params] for h in exprs]
    if all(v.is_Rational for row in rows for v in row):
        # exact rank over QQ (nsimplify would rewrite large rationals as products of radicals)
        return DomainMatrix([[sp.QQ(v.p, v.q) for v in row] for row in rows],
                            (len(rows), len(params)), sp.QQ).rank()
    return sp.Matrix(rows).rank(simplify=True)


def _exact(v):
    v = sp.sympify(v)
    return v if v.is_Rational or not v.has(sp.Float) else sp.nsimplify(v)


def _independent(found, h, params, pts) -> bool:
    """h adds a new direction: the exact gradient rank grows at one of the points."""
    return any(_grad_rank(found + [h], params, pt) > _grad_rank(found, params, pt) for pt in pts)
