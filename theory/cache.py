"""On-disk cache of derivations, keyed by the parameterization's fingerprint.

SymPy work (simplification, integration, limits) dominates a catalog check; the result depends
only on the mathematical content of the parameterization and on ibcheck's version, so repeated
runs (and CI, which may keep ``~/.cache``) reuse it. ``IBCHECK_CACHE=off`` disables it;
``IBCHECK_CACHE=/some/dir`` moves it.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path

VERSION = "1"  # bump when derivation logic changes what is stored


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
