r"""Weight normalization on diagonal linear networks (Chou, Rauhut, Ward, arXiv 2305.05448).

Gradient flow on polar coordinates :math:`(r, s)`, :math:`w = r\,s/\|s\|`, learning rates
:math:`\eta_r` (radius) and :math:`\eta_s` (direction), on the diagonal networks

* ``signed``: :math:`x = u^{\odot L} - v^{\odot L}`, :math:`(u; v) = r\,s/\|s\|`, :math:`s = (a; b)
  \in \mathbb R^{2n}_{>0}`, :math:`u(0) = v(0) = \alpha\mathbf 1` (:math:`r_0 = \sqrt{2n}\,\alpha`,
  :math:`s(0) = \mathbf 1`);
* ``nonneg``: :math:`x = r^L (s/\|s\|)^{\odot L}`, :math:`r_0 = \sqrt n\,\alpha`;
* ``separate``: separate radii, :math:`u = r_u a/\|a\|`, :math:`v = r_v b/\|b\|`;
* ``exponential``: :math:`w = e^{c}\,s/\|s\|` (exponential weight normalization, Morwani &
  Ramaswamy, arXiv 2010.12909), :math:`x = w`.

The ratio of the paper, :math:`\rho = \eta_s/(\eta_r\|s(0)\|^2)`, is a *leaf* quantity: the laws
the checker derives carry :math:`\|s\|^2` of the current state (a law for every start), and the
paper's form with :math:`\|s(0)\|^2` is the same law on the leaf through the start
(:mod:`theory.laws.leaf`). The paper body was not available; its formulas here are re-derived (see
``docs/weightnorm.md``), and each is proved by the checker.
"""
from __future__ import annotations

import sympy as sp

from ..claims import ConservedQuantity
from ..errors import IbcheckError
from ..parameterization import Parameterization

CHOU = ("Chou, Rauhut, Ward, 'Robust Implicit Regularization via Weight Normalization', "
        "arXiv 2305.05448 (Information and Inference 13(3), 2024)")
MORWANI = ("Morwani, Ramaswamy, 'Inductive bias of gradient descent for exponentially weight "
           "normalized smooth homogeneous neural nets', arXiv 2010.12909")

alpha = sp.Symbol("alpha", positive=True)
eta_r = sp.Symbol("eta_r", positive=True)
eta_s = sp.Symbol("eta_s", positive=True)
r = sp.Symbol("r", positive=True)


class WeightNormError(IbcheckError):
    """Bad input to a weight-normalization model or run (depth, scale, ratio, direction)."""


def _check(L, n, s0=None, k=None):
    if isinstance(L, bool) or int(L) != L or L < 2:
        raise WeightNormError(f"weight normalization needs an integer depth L >= 2, got L={L!r}")
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise WeightNormError(f"the number of coordinates must be a positive integer, got n={n!r}")
    if s0 is not None:
        s0 = [sp.nsimplify(v, rational=True) for v in s0]
        if k is not None and len(s0) != k:
            raise WeightNormError(f"the direction s(0) needs {k} entries, got {len(s0)}")
        if all(v == 0 for v in s0):
            raise WeightNormError("the direction vector s(0) is zero: s/||s|| is undefined")
        if any(not v.is_positive for v in s0):
            raise WeightNormError(f"the direction s(0) must have positive entries here, got {s0}")
    return s0


def check_scales(alpha_value=None, rho=None) -> None:
    """Refuse a nonpositive initialization scale or learning-rate ratio (one-line errors)."""
    if alpha_value is not None and not sp.sympify(alpha_value).is_positive:
        raise WeightNormError(f"the initialization scale alpha must be > 0, got {alpha_value}")
    if rho is not None and not sp.sympify(rho).is_positive:
        raise WeightNormError(f"the learning-rate ratio rho must be > 0, got {rho}")


def _syms(name, n):
    return [sp.Symbol(f"{name}_{i + 1}", positive=True) for i in range(n)]


