r"""Problems: exact least-squares data (and constants) that a flow is run on.

A :class:`Problem` holds :math:`X \in \mathbb Q^{m\times n}`, :math:`y \in \mathbb Q^m`, the values
of the model's constants (a constant of a separable model may take one value per coordinate),
the working precision and a time budget. Everything is exact (SymPy Rationals): the data are
converted to working precision only inside the integrator, so no double-precision value enters.
Implicit-bias claims ("the flow converges to :math:`\arg\min R` s.t. :math:`Xw = y`") need an
underdetermined, consistent system: :meth:`Problem.require_underdetermined` checks
:math:`m < n` and full row rank exactly.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Mapping, Sequence

import sympy as sp

from .errors import ProblemError

try:  # python-flint: a dependency (exact ranks of large data in C); the Fraction path stays as fallback
    import flint as _flint
except ImportError:  # pragma: no cover
    _flint = None

__all__ = ["Problem", "Loss", "random_problem", "exact_number", "exact_rank"]


# ---- exact conversion ---------------------------------------------------------------------------
def exact_number(v, what: str = "value", *, rational: bool = False) -> sp.Expr:
    """An exact, finite, real SymPy number from user input.

    Accepts int, :class:`fractions.Fraction`, SymPy numbers, strings (``"1/10"``, ``"0.1"``) and
    floats, which are read at their decimal text (``0.1 -> 1/10``, never the binary double).
    ``rational=True`` additionally requires a rational number (data for exact linear algebra).
    """
    if isinstance(v, bool):
        raise ProblemError(f"{what}: expected a number, got the boolean {v}")
    try:
        if isinstance(v, float):
            if not math.isfinite(v):
                raise ProblemError(f"{what}: non-finite entry {v!r}")
            e = sp.Rational(repr(v))
        elif isinstance(v, Fraction):
            e = sp.Rational(v.numerator, v.denominator)
        elif isinstance(v, str):
            e = sp.sympify(v, rational=True)
        else:
            e = sp.sympify(v)
    except (sp.SympifyError, TypeError, ValueError, SyntaxError) as exc:
        raise ProblemError(f"{what}: cannot read {v!r} as an exact number ({exc})") from None
    if not isinstance(e, sp.Expr):
        raise ProblemError(f"{what}: expected a number, got {v!r}")
    if e.has(sp.Float):  # e.g. sp.Float given directly: take its decimal text
        e = e.xreplace({f: sp.Rational(str(f)) for f in e.atoms(sp.Float)})
    if e.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or e.is_finite is False:
        raise ProblemError(f"{what}: non-finite entry {v!r}")
    if not e.is_number:
        raise ProblemError(f"{what}: {v!r} is not a number (free symbols {sorted(map(str, e.free_symbols))})")
    if e.is_real is False:
        raise ProblemError(f"{what}: {v!r} is not real")
    if rational and not e.is_Rational:
        raise ProblemError(f"{what}: {v!r} must be rational (exact linear algebra on the data)")
    return e


_PRIME = 2305843009213693951  # 2^61 - 1


def _frac(r: sp.Rational) -> Fraction:
    return Fraction(int(r.p), int(r.q))


def exact_rank(X: Sequence[Sequence]) -> int:
    """Rank of a rational matrix, exactly.

    With python-flint the rows are scaled to integers and the rank is taken modulo a 61-bit
    prime first: it can only under-estimate the rank, so a full rank mod p is a proof (the
    usual case, milliseconds at 200 x 400); otherwise ``fmpz_mat.rank`` decides exactly.
    Without flint: Gaussian elimination over :class:`~fractions.Fraction` (a minute at that size).
    """
    rows = [[x if isinstance(x, Fraction) else _frac(exact_number(x, "X", rational=True)) for x in row]
            for row in X]
    if _flint is not None and rows and rows[0]:
        ints = []
        for r in rows:
            den = math.lcm(*(x.denominator for x in r))
            ints.append([int(x * den) for x in r])
        Z = _flint.fmpz_mat(ints)
        if _flint.nmod_mat(Z, _PRIME).rank() == min(len(ints), len(ints[0])):
            return min(len(ints), len(ints[0]))
        return Z.rank()
    rank, ncols = 0, max((len(r) for r in rows), default=0)
    for col in range(ncols):
        piv = next((i for i in range(rank, len(rows)) if rows[i][col] != 0), None)
        if piv is None:
            continue
        rows[rank], rows[piv] = rows[piv], rows[rank]
        p = rows[rank]
        for i in range(rank + 1, len(rows)):
            if rows[i][col] != 0:
                f = rows[i][col] / p[col]
                rows[i] = [a - f * b for a, b in zip(rows[i], p)]
        rank += 1
    return rank


def _data(X, y) -> tuple[tuple, tuple]:
    """Validate and convert least-squares data to tuples of Rationals (named errors)."""
    if X is None or y is None:
        raise ProblemError("least-squares data need both X and y")
    try:
        rows = [list(r) for r in X]
        yy = list(y)
    except TypeError:
        raise ProblemError("X must be a sequence of rows and y a sequence of numbers") from None
    if not rows or not yy:
        raise ProblemError(f"empty data: X has {len(rows)} rows and y has {len(yy)} entries")
    widths = sorted({len(r) for r in rows})
    if len(widths) != 1:
        raise ProblemError(f"X rows have unequal lengths {widths}")
    if widths[0] == 0:
        raise ProblemError("X has rows of length 0 (no columns)")
    if len(yy) != len(rows):
        raise ProblemError(f"y has {len(yy)} entries but X has {len(rows)} rows")
    Xe = tuple(tuple(exact_number(a, f"X[{i}][{j}]", rational=True) for j, a in enumerate(r))
               for i, r in enumerate(rows))
    ye = tuple(exact_number(b, f"y[{i}]", rational=True) for i, b in enumerate(yy))
    return Xe, ye


# ---- the problem ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    r"""Least squares :math:`\tfrac12\|Xw - y\|^2` on exact data, plus the constants' values.

    ``values`` maps a constant's name to an exact value, or (separable models) to a tuple of
    ``n`` values, one per coordinate. ``dps`` is the working precision in decimal digits,
    ``horizon`` the time budget of the flow (``None``: the integrator decides), ``seed`` the
    seed the data were drawn with (``None`` for hand-made data), ``planted`` the sparse
    :math:`w^*` with :math:`y = Xw^*` when known.
    """

    X: tuple
    y: tuple
    values: dict = field(default_factory=dict)
    dps: int = 30
    horizon: sp.Expr | None = None
    seed: int | None = None
    planted: tuple | None = None
    name: str = ""

    def __post_init__(self):
        Xe, ye = _data(self.X, self.y)
        object.__setattr__(self, "X", Xe)
        object.__setattr__(self, "y", ye)
        n = len(Xe[0])
        vals = {}
        for k, v in dict(self.values or {}).items():
            key = k if isinstance(k, str) else getattr(k, "name", None)
            if not isinstance(key, str):
                raise ProblemError(f"constant names must be strings or symbols, got {k!r}")
            if isinstance(v, (list, tuple)):
                if len(v) != n:
                    raise ProblemError(f"constant {key} has {len(v)} per-coordinate values but the "
                                       f"data have n={n} columns")
                vals[key] = tuple(exact_number(x, f"{key}[{i}]") for i, x in enumerate(v))
            else:
                vals[key] = exact_number(v, key)
        object.__setattr__(self, "values", vals)
        if isinstance(self.dps, bool) or not isinstance(self.dps, int) or self.dps < 5:
            raise ProblemError(f"dps must be an integer >= 5 (working decimal digits), got {self.dps!r}")
        if self.horizon is not None:
            h = exact_number(self.horizon, "horizon")
            if not h.is_positive:
                raise ProblemError(f"horizon must be positive, got {self.horizon!r}")
            object.__setattr__(self, "horizon", h)
        if self.planted is not None:
            wp = tuple(exact_number(x, f"planted[{i}]", rational=True) for i, x in enumerate(self.planted))
            if len(wp) != n:
                raise ProblemError(f"planted solution has {len(wp)} entries but X has n={n} columns")
            if any(sum(a * b for a, b in zip(row, wp)) != yi for row, yi in zip(Xe, ye)):
                raise ProblemError("planted solution does not satisfy X w = y")
            object.__setattr__(self, "planted", wp)

    # ---- sizes and views ---------------------------------------------------------------------
    @property
    def m(self) -> int:
        """Number of equations (rows of X)."""
        return len(self.X)

    @property
    def n(self) -> int:
        """Number of unknowns (columns of X, outputs w_i)."""
        return len(self.X[0])

    def matrix(self) -> sp.Matrix:
        """X as a SymPy matrix (exact)."""
        return sp.Matrix(self.X)

    def rank(self) -> int:
        """Exact rank of X."""
        return exact_rank(self.X)

    def loss(self) -> "Loss":
        """The least-squares loss of these data."""
        return Loss(None, self.X, self.y)

    def values_at(self, i: int) -> dict:
        """The constants' values in coordinate ``i`` (per-coordinate tuples resolved)."""
        if not 0 <= i < self.n:
            raise ProblemError(f"coordinate {i} out of range 0..{self.n - 1}")
        return {k: (v[i] if isinstance(v, tuple) else v) for k, v in self.values.items()}

    def require_underdetermined(self) -> "Problem":
        """Raise unless :math:`m < n` and X has full row rank (so :math:`\\{Xw = y\\}` is a nonempty
        affine space of dimension n - m); returns ``self`` for chaining."""
        if self.m >= self.n:
            raise ProblemError(f"claim needs m < n, got m={self.m}, n={self.n}")
        r = self.rank()
        if r < self.m:
            raise ProblemError(f"claim needs X of full row rank, got rank {r} < m={self.m}")
        return self


