r"""Resource bounds for user input: an expression is sized *before* SymPy evaluates it.

A spec string is data. Before it reaches SymPy, :func:`check_text` reads its Python syntax tree
(no evaluation) and estimates, bottom-up,

* the polynomial degree :math:`\deg(a\,b) = \deg a + \deg b`, :math:`\deg(a^k) = k\deg a`
  (a quotient counts like a product, a function like its argument);
* the number of terms after expansion, :math:`T(a+b) = T(a)+T(b)`, :math:`T(ab) = T(a)T(b)`,
  :math:`T(a^k) = \binom{T(a)+k-1}{k}` (the number of monomials of degree :math:`k` in
  :math:`T(a)` terms);

and refuses exponents, degrees, sizes, nesting and number literals beyond the :class:`Limits`
in force, with a message naming the limit and the flag that raises it. So ``u**9**9**9`` and
``(u+v)**100000`` are refused in microseconds instead of hanging or allocating gigabytes.

The limits in force are a context variable (:func:`limits`, :func:`using`), so the command
line can raise one of them for one run without touching global state.
"""
from __future__ import annotations

import ast
import contextlib
import contextvars
import math
from dataclasses import dataclass, replace
from fractions import Fraction

from .errors import InvalidParameterization

__all__ = ["Limits", "LimitExceeded", "limits", "using", "check_text", "check_model", "DEFAULT"]


class LimitExceeded(InvalidParameterization):
    """An input is larger than a resource limit (raise the limit with the named flag)."""


@dataclass(frozen=True)
class Limits:
    """The bounds (each with its command-line flag, see ``docs/robustness.md``)."""

    max_chars: int = 20_000      # --max-chars: characters of one expression
    # measured: a product of k parameters derives in 8 s at k = 16 and in 143 s at k = 24 (2 cores,
    # shared); the catalog's largest model has 16 parameters and degree 4
    max_degree: int = 16         # --max-degree: exponent / estimated polynomial degree
    max_terms: int = 400         # --max-terms: estimated terms of one expanded expression
    max_params: int = 16         # --max-params: scalar parameters of a model
    max_depth: int = 60          # nesting depth of one expression (parentheses, calls)
    max_dps: int = 200           # --max-dps: working digits of a numeric check


DEFAULT = Limits()
_CURRENT: contextvars.ContextVar[Limits] = contextvars.ContextVar("ibcheck_limits", default=DEFAULT)

FLAGS = {"max_chars": "--max-chars", "max_degree": "--max-degree", "max_terms": "--max-terms",
         "max_params": "--max-params", "max_dps": "--max-dps", "max_depth": "(fixed)"}


def limits() -> Limits:
    """The limits in force."""
    return _CURRENT.get()


@contextlib.contextmanager
def using(lim: Limits | None = None, **changes):
    """Run a block under other limits: ``with using(max_degree=40): ...``."""
    new = replace(lim or limits(), **changes)
    token = _CURRENT.set(new)
    try:
        yield new
    finally:
        _CURRENT.reset(token)


def _over(what: str, value, field: str, lim: Limits) -> LimitExceeded:
    flag = FLAGS[field]
    raise_it = f" (raise it with {flag})" if flag.startswith("--") else ""
    return LimitExceeded(f"{what} is {value}, above the limit {getattr(lim, field)}{raise_it}")


# ---- the syntax tree, never evaluated -------------------------------------------------------------
_BIG = 10**12  # a constant this large in an exponent is refused, whatever the limits


