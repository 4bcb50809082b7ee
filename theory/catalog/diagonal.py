r"""Diagonal linear networks: separable models :math:`w_i = g(x_i)`.

Each builder returns a :class:`~theory.Parameterization`; each ``*_literature`` function
returns the claims as the cited paper states them (``origin="user"``), rewritten only into
ibcheck's normalisation (gradient flow :math:`\dot x = -\nabla_x L(G(x))`, :math:`\nabla R(w_0)=0`)
where the paper's constant differs; such rewrites are said in the docstring.
"""
from __future__ import annotations

import sympy as sp

from ..claims import ConservedQuantity, LimitingRegularizer, MirrorPotential
from ..parameterization import Coordinate, Parameterization, separable

alpha = sp.Symbol("alpha", positive=True)
shape = sp.Symbol("s", real=True)
u, v = sp.symbols("u v", real=True)
up, vp = sp.symbols("u v", positive=True)
w = sp.Symbol("w", real=True)
mu = sp.Symbol("mu", real=True)

WOODWORTH = ("Woodworth, Gunasekar, Lee, Moroshko, Savarese, Golan, Soudry, Srebro, "
             "'Kernel and Rich Regimes in Overparametrized Models', COLT 2020")
AZULAY = ("Azulay, Moroshko, Nacson, Woodworth, Srebro, Globerson, Soudry, "
          "'On the Implicit Bias of Initialization Shape', ICML 2021")


def quadratic(n: int = 3) -> "Parameterization":
    r""":math:`w = u\odot u - v\odot v`, :math:`u(0) = v(0) = \alpha\mathbf 1`.

    Source: Woodworth et al. 2020, Sec. 4 (the "depth-2 diagonal network" :math:`\beta = w_+^2 - w_-^2`):
    the flow converges to :math:`\arg\min Q_\alpha(\beta)` s.t. :math:`X\beta = y`,
    :math:`Q_\alpha(\beta) = \alpha^2\sum_i q(\beta_i/\alpha^2)`,
    :math:`q(z) = 2 - \sqrt{4+z^2} + z\,\mathrm{arcsinh}(z/2)`; :math:`\alpha\to0` gives
    :math:`\ell_1`, :math:`\alpha\to\infty` gives :math:`\ell_2`.
    """
    c = Coordinate(params=(u, v), output=u**2 - v**2, init=(alpha, alpha))
    return separable(c, n, "diagonal-quadratic", constants=(alpha,), source=WOODWORTH + ", Sec. 4",
                     description="w = u*u - v*v, u(0) = v(0) = alpha")


def quadratic_literature(p=None) -> tuple:
    r"""Woodworth et al. 2020 for :math:`u\odot u - v\odot v`, per coordinate.

    * law :math:`u_i v_i` (conserved: :math:`\frac{d}{dt}(uv) = -2uv\,g + 2uv\,g = 0`);
    * potential: the paper's :math:`Q_\alpha`; with ibcheck's time normalisation
      (:math:`\dot x = -\nabla_x L`) the mirror identity holds for :math:`R = Q_\alpha/4`, i.e.
      :math:`\nabla R(w) = \tfrac14\,\mathrm{arcsinh}(w/(2\alpha^2))` (same minimiser);
    * limits: :math:`Q_\alpha/\log(1/\alpha^2) \to |w|` (:math:`\alpha\to0`) and
      :math:`\alpha^2 Q_\alpha \to w^2/4` (:math:`\alpha\to\infty`), so for :math:`R = Q_\alpha/4`:
      :math:`R/\log(1/\alpha) \to |w|/2` and :math:`\alpha^2 R \to w^2/16`.
    """
    q = lambda z: 2 - sp.sqrt(4 + z**2) + z * sp.asinh(z / 2)
    Q = alpha**2 * q(w / alpha**2)
    R = Q / 4
    return (
        ConservedQuantity(u * v, origin="user", coordinate=True),
        MirrorPotential(variables=(w,), potential=R, gradient=(sp.diff(R, w),), origin="user",
                        coordinate=True),
        LimitingRegularizer(alpha, 0, 1 / sp.log(1 / alpha), sp.Abs(w) / 2, w, origin="user", name="l1"),
        LimitingRegularizer(alpha, sp.oo, alpha**2, w**2 / 16, w, origin="user", name="l2"),
    )


