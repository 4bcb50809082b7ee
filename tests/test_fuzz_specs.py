"""Fuzz: generated spec files (valid, near-valid, hostile) and command lines.

Every run must end in a result or a clean error (an :class:`~theory.errors.IbcheckError`, exit
2 with one line), within a time bound, never a traceback or an "internal error" (exit 70).
Counts are collected in ``STATS`` and printed by the last test (``pytest -s``), the figures
the README quotes. ``IBCHECK_PROFILE=deep`` multiplies the number of inputs by ten.
"""
from __future__ import annotations

import json
import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numerics.cli import main
from theory.errors import IbcheckError
from theory.parameterization import Parameterization
from theory.spec import load_spec

DEEP = os.environ.get("IBCHECK_PROFILE") == "deep"
STATS = {"inputs": 0, "results": 0, "clean errors": 0, "tracebacks": 0, "slowest seconds": 0.0}
BOUND = 20.0  # seconds for any single input (a derivation, a check at 15 digits)


def _settings(n: int):
    return settings(max_examples=n * (10 if DEEP else 1), deadline=None, derandomize=not DEEP,
                    suppress_health_check=list(HealthCheck))


def _count(ok: bool, seconds: float) -> None:
    STATS["inputs"] += 1
    STATS["results" if ok else "clean errors"] += 1
    STATS["slowest seconds"] = max(STATS["slowest seconds"], round(seconds, 2))


# ---- generators ---------------------------------------------------------------------------------
PARAMS = ["u", "v", "a", "b"]
FUNCS = ["exp", "sqrt", "log", "sin", "cos", "tanh", "asinh", "Abs", "sign"]


def expressions(names):
    atoms = st.one_of(st.sampled_from(names), st.sampled_from(["1", "2", "1/2", "3/4", "alpha"]))

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, st.integers(-3, 5)).map(lambda t: f"{t[0]}**{t[1]}"),
            st.tuples(st.sampled_from(FUNCS), inner).map(lambda t: f"{t[0]}({t[1]})"))
    return st.recursive(atoms, extend, max_leaves=6)


HOSTILE = [
    "__import__('os').system('echo pwned')", "u.__class__.__mro__", "(lambda: u)()", "'u'", "u if v else 1",
    "u**9**9**9", "(u+v)**100000", "2**2**2**2**2**2", "1e999999999", "9" * 500, "sqrt(-1)*u", "log(-2)*u",
    "u\x00v", "u;v", "u,v", "[u]", "{u}", "u @ v", "u == v", "u < v", "not u", "u and v", "u[0]",
    "(" * 300 + "u" + ")" * 300, "-" * 5000 + "u", "sin(" * 200 + "u" + ")" * 200, "u" * 30000,
    "exec('1')", "eval('1')", "open('/etc/passwd')", "globals()", "Symbol('x')", "S(1)", "I*u", "oo*u",
    "zoo", "nan", "E**u", "pi*u", "Integer(3)", "Float('nan')", "Rational(1, 0)", "u/0", "1/(u-u)",
    "u**(1/0)", "0**-1", "\u00fc*u", "u\u200b", "\\u", "u # comment", "u\nv", "`u`", "$u", "u!",
    "Piecewise((u, u > 0))", "floor(u)", "Max(u, v)", "Min(u, 1)", "abs(u)*v", "u**v", "u**u**u",
    "exp(exp(exp(exp(u))))", "(u+v+a+b)**24", "(u+v+a+b)**12", "1/(u**2 + 1)", "sqrt(u**2 + v**2)",
]


def _with_param(expr: str, names) -> str:
    """Most maps should involve a parameter (a constant map is refused, tested elsewhere)."""
    return expr if any(n in expr for n in names) else f"{names[0]}*({expr})"


@st.composite
def spec_tables(draw):
    """A spec as a Python dict: valid, then (mostly) damaged."""
    k = draw(st.integers(1, 3))
    names = PARAMS[:k]
    params = names if draw(st.booleans()) else {n: draw(st.sampled_from(
        ["real", "positive", "nonzero", "nonnegative"])) for n in names}
    n_out = draw(st.integers(1, 2))
    spec = {"name": draw(st.sampled_from(["m", "my model", "x" * 50])), "params": params,
            "constants": {"alpha": "positive"},
            "map": [_with_param(draw(expressions(names)), names) for _ in range(n_out)],
            "init": {n: draw(st.sampled_from(["alpha", "1", "1/2", "-1", "0", "2*alpha"])) for n in names}}
    if draw(st.booleans()):
        spec["separable"] = draw(st.integers(1, 3))
        spec["map"] = spec["map"][:1]
    if draw(st.integers(0, 4)) == 0:
        spec["rates"] = {n: draw(st.sampled_from(["1", "2", "1/2", "0", "-1", "alpha"])) for n in names}
    damage = draw(st.integers(0, 14))  # about half stay intact
    if damage == 1:  # near-valid: a typo in a key
        key = draw(st.sampled_from(sorted(spec)))
        spec[key + "x"] = spec.pop(key)
    elif damage == 2:  # a wrong type
        key = draw(st.sampled_from(sorted(spec)))
        spec[key] = draw(st.sampled_from([3, [], {}, True, "", None, 1.5, [[1]]]))
    elif damage == 3:  # a hostile string where an expression belongs
        spec["map"] = [draw(st.sampled_from(HOSTILE))]
    elif damage == 4:
        spec["init"] = {n: draw(st.sampled_from(HOSTILE)) for n in names}
    elif damage == 5:
        spec["params"] = draw(st.sampled_from([["t", "v"], ["mu"], ["w_1"], ["sqrt"], ["u", "u"], ["1u"],
                                               ["_x"], ["lambda"], {"u": "complex"}, {"u": "positiv"}]))
    elif damage == 6:
        spec["separable"] = draw(st.sampled_from([0, -1, 10**9, 40, "3", 2.5]))
    elif damage == 7:
        spec["metric"] = [[draw(st.sampled_from(["1", "u", "-1", "0", "2"])) for _ in names] for _ in names]
    return spec


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return '""'


