r"""Machine-word fixed-point Taylor jet for polynomial fields: exact integer mantissas held in
float64 limbs, products and linear maps as BLAS matrix products.

Same number model and rounding contract as :mod:`numerics.taylor.jet_fixed` (block floating point,
one exponent per order, unit/scaled steps): node x at order k is an integer mantissa

.. math:: x_k = A_k\, 2^{-(F + k s)},\qquad H = 2^s,\qquad F \ge P + 2,

so the rescaled coefficients :math:`x_k H^k` are fixed-point numbers with F fractional bits.
Each mantissa is split into ``nl`` limbs of L bits, :math:`A = \sum_l a_l 2^{Ll}`, stored as
float64: the limbs below the top are kept in :math:`[-1, 2^L]` and the top limb (the sign)
in :math:`(-2^L, 2^L)`.  Every limb product is below :math:`2^{2L}` and every sum of a product
or a Cauchy convolution has at most :math:`(K+2)\,n_l` terms, so with

.. math:: (K + 2)\, n_l\, 2^{2L} \le 2^{52}

(L = 20-22 at 30-120 digits) every float64 operation of a dot product is exact: a Cauchy product
:math:`\sum_j a_j b_{k-j}` of a whole level of nodes is one batched matrix product
(nodes x limbs x orders), its limb anti-diagonals one more matrix product, and exactness ends
with a carry normalisation (floor division by :math:`2^L`, a few parallel rounds).  Dropping the
F low bits (whole limbs) then rounds towards :math:`-\infty` up to one unit of the low part's
carries, i.e. an absolute error below :math:`2\cdot 2^{-F} \le 2^{-P-1}` per coefficient, the same
bound as jet_fixed's floor.

Linear nodes (:math:`r = Xw - y`, :math:`g = X^\top r`, the output scales) are folded along
chains of linear nodes into one rational matrix per level with a small common denominator per
row, :math:`v = (N a)/d + c`, applied as an exact matrix product on the limbs (BLAS) and one
multiplication by the fixed-point constant :math:`2^{Lm}/d` (rounded to unit, exact when d is a
power of two).  The step :math:`y_{k+1} = f_k\,2^s/(k+1)` is the same multiplication.  A value that
outgrows the limbs (:math:`|x_k H^k| \ge 2^{L(n_l - n_f)}`) is detected at the end of each order
and the call falls back to the mpz jet (:mod:`numerics.taylor.jet_fixed`) -- a deterministic
choice, so the digits of a run never depend on timing.  Pure NumPy; the only compiled code is
NumPy's BLAS.
"""
from __future__ import annotations

import math

import gmpy2
import numpy as np
import sympy as sp
from gmpy2 import mpfr, mpz

from . import jet_fixed
from .decompose import Program
from .jet_fixed import _mantissa

POLYNOMIAL = jet_fixed.POLYNOMIAL
#: integer limbs above the fraction: |x_k H^k| < 2^(L * INT_LIMBS) (else the mpz fallback)
INT_LIMBS = 1
#: states below 2^-TINY_GUARD get more fractional bits (jet_fixed.extra_bits; jet_small's guard)
TINY_GUARD = 8
#: a folded linear row's integer numerators sum to at most this (exact N a on limbs)
MAX_ROW_WEIGHT = 2 ** 20
#: ... and its common denominator at most this
MAX_DEN = 2 ** 30


class LimbOverflow(ArithmeticError):
    """A value outgrew the integer limbs: the caller falls back to the mpz jet."""


def supports(program: Program) -> bool:
    """Polynomial nodes with rational linear coefficients only."""
    return all(n.op in POLYNOMIAL for n in program.nodes) and all(
        sp.sympify(c).is_Rational for n in program.nodes if n.op == "lin" for c in n.coeffs)