def depth(D: int = 3, n: int = 3) -> "Parameterization":
    r""":math:`w = u^{\odot D} - v^{\odot D}` (:math:`D \ge 3`), :math:`u(0) = v(0) = \alpha\mathbf 1`, u, v > 0.

    Source: Woodworth et al. 2020, Sec. 5 (deep diagonal networks): the limit is
    :math:`\arg\min Q^D_\alpha` with :math:`Q^D_\alpha(\beta) = \alpha^D\sum_i q_D(\beta_i/\alpha^D)`,
    :math:`q_D = \int h_D^{-1}`, :math:`h_D(z) = (1-z)^{-D/(D-2)} - (1+z)^{-D/(D-2)}` on (-1, 1).
    """
    if D < 3:
        raise ValueError("depth(D) needs D >= 3; D = 2 is quadratic()")
    c = Coordinate(params=(up, vp), output=up**D - vp**D, init=(alpha, alpha))
    return separable(c, n, f"diagonal-depth{D}", constants=(alpha,), source=WOODWORTH + ", Sec. 5",
                     description=f"w = u^{D} - v^{D}, u(0) = v(0) = alpha, u, v > 0")


def depth_literature(D: int = 3) -> tuple:
    r"""Woodworth et al. 2020, depth D, per coordinate, in ibcheck's normalisation.

    * law :math:`u^{2-D} + v^{2-D}` (for D = 3: :math:`1/u + 1/v`);
    * dual potential: :math:`\nabla Q(\mu) = \alpha^D h_D(\kappa\mu)`,
      :math:`\kappa = D(D-2)\alpha^{D-2}` (the paper's :math:`Q^D_\alpha` is :math:`\kappa R`);
    * limit :math:`\kappa R = Q^D_\alpha \to |w|` as :math:`\alpha\to0`, no logarithm.
    """
    kappa = D * (D - 2) * alpha ** (D - 2)
    e = sp.Rational(-D, D - 2)
    h = lambda z: (1 - z) ** e - (1 + z) ** e
    grad_q = alpha**D * h(kappa * mu)
    return (
        ConservedQuantity(up ** (2 - D) + vp ** (2 - D), origin="user", coordinate=True),
        MirrorPotential(variables=(w,), dual_variables=(mu,), dual_gradient=(grad_q,),
                        dual=sp.integrate(grad_q, mu) - sp.integrate(grad_q, mu).subs(mu, 0),
                        origin="user", coordinate=True),
        LimitingRegularizer(alpha, 0, kappa, sp.Abs(w), w, origin="user", name="l1"),
    )


def product(n: int = 3) -> "Parameterization":
    r""":math:`w = u\odot v` with init scale and *shape*: :math:`u_0 v_0 = \alpha`,
    :math:`s = (v_0 - u_0)/(v_0 + u_0)`, i.e. :math:`u_0 = \sqrt{\alpha(1-s)/(1+s)}`,
    :math:`v_0 = \sqrt{\alpha(1+s)/(1-s)}`, :math:`|s| < 1`.

    Source: Azulay et al. 2021, Sec. 4 (scale and shape of the initialization both set the
    bias). This is the single-branch model; the bias depends on :math:`\delta = u_0^2 - v_0^2`
    (shape), not only on :math:`w_0 = \alpha` (scale). ``product_pm`` is the two-branch form
    of their Thm 4.1.
    """
    u0 = sp.sqrt(alpha * (1 - shape) / (1 + shape))
    v0 = sp.sqrt(alpha * (1 + shape) / (1 - shape))
    c = Coordinate(params=(u, v), output=u * v, init=(u0, v0))
    return separable(c, n, "diagonal-product", constants=(alpha, shape), source=AZULAY + ", Sec. 4",
                     description="w = u*v, u0*v0 = alpha, shape s = (v0-u0)/(v0+u0)")


