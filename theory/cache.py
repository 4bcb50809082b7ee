"""On-disk cache of derivations, keyed by the parameterization's fingerprint.

SymPy work (simplification, integration, limits) dominates a catalog check; the result depends
only on the mathematical content of the parameterization and on ibcheck's version, so repeated
runs (and CI, which may keep ``~/.cache``) reuse it. ``IBCHECK_CACHE=off`` disables it;
``IBCHECK_CACHE=/some/dir`` moves it.
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


def load(key: str):
    path = _path(key)
    if path is None or not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except Exception:  # a stale or truncated cache entry is recomputed, never trusted
        return None


def store(key: str, value) -> None:
    path = _path(key)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with tmp.open("wb") as fh:
            pickle.dump(value, fh)
        tmp.replace(path)
    except OSError:  # read-only home etc.: caching is an optimisation only
        pass
