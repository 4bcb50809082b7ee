r"""Laws beyond polynomials: :math:`h = \sum_k c_k \log P_k + F`, found by an exact ansatz.

A function :math:`h` is a law iff :math:`V_j(h) = 0` for every field :math:`V_j = M\nabla G_j`
(Marcotte, Gribonval, Peyré 2023, Prop. 2.5). For :math:`h = \sum_k c_k\log P_k + F`,

.. math::  V_j(h) = \sum_k c_k \frac{V_j(P_k)}{P_k} + V_j(F) = 0,

which is *linear* in the unknowns :math:`c_k` and in the coefficients of :math:`F` in a finite
basis. This is the integrating-factor / Darboux route (Prelle & Singer, Trans. AMS 279, 1983;
Goriely, *Integrability and Nonintegrability of Dynamical Systems*, 2001, ch. 2): logs of
Darboux polynomials carry the logarithmic and exponential laws (:math:`\prod P_k^{c_k}e^F`),
and with :math:`F = 0` and rational :math:`c_k` they give the rational laws, e.g. ratios
:math:`a_1b_1/(a_2b_2)` and :math:`\|s\|^2`.

* **candidates** :math:`P_k`: the parameters; the irreducible factors of the denominators of the
  fields (radicands included, e.g. :math:`\|s\|^2`); binomials :math:`x_k \pm x_l` that are
  Darboux for every field (:math:`V_j(P) = 0` on :math:`P = 0`, a 30-digit filter only);
* **rational part** :math:`F`: monomials of degree 1 and 2, and monomials of degree
  :math:`\deg Q` over each denominator factor :math:`Q` (e.g. :math:`r^2/\|s\|^2`);
* **exact solve, no symbolic expansion**: the identity is evaluated at exact rational points
  (radicands :math:`\sum x^2` made perfect squares by drawing those coordinates on a rational
  sphere; ``exp`` atoms replaced by independent rational values, which can only lose laws,
  never add false ones): a nullspace over QQ at generic constant values selects the basis
  functions that take part, then a small nullspace over QQ(constants) gives the coefficients.

Every candidate is returned unproved; :func:`theory.laws.search.find_laws` keeps it only when
:func:`theory.laws.search.prove_law` proves it symbolically, so a spurious nullspace vector (too few
points, a special point) is never reported.
"""
from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import mpmath
import sympy as sp

try:
    import flint as _flint
except ImportError:  # pragma: no cover - SymPy's DomainMatrix does the same, slower
    _flint = None
from sympy.polys.matrices import DomainMatrix

#: points beyond the number of unknowns (the nullspace is then generically exact)
_EXTRA_POINTS = 4
#: candidate binomials are tested only for models with at most this many parameters
_BINOMIAL_MAX_PARAMS = 16


class Unsupported(Exception):
    """The fields contain something the exact evaluation cannot make rational."""


