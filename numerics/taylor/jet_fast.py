r"""Fast Taylor backend: generated Python (see :mod:`numerics.taylor._codegen`) on gmpy2 ``mpfr``,
and for polynomial fields with many products the fixed-point jet of :mod:`numerics.taylor.jet_fixed`.

Measured here (Python 3.11, gmpy2 2.3, 130 bits): a dot product ``fsum(map(mul, a, b))`` costs
about 100-150 ns per term, against 220 ns for ``sum(map(mul, ...))`` on mpfr, 230 ns for NumPy
object arrays of mpfr, 340 ns for python-flint ``arb`` and 2.6 us for mpmath ``mpf``; so the
floating-point jet is plain generated code on mpfr, with every convolution one ``fsum``
(correctly rounded once).  Integer mantissas (``mpz``) in NumPy ``einsum`` cost about the same
per term but remove the per-node overhead of the generated code: they win on programs with
many products per node group (deep linear nets, diagonal nets from n = 10 on) and lose on
small ones; :func:`prefers_fixed` decides from the program alone (deterministic, unlike a race
timed on the first steps, so the digits of a run do not depend on the machine's load).  The
generated function is cached per program hash; the constants per (hash, precision); the tables
1/k, k, c/(k+1) per order K.
"""
from __future__ import annotations

import functools
import operator

import gmpy2
import mpmath
from gmpy2 import mpfr

from . import jet_fixed
from ._codegen import generate
from .decompose import Program
from ..errors import ProblemError
from .jets import Backend, exact_to_mpf, register

_fsum = gmpy2.fsum
_mul = operator.mul


def _sq(s, k):
    """k-th coefficient of the square of the series ``s`` (symmetric half of the convolution)."""
    h = (k + 1) >> 1
    v = _fsum(map(_mul, s[:h], s[k:k - h:-1]))
    v = v + v
    if not k & 1:
        m = s[k >> 1]
        v = v + m * m
    return v


_NAMESPACE = {"fsum": _fsum, "mul": _mul, "_sq": _sq, "exp": gmpy2.exp, "log": gmpy2.log,
              "sqrt": gmpy2.sqrt, "tanh": gmpy2.tanh, "atan": gmpy2.atan, "asinh": gmpy2.asinh,
              "asin": gmpy2.asin, "atanh": gmpy2.atanh, "sin_cos": gmpy2.sin_cos,
              "sinh_cosh": gmpy2.sinh_cosh}


def mpf_to_mpfr(x) -> mpfr:
    """mpmath ``mpf`` -> gmpy2 ``mpfr`` exactly (mantissa and exponent; rounded to the context)."""
    sign, man, exp, _ = mpmath.mpf(x)._mpf_
    if not man:
        if exp:  # inf / nan
            return mpfr(str(mpmath.mpf(x)))
        return mpfr(0)
    v = gmpy2.mul_2exp(mpfr(gmpy2.mpz(man)), exp)
    return -v if sign else v


def mpfr_to_mpf(x) -> mpmath.mpf:
    """gmpy2 ``mpfr`` -> mpmath ``mpf`` exactly (then rounded to mpmath's working precision)."""
    if not gmpy2.is_finite(x):
        return mpmath.mpf(str(x))
    m, e = x.as_mantissa_exp()
    return mpmath.mpf((int(m), int(e)))


@functools.lru_cache(maxsize=64)
def _compiled(key: str, source: str):
    ns = dict(_NAMESPACE)
    exec(compile(source, f"<ibcheck taylor {key[:12]}>", "exec"), ns)
    return ns["taylor"]


@functools.lru_cache(maxsize=64)
def _generated(program: Program):
    return generate(program)


class _FastJet:
    def __init__(self, program: Program, prec: int):
        source, consts, self.scales = _generated(program)
        self.source = source
        self.fn = _compiled(program.key, source)
        self.C = [self._value(c, prec) for c in consts]
        self.prec = prec
        self._tables: dict = {}

    def _value(self, c, prec):
        if isinstance(c, tuple):
            return tuple(self._value(x, prec) for x in c)
        return mpf_to_mpfr(exact_to_mpf(c, prec))

    def __call__(self, t0, y0, K, hint=None):
        tab = self._tables.get(K)
        if tab is None:  # per order: 1/k, k, and every output scale c/(k+1)
            Z, ONE = mpfr(0), mpfr(1)
            INV = [Z] + [ONE / k for k in range(1, K + 2)]
            KN = [mpfr(k) for k in range(K + 2)]
            SC = [[self.C[i] / (k + 1) for k in range(K)] for i in self.scales]
            tab = self._tables[K] = (Z, ONE, INV, KN, SC)
        Z, ONE, INV, KN, SC = tab
        return self.fn(y0, t0, K, self.C, Z, ONE, INV, KN, SC)


class FastBackend(Backend):
    """gmpy2 ``mpfr`` arithmetic in generated code; precision through a gmpy2 context."""

    name = "fast"

    def context(self, prec: int):
        return gmpy2.context(gmpy2.get_context(), precision=prec)

    def from_mpf(self, x):
        return mpf_to_mpfr(x)

    def to_mpf(self, x):
        return mpfr_to_mpf(x)

    def compile(self, program: Program, prec: int):
        """The limb jet (:mod:`numerics.taylor.jet_limbs`) for polynomial fields with many products
        (:func:`prefers_limbs`), the fixed-point jet (:mod:`numerics.taylor.jet_fixed`) where it
        pays (:func:`prefers_fixed`), the generated fixed-point code of
        :mod:`numerics.taylor.jet_small` for the other polynomial fields, else the mpfr code.  The
        choice depends on the program alone, so a flow's digits are reproducible run to run."""
        from . import jet_limbs
        if jet_limbs.supports(program) and prefers_limbs(program):
            try:
                return jet_limbs.LimbJet(program, prec)
            except ValueError:  # coefficients too large for exact limb products
                pass
        if jet_fixed.supports(program):
            fixed = jet_fixed.FixedJet(program, prec)
            if prefers_fixed(fixed):
                return fixed
        from . import jet_small
        if jet_small.supports(program):
            return jet_small.SmallJet(program, prec)
        return _FastJet(program, prec)


