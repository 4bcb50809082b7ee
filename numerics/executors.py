r"""Where independent work runs: in this process, a local process pool, or a Dask cluster.

Sweeps (``check --all``'s catalog entries, the scale/width/time sweeps of ``reproduce``) are
lists of independent pure jobs. :func:`open_executor` gives a :class:`concurrent.futures.Executor`
for them (or ``None``: serial), and :func:`ordered_map` runs a function over the jobs on it and
returns the results **in the jobs' order**, whatever order they finish in, so the output of a
sweep is the same, digit for digit, on 1 process, N processes or a cluster (every job is a pure
function of its arguments: exact inputs, fixed seeds, precision set by ``mpmath.workdps``).

A Dask cluster is optional (``pip install "ibcheck[distributed]"``); see docs/distributed.md.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Callable, Iterable, Sequence

from theory.errors import IbcheckError

#: seconds to wait for a Dask scheduler before giving up with a one-line error (exit 2)
CONNECT_TIMEOUT = 10.0


#: one job at a time per process: mpmath's working precision is process-global (``workdps``
#: changes it for every thread), so two jobs in threads of one process (a Dask worker started
#: with ``--nthreads 4``, a thread pool) could change each other's digits. Under this lock they
#: cannot; processes give the parallelism.
_ONE_JOB = threading.Lock()


def _call(fn, job):
    with _ONE_JOB:
        return fn(job)


def _worker_init() -> None:
    # workers leave Ctrl-C to the parent, which stops them at once
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def validate(workers: int | None, scheduler: str | None, flag: str = "--workers") -> None:
    """Bad input is refused before any work starts (``IbcheckError``: one line, exit 2)."""
    if workers is not None and workers < 1:
        raise IbcheckError(f"{flag} must be at least 1, got {workers}")
    if scheduler is not None:
        if workers is not None:
            raise IbcheckError(f"give {flag} or --scheduler, not both (the cluster decides its workers)")
        if not scheduler.strip():
            raise IbcheckError("--scheduler needs an address, e.g. tcp://10.0.0.1:8786")


@contextlib.contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None, *,
                  timeout: float | None = None):
    """A context yielding an executor: ``None`` (serial) when ``workers == 1`` or nothing is
    asked, a process pool of ``workers`` processes, or the executor of a Dask ``Client``
    connected to ``scheduler`` (``tcp://HOST:PORT``), within ``timeout`` seconds
    (default :data:`CONNECT_TIMEOUT`)."""
    validate(workers, scheduler)
    if scheduler is not None:
        client = connect(scheduler, timeout=timeout)
        try:
            yield client.get_executor()
        finally:
            client.close()
        return
    if not workers or workers == 1:
        yield None
        return
    import concurrent.futures
    import multiprocessing

    # fork where it exists (workers start in milliseconds with ibcheck already imported)
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    ex = concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init)
    try:
        yield ex
    except BaseException:  # Ctrl-C, a closed pipe, an error: stop the workers at once
        procs = list((getattr(ex, "_processes", None) or {}).values())  # shutdown forgets them
        for proc in procs:
            proc.terminate()
        # no cancel_futures: Python 3.11's pool manager then fails on the cancelled futures
        # (InvalidStateError, a traceback); with its workers gone it marks them broken and ends
        ex.shutdown(wait=False)
        raise
    else:
        ex.shutdown(wait=True)


def connect(address: str, *, timeout: float | None = None):
    """A ``distributed.Client`` on ``address``; an ``IbcheckError`` (one line) when the optional
    extra is missing or the scheduler does not answer within ``timeout`` seconds."""
    try:
        from distributed import Client
    except ImportError:
        raise IbcheckError("--scheduler needs Dask's distributed package: "
                           "pip install \"ibcheck[distributed]\"") from None
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as e:
        why = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise IbcheckError(f"cannot reach the Dask scheduler at {address!r} within {timeout:g} s ({why})") from None


def ordered_map(executor, fn: Callable, jobs: Sequence, *, cost: Callable | None = None,
                done: Callable | None = None) -> Iterable:
    """``fn(job)`` for every job, yielded in the order of ``jobs``. On an executor every job is
    submitted at once, the most costly first when ``cost(job)`` estimates it (the longest jobs
    start first, so the workers finish together); ``None`` runs them here, one by one.
    ``done(i)`` is called here (the caller's thread) as job ``i`` finishes, in finishing order
    (a progress counter)."""
    import concurrent.futures

    jobs = list(jobs)
    if executor is None:
        for i, j in enumerate(jobs):
            r = fn(j)
            if done:
                done(i)
            yield r
        return
    order = sorted(range(len(jobs)), key=lambda i: -cost(jobs[i])) if cost else range(len(jobs))
    futures = {i: executor.submit(_call, fn, jobs[i]) for i in order}
    index = {f: i for i, f in futures.items()}
    pending, finished, nxt = set(futures.values()), set(), 0
    while nxt < len(jobs):  # on an error, the executor's owner stops the rest (open_executor)
        if nxt not in finished:
            ready, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for f in sorted(ready, key=index.get):
                finished.add(index[f])
                if done:
                    done(index[f])
            continue
        yield futures[nxt].result()
        nxt += 1


def default_workers() -> int:
    """One process per core."""
    return os.cpu_count() or 1
