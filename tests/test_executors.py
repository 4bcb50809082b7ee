"""Sweeps on executors (issue 15, item 5): a local process pool and a Dask cluster give the
records of a serial run, digit for digit and in the same order; bad input is one line, exit 2."""
import concurrent.futures
import json
import time

import pytest

from numerics.cli import main
from numerics.executors import open_executor, ordered_map

FEW = ("shared-hidden-unit", "linear-net-2x2x2", "diagonal-squared")


def _square(x):
    return x * x


def test_ordered_map_returns_job_order_whatever_the_start_order():
    jobs = list(range(12))
    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        assert list(ordered_map(ex, _square, jobs, cost=lambda j: (j * 7) % 5)) == [j * j for j in jobs]
    assert list(ordered_map(None, _square, jobs)) == [j * j for j in jobs]
    with open_executor(2) as ex:
        assert isinstance(ex, concurrent.futures.ProcessPoolExecutor)
        assert list(ordered_map(ex, _square, jobs, cost=float)) == [j * j for j in jobs]
    with open_executor(1) as ex:
        assert ex is None  # one worker: serial, in this process


def _records(capsys, *extra):
    assert main(["check", "--all", "--no-regimes", "--json", *extra]) == 0
    doc = json.loads(capsys.readouterr().out)
    return [{k: v for k, v in r.items() if k != "seconds"} for r in doc["verdicts"]]


@pytest.fixture
def few_entries(monkeypatch):
    import theory.catalog as catalog

    monkeypatch.setattr(catalog, "CATALOG", {k: catalog.CATALOG[k] for k in FEW})


def test_check_all_on_a_process_pool_equals_the_serial_run(few_entries, capsys):
    serial = _records(capsys, "--workers", "1")
    pooled = _records(capsys, "--workers", "2")
    assert pooled == serial and [r["model"] for r in serial][0] == FEW[0]
    assert {r["model"] for r in serial} == set(FEW)


@pytest.mark.parametrize("argv, message", [
    (["check", "--all", "--workers", "0"], "must be at least 1"),
    (["check", "--all", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "not both"),
    (["check", "--all", "--scheduler", " "], "needs an address"),
    (["reproduce", "weightdecay", "--workers", "0"], "--workers must be at least 1"),
])
def test_bad_executor_input_is_one_line_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_an_unreachable_scheduler_is_one_line_exit_2_within_the_timeout(monkeypatch, capsys):
    pytest.importorskip("distributed")
    import numerics.executors as ex

    monkeypatch.setattr(ex, "CONNECT_TIMEOUT", 2.0)
    t0 = time.perf_counter()
    assert main(["check", "--all", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler" in err and len(err.strip().splitlines()) == 1
    assert time.perf_counter() - t0 < 15


@pytest.mark.slow
def test_check_all_and_reproduce_on_a_local_dask_cluster_equal_the_serial_run(few_entries, capsys, tmp_path):
    """Two worker processes (the README's ``--scheduler`` path): the same records as a serial
    run; the weight-decay sweep gives the same table."""
    distributed = pytest.importorskip("distributed")

    serial = _records(capsys, "--workers", "1")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster:
        addr = cluster.scheduler_address
        assert _records(capsys, "--scheduler", addr) == serial
        assert main(["reproduce", "weightdecay", "--quick", "--out", str(tmp_path / "d"),
                     "--scheduler", addr]) == 0
        on_cluster = capsys.readouterr().out
    assert main(["reproduce", "weightdecay", "--quick", "--out", str(tmp_path / "s")]) == 0
    assert capsys.readouterr().out == on_cluster