#: products from which the machine-word jet is used (see :func:`prefers_limbs`)
LIMBS_FROM = 24


def prefers_limbs(program: Program) -> bool:
    r"""Whether the machine-word fixed-point jet (:mod:`numerics.taylor.jet_limbs`) is expected to
    beat both other jets on ``program``: it pays a fixed number of NumPy calls per order and
    stage (about 25-40 us per order for a diagonal net), whatever the size, and then about
    0.1-0.2 ns per limb multiply-add (BLAS), so it wins once a level holds a couple of dozen
    products.  Measured (CPU time of a whole integration, 30 digits, T = 20, the two jets
    interleaved, after the flat recurrence of jet_limbs): diagonal n = 3 (10 products): limbs
    1.96x the mpfr code; n = 4 (16): 1.13x; n = 6 (24): 0.80x.  Before it (100 us per order and
    level): n = 6 even, n = 10 (40 products): 3.3 ms against 4.6 ms a step; n = 20: 4-5 ms
    against 8 ms (mpz jet); n = 50: 6-7 ms against 19 ms.  Hence :data:`LIMBS_FROM`.  Decided
    from the program alone, so a flow's digits do not depend on the machine's load."""
    live = jet_fixed._live(program)
    return sum(1 for i in live if program.nodes[i].op in ("mul", "sq")) >= LIMBS_FROM


#: flows from which a batch runs on the machine-word jet whatever the program (see :func:`batch_backend`)
BATCH_LIMBS_FROM = 4


def batch_backend(program: Program, flows: int) -> str:
    r"""The backend for a batch of ``flows`` flows of ``program`` under ``"fast"``: ``"limbs"``
    when the machine-word jet takes the program and the batch has :data:`BATCH_LIMBS_FROM` flows
    or more, else ``"fast"`` (the single-flow choice).  A batch shares one jet call per step
    among its flows, so the limb jet's fixed cost per call (the reason small programs run on
    the generated code alone, :func:`prefers_limbs`) is spread over them.  Measured
    (``benchmarks/bench_batch.py``, diagonal nets, 30 digits, CPU of the batch over as many
    single runs of the program's own jet, medians of 5): n = 2: 0.92 (4 flows), 0.66 (8),
    0.50 (16); n = 3: 0.83, 0.61, 0.47; n = 5: 0.67, 0.66, 0.52.  Decided from the program and
    the number of flows alone: the digits of a batch are those of ``integrate(...,
    backend=batch_backend(...))`` for each flow."""
    from . import jet_limbs
    if flows >= BATCH_LIMBS_FROM and jet_limbs.supports(program):
        return "limbs"
    return "fast"


#: products per node group from which the fixed-point jet is used (see :func:`prefers_fixed`)
FIXED_FROM = 12


def prefers_fixed(fixed: "jet_fixed.FixedJet") -> bool:
    r"""Whether the fixed-point jet is expected to beat the mpfr code on its program.

    Both cost about the same per multiply-add; the mpfr code pays a Python overhead per node
    and order, the fixed-point jet one per *group* of nodes (level and kind) and order, plus a
    recomputation when the step outgrows its unit.  So the fixed jet wins once the groups are
    well filled.  Measured on whole flows (T = 20, dps 30; time fixed / mpfr, medians of 4
    interleaved runs), against products per group: diagonal n = 5 (2.5): 1.8; linear 2x2x2 (4):
    1.2; diagonal n = 10 (6.7): 1.2; depth 3, n = 10 (8.6): 1.15; depth 4, n = 10 (10): 0.86;
    diagonal n = 20 (13): 0.95; linear 3x3x3x3 (37): 0.70.  Hence :data:`FIXED_FROM`."""
    return fixed.products >= FIXED_FROM * len(fixed.plan)


class FixedBackend(FastBackend):
    """The fixed-point jet alone (:mod:`numerics.taylor.jet_fixed`; polynomial fields only) -- for tests."""

    name = "fixed"

    def compile(self, program: Program, prec: int):
        if not jet_fixed.supports(program):
            bad = sorted({n.op for n in program.nodes} - jet_fixed.POLYNOMIAL)
            raise ProblemError(f"the fixed-point backend handles polynomial fields only, not {', '.join(bad)}")
        return jet_fixed.FixedJet(program, prec)


register(FastBackend())
register(FixedBackend())


class LimbsBackend(FastBackend):
    """The machine-word fixed-point jet alone (:mod:`numerics.taylor.jet_limbs`; polynomial fields
    with rational linear coefficients) -- for tests and benchmarks."""

    name = "limbs"

    def compile(self, program: Program, prec: int):
        from . import jet_limbs
        if not jet_limbs.supports(program):
            raise ProblemError("the limb backend handles polynomial fields with rational linear coefficients only")
        return jet_limbs.LimbJet(program, prec)


register(LimbsBackend())