# =============================================================================================
# public entry point
# =============================================================================================
def log_laws(params, outputs, M, constants, *, seed: int = 0) -> list:
    r"""Candidate laws :math:`\sum c_k\log P_k + F` (rational laws as products of powers),
    simplest first; unproved (the caller proves them). Returns ``[]`` when the fields are out of
    reach of the exact evaluation (see module doc)."""
    params = tuple(params)
    J = sp.Matrix(list(outputs)).jacobian(sp.Matrix(params))
    fields = [list(sp.Matrix(M) * J[j, :].T) for j in range(len(outputs))]
    try:
        sampler = _Sampler(params, fields, constants)
    except Unsupported:
        return []
    if sampler.exp_symbols:
        fields = [[e.xreplace(sampler.exp_symbols) for e in V] for V in fields]
    rng = random.Random(seed)
    pool = _pool(params, fields, constants, rng)
    basis = _basis(params, pool)
    if not basis:
        return []
    consts = sorted(constants, key=str)
    generic = {c: _draw_const(c, rng) for c in consts}
    n_pts = -(-len(basis) // max(1, len(fields))) + _EXTRA_POINTS
    pts = [sampler.point(rng) for _ in range(n_pts)]
    # stage 1: which basis functions take part (QQ, constants at generic values)
    rows = _rows(fields, basis, pts, params, generic)
    null = _nullspace(rows, len(basis))
    if not null:
        return []
    support = sorted({k for vec in null for k, a in enumerate(vec) if a != 0})
    sub = [basis[k] for k in support]
    # stage 2: coefficients over QQ(constants) on the support only
    if consts:
        n2 = -(-len(sub) // max(1, len(fields))) + _EXTRA_POINTS
        rows = _rows(fields, sub, pts[:n2] if n2 <= len(pts) else pts + [sampler.point(rng) for _ in range(n2 - len(pts))],
                     params, {})
        null = _nullspace(rows, len(sub))
    else:
        null = [[vec[k] for k in support] for vec in null]
    laws = [_law(vec, sub) for vec in null]
    laws = [h for h in laws if h is not None and not h.is_number and h.free_symbols & set(params)]
    return sorted(laws, key=lambda h: (h.has(sp.log), sp.count_ops(h)))


# =============================================================================================
# exact points
# =============================================================================================
class _Sampler:
    """Exact rational points at which every field entry is rational: each radicand that is a sum
    of squares of parameters gets those coordinates on a rational sphere of rational radius."""

    def __init__(self, params, fields, constants):
        self.params = params
        self.spheres = []
        roots = set()
        exps = set()
        for e in itertools.chain.from_iterable(fields):
            for pw in e.atoms(sp.Pow):
                if pw.exp.is_Rational and not pw.exp.is_Integer and pw.base.free_symbols & set(params):
                    roots.add(sp.expand(pw.base))
            exps |= {a for a in e.atoms(sp.exp) if a.free_symbols & set(params)}
            for f in e.atoms(sp.Function):
                if not isinstance(f, sp.exp) and f.free_symbols & set(params):
                    raise Unsupported(f"function {f.func}")
        used = set()
        for B in sorted(roots, key=str):
            sub = _sum_of_squares(B, params)
            if sub is None or used & set(sub):
                raise Unsupported(f"radicand {B}")
            used |= set(sub)
            self.spheres.append(sub)
        # exp atoms become independent positive symbols (a law for independent values is a law)
        self.exp_symbols = {a: sp.Dummy(f"E{i}", positive=True) for i, a in enumerate(sorted(exps, key=str))}
        self.free = [x for x in params if x not in used] + list(self.exp_symbols.values())

    def point(self, rng) -> dict:
        pt = {x: _draw_param(x, rng) for x in self.free}
        for sub in self.spheres:
            pt.update(zip(sub, _sphere(len(sub), rng, [x.is_positive or x.is_nonnegative for x in sub])))
        return pt


def _sum_of_squares(B, params):
    """The parameters x with B = sum x**2, else None."""
    terms = sp.Add.make_args(B)
    out = []
    for t in terms:
        if not (t.is_Pow and t.exp == 2 and t.base in params):
            return None
        out.append(t.base)
    return tuple(out)


def _sphere(k, rng, positive):
    """A rational point of norm rho (rational) in R^k, nonzero coordinates."""
    while True:
        t = [Fraction(rng.randint(1, 19), rng.randint(2, 23)) for _ in range(k - 1)]
        s = sum(x * x for x in t)
        den = 1 + s
        coords = [2 * x / den for x in t] + [(1 - s) / den]
        if all(c != 0 for c in coords):
            break
    rho = Fraction(rng.randint(1, 29), rng.randint(2, 11))
    out = []
    for c, pos in zip(coords, positive):
        c = abs(c) if pos else (c if rng.random() < 0.5 else -c)
        out.append(sp.Rational(c.numerator, c.denominator) * sp.Rational(rho.numerator, rho.denominator))
    return out


def _draw_param(x, rng):
    q = sp.Rational(rng.randint(1, 29), rng.randint(2, 13))
    if x.is_positive or x.is_nonnegative:
        return q
    if x.is_negative or x.is_nonpositive:
        return -q
    return q if rng.random() < 0.5 else -q


def _draw_const(c, rng):
    return _draw_param(c, rng)


def _at(e, pt):
    return e.xreplace(pt)


# =============================================================================================
# candidates and basis
# =============================================================================================
def _pool(params, fields, constants, rng) -> list:
    """Candidate Darboux polynomials (see module doc), as expressions."""
    pool = list(params)
    for e in itertools.chain.from_iterable(fields):
        for pw in e.atoms(sp.Pow):
            if pw.exp.is_negative and pw.base.free_symbols & set(params):
                pool.extend(_factors(pw.base, params))
            if pw.exp.is_Rational and not pw.exp.is_Integer and pw.base.free_symbols & set(params):
                pool.extend(_factors(pw.base, params))
        num, den = sp.fraction(sp.together(e))
        if den.free_symbols & set(params):
            for f in sp.Mul.make_args(den):
                base = f.base if f.is_Pow else f
                pool.extend(_factors(base, params))
    if len(params) <= _BINOMIAL_MAX_PARAMS:
        pool.extend(_darboux_binomials(params, fields, constants, rng))
    out = []
    for P in pool:
        P = sp.expand(P)
        if P.free_symbols & set(params) and not any(sp.expand(P - Q) == 0 for Q in out):
            out.append(P)
    return out


def _factors(B, params) -> list:
    B = sp.expand(B)
    if not B.is_polynomial(*params):
        return []
    try:
        _, facs = sp.factor_list(B, *params)
    except sp.PolificationFailed:
        return []
    return [f for f, _ in facs if f.free_symbols & set(params) and sp.Poly(f, *params).total_degree() > 0]


def _darboux_binomials(params, fields, constants, rng) -> list:
    r""":math:`P = x_k \pm x_l` with :math:`V_j(P) = 0` on :math:`P = 0` for every field (30 digits
    at two random points; a filter, the law's proof decides)."""
    free = set().union(*(e.free_symbols for V in fields for e in V)) - set(params)
    consts = {c: _draw_const(c, rng) for c in sorted(free, key=str)}
    f = sp.lambdify(list(params), [list(map(lambda e: e.xreplace(consts), V)) for V in fields], "mpmath")
    out = []
    idx = {x: i for i, x in enumerate(params)}
    with mpmath.workdps(30):
        pts = [[mpmath.mpf(rng.randint(1, 29)) / rng.randint(2, 13) for _ in params] for _ in range(2)]
        for k, l in itertools.combinations(range(len(params)), 2):
            for sgn in (1, -1):
                ok = True
                for base in pts:
                    y = list(base)
                    y[k] = -sgn * y[l]
                    try:
                        vals = f(*y)
                    except (ZeroDivisionError, ValueError):
                        ok = False
                        break
                    for V in vals:
                        d = V[k] + sgn * V[l]
                        scale = abs(V[k]) + abs(V[l])
                        if not (scale > 0 and abs(d) <= mpmath.mpf(10) ** -20 * scale) and abs(d) > mpmath.mpf(10) ** -25:
                            ok = False
                            break
                    if not ok:
                        break
                if ok:
                    out.append(params[k] + sgn * params[l])
    del idx
    return out


class _Fn:
    """A basis function: ``kind`` 'log' (of ``P``) or 'rat' (``m/Q``)."""

    def __init__(self, kind, expr, P=None, Q=None):
        self.kind, self.expr, self.P, self.Q = kind, expr, P, Q


def _basis(params, pool) -> list:
    fns = [_Fn("log", sp.log(P), P=P) for P in pool]
    for d in (1, 2):
        for c in itertools.combinations_with_replacement(params, d):
            fns.append(_Fn("rat", sp.Mul(*c), P=sp.Mul(*c), Q=sp.Integer(1)))
    for Q in pool:
        if Q in params:
            continue
        deg = sp.Poly(Q, *params).total_degree()
        for c in itertools.combinations_with_replacement(params, deg):
            fns.append(_Fn("rat", sp.Mul(*c) / Q, P=sp.Mul(*c), Q=Q))
    for fn in fns:
        fn.grad = [sp.diff(fn.P, x) for x in params]
        fn.gradQ = None if fn.Q is None else [sp.diff(fn.Q, x) for x in params]
    return fns


# =============================================================================================
# the linear system
# =============================================================================================
class _NotExact(Exception):
    pass


class _Arith:
    """Exact numbers for :func:`_feval`: Python fractions, or (free constants left symbolic) the
    rational function field ``QQ(constants)`` of SymPy's polys (no expression trees either way)."""

    def __init__(self, constants=()):
        self.K = None
        self.gens = {}
        if constants:
            from sympy.polys.fields import field
            K, *gens = field(list(constants), sp.QQ)
            self.K, self.gens = K, dict(zip(constants, gens))

    def num(self, p: int, q: int = 1):
        return Fraction(p, q) if self.K is None else self.K(sp.QQ(p, q))

    def sqrt(self, v):
        if self.K is None:
            n, d = v.numerator, v.denominator
        else:
            if not (v.numer.is_ground and v.denom.is_ground):
                raise _NotExact
            q = sp.QQ(v.numer.LC) / sp.QQ(v.denom.LC)
            n, d = int(q.numerator), int(q.denominator)
        rn, rd = (math.isqrt(n) if n >= 0 else -1), math.isqrt(d)
        if rn < 0 or rn * rn != n or rd * rd != d:
            raise _NotExact
        return self.num(rn, rd)

    def to_sympy(self, v):
        return sp.Rational(v.numerator, v.denominator) if self.K is None else v.as_expr()


def _feval(e, env: dict, memo: dict, ar: _Arith):
    """``e`` at the values ``env`` (symbol -> exact number of ``ar``): no SymPy expression is
    built (``xreplace`` re-canonicalises every node, the cost of this stage). Raises
    :class:`_NotExact` outside field operations, integer powers and square roots of perfect
    squares (the caller then evaluates with SymPy)."""
    if e in memo:
        return memo[e]
    if e.is_Symbol:
        if e not in env:
            raise _NotExact
        v = env[e]
    elif e.is_Rational:
        v = ar.num(int(e.p), int(e.q))
    elif e.is_Add:
        v = ar.num(0)
        for a in e.args:
            v = v + _feval(a, env, memo, ar)
    elif e.is_Mul:
        v = ar.num(1)
        for a in e.args:
            v = v * _feval(a, env, memo, ar)
    elif e.is_Pow and e.exp.is_Integer:
        b = _feval(e.base, env, memo, ar)
        if b == 0 and e.exp < 0:
            raise ZeroDivisionError
        v = b ** int(e.exp)
    elif e.is_Pow and e.exp.is_Rational and e.exp.q == 2:
        r = ar.sqrt(_feval(e.base, env, memo, ar))
        v = r ** int(e.exp.p) if e.exp.p > 0 else (1 / r) ** int(-e.exp.p)
    else:
        raise _NotExact
    memo[e] = v
    return v


def _rows_exact(fields, basis, pts, consts, constants=()) -> list:
    """:func:`_rows` without SymPy expressions: parameters and ``consts`` at rational values,
    the other ``constants`` symbolic in ``QQ(constants)``; raises :class:`_NotExact`."""
    free = tuple(c for c in constants if c not in consts)
    ar = _Arith(free)
    rows = []
    for pt in pts:
        env = dict(ar.gens)
        for k, v in {**pt, **consts}.items():
            if not getattr(v, "is_Rational", False):
                raise _NotExact
            env[k] = ar.num(int(v.p), int(v.q))
        memo: dict = {}
        V = [[_feval(e, env, memo, ar) for e in vec] for vec in fields]
        grads = []
        for fn in basis:
            P = _feval(fn.P, env, memo, ar)
            dP = [_feval(g, env, memo, ar) for g in fn.grad]
            if fn.kind == "log":
                grads.append([d / P for d in dP])
            else:
                Q = _feval(fn.Q, env, memo, ar)
                dQ = [_feval(g, env, memo, ar) for g in fn.gradQ]
                grads.append([d / Q - P * e / Q**2 for d, e in zip(dP, dQ)])
        for vec in V:
            row = []
            for gr in grads:
                acc = ar.num(0)
                for g, v in zip(gr, vec):
                    if g != 0 and v != 0:
                        acc = acc + g * v
                row.append(ar.to_sympy(acc))
            rows.append(row)
    return rows


def _constants_of(fields, params) -> tuple:
    return tuple(sorted({x for vec in fields for e in vec for x in e.free_symbols} - set(params), key=str))


def _rows(fields, basis, pts, params, consts) -> list:
    r"""One row per (point, field): the values :math:`V_j(\phi_k)` at the point."""
    try:
        return _rows_exact(fields, basis, pts, consts, _constants_of(fields, params))
    except (_NotExact, ZeroDivisionError):
        pass
    rows = []
    for pt in pts:
        V = [[_at(e, pt).xreplace(consts) for e in vec] for vec in fields]
        grads = []
        for fn in basis:
            P = fn.P.xreplace(pt)
            dP = [g.xreplace(pt) for g in fn.grad]
            if fn.kind == "log":
                grads.append([d / P for d in dP])
            else:
                Q = fn.Q.xreplace(pt)
                dQ = [g.xreplace(pt) for g in fn.gradQ]
                grads.append([d / Q - P * e / Q**2 for d, e in zip(dP, dQ)])
        for vec in V:
            rows.append([sp.expand(sum((g * v for g, v in zip(gr, vec) if g != 0 and v != 0), sp.Integer(0)))
                         for gr in grads])
    return rows


def _nullspace(rows, ncols) -> list:
    flat = [sp.sympify(v) for r in rows for v in r]
    if _flint is not None and all(v.is_Rational for v in flat):
        return _nullspace_flint(flat, len(rows), ncols)
    dom, elems = sp.polys.constructor.construct_domain(flat, field=True)
    A = DomainMatrix([elems[i * ncols:(i + 1) * ncols] for i in range(len(rows))], (len(rows), ncols), dom)
    N = A.nullspace().to_Matrix()
    return [[sp.cancel(sp.sympify(a)) for a in N.row(i)] for i in range(N.rows)]


def _nullspace_flint(flat, nrows, ncols) -> list:
    """Exact nullspace over QQ with FLINT's fraction-free RREF (SymPy's sparse RREF suffers
    coefficient growth on these dense evaluation matrices)."""
    A = _flint.fmpq_mat(nrows, ncols, [_flint.fmpq(int(v.p), int(v.q)) for v in flat])
    R, rank = A.rref()
    pivots, r = [], 0
    for c in range(ncols):
        if r < rank and R[r, c] != 0:
            pivots.append(c)
            r += 1
    free = [c for c in range(ncols) if c not in pivots]
    out = []
    for f in free:
        vec = [sp.Integer(0)] * ncols
        vec[f] = sp.Integer(1)
        for i, pc in enumerate(pivots):
            q = R[i, f]
            vec[pc] = -sp.Rational(int(q.p), int(q.q))
        out.append(vec)
    return out


def _law(vec, basis):
    """The law of a nullspace vector: a product of powers when rational, else logs + F."""
    logs = [(a, fn) for a, fn in zip(vec, basis) if a != 0 and fn.kind == "log"]
    rats = [(a, fn) for a, fn in zip(vec, basis) if a != 0 and fn.kind == "rat"]
    if not logs and not rats:
        return None
    # scale: integer, coprime log coefficients when they are rational
    lead = logs[0][0] if logs else rats[0][0]
    vec_l = [(sp.cancel(a / lead), fn) for a, fn in logs]
    vec_r = [(sp.cancel(a / lead), fn) for a, fn in rats]
    if all(a.is_Rational for a, _ in vec_l):
        den = sp.ilcm(1, 1, *[a.q for a, _ in vec_l])
        num = sp.igcd(0, 0, *[(a * den).p for a, _ in vec_l]) or 1
        k = sp.Rational(den, num)
        vec_l = [(a * k, fn) for a, fn in vec_l]
        vec_r = [(sp.cancel(a * k), fn) for a, fn in vec_r]
    F = sp.Add(*[a * fn.expr for a, fn in vec_r])
    if not vec_l:
        return sp.together(F)
    num = sp.Mul(*[fn.P ** a for a, fn in vec_l if a.is_Rational and a > 0])
    den = sp.Mul(*[fn.P ** (-a) for a, fn in vec_l if a.is_Rational and a < 0])
    other = sp.Add(*[a * fn.expr for a, fn in vec_l if not a.is_Rational])
    if F == 0 and other == 0:
        return num / den
    return sp.log(num / den) + other + F
