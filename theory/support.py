r"""What the symbolic derivation handles, checked before any derivation or proof runs.

Soundness contract: a part of the model that the derivation does not read is *refused*, never
ignored. (An explicit regularizer :math:`\lambda(t)\nabla h(x)` and its schedule are read by
:mod:`theory.regularized`, to which ``derive`` and ``verify`` hand such models.)

Names: the engine gives its own symbols names (the dual variable :math:`\mu`, the primal
variable :math:`w`, ...). A *parameter* with such a name is renamed on the way in and back on the
way out (:func:`reserved_renaming`), so results read in the user's names; a *constant* with such
a name, which would appear next to the engine's symbols in a potential, is refused. A separable
template that does not describe the model it is attached to is refused too.
"""
from __future__ import annotations

import dataclasses
import re

import sympy as sp

from .errors import UnsupportedModel
from .parameterization import Parameterization

#: names the derivation engine gives its own symbols (mirror.py, limits.py, zero.py)
_RESERVED = re.compile(r"^(mu(_\d+)?|w(_[pn]|_\d+)?|T|T_mu|y|y_.*|rho_.*|t_|"
                       r"undecided_dual_limit_at_oo|limit_not_computed)$")


def unsupported_parts(p: Parameterization) -> tuple:
    """Sentences naming each part of ``p`` that the derivation engine would otherwise ignore."""
    out = []
    clash = sorted({s.name for s in p.constants if _RESERVED.match(s.name)})
    if clash:
        out.append(f"the constant name(s) {', '.join(clash)}, which ibcheck uses for its own "
                   "symbols (dual variable mu, primal variable w, ...): rename them")
    if p.coordinate is not None and not template_matches(p):
        out.append("a separable template (coordinate) that does not replicate to the model's "
                   "outputs, initial values and rates")
    return tuple(out)


def require_supported(p: Parameterization, action: str) -> None:
    """Raise :class:`UnsupportedModel` naming every unsupported part of ``p``."""
    parts = unsupported_parts(p)
    if parts:
        raise UnsupportedModel(f"{p.name}: cannot {action}: the derivation does not handle "
                               + "; ".join(parts)
                               + ". Numeric checks of the model as stated are still available.")


def template_matches(p: Parameterization) -> bool:
    r"""Whether ``p.coordinate`` replicated over the coordinates is exactly ``p``: outputs
    :math:`w_i = g(x_i)`, the same initial values per coordinate, and rates on the diagonal of
    the metric (or no rates and no metric). Derivations run on the template, so a template that
    differs from the model would prove statements about another model."""
    c = p.coordinate
    k = len(c.params)
    if k == 0 or p.dim != k * p.n_outputs:
        return False
    for i in range(p.n_outputs):
        block = p.params[i * k:(i + 1) * k]
        sub = dict(zip(c.params, block))
        if sp.expand(c.output.xreplace(sub) - p.outputs[i]) != 0:
            return False
        if tuple(p.init[i * k:(i + 1) * k]) != tuple(c.init):
            return False
    if c.rates is None:
        return p.metric is None
    M = p.metric
    return M is not None and sp.Matrix(M) == sp.diag(*(tuple(c.rates) * p.n_outputs))


def reserved_renaming(p: Parameterization) -> dict:
    """``{parameter: fresh symbol}`` for the parameters whose names the engine reserves (same
    assumptions, a name used nowhere in ``p``); empty when there are none."""
    template = p.coordinate.params if p.coordinate is not None else ()
    taken = {s.name for s in (*p.params, *p.constants, *template)}
    out = {}
    for s in (*p.params, *template):
        if _RESERVED.match(s.name):
            name = s.name + "_x"
            while name in taken or _RESERVED.match(name):
                name += "x"
            taken.add(name)
            out[s] = sp.Symbol(name, **s.assumptions0)
    return out


def rename(obj, mapping: dict):
    """``obj`` with ``mapping`` applied to every SymPy object inside it (dataclasses, tuples,
    lists, dicts, keys included) and, for symbols, to their names in strings (notes, proof
    identities); other values are returned as they are."""
    if not mapping:
        return obj
    if isinstance(obj, sp.Basic):
        return obj.xreplace(mapping)
    if isinstance(obj, str):  # notes, identities, reasons: the same names in prose
        for old, new in mapping.items():
            if isinstance(old, sp.Symbol) and isinstance(new, sp.Symbol):
                obj = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(old.name)}(?![A-Za-z0-9_])", new.name, obj)
        return obj
    if isinstance(obj, (tuple, list)):
        return type(obj)(rename(x, mapping) for x in obj)
    if isinstance(obj, dict):
        return {rename(k, mapping): rename(v, mapping) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: rename(getattr(obj, f.name), mapping)
                                           for f in dataclasses.fields(obj) if f.init})
    return obj
