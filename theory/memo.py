r"""Memoisation of pure symbolic steps within one process (issue 15: speed).

One catalog entry asks the same questions several times: the derivation and each literature
claim rebuild the same leaf flow, dual gradient :math:`\nabla Q(\mu)` and closed-form flows, and
prove the same remainders (a derived limit and the paper's limit of the same form). The steps
memoised here are pure functions of their SymPy arguments, so a hit returns exactly what the
call would compute.

The key is the arguments themselves (lists turned into tuples): SymPy equality is structural
and includes every symbol's assumptions (``Symbol('x') != Symbol('x', positive=True)``), a
``Dummy`` equals only itself, and ``Float(0.5) != Rational(1, 2)``. Arguments that cannot be
hashed are not memoised (the call runs as usual). Each table is bounded (least recently used
entries go first) and can be emptied with :func:`clear`.
"""
from __future__ import annotations

import functools
from collections import OrderedDict

#: every memo table, so :func:`clear` can empty them (tests, long-lived processes)
_TABLES: list = []


def _freeze(x):
    if isinstance(x, list):
        return ("__list__",) + tuple(_freeze(v) for v in x)
    if isinstance(x, tuple):
        return tuple(_freeze(v) for v in x)
    if isinstance(x, dict):
        return ("__dict__",) + tuple(sorted(((k, _freeze(v)) for k, v in x.items()), key=lambda kv: str(kv[0])))
    return x


def memo(maxsize: int = 1024):
    """Decorator: memoise a pure function of hashable (or list/tuple/dict of hashable) arguments."""
    def deco(f):
        table: OrderedDict = OrderedDict()
        _TABLES.append(table)

        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            try:
                key = (_freeze(args), _freeze(kwargs))
                hash(key)
            except TypeError:  # e.g. a mutable Matrix: no memo, the call runs as usual
                return f(*args, **kwargs)
            if key in table:
                table.move_to_end(key)
                return table[key]
            value = f(*args, **kwargs)
            table[key] = value
            if len(table) > maxsize:
                table.popitem(last=False)
            return value

        wrapper.uncached = f
        return wrapper
    return deco


def clear() -> None:
    """Empty every memo table."""
    for t in _TABLES:
        t.clear()
