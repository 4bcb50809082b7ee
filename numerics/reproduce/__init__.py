r"""Paper reproductions behind ``ibcheck reproduce NAME``: one module per seed paper.

A reproduction is a module ``numerics.reproduce.<name>`` (dashes in NAME become underscores)
that defines

* ``SUMMARY``: one line for ``ibcheck reproduce --list``;
* ``run(out_dir: pathlib.Path, *, quick: bool, progress) -> Report``: the float64 sweep (NumPy),
  its high-precision spot checks, and the files it wrote (a Markdown table, and a plot when
  matplotlib is installed). With an ``executor=None`` keyword, the sweep's independent points
  run on that :class:`concurrent.futures.Executor` (``ibcheck reproduce NAME --workers N`` or
  ``--scheduler ADDRESS``; :mod:`numerics.executors`), with results equal to a serial run.

Modules are found by name, so adding a reproduction touches no registry.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Report:
    """What one reproduction produced: a Markdown ``table``, the ``files`` it wrote, whether its
    spot checks all ``passed``, and free-form ``figures`` (name -> number) for the docs."""

    name: str
    table: str
    files: tuple = ()
    passed: bool = True
    figures: dict = field(default_factory=dict)
    notes: tuple = ()


def available() -> dict:
    """``{NAME: SUMMARY}`` of every reproduction module in this package."""
    out = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        out[info.name.replace("_", "-")] = getattr(mod, "SUMMARY", "")
    return out


def load(name: str):
    """The module of reproduction ``name``; ``KeyError`` naming the known ones otherwise."""
    known = available()
    if name not in known:
        raise KeyError(f"no reproduction {name!r}; known: {', '.join(sorted(known)) or '(none yet)'}")
    return importlib.import_module(f"{__name__}.{name.replace('-', '_')}")


def run(mod, out_dir: Path, *, quick: bool, progress, executor=None) -> Report:
    """``mod.run(...)``, with its sweep on ``executor`` (:mod:`numerics.executors`) when one is
    given; a reproduction without a sweep to spread refuses one (``IbcheckError``) instead of
    ignoring it."""
    import inspect

    if executor is None:
        return mod.run(out_dir, quick=quick, progress=progress)
    if "executor" not in inspect.signature(mod.run).parameters:
        from theory.errors import IbcheckError
        raise IbcheckError(f"reproduction {mod.__name__.rsplit('.', 1)[-1]!r} has no sweep to spread over "
                           "--workers / --scheduler; run it without them")
    return mod.run(out_dir, quick=quick, progress=progress, executor=executor)


def default_out_dir(name: str) -> Path:
    """Where a reproduction writes by default: ``docs/reproductions/NAME`` under the current
    directory (the repository root when run from a checkout)."""
    return Path("docs") / "reproductions" / name
