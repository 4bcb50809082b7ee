r"""Several flows of one program integrated together: shared jet calls, per-flow steps.

Property tests and scale sweeps integrate many flows of the same ODE (same data X, different
initial states or scales).  :func:`integrate_batch` runs the step logic of
:func:`numerics.taylor.integrator.integrate` once per flow -- the same generator, so each flow
keeps its **own** step sizes, orders and stop condition -- and gathers the flows' requests for
Taylor coefficients into one call of the jet's ``batch`` method (the machine-word jet,
:mod:`numerics.taylor.jet_limbs`, stacks the flows as one more axis of its limb arrays: the
products run batched over nodes and flows, the linear maps :math:`N a` as matrix-matrix
products), and their requests for step end points into one ``evaluate_many`` (one stacked limb
product); the series of one batch call also share the norms the step sizes are read from.

A shared step would save nothing here (the jet's cost does not depend on the step) and would
change the digits; per-flow steps keep every trajectory identical, digit for digit, to the one
:func:`integrate` returns for that flow alone with the batch's backend (exact fixed-point
arithmetic does not depend on what it is batched with).  Under ``backend="fast"`` a batch of
four flows or more runs on the limb jet whatever the size of the program
(:func:`numerics.taylor.jet_fast.batch_backend`): each trajectory is then that of
``integrate(..., backend="limbs")``, which agrees with the single-flow jet's to the tolerance,
not to the last guard bit.  Jets without ``batch`` are called flow by flow.
"""
from __future__ import annotations

import time as _time

import mpmath

from ..errors import ProblemError
from .integrator import Evaluate, _integration, _jet_at, _program, _work_prec, compile_system, evaluate
from .jet_fast import batch_backend
from .jets import get_backend
from .odes import ODESystem

#: bytes of work arrays one jet call may stack (:meth:`~numerics.taylor.jet_limbs.LimbJet.flow_bytes`
#: per flow); larger batches are split into calls of that size. Measured on this 2-core machine
#: (2 MB of L2 per core; ``benchmarks/bench_batch.py``, 30 digits, order 36, 2026-12-06): 16 flows
#: of a diagonal net cost 0.59x of 16 single runs at n = 10 in one call (5.3 MB; calls of 8:
#: 0.615x), and at n = 20 0.82x in one call (10.6 MB) against 0.75x in calls of 8 (5.3 MB each)
#: and 0.77x in calls of 6: past about this size the stacked products spill out of the cache
BATCH_BYTES = 11 << 19


def integrate_batch(system: ODESystem, y0s, t_end, *, dps: int = 30, tol=None, backend: str = "fast",
                    stop=None, until_converged: bool = False, max_steps: int = 100_000, t0=0,
                    max_norm=10 ** 50, order: int | None = None) -> list:
    """One :class:`~numerics.taylor.integrator.Trajectory` per initial state of ``y0s``, each
    the same as ``integrate(system, y0, t_end, ...)`` would return (same keywords; ``t_end``,
    ``t0`` and ``stop`` are shared by the flows, or give one per flow as a list)."""
    if not isinstance(system, ODESystem):
        raise ProblemError(f"integrate_batch expects an ODESystem, got {type(system).__name__}")
    y0s = list(y0s)
    if not y0s:
        return []
    for y0 in y0s:
        if len(y0) != system.size:
            raise ProblemError(f"{system.name or 'ODE'}: {system.size} states but {len(y0)} initial values")
    if not isinstance(dps, int) or dps < 5:
        from ..errors import PrecisionTooLow
        raise PrecisionTooLow(f"dps must be an integer >= 5, got {dps!r}")
    each = lambda v: v if isinstance(v, list) else [v] * len(y0s)  # noqa: E731
    t_ends, t0s, stops = each(t_end), each(t0), each(stop)
    tc = _time.perf_counter()
    chosen = batch_backend(_program(system), len(y0s)) if backend == "fast" else backend
    try:  # under "fast", the jet that is fastest for this many flows
        program, jet = compile_system(system, dps=dps, backend=chosen)
        backend = chosen
    except ValueError:  # chosen limbs, linear coefficients too large for exact limb products
        if chosen == backend:
            raise
        program, jet = compile_system(system, dps=dps, backend=backend)
    compile_seconds = _time.perf_counter() - tc
    be = get_backend(backend)
    prec = _work_prec(dps)
    scaled = getattr(jet, "scaled", False)
    gens = [_integration(system, y0, te, dps, tol, st, until_converged, max_steps, ta, max_norm, order,
                         be, prec, program, scaled, compile_seconds)
            for y0, te, ta, st in zip(y0s, t_ends, t0s, stops)]
    out = [None] * len(gens)

    def single(req):
        t, y, K, hint, steps = req
        return _jet_at(jet, system, program, t, y, be, steps, K, hint)

    with mpmath.workprec(prec), be.context(prec):
        pending = {}
        for i, g in enumerate(gens):
            _advance(g, i, None, pending, out, first=True)
        while pending:
            # every flow's request is answered in each round: the step end points of some flows
            # (Evaluate) and the Taylor coefficients of the others, each kind in shared calls
            ev = [i for i in pending if isinstance(pending[i], Evaluate)]
            tay = [i for i in pending if not isinstance(pending[i], Evaluate)]
            answers = dict(zip(ev, _evaluate_all([pending[i] for i in ev])))
            reqs = [pending[i] for i in tay]
            if reqs and hasattr(jet, "batch"):
                size = _chunk(jet, reqs)
                for i in range(0, len(reqs), size):
                    answers.update(zip(tay[i:i + size],
                                       jet.batch([(t, y, K, hint) for t, y, K, hint, _ in reqs[i:i + size]])))
            elif reqs:
                answers.update(zip(tay, [single(r) for r in reqs]))
            done, pending = pending, {}
            for i in done:
                _advance(gens[i], i, answers[i], pending, out)
    return out


def _evaluate_all(reqs) -> list:
    """The step end points of several flows: series with an ``evaluate_many`` (the limb jet's)
    in one call per series type, the others one by one (:func:`~numerics.taylor.integrator.evaluate`)."""
    out = [None] * len(reqs)
    many: dict = {}
    for i, r in enumerate(reqs):
        if hasattr(r.coeffs, "evaluate_many"):
            many.setdefault(type(r.coeffs), []).append(i)
        else:
            out[i] = evaluate(r)
    for cls, idx in many.items():
        for i, v in zip(idx, cls.evaluate_many([(reqs[i].coeffs, reqs[i].h) for i in idx])):
            out[i] = v
    return out


def _chunk(jet, reqs) -> int:
    """Flows per jet call: as many as keep the stacked work arrays within :data:`BATCH_BYTES`."""
    per = jet.flow_bytes(max(r[2] for r in reqs)) if hasattr(jet, "flow_bytes") else 0
    return max(1, BATCH_BYTES // per) if per else len(reqs)


def _advance(gen, i, answer, pending, out, first=False):
    """Send ``answer`` to flow i's generator; record its next request or its trajectory."""
    try:
        pending[i] = next(gen) if first else gen.send(answer)
    except StopIteration as done:
        out[i] = done.value