def signed(L: int = 2, n: int = 2, *, s0=None) -> Parameterization:
    r""":math:`x = u^{\odot L} - v^{\odot L}`, :math:`(u; v) = r\,s/\|s\|`, rates :math:`\eta_r, \eta_s`.

    Init: :math:`s(0) = ` ``s0`` (default :math:`\mathbf 1`, so :math:`u(0) = v(0) = \alpha\mathbf 1`),
    :math:`r(0) = \alpha\|s(0)\|`. Source: Chou, Rauhut, Ward 2023/24 (WN on the diagonal net).
    """
    s0 = _check(L, n, s0, 2 * n) or [sp.Integer(1)] * (2 * n)
    a, b = _syms("a", n), _syms("b", n)
    S = sum(x**2 for x in a + b)
    outs = [r**L * (a[i]**L - b[i]**L) / S ** sp.Rational(L, 2) for i in range(n)]
    r0 = alpha * sp.sqrt(sum(v**2 for v in s0))
    return Parameterization(
        name=f"weightnorm-L{L}", params=(r, *a, *b), outputs=tuple(outs), init=(r0, *s0),
        constants=(alpha, eta_r, eta_s), metric=sp.diag(eta_r, *[eta_s] * (2 * n)),
        source=CHOU, description=f"x = u^{L} - v^{L}, (u; v) = r s/||s||, rates eta_r, eta_s")


def nonneg(L: int = 2, n: int = 2) -> Parameterization:
    r""":math:`x = r^L (s/\|s\|)^{\odot L}`, :math:`s(0) = \mathbf 1`, :math:`r_0 = \sqrt n\,\alpha`."""
    _check(L, n)
    a = _syms("a", n)
    S = sum(x**2 for x in a)
    outs = [r**L * a[i]**L / S ** sp.Rational(L, 2) for i in range(n)]
    return Parameterization(
        name="weightnorm-nonneg", params=(r, *a), outputs=tuple(outs),
        init=(alpha * sp.sqrt(n), *[sp.Integer(1)] * n), constants=(alpha, eta_r, eta_s),
        metric=sp.diag(eta_r, *[eta_s] * n), source=CHOU,
        description=f"x = r^{L} (s/||s||)^{L}, s(0) = 1 (nonnegative)")


def separate(L: int = 2, n: int = 2) -> Parameterization:
    r"""Separate radii: :math:`u = r_u a/\|a\|`, :math:`v = r_v b/\|b\|`, :math:`x = u^L - v^L`.

    The per-coordinate laws of :func:`signed` do not survive (refuted with a point) and the
    count drops to 2 (:math:`\|a\|^2`, :math:`\|b\|^2`)."""
    _check(L, n)
    a, b = _syms("a", n), _syms("b", n)
    ru, rv = sp.symbols("r_u r_v", positive=True)
    Sa, Sb = sum(x**2 for x in a), sum(x**2 for x in b)
    h = sp.Rational(L, 2)
    outs = [ru**L * a[i]**L / Sa**h - rv**L * b[i]**L / Sb**h for i in range(n)]
    r0 = alpha * sp.sqrt(n)
    return Parameterization(
        name="weightnorm-separate", params=(ru, rv, *a, *b), outputs=tuple(outs),
        init=(r0, r0, *[sp.Integer(1)] * (2 * n)), constants=(alpha, eta_r, eta_s),
        metric=sp.diag(eta_r, eta_r, *[eta_s] * (2 * n)), source=CHOU + " (variant: separate radii)",
        description=f"x = u^{L} - v^{L}, u = r_u a/||a||, v = r_v b/||b||")


def exponential(n: int = 2) -> Parameterization:
    r""":math:`w = e^{c}\,s/\|s\|` with rates :math:`\eta_r` (on :math:`c`) and :math:`\eta_s`;
    :math:`c(0) = \log\alpha`... written with :math:`e^{c(0)} = 1` and :math:`s(0) = \alpha\mathbf 1`
    so that the init stays exact: :math:`w(0) = \mathbf 1/\sqrt n`."""
    _check(2, n)
    c = sp.Symbol("c", real=True)
    s = _syms("s", n)
    S = sum(x**2 for x in s)
    outs = [sp.exp(c) * s[i] / sp.sqrt(S) for i in range(n)]
    return Parameterization(
        name="weightnorm-exp", params=(c, *s), outputs=tuple(outs),
        init=(sp.Integer(0), *[alpha] * n), constants=(alpha, eta_r, eta_s),
        metric=sp.diag(eta_r, *[eta_s] * n), source=MORWANI,
        description="w = exp(c) s/||s|| (exponential weight normalization)")


