r"""Wide two-layer ReLU networks: initialization law -> curvature weight zeta -> selected spline.

Source: H. Jin, G. Montúfar, "Implicit Bias of Gradient Descent for Mean Squared Error Regression
with Two-Layer Wide Neural Networks", JMLR 24(137), 2023 (arXiv 2006.07356), Thm 1 and Thm 2.
Each builder returns a :class:`~theory.function_space.claims.WideReluModel` on the paper's Fig. 1
data; each ``*_literature`` the paper's closed forms (``expect="holds"``) and negative controls
(``expect="fails"``: sigma_b and sigma_w swapped, a factor 2 missing).
"""
from __future__ import annotations

import sympy as sp

from ..function_space.claims import CurvatureWeight, PenaltyRealization, WideReluModel
from ..function_space.init_laws import Product, gaussian, rademacher, uniform
from ..function_space.pieces import X
from ..function_space.zeta import kink_law_for_penalty

JIN = ("Jin, Montúfar, 'Implicit Bias of Gradient Descent for Mean Squared Error Regression with "
       "Two-Layer Wide Neural Networks', JMLR 24(137), 2023")
a_w, a_b = sp.symbols("a_w a_b", positive=True)
s_w, s_b = sp.symbols("sigma_w sigma_b", positive=True)
#: Fig. 1 data
PAPER_X = tuple(sp.Integer(v) for v in (-2, -1, 0, 1, 2))
PAPER_Y = tuple(sp.Rational(v) for v in ("3/2", "1/2", "3/2", "1/2", "3/2"))


def uniform_uniform(xs=PAPER_X, ys=PAPER_Y) -> WideReluModel:
    r""":math:`W\sim U(-a_w,a_w)`, :math:`B\sim U(-a_b,a_b)` (PyTorch's default family; Fig. 1 uses
    :math:`a_w = 1, a_b = 2`)."""
    return WideReluModel("relu-spline-uniform", Product(uniform(-a_w, a_w), uniform(-a_b, a_b)),
                         JIN + ", Thm 2(c) and Fig. 1", (a_w, a_b), {"a_w": "1", "a_b": "2"}, xs, ys,
                         "W ~ U(-a_w, a_w), B ~ U(-a_b, a_b)")


def uniform_literature() -> tuple:
    inner = (-a_b / a_w, a_b / a_w)
    return (
        CurvatureWeight(((*inner, a_w**3 / (8 * a_b)),), "Thm 2(c): zeta constant a_w^3/(8 a_b) on |x| <= a_b/a_w"),
        CurvatureWeight(((a_b / a_w, sp.oo, a_b**3 / (8 * a_w * X**4)), (-sp.oo, -a_b / a_w, a_b**3 / (8 * a_w * X**4))),
                        "zeta = a_b^3/(8 a_w x^4) for |x| > a_b/a_w (re-derived; not in the paper)"),
        CurvatureWeight(((*inner, a_w**3 / (16 * a_b)),), "negative control: factor 2 missing, a_w^3/(16 a_b)",
                        expect="fails"),
        CurvatureWeight(((*inner, a_b**3 / (8 * a_w)),), "negative control: a_w <-> a_b swapped", expect="fails"),
    )


def gaussian_gaussian(xs=PAPER_X, ys=PAPER_Y) -> WideReluModel:
    r""":math:`W\sim N(0,\sigma_w^2)`, :math:`B\sim N(0,\sigma_b^2)` independent (Fig. 3: both 1;
    the numeric instance uses :math:`\sigma_b = 1/2` so that swapping the two is visible)."""
    return WideReluModel("relu-spline-gaussian", Product(gaussian(s_w), gaussian(s_b)),
                         JIN + ", Thm 2(a) and Fig. 3", (s_w, s_b), {"sigma_w": "1", "sigma_b": "1/2"}, xs, ys,
                         "W ~ N(0, sigma_w^2), B ~ N(0, sigma_b^2)")


def gaussian_literature() -> tuple:
    q = s_b**2 + X**2 * s_w**2
    qs = s_w**2 + X**2 * s_b**2
    line = (-sp.oo, sp.oo)
    rho = (1 + X**2)**2
    return (
        CurvatureWeight(((*line, 2 * s_w**3 * s_b**3 / (sp.pi * q**2)),),
                        "Thm 2(a): zeta = 2 sw^3 sb^3 / (pi (sb^2 + x^2 sw^2)^2)"),
        CurvatureWeight(((*line, 2 * s_w**3 * s_b**3 / (sp.pi * qs**2)),),
                        "negative control: sigma_b <-> sigma_w swapped", expect="fails"),
        CurvatureWeight(((*line, s_w**3 * s_b**3 / (sp.pi * q**2)),),
                        "negative control: factor 2 missing", expect="fails"),
        PenaltyRealization(rho, -2, 2, kink_law_for_penalty(rho, -2, 2),
                           "Prop. 15: W ~ N(0,1), C ~ 1/(Z rho), B = -W C realizes 1/zeta ~ rho = (1+x^2)^2 on [-2, 2]"),
        PenaltyRealization(1 + X**2, -2, 2, kink_law_for_penalty(rho, -2, 2),
                           "negative control: the same law against rho = 1 + x^2", expect="fails"),
    )


def rademacher_uniform(xs=PAPER_X, ys=PAPER_Y) -> WideReluModel:
    r""":math:`W = \pm1` with probability 1/2, :math:`B\sim U(-a_b,a_b)`."""
    return WideReluModel("relu-spline-rademacher", Product(rademacher(), uniform(-a_b, a_b)),
                         JIN + ", Thm 2(b)", (a_b,), {"a_b": "2"}, xs, ys, "W = +-1, B ~ U(-a_b, a_b)")


def rademacher_literature() -> tuple:
    return (
        CurvatureWeight(((-a_b, a_b, 1 / (2 * a_b)),), "Thm 2(b): zeta = 1/(2 a_b) on [-a_b, a_b]"),
        CurvatureWeight(((a_b, sp.oo, 0), (-sp.oo, -a_b, 0)), "zeta = 0 for |x| > a_b (no kinks there)"),
        CurvatureWeight(((-a_b, a_b, 1 / (4 * a_b)),), "negative control: factor 2 missing", expect="fails"),
        CurvatureWeight(((-a_b, a_b, 1 / a_b),), "negative control: an extra factor 2", expect="fails"),
    )
