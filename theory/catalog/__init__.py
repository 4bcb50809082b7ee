r"""The catalog: parameterizations from the literature, each citing its source.

``CATALOG`` maps a name to an :class:`Entry`: a builder (keyword defaults give the
instance ``ibcheck check --all`` uses), the citation, and the paper's own claims
(``literature``) that the checker verifies next to what ``theory.derive`` finds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from . import deepproduct, diagonal, linear, noncommuting, weightdecay, weightnorm, widenets


@dataclass(frozen=True)
class Entry:
    name: str
    build: Callable
    literature: Callable[[], tuple]
    summary: str
    defaults: dict = field(default_factory=dict)
    mirror: bool = True   # whether a mirror potential is expected
    values: dict = field(default_factory=dict)  # built-in constant values for numeric checks
    kind: str = "flow"    # "flow" (a parameterization) or "function-space" (a WideReluModel)

    def parameterization(self, **kw):
        return self.build(**{**self.defaults, **kw})

    @property
    def source(self) -> str:
        return self.parameterization().source


def _entries():
    E = Entry
    return [
        E("diagonal-quadratic", diagonal.quadratic, diagonal.quadratic_literature,
          "w = u*u - v*v (hyperbolic entropy; l1 as alpha->0, l2 as alpha->oo)", {"n": 3},
          values={"alpha": "1/2"}),
        E("diagonal-depth3", lambda n=3: diagonal.depth(3, n), lambda: diagonal.depth_literature(3),
          "w = u^3 - v^3 (depth 3; l1 without log factor)", {"n": 3}, values={"alpha": "1/2"}),
        E("diagonal-depth4", lambda n=3: diagonal.depth(4, n), lambda: diagonal.depth_literature(4),
          "w = u^4 - v^4 (depth 4)", {"n": 3}, values={"alpha": "1/2"}),
        E("diagonal-product", diagonal.product, diagonal.product_literature,
          "w = u*v with init scale alpha and shape s", {"n": 3},
          values={"alpha": "1/2", "s": "1/3"}),
        E("diagonal-product-pm", diagonal.product_pm, diagonal.product_pm_literature,
          "w = u+ v+ - u- v- (Azulay Thm 4.1)", {"n": 3},
          values={"alpha": "1/2", "s": "1/3"}),
        E("diagonal-squared", diagonal.squared, diagonal.squared_literature,
          "w = u*u, sign-constrained (entropy)", {"n": 3}, values={"alpha": "1/2"}),
        E("linear-net-2x2x2", linear.linear_net, lambda: linear.linear_net_literature((2, 2, 2)),
          "W = U2 U1, 2x2 factors (3 laws)", {"widths": (2, 2, 2)}, mirror=False),
        E("linear-net-2x3x2x2", linear.linear_net, lambda: linear.linear_net_literature((2, 3, 2, 2)),
          "W = U3 U2 U1, widths 2-3-2-2 (9 laws)", {"widths": (2, 3, 2, 2)}, mirror=False),
        E("shared-hidden-unit", noncommuting.shared_hidden_unit, lambda: (),
          "w = (a c, b c): non-commuting, no mirror potential", {}, mirror=False),
        E("relu-spline-uniform", widenets.uniform_uniform, widenets.uniform_literature,
          "wide ReLU net, W ~ U(-a_w,a_w), B ~ U(-a_b,a_b): zeta, natural cubic spline", mirror=False,
          kind="function-space"),
        E("relu-spline-gaussian", widenets.gaussian_gaussian, widenets.gaussian_literature,
          "wide ReLU net, Gaussian W, B: zeta ~ 1/(sb^2 + x^2 sw^2)^2, adaptive spline", mirror=False,
          kind="function-space"),
        E("relu-spline-rademacher", widenets.rademacher_uniform, widenets.rademacher_literature,
          "wide ReLU net, W = +-1, B ~ U(-a_b,a_b): constant zeta, natural cubic spline", mirror=False,
          kind="function-space"),
        # weight normalization (Chou, Rauhut, Ward): no mirror potential; laws log-rational
        E("weightnorm-L2", lambda n=2: weightnorm.signed(2, n), lambda: weightnorm.signed_literature(2, 2),
          "x = u^2 - v^2, (u; v) = r s/||s|| (weight normalization, rates eta_r, eta_s)", {"n": 2},
          mirror=False, values={"alpha": "1/2", "eta_r": "1", "eta_s": "4"}),
        E("weightnorm-L3", lambda n=2: weightnorm.signed(3, n), lambda: weightnorm.signed_literature(3, 2),
          "x = u^3 - v^3, (u; v) = r s/||s|| (weight normalization)", {"n": 2},
          mirror=False, values={"alpha": "1/2", "eta_r": "1", "eta_s": "4"}),
        E("weightnorm-nonneg", lambda n=2: weightnorm.nonneg(2, n), lambda: weightnorm.nonneg_literature(2, 2),
          "x = r^2 (s/||s||)^2 (weight normalization, nonnegative)", {"n": 2},
          mirror=False, values={"alpha": "1/2", "eta_r": "1", "eta_s": "2"}),
        E("weightnorm-separate", lambda n=2: weightnorm.separate(2, n),
          lambda: weightnorm.separate_literature(2, 2),
          "x = u^2 - v^2, u = r_u a/||a||, v = r_v b/||b|| (separate radii: 2 laws)", {"n": 2},
          mirror=False, values={"alpha": "1/2", "eta_r": "1", "eta_s": "2"}),
        E("weightnorm-exp", lambda n=2: weightnorm.exponential(n), lambda: weightnorm.exponential_literature(2),
          "w = exp(c) s/||s|| (exponential weight normalization)", {"n": 2},
          mirror=False, values={"alpha": "1/2", "eta_r": "1", "eta_s": "1"}),
        # deep products with identical factors (Chou, Maly, Rauhut): a potential on the leaf only
        E("deepproduct-nonneg-L3", lambda n=3: deepproduct.product(3, n, signed=False),
          lambda: deepproduct.literature(3, signed=False),
          "x = u1 u2 u3, all factors at alpha (mirror potential on the leaf)", {"n": 3},
          values={"alpha": "1/2"}),
        E("deepproduct-nonneg-L4", lambda n=3: deepproduct.product(4, n, signed=False),
          lambda: deepproduct.literature(4, signed=False),
          "x = u1 u2 u3 u4, all factors at alpha (mirror potential on the leaf)", {"n": 3},
          values={"alpha": "1/2"}),
    ] + weightdecay.entries(E)


CATALOG = {e.name: e for e in _entries()}
#: the entries that are parameterizations (flows); function-space entries build a WideReluModel
FLOWS = {n: e for n, e in CATALOG.items() if e.kind == "flow"}


def get(name: str) -> Entry:
    """The catalog entry called ``name`` (a clear error listing the names otherwise)."""
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"no catalog entry {name!r}; known: {', '.join(CATALOG)}") from None
