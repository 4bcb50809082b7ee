r"""Initialization laws of the hidden units :math:`(W, B)` of a two-layer ReLU network.

* :class:`Density`: a one-dimensional density (SymPy expression in :data:`T`) on an interval;
* :class:`Atoms`: a discrete law :math:`\sum_k q_k\,\delta_{w_k}` (e.g. :math:`W = \pm 1`);
* :class:`Product`: :math:`W \perp B` with :math:`B` continuous;
* :class:`KinkLaw`: :math:`W \perp C`, :math:`B = -W C` (the kink :math:`C = -B/W` sampled
  directly, Jin & Montúfar 2023, Remark 27);
* :class:`Mixture`: :math:`\sum_i \pi_i\,\mu_i`.

:func:`normalisation` proves that every density integrates to 1 and every weight vector sums to 1
(and refutes a density that is negative somewhere); :func:`require_normalised` turns anything but
"proved" into :class:`InvalidLaw`.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

from ..claims import Proof
from ..memo import memo
from ..proving.zero import check_identity, sample_point
from .errors import InvalidLaw

T = sp.Symbol("t", real=True)


@dataclass(frozen=True)
class Density:
    """Density ``expr`` (in :data:`T`) on ``[lo, hi]`` (either end may be infinite), 0 elsewhere."""

    expr: sp.Expr
    lo: sp.Expr = -sp.oo
    hi: sp.Expr = sp.oo

    def at(self, t):
        return sp.sympify(self.expr).subs(T, t)


@dataclass(frozen=True)
class Atoms:
    """Discrete law: ``((value, probability), ...)``."""

    atoms: tuple


@dataclass(frozen=True)
class Product:
    """:math:`W \\sim` ``w`` independent of :math:`B \\sim` ``b`` (``b`` must be a :class:`Density`)."""

    w: Density | Atoms
    b: Density


@dataclass(frozen=True)
class KinkLaw:
    """:math:`W \\sim` ``w`` independent of the kink :math:`C \\sim` ``c``; :math:`B = -WC`."""

    w: Density | Atoms
    c: Density


@dataclass(frozen=True)
class Mixture:
    """``((weight, law), ...)`` with weights summing to 1."""

    parts: tuple


def uniform(a, b) -> Density:
    return Density(1 / (sp.sympify(b) - a), sp.sympify(a), sp.sympify(b))


def gaussian(sigma) -> Density:
    sigma = sp.sympify(sigma)
    return Density(sp.exp(-T**2 / (2 * sigma**2)) / (sp.sqrt(2 * sp.pi) * sigma))


def rademacher() -> Atoms:
    return Atoms(((sp.Integer(-1), sp.Rational(1, 2)), (sp.Integer(1), sp.Rational(1, 2))))


def constants(law) -> set:
    """Free symbols of a law (its parameters), :data:`T` excluded."""
    if isinstance(law, Density):
        return (sp.sympify(law.expr).free_symbols | sp.sympify(law.lo).free_symbols
                | sp.sympify(law.hi).free_symbols) - {T}
    if isinstance(law, Atoms):
        return set().union(*(sp.sympify(v).free_symbols | sp.sympify(q).free_symbols for v, q in law.atoms))
    if isinstance(law, (Product, KinkLaw)):
        return constants(law.w) | constants(law.b if isinstance(law, Product) else law.c)
    if isinstance(law, Mixture):
        return set().union(*(sp.sympify(p).free_symbols | constants(m) for p, m in law.parts))
    raise InvalidLaw(f"not an initialization law: {type(law).__name__}")


def subs(law, values: dict):
    """The law with its constants replaced by ``values``."""
    s = lambda e: sp.sympify(e).subs(values)
    if isinstance(law, Density):
        return Density(s(law.expr), s(law.lo), s(law.hi))
    if isinstance(law, Atoms):
        return Atoms(tuple((s(v), s(q)) for v, q in law.atoms))
    if isinstance(law, Product):
        return Product(subs(law.w, values), subs(law.b, values))
    if isinstance(law, KinkLaw):
        return KinkLaw(subs(law.w, values), subs(law.c, values))
    if isinstance(law, Mixture):
        return Mixture(tuple((s(p), subs(m, values)) for p, m in law.parts))
    raise InvalidLaw(f"not an initialization law: {type(law).__name__}")


def _parts(law, where):
    """(identity components, description) pairs that must vanish, and densities to test for sign."""
    comps, dens = [], []
    if isinstance(law, Density):
        if law.lo != -sp.oo and law.hi != sp.oo and not sp.simplify(law.hi - law.lo).is_positive:
            raise InvalidLaw(f"{where}: empty support [{law.lo}, {law.hi}]")
        mass = sp.integrate(law.expr, (T, law.lo, law.hi), conds="none")
        comps.append((mass - 1, f"{where}: integral of {law.expr} over [{law.lo}, {law.hi}] = 1"))
        dens.append((law, where))
    elif isinstance(law, Atoms):
        if not law.atoms:
            raise InvalidLaw(f"{where}: a discrete law needs at least one atom")
        comps.append((sum(q for _, q in law.atoms) - 1, f"{where}: probabilities sum to 1"))
        for v, q in law.atoms:
            if sp.sympify(q).is_negative:
                raise InvalidLaw(f"{where}: negative probability {q} at {v}")
    elif isinstance(law, (Product, KinkLaw)):
        second = law.b if isinstance(law, Product) else law.c
        if not isinstance(second, Density):
            name = "B" if isinstance(law, Product) else "C"
            raise InvalidLaw(f"{where}: {name} must have a density (a discrete {name} puts the kinks on "
                             "a null set and zeta is not a function)")
        for sub, tag in ((law.w, "W"), (second, "B" if isinstance(law, Product) else "C")):
            c, d = _parts(sub, f"{where} {tag}")
            comps += c
            dens += d
    elif isinstance(law, Mixture):
        if not law.parts:
            raise InvalidLaw(f"{where}: empty mixture")
        comps.append((sum(p for p, _ in law.parts) - 1, f"{where}: mixture weights sum to 1"))
        for i, (p, m) in enumerate(law.parts):
            if sp.sympify(p).is_negative:
                raise InvalidLaw(f"{where}: negative mixture weight {p}")
            c, d = _parts(m, f"{where} part {i}")
            comps += c
            dens += d
    else:
        raise InvalidLaw(f"not an initialization law: {type(law).__name__}")
    return comps, dens


@memo(256)
def normalisation(law, *, seed: int = 0) -> Proof:
    """Proof that the law is a probability measure: masses 1 (proved), densities >= 0 at random
    exact points of their supports (a negative value refutes). Memoised (pure in the law and the
    seed): a law is checked by the derivation and again by the claims that use it."""
    comps, dens = _parts(law, "law")
    rng = random.Random(seed)
    for d, where in dens:
        for _ in range(8):
            pt = sample_point(constants(d), rng)
            lo, hi = sp.sympify(d.lo).subs(pt), sp.sympify(d.hi).subs(pt)
            lo_f = -20 if lo == -sp.oo else lo
            hi_f = 20 if hi == sp.oo else hi
            t = lo_f + (hi_f - lo_f) * sp.Rational(rng.randint(1, 99), 100)
            val = sp.sympify(d.expr).subs(pt).subs(T, t)
            if sp.N(val, 30) < 0:
                return Proof("refuted", f"{where}: density >= 0", val, witness={**pt, T: t},
                             witness_value=val, method="negative at an exact point of the support")
    proof = check_identity([c for c, _ in comps], "; ".join(w for _, w in comps))
    return proof


def require_normalised(law) -> Proof:
    """:func:`normalisation`, raising :class:`InvalidLaw` (one line, naming the failing part)
    unless it is proved."""
    proof = normalisation(law)
    if proof.status != "proved":
        comps, _ = _parts(law, "law")
        bad = [w for c, w in comps if sp.simplify(c) != 0] or [proof.identity]
        raise InvalidLaw(f"the initialization law is not normalised ({proof.status}): {bad[0]}"
                         + ("" if proof.witness_value is None else f" (value {proof.witness_value})"))
    return proof