def spec_text(spec: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({k: v for k, v in spec.items() if v is not None})
    return "\n".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in spec.items() if v is not None) + "\n"


raw_texts = st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                      st.sampled_from(["", "{", "[", "name = ", "{}", "[]", "name = 1\nparams = 2",
                                       '{"name": "m", "params": ["u"], "map": ["u"], "init": {"u": 1e999}}']))


# ---- the parser: every text is a model or an IbcheckError, fast --------------------------------------
@_settings(150)
@given(spec=spec_tables(), fmt=st.sampled_from(["toml", "json"]))
def test_fuzz_generated_specs_parse_or_refuse_cleanly(spec, fmt):
    text = spec_text(spec, fmt)
    t0 = time.perf_counter()
    try:
        p = load_spec(text if text.strip() else "name = ''")
        ok = True
        assert isinstance(p, Parameterization)
    except IbcheckError as e:
        ok = False
        assert str(e) and "\n" not in str(e).strip()
    except Exception as e:  # pragma: no cover - a finding
        STATS["tracebacks"] += 1
        raise AssertionError(f"{type(e).__name__} on {text!r}") from e
    secs = time.perf_counter() - t0
    _count(ok, secs)
    assert secs < BOUND, text


@_settings(100)
@given(text=raw_texts)
def test_fuzz_arbitrary_text_is_a_clean_error(text):
    t0 = time.perf_counter()
    try:
        load_spec(("name = 'x'\n" if "\n" not in text and "=" not in text and not text.startswith("{") else "")
                  + text)
        ok = True
    except IbcheckError:
        ok = False
    except Exception as e:  # pragma: no cover - a finding
        STATS["tracebacks"] += 1
        raise AssertionError(f"{type(e).__name__} on {text!r}") from e
    _count(ok, time.perf_counter() - t0)


# ---- the command line, in process ------------------------------------------------------------------
def _main(argv, capsys):
    t0 = time.perf_counter()
    try:
        code = main(argv)
    except SystemExit as e:  # pragma: no cover - main returns, never exits
        code = e.code
    out, err = capsys.readouterr()
    secs = time.perf_counter() - t0
    if code == 70 or "Traceback" in err:
        STATS["tracebacks"] += 1
    assert code != 70 and "Traceback" not in err, (argv, err)
    assert code in (0, 1, 2, 3, 130), (argv, code, err)
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err
        assert not out.startswith("model "), "a table header before the error"
    _count(code in (0, 1, 3), secs)
    assert secs < BOUND + 5, (argv, secs)
    return code, out, err


@_settings(12)
@given(spec=spec_tables(), cmd=st.sampled_from(["derive", "check", "verify"]))
def test_fuzz_generated_specs_through_the_command_line(spec, cmd, tmp_path_factory, capsys):
    path = tmp_path_factory.mktemp("fuzz") / "model.toml"
    path.write_text(spec_text(spec, "toml"))
    argv = {"derive": ["derive", str(path), "--json"],
            "check": ["check", str(path), "--dps", "15", "--no-regimes", "--quiet"],
            "verify": ["verify", str(path), "--law", "u*v"]}[cmd]
    _main(argv + ["--timeout", str(BOUND)], capsys)


WORDS = st.sampled_from(
    ["list", "derive", "check", "verify", "reproduce", "--json", "--all", "--dps", "--seed", "--set",
     "--jobs", "--wide", "--quiet", "--law", "--potential", "--gradient", "--limit", "--factor", "--point",
     "--max-degree", "--max-dps", "--latex", "--backend", "--version", "-h", "diagonal-quadratic",
     "shared-hidden-unit", "no-such-model", "/nonexistent.toml", "/dev/null", "alpha=1/2", "alpha=-1",
     "beta=1", "alpha", "0", "-3", "15", "10", "10000000", "abc", "u*v", "u.__class__", "w**2/16",
     "oo", "1/log(1/alpha)", "Abs(w)", "mpmath", "fast", "", " ", "\x00", "--", "-"])


@_settings(40)
@given(argv=st.lists(WORDS, min_size=0, max_size=6))
def test_fuzz_command_lines(argv, capsys):
    if "check" in argv:  # keep every run short: no sweeps, the fewest digits, a time bound
        argv = argv + ["--no-regimes", "--timeout", str(BOUND)] if argv[0] == "check" else argv
        if "--all" in argv and argv[0] == "check":
            argv = [a for a in argv if a != "--all"]
    if argv[:1] == ["reproduce"]:
        argv = ["reproduce", "--list"]
    _main(argv, capsys)


def test_zz_fuzz_figures():
    """Report the figures (run with -s to see them); no traceback anywhere."""
    print("\nFUZZ", json.dumps(STATS))
    assert STATS["tracebacks"] == 0
    if STATS["inputs"]:
        assert STATS["clean errors"] > 0 and STATS["results"] > 0  # both kinds were exercised
