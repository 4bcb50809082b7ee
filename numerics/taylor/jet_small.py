r"""Fixed-point Taylor jet for small polynomial programs: generated straight-line code on gmpy2
``mpz`` (:mod:`numerics.taylor._codegen_fixed`).

The number model and the integrator interface are :mod:`numerics.taylor.jet_fixed`'s (block
floating point with one exponent per order, the unit :math:`H = 2^s` chosen from the step hint,
a :class:`~numerics.taylor.jet_fixed.FixedSeries` as result), with :math:`F = P + G` fractional
bits (:data:`GUARD` extra bits: the cost of an ``mpz`` operation does not depend on a few more
bits).  Each node and order rounds once, towards :math:`-\infty`, by less than :math:`2^{-F}` in
the rescaled coefficient :math:`x_k H^k` (exact integer products and rational linear maps, then
one floor), so the local rounding error is :math:`2^{-G}` times jet_fixed's bound of
:math:`2^{-P}`; the integrator's error control is relative to :math:`\max(1, \|y\|)` and
:math:`2^{-P}` lies 10 guard digits below its tolerance.

Where it pays: the mpfr code (:mod:`numerics.taylor._codegen`) costs one ``fsum(map(mul, ...))``
per product node and order, about 140 ns per term; here products that share a factor (the
:math:`u_i g_i, v_i g_i` of a diagonal net) are one dot product of packed integers
(:math:`\approx` 150-200 ns per term for the whole group).  The slot width W of the packing is
chosen per call from a bound :math:`2^B` on the mantissas involved; after the call the bound is
checked on every packed and hub history and, if a mantissa exceeded it, the call is repeated
with a larger B (a slot would have overflowed).  The digits never depend on B: when no slot
overflows the arithmetic is exact.
"""
from __future__ import annotations

import functools
import operator

import gmpy2
from gmpy2 import mpfr, mpz

from ._codegen_fixed import generate, supports  # noqa: F401  (supports: the chooser's test)
from .decompose import Program
from .jet_fixed import FixedSeries, _mantissa, exact_mantissa, extra_bits

#: guard bits below the working precision (F = P + GUARD fractional bits)
GUARD = 8
#: initial bound on |mantissa| in bits above F (the packing width grows when a call exceeds it)
HEADROOM = 8
#: re-runs with a doubled bound before giving up (6: mantissas up to ~2^(64 F), never reached
#: below the integrator's max_norm)
MAX_RERUNS = 6


@functools.lru_cache(maxsize=64)
def _compiled(program: Program, F: int):
    source, consts, plan = generate(program, F, exact_mantissa)
    ns = {"mul": operator.mul}
    exec(compile(source, f"<ibcheck small jet {program.key[:12]}>", "exec"), ns)
    return ns["taylor"], source, consts, plan


class SmallJet:
    r"""``jet(t0, y0, K, hint=None)`` -> :class:`~numerics.taylor.jet_fixed.FixedSeries` of every
    state (mpz mantissas with F fractional bits).  ``unit`` is :math:`H = 2^s` after a call."""

    scaled = True

    def __init__(self, program: Program, prec: int, extra: int = 0):
        self.program, self.prec = program, prec
        self.F = F = prec + GUARD + extra
        self.fn, self.source, self.C, self.plan = _compiled(program, F)
        self.B = F + HEADROOM
        self._tables: dict = {}
        self._packing: dict = {}
        self._finer: dict = {}     # extra fractional bits -> the jet with them

    def _divisors(self, K: int, s: int) -> dict:
        tab = self._tables.get((K, s))
        if tab is None:
            neg = max(0, -s)
            F = self.F
            tab = {"Z": mpz(0), "SH": max(0, s),
                   "D": {d: [mpz(d * (k + 1)) << neg for k in range(K)] for d in self.plan.dens},
                   "T": {(d, a, sg): [mpz(sg * d * (k + 1)) << (F - s - a) for k in range(K)]
                         for d, a, sg in self.plan.rdens}}
            if len(self._tables) > 16:
                self._tables.clear()
            self._tables[(K, s)] = tab
        return tab

    def _pack(self, K: int, B: int) -> dict:
        W = 2 * B + (K + 1).bit_length() + 2
        tab = self._packing.get((K, B))
        if tab is None:
            one = mpz(1)
            tab = {"MASK": (one << W) - 1, "HALF": one << (W - 1),
                   "S": {p: mpz(p * W) for p in range(1, max(self.plan.sizes, default=1))},
                   "B": {m: sum((one << (p * W + W - 1) for p in range(m)), mpz(0)) for m in self.plan.sizes}}
            self._packing[(K, B)] = tab
        return tab

    def _unit_exp(self, hint) -> int:
        """s of the unit :math:`H = 2^s \\in [2\\,hint, 4\\,hint)` (0 without hint), as jet_fixed;
        at most F - 64 (the shifts of the output tables)."""
        if hint is None or not hint > 0:
            return 0
        return min(int(gmpy2.ceil(gmpy2.log2(hint))) + 1, self.F - 64)

    def __call__(self, t0, y0, K, hint=None):
        r"""The coefficients at (t0, y0).  A state of size :math:`2^{-e}` keeps the relative
        accuracy of the mpfr code only with :math:`e` more fractional bits: from
        :math:`e > G` on, the call runs the jet with F + 64 m bits (the smallest m covering
        :math:`e - G`; compiled once per m), so decaying components (weights going to 0 under
        weight decay) keep :math:`P` significant bits, as they would in floating point."""
        extra = extra_bits(y0, GUARD)
        if not extra:
            return self._call(t0, y0, K, hint)
        jet = self._finer.get(extra)
        if jet is None:
            jet = self._finer[extra] = SmallJet(self.program, self.prec, self.F - self.prec - GUARD + extra)
        out = jet._call(t0, y0, K, hint)
        self.unit = jet.unit
        return out

    def _call(self, t0, y0, K, hint=None):
        F = self.F
        s = self._unit_exp(hint)
        self.unit = gmpy2.mul_2exp(mpfr(1), s)
        Y = [_mantissa(v, F) for v in y0]
        T0 = _mantissa(t0, F)
        T1 = mpz(1) << (F + s)
        G = dict(self._divisors(K, s))
        for _ in range(MAX_RERUNS + 1):
            G.update(self._pack(K, self.B))
            rows, watched = self.fn(Y, T0, T1, K, self.C, G)
            top = max((max(map(abs, h)).bit_length() for h in watched), default=0)
            if top <= self.B or not self.rerun:
                return FixedSeries(rows, F, s)
            # a slot may have overflowed (values computed after it are not to be trusted, so
            # the bound at least doubles): again, wider
            self.B = max(top, 2 * self.B) + HEADROOM
        raise ValueError(f"Taylor coefficients beyond 2^{self.B - F} in the fixed-point jet")

    #: False only in the negative control of the tests (no re-run after an exceeded bound)
    rerun = True