def layout(P: int, K: int, limb: int | None = None) -> tuple:
    r"""(L, nf, nl): the widest limb L with :math:`(K+2)\,n_l\,2^{2L} \le 2^{52}`,
    nf = :math:`\lceil (P+2)/L \rceil` fraction limbs, nl = nf + :data:`INT_LIMBS`."""
    for L in ([limb] if limb else range(24, 11, -1)):
        nf = -(-(P + 2) // L)
        nl = nf + INT_LIMBS
        if limb or (K + 2) * nl * 2.0 ** (2 * L) <= 2.0 ** 52:
            return L, nf, nl
    raise ValueError(f"no limb width for order {K}")  # pragma: no cover (K in the thousands)


def to_limbs(M, L: int, nl: int) -> np.ndarray:
    """Integers (a list of int/mpz) -> float64 limbs (len, nl); the top limb signed.

    The nl - 1 low limbs are bit fields of each number's two's-complement bytes, read as 64-bit
    words (a field straddles at most two words); a value too large keeps a top limb of 2^L
    (clipped: no float overflow), which the jet's overflow check then catches."""
    n, nb = len(M), L * (nl - 1)
    if n > 8 and min(M) >= 0 and max(M) < 1 << (L * nl):
        return _to_limbs_unsigned(M, L, nl)
    out = np.empty((n, nl))
    big = 1 << L
    mask = (1 << nb) - 1
    nw, w, lo_s, hi_s = _fields(L, nl)
    parts, tops = [], []
    for m in M:
        m = int(m)
        parts.append((m & mask).to_bytes(8 * nw, "little"))
        t = m >> nb
        tops.append(big if t > big else -big if t < -big else t)
    if nb:
        words = np.frombuffer(b"".join(parts), np.uint64).reshape(n, nw)
        f = (words[:, w] >> lo_s) | ((words[:, w + 1] << np.uint64(1)) << hi_s)
        out[:, :nl - 1] = f & np.uint64(big - 1)
    out[:, nl - 1] = tops
    return out


def _to_limbs_unsigned(M, L: int, nl: int) -> np.ndarray:
    """:func:`to_limbs` of integers in [0, 2^(L nl)): every limb, the top one included, is a bit
    field of the numbers packed side by side into one integer (``gmpy2.pack``, in C) and read
    as 64-bit words -- the same limbs, without a Python operation per number."""
    n = len(M)
    nw, w, lo_s, hi_s = _fields(L, nl + 1)
    words = np.frombuffer(int(gmpy2.pack(list(M), 64 * nw)).to_bytes(8 * nw * n, "little"),
                          np.uint64).reshape(n, nw)
    f = (words[:, w] >> lo_s) | ((words[:, w + 1] << np.uint64(1)) << hi_s)
    return (f & np.uint64((1 << L) - 1)).astype(float)


_FIELDS: dict = {}


def _fields(L: int, nl: int):
    """Word index and shifts of the limb bit fields [L j, L j + L) in 64-bit words."""
    key = (L, nl)
    if key not in _FIELDS:
        pos = L * np.arange(nl - 1)
        nw = (L * (nl - 1) + 63) // 64 + 1     # one spare word: w + 1 always exists
        _FIELDS[key] = (nw, pos // 64, (pos % 64).astype(np.uint64), (63 - pos % 64).astype(np.uint64))
    return _FIELDS[key]


def from_limbs(A: np.ndarray, L: int) -> np.ndarray:
    """float64 limbs (..., nl) -> exact integers (object array of mpz).

    Pairs of limbs are first joined in int64 (|limb| <= 2^(L+1), L <= 24: a pair stays below
    2^50), halving the object-array operations."""
    Ai = A.astype(np.int64)
    nl = A.shape[-1]
    if nl > 2 and L <= 24:
        if nl % 2:
            Ai = np.concatenate([Ai, np.zeros(Ai.shape[:-1] + (1,), np.int64)], axis=-1)
        Ai = Ai[..., 0::2] + (Ai[..., 1::2] << L)
        L = 2 * L
    v = Ai[..., -1].astype(object)
    for j in range(Ai.shape[-1] - 2, -1, -1):
        v = (v << L) + Ai[..., j].astype(object)
    if isinstance(v, np.ndarray):
        return v
    return np.asarray(v, dtype=object)


def carry(R: np.ndarray, base: float, rounds: int) -> np.ndarray:
    """Carry normalisation in place along the first (limb) axis: ``rounds`` parallel rounds of
    floor division by the power-of-two base (exact while |values| < 2^53); the last limb keeps
    the sign and is never reduced.  See :func:`rounds_for` for how many rounds."""
    lo, hi = R[:-1], R[1:]
    inv = 1.0 / base
    for _ in range(rounds):
        q = lo * inv
        np.floor(q, out=q)
        lo -= q * base
        hi += q
    return R


def fold(R: np.ndarray, top: int, base: float) -> np.ndarray:
    """Limbs ``top`` and above summed into limb ``top`` (Horner from the highest: every partial
    sum is exact while the value fits the limbs; one that does not stays large and is caught by
    the overflow check); returns the limbs up to ``top``."""
    if R.shape[0] > top + 1:
        acc = R[-1].copy()
        for j in range(R.shape[0] - 2, top - 1, -1):
            acc *= base
            acc += R[j]
        R[top] = acc
    return R[:top + 1]


def carry_fold_int(R: np.ndarray, rounds: int, top: int, base: float, L: np.int64, mask: np.int64) -> np.ndarray:
    """:func:`carry` then :func:`fold` to ``top`` limbs, the carries on an int64 copy (exact:
    every limb sum is an integer below 2^53): an arithmetic shift is the floor division by
    2^L and the mask its remainder, three ufuncs a round instead of five.  The fold runs on
    floats (no int64 wrap); the caller's stores cast back to float64 exactly."""
    R = R.astype(np.int64)
    lo, hi = R[:-1], R[1:]
    for _ in range(rounds):
        q = lo >> L
        lo &= mask
        hi += q
    if R.shape[0] > top:
        R = fold(R.astype(float), top - 1, base)
    return R


#: a product's limbs more than LOW below the first kept one are never formed: their carry into
#: the kept limbs is below 2^(52 - LOW L) < 1, so with the carries of the LOW limbs kept the
#: result is within 2 units of 2^-F of the exact floor (F >= P + 2: below 2^-(P+1))
LOW = 3

#: limbs below the top stay within |a| <= 2^L (1 + SLACK) after the carry rounds: the products
#: then stay below 2^(2L) (1 + 2 SLACK + SLACK^2), inside the factor-2 margin of :func:`layout`
SLACK = 2.0 ** -9


def rounds_for(bound: float, L: int) -> int:
    """Carry rounds that bring limbs of magnitude <= ``bound`` to <= 2^L (1 + SLACK): a round
    leaves a remainder in [0, 2^L) plus the carry from below, at most bound / 2^L + 1."""
    n = 0
    while bound > 2.0 ** L * (1 + SLACK):
        bound = 2.0 ** L + math.floor(bound / 2.0 ** L) + 1
        n += 1
    return max(n, 1)


def _conv_matrix(n1: int, n2: int, width: int) -> np.ndarray:
    """0/1 matrix summing the anti-diagonals p + q of an (n1, n2) outer product into ``width``."""
    C = np.zeros((n1 * n2, width))
    for p in range(n1):
        for q in range(n2):
            C[p * n2 + q, p + q] = 1.0
    return C


_CONV: dict = {}


def _conv_full(nl: int) -> np.ndarray:
    """Cached :func:`_conv_matrix` (nl, nl, 2 nl - 1), transposed (dense output, every step)."""
    if nl not in _CONV:
        _CONV[nl] = np.ascontiguousarray(_conv_matrix(nl, nl, 2 * nl - 1).T)
    return _CONV[nl]


def _powers(L: int, nl: int) -> np.ndarray:
    """2^(L j), j < nl, as float64 (exact; the estimates of :meth:`LimbSeries.norm`)."""
    key = ("pw", L, nl)
    if key not in _CONV:
        _CONV[key] = 2.0 ** (L * np.arange(nl))
    return _CONV[key]


# ---- the plan: products by level, linear maps folded into one rational matrix per level -------
def _fold(program: Program, live: set):
    """Materialised nodes and the expansion of every needed linear combination over them.

    A linear node is materialised when a product uses it; every other linear node is expanded
    into its consumers (exact rational arithmetic), so chains r = Xw - y, g = X^T r become one
    matrix.  Returns (materialised lin nodes, {node: (terms {base: Rational}, constant)})."""
    nodes = program.nodes
    used_by_product = {j for i in live if nodes[i].op in ("mul", "sq") for j in nodes[i].args}
    mat = {i for i in live if nodes[i].op == "lin" and i in used_by_product}

    for attempt in range(2):
        memo: dict = {}
        work = [0]

        def expand(i, top):
            n = nodes[i]
            if n.op != "lin" or (i in mat and not top):
                return {i: sp.Integer(1)}, sp.Integer(0)
            if (i, top) in memo:
                return memo[(i, top)]
            terms: dict = {}
            c0 = sp.sympify(n.value)
            for c, j in zip(n.coeffs, n.args):
                t, cj = expand(j, False)
                c0 = c0 + c * cj
                work[0] += len(t)
                if work[0] > FOLD_BUDGET and attempt == 0:  # X^T X of a large model: fold nothing
                    raise _FoldTooLarge
                for b, v in t.items():
                    terms[b] = terms.get(b, 0) + c * v
            out = ({b: v for b, v in terms.items() if v != 0}, c0)
            memo[(i, top)] = out
            return out

        need = sorted(mat) + [o for o in program.outputs]
        try:
            exp = {i: expand(i, True) for i in set(need)}
        except _FoldTooLarge:
            exp = None
        if exp is not None and all(_row_ok(t) for t, _ in exp.values()):
            return mat, exp
        # folding made numerators too large: materialise every linear node instead
        mat = {i for i in live if nodes[i].op == "lin"}
    return None


#: folding linear chains costs about this many exact term updates at most (n = 50 diagonal net:
#: 1.3e5, 0.8 s); beyond it every linear node is computed as its own stage instead
FOLD_BUDGET = 200_000


class _FoldTooLarge(Exception):
    pass


def _row_ok(terms: dict) -> bool:
    if not terms:
        return True
    d = math.lcm(*(int(v.q) for v in terms.values()))
    return d <= MAX_DEN and sum(abs(int(v * d)) for v in terms.values()) <= MAX_ROW_WEIGHT


_FOLDS: dict = {}  # program key -> folded plan (the same for every precision)


class LimbJet:
    r"""``jet(t0, y0, K, hint=None)`` -> :class:`LimbSeries` of the states (see the module
    docstring); ``unit`` = :math:`H = 2^s` after a call, as for :class:`jet_fixed.FixedJet`.

    ``limb`` and ``rounds`` override the limb width and the carry rounds -- for the negative
    controls of the tests only (a too-wide limb or a dropped carry must break the agreement)."""

    scaled = True

    def __init__(self, program: Program, prec: int, *, limb: int | None = None, rounds: int | None = None,
                 extra: int = 0):
        if not supports(program):
            raise ValueError("the limb jet handles polynomial fields with rational linear coefficients only")
        self.program = program
        self.prec = prec
        self.P = prec + extra      # fractional bits beyond the working precision: tiny states
        self.extra = extra
        self._finer: dict = {}     # extra bits -> the jet with them (see batch)
        self._limb, self._rounds_override = limb, rounds
        nodes = program.nodes
        live = jet_fixed._live(program)
        folded = _FOLDS.get(program.key)
        if folded is None:
            if len(_FOLDS) > 64:  # property tests build thousands of programs
                _FOLDS.clear()
            folded = _FOLDS[program.key] = _fold(program, live)
        if folded is None:
            raise ValueError("linear coefficients too large for exact limb products")
        mat, exp = folded
        # base nodes: states, time, constants, products, materialised linear nodes
        base = sorted(i for i in live if nodes[i].op != "lin" or i in mat)
        level: dict = {}
        deps: dict = {}
        for i in base:
            n = nodes[i]
            if n.op in ("state", "const", "time"):
                level[i], deps[i] = 0, ()
            elif n.op == "lin":
                deps[i] = tuple(exp[i][0])
            else:
                deps[i] = tuple(n.args)
        for i in base:  # node indices are topological; expansions refer to earlier base nodes
            if i not in level:
                level[i] = 1 + max((level[j] for j in deps[i]), default=0)
        # rows: states first (contiguous), then time, constants, then each stage contiguous
        rows: list = list(program.states)
        rows += [i for i in base if nodes[i].op in ("time", "const")]
        stages_def: dict = {}
        for i in base:
            if level[i]:
                kind = "prod" if nodes[i].op in ("mul", "sq") else "lin"
                stages_def.setdefault((level[i], kind), []).append(i)
        order = sorted(stages_def)
        for key in order:
            rows += stages_def[key]
        self.row = row = {i: r for r, i in enumerate(rows)}
        self.N = len(rows)
        self.ns = len(program.states)
        self.time = row.get(program.time) if program.time is not None and program.time in row else None
        self.consts = [(row[i], nodes[i].value) for i in base if nodes[i].op == "const"]
        self.stages = []
        self.products = 0
        for key in order:
            members = stages_def[key]
            o0 = row[members[0]]
            out = slice(o0, o0 + len(members))
            if key[1] == "prod":
                a = [row[nodes[i].args[0]] for i in members]
                b = [row[nodes[i].args[-1]] for i in members]
                self.stages.append(("prod", out, _index(a), _index(b)))
                self.products += len(members)
            else:
                self.stages.append(("lin",) + self._lin_rows(out, [exp[i] for i in members]))
        self.outputs = self._lin_rows(slice(0, self.ns), [exp[o] for o in program.outputs])
        self.groups = len(self.stages) + 1
        self._layouts: dict = {}
        self._fixed = None

    def _lin_rows(self, out, exps):
        """(out, args, N, den, c0): the rows sum_b (N_rb / d_r) x_b + c_r of a linear stage."""
        args = sorted({self.row[b] for t, _ in exps for b in t})
        col = {r: c for c, r in enumerate(args)}
        N = np.zeros((len(exps), max(1, len(args))))
        dens, c0s = [], []
        for r, (t, c0) in enumerate(exps):
            d = math.lcm(1, *(int(v.q) for v in t.values()))
            for b, v in t.items():
                N[r, col[self.row[b]]] += int(v * d)
            dens.append(d)
            c0s.append(sp.sympify(c0) * d)
        weight = float(np.abs(N).sum(axis=1).max()) if len(exps) else 0.0
        return out, _index(args) if args else None, N, dens, c0s, weight

    # -- per-order layout: limb width, constant tables -------------------------------------------
    def _layout(self, K: int):
        lay = self._layouts.get(K)
        if lay is not None:
            return lay
        L, nf, nl = layout(self.P, K, self._limb)
        F = nf * L
        base = 2.0 ** L
        lay = {"L": L, "nf": nf, "nl": nl, "F": F, "base": base,
               "convT": np.ascontiguousarray(_conv_matrix(nl, nl, 2 * nl - 1).T[nf - LOW:]),
               "prod_rounds": self._rounds_override if self._rounds_override is not None
               else rounds_for(2.0 ** 53, L),
               "consts": [(r, to_limbs([jet_fixed.exact_mantissa(c, F)], L, nl)[0]) for r, c in self.consts],
               "stages": [self._lin_tables(st[1:], L, nl, F) if st[0] == "lin" else None for st in self.stages],
               "dk": {}}
        lay["out"] = self._lin_tables(self.outputs, L, nl, F, with_den=False)
        self._layouts[K] = lay
        return lay

    def _lin_tables(self, st, L, nl, F, with_den=True):
        """Limb tables of a linear stage: extra limbs for the growth of N a, the carry rounds,
        the constants c d 2^F (order 0), and the limbs of 2^(L m)/d (None when every d = 1)."""
        out, args, N, dens, c0s, weight = st
        ex = max(1, math.ceil(math.log2(weight + 2) / L))
        nlx = nl + ex
        pow2 = with_den and any(d != 1 for d in dens) and all(d & (d - 1) == 0 for d in dens)
        if pow2:  # room for the c limbs dropped by the shift (see _shift_tables)
            nlx = max(nlx, nl + -(-max(d.bit_length() - 1 for d in dens) // L))
        rounds = self._rounds_override if self._rounds_override is not None \
            else rounds_for((weight + 1) * 2.0 ** L * (1 + SLACK), L)
        C0 = to_limbs([jet_fixed.exact_mantissa(c, F) for c in c0s], L, nlx).T.copy() if c0s else None
        if C0 is not None and not C0.any():
            C0 = None
        # a multiplication by a constant may take the raw sums N a + c (limbs up to xbound)
        # when every row of its Toeplitz matrix sums to less than 2^52 / xbound (see _linear)
        xbound = (weight + 1) * 2.0 ** L * (1 + SLACK)
        t = {"nlx": nlx, "rounds": rounds, "C0": C0, "D": None, "T": None, "xbound": xbound,
             "NT": np.ascontiguousarray(N.T)}
        if with_den and any(d != 1 for d in dens):
            if pow2:
                t.update(self._shift_tables(dens, L, xbound))
            else:
                t.update(self._den_tables([mpz(1) for _ in dens], dens, L, nl, nlx))
        return t

    def _shift_tables(self, dens, L, xbound):
        r"""Power-of-two denominators :math:`d_r = 2^{e_r}`: :math:`\lfloor X/d_r 
floor` is the
        exact product :math:`X\,2^{Lc - e_r}` (one scale per row, c = :math:`\lceil \max e_r/L
ceil`
        whole limbs) with its c low limbs dropped after the carry -- an exact floor, one ufunc
        instead of a constant's limb product.  The raw sums N a + c (limbs below ``xbound``) are
        scaled as they are when the scaled limbs stay below 2^52, else after a carry."""
        es = [d.bit_length() - 1 for d in dens]
        c = -(-max(es) // L)
        sc = np.array([2.0 ** (L * c - e) for e in es])
        pre = not xbound * sc.max() < 2.0 ** 52
        ybound = (2.0 ** L * (1 + SLACK) if pre else xbound) * sc.max()
        return {"shift": c, "sc": sc, "pre": pre,
                "srounds": self._rounds_override if self._rounds_override is not None
                else rounds_for(ybound, L)}

    def _den_tables(self, nums, dens, L, nl, nlx):
        r"""Per-row constants :math:`\lfloor 2^{L m}\,\text{num}/d\rfloor` as limbs (m = nlx + 1
        fraction limbs: the rounding of the constant costs below one unit of a value < 2^(L nlx))."""
        m = nlx + 1
        vals = [(mpz(n) << (L * m)) // d for n, d in zip(nums, dens)]
        md = max(1, -(-max(int(v).bit_length() for v in vals) // L))
        W = nlx + md - 1
        lo = m - LOW   # result limbs below m - LOW are never formed (see LOW)
        if len(set(vals)) == 1:  # one constant for every row: a Toeplitz matrix, Y = T X
            d = to_limbs(vals[:1], L, md)[0]
            T = np.zeros((W, nlx))
            for p in range(nlx):
                T[p:p + md, p] = d
            # d and convT serve batches whose flows have different units (one constant a column)
            return {"D": None, "T": np.ascontiguousarray(T[lo:]), "m": m, "d": d,
                    "rowsum": float(np.abs(T).sum(axis=1).max()),
                    "convT": np.ascontiguousarray(_conv_matrix(nlx, md, W).T[lo:])}
        D = to_limbs(vals, L, md).T.copy()                        # (md, G)
        return {"D": D, "T": None, "m": m, "md": md,
                "convT": np.ascontiguousarray(_conv_matrix(nlx, md, W).T[lo:])}

    def _dk(self, lay, s: int, k: int):
        """Output tables for order k: the step multiplies row r by 2^s / ((k+1) d_r)."""
        key = (s, k)
        t = lay["dk"].get(key)
        if t is None:
            out = lay["out"]
            _, _, _, dens, _, _ = self.outputs
            if s >= 0:
                nums, ds = [mpz(1) << s for _ in dens], [d * (k + 1) for d in dens]
            else:
                nums, ds = [mpz(1) for _ in dens], [(d * (k + 1)) << -s for d in dens]
            t = self._den_tables(nums, ds, lay["L"], lay["nl"], out["nlx"])
            lay["dk"][key] = t
        return t

    # -- evaluation ------------------------------------------------------------------------------
    def __call__(self, t0, y0, K, hint=None):
        return self.batch([(t0, y0, K, hint)])[0]

    def flow_bytes(self, K: int) -> int:
        """Bytes of the state S and its order-reversed copy per flow at order K (the work arrays
        a batch stacks; :data:`numerics.taylor.batch.BATCH_BYTES` bounds their sum)."""
        return 2 * self.N * (K + 1) * self._layout(K)["nl"] * 8

    def batch(self, requests) -> list:
        r"""Taylor coefficients for several flows of this program at once: ``requests`` are
        ``(t0, y0, K, hint)``; flows with the same K share every matrix product (the flows
        are one more axis of the limb arrays: products batched over nodes and flows, the
        linear maps :math:`N a` matrix-matrix).  Each flow's coefficients are exactly those
        of a call on its own (exact integer arithmetic does not depend on what it is batched
        with); a flow whose values outgrow the limbs falls back alone.  A flow with states far
        below 1 runs on a jet with more fractional bits (:func:`jet_fixed.extra_bits`, the rule
        of :mod:`numerics.taylor.jet_small`), so decaying components keep their relative digits
        as in floating point."""
        out = [None] * len(requests)
        byK: dict = {}
        for i, (t0, y0, K, hint) in enumerate(requests):
            byK.setdefault((K, 0 if self.extra else jet_fixed.extra_bits(y0, TINY_GUARD)), []).append(i)
        for (K, extra), idx in byK.items():
            if extra:
                fine = self._finer.get(extra)
                if fine is None:
                    fine = self._finer[extra] = LimbJet(self.program, self.prec, limb=self._limb,
                                                        rounds=self._rounds_override, extra=extra)
                for i, r in zip(idx, fine.batch([requests[i] for i in idx])):
                    out[i] = r
                continue
            # flows of one unit side by side: each unit's step constant then acts on a block
            # of columns (a view) in the buffered loop; every flow's limbs are its own anyway
            unit = {i: _unit_exp(requests[i][3]) for i in idx}
            idx.sort(key=unit.get)
            ss = [unit[i] for i in idx]
            res = self._run([requests[i][0] for i in idx], [requests[i][1] for i in idx], K, ss)
            # a first call (no hint: unit 1) that outgrew the limbs runs again with the smaller
            # unit its exact low orders ask for (_Outgrew.shift), all such flows in one call
            again = [j for j, r in enumerate(res) if isinstance(r, _Outgrew) and r.shift
                     and requests[idx[j]][3] is None]
            if again:
                redo = self._run([requests[idx[j]][0] for j in again], [requests[idx[j]][1] for j in again], K,
                                 [-res[j].shift for j in again])
                for j, r in zip(again, redo):
                    res[j] = r
            for i, r in zip(idx, res):
                if isinstance(r, _Outgrew):  # outgrew the limbs: the mpz jet for this flow
                    if self._fixed is None:
                        self._fixed = jet_fixed.FixedJet(self.program, self.P)
                    t0, y0, K_, hint = requests[i]
                    r = self._fixed(t0, y0, K_, hint)
                out[i] = r
        self.unit = gmpy2.mul_2exp(mpfr(1), out[-1].s)
        return out

    def _run(self, t0s, y0s, K, ss) -> list:
        """LimbSeries per flow (an :class:`_Outgrew` for a flow that outgrew the limbs)."""
        lay = self._layout(K)
        nl, N, Bf = lay["nl"], self.N, len(y0s)
        # node-major: S[i B + b, k, l] is limb l of node i of flow b at order k (a product's
        # operands are then plain strided matrices for BLAS); the carries run on the limb-major
        # results of each stage
        # the buffered loop owns its arrays (views precomputed once per K and Bf); taken from
        # the cache while in use, so a concurrent call on this jet builds its own
        work = lay.pop(("work", Bf), None) if BUFFERED else None
        if work is None and BUFFERED:
            work = _Work.build(self, lay, K, Bf)
        if work:
            # no zeroing above order 1: every call writes the same positions (orders 0 and 1 of
            # the inputs, then every stored row at every order before it is read); the rest
            # (constants and time above their orders, rows never stored) stays zero from the
            # allocation, so a call never sees what an earlier one (even one that overflowed) left
            S = work.S
            S[:, :2] = 0.0   # (what _orders_buffered copies into the reversed orders first)
        else:
            S = np.zeros((N * Bf, K + 1, nl))
        try:
            return self._run_orders(S, t0s, y0s, K, ss, lay, work)
        finally:
            # kept for the next call when small; a batch whose flows finish one by one calls with
            # every Bf down to 1: at most WORK_KEEP of them per K stay cached
            if work is not None and 2 * S.nbytes <= WORK_BYTES:
                held = [key for key in lay if isinstance(key, tuple) and key[0] == "work"]
                if len(held) >= WORK_KEEP:
                    del lay[held[0]]
                lay[("work", Bf)] = work

    def _run_orders(self, S, t0s, y0s, K, ss, lay, work):
        L, nf, nl, F, base = lay["L"], lay["nf"], lay["nl"], lay["F"], lay["base"]
        N, ns, Bf = self.N, self.ns, len(y0s)
        if ns:
            M = [_mantissa(v, F) for i in range(ns) for v in (y[i] for y in y0s)]
            S[:ns * Bf, 0] = to_limbs(M, L, nl)
        for r, c in lay["consts"]:
            S[r * Bf:(r + 1) * Bf, 0] = c[None, :]
        if self.time is not None:
            tr = slice(self.time * Bf, (self.time + 1) * Bf)
            S[tr, 0] = to_limbs([_mantissa(t0, F) for t0 in t0s], L, nl)
            if K >= 1:
                if F + min(ss) < 0:
                    return [_Outgrew(None)] * Bf
                S[tr, 1] = to_limbs([mpz(1) << (F + s) for s in ss], L, nl)
        with np.errstate(invalid="ignore", over="ignore"):  # values that outgrew the limbs:
            # caught below, then the mpz jet
            Srev = self._orders(S, K, lay, ss, work) if work else self._orders(S, K, lay, ss)
        top = S[:, :, nl - 1]
        # one check for every order: a value that outgrew the limbs keeps a large (or NaN) top
        # limb at its order, whatever it did to the orders after it
        ok = (np.abs(top).reshape(N, Bf, K + 1).max(axis=(0, 2)) < base) if N else np.ones(Bf, bool)
        if Srev is not None and N:
            ok &= np.abs(Srev[:, :, nl - 1]).reshape(N, Bf, K + 1).max(axis=(0, 2)) < base
        series = [LimbSeries(S[b:ns * Bf:Bf].transpose(2, 0, 1).copy(), F, ss[b], L, nf) if ok[b]
                  else _Outgrew(_unit_shift(S[b::Bf], L, F, base)) for b in range(Bf)]
        if Bf > 1:
            _SharedNorms([x for x in series if isinstance(x, LimbSeries)])
        return series

    def _plan(self, lay, Bf: int):
        """The stages as flat tuples for :meth:`_orders`, rows expanded to Bf flows (node-major:
        row i Bf + b is node i of flow b); cached per order K and Bf."""
        plan = lay.get(("plan", Bf))
        if plan is not None:
            return plan
        # B operands of products are read from a copy with the orders reversed (a forward
        # strided view for BLAS instead of a gather with a negative stride); every other read is
        # from S.  A stage stores its rows where they are read.
        rows = np.arange(self.N)
        rev = np.zeros(self.N, bool)
        fwd = np.zeros(self.N, bool)
        fwd[:self.ns] = True
        for st in self.stages:
            if st[0] == "prod":
                fwd[rows[st[2]]] = True
                rev[rows[st[3]]] = True
            elif st[2] is not None:
                fwd[rows[st[2]]] = True
        # the step reads the last product stage's limbs directly when its arguments are exactly
        # that stage's rows (f = N (x g) of the gradient flows): no store and gather between
        oargs, last = self.outputs[1], self.stages[-1] if self.stages else None
        fuse = (last is not None and last[0] == "prod" and isinstance(oargs, slice)
                and (oargs.start, oargs.stop) == (last[1].start, last[1].stop))
        if oargs is not None and not fuse:
            fwd[rows[oargs]] = True
        lay["fuse"] = fuse
        plan = []
        for st, tab in zip(self.stages, lay["stages"]):
            out = st[1]
            where = (bool(fwd[out].any()), bool(rev[out].any()))
            if st[0] == "prod":
                _, out, a, b = st
                G = (out.stop - out.start)
                tile = _tiling(a, b)
                if tile:  # B is one block of nodes repeated: broadcast instead of a gather
                    block, r, repeat = tile
                    m = G // r
                    shape = (m, r, Bf) if repeat else (r, m, Bf)
                    bshape = (m, 1, Bf) if repeat else (m, Bf)
                    plan.append((0, _expand(out, Bf), _expand(a, Bf),
                                 (_expand(block, Bf), shape, bshape), G * Bf, where))
                else:
                    plan.append((0, _expand(out, Bf), _expand(a, Bf), (_expand(b, Bf), None, None),
                                 G * Bf, where))
            elif tab.get("shift") is not None and not tab["pre"]:
                # the exact per-row scale folded into N and the constants: X = (N sc) a + c sc
                args = st[2]
                NT = tab["NT"] * tab["sc"][None, :]
                C0 = None if tab["C0"] is None else np.repeat(tab["C0"] * tab["sc"][None, :], Bf, axis=1)
                G, A = NT.shape[1], NT.shape[0]
                plan.append((1, _expand(out, Bf), _expand(args, Bf), (NT, np.ascontiguousarray(NT.T), A, G),
                             (tab["nlx"], G * Bf), (C0, tab["srounds"], tab["shift"], where)))
            else:
                plan.append((2, st, tab, where, None, None))
        lay[("plan", Bf)] = plan
        return plan

    def _steps(self, lay, s: int, K: int):
        """The step constants 2^s/((k+1) d) of the outputs for k < K as Toeplitz matrices, with
        whether the raw sums N a + c need a carry first (as in _linear); False when they differ
        by row (then the general loop)."""
        steps = lay.get(("steps", s))
        if steps is None:
            nl, otab = lay["nl"], lay["out"]
            dks = [self._dk(lay, s, k) for k in range(K)]
            if self.outputs[1] is None or any(d["T"] is None for d in dks):
                steps = False
            else:
                # at least LOW + nl rows: a small constant (large k, negative s) has fewer
                # limbs than a state, and the stores read rows LOW .. LOW + nl - 1; zero rows
                # are its exact value there, and the carries fill them
                Ts = [_tall(d["T"], LOW + nl) for d in dks]
                steps = (Ts, [T[:, :nl] for T in Ts],
                         [not otab["xbound"] * d["rowsum"] < 2.0 ** 52 for d in dks])
            lay[("steps", s)] = steps
        return steps

    def _orders(self, S, K, lay, ss, work=None):
        r"""The recurrence, order by order, for Bf = len(ss) flows: the same arithmetic as
        :meth:`_orders_general` (every sum is exact, so the association does not matter and the
        digits are identical), with the stages as flat tuples, the carries inline, the exact
        scales folded into the matrices, B operands from an order-reversed copy and shared
        operands broadcast -- about half the Python and NumPy calls per order.  Flows with
        different units get their own step constant (column groups)."""
        Bf = len(ss)
        groups: dict = {}
        for b, s in enumerate(ss):
            groups.setdefault(s, []).append(b)
        steps = {s: self._steps(lay, s, K) for s in groups}
        if any(v is False for v in steps.values()):  # per-row step constants
            return self._orders_general(S, K, lay, ss, Bf)
        if len(groups) == 1:
            cols = [(None, steps[ss[0]])]
        else:  # the columns g Bf + b of each unit's flows
            Go = self.outputs[2].shape[0]
            cols = [((np.arange(Go)[:, None] * Bf + np.array(fl)[None, :]).ravel(), steps[s])
                    for s, fl in groups.items()]
        if work:
            return self._orders_buffered(work, K, lay, cols)
        nl, base, pr = lay["nl"], lay["base"], lay["prod_rounds"]
        convT = lay["convT"]
        nn = nl * nl
        Ls, Lmask = np.int64(lay["L"]), np.int64((1 << lay["L"]) - 1)   # carry_fold_int's shift and mask
        matmul, zeros = np.matmul, np.zeros
        plan = self._plan(lay, Bf)
        fuse = lay["fuse"]
        outs, otab = self.outputs, lay["out"]
        ns, oN = self.ns, outs[2]
        oargs = _expand(outs[1], Bf)
        oNT, onlx = otab["NT"], otab["nlx"]
        oC0 = None if otab["C0"] is None else np.repeat(otab["C0"], Bf, axis=1)
        Go, Ao = oN.shape
        GB = Go * Bf
        ptop = LOW + nl  # product results: limbs LOW .. LOW + nl - 1 kept (INT_LIMBS above fold)
        Srev = np.zeros_like(S)   # Srev[:, K - k] is order k
        Srev[:, K] = S[:, 0]
        if K >= 1:
            Srev[:, K - 1] = S[:, 1]
        for k in range(K):
            kr = K - k
            for kind, out, a, b, G, extra in plan:
                if kind == 0:
                    bb, shape, bshape = b
                    if shape is None:
                        P = matmul(S[a, :k + 1].transpose(0, 2, 1), Srev[bb, kr:])
                    else:
                        P = matmul(S[a, :k + 1].reshape(shape + (k + 1, nl)).swapaxes(-1, -2),
                                   Srev[bb, kr:].reshape(bshape + (k + 1, nl)))
                    R = carry_fold_int(convT @ P.reshape(G, nn).T, pr, ptop, base, Ls, Lmask)
                    last = R[LOW:ptop]
                    if extra[0]:
                        S[out, k] = last.T
                    if extra[1]:
                        Srev[out, kr] = last.T
                elif kind == 1:
                    X = zeros(G)
                    NT, N, A, Gl = b
                    if Bf == 1:
                        matmul(S[a, k].T, NT, out=X[:nl])
                    else:  # (G x A) times (A x flows limbs), reordered to (limbs, G flows)
                        Y = (N @ S[a, k].reshape(A, Bf * nl)).reshape(Gl, Bf, nl)
                        X[:nl].reshape(nl, Gl, Bf)[...] = Y.transpose(2, 0, 1)
                    C0, rounds, c, where = extra
                    if k == 0:
                        if C0 is not None:
                            X += C0
                        rounds += 1
                    X = carry_fold_int(X, rounds, c + nl, base, Ls, Lmask)
                    if where[0]:
                        S[out, k] = X[c:c + nl].T
                    if where[1]:
                        Srev[out, kr] = X[c:c + nl].T
                else:
                    st, tab, where = out, a, b
                    rows = _expand(st[1], Bf)
                    v = self._linear(st[1:], tab, S, k, lay, None, Bf, _expand(st[2], Bf)).T
                    S[rows, k] = v
                    if where[1]:
                        Srev[rows, kr] = v
            # the step: f_k 2^s / ((k + 1) d) as the Toeplitz product of its constant
            if Bf == 1:
                Ak = (last if fuse else S[oargs, k].T) @ oNT                 # (nl, G)
            elif fuse:
                Ak = matmul(oN, last.reshape(nl, Ao, Bf)).reshape(nl, GB)
            else:
                Ak = (oN @ S[oargs, k].reshape(Ao, Bf * nl)).reshape(Go, Bf, nl).transpose(2, 0, 1).reshape(nl, GB)
            Y = carry_fold_int(_step_sums(Ak, cols, k, onlx, oC0, otab["rounds"], base), pr, ptop,
                               base, Ls, Lmask)
            S[:ns * Bf, k + 1] = Y[LOW:ptop].T
            Srev[:ns * Bf, kr - 1] = Y[LOW:ptop].T
        return Srev

    def _orders_buffered(self, w, K, lay, cols):
        r"""The flat recurrence of :meth:`_orders` (products and shift-folded linear stages
        only: see :meth:`_Work.build`) on arrays allocated once per K and Bf (:class:`_Work`):
        every operand and store is a view built once, every product, carry and store writes
        into its buffer (``out=``; 2-d products by ``np.dot``, cheaper per call than matmul),
        the carries inline with array operands (a NumPy scalar costs a conversion per call), so
        an order costs about half the Python and NumPy overhead of :meth:`_orders`.  The same
        operations on the same values: identical limbs (tests).  ``cols``: (columns, step
        constants) per unit of the flows, as in :meth:`_orders` (None: every column)."""
        S, Srev, Bf, nl = w.S, w.Srev, w.Bf, lay["nl"]
        _, dkTn, opre = cols[0][1]
        multi = len(cols) > 1
        base, pr = lay["base"], lay["prod_rounds"]
        Ls, Lmask = np.int64(lay["L"]), np.int64((1 << lay["L"]) - 1)
        matmul, dot, copyto = np.matmul, np.dot, np.copyto
        rshift, band, add = _rshift, _and, _add
        otab = lay["out"]
        onlx, oC0, orounds = otab["nlx"], w.oC0, otab["rounds"]
        ptop, GB, fuse = LOW + nl, w.GB, w.fuse
        Ak, lastf, oNT = w.Ak, w.lastf, w.oNT
        Sout, Rout = w.Sout, w.Rout
        prr = range(pr)
        ycs = [w.ycarries_for(dkTn)] if not multi else None   # the step's carry buffers per order
        if multi:  # per order: the rows of the tallest unit's constant; a carry first for any unit
            mrows = [max(c[1][1][k].shape[0] for c in cols) for k in range(K)]
            mpre = [any(c[1][2][k] for c in cols) for k in range(K)]
            blocks = _unit_blocks(cols, w.Go, Bf)
        Srev[:, K] = S[:, 0]
        if K >= 1:
            Srev[:, K - 1] = S[:, 1]
        last = None
        for k in range(K):
            kr = K - k
            for op in w.ops:
                if op[0] == 0:
                    _, Av, Bv, a, b, Pb, P2d, convT, cr, Sst, Rst = op
                    cf, ci, clo, chi, cq, cL, cm, ctop, cvT = cr
                    matmul(Av[k] if Av is not None else S[a, :k + 1].transpose(0, 2, 1),
                           Bv[k] if Bv is not None else Srev[b, kr:], out=Pb)
                    dot(convT, P2d, out=cf)
                    copyto(ci, cf, casting="unsafe")       # carry_fold_int, inline
                    for _ in prr:
                        rshift(clo, cL, out=cq)
                        band(clo, cm, out=clo)
                        add(chi, cq, out=chi)
                    if cvT is None:
                        last = fold(ci.astype(float), ctop - 1, base)[LOW:ptop]
                        v = last.T
                    else:
                        last, v = ci[LOW:ptop], cvT
                    if Sst is not None:
                        copyto(Sst[k], v)
                    if Rst is not None:
                        copyto(Rst[kr], v)
                else:
                    _, SaT, a, NT, N, A_, Gl, cr, Xtop, C0, rounds, c, Sst, Rst = op
                    cf, ci, clo, chi, cq, cL, cm, ctop, cvT = cr
                    if Bf == 1:
                        dot(SaT[k] if SaT is not None else S[a, k].T, NT, out=Xtop)
                    else:  # (G x A) times (A x flows limbs), reordered to (limbs, G flows)
                        Y = N @ S[a, k].reshape(A_, Bf * nl)
                        copyto(Xtop.reshape(nl, Gl, Bf), Y.reshape(Gl, Bf, nl).transpose(2, 0, 1))
                    if k == 0:
                        if C0 is not None:
                            cf += C0
                        rk = rounds + 1
                    else:
                        rk = rounds
                    copyto(ci, cf, casting="unsafe")
                    for _ in (prr if rk == pr else range(rk)):
                        rshift(clo, cL, out=cq)
                        band(clo, cm, out=clo)
                        add(chi, cq, out=chi)
                    if k == 0:
                        cf[nl:] = 0.0    # the rows above nl are zero at every later order
                    v = cvT if cvT is not None else fold(ci.astype(float), ctop - 1, base)[c:c + nl].T
                    if Sst is not None:
                        copyto(Sst[k], v)
                    if Rst is not None:
                        copyto(Rst[kr], v)
            # the step: f_k 2^s / ((k + 1) d) as the Toeplitz product of its constant
            if Bf == 1:
                if fuse:
                    copyto(lastf, last)
                    dot(lastf, oNT, out=Ak)
                else:
                    dot(w.OaT[k] if w.OaT is not None else S[w.oargs, k].T, oNT, out=Ak)
            elif fuse:
                matmul(w.oN, last.reshape(nl, w.Ao, Bf), out=w.Ak3)
            else:
                copyto(Ak, (w.oN @ S[w.oargs, k].reshape(w.Ao, Bf * nl)).reshape(w.Go, Bf, nl)
                       .transpose(2, 0, 1).reshape(nl, GB))
            if k == 0 or (mpre[k] if multi else opre[k]):  # the constants of order 0, a carry
                # before the product: as _orders
                Y = carry_fold_int(_step_sums(Ak, cols, k, onlx, oC0, orounds, base), pr, ptop,
                                   base, Ls, Lmask)
                v = Y[LOW:ptop].T
            else:
                if multi:  # flows with other units: each unit's constant on its columns, zero
                    # rows above a shorter constant (as _step_sums), one carry for all
                    cf, ci, clo, chi, cq, cL, cm, ctop, cvT = w.ycarry(mrows[k])
                    if blocks is not None:  # each unit's flows a block b0:b1 of every node's columns
                        cf3 = cf.reshape(mrows[k], w.Go, Bf).transpose(1, 0, 2)
                        Ak3 = Ak.reshape(nl, w.Go, Bf).transpose(1, 0, 2)
                        for (b0, b1), (_, (_, Tn, _)) in zip(blocks, cols):
                            r = Tn[k].shape[0]
                            matmul(Tn[k], Ak3[:, :, b0:b1], out=cf3[:, :r, b0:b1])
                            if r < mrows[k] and _ZERO_ROWS:
                                cf3[:, r:, b0:b1] = 0.0
                    else:
                        for cl, (_, Tn, _) in cols:
                            r = Tn[k].shape[0]
                            cf[:r, cl] = dot(Tn[k], Ak[:, cl])
                            if r < mrows[k] and _ZERO_ROWS:
                                cf[r:, cl] = 0.0
                else:
                    cf, ci, clo, chi, cq, cL, cm, ctop, cvT = ycs[0][k]
                    dot(dkTn[k], Ak, out=cf)
                copyto(ci, cf, casting="unsafe")
                for _ in prr:
                    rshift(clo, cL, out=cq)
                    band(clo, cm, out=clo)
                    add(chi, cq, out=chi)
                v = cvT if cvT is not None else fold(ci.astype(float), ctop - 1, base)[LOW:ptop].T
            copyto(Sout[k + 1], v)
            copyto(Rout[kr - 1], v)
        return Srev

    def _orders_general(self, S, K, lay, ss, Bf):
        """The recurrence for a batch of flows (and for per-row step constants)."""
        nl, base = lay["nl"], lay["base"]
        ns = self.ns
        convT, pr = lay["convT"], lay["prod_rounds"]
        stages = [(st, tab, _expand(st[1], Bf), _expand(st[2], Bf), _expand(st[3], Bf) if st[0] == "prod" else None)
                  for st, tab in zip(self.stages, lay["stages"])]
        outs = self.outputs
        for k in range(K):
            for st, tab, out, a, b in stages:
                if st[0] == "prod":
                    A = S[a, :k + 1]                              # (G B, k+1, nl)
                    B = S[b, k::-1]                               # orders reversed
                    G = A.shape[0]
                    R = np.matmul(A.transpose(0, 2, 1), B)                     # (G B, nl, nl)
                    R = convT @ R.reshape(G, nl * nl).T                # limbs nf-LOW .. 2nl-1
                    carry(R, base, pr)
                    v = fold(R, LOW + nl - 1, base)[LOW:]
                else:
                    v = self._linear(st[1:], tab, S, k, lay, None, Bf, a)
                S[out, k] = v.T
            dks = [self._dk(lay, s, k) for s in ss]
            S[:ns * Bf, k + 1] = self._linear(outs, lay["out"], S, k, lay, dks, Bf,
                                              _expand(outs[1], Bf), ss).T

    def _linear(self, st, tab, S, k, lay, dks, Bf, args, ss=None):
        """(N a)/d (+ c at order 0), or the step's f_k 2^s/((k+1) d), on limbs (nl, G B)."""
        nl, base = lay["nl"], lay["base"]
        _, _, N, _, _, _ = st
        G = N.shape[0]
        X = np.zeros((tab["nlx"], G * Bf))
        if args is not None:
            if Bf == 1:
                np.matmul(S[args, k].T, tab["NT"], out=X[:nl])
            else:  # matrix-matrix: (G x A) times (A x flows limbs)
                A = N.shape[1]
                Y = (N @ S[args, k].reshape(A, Bf * nl)).reshape(G, Bf, nl)
                X[:nl].reshape(nl, G, Bf)[...] = Y.transpose(2, 0, 1)
        if k == 0 and tab["C0"] is not None:
            X += tab["C0"] if Bf == 1 else np.repeat(tab["C0"], Bf, axis=1)
        if tab.get("shift") is not None:  # power-of-two denominators (see _shift_tables)
            if tab["pre"]:
                carry(X, base, tab["rounds"] + (k == 0))
            X *= tab["sc"] if Bf == 1 else np.repeat(tab["sc"], Bf)
            carry(X, base, tab["srounds"] + (k == 0))
            c = tab["shift"]
            return fold(X, c + nl - 1, base)[c:]
        if dks is None:
            t = tab
        elif len(set(ss)) == 1:
            t = dks[0]
        else:  # flows with different units: one constant per column
            md = max(len(d["d"]) for d in dks)
            cols = np.zeros((md, Bf))
            for j, d in enumerate(dks):
                cols[:len(d["d"]), j] = d["d"]
            key = ("percol", tab["nlx"], md)
            if key not in lay:
                nlx, m = tab["nlx"], dks[0]["m"]
                lay[key] = np.ascontiguousarray(_conv_matrix(nlx, md, nlx + md - 1).T[m - LOW:])
            # the same terms X_p d_q as each flow's Toeplitz product (raw sums too): same digits
            t = {"T": None, "D": np.repeat(cols[:, None, :], G, axis=1).reshape(md, G * Bf),
                 "convT": lay[key], "rowsum": max(d["rowsum"] for d in dks)}
        # the raw sums N a + c (limbs below xbound) times the constant stay exact when every
        # result limb sum_p X_p T_rp is below 2^52; else the carry first.  The same decision
        # for a flow alone and in a batch (per-column constants have the same terms): same digits
        if not tab["xbound"] * t.get("rowsum", math.inf) < 2.0 ** 52:
            carry(X, base, tab["rounds"] + (k == 0))
        if t["T"] is not None:
            Y = t["T"] @ X
        elif t["D"] is not None:
            D = t["D"] if t["D"].shape[1] == G * Bf else np.repeat(t["D"], Bf, axis=1)
            Y = t["convT"] @ (X[:, None, :] * D[None, :, :]).reshape(-1, G * Bf)
        else:
            return fold(X, nl - 1, base)
        carry(Y, base, lay["prod_rounds"])
        return fold(Y, LOW + nl - 1, base)[LOW:]


#: the buffered loop (:meth:`LimbJet._orders_buffered`); False: the flat loop only
BUFFERED = True
#: its arrays are cached per order K and batch size up to this many bytes, for this many sizes
WORK_BYTES, WORK_KEEP = 32 << 20, 4


_rshift, _and, _add = np.right_shift, np.bitwise_and, np.add
#: False only in a negative control of the tests (stale rows above a shorter step constant)
_ZERO_ROWS = True


class _Carry:
    """The preallocated arrays of :func:`carry_fold_int` for the buffered loop's inline carries:
    the float sums are written into ``f`` (``out=`` of the product), the carries run in ``i``
    (int64) with ``out=`` ufuncs; the same operations in the same order, so the same limbs."""

    __slots__ = ("f", "i", "q", "lo", "hi", "top", "L", "mask", "vT")

    def __init__(self, shape, top, L, lo_row=LOW):
        self.f = np.zeros(shape)
        self.i = np.empty(shape, np.int64)
        self.q = np.empty((shape[0] - 1,) + tuple(shape[1:]), np.int64)
        self.lo, self.hi = self.i[:-1], self.i[1:]
        self.top = top
        # the shift and the mask as whole arrays: a NumPy scalar operand costs a conversion
        # per call (about as much as the operation on these small arrays)
        self.L = np.full(self.q.shape, L, np.int64)
        self.mask = np.full(self.q.shape, (1 << L) - 1, np.int64)
        # the kept limbs, transposed for the node-major stores (None when a fold is needed)
        self.vT = self.i[lo_row:lo_row + top - lo_row].T if shape[0] <= top else None

    def parts(self) -> tuple:
        """(f, i, lo, hi, q, shift, mask, top, kept limbs transposed) for the inline carries."""
        return self.f, self.i, self.lo, self.hi, self.q, self.L, self.mask, self.top, self.vT


class _Work:
    """Arrays and views of :meth:`LimbJet._orders_buffered` for one order K and Bf flows: the
    state S and its order-reversed copy, each stage's operand views per order, product and
    carry buffers, the store views.  ``build`` returns False when the plan has a stage the
    buffered loop does not take (a linear stage with a per-row constant product)."""

    @classmethod
    def build(cls, jet, lay, K, Bf):
        plan = jet._plan(lay, Bf)
        if any(p[0] == 2 for p in plan) or jet.outputs[1] is None:
            return False
        w = cls()
        nl, L = lay["nl"], lay["L"]
        ptop = LOW + nl
        w.Bf, w.L, w.ptop = Bf, L, ptop
        w.S = S = np.zeros((jet.N * Bf, K + 1, nl))
        w.Srev = Srev = np.zeros_like(S)
        convT = lay["convT"]
        ks = range(K + 1)
        w.ops = []
        last_carry = None
        for kind, out, a, b, G, extra in plan:
            if kind == 0:
                bb, shape, bshape = b
                if shape is None:
                    Av = [S[a, :k + 1].transpose(0, 2, 1) for k in ks] if isinstance(a, slice) else None
                    Bv = [Srev[bb, K - k:] for k in ks] if isinstance(bb, slice) else None
                    pshape = (G, nl, nl)
                else:
                    Av = [S[a, :k + 1].reshape(shape + (k + 1, nl)).swapaxes(-1, -2) for k in ks]
                    Bv = [Srev[bb, K - k:].reshape(bshape + (k + 1, nl)) for k in ks]
                    pshape = np.broadcast_shapes(shape, bshape) + (nl, nl)
                Pb = np.empty(pshape)
                cr = _Carry((convT.shape[0], G), ptop, L)
                w.ops.append((0, Av, Bv, a, bb, Pb, Pb.reshape(G, nl * nl).T, convT, cr.parts(),
                              [S[out, k] for k in ks] if extra[0] else None,
                              [Srev[out, k] for k in ks] if extra[1] else None))
                last_carry = cr
            else:
                NT, N, A_, Gl = b
                nlx, GB = G
                C0, rounds, c, where = extra
                cr = _Carry((nlx, GB), c + nl, L, lo_row=c)
                SaT = [S[a, k].T for k in ks] if (Bf == 1 and isinstance(a, slice)) else None
                w.ops.append((1, SaT, a, NT, N, A_, Gl, cr.parts(), cr.f[:nl], C0, rounds, c,
                              [S[out, k] for k in ks] if where[0] else None,
                              [Srev[out, k] for k in ks] if where[1] else None))
                last_carry = None
        w.fuse = lay["fuse"]
        if w.fuse and last_carry is None:  # pragma: no cover (fuse means a product stage last)
            return False
        outs, otab = jet.outputs, lay["out"]
        w.oargs, w.oN, w.oNT = _expand(outs[1], Bf), outs[2], otab["NT"]
        w.Go, w.Ao = w.oN.shape
        w.GB = GB = w.Go * Bf
        w.oC0 = None if otab["C0"] is None else np.repeat(otab["C0"], Bf, axis=1)
        w.Ak = np.zeros((nl, GB))
        w.lastf = np.zeros((nl, w.Ao * Bf))   # the last product stage's rows (fused step)
        w.Ak3 = w.Ak.reshape(nl, w.Go, Bf)
        w.OaT = [S[w.oargs, k].T for k in ks] if (Bf == 1 and isinstance(w.oargs, slice)) else None
        ns = jet.ns * Bf
        w.Sout = [S[:ns, k] for k in ks]
        w.Rout = [Srev[:ns, k] for k in ks]
        w._ycarries, w._ysteps = {}, {}
        return w

    def ycarries_for(self, dkTn) -> list:
        """The step's carry parts for every order of one unit's constants ``dkTn``."""
        got = self._ysteps.get(id(dkTn))
        if got is None or got[0] is not dkTn:
            got = self._ysteps[id(dkTn)] = (dkTn, [self.ycarry(T.shape[0]) for T in dkTn])
        return got[1]

    def ycarry(self, rows: int) -> tuple:
        cr = self._ycarries.get(rows)
        if cr is None:
            cr = self._ycarries[rows] = _Carry((rows, self.GB), self.ptop, self.L).parts()
        return cr


def _unit_blocks(cols, Go: int, Bf: int):
    """``[(b0, b1), ...]``: each unit's flows as a range of flow indices when its columns are
    exactly g Bf + b for every node g and b0 <= b < b1 (flows sorted by unit, as
    :meth:`LimbJet.batch` passes them), else None."""
    out = []
    for cl, _ in cols:
        b = np.asarray(cl)[:len(cl) // Go]
        b0, b1 = int(b[0]), int(b[-1]) + 1
        if b1 - b0 != len(b) or not np.array_equal(
                cl, (np.arange(Go)[:, None] * Bf + np.arange(b0, b1)[None, :]).ravel()):
            return None
        out.append((b0, b1))
    return out


def _step_sums(Ak, cols, k: int, nlx: int, C0, rounds: int, base: float) -> np.ndarray:
    r"""The step's sums :math:`T_k (f_k + c)` before their carry, for the flows' columns of each
    unit: ``Ak`` (nl, G B) are the limbs of :math:`N a` at order k, ``C0`` the constants (order 0
    only), ``cols`` (columns or None for all, (T, T's first nl columns, carry first?)) per unit.
    Constants of another unit may have more limbs: zero rows on top (the fold after the carry
    sums every row from the top kept limb up, so the kept limbs are the same)."""
    nl, GB = Ak.shape
    X = None
    if k == 0 and C0 is not None:
        X = np.zeros((nlx, GB))
        X[:nl] = Ak
        X += C0
    Y = None
    for cl, (dkT, dkTn, opre) in cols:
        if k == 0 or opre[k]:
            Xg = np.zeros((nlx, GB)) if X is None else X.copy()
            if X is None:
                Xg[:nl] = Ak
            if cl is not None:
                Xg = Xg[:, cl]
            if opre[k]:
                carry(Xg, base, rounds + (k == 0))
            Yg = dkT[k] @ Xg
        else:  # the rows above nl of X are zero: T's first nl columns suffice
            Yg = dkTn[k] @ (Ak if cl is None else Ak[:, cl])
        if cl is None:
            Y = Yg
        else:
            if Y is None:
                Y = np.zeros((max(c[1][0][k].shape[0] for c in cols), GB))
            Y[:Yg.shape[0], cl] = Yg
    return Y


class _Outgrew:
    """A flow whose values outgrew the limbs; ``shift``: how many bits smaller a unit its exact
    low orders ask for (None when they do not tell)."""

    __slots__ = ("shift",)

    def __init__(self, shift):
        self.shift = shift


def _unit_shift(Sb: np.ndarray, L: int, F: int, base: float):
    r"""The unit shift d for a flow's nodes ``Sb`` (nodes, orders, limbs) that outgrew the limbs:
    with :math:`e_k = \log_2 \max_i |x_{ik} H^k|` over the orders before the first that outgrew
    (exact there, read in float), the growth per order :math:`\sigma` is the largest of
    :math:`(e_k - \max(0, e_0))/k` and :math:`e_k - e_{k-1}` (k >= 2: a small state at order 0
    would inflate the first); a unit :math:`2^{-d} H` with
    :math:`d = \lceil\sigma\rceil + 1` makes the rescaled coefficients shrink about twofold per
    order.  None when fewer than two orders are exact, nothing grows, or the values lie beyond
    float64's range (a jet with many extra bits): then the mpz jet."""
    top = np.abs(Sb[:, :, -1]).max(axis=0)
    bad = ~(top < base)
    k_star = int(np.argmax(bad)) if bad.any() else Sb.shape[1]
    if k_star < 2:
        return None
    est = np.abs(Sb[:, :k_star] @ _powers(L, Sb.shape[2])).max(axis=0) * 2.0 ** -F
    if not (est > 0).all():
        return None
    e = np.log2(est)
    sigma = max(((e[1:] - max(0.0, e[0])) / np.arange(1, k_star)).max(),
                (e[2:] - e[1:-1]).max() if k_star > 2 else -np.inf)
    return int(math.ceil(sigma)) + 1 if sigma > 0 else None


def _max_mantissas(cs, L: int) -> list:
    """max_i |A_i| (exact integer) of each (nl, states) limb array in ``cs``, all in one pass.

    Float estimates of every value (error below nl 2^-53 < 2^-40 of the sum of |limbs|) pick
    each array's candidates; the exact maximum among them is the exact maximum of all."""
    nl, ns = cs[0].shape
    B = len(cs)
    c = cs[0] if B == 1 else np.concatenate(cs, axis=1)
    owner = np.repeat(np.arange(B), ns)
    if ns > 2:
        pw = _powers(L, nl)
        est = np.abs(pw @ c)
        err = (pw @ np.abs(c)) * 2.0 ** -40
        keep = est + err >= np.repeat((est - err).reshape(B, ns).max(axis=1), ns)
        c, owner = c[:, keep], owner[keep]
    out = [mpz(0)] * B
    for o, x in zip(owner.tolist(), from_limbs(c.T, L)):
        x = abs(x)
        if x > out[o]:
            out[o] = x
    return out


class _SharedNorms:
    """The norms of the flows of one batch call (same order K and layout): the first flow
    that asks for order k gets every flow's maximum mantissa at k from one
    :func:`_max_mantissas` pass; the others read theirs."""

    __slots__ = ("members", "done")

    def __init__(self, members: list):
        self.members, self.done = members, {}
        for j, m in enumerate(members):
            m.shared = (self, j)

    def mantissa(self, k: int, j: int):
        got = self.done.get(k)
        if got is None:
            got = self.done[k] = _max_mantissas([m.C[:, :, k] for m in self.members], self.members[0].L)
        return got[j]


def _tall(T: np.ndarray, rows: int) -> np.ndarray:
    """``T`` with zero rows appended up to ``rows`` (unchanged when it has as many)."""
    if T.shape[0] >= rows:
        return T
    return np.vstack([T, np.zeros((rows - T.shape[0], T.shape[1]))])


def _tiling(a, b):
    """(block, r, repeat) when the rows ``b`` are one consecutive block of m nodes, tiled r times
    (repeat False) or each node repeated r times (repeat True), and ``a`` is a slice of r m
    rows: products x_i g_j of a whole block of states with one block of g, where the B operand
    broadcasts over the r copies instead of being gathered.  None otherwise."""
    if not isinstance(a, slice) or isinstance(b, slice) or len(b) < 2:
        return None
    b = np.asarray(b)
    if a.stop - a.start != len(b):
        return None
    for repeat in (False, True):
        block = np.unique(b)
        m = len(block)
        if len(b) % m or not np.array_equal(block, block[0] + np.arange(m)):
            return None
        r = len(b) // m
        if np.array_equal(b, np.repeat(block, r) if repeat else np.tile(block, r)):
            return slice(int(block[0]), int(block[0]) + m), r, repeat
    return None


def _unit_exp(hint) -> int:
    """s with the unit H = 2^s in [2 hint, 4 hint) (0 without a hint), as jet_fixed."""
    if hint is None or not hint > 0:
        return 0
    return int(gmpy2.ceil(gmpy2.log2(hint))) + 1


def _expand(ix, Bf: int):
    """Node rows -> the rows of those nodes in every one of Bf flows (row i B + b)."""
    if ix is None or Bf == 1:
        return ix
    if isinstance(ix, slice):
        return slice(ix.start * Bf, ix.stop * Bf)
    return (np.asarray(ix)[:, None] * Bf + np.arange(Bf)).ravel()


def _index(rows):
    """A slice when ``rows`` are consecutive (a view instead of a gather), else an index array."""
    if rows and list(rows) == list(range(rows[0], rows[0] + len(rows))):
        return slice(rows[0], rows[0] + len(rows))
    return np.array(rows, dtype=np.intp)


class LimbSeries:
    r"""Taylor coefficients of the states as limbs ``C[l, i, k]``, :math:`x_k = A_k 2^{-(F + k s)}`;
    the integrator reads norms of single orders and the step's end point; dense output converts."""

    def __init__(self, C: np.ndarray, F: int, s: int, L: int, nf: int):
        self.C, self.F, self.s, self.L, self.nf = C, F, s, L, nf
        self.shared = None   # (_SharedNorms, index) for the flows of one batch call

    def __len__(self):
        return self.C.shape[1]

    def __bool__(self):
        return self.C.shape[1] > 0

    def norm(self, k: int):
        """max_i |y_ik| (mpfr, exact conversion of the largest mantissa); the flows of one batch
        call get theirs from one pass over all of them (:class:`_SharedNorms`)."""
        if self.shared is not None:
            group, j = self.shared
            m = group.mantissa(k, j)
        else:
            m = _max_mantissas([self.C[:, :, k]], self.L)[0]
        return gmpy2.mul_2exp(m, -(self.F + k * self.s))

    def value(self, A, k: int):
        # mul_2exp of an integer rounds it to the context's precision, as mpfr(A) does (and
        # the power of two is exact): the same number, 4-5x cheaper than mpfr(A) first
        return gmpy2.mul_2exp(A, -(self.F + k * self.s))

    def evaluate(self, h) -> list:
        r"""Every state's polynomial at step ``h`` (mpfr): :math:`\sum_k A_k \sigma^k` with
        :math:`\sigma = h/2^s \le 1` in fixed point (powers floored, one limb product, one carry)."""
        return LimbSeries.evaluate_many([(self, h)])[0]

    def _step_powers(self, h) -> list:
        r""":math:`\lfloor\sigma^k\rfloor` in fixed point, k = 0..K, :math:`\sigma = h/2^s`."""
        F = self.F
        sig = _mantissa(h, F - self.s)
        pw = [mpz(1) << F]
        for _ in range(self.C.shape[2] - 1):
            pw.append((pw[-1] * sig) >> F)
        return pw

    @staticmethod
    def evaluate_many(items) -> list:
        """``[s.evaluate(h) for s, h in items]``, series of one shape and layout stacked into one
        limb product, carry and conversion (every sum exact: the same limbs as one by one)."""
        out = [None] * len(items)
        groups: dict = {}
        for i, (x, _) in enumerate(items):
            groups.setdefault((x.C.shape, x.F, x.L, x.nf), []).append(i)
        m2 = gmpy2.mul_2exp   # rounds the integer to the context's precision, as mpfr() did
        for ((nl, ns, K1), F, L, nf), idx in groups.items():
            B = len(idx)
            PW = to_limbs([p for i in idx for p in items[i][0]._step_powers(items[i][1])], L, nl)
            C = np.stack([items[i][0].C.transpose(1, 0, 2) for i in idx])     # (B, ns, nl, K+1)
            R = np.matmul(C, PW.reshape(B, 1, K1, nl))                          # (B, ns, nl, nl)
            R = _conv_full(nl) @ R.reshape(B * ns, nl * nl).T
            # carry_fold_int: the int64 carries of carry(), the same limbs
            v = carry_fold_int(R, rounds_for(2.0 ** 53, L), nf + nl, 2.0 ** L, np.int64(L),
                               np.int64((1 << L) - 1))[nf:]
            vals = [m2(x, -F) for x in from_limbs(v.T, L)]
            for j, i in enumerate(idx):
                out[i] = vals[j * ns:(j + 1) * ns]
        return out

    def rows_int(self):
        """Mantissas as exact integers, (states, orders)."""
        return from_limbs(self.C.transpose(1, 2, 0), self.L)

    def mpf_rows(self) -> list:
        import mpmath
        M = self.rows_int()
        F, s = self.F, self.s
        return [[mpmath.mpf((int(A), -(F + k * s))) for k, A in enumerate(c)] for c in M]

    def mpfr_rows(self) -> list:
        """As :meth:`mpf_rows`, in ``mpfr`` rounded to the gmpy2 context's precision."""
        return [[self.value(A, k) for k, A in enumerate(c)] for c in self.rows_int()]
