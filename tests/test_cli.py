"""The ibcheck command: list, derive, check; stable JSON; exit codes on failure and bad input."""
import json

import pytest

from numerics.cli import main

FIELDS = {"model", "claim", "kind", "symbolic", "passed", "status", "residual", "tolerance",
          "error_estimate", "digits", "dps", "seconds", "details", "test"}


def test_list_names_every_entry_with_its_source(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= {"diagonal-quadratic", "linear-net-2x2x2", "shared-hidden-unit"}
    assert all(r["source"] for r in rows)


def test_derive_json_and_latex(capsys):
    assert main(["derive", "diagonal-quadratic", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["law_count"]["laws"] == 1 and rec["laws"][0]["expr"] == "u*v"
    assert rec["mirror"]["exists"] and rec["mirror"]["proof"] == "proved"
    assert {l["leading"] for l in rec["limits"]} == {"Abs(w)/2", "w**2/16"}
    assert main(["derive", "diagonal-quadratic", "--latex"]) == 0
    assert capsys.readouterr().out.lstrip().startswith("\\documentclass")


def test_derive_of_a_non_commuting_model_reports_the_witness(capsys):
    assert main(["derive", "shared-hidden-unit", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["mirror"]["exists"] is False and "do not commute" in rec["mirror"]["reason"]


def test_check_json_records_have_the_documented_fields(capsys):
    assert main(["check", "shared-hidden-unit", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["failed"] == 0 and doc["passed"] == len(doc["verdicts"]) >= 2
    for r in doc["verdicts"]:
        assert set(r) == FIELDS


def test_check_of_a_users_spec_file_and_a_bad_constant(tmp_path, capsys):
    spec = tmp_path / "mine.toml"
    spec.write_text('name = "mine"\nparams = ["u", "v"]\nconstants = {alpha = "positive"}\n'
                    'map = ["u**2 - v**2"]\ninit = {u = "alpha", v = "alpha"}\nseparable = 2\n')
    assert main(["check", str(spec), "--no-regimes", "--set", "alpha=1/3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["failed"] == 0 and any(r["kind"] == "mirror" for r in doc["verdicts"])
    assert main(["check", str(spec), "--set", "beta=1"]) == 2
    assert "has no constant 'beta'" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["check", "no-such-model"], "neither a catalog entry"),
    (["check"], "needs a catalog name"),
    (["check", "diagonal-quadratic", "--set", "alpha"], "NAME=VALUE"),
])
def test_bad_input_exits_2_with_a_message(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_check_exits_1_when_a_claim_fails(monkeypatch, capsys):
    import numerics.confirm as confirm_mod
    from numerics.verdict import Verdict

    failing = Verdict(model="m", claim="law h", kind="law", passed=False, residual=1.0, tolerance=1e-25,
                      dps=30, error_estimate=1e-31, details={"status": "refuted"})
    monkeypatch.setattr(confirm_mod, "confirm", lambda *a, **k: [failing])
    assert main(["check", "shared-hidden-unit"]) == 1
    assert "FAILED m: law h" in capsys.readouterr().out


def test_check_all_in_parallel_gives_the_serial_records(monkeypatch, capsys):
    """``--jobs 2`` runs entries in separate processes; the records (residuals included: the
    integrator is deterministic) are those of the serial run, in catalog order."""
    import theory.catalog as catalog

    few = {k: catalog.CATALOG[k] for k in ("shared-hidden-unit", "diagonal-quadratic")}
    monkeypatch.setattr(catalog, "CATALOG", few)
    docs = []
    for jobs in ("1", "2"):
        assert main(["check", "--all", "--no-regimes", "--json", "--jobs", jobs]) == 0
        docs.append(json.loads(capsys.readouterr().out))
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in d["verdicts"]] for d in docs]
    assert strip[0] == strip[1] and len(strip[0]) >= 4
    assert [r["model"] for r in strip[0]][0] != [r["model"] for r in strip[0]][-1]
    assert main(["check", "--all", "--jobs", "-1"]) == 2
    assert "--jobs/--workers must be at least 1" in capsys.readouterr().err


# ---- the edges (issue 11): every row of its table, rerun -------------------------------------------
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _spec(tmp_path, name, params='["u", "v"]', map_='["u**2 - v**2"]', init='{u = "alpha", v = "alpha"}',
          extra="separable = 2\n", constants='{alpha = "positive"}'):
    f = tmp_path / f"{name}.toml"
    f.write_text(f'name = "{name}"\nparams = {params}\nconstants = {constants}\nmap = {map_}\n'
                 f'init = {init}\n{extra}')
    return str(f)


def _run(argv, capsys):
    t0 = time.perf_counter()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err, time.perf_counter() - t0


@pytest.mark.parametrize("argv, message", [
    (["check", "--all", "--dps", "100000"], "above the limit 200"),
    (["check", "diagonal-quadratic", "--dps", "1000"], "raise it with --max-dps"),
    (["check", "diagonal-quadratic", "--dps", "10"], "at least 15 digits"),
    (["check", "diagonal-quadratic", "--set", "alpha=-1"], "alpha is declared positive"),
    (["check", "diagonal-quadratic", "--set", "alpha=0"], "alpha is declared positive"),
    (["check", "diagonal-quadratic", "--set", "alpha=sqrt(-1)"], "complex"),
    (["check", "diagonal-quadratic", "--all"], "not both"),
    (["check", "--all", "--jobs", "0"], "--jobs/--workers must be at least 1"),
    (["verify", "diagonal-quadratic", "--law", "u.__class__"], "operator '.' is not allowed"),
    (["verify", "diagonal-quadratic", "--law", "__import__('os')"], "unknown symbol '__import__'"),
    (["verify", "diagonal-quadratic", "--law", "(lambda: u)()"], "unknown symbol 'lambda'"),
    (["verify", "diagonal-quadratic", "--law", "'u'"], "unexpected"),
    (["verify", "diagonal-quadratic", "--law", "u**9**9**9"], "exponent is astronomically large"),
    (["verify", "diagonal-quadratic"], "needs a claim"),
])
def test_edge_inputs_exit_2_with_one_line_and_no_table(argv, message, capsys):
    code, out, err, secs = _run(argv, capsys)
    assert code == 2 and message in err, err
    assert out == ""  # no table header when the error comes before any row
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert secs < 10


@pytest.mark.parametrize("kind, spec, message", [
    ("product of 28 parameters", dict(params="[" + ", ".join(f'"p{i}"' for i in range(28)) + "]",
                                      map_='["' + "*".join(f"p{i}" for i in range(28)) + '"]',
                                      init="{" + ", ".join(f'p{i} = "1"' for i in range(28)) + "}", extra=""),
     "number of scalar parameters is 28"),
    ("1521-term map", dict(map_='["' + " + ".join(f"u**{i % 39}*v**{i // 39}" for i in range(1521)) + '"]'),
     "raise it with --max-"),
    ("tower exponent", dict(map_='["u**9**9**9"]'), "--max-degree"),
    ("huge power", dict(map_='["(u+v)**100000"]'), "exponent is 100000"),
    ("Abs", dict(map_='["Abs(u)*v"]'), "uses Abs"),
    ("parameter t", dict(params='["t", "v"]', map_='["t*v"]', init='{t = "alpha", v = "alpha"}'),
     "'t' is reserved"),
    ("zero rate", dict(map_='["u*v"]', extra='rates = {u = "0", v = "1"}\n'), "not positive"),
    ("negative rate", dict(map_='["u*v"]', extra='rates = {u = "-1", v = "1"}\n'), "not positive"),
    ("indefinite metric", dict(map_='["u*v"]', init='{u = "alpha", v = "1"}',
                               extra='metric = [["1", "2"], ["2", "1"]]\n'), "not positive definite"),
    ("constant map", dict(map_='["3"]', extra=""), "does not depend on any parameter"),
    ("sqrt(-1)", dict(map_='["sqrt(-1)*u"]', extra=""), "complex"),
    ("critical init", dict(map_='["u*v", "u**2 - v**2"]', init='{u = "0", v = "0"}', extra=""),
     "critical point"),
])
def test_edge_specs_are_refused_by_name(kind, spec, message, tmp_path, capsys):
    path = _spec(tmp_path, "edge", **spec)
    for cmd in ("derive", "check"):
        code, out, err, secs = _run([cmd, path], capsys)
        assert code == 2 and message in err, (kind, err)
        assert out == "" and "Traceback" not in err and secs < 10, kind


def test_a_binary_spec_file_is_a_clean_error(tmp_path, capsys):
    f = tmp_path / "model.toml"
    f.write_bytes(bytes(range(256)) * 4)
    code, out, err, _ = _run(["derive", str(f)], capsys)
    assert code == 2 and "binary file" in err and out == ""
    g = tmp_path / "latin1.toml"
    g.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    code, out, err, _ = _run(["derive", str(g)], capsys)
    assert code == 2 and "not UTF-8" in err


def test_limits_can_be_raised_by_their_flags(tmp_path, capsys):
    path = _spec(tmp_path, "deg", map_='["(u - v)**26"]', init='{u = "alpha", v = "0"}', extra="")
    assert _run(["derive", path], capsys)[0] == 2
    code, out, err, _ = _run(["verify", path, "--law", "u + v", "--max-degree", "30"], capsys)
    assert code in (0, 1, 3), err  # accepted once the limit is raised


def test_dps_15_is_accepted_and_never_refutes_below_tolerance(capsys):
    """--dps 15 (the documented minimum) works; the alpha -> oo potential limit was refuted at a
    residual (4.5e-11) below its tolerance (1.04e-10)."""
    code, out, err, _ = _run(["check", "diagonal-quadratic", "--dps", "15", "--json", "--no-regimes"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["failed"] == 0, [r for r in doc["verdicts"] if not r["passed"]]
    for r in doc["verdicts"]:
        if r["status"] == "refuted":
            assert r["residual"] > r["tolerance"]


def test_decreasing_verdict_never_refutes_below_tolerance():
    from numerics.confirm.regimes import decreasing_verdict

    # the dps-15 defects: decreasing to the noise floor, then noise above it
    status, tol, _ = decreasing_verdict([2.08e-10, 2.08e-18, 4.48e-11], [1e-15, 1e-15, 1e-9], 0.5)
    assert status == "confirmed" and tol >= 1e-9
    status, tol, _ = decreasing_verdict([1.0, 0.3, 0.4], [1e-20] * 3, 0.5)
    assert status == "inconclusive"       # below tolerance: never refuted
    status, tol, _ = decreasing_verdict([1.0, 0.9, 0.8], [1e-20] * 3, 0.5)
    assert status == "refuted" and 0.8 > tol  # negative control: a defect that does not go to 0


def test_a_non_polynomial_map_gives_no_nan_and_no_traceback(tmp_path, capsys):
    path = _spec(tmp_path, "expmap", map_='["exp(u) - exp(v)"]')
    code, out, err, _ = _run(["derive", path, "--json"], capsys)
    assert code == 0, err
    rec = json.loads(out)
    exprs = json.dumps({k: v for k, v in rec.items() if k != "notes"})
    assert "nan" not in exprs and "zoo" not in exprs
    code, out, err, _ = _run(["check", path, "--json", "--no-regimes"], capsys)
    assert code in (0, 1) and "Traceback" not in err and "KeyError" not in out


def test_a_one_output_model_is_checked_with_reasons_for_what_is_skipped(tmp_path, capsys):
    path = _spec(tmp_path, "one", extra="")
    code, out, err, _ = _run(["check", path, "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["failed"] == 0, err
    skipped = [r for r in doc["verdicts"] if r["status"] == "skipped"]
    assert skipped and all("underdetermined" in r["missing"] for r in skipped)
    assert any(r["kind"] == "mirror" and r["status"] == "confirmed" for r in doc["verdicts"])


def test_json_is_strict_when_a_row_errors(monkeypatch, capsys):
    import numerics.confirm as confirm_mod
    from numerics.verdict import failed_verdict

    bad = failed_verdict("m", "law h", "law", 30, ValueError("boom"), "proved")
    monkeypatch.setattr(confirm_mod, "confirm", lambda *a, **k: [bad])
    code, out, err, _ = _run(["check", "shared-hidden-unit", "--json"], capsys)
    assert code == 1

    def refuse(c):
        raise AssertionError(f"non-strict JSON constant {c}")
    doc = json.loads(out, parse_constant=refuse)
    r = doc["verdicts"][0]
    assert r["residual"] is None and "boom" in r["missing"]


def test_table_rows_do_not_contradict_and_say_what_the_tolerance_means(capsys):
    code, out, err, _ = _run(["check", "shared-hidden-unit", "--wide"], capsys)
    assert code == 0
    rows = [l for l in out.splitlines() if l.startswith("shared-hidden-unit")]
    nm = [l for l in rows if "no mirror potential" in l]
    assert nm and "refuted" not in nm[0] and "|bracket| > tol" in nm[0] and " -0." not in nm[0]
    assert out.splitlines()[0].split()[:4] == ["model", "claim", "symbolic", "numeric"]
    code, out, err, _ = _run(["check", "diagonal-quadratic", "--no-regimes"], capsys)
    assert "decreasing, last <= tol" in out


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert "ibcheck" in capsys.readouterr().out
    assert main(["nonsense"]) == 2


def test_verify_exit_codes_and_json(capsys):
    code, out, err, _ = _run(["verify", "diagonal-quadratic", "--law", "u*v"], capsys)
    assert code == 0 and "proved" in out
    code, out, err, _ = _run(["verify", "diagonal-quadratic", "--law", "u + v"], capsys)
    assert code == 1 and "refuted" in out  # negative control
    code, out, err, _ = _run(["verify", "diagonal-quadratic", "--gradient", "asinh(w/(2*alpha**2))/4",
                              "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["results"][0]["status"] == "proved" and doc["exit"] == 0
    code, out, err, _ = _run(["verify", "diagonal-quadratic", "--gradient", "asinh(w/(2*alpha**2))/2"], capsys)
    assert code == 1  # the factor must be 1/4
    code, out, err, _ = _run(["verify", "diagonal-quadratic", "--limit", "Abs(w)/2", "--factor",
                              "1/log(1/alpha)"], capsys)
    assert code == 0, out + err
    code, out, err, _ = _run(["verify", "diagonal-quadratic", "--limit", "Abs(w)", "--factor",
                              "1/log(1/alpha)"], capsys)
    assert code == 1  # wrong leading factor
    code, out, err, _ = _run(["verify", "diagonal-quadratic", "--law", "z*u"], capsys)
    assert code == 2 and "unknown symbol 'z'" in err


def test_timeout_stops_cleanly(capsys):
    code, out, err, secs = _run(["check", "--all", "--jobs", "1", "--timeout", "0.5", "--quiet"], capsys)
    assert code == 2 and "time limit" in err and secs < 5


def _cli(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "numerics.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def test_a_closed_pipe_is_quiet():
    p = _cli("check", "shared-hidden-unit", "--quiet")
    first = p.stdout.readline()
    p.stdout.close()  # like `| head -1`
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert first.startswith(b"model") and "Traceback" not in err and "BrokenPipe" not in err


def test_ctrl_c_stops_check_all_within_seconds():
    import signal

    p = _cli("check", "--all", "--jobs", "2",
             preexec_fn=lambda: (signal.signal(signal.SIGINT, signal.SIG_DFL), os.setpgrp()))
    line = b""
    while b"[0/" not in line:  # the workers have their entries (the longest first, so the first
        line = p.stderr.readline()  # one to finish comes late): let them work, then interrupt
        assert line, "check --all ended before its first target"
    time.sleep(2)
    assert p.poll() is None, "check --all ended before the interrupt"
    os.killpg(p.pid, signal.SIGINT)
    t0 = time.perf_counter()
    p.wait(timeout=30)
    assert p.returncode == 130 and time.perf_counter() - t0 < 5
    assert "Traceback" not in p.stderr.read().decode()


def test_a_parameter_named_like_the_engines_dual_variable_is_checked_in_the_users_names(tmp_path, capsys):
    """mu is the engine's dual variable; a parameter of that name is renamed in and out."""
    path = _spec(tmp_path, "named", params='["mu", "v"]', map_='["mu**2 - v**2"]',
                 init='{mu = "alpha", v = "alpha"}')
    code, out, err, _ = _run(["check", path, "--json", "--no-regimes"], capsys)
    assert code == 0, err
    rec = json.loads(out)
    assert any(r["claim"] == "law mu*v" and r["symbolic"] == "proved" for r in rec["verdicts"])
