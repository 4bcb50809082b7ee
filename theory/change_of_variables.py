r"""The same gradient flow in logarithmic coordinates :math:`\ell = \log x` (positive parameters).

For :math:`\dot x = -M(x)\nabla_x L(G(x))` and :math:`x_k = e^{\ell_k}`:
:math:`\dot\ell = D^{-1}\dot x` and :math:`\nabla_x L = D^{-1}\nabla_\ell L` with
:math:`D = \mathrm{diag}(e^{\ell})`, so

.. math:: \dot\ell = -D^{-1} M D^{-1}\,\nabla_\ell L(G(e^\ell)),

a gradient flow of :math:`G\circ\exp` with the pulled-back metric
:math:`M_\ell = D^{-1}MD^{-1}` (entries :math:`M_{kl}e^{-\ell_k-\ell_l}`), started at
:math:`\ell_0 = \log x_0` (exact). Same trajectory, other coordinates: a parameter that falls to
:math:`10^{-90}` is :math:`\ell \approx -207`, held to 30 digits *relative*, where a fixed-point
absolute error would swamp it (weight normalization at :math:`\rho = 100`, issue 13 item 5).
Claims move with :func:`in_log`: :math:`h(x) \mapsto h(e^{\ell})`, logarithms of products of
positive factors expanded (exact for positive :math:`x`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from .errors import InvalidParameterization
from .parameterization import Parameterization


@dataclass(frozen=True)
class LogChange:
    """``model``: the flow in log coordinates; ``to_log``: ``{x: exp(ell_x)}``."""

    model: Parameterization
    to_log: tuple

    def in_log(self, e):
        r""":math:`h(e^\ell)` with :math:`\log(e^{\ell}y) = \ell + \log y` expanded (positive factors)."""
        out = sp.sympify(e).xreplace(dict(self.to_log))
        return sp.powsimp(sp.expand_log(out, force=True), combine="exp")


def log_parameters(p: Parameterization) -> LogChange:
    """``p`` in the coordinates :math:`\\ell = \\log x`; every parameter must be declared positive
    (else the change is not defined: one-line error)."""
    bad = [x for x in p.params if not x.is_positive]
    if bad:
        raise InvalidParameterization(f"{p.name}: log coordinates need positive parameters; "
                                      f"{', '.join(map(str, bad))} may not be positive")
    if p.regularizer is not None or p.schedule is not None:
        raise InvalidParameterization(f"{p.name}: log coordinates are not implemented with a regularizer")
    ells = tuple(sp.Symbol(f"log_{x.name}", real=True) for x in p.params)
    sub = {x: sp.exp(l) for x, l in zip(p.params, ells)}
    M = p.metric_matrix()
    D = len(ells)
    Ml = sp.Matrix(D, D, lambda k, l: M[k, l] * sp.exp(-ells[k] - ells[l]) if M[k, l] != 0 else 0)
    outs = tuple(sp.powsimp(sp.sympify(g).xreplace(sub), combine="exp") for g in p.outputs)
    init = tuple(sp.expand_log(sp.log(v), force=True) for v in p.init)
    q = replace(p, params=ells, outputs=outs, init=init, metric=Ml, coordinate=None, blocks=(),
                output_blocks=(), description=(p.description + " [log coordinates]").strip())
    return LogChange(q, tuple(sub.items()))
