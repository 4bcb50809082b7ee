r"""Rich display in notebooks (Jupyter): a derivation and a proof render as LaTeX.

Jupyter calls ``obj._repr_latex_()`` when an object has it. The records live in
:mod:`theory.claims`; this module holds the renderers (built on :mod:`theory.latex`, so the
notebook shows what the standalone document shows); the records' ``_repr_latex_`` call them::

    derive(p)            # in a notebook cell: rendered laws, potential, limits
"""
from __future__ import annotations

from .latex import latex_proof, latex_snippets

__all__ = ["derivation_latex", "proof_latex"]

_ORDER = ("map", "init", "constants", "metric", "regularizer", "law_count", "laws", "potential",
          "limits", "no_mirror")
_TITLES = {"map": "Model", "init": "Initialization", "constants": "Constants", "metric": "Metric",
           "regularizer": "Regularizer", "law_count": "Number of laws", "laws": "Conservation laws",
           "potential": "Mirror potential", "limits": "Limiting regularizers",
           "no_mirror": "No mirror potential"}


def derivation_latex(d) -> str:
    r"""A derivation as one display-math block (MathJax-compatible: ``aligned``, ``\text``)."""
    snippets = latex_snippets(d)
    name = str(d.parameterization.name).replace("\\", "").replace("{", "").replace("}", "")
    rows = [rf"\textbf{{{name}}}"]
    for key in _ORDER:
        if key in snippets:
            rows.append(rf"\text{{{_TITLES[key]}:}}\quad {snippets[key]}")
    return "$$\\begin{aligned}&" + r"\\ &".join(rows) + "\\end{aligned}$$"


def proof_latex(proof, p=None) -> str:
    """A proof as text with inline math (status, identity, remainder, witness)."""
    return latex_proof(proof, p)
