"""On-disk cache of derivations and proofs.

SymPy work (simplification, integration, limits) dominates a catalog check, so repeated runs
(and CI, which may keep ``~/.cache``) reuse it. ``IBCHECK_CACHE=off`` disables it;
``IBCHECK_CACHE=/some/dir`` moves it.

Trust: the key covers everything a result depends on, labels included (name, source: a result
never carries another model's labels), and ibcheck's own source (:data:`VERSION`). A file is read
with an unpickler that builds only SymPy and ibcheck record classes and plain containers (no
functions: a foreign file cannot run code), and the object read must be of the expected type and
carry the key it was stored under. Anything else (corrupt, foreign, stale) is recomputed.
"""
from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path



def _code_version() -> str:
    """A hash of the ``theory`` package's own source: any change to the derivation code (or the
    catalog) invalidates every cached derivation, so a stale cache can never hide a regression."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


VERSION = _code_version()


def cache_dir() -> Path | None:
    where = os.environ.get("IBCHECK_CACHE", "")
    if where.lower() in {"off", "0", "no", "false"}:
        return None
    base = Path(where) if where else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ibcheck"
    return base


def _path(key: str) -> Path | None:
    d = cache_dir()
    return None if d is None else d / f"derivation-v{VERSION}-{key}.pickle"


_SAFE_BUILTINS = {"tuple", "list", "dict", "set", "frozenset", "int", "float", "complex", "str",
                  "bytes", "bool", "slice", "object"}
_SAFE_ROOTS = {"sympy", "mpmath", "theory", "fractions", "collections"}
_UNSAFE_SYMPY = ("sympy.parsing", "sympy.utilities", "sympy.printing", "sympy.interactive",
                 "sympy.testing", "sympy.external", "sympy.plotting")


class _RecordUnpickler(pickle.Unpickler):
    """Builds only classes of SymPy, mpmath and ibcheck's ``theory`` package and plain
    containers; refuses every function (``eval``, ``os.system``, ``sympify``, ...)."""

    def find_class(self, module, name):
        if module == "builtins" and name in _SAFE_BUILTINS:
            return super().find_class(module, name)
        if module == "copyreg" and name in {"_reconstructor", "__newobj__", "__newobj_ex__"}:
            return super().find_class(module, name)
        if module.split(".")[0] in _SAFE_ROOTS and not module.startswith(_UNSAFE_SYMPY):
            obj = super().find_class(module, name)
            if isinstance(obj, type):
                return obj
        raise pickle.UnpicklingError(f"cache: refusing to build {module}.{name}")


def load(key: str, expect: type | tuple = object):
    """The value stored under ``key`` if it is an ``expect`` and was stored under this key;
    ``None`` otherwise (missing, corrupt, foreign or stale files are recomputed, never trusted)."""
    path = _path(key)
    if path is None or not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            stored_key, value = _RecordUnpickler(fh).load()
    except Exception:
        return None
    if stored_key != key or not isinstance(value, expect):
        return None
    return value


def store(key: str, value) -> None:
    path = _path(key)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with tmp.open("wb") as fh:
            pickle.dump((key, value), fh)
        tmp.replace(path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
        pass  # read-only home, an unpicklable object: caching is an optimisation only
