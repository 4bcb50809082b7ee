r"""Values and Jacobians of brackets at integer points, exactly, by multi-modular arithmetic.

The growth of :mod:`theory.laws.lie` only ever asks a field for its value and Jacobian at the sample
point :math:`x_0` (see :mod:`theory.laws._lie_jets` for the formulas):

.. math::  [A, W](x_0) = J_W a - J_A w, \qquad
           J_{[A,W]} = D^2W[a] - D^2A[w] + J_W J_A - J_A J_W,

with Hessians as Jacobians of directional derivatives, :math:`D^2W[a] = J_{\partial_a W}`, and
derivatives along constant vectors passing through brackets by the Leibniz rule,
:math:`\partial_C [A, W] = \sum_{S \subseteq C} [\partial_S A, \partial_{C \setminus S} W]`.
A generator's :math:`\partial_S v` has value :math:`D^{|S|}v(x_0)[S]` and Jacobian
:math:`D^{|S|+1}v(x_0)[S, \cdot]`: contractions of its Taylor tensors, read once per point.

Here every integer is held by its residues modulo P primes :math:`p_k \approx \sqrt{2^{54}/D}`, in
float64 arrays (matrix products are BLAS products, exact because every partial sum stays below
:math:`2^{53}`). Each value carries a proven bound on its entries and each Jacobian one on its
largest absolute row sum (the norm :math:`\|\cdot\|_\infty`, submultiplicative:
:math:`\|J_W J_A\|_\infty \le \|J_W\|_\infty \|J_A\|_\infty`,
:math:`\|J_W a\|_{\max} \le \|J_W\|_\infty \|a\|_{\max}`), in log2. A candidate's
value is rebuilt by the Chinese remainder theorem, which is exact when its bound is below
:math:`\tfrac12\prod_k p_k`; otherwise :class:`NeedPrimes` asks for a rerun with more primes.
So the values handed to the (exact, certified) rank selection are the exact integers, as with
the ``fmpz`` jets, at a fraction of the cost (no polynomial is formed above a generator).
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from . import _leibniz

__all__ = ["NeedPrimes", "Point", "bracket", "monomials", "primes_for"]

#: a bound may exceed the true maximum; this slack (bits) covers the float log2 arithmetic
_SLACK = 1e-9


class NeedPrimes(Exception):
    """The product of the primes is too small for a candidate's proven bound (``bits``)."""

    def __init__(self, bits: float):
        super().__init__(f"values need {bits:.0f} bits")
        self.bits = bits


def primes_for(D: int, count: int) -> list:
    r"""``count`` distinct primes below :math:`\sqrt{2^{53}/(0.53\,D)}`.

    Residues are kept centred, :math:`|r| \le 0.51\,p` (:meth:`Point.red` rounds
    :math:`x/p` to the nearest integer; its float error only matters within :math:`10^{-6}` of a
    half), so a sum of two D-term dot products of residues, :math:`2D(0.51p)^2`, stays below
    :math:`2^{53}`: exact in float64."""
    top = int(math.isqrt(int(2**53 / (0.53 * max(D, 1)))))
    out, n = [], top
    while len(out) < count:
        n -= 1
        if n < 3:
            raise ValueError(f"not enough small primes for D = {D}")
        if _is_prime(n):
            out.append(n)
    return out


def _is_prime(n: int) -> bool:
    if n % 2 == 0:
        return n == 2
    return all(n % d for d in range(3, math.isqrt(n) + 1, 2))


def _lsum(*bits) -> float:
    """log2 of a sum of nonnegative numbers given by their log2 (-inf for zero)."""
    top = max(bits)
    if top == -math.inf:
        return top
    return top + math.log2(sum(2.0 ** (b - top) for b in bits)) + _SLACK