def _const(node) -> Fraction | None:
    """The exact value of a constant sub-expression (numbers and + - * / **), or None when it
    involves a name or a call. Sizes are guarded so that nothing huge is ever computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        v = node.value
        if isinstance(v, float) and not math.isfinite(v):
            return Fraction(_BIG)
        return Fraction(str(v)) if isinstance(v, float) else Fraction(v)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _const(node.operand)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.BinOp):
        a, b = _const(node.left), _const(node.right)
        if a is None or b is None:
            return None
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
        if isinstance(node.op, ast.Div):
            return a / b if b != 0 else Fraction(_BIG)
        if isinstance(node.op, (ast.Pow, ast.BitXor)):
            if b.denominator != 1 or abs(a) <= 1:
                return Fraction(_BIG) if abs(a) > 1 and abs(b) > 64 else a  # bounded stand-in
            if abs(b) * math.log2(max(abs(a.numerator), abs(a.denominator), 2)) > 64:
                return Fraction(_BIG)  # too large to be a sensible exponent: refused by the caller
            return a ** int(b)
    return None


def _size(node, lim: Limits, where: str, depth: int = 0) -> tuple[int, int]:
    """(estimated degree, estimated expanded terms) of an expression tree."""
    if depth > lim.max_depth:
        raise _over(f"{where}: the nesting depth", f"more than {lim.max_depth}", "max_depth", lim)
    cap = lim.max_terms + 1
    if isinstance(node, ast.Expression):
        return _size(node.body, lim, where, depth)
    if isinstance(node, ast.Constant):
        return 0, 1
    if isinstance(node, ast.Name):
        return 1, 1
    if isinstance(node, ast.UnaryOp):
        return _size(node.operand, lim, where, depth + 1)
    if isinstance(node, ast.Call):
        sizes = [_size(a, lim, where, depth + 1) for a in node.args]
        return max((d for d, _ in sizes), default=0), 1
    if isinstance(node, ast.BinOp):
        da, ta = _size(node.left, lim, where, depth + 1)
        if isinstance(node.op, (ast.Pow, ast.BitXor)):
            k = _const(node.right)
            if k is None:  # a symbolic exponent (u**v): not a polynomial; size its parts
                db, _ = _size(node.right, lim, where, depth + 1)
                return max(da, db), ta
            if abs(k) > lim.max_degree:
                shown = "astronomically large" if abs(k) >= _BIG else str(k)
                raise _over(f"{where}: the exponent", shown, "max_degree", lim)
            kk = math.ceil(abs(k))
            terms = min(math.comb(ta + kk - 1, kk), cap) if kk else 1
            return da * kk, terms
        db, tb = _size(node.right, lim, where, depth + 1)
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return max(da, db), min(ta + tb, cap)
        return da + db, min(ta * tb, cap)  # * and / (a rational map costs like a product)
    # anything else was refused by the tokenizer already; size it as one opaque term
    return 0, 1


def check_text(text: str, where: str, lim: Limits | None = None) -> None:
    """Refuse an expression string that exceeds the limits, before anything is evaluated."""
    lim = lim or limits()
    if len(text) > lim.max_chars:
        raise _over(f"{where}: the expression length", f"{len(text)} characters", "max_chars", lim)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return  # not Python syntax: the parser itself reports it
    try:
        deg, terms = _size(tree, lim, where)
    except RecursionError:
        raise _over(f"{where}: the nesting depth", f"more than {lim.max_depth}", "max_depth", lim) from None
    if deg > lim.max_degree:
        raise _over(f"{where}: the estimated degree", deg, "max_degree", lim)
    if terms > lim.max_terms:
        raise _over(f"{where}: the estimated number of terms after expansion",
                    f"more than {lim.max_terms}", "max_terms", lim)


def check_model(p, lim: Limits | None = None) -> None:
    """Refuse a model with more scalar parameters than the limit (the law count and the
    mirror construction grow quickly with it)."""
    lim = lim or limits()
    if p.dim > lim.max_params:
        raise _over(f"{p.name}: the number of scalar parameters", p.dim, "max_params", lim)


def check_dps(dps: int, lim: Limits | None = None, *, minimum: int = 15) -> None:
    """Working digits: at least ``minimum`` (what the checks need), at most the limit."""
    lim = lim or limits()
    if dps < minimum:
        raise InvalidParameterization(
            f"--dps {dps} is too low: the numeric checks need at least {minimum} digits")
    if dps > lim.max_dps:
        raise _over("--dps", dps, "max_dps", lim)
