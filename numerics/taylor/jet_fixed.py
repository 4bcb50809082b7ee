r"""Fixed-point Taylor backend for polynomial fields: integer mantissas, vectorised by level.

For programs made of states, constants, time, linear combinations and products only (diagonal
and deep linear nets, least squares), every Taylor coefficient is an integer mantissa ``A`` at a
scale common to its order:

.. math:: x_k = A_k\, 2^{-(P + k s)},\qquad H = 2^s,

i.e. the coefficients :math:`x_k H^k` of the rescaled series :math:`x(t_0 + H\sigma)` in fixed
point with ``P`` fractional bits (block floating point with one exponent per order; ``H`` is a
power of two at least the expected step, so the rescaled coefficients decay and an absolute error of
:math:`2^{-P}` per coefficient costs at most :math:`(K+1)\,2^{-P}` on a step of
:math:`\sigma \le 1`).  A product term :math:`a_j b_{k-j}` then has the scale
:math:`2^{-(2P + ks)}` for every j, so a Cauchy convolution is an exact integer dot product
followed by one shift, and :math:`y_{k+1} = f_k/(k+1)` is :math:`A_{k+1} = \lfloor 2^s F_k/(k+1)\rfloor`, and the time has :math:`A_1 = 2^{P+s}`.

Nodes are grouped by level (longest path from the states) and kind; per order, each group is a
handful of NumPy operations on object arrays of gmpy2 ``mpz`` (``einsum`` row-wise dot products
for products and squares, one gather/multiply/``add.reduceat`` for all linear nodes of a level),
so the Python overhead is per group, not per node, and the cost is linear in the number of terms.
Measured here: 55-110 ns per multiply-add (noisy machine), about an MPFR ``fsum`` dot product;
the gain is the per-node overhead (deep linear nets about 2x faster; small nets slower).
Large dense linear maps (the rows of :math:`X` and :math:`X^\top` in a least-squares flow with
n in the hundreds) run as one exact integer matrix product per order instead: the coefficients
times their common denominator are small integers, so the mantissas are split into limbs and
multiplied on int64 (:func:`_block_apply`; 250 x 500 in 1.6 ms instead of 27 ms).

The absolute precision :math:`2^{-P}` (``P`` = the working precision in bits) matches the
integrator's error control, which is absolute below :math:`\|y\| = 1` and relative above.
Linear coefficients get extra fractional bits when they are small, so that each keeps ``P``
significant bits.  Inputs and outputs are gmpy2 ``mpfr`` (the fast backend's native type).
"""
from __future__ import annotations

import math

import gmpy2
import mpmath
import numpy as np
import sympy as sp
from gmpy2 import mpfr, mpz

from .decompose import Program
from .jets import exact_to_mpf

#: node kinds the fixed-point jet handles
POLYNOMIAL = frozenset({"state", "const", "time", "lin", "mul", "sq"})


def supports(program: Program) -> bool:
    """True when every node of ``program`` is polynomial (see :data:`POLYNOMIAL`)."""
    return all(n.op in POLYNOMIAL for n in program.nodes)