# ---- random problems -----------------------------------------------------------------------------
def random_problem(n: int, m: int, *, seed: int, denominator: int = 8, values: Mapping | None = None,
                   dps: int = 30, k: int | None = None, y_random: bool = False,
                   horizon=None, max_tries: int = 1000) -> Problem:
    r"""A seeded random problem with rational data of full row rank.

    Entries of X are :math:`a/d` with integers :math:`|a| \le 2d`, :math:`d` = ``denominator``
    (redrawn until rank X = m exactly). By default :math:`y = Xw^*` for a planted :math:`w^*`
    with ``k`` nonzero integer entries in :math:`\pm\{1,2,3\}` (default :math:`k = \max(1, \lfloor m/2\rfloor)`),
    so that the min-:math:`\ell_1` interpolant is meaningful; ``y_random=True`` draws y like X instead.
    """
    for name, v in (("n", n), ("m", m), ("denominator", denominator)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ProblemError(f"random_problem: {name} must be a positive integer, got {v!r}")
    if m > n:
        raise ProblemError(f"random_problem: full row rank needs m <= n, got m={m}, n={n}")
    k = max(1, m // 2) if k is None else k
    if not 1 <= k <= n:
        raise ProblemError(f"random_problem: need 1 <= k <= n nonzeros, got k={k}, n={n}")
    rng = random.Random(seed)
    d = denominator
    for _ in range(max_tries):
        X = [[sp.Rational(rng.randint(-2 * d, 2 * d), d) for _ in range(n)] for _ in range(m)]
        if exact_rank(X) == m:
            break
    else:  # pragma: no cover - needs an absurdly unlucky seed
        raise ProblemError(f"random_problem: no full-rank {m}x{n} matrix in {max_tries} draws (seed {seed})")
    planted = None
    if y_random:
        y = [sp.Rational(rng.randint(-2 * d, 2 * d), d) for _ in range(m)]
        if all(v == 0 for v in y):
            y[0] = sp.Integer(1)
    else:
        support = rng.sample(range(n), k)
        wstar = [sp.Integer(0)] * n
        for i in support:
            wstar[i] = sp.Integer(rng.choice((-3, -2, -1, 1, 2, 3)))
        y = [sum((X[j][i] * wstar[i] for i in support), sp.Integer(0)) for j in range(m)]
        planted = tuple(wstar)
    return Problem(tuple(map(tuple, X)), tuple(y), values=dict(values or {}), dps=dps,
                   horizon=horizon, seed=seed, planted=planted,
                   name=f"random-{m}x{n}-seed{seed}")


# ---- losses --------------------------------------------------------------------------------------
@dataclass
class Loss:
    r"""A smooth loss of w: ``expr`` (a SymPy expression in the w symbols) or, when ``expr`` is
    ``None``, least squares :math:`L(w) = \tfrac12\|Xw - y\|^2` on ``X``, ``y``."""

    expr: sp.Expr | None = None
    X: tuple | None = None
    y: tuple | None = None

    def __post_init__(self):
        if self.expr is None:
            self.X, self.y = _data(self.X, self.y)
        else:
            self.expr = sp.sympify(self.expr)
            if self.expr.has(sp.Float):
                raise ProblemError(f"loss {self.expr} contains floating-point constants; use Rationals")

    def _check(self, w_symbols) -> tuple:
        w = tuple(w_symbols)
        if self.expr is None:
            if len(w) != len(self.X[0]):
                raise ProblemError(f"{len(w)} w symbols but X has n={len(self.X[0])} columns")
        else:
            extra = self.expr.free_symbols - set(w)
            if extra:
                raise ProblemError(f"loss uses {sorted(map(str, extra))}, which are not among the "
                                   f"w symbols {[str(s) for s in w]}")
        return w

    def value_expr(self, w_symbols) -> sp.Expr:
        """:math:`L(w)` as an exact SymPy expression."""
        w = self._check(w_symbols)
        if self.expr is not None:
            return self.expr
        return sp.Rational(1, 2) * sp.Add(*[(sp.Add(*[a * wi for a, wi in zip(row, w)]) - yi) ** 2
                                            for row, yi in zip(self.X, self.y)])

    def gradient_exprs(self, w_symbols) -> tuple:
        r""":math:`\nabla L(w)`; for least squares :math:`X^\top(Xw - y)`, assembled without expanding."""
        w = self._check(w_symbols)
        if self.expr is not None:
            return tuple(sp.diff(self.expr, s) for s in w)
        r = [sp.Add(*[a * wi for a, wi in zip(row, w)]) - yi for row, yi in zip(self.X, self.y)]
        return tuple(sp.Add(*[row[i] * rj for row, rj in zip(self.X, r) if row[i] != 0]) for i in range(len(w)))