# ---- the paper's claims (re-derived forms; see docs/weightnorm.md) --------------------------------
def signed_literature(L: int = 2, n: int = 2) -> tuple:
    r"""Per coordinate (law forms, with :math:`\|s\|^2` of the current state):

    * :math:`\|s\|^2`;
    * L = 2: :math:`\log(z_{+,i}z_{-,i}) + \eta_s r^2/(\eta_r\|s\|^2)`;
    * L > 2: :math:`\log\bigl((z_{+,i}^{2-L} + z_{-,i}^{2-L})\,e^{(2-L)\eta_s r^2/(2\eta_r\|s\|^2)}\bigr)`,
      :math:`z = s/\|s\|`.
    """
    a, b = _syms("a", n), _syms("b", n)
    S = sum(x**2 for x in a + b)
    out = [ConservedQuantity(S)]
    for i in range(n):
        za, zb = a[i] / sp.sqrt(S), b[i] / sp.sqrt(S)
        if L == 2:
            h = sp.log(za * zb) + eta_s * r**2 / (eta_r * S)
        else:
            h = sp.log(za ** (2 - L) + zb ** (2 - L)) + (2 - L) * eta_s * r**2 / (2 * eta_r * S)
        out.append(ConservedQuantity(h))
    return tuple(out)


def nonneg_literature(L: int = 2, n: int = 2) -> tuple:
    a = _syms("a", n)
    return (ConservedQuantity(sum(x**2 for x in a)),)


def separate_literature(L: int = 2, n: int = 2) -> tuple:
    a, b = _syms("a", n), _syms("b", n)
    return (ConservedQuantity(sum(x**2 for x in a)), ConservedQuantity(sum(x**2 for x in b)))


def exponential_literature(n: int = 2) -> tuple:
    s = _syms("s", n)
    return (ConservedQuantity(sum(x**2 for x in s)),)


# ---- claims on the leaf (theory.laws.leaf_potential): time-changed mirror, effective scale -------------
def signed_leaf_claims(p: Parameterization) -> tuple:
    r"""For :func:`signed` models: the time-changed mirror identity and the effective scale
    :math:`\alpha_{\mathrm{eff}}(x) = \alpha\,(r/r_0)\,e^{-\eta_s(r^2 - r_0^2)/(2\eta_r\|s\|^2)}`
    (the same form for every L; with :math:`\|s\| = \|s(0)\|` on the leaf this is the paper's
    :math:`\rho`), against the plain network's potential at that scale."""
    from ..laws.leaf_potential import EffectiveScale, TimeChangedMirror

    L = int(p.name.split("-L")[1])
    n = p.n_outputs
    rr, a, b = p.params[0], p.params[1:n + 1], p.params[n + 1:]
    S = sum(x**2 for x in a + b)
    r0 = p.init[0]
    u = [rr * x / sp.sqrt(S) for x in a]
    v = [rr * x / sp.sqrt(S) for x in b]
    scale = alpha * (rr / r0) * sp.exp(-eta_s * (rr**2 - r0**2) / (2 * eta_r * S))
    A = sp.Symbol("a", positive=True)
    mu = sp.Symbol("mu", real=True)
    if L == 2:
        inv = tuple(sp.powsimp(ui * vi) for ui, vi in zip(u, v))
        plain = A**2
        phi = tuple(sp.log(ai / bi) / 2 for ai, bi in zip(a, b))
        dual = 2 * A**2 * sp.sinh(4 * mu)        # w = grad Q(mu) for grad R = asinh(w/(2a^2))/4
    else:
        inv = tuple(ui ** (2 - L) + vi ** (2 - L) for ui, vi in zip(u, v))
        plain = 2 * A ** (2 - L)
        phi = tuple((bi ** (2 - L) - ai ** (2 - L)) / (bi ** (2 - L) + ai ** (2 - L)) for ai, bi in zip(a, b))
        e = sp.Rational(-L, L - 2)
        kappa = L * (L - 2) * A ** (L - 2)
        dual = A**L * ((1 - kappa * mu) ** e - (1 + kappa * mu) ** e)   # Woodworth et al., Sec. 5
    return (TimeChangedMirror(phi=phi),
            EffectiveScale(scale=scale, invariants=inv, plain=plain, a=A, depth=L, dual_gradient=dual,
                           mu=mu))


def _register():
    from ..laws.leaf_potential import register
    for L in (2, 3, 4):
        register(f"weightnorm-L{L}", signed_leaf_claims)


_register()