class Point:
    r"""The multi-modular arithmetic and the fields at the integer sample points, batched.

    Every array has a leading batch axis of (point, prime) pairs, point-major: the growth
    brackets the same fields at every point, so one array operation serves all of them (and a
    direction is cached only when it agrees at every point). ``gens``: per generator, its terms
    (:func:`monomials`); ``xs``: the points; ``primes``: the moduli."""

    def __init__(self, gens, xs, primes):
        D = len(xs[0])
        self.D, self.P, self.npoints = D, len(primes), len(xs)
        self.p = np.tile(np.array(primes, dtype=np.float64), len(xs))
        self._p3 = self.p[:, None, None]
        self._p2 = self.p[:, None]
        self._inv3, self._inv2 = 1.0 / self._p3, 1.0 / self._p2
        self.M = math.prod(primes)
        self._primes = list(primes)
        self.dirs: dict = {}  # key -> (residues (B, D), log2 bound)
        self.gens = [_Gen(self, _Tensors(self, terms, xs), ()) for terms in gens]

    # -- modular arithmetic -------------------------------------------------------------------
    def red(self, x):
        """x reduced to about [-p/2, p/2] per prime (exact: |x| < 2^53; see primes_for)."""
        inv, p = (self._inv3, self._p3) if x.ndim == 3 else (self._inv2, self._p2)
        t = x * inv
        np.rint(t, out=t)
        t *= p
        return np.subtract(x, t, out=t)

    def residues(self, ints):
        """Residues (B, n) of integers given per point (npoints x n, int64 or object)."""
        return np.stack([(row % q).astype(np.float64) for row in ints for q in self._primes])

    def exact(self, res, bits: float) -> list:
        """Per point, the integers (|x| < 2^bits) with residues ``res`` (B, n), by CRT."""
        if bits + 1 >= math.log2(self.M):
            raise NeedPrimes(bits)
        # the fewest primes whose product covers the bound (CRT on Python ints is the cost)
        use, M = 0, 1
        while 2 ** (bits + 1) >= M:
            M *= self._primes[use]
            use += 1
        crt = np.array([(M // q) * pow(M // q, -1, q) for q in self._primes[:use]], dtype=object)
        canon = np.mod(res, self._p2).astype(np.int64)
        out = []
        for k in range(self.npoints):
            r = canon[k * self.P:k * self.P + use]
            x = np.zeros(r.shape[1], dtype=object)
            nz = np.flatnonzero(r.any(axis=0))  # (zero entries are common: skip their CRT)
            # x = sum_k r_k c_k mod M, c_k = (M / p_k) ((M / p_k)^-1 mod p_k): exact Python ints
            x[nz] = np.dot(crt, r[:, nz].astype(object)) % M
            x[x > M // 2] -= M
            out.append(x.tolist())
        return out

    def direction(self, vec, bits: float):
        """A cache key for the direction ``vec`` (residues; the key is their canonical form in
        [0, p), the stored array is centred like every other), with its bound."""
        canon = np.mod(vec, self._p2)
        if not canon.any():
            return None
        key = canon.tobytes()
        if key not in self.dirs:
            self.dirs[key] = (np.where(canon > self._p2 / 2, canon - self._p2, canon), bits)
        return key


def monomials(components, D: int) -> dict:
    r"""A polynomial field's terms grouped by degree d: d -> (V, comp, coef) with V the n x d
    variable indices of each monomial (a variable repeated by its exponent), comp the component
    i, coef the integer coefficients. ``components``: D ``fmpz_mpoly`` in x (read once, for
    every point)."""
    rows, comps, coefs = [], [], []
    for i, comp in enumerate(components):
        if len(comp):
            rows += comp.monoms()
            coefs += [int(c) for c in comp.coeffs()]
            comps += [i] * len(comp)
    if not rows:
        return {}
    E = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64,
                    count=len(rows) * D).reshape(len(rows), D)
    deg = E.sum(axis=1)
    comps = np.array(comps, dtype=np.int64)
    out = {}
    for d in np.unique(deg).tolist():
        sel = np.flatnonzero(deg == d)
        V = np.repeat(np.tile(np.arange(D), len(sel)), E[sel].ravel()).reshape(len(sel), d)
        out[d] = (V, comps[sel], [coefs[k] for k in sel.tolist()])
    return out


class _Tensors:
    r"""A generator's derivative tensors at :math:`x_0`, sparse, each built on first use.

    Writing a monomial of degree d as a product over d *positions* (a variable repeated by its
    exponent), its q-th derivative at :math:`x_0` along :math:`c_1..c_q` is the sum over the
    ordered choices of q distinct positions of :math:`\prod_k c_k[j_k]` times the product of
    :math:`x_0` over the other positions (so :math:`\partial_j^2 x_j^2 = 2` from the two
    orderings). Hence :math:`D^q v_i(x_0)[c_1, \dots, c_q] = \sum T_q[i; j]\,\prod_k c_k[j_k]`
    with one sparse entry per (monomial, ordered choice)."""

    def __init__(self, pt: Point, terms: dict, xs):
        self.pt = pt
        self._terms = terms
        self._x0 = np.array(xs, dtype=np.int64)  # npoints x D
        self.degree = max(terms, default=-1)
        self._built: dict = {}
        self._bins: dict = {}

    def part(self, q: int):
        """(rows, idx (q x nnz), coefficient residues (B x nnz), log2 row-sum bound) or None."""
        if q not in self._built:
            self._built[q] = self._build(q)
        return self._built[q]

    def _build(self, q):
        rows, idx, coef = [], [], []
        top = float(np.abs(self._x0).max(initial=1))
        for d, (V, comp, c) in self._terms.items():
            if d < q or not len(c):
                continue
            big = max(abs(x) for x in c) * top ** (d - q) * math.perm(d, q) >= 2.0**62
            ca = np.array(c, dtype=object if big else np.int64)
            distinct = (np.diff(V, axis=1) != 0).all(axis=1)  # (V's rows are sorted)
            if distinct.any():  # multilinear monomials: every ordered choice, vectorized
                Vd, cd, rd = V[distinct], ca[distinct], comp[distinct]
                for pos in itertools.permutations(range(d), q):
                    rest = [k for k in range(d) if k not in pos]
                    xs = self._x0[:, Vd[:, rest]].astype(ca.dtype)  # npoints x n x (d - q)
                    coef.append(cd * np.prod(xs, axis=2) if rest else np.tile(cd, (len(xs), 1)))
                    idx.append(Vd[:, list(pos)])
                    rows.append(rd)
            for m in np.flatnonzero(~distinct).tolist():  # repeated variables: distinct tuples
                for tup, weight, rest in _choices(V[m].tolist(), q):
                    xs = self._x0[:, rest].astype(ca.dtype)
                    coef.append((ca[m] * weight * np.prod(xs, axis=1))[:, None])
                    idx.append(np.array([tup], dtype=np.int64).reshape(1, q))
                    rows.append(comp[m:m + 1])
        if not rows:
            return None
        rows = np.concatenate(rows)
        idx = np.concatenate(idx).T  # q x nnz
        coef = np.concatenate(coef, axis=1)  # npoints x nnz
        keep = (coef != 0).any(axis=0)
        if not keep.any():
            return None
        rows, idx, coef = rows[keep], idx[:, keep], coef[:, keep]
        # bounds: value entries and Jacobian row sums <= max_i sum_j |T[i; j]| prod |c_k|
        absrow = np.zeros((len(coef), self.pt.D))
        for k in range(len(coef)):
            np.add.at(absrow[k], rows, np.abs(coef[k]).astype(np.float64))
        lg = math.log2(absrow.max()) + _SLACK
        return rows, idx, self.pt.red(self.pt.residues(coef)), lg  # centred, like all arrays

    def contract(self, q: int, vecs, free: bool):
        r"""Residues of :math:`D^q v[c_1..c_m]` (m = q: a vector; ``free``, m = q - 1: the D x D
        matrix with the last index free) and the log2 bound of its entries."""
        pt, D = self.pt, self.pt.D
        B = len(pt.p)
        shape = (B, D, D) if free else (B, D)
        part = self.part(q)
        if part is None:
            return np.zeros(shape), -math.inf
        rows, idx, w, lg = part
        size = D * D if free else D
        if (q, free) not in self._bins:  # the output bin of every (batch, entry), once
            out = rows * D + idx[q - 1] if free else rows
            bins = (out[None, :] + (np.arange(B) * size)[:, None]).ravel()
            # the last product needs no reduction when a bin's sum of |w| <= (0.51 p)^2 stays
            # below 2^53 (w and v are centred)
            most = int(np.bincount(bins[:len(out)]).max()) if len(out) else 0
            self._bins[q, free] = (bins, most * (0.51 * pt.p.max()) ** 2 < 2.0**53)
        bins, lazy_last = self._bins[q, free]
        for k, key in enumerate(vecs):
            v, b = pt.dirs[key]
            w = w * v[:, idx[k]]
            if k < len(vecs) - 1 or not lazy_last:
                w = pt.red(w)
            lg += b
        acc = np.bincount(bins, weights=w.ravel(), minlength=B * size)
        return pt.red(acc.reshape(shape)), lg


def _choices(positions, q):
    r"""The distinct ordered q-tuples of variables drawn from a monomial's positions (a variable
    repeated by its exponent), each with its number of ordered position choices and the
    variables left over: :math:`\partial^q x^\alpha` without enumerating :math:`d!/(d-q)!`
    orderings (:math:`x_j^{20}` gives one tuple per q)."""
    counts: dict = {}
    for j in positions:
        counts[j] = counts.get(j, 0) + 1

    def rec(k):
        if k == 0:
            yield (), 1, [j for j, r in counts.items() for _ in range(r)]
            return
        for j in list(counts):
            r = counts[j]
            if r:
                counts[j] = r - 1
                for tup, w, rest in rec(k - 1):
                    yield (j,) + tup, w * r, rest
                counts[j] = r
    return list(rec(q))


class _Field:
    """Value and Jacobian (residues and log2 bounds), computed once."""

    __slots__ = ("pt", "_v", "_j", "_dirs", "src", "_key")

    def __init__(self, pt, src):
        self.pt, self.src = pt, src
        self._v = self._j = None
        self._dirs: dict = {}
        self._key = False  # not computed yet (None is the zero vector's key)

    def value(self):
        if self._v is None:
            self._v = self._value()
        return self._v

    def jacobian(self):
        if self._j is None:
            self._j = self._jacobian()
        return self._j

    def hessian(self, key):
        r""":math:`D^2Y[c]` (c the direction ``key``) = the Jacobian of :math:`\partial_c Y`."""
        if key is None:  # c = 0
            return 0.0, -math.inf
        return self._dir((key,)).jacobian()

    def key(self):
        """This field's value as a direction key (None for the zero vector), computed once."""
        if self._key is False:
            v, b = self.value()
            self._key = self.pt.direction(v, b)
        return self._key


class _Gen(_Field):
    r""":math:`\partial_S v` for a generator v (``src = (tensors, S)``, S sorted keys): exact
    contractions of its Taylor tensors."""

    __slots__ = ()

    def __init__(self, pt, tensors, S):
        super().__init__(pt, (tensors, S))

    def _value(self):
        T, S = self.src
        return T.contract(len(S), S, False)

    def _jacobian(self):
        T, S = self.src
        return T.contract(len(S) + 1, S, True)

    def _dir(self, C):
        T, S = self.src
        key = tuple(sorted(S + tuple(C)))
        if key not in self._dirs:
            self._dirs[key] = _Gen(self.pt, T, key)
        return self._dirs[key]

    def hessian(self, key):
        T, S = self.src
        if len(S) + 2 > T.degree:  # D^2 of a field of degree <= 1: no array to form
            return 0.0, -math.inf
        return super().hessian(key)

    def is_zero_beyond(self):
        """Whether this derivative exceeds the generator's degree (the field is 0)."""
        T, S = self.src
        return len(S) > T.degree


class _Bracket(_Field):
    """[A, W] (``src = (A, W)``)."""

    __slots__ = ()

    def _value(self):
        A, W = self.src
        (a, ba), (w, bw) = A.value(), W.value()
        (Ja, bja), (Jw, bjw) = A.jacobian(), W.jacobian()
        pt = self.pt
        val = pt.red(np.matmul(Jw, a[:, :, None])[:, :, 0] - np.matmul(Ja, w[:, :, None])[:, :, 0])
        return val, _lsum(bjw + ba, bja + bw)

    def _jacobian(self):
        A, W = self.src
        return _leibniz_jacobian(self.pt, [(1, A, W)])

    def _dir(self, C):
        C = tuple(sorted(C))
        if C not in self._dirs:
            self._dirs[C] = _DirBracket(self.pt, (self, C))
        return self._dirs[C]


class _DirBracket(_Field):
    r""":math:`\partial_C Y` for a bracket Y = [A, W] (``src = (Y, C)``, C sorted keys)."""

    __slots__ = ()

    def _value(self):
        Y, C = self.src
        J, bj = Y._dir(C[:-1]).jacobian() if len(C) > 1 else Y.jacobian()
        c, bc = self.pt.dirs[C[-1]]
        val = self.pt.red(np.matmul(J, c[:, :, None])[:, :, 0])
        return val, bj + bc

    def _jacobian(self):
        (A, W), C = self.src[0].src, self.src[1]
        terms = [(k, A._dir(S) if S else A, W._dir(R) if R else W)
                 for k, S, R in _leibniz.splits(C)]
        return _leibniz_jacobian(self.pt, terms)

    def _dir(self, C):
        Y, C0 = self.src
        return Y._dir(C0 + tuple(C))


def _leibniz_jacobian(pt: Point, terms):
    r""":math:`\sum k\,(D^2Z[x] - D^2X[z] + J_Z J_X - J_X J_Z)` over ``terms`` (k, X, Z)
    (x, z the values): the Jacobian of :math:`\sum k\,[X, Z]`, with its log2 bound."""
    J = np.zeros((len(pt.p), pt.D, pt.D))
    bits = []
    for k, X, Z in terms:
        if any(isinstance(F, _Gen) and F.is_zero_beyond() for F in (X, Z)):
            continue  # a derivative of a generator beyond its degree
        (Jx, bjx), (Jz, bjz) = X.jacobian(), Z.jacobian()
        Hz, bhz = Z.hessian(X.key())
        Hx, bhx = X.hessian(Z.key())
        term = pt.red(Jz @ Jx - Jx @ Jz) if bjx > -math.inf and bjz > -math.inf else 0.0
        term = term + Hz - Hx
        if isinstance(term, float):
            continue
        J += k * term  # |term| < 1.6 p: the sum stays far below 2^53, reduced once below
        bits.append(math.log2(k) + _lsum(bhz, bhx, 1 + bjz + bjx))
    return pt.red(J), (_lsum(*bits) if bits else -math.inf)


def bracket(A: _Field, W: _Field) -> _Field:
    """The lazy field [A, W]."""
    return _Bracket(A.pt, (A, W))
