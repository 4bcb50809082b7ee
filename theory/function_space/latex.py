r"""LaTeX and plain records of a :class:`~.claims.FunctionSpaceDerivation`."""
from __future__ import annotations

import sympy as sp

from .pieces import X, less


def _pw(pieces, lo=None, hi=None) -> str:
    rows = []
    for a, b, e in pieces.intervals():
        if lo is not None and (less(a, lo) or less(hi, b)):
            continue
        rows.append(rf"{sp.latex(e)} & {sp.latex(a)} < x < {sp.latex(b)}")
    return r"\begin{cases}" + r"\\ ".join(rows) + r"\end{cases}"


def latex_snippets(d) -> dict:
    m = d.model
    out = {"zeta": r"\zeta(x) = \int|W|^3 p_{W,B}(W,-Wx)\,dW = " + _pw(d.zeta)}
    if d.spline is not None:
        sf, ki = d.spline, d.kernel
        vals = ", ".join(f"{sp.latex(k)} = {sp.latex(v)}" for k, v in m.value_map().items())
        out["spline"] = (rf"g^*(x) = {_pw(sf.pieces if sf.exact else _rounded(sf.pieces), sf.xs[0], sf.xs[-1])}"
                         rf"\quad ({vals})")
        out["energy"] = rf"\int_S \frac{{g^{{*\prime\prime}}(x)^2}}{{\zeta(x)}}\,dx = {sp.latex(sf.energy if sf.exact else sp.N(sf.energy, 20))}"
        out["linear"] = (rf"u x + v = {sp.latex(_r(ki.u) * X + _r(ki.v))}"
                         rf"\ \text{{(least squares: }} {sp.latex(d.least_squares[0] * X + d.least_squares[1])})")
    return out


def _r(v):
    return v if getattr(v, "is_Rational", False) else sp.N(v, 20)


def _rounded(pieces):
    from .pieces import Pieces
    return Pieces(pieces.breaks, tuple(sp.N(e, 12) for e in pieces.exprs))


def latex_document(d) -> str:
    s = latex_snippets(d)
    body = "\n".join(rf"\[ {v} \]" for v in s.values())
    return (r"\documentclass{article}\usepackage{amsmath}\begin{document}" + "\n"
            + rf"\section*{{{d.model.name}}}" + "\n" + rf"{d.model.description}. Source: {d.model.source}." + "\n"
            + body + "\n" + r"\end{document}" + "\n")


def record(d) -> dict:
    """A JSON-ready record (strings)."""
    rec = {"model": d.model.name, "source": d.model.source, "law": d.model.description,
           "normalisation": d.normalisation.status,
           "zeta": [{"from": str(a), "to": str(b), "expr": str(e)} for a, b, e in d.zeta.intervals()]}
    if d.spline is not None:
        sf, ki = d.spline, d.kernel
        rec.update({"values": d.model.values, "x": [str(x) for x in sf.xs], "y": [str(y) for y in sf.ys],
                    "exact": sf.exact, "g_second_over_zeta_at_knots": [str(_r(v)) for v in sf.m],
                    "energy": str(_r(sf.energy)), "spline_proof": d.spline_proof.status,
                    "kernel_weights": [str(_r(c)) for c in ki.c], "u": str(_r(ki.u)), "v": str(_r(ki.v)),
                    "least_squares": [str(v) for v in d.least_squares],
                    "kernel_equals_spline": d.agreement_proof.status,
                    "spline": [{"from": str(a), "to": str(b), "expr": str(e if sf.exact else sp.N(e, 20))}
                               for a, b, e in sf.pieces.intervals()]})
    rec["notes"] = list(d.notes)
    return rec
