"""An adversarial corpus for the soundness contract: false claims written as a user would write
them, each of which must come back ``refuted`` or ``undecided`` (or be refused), never
``proved``; and true claims that must stay ``proved``.

Run ``python tests/soundness_corpus.py`` for the figure quoted in the README (false claims tried /
refused, true claims tried / proved). ``tests/test_soundness.py`` asserts it claim by claim.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from theory import Coordinate, separable
from theory.catalog import CATALOG
from theory.claims import ConservedQuantity as Law
from theory.claims import LimitingRegularizer as Limit
from theory.claims import MirrorPotential as Pot

u, v, w, x = sp.symbols("u v w x", real=True)
wp = sp.Symbol("w", positive=True)
mu = sp.Symbol("mu", real=True)
a = sp.Symbol("alpha", positive=True)
beta = sp.Symbol("beta", positive=True)
up, vp = sp.symbols("u v", positive=True)


@dataclass(frozen=True)
class Case:
    model: str          # key of MODELS
    label: str          # what is wrong (or "true: ...")
    claim: object
    true: bool = False
    numeric: bool = True   # whether a numeric twin exists (30-digit numerics can see the defect)


def _quadratic(n=2, rates=None, **kw):
    return separable(Coordinate((u, v), u**2 - v**2, (a, a), rates=rates, **kw), n,
                     kw.pop("name", "quadratic"), constants=(a,))


MODELS = {
    "quadratic": lambda: _quadratic(),
    "quadratic-rates": lambda: separable(Coordinate((u, v), u**2 - v**2, (a, a), rates=(1, 2)), 2,
                                         "quadratic-rates", constants=(a,)),
    "quadratic-decay": lambda: separable(Coordinate((u, v), u**2 - v**2, (a, a), regularizer=u**2 + v**2),
                                         2, "quadratic-decay", constants=(a,)),
    "quadratic-schedule": lambda: separable(Coordinate((u, v), u**2 - v**2, (a, a), regularizer=u**2 + v**2),
                                            2, "quadratic-schedule", constants=(a,),
                                            schedule=sp.exp(-sp.Symbol("t", nonnegative=True))),
    "quadratic-offset": lambda: separable(Coordinate((u, v), u**2 - v**2, (a, a / 2)), 2, "quadratic-offset",
                                          constants=(a,)),
    "depth3": lambda: CATALOG["diagonal-depth3"].parameterization(n=2),
    "squared": lambda: CATALOG["diagonal-squared"].parameterization(n=2),
    "product": lambda: CATALOG["diagonal-product"].parameterization(n=2),
    "shared": lambda: CATALOG["shared-hidden-unit"].parameterization(),
}

# the true objects of the quadratic model (Woodworth et al. 2020, divided by 4: README)
G = sp.asinh(w / (2 * a**2)) / 4
R = a**2 / 2 + w * sp.asinh(w / (2 * a**2)) / 4 - sp.sqrt(4 * a**4 + w**2) / 4
GQ = 2 * a**2 * sp.sinh(4 * mu)
Q = a**2 * (sp.cosh(4 * mu) - 1) / 2
# the entropy of u*u, on w > 0
RS = (wp * sp.log(wp / a**2) - wp + a**2) / 4


def _pot(**kw):
    kw.setdefault("variables", (w,))
    return Pot(coordinate=True, **kw)


def _lim(point, factor, leading, var=w, **kw):
    return Limit(a, point, factor, leading, var, **kw)


def cases() -> list:
    L = sp.log(1 / a)
    c = [
        # ---- true claims: must stay proved ---------------------------------------------------
        Case("quadratic", "true: law u v", Law(u * v, coordinate=True), true=True),
        Case("quadratic", "true: R and grad R", _pot(potential=R, gradient=(G,)), true=True),
        Case("quadratic", "true: R alone (as papers state it)", _pot(potential=R), true=True),
        Case("quadratic", "true: grad R alone", _pot(gradient=(G,)), true=True),
        Case("quadratic", "true: dual gradient alone", _pot(dual_variables=(mu,), dual_gradient=(GQ,)), true=True),
        Case("quadratic", "true: Q alone", _pot(dual_variables=(mu,), dual=Q), true=True),
        Case("quadratic", "true: all four fields", _pot(potential=R, gradient=(G,), dual_variables=(mu,),
                                                        dual=Q, dual_gradient=(GQ,)), true=True),
        Case("quadratic", "true: l1 limit", _lim(0, 1 / L, sp.Abs(w) / 2), true=True),
        Case("quadratic", "true: l2 limit", _lim(sp.oo, a**2, w**2 / 16), true=True),
        Case("quadratic-rates", "true: law u^2 v for rates (1, 2)", Law(u**2 * v, coordinate=True), true=True),
        Case("squared", "true: entropy on w > 0", _pot(variables=(wp,), potential=RS), true=True),
        Case("depth3", "true: law u^-1 + v^-1", Law(1 / up + 1 / vp, coordinate=True), true=True),
        Case("product", "true: law u^2 - v^2", Law(u**2 - v**2, coordinate=True), true=True),
        # ---- potentials: constants, factors, signs, scales --------------------------------------
        Case("quadratic", "R off by a constant", _pot(potential=R + 1, gradient=(G,))),
        Case("quadratic", "R off by a constant, alone", _pot(potential=R + a**2)),
        Case("quadratic", "R and grad R both off by a factor 2", _pot(potential=2 * R, gradient=(2 * G,))),
        Case("quadratic", "Woodworth's Q_alpha undivided (factor 4)", _pot(potential=4 * R)),
        Case("quadratic", "R with the wrong sign", _pot(potential=-R)),
        Case("quadratic", "alpha in place of alpha^2 (R)", _pot(potential=R.xreplace({a: sp.sqrt(a)}))),
        Case("quadratic", "alpha in place of alpha^2 (grad R)", _pot(gradient=(G.xreplace({a: sp.sqrt(a)}),))),
        Case("quadratic", "grad R with factor 1/2 instead of 1/4", _pot(gradient=(2 * G,))),
        Case("quadratic", "grad R not normalised at w0", _pot(gradient=(G + 1,))),
        Case("quadratic", "right gradient, wrong potential", _pot(potential=R + w**2, gradient=(G,))),
        Case("quadratic", "right potential, wrong gradient", _pot(potential=R, gradient=(2 * G,))),
        Case("quadratic", "the issue's w^7 log(1/alpha) with the right gradient",
             _pot(potential=w**7 * L, gradient=(G,))),
        Case("quadratic", "dual gradient with sinh(2 mu)", _pot(dual_variables=(mu,), dual_gradient=(2 * a**2 * sp.sinh(2 * mu),))),
        Case("quadratic", "Q off by a constant", _pot(dual_variables=(mu,), dual=Q + 1)),
        Case("quadratic", "right Q, wrong dual gradient", _pot(dual_variables=(mu,), dual=Q, dual_gradient=(2 * GQ,))),
        Case("quadratic", "Q with the wrong sign", _pot(dual_variables=(mu,), dual=-Q)),
        Case("quadratic", "right primal, wrong dual", _pot(potential=R, dual_variables=(mu,), dual=2 * Q)),
        # ---- branches of sqrt / abs / log, stated over the reals -------------------------------
        Case("quadratic", "grad R in |w| (true for w > 0 only)", _pot(gradient=(sp.asinh(sp.Abs(w) / (2 * a**2)) / 4,))),
        Case("quadratic", "grad R in sqrt(w^2) (true for w > 0 only)",
             _pot(gradient=(sp.asinh(sp.sqrt(w**2) / (2 * a**2)) / 4,))),
        Case("quadratic", "dual gradient via sqrt(cosh^2 - 1) (= |sinh|, true for mu > 0 only)",
             _pot(dual_variables=(mu,), dual_gradient=(2 * a**2 * sp.sqrt(sp.cosh(4 * mu)**2 - 1),))),
        Case("quadratic", "grad R with log(w) split off (true for w > 0 only)",
             _pot(gradient=((sp.log(w) + sp.log(1 + sp.sqrt(1 + 4 * a**4 / w**2)) - sp.log(2 * a**2)) / 4,))),
        Case("quadratic", "true: grad R as a logarithm (asinh rewritten)",
             _pot(gradient=(sp.log((w + sp.sqrt(w**2 + 4 * a**4)) / (2 * a**2)) / 4,)), true=True),
        # a potential is judged on the set the flow reaches (w = grad Q(mu) > 0 for u*u): the
        # entropy stated in a real variable is true there
        Case("squared", "true: entropy stated in a real variable", _pot(variables=(w,), potential=RS.xreplace({wp: w})),
             true=True),
        Case("quadratic", "law sqrt(u^2) v (= |u| v, not conserved)", Law(sp.sqrt(u**2) + v, coordinate=True)),
        # a jump by i*pi on w < 0 that the derivative d/dw cannot see (w0 = 3 alpha^2/4 > 0)
        Case("quadratic-offset", "grad R + log(w) - log(sqrt(w^2)) (a branch jump on w < 0)",
             _pot(gradient=(sp.asinh(w / a**2) / 4 - sp.asinh(sp.Rational(3, 4)) / 4
                            + sp.log(w) - sp.log(sp.sqrt(w**2)),)), numeric=False),
        Case("quadratic-offset", "true: grad R with the offset init",
             _pot(gradient=(sp.asinh(w / a**2) / 4 - sp.asinh(sp.Rational(3, 4)) / 4,)), true=True),
        # ---- wrong variables, unknown symbols ---------------------------------------------------
        Case("quadratic", "grad R written in x, claimed in w", _pot(gradient=(G.xreplace({w: x}),))),
        Case("quadratic", "grad R with an unknown constant beta", _pot(gradient=(G.xreplace({a: beta}),))),
        Case("quadratic", "law in an unknown symbol", Law(u * v * beta, coordinate=True)),
        Case("quadratic", "law in the output variable w", Law(w, coordinate=True)),
        Case("quadratic", "limit in an unknown variable", _lim(0, 1 / L, sp.Abs(x) / 2)),
        Case("quadratic", "limit with an unknown constant", _lim(0, 1 / L, beta * sp.Abs(w))),
        # ---- laws ------------------------------------------------------------------------------
        Case("quadratic", "law u v + 10^-40 u (30-digit numerics cannot see it)",
             Law(u * v + sp.Rational(1, 10**40) * u, coordinate=True), numeric=False),
        Case("quadratic", "law u v + 10^-40 exp(u)", Law(u * v + sp.exp(u) / 10**40, coordinate=True), numeric=False),
        Case("quadratic", "law u + v", Law(u + v, coordinate=True)),
        Case("quadratic", "law u^2 + v^2", Law(u**2 + v**2, coordinate=True)),
        Case("product", "law u^2 + v^2 (sign)", Law(u**2 + v**2, coordinate=True)),
        Case("depth3", "law u^-2 + v^-2 (exponent)", Law(1 / up**2 + 1 / vp**2, coordinate=True)),
        # ---- limits: leading term, factor, exponent ----------------------------------------------
        Case("quadratic", "l1 limit without the 1/2", _lim(0, 1 / L, sp.Abs(w))),
        Case("quadratic", "l1 limit with factor 1/log(alpha) (sign)", _lim(0, 1 / sp.log(a), sp.Abs(w) / 2)),
        Case("quadratic", "l1 limit with w in place of |w|", _lim(0, 1 / L, w / 2)),
        Case("quadratic", "l2 limit w^2/8", _lim(sp.oo, a**2, w**2 / 8)),
        Case("quadratic", "l2 limit with factor alpha (exponent)", _lim(sp.oo, a, w**2 / 16)),
        Case("quadratic", "the issue's limit w^7 of the w^7 potential",
             _lim(0, 1 / L, w**7, potential=_pot(potential=w**7 * L, gradient=(G,)))),
        Case("squared", "entropy limit |w| in place of w/2", _lim(0, 1 / L, wp, var=wp)),
        # ---- model parts a claim ignores -------------------------------------------------------
        Case("quadratic-rates", "law u v ignoring the rates (1, 2)", Law(u * v, coordinate=True)),
        Case("quadratic-rates", "unit-rate potential on a model with rates (1, 2)", _pot(gradient=(G,))),
        Case("quadratic-decay", "law u v ignoring the regularizer", Law(u * v, coordinate=True)),
        Case("quadratic-decay", "decay-free potential ignoring the regularizer", _pot(gradient=(G,))),
        Case("quadratic-schedule", "law u v ignoring regularizer and schedule", Law(u * v, coordinate=True)),
        Case("shared", "a potential for a model without one",
             Pot(variables=sp.symbols("w_1 w_2", real=True), gradient=sp.symbols("w_1 w_2", real=True))),
    ]
    return c


def judge(case: Case) -> str:
    """The checker's verdict on one case: proved / refuted / undecided, or refused (an error
    naming the problem)."""
    from theory import verify
    from theory.errors import IbcheckError

    try:
        return verify(MODELS[case.model](), case.claim, use_cache=False).status
    except IbcheckError:
        return "refused"


def figure() -> dict:
    out = {"false tried": 0, "false refused": 0, "true tried": 0, "true proved": 0, "wrong": [],
           "false by status": {}}
    for case in cases():
        status = judge(case)
        if not case.true:
            out["false by status"][status] = out["false by status"].get(status, 0) + 1
        if case.true:
            out["true tried"] += 1
            out["true proved"] += status == "proved"
        else:
            out["false tried"] += 1
            out["false refused"] += status != "proved"
        if (status == "proved") != case.true:
            out["wrong"].append((case.label, status))
    return out


if __name__ == "__main__":  # pragma: no cover
    f = figure()
    print(f"false claims: {f['false tried']} tried, {f['false refused']} refused (refuted, undecided or "
          f"refused); true claims: {f['true tried']} tried, {f['true proved']} proved")
    print("false claims by verdict: " + ", ".join(f"{k} {v}" for k, v in sorted(f["false by status"].items())))
    for label, status in f["wrong"]:
        print(f"  WRONG: {label}: {status}")
