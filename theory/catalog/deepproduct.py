r"""Deep diagonal products: :math:`x = u^{(1)}\odot\cdots\odot u^{(L)}` (and the signed
:math:`x = \prod_k u^{(k)} - \prod_k v^{(k)}`), every factor started at :math:`\alpha\mathbf 1`.

Source: H.-H. Chou, J. Maly, H. Rauhut, "More is Less: Inducing Sparsity via
Overparameterization", arXiv 2112.11027 (Information and Inference 2023): gradient flow on the
product of :math:`L` factors with identical initialization; the identical factors stay identical,
so the model behaves as :math:`x = u^{\odot L}` (Woodworth et al., COLT 2020, Sec. 5) on a
different clock. The paper body was not available here; the claims below are re-derived and each
is proved by the checker (see ``docs/weightnorm.md``, "Potentials on the leaf").

The general flow of the field :math:`V = (\prod_{k\ne j}u^{(k)})_j` has no closed form; the
mirror potential exists only because the flow *from* :math:`x_0` stays on the leaf
:math:`u^{(1)} = \cdots = u^{(L)}` (:mod:`theory.laws.leaf_reduce`), where
:math:`\dot u = u^{L-1}`. From another start it is refuted (the dual jet, with a point).
"""
from __future__ import annotations

import sympy as sp

from ..claims import ConservedQuantity, MirrorPotential
from ..errors import InvalidParameterization
from ..parameterization import Coordinate, Parameterization, separable

alpha = sp.Symbol("alpha", positive=True)
mu = sp.Symbol("mu", real=True)
w = sp.Symbol("w", real=True)
SOURCE = ("Chou, Maly, Rauhut, 'More is Less: Inducing Sparsity via Overparameterization', "
          "arXiv 2112.11027 (identical initialization of the factors)")


def _factors(name: str, L: int) -> tuple:
    return tuple(sp.Symbol(f"{name}{k}", positive=True) for k in range(1, L + 1))


def _check_depth(L) -> None:
    if int(L) != L or L < 3:
        raise InvalidParameterization(f"deep product: the number of factors L must be an integer >= 3 "
                                      f"(L = 2 is diagonal-product), got {L!r}")


def product(L: int = 3, n: int = 3, signed: bool = True) -> Parameterization:
    r""":math:`x_i = \prod_{k=1}^L u^{(k)}_i - \prod_{k=1}^L v^{(k)}_i` (``signed``) or
    :math:`\prod_k u^{(k)}_i`, all factors positive and started at :math:`\alpha`."""
    _check_depth(L)
    us = _factors("u", L)
    out = sp.Mul(*us)
    params = us
    if signed:
        vs = _factors("v", L)
        out, params = out - sp.Mul(*vs), us + vs
    c = Coordinate(params=params, output=out, init=tuple(alpha for _ in params))
    kind = "signed" if signed else "nonneg"
    return separable(c, n, f"deepproduct-{kind}-L{L}", constants=(alpha,), source=SOURCE,
                     description=f"x = u1*...*u{L}" + (f" - v1*...*v{L}" if signed else "")
                                 + ", every factor started at alpha")


def literature(L: int = 3, signed: bool = True) -> tuple:
    r"""Per coordinate: the balancedness laws :math:`(u^{(1)})^2 - (u^{(k)})^2` (every start) and
    the dual potential on the leaf: with :math:`\kappa = (L-2)\alpha^{L-2}`,
    :math:`\nabla Q(\mu) = \alpha^L\bigl[(1-\kappa\mu)^{-L/(L-2)} - (1+\kappa\mu)^{-L/(L-2)}\bigr]`
    (signed; the nonnegative model keeps the first term). This is Woodworth's depth-L
    :math:`\alpha^L h_L(\kappa\mu)` with :math:`\kappa` divided by :math:`L` (each factor moves at
    :math:`u^{L-1}`, not :math:`Lu^{L-1}`). [D]"""
    _check_depth(L)
    us = _factors("u", L)
    kappa = (L - 2) * alpha ** (L - 2)
    e = sp.Rational(-L, L - 2)
    grad = alpha**L * (1 - kappa * mu) ** e
    if signed:
        grad -= alpha**L * (1 + kappa * mu) ** e
    laws = tuple(ConservedQuantity(us[0] ** 2 - us[k] ** 2, origin="user", coordinate=True)
                 for k in range(1, L))
    pot = MirrorPotential(variables=(w,), dual_variables=(mu,), dual_gradient=(grad,), origin="user",
                          coordinate=True, leaf="every factor equal (identical initialization)")
    return laws + (pot,)
