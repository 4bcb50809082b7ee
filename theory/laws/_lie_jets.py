r"""Taylor jets of polynomial vector fields at an integer point, extended on demand (python-flint).

The law count's ``backend="flint"``: exact ``fmpz`` arithmetic throughout. The default engine,
:mod:`theory.laws._lie_modular`, runs the same value/Jacobian recursion on residues and is tested
against this one.

A field :math:`Y` is stored at a point :math:`x_0` by the homogeneous parts of its Taylor
polynomial in :math:`\delta = x - x_0`, each packed in one ``fmpz_mpoly`` in :math:`(\delta, t, E)`:

.. math::  Y(x_0 + \delta) = \sum_{p \ge 0} Y^{(p)}(\delta), \qquad
           \hat Y^{(p)} = \sum_i Y^{(p)}_i(\delta)\, E^i

(``t`` is only used to split the shifted generators by degree). The degree-``p`` part of a
bracket :math:`[A, Y] = DY\,A - DA\,Y` is

.. math::  [A, Y]^{(p)} = \sum_{q=0}^{p} \sum_j \Big( A^{(q)}_j\, \partial_j \hat Y^{(p-q+1)}
           - Y^{(p-q)}_j\, \partial_j \hat A^{(q+1)} \Big),

so a bracket jet is *lazy*: it remembers its operands and computes a part when asked. Nothing is
fixed in advance (no truncation degree to guess, no restart when the algebra is deeper than
guessed). Value and Jacobian at :math:`x_0` (parts 0 and 1) come from matrix products,
:math:`[A,Y](x_0) = J_Y a - J_A y` and :math:`J_{[A,Y]} = D^2Y[a] - D^2A[y] + J_Y J_A - J_A J_Y`
(a, y the values).

**Directional jets.** Only the two top terms need an operand part of degree p + 1, and they meet
a constant: :math:`\sum_j a_j \partial_j \hat Y^{(p+1)} = (\partial_a Y)^{(p)}` (likewise
:math:`D^2Y[a] = J_{\partial_a Y}`). Derivatives along constant vectors commute with the bracket
(Leibniz), so for :math:`C = (c_1, \dots, c_m)`

.. math::  \partial_C [A, W] = \sum_{S \subseteq C} [\partial_S A, \partial_{C \setminus S} W],

and :math:`\partial_C Y` is again a lazy jet (:class:`_DirJet`) whose value and Jacobian come
from the same matrix formulas applied to these pairs, the Hessians :math:`D^2 Z[x]` being
Jacobians of directional jets one level down. A generator's directional jets are exact
(its parts contracted). So the growth never forms a part above 1 of a bracket: depth k costs
directional jets of up to k directions on the layers below (one node per (jet, multiset of
directions), cached; a direction repeated r times is split in :math:`\binom{r}{s}` ways) instead
of parts of degree k, whose size grows like :math:`D^{k}`. All arithmetic is exact over the
integers.
"""
from __future__ import annotations

import flint as _flint

from . import _leibniz

__all__ = ["_Jet", "_DirJet", "generator_jets", "jet_bracket"]


def _tree_sum(polys, zero):
    """Exact sum of a list of polynomials, pairwise: each term is copied O(log n) times instead
    of O(n) times by a running sum (the sum dominated the bracket's cost)."""
    polys = [q for q in polys if not q.is_zero()]
    if not polys:
        return zero
    while len(polys) > 1:
        polys = [polys[i] + polys[i + 1] if i + 1 < len(polys) else polys[i]
                 for i in range(0, len(polys), 2)]
    return polys[0]


def _context(D):
    return _flint.fmpz_mpoly_ctx.get(tuple(f"d{i}" for i in range(D)) + ("t", "E"), "degrevlex")