def extra_bits(y0, guard: int) -> int:
    r"""Fractional bits a fixed-point jet adds for the states ``y0`` (mpfr): a state of size
    :math:`2^{-e}` keeps the relative accuracy of floating point only with :math:`e` more
    fractional bits, so from :math:`e > \text{guard}` on, the smallest multiple of 64 covering
    :math:`e - \text{guard}` (one compiled jet per multiple); 0 when no state is that small."""
    need = max((1 - gmpy2.get_exp(v) for v in y0 if v), default=0) - guard
    return 64 * -(-need // 64) if need > 0 else 0


def _mantissa(x, bits: int) -> mpz:
    """floor(x 2^bits) for a finite mpfr x, exactly (whatever the context precision)."""
    m, e = x.as_mantissa_exp()
    e += bits
    return m << e if e >= 0 else m >> -e


def exact_mantissa(c, bits: int) -> mpz:
    r""":math:`\lfloor c\,2^{bits} \rfloor` of an exact SymPy number: rationals exactly, other
    constants from a value with 128 bits below the unit beyond their magnitude (the limb and the
    small jets' constants)."""
    c = sp.sympify(c)
    if c.is_Rational:
        return mpz((int(c.p) << bits) // int(c.q)) if bits >= 0 else mpz(int(c.p) // (int(c.q) << -bits))
    prec = bits + 128 + max(0, int(mpmath.log(abs(exact_to_mpf(c, 64)) + 1, 2)))
    with mpmath.workprec(prec):
        return mpz(int(mpmath.floor(mpmath.ldexp(exact_to_mpf(c, prec), bits))))


def _live(program: Program) -> set:
    live, todo = set(program.states), list(program.outputs)
    while todo:
        i = todo.pop()
        if i in live and program.nodes[i].op != "state":
            continue
        live.add(i)
        todo.extend(j for j in program.nodes[i].args if j not in live)
    return live


class FixedJet:
    r"""``jet(t0, y0, K, hint=None)`` -> Taylor coefficients (mpfr) of every state.

    ``hint`` is the step expected (mpfr, > 0); the unit :math:`H = 2^s` is the power of two in
    :math:`[2\,\text{hint}, 4\,\text{hint})` (1 without hint).  After a call, ``unit`` is
    :math:`H`: steps up to ``unit`` are evaluated at full accuracy (the integrator recomputes
    the jet with a larger hint when it wants a longer step)."""

    scaled = True

    def __init__(self, program: Program, prec: int):
        self.P = P = prec
        self.prec = prec
        nodes = program.nodes
        live = _live(program)
        order = sorted(live)
        row = {i: r for r, i in enumerate(order)}
        self.N = len(order)
        level = {}
        for i in order:
            n = nodes[i]
            level[i] = 0 if n.op in ("state", "const", "time") else 1 + max(level[j] for j in n.args)
        self.states = np.array([row[i] for i in program.states], dtype=np.intp)
        self.outputs = np.array([row[i] for i in program.outputs], dtype=np.intp)
        self.time = row.get(program.time) if program.time is not None else None
        with gmpy2.context(gmpy2.get_context(), precision=P + 64):
            self.consts = [(row[i], _mantissa(_as_mpfr(nodes[i].value, P + 64), P))
                           for i in order if nodes[i].op == "const"]
        groups: dict = {}
        for i in order:
            if level[i]:
                groups.setdefault((level[i], nodes[i].op), []).append(i)
        self.plan = []
        self.products = sum(len(m) for (_, op), m in groups.items() if op in ("mul", "sq"))
        blocks = []  # (level, step): dense blocks of linear nodes (rows of X), run in level order
        for key in [k for k in groups if k[1] == "lin"]:
            rest = []
            blocks += [(key[0], _block_step(nodes, b, row, P)) for b in _dense_blocks(nodes, groups[key], rest)]
            groups[key] = rest
        groups = {k: m for k, m in groups.items() if m}
        for (lev, op), members in sorted(groups.items()):
            while blocks and blocks[0][0] < lev:
                self.plan.append(blocks.pop(0)[1])
            out = np.array([row[i] for i in members], dtype=np.intp)
            if op == "mul":
                a = np.array([row[nodes[i].args[0]] for i in members], dtype=np.intp)
                b = np.array([row[nodes[i].args[1]] for i in members], dtype=np.intp)
                self.plan.append(("mul", out, a, b))
            elif op == "sq":
                a = np.array([row[nodes[i].args[0]] for i in members], dtype=np.intp)
                self.plan.append(("sq", out, a))
            else:  # lin: all terms of the level's linear nodes in one gather / product / reduceat
                coeffs = [c for i in members for c in nodes[i].coeffs]
                small = min(abs(exact_to_mpf(c, 64)) for c in coeffs)
                extra = max(0, -int(mpmath.floor(mpmath.log(small, 2)))) if small < 1 else 0
                Q = P + extra
                with gmpy2.context(gmpy2.get_context(), precision=P + Q + 64):
                    tc = np.empty(len(coeffs), dtype=object)
                    tc[:] = [_mantissa(_as_mpfr(c, Q + 64), Q) for c in coeffs]
                    c0 = np.empty(len(members), dtype=object)
                    c0[:] = [_mantissa(_as_mpfr(nodes[i].value, P + Q + 64), P + Q) for i in members]
                args = np.array([row[j] for i in members for j in nodes[i].args], dtype=np.intp)
                starts = np.cumsum([0] + [len(nodes[i].args) for i in members[:-1]]).astype(np.intp)
                self.plan.append(("lin", out, args, tc, starts, Q, c0))
        self.plan += [step for _, step in blocks]

    def __call__(self, t0, y0, K, hint=None):
        P = self.P
        if hint is None or not hint > 0:
            s = 0
        else:  # unit H = 2^s in [2 hint, 4 hint)
            s = int(gmpy2.ceil(gmpy2.log2(hint))) + 1
        self.unit = gmpy2.mul_2exp(mpfr(1), s)
        S = np.full((self.N, K + 1), mpz(0), dtype=object)
        S[self.states, 0] = [_mantissa(v, P) for v in y0]
        for r, c in self.consts:
            S[r, 0] = c
        if self.time is not None:
            S[self.time, 0] = _mantissa(t0, P)
            if K >= 1:
                S[self.time, 1] = _mantissa(mpfr(1), P + s)   # t_1 = 1 = A_1 2^-(P + s)
        einsum = np.einsum
        states, outputs = self.states, self.outputs
        for k in range(K):
            for step in self.plan:
                op, out = step[0], step[1]
                if op == "mul":
                    a, b = step[2], step[3]
                    S[out, k] = einsum("ij,ij->i", S[a, :k + 1], S[b, k::-1]) >> P
                elif op == "sq":
                    a = step[2]
                    h2 = (k + 1) >> 1
                    v = einsum("ij,ij->i", S[a, :h2], S[a, k:k - h2:-1]) * 2 if h2 else 0
                    if not k & 1:
                        m = S[a, k >> 1]
                        v = v + m * m
                    S[out, k] = v >> P
                elif op == "block":
                    S[out, k] = _block_apply(step, S[step[2], k], k)
                else:
                    args, tc, starts, Q, c0 = step[2:]
                    v = np.add.reduceat(S[args, k] * tc, starts)
                    if k == 0:
                        v = v + c0
                    S[out, k] = v >> Q
            F = S[outputs, k]
            if s >= 0:
                S[states, k + 1] = (F << s) // (k + 1)
            else:
                S[states, k + 1] = F // ((k + 1) << -s)
        return FixedSeries([S[r].tolist() for r in states], P, s)


#: bits per limb are capped here; a block takes the limb path when at least MIN_LIMB bits fit
MAX_LIMB, MIN_LIMB = 40, 8
#: linear nodes of one level with at least this many rational terms may form a dense block
BLOCK_FROM = 8
#: ... when their terms fill at least this share of the (rows x union of arguments) matrix
BLOCK_DENSITY = 0.5
#: ... and the matrix has at least this many entries.  A block costs a fixed ~80 us per order
#: (measured: 5x10 82 us vs 11 us as object terms; 25x50 162 vs 239 us; 100x200 0.59 vs 3.7 ms;
#: 250x500 1.6 vs 27 ms)
BLOCK_MIN_ENTRIES = 1000


def _dense_blocks(nodes, members, rest) -> list:
    r"""The long linear nodes of one level as one dense block when their terms fill most of the
    matrix over the union of their arguments (the rows of :math:`r = Xw - y`, of
    :math:`X^\top r`: a zero entry of X only drops a term); everything else goes to ``rest``."""
    rows = [i for i in members if len(nodes[i].args) >= BLOCK_FROM
            and all(c.is_Rational for c in nodes[i].coeffs)]
    union = {j for i in rows for j in nodes[i].args}
    terms = sum(len(nodes[i].args) for i in rows)
    if len(rows) < 2 or terms < BLOCK_DENSITY * len(rows) * len(union) \
            or len(rows) * len(union) < BLOCK_MIN_ENTRIES:
        rest.extend(members)
        return []
    taken = set(rows)
    rest.extend(i for i in members if i not in taken)
    return [rows]


def _block_step(nodes, block, row, P):
    r"""Plan step of a dense block :math:`v = (N/d)\,a + c`: the integer matrix N (exact: the
    coefficients times their common denominator d) and the limb width L for
    :func:`_block_apply` (0: object-array product instead)."""
    args = sorted({j for i in block for j in nodes[i].args})
    col = {j: c for c, j in enumerate(args)}
    den = math.lcm(*(int(c.q) for i in block for c in nodes[i].coeffs))
    N = [[0] * len(args) for _ in block]
    for r, i in enumerate(block):
        for c, j in zip(nodes[i].coeffs, nodes[i].args):
            N[r][col[j]] = int(c * den)
    big = max(1, max(abs(x) for r in N for x in r)) * len(args)
    limb = min(MAX_LIMB, 62 - big.bit_length())
    if limb >= MIN_LIMB:
        mat = np.array(N, dtype=np.int64)
        rowsum = np.empty(len(block), dtype=object)
        rowsum[:] = [mpz(sum(r)) for r in N]
    else:
        limb, rowsum = 0, None
        mat = np.empty((len(block), len(args)), dtype=object)
        mat[:] = [[mpz(x) for x in r] for r in N]
    with gmpy2.context(gmpy2.get_context(), precision=P + 64):
        c0 = np.empty(len(block), dtype=object)
        c0[:] = [_mantissa(_as_mpfr(nodes[i].value, P + 64), P) for i in block]
    return ("block", np.array([row[i] for i in block], dtype=np.intp),
            np.array([row[j] for j in args], dtype=np.intp), mat, mpz(den), limb, rowsum, c0)


def _block_apply(step, a, k: int):
    r"""Order-k mantissas of a dense block: :math:`\lfloor N a / d \rfloor` (+ c at order 0).

    With limbs: :math:`a + 2^{B-1}` (made nonnegative) is split into L-bit limbs, the product
    with N runs on int64 (no overflow: :math:`|N|\,2^L\,n < 2^{62}`, checked when the plan is
    built), and the limbs are recombined exactly; the offset comes back out as
    :math:`2^{B-1} \sum_j N_{ij}`.  Several times faster than object arrays for the rows of X,
    whose entries are small integers over a common denominator."""
    mat, den, limb, rowsum, c0 = step[3:]
    if limb:
        bits = max(int(x).bit_length() for x in a) + 2
        nl = -(-bits // limb)
        off = mpz(1) << (limb * nl - 1)
        shifted = a + off
        mask = (1 << limb) - 1
        V = np.empty((len(a), nl), dtype=np.int64)
        for j in range(nl):
            V[:, j] = ((shifted >> (limb * j)) & mask).astype(np.int64)
        R = (mat @ V).astype(object)
        v = R[:, nl - 1]
        for j in range(nl - 2, -1, -1):
            v = (v << limb) + R[:, j]
        v = v - off * rowsum
    else:
        v = mat.dot(a)
    if den != 1:
        v = v // den
    return v + c0 if k == 0 else v


class FixedSeries(list):
    r"""Taylor coefficients of the states as rows of integer mantissas,
    :math:`x_k = A_k 2^{-(P + k s)}`; converted to mpfr only where the integrator needs them."""

    def __init__(self, rows, P: int, s: int):
        super().__init__(rows)
        self.P, self.s = P, s

    def value(self, A, k: int):
        """The mpfr value of mantissa ``A`` at order ``k``."""
        return gmpy2.mul_2exp(mpfr(A), -(self.P + k * self.s))

    def evaluate(self, h) -> list:
        r"""Every row's polynomial at step ``h`` (mpfr): Horner in fixed point on
        :math:`\sigma = h/2^s \le 1` (one rounding, below :math:`2^{-P}`, per order)."""
        P = self.P
        sig = _mantissa(h, P - self.s)
        out = []
        for c in self:
            v = c[-1]
            for A in c[-2::-1]:
                v = ((v * sig) >> P) + A
            out.append(gmpy2.mul_2exp(mpfr(v), -P))
        return out

    def mpf_rows(self) -> list:
        """The coefficients as mpmath ``mpf`` (exact, then rounded to mpmath's precision)."""
        P, s = self.P, self.s
        return [[mpmath.mpf((int(A), -(P + k * s))) for k, A in enumerate(c)] for c in self]

    def mpfr_rows(self) -> list:
        """The coefficients as ``mpfr`` rounded to the gmpy2 context's precision (to nearest, as
        :meth:`mpf_rows` at the same precision: the same values)."""
        return [[self.value(A, k) for k, A in enumerate(c)] for c in self]


def _as_mpfr(c, prec):
    """An exact constant as mpfr with ``prec`` bits (the caller's context must hold them)."""
    from .jet_fast import mpf_to_mpfr
    with mpmath.workprec(prec):
        return mpf_to_mpfr(exact_to_mpf(c, prec))