def product_pm(n: int = 3) -> "Parameterization":
    r""":math:`w = u_+\odot v_+ - u_-\odot v_-`, both branches initialised at
    :math:`(u_0, v_0)` as in :func:`product` (so :math:`w_0 = 0`).

    Source: Azulay et al. 2021, Thm 4.1: :math:`Q_k(w) = \sum_i \frac{k_i}{4}\bigl[1 -
    \sqrt{1 + 4w_i^2/k_i^2} + \frac{2w_i}{k_i}\mathrm{arcsinh}\frac{2w_i}{k_i}\bigr]`,
    :math:`k_i = 2(u_{0}^2 + v_{0}^2) = 4\alpha(1+s^2)/(1-s^2)`.
    """
    u0 = sp.sqrt(alpha * (1 - shape) / (1 + shape))
    v0 = sp.sqrt(alpha * (1 + shape) / (1 - shape))
    a, b, c_, d = sp.symbols("a b c d", real=True)  # u+, v+, u-, v-
    c = Coordinate(params=(a, b, c_, d), output=a * b - c_ * d, init=(u0, v0, u0, v0))
    return separable(c, n, "diagonal-product-pm", constants=(alpha, shape), source=AZULAY + ", Thm 4.1",
                     description="w = u+ v+ - u- v-, both branches at (u0, v0)")


def product_pm_literature(p=None) -> tuple:
    r"""Azulay et al. 2021, Thm 4.1: the potential :math:`Q_k` (no constant rewrite needed)."""
    k = 4 * alpha * (1 + shape**2) / (1 - shape**2)
    Q = k / 4 * (1 - sp.sqrt(1 + 4 * w**2 / k**2) + 2 * w / k * sp.asinh(2 * w / k))
    a, b, c_, d = sp.symbols("a b c d", real=True)
    return (
        ConservedQuantity(a**2 - b**2, origin="user", coordinate=True),
        ConservedQuantity(c_**2 - d**2, origin="user", coordinate=True),
        MirrorPotential(variables=(w,), potential=Q, gradient=(sp.diff(Q, w),), origin="user",
                        coordinate=True),
    )


def product_literature(p=None) -> tuple:
    r"""Single-branch :math:`u\odot v` (Azulay et al. 2021, Sec. 4; re-derived):
    law :math:`u^2 - v^2 = \delta`; :math:`\nabla R(w) = \tfrac12[\mathrm{arcsinh}(2w/|\delta|)
    - \mathrm{arcsinh}(2w_0/|\delta|)]`, :math:`|\delta| = 4\alpha|s|/(1-s^2)`, :math:`w_0=\alpha`."""
    delta = 4 * alpha * sp.Abs(shape) / (1 - shape**2)
    grad = (sp.asinh(2 * w / delta) - sp.asinh(2 * alpha / delta)) / 2
    return (
        ConservedQuantity(u**2 - v**2, origin="user", coordinate=True),
        MirrorPotential(variables=(w,), gradient=(grad,), origin="user", coordinate=True),
    )


def squared(n: int = 3) -> "Parameterization":
    r"""Sign-constrained :math:`w = u\odot u`, :math:`u(0) = \alpha\mathbf 1` (so :math:`w \ge 0`).

    Source: Woodworth et al. 2020, Sec. 4, non-negative variant; the potential is the
    (unnormalised) entropy :math:`\tfrac14\sum_i [w_i\log(w_i/\alpha^2) - w_i]`, as for
    commutative matrix factorization (Gunasekar et al., NeurIPS 2017).
    """
    c = Coordinate(params=(u,), output=u**2, init=(alpha,))
    return separable(c, n, "diagonal-squared", constants=(alpha,), source=WOODWORTH + ", Sec. 4 (w = u*u)",
                     description="w = u*u, u(0) = alpha (w >= 0)")


def squared_literature(p=None) -> tuple:
    r"""Entropy potential :math:`R(w) = \tfrac14[w\log(w/\alpha^2) - w + \alpha^2]`, and its
    :math:`\ell_1` limit :math:`R/\log(1/\alpha) \to w/2 = |w|/2` on :math:`w \ge 0`."""
    wp = sp.Symbol("w", positive=True)
    R = (wp * sp.log(wp / alpha**2) - wp + alpha**2) / 4
    return (
        MirrorPotential(variables=(wp,), potential=R, gradient=(sp.diff(R, wp),), origin="user",
                        coordinate=True),
        LimitingRegularizer(alpha, 0, 1 / sp.log(1 / alpha), wp / 2, wp, origin="user", name="l1"),
    )