class _Jet:
    r"""Homogeneous Taylor parts :math:`\hat Y^{(p)}` of a vector field at :math:`x_0`.

    Either *given* (``parts`` is every nonzero part: a generator, whose shifted polynomial is
    exact) or a *bracket* ``src = (A, Y)`` whose parts are computed on demand (cached)."""

    __slots__ = ("ctx", "D", "_parts", "_complete", "src", "_comps", "_dparts", "_vars", "_val",
                 "_jac", "_sec", "_jv", "_zero", "_dirs")

    def __init__(self, ctx, D, parts=None, src=None):
        self.ctx, self.D, self.src = ctx, D, src
        self._zero = ctx.constant(0)
        self._parts = list(parts) if parts is not None else []
        self._complete = parts is not None  # given parts: every higher part is zero
        self._comps: dict = {}
        self._dparts: dict = {}
        self._vars: dict = {}
        self._dirs: dict = {}  # sorted directions (int tuples) -> directional jet (see _dir)
        self._val = self._jac = self._sec = self._jv = None

    # -- parts ------------------------------------------------------------------------------
    def part(self, p):
        r""":math:`\hat Y^{(p)}`, packed (computed on demand for a bracket)."""
        if p < len(self._parts):
            return self._parts[p]
        if self._complete:
            return self._zero
        while len(self._parts) <= p:
            q = len(self._parts)
            self._parts.append(self._low_part(q) if q <= 1 else _bracket_part(*self.src, q))
        return self._parts[p]

    def _low_part(self, q):
        """Part 0 or 1 of a bracket, packed from the matrices of :meth:`low` (already exact)."""
        D = self.D
        if q == 0:
            val = self.value()
            return self.ctx.from_dict({_mono(D, None, i): v for i, v in enumerate(val) if v})
        rows = self.jacobian().tolist()
        return self.ctx.from_dict({_mono(D, j, i): int(x) for i, r in enumerate(rows)
                                   for j, x in enumerate(r) if x})

    def involves(self, p, j) -> bool:
        """Whether part p involves delta_j."""
        if p not in self._vars:
            self._vars[p] = self.part(p).degrees()
        return bool(self._vars[p][j])

    def comps(self, p):
        r"""Components :math:`Y^{(p)}_i` of part p, split off by exact divisions by powers of E
        (:math:`\hat Y = L + E^m H` with :math:`L = \hat Y \bmod E^m`, recursively halving)."""
        if p not in self._comps:
            E = self.ctx.gens()[self.D + 1]
            out = [self._zero] * self.D

            def split(poly, lo, hi):
                if poly.is_zero():
                    return
                if hi - lo == 1:
                    out[lo] = poly
                    return
                mid = (lo + hi) // 2
                low = poly % E ** (mid - lo)
                split(low, lo, mid)
                split((poly - low) // E ** (mid - lo), mid, hi)

            split(self.part(p), 0, self.D)
            self._comps[p] = out
        return self._comps[p]

    def dpart(self, p, j):
        r""":math:`\partial_{\delta_j} \hat Y^{(p)}` (a part of degree p - 1; cached)."""
        key = (p, j)
        if key not in self._dparts:
            self._dparts[key] = self.part(p).derivative(j)
        return self._dparts[key]

    # -- value and Jacobian -----------------------------------------------------------------
    def value(self) -> list:
        r"""Value at :math:`x_0` (D ints); of a bracket :math:`[A,Y](x_0) = J_Y a - J_A y`."""
        if self._val is None:
            if self.src is None:
                self._val = [int(c) for c in _dense(self.part(0), self.D, False).entries()]
            else:
                A, Y = self.src
                va = _flint.fmpz_mat(self.D, 1, A.value())
                vy = _flint.fmpz_mat(self.D, 1, Y.value())
                JYa = Y.jacobian() * va if Y.src is None else Y.jac_times(va)
                JAy = A.jacobian() * vy if A.src is None else A.jac_times(vy)
                self._val = [int(x) for x in (JYa - JAy).entries()]
        return self._val

    def jacobian(self):
        r"""Jacobian at :math:`x_0` (D x D fmpz_mat); of a bracket by matrix products,
        :math:`J_{[A,Y]} = D^2Y[a] - D^2A[y] + J_Y J_A - J_A J_Y` (a, y the values)."""
        if self._jac is None:
            if self.src is None:
                self._jac = _linear_matrix(self.part(1), self.D)
            else:
                A, Y = self.src
                Ja, Jy = A.jacobian(), Y.jacobian()
                self._jac = self._second() + Jy * Ja - Ja * Jy
        return self._jac

    def jac_times(self, V):
        r""":math:`J V` for a D x k matrix V. For a bracket of two given jets whose full Jacobian
        is not needed (the last layer), :math:`(D^2Y[a] - D^2A[y]) V + J_Y (J_A V) - J_A (J_Y V)`
        costs D x D x k products instead of D x D x D ones."""
        if self._jac is None and self.src is not None:
            A, Y = self.src
            if A.src is None and Y.src is None:
                return self._second() * V + Y.jacobian() * A.jac_times(V) \
                    - A.jacobian() * Y.jac_times(V)
        if self.src is None:  # a generator meets the same V (the generator values) many times
            if self._jv is None or self._jv[0] is not V:
                self._jv = (V, self.jacobian() * V)
            return self._jv[1]
        return self.jacobian() * V

    def _second(self):
        r""":math:`D^2Y[a] - D^2A[y]` of a bracket. A generator's Hessian is contracted from its
        exact part 2; a bracket's is the Jacobian of its directional jet,
        :math:`D^2Y[a] = J_{\partial_a Y}` (:class:`_DirJet`), which never forms Y's part 2."""
        if self._sec is None:
            A, Y = self.src
            self._sec = _hessians([(Y, A.value(), 1), (A, Y.value(), -1)], self.D)
        return self._sec

    def directional(self, c):
        r"""The jet of :math:`\partial_c Y = \sum_j c_j \partial_j Y` (c a constant integer
        vector); see :meth:`_dir`."""
        return self._dir((tuple(int(x) for x in c),))

    def _dir(self, C):
        r"""The jet of :math:`\partial_{c_1} \cdots \partial_{c_m} Y` for the directions
        ``C`` (a tuple of int tuples; the derivatives commute, so it is cached per sorted C):
        a generator's is exact (its parts contracted once), any other a lazy :class:`_DirJet`."""
        if not C:
            return self
        C = tuple(sorted(C))
        if C not in self._dirs:
            if self._complete:
                inner = self._dir(C[:-1])
                parts = [_contract(inner, p + 1, C[-1]) for p in range(len(inner._parts) - 1)]
                self._dirs[C] = _Jet(self.ctx, self.D, parts=parts)
            else:
                self._dirs[C] = _DirJet(self, C)
        return self._dirs[C]

    def _cheap(self, p) -> bool:
        """Whether part p is at hand: exact, cached, or a value/Jacobian (matrix products)."""
        return self._complete or p < len(self._parts) or p <= 1

    def low(self):
        """(value at x0 as D ints, Jacobian at x0 as fmpz_mat)."""
        return self.value(), self.jacobian()


class _DirJet(_Jet):
    r"""Lazy jet of :math:`\partial_C Y = \partial_{c_1} \cdots \partial_{c_m} Y` for constant
    integer vectors :math:`c_i` (``src = (Y, C)``, Y a bracket :math:`[A, W]`, C sorted).

    Value and Jacobian (parts 0, 1; all the growth asks for) come from matrices:
    :math:`J_{\partial_{C'} Y}\, c_m` (:math:`C' = C \setminus c_m`), and :meth:`jacobian` by the
    Leibniz rule. A higher part is a contraction of :math:`(\partial_{C'} Y)^{(p+1)}` when that
    is at hand, else the Leibniz rule on parts (constant directions commute with the bracket):

    .. math::  (\partial_C [A, W])^{(p)} = \sum_{S \subseteq C}
               [\partial_S A, \partial_{C \setminus S} W]^{(p)},

    whose top terms :func:`_bracket_part` turns into directional jets again."""

    __slots__ = ()

    def __init__(self, Y, C):
        super().__init__(Y.ctx, Y.D, src=(Y, C))

    def part(self, p):
        while len(self._parts) <= p:
            q = len(self._parts)
            self._parts.append(self._low_part(q) if q <= 1 else self._dir_part(q))
        return self._parts[p]

    def _dir_part(self, p):
        Y, C = self.src
        inner = Y._dir(C[:-1])
        if inner._cheap(p + 1):
            return _contract(inner, p + 1, C[-1])
        return _tree_sum([k * _bracket_part(X, Z, p) for k, X, Z in self._leibniz()], self._zero)

    def _leibniz(self):
        r"""The terms :math:`(k, \partial_S A, \partial_{C \setminus S} W)` of the Leibniz rule,
        S over the sub-multisets of C (a direction repeated r times in C is split in
        :math:`\binom{r}{s}` ways, so k is the product of these binomials)."""
        (A, W), C = self.src[0].src, self.src[1]
        return [(k, A._dir(S), W._dir(R)) for k, S, R in _leibniz.splits(C)]

    def value(self):
        r"""Value at :math:`x_0`: :math:`J_{\partial_{C'} Y}\, c_m` (C' = C without its last)."""
        if self._val is None:
            Y, C = self.src
            c = _flint.fmpz_mat(self.D, 1, list(C[-1]))
            self._val = [int(x) for x in Y._dir(C[:-1]).jac_times(c).entries()]
        return self._val

    def jacobian(self):
        r"""Jacobian at :math:`x_0`, by the Leibniz rule and the bracket's matrix formula:
        :math:`\sum k\,(D^2Z[x] - D^2X[z] + J_Z J_X - J_X J_Z)` over the terms (k, X, Z) of
        :meth:`_leibniz` (x, z the values); the Hessians are again directional jets (or, for a
        generator's derivative X, contractions of its exact part 2)."""
        if self._jac is None:
            J = _flint.fmpz_mat(self.D, self.D)
            hess = []
            for k, X, Z in self._leibniz():
                if X._complete and all(P.is_zero() for P in X._parts):
                    continue  # a derivative of the generator beyond its degree
                Jx = X.jacobian()
                if not Jx.is_zero():  # (a generator's derivative of top order is constant)
                    Jz = Z.jacobian()
                    P = Jz * Jx - Jx * Jz
                    J += P if k == 1 else k * P
                hess += [(Z, X.value(), k), (X, Z.value(), -k)]
            self._jac = J + _hessians(hess, self.D)
        return self._jac

    def jac_times(self, V):
        return self.jacobian() * V

    def _dir(self, C):
        Y, C0 = self.src
        return Y._dir(C0 + tuple(C))


def _hessians(terms, D):
    r""":math:`\sum k\, D^2Y[c]` at :math:`x_0` (D x D fmpz_mat) over ``terms`` (Y, c, k).
    Where Y's part 2 is at hand (a generator's, or cached) :math:`D^2Y[c]` is its contraction,
    else the Jacobian of the directional jet :math:`\partial_c Y` (never Y's part 2)."""
    polys, M = [], _flint.fmpz_mat(D, D)
    for Y, c, k in terms:
        if not any(c):
            continue
        if Y._complete or len(Y._parts) > 2:
            P = _contract(Y, 2, c)
            if not P.is_zero():
                polys.append(k * P)
        else:
            H = Y.directional(c).jacobian()
            M += H if k == 1 else (-H if k == -1 else k * H)
    if polys:  # one matrix read for all the exact contractions (reading dominated)
        M += _linear_matrix(_tree_sum(polys, polys[0] - polys[0]), D)
    return M


def _contract(Y, q, c):
    r""":math:`\sum_j c_j \partial_{\delta_j} \hat Y^{(q)}` (= part q - 1 of
    :math:`\partial_c Y`), exact."""
    if Y.part(q).is_zero():
        return Y._zero
    return _tree_sum([int(cj) * Y.dpart(q, j) for j, cj in enumerate(c)
                      if cj and Y.involves(q, j)], Y._zero)


def _mono(D, j, i):
    """Exponent vector of delta_j E^i (j None: E^i) in the jet context."""
    e = [0] * (D + 2)
    if j is not None:
        e[j] = 1
    e[D + 1] = i
    return tuple(e)


_FILL: dict = {}


def _fill(ctx, D, linear):
    r"""(F, order, ones) for the packed monomials of degree ``linear`` (0 or 1) in delta:
    F = the sum of all of them (:math:`\delta_j E^i`, or :math:`E^i`), ``order`` = the row-major
    positions (i, j) of F's terms in the context's term order, or None when that order is the
    expected one (E-degree descending, then j ascending), ``ones`` the all-ones fmpz_mat.
    Cached per D (the jet context of D variables is unique, see _context)."""
    key = (D, linear)
    if key not in _FILL:
        width = D if linear else 1
        F = ctx.from_dict({_mono(D, j if linear else None, i): 1 for i in range(D)
                           for j in (range(D) if linear else (None,))})
        order = [m[D + 1] * width + (m.index(1, 0, D) if linear else 0) for m in F.monoms()]
        expected = [i * width + j for i in reversed(range(D)) for j in range(width)]
        _FILL[key] = (F, None if order == expected else order,
                      _flint.fmpz_mat(D, width, [1] * (D * width)))
    return _FILL[key]


def _dense(P, D, linear):
    r"""P (degree 0 or 1 in delta, packed with E) as a D x D (or D x 1) fmpz_mat: entry (i, j)
    is the coefficient of :math:`\delta_j E^i` (or of :math:`E^i`).

    Reading exponent vectors of many variables term by term is slow, so: a sparse P is mapped to
    one variable z whose exponent is the entry's row-major index (:func:`_to_z`) and only its
    nonzero entries are set; a dense P gets every monomial made present: the terms of
    :math:`P + K F` (F the sum of all the monomials) are F's, in a known order, with coefficients
    c + K, and K is subtracted back exactly. K is a fixed offset; the term count proves that no
    c + K vanished (else another K is tried)."""
    width = D if linear else 1
    n = len(P)
    if n == 0:
        return _flint.fmpz_mat(D, width)
    if 4 * n < D * width:
        u = _to_z(P, D, linear)
        M = _flint.fmpz_mat(D, width)
        where = _INDEX.get((D, width)) or _INDEX.setdefault(
            (D, width), [divmod(e, width) for e in range(D * width)])
        for (e,), c in zip(u.monoms(), u.coeffs()):  # set the nonzero entries only
            M[where[e]] = c
        return M
    F, order, ones = _FILL.get((D, linear)) or _fill(_context(D), D, linear)
    K = _OFFSET
    while True:
        Q = P + K * F
        if len(Q) == len(F):
            break
        if len(Q) > len(F):  # P has a monomial that is not of this shape: a caller's bug
            raise ValueError("_dense: P is not homogeneous of the stated degree in delta")
        K = 2 * K + 1
    full = Q.coeffs()
    if order is None:  # rows come E-degree descending: reverse them by slicing
        flat = [c for i in range(D - 1, -1, -1) for c in full[i * width:(i + 1) * width]]
    else:
        flat = [0] * (D * width)
        for k, c in zip(order, full):
            flat[k] = c
    return _flint.fmpz_mat(D, width, flat) - K * ones


def _to_z(P, D, linear):
    r"""P mapped to one variable z whose exponent is the row-major entry index:
    :math:`\delta_j E^i \to z^{iD + j}` (linear) or :math:`E^i \to z^i`; a bijection on the
    monomials P can have (all of degree ``linear`` in delta)."""
    key = (D, linear)
    if key not in _ZSUBS:
        zc = _flint.fmpz_mpoly_ctx.get(("z",), "lex")
        z = zc.gens()[0]
        if linear:
            _ZSUBS[key] = (zc, [z ** j for j in range(D)] + [zc.constant(1), z ** D])
        else:
            _ZSUBS[key] = (zc, [zc.constant(1)] * (D + 1) + [z])
    zc, subs = _ZSUBS[key]
    return P.compose(*subs, ctx=zc)


_ZSUBS: dict = {}
_INDEX: dict = {}  # (D, width) -> row-major index -> (i, j)

#: the offset of :func:`_dense` (any value works; the term count certifies it)
_OFFSET = 2**64 + 13


def _linear_matrix(P1, D):
    r"""The D x D integer matrix J with :math:`P_1 = \sum_{ij} J_{ij}\,\delta_j E^i` (P1 of degree
    one in delta)."""
    return _dense(P1, D, True)


def _bracket_part(A: _Jet, Y: _Jet, p: int):
    r"""The degree-p part of :math:`[A, Y]` (formula in the module docstring): products of a
    small component of one operand with a derivative of the other's packed part.

    The two top terms meet only a constant, :math:`\sum_j a_j \partial_j \hat Y^{(p+1)} =
    (\partial_a Y)^{(p)}` and :math:`\sum_j y_j \partial_j \hat A^{(p+1)} = (\partial_y A)^{(p)}`
    (a, y the values at :math:`x_0`): unless that part p + 1 is at hand they are taken from
    directional jets, so no operand part above p is formed."""
    terms = []
    D = Y.D
    for q in range(p + 1):
        m = p - q + 1  # Y part whose derivative meets A^{(q)}
        if q == 0 and p >= 1 and not Y._cheap(m):
            if any(A.value()):
                terms.append(Y.directional(A.value()).part(p))
        elif not A.part(q).is_zero() and not Y.part(m).is_zero():
            Aq = A.comps(q)
            terms += [Aq[j] * Y.dpart(m, j) for j in range(D)
                      if not Aq[j].is_zero() and Y.involves(m, j)]
        if q == p and p >= 1 and not A._cheap(q + 1):
            if any(Y.value()):
                terms.append(-A.directional(Y.value()).part(p))
        elif not Y.part(p - q).is_zero() and not A.part(q + 1).is_zero():
            Yc = Y.comps(p - q)
            terms += [-(Yc[j] * A.dpart(q + 1, j)) for j in range(D)
                      if not Yc[j].is_zero() and A.involves(q + 1, j)]
    return _tree_sum(terms, Y.ctx.constant(0))


def jet_bracket(A: _Jet, Y: _Jet) -> _Jet:
    r"""The lazy jet of :math:`[A, Y] = DY\,A - DA\,Y` (nothing is computed yet)."""
    return _Jet(Y.ctx, Y.D, src=(A, Y))


def generator_jets(gens_x, x0, outs_x=None) -> list:
    r"""Exact jets at the integer point ``x0`` of the generators (lists of D ``fmpz_mpoly`` in x):
    :math:`\hat v = \sum_i v_i(x_0 + t\delta) E^i`, split by the degree t counts. Without a metric
    (``outs_x`` given) the output is shifted once and differentiated,
    :math:`\partial_{\delta_j} G(x_0 + t\delta) = t\,(\partial_j G)(x_0 + t\delta)`."""
    D = len(x0)
    ctx = _context(D)
    g = ctx.gens()
    t, E = g[D], g[D + 1]
    shift = [x0[j] + t * g[j] for j in range(D)]
    out = []
    for n, comps in enumerate(gens_x):
        if outs_x is not None:
            Gs = outs_x[n].compose(*shift, ctx=ctx)
            sc = [Gs.derivative(j) // t if not c.is_zero() else None for j, c in enumerate(comps)]
        else:
            sc = [c.compose(*shift, ctx=ctx) if not c.is_zero() else None for c in comps]
        P = _tree_sum([c * E ** i for i, c in enumerate(sc) if c is not None], ctx.constant(0))
        deg = P.degrees()[D]
        parts = []
        rest = P
        for p in range(deg + 1):  # the degree-p part is the coefficient of t^p
            low = rest % t ** (p + 1)
            parts.append(low // t ** p)
            rest = rest - low
        out.append(_Jet(ctx, D, parts=parts))
    return out
