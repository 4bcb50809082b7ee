"""Spec files: exact parsing, equality with the catalog, round trips, and refusals that name
the problem (negative controls: typo'd keys, unknown symbols, ...)."""
from __future__ import annotations

import json
import re

import pytest
import sympy as sp

from theory import TIME
from theory.catalog import CATALOG, FLOWS
from theory.errors import IbcheckError, InvalidParameterization
from theory.spec import SpecError, dump_spec, load_spec, parse_expression

QUADRATIC = """
name = "diagonal-quadratic"
source = "Woodworth et al. 2020, Sec. 4"
params = ["u", "v"]
constants = {alpha = "positive"}
map = ["u**2 - v**2"]
init = {u = "alpha", v = "alpha"}
separable = 3
"""

SHARED = """
name = "shared-hidden-unit"
params = {a = "real", b = "real", c = "real"}
map = ["a*c", "b*c"]
init = {a = 1, b = 2, c = "1"}
"""


def test_catalog_like_spec_equals_catalog():
    p = load_spec(QUADRATIC)
    q = CATALOG["diagonal-quadratic"].parameterization()
    assert p.params == q.params and p.outputs == q.outputs and p.init == q.init
    assert p.constants == q.constants and p.coordinate == q.coordinate and p.metric is None
    s = load_spec(SHARED)
    r = CATALOG["shared-hidden-unit"].parameterization()
    assert s.params == r.params and s.outputs == r.outputs and s.init == r.init
    # negative control: a different exponent gives different outputs
    assert load_spec(QUADRATIC.replace("u**2", "u**3")).outputs != q.outputs


def test_json_equals_toml_and_caret_is_power():
    data = {"name": "diagonal-quadratic", "source": "Woodworth et al. 2020, Sec. 4",
            "params": ["u", "v"], "constants": {"alpha": "positive"}, "map": ["u^2 - v^2"],
            "init": {"u": "alpha", "v": "alpha"}, "separable": 3}
    assert load_spec(json.dumps(data)) == load_spec(QUADRATIC)


def test_domains():
    p = load_spec(QUADRATIC.replace('params = ["u", "v"]', 'params = {u = "positive", v = "nonnegative"}'))
    assert p.params[0] == sp.Symbol("u_1", positive=True)
    assert p.params[1] == sp.Symbol("v_1", nonnegative=True)
    assert p.params[0] != sp.Symbol("u_1", real=True)
    with pytest.raises(SpecError, match="domain of 'u' is 'postive'.*did you mean 'positive'"):
        load_spec(QUADRATIC.replace('params = ["u", "v"]', 'params = {u = "postive", v = "real"}'))


@pytest.mark.parametrize("text, expected", [
    ('init = {u = 0.1, v = "0.1"}', (sp.Rational(1, 10), sp.Rational(1, 10))),
    ('init = {u = "1e-3", v = 2.5e-1}', (sp.Rational(1, 1000), sp.Rational(1, 4))),
    ('init = {u = "sqrt(2)/3", v = "0.1*alpha"}', (sp.sqrt(2) / 3, sp.Symbol("alpha", positive=True) / 10)),
])
def test_decimals_are_exact(text, expected):
    p = load_spec(QUADRATIC.replace('init = {u = "alpha", v = "alpha"}', text))
    assert p.coordinate.init == expected
    assert all(not v.has(sp.Float) for v in p.coordinate.init)


def test_decimal_is_not_the_binary_double():
    """Negative control: the double nearest 0.1 is a different rational."""
    p = load_spec(QUADRATIC.replace('init = {u = "alpha", v = "alpha"}', 'init = {u = 0.1, v = 0.1}'))
    assert p.coordinate.init[0] != sp.Rational(0.1)
    assert parse_expression("0.1", {}, "x") == sp.Rational(1, 10)
    assert parse_expression(0.1, {}, "x") == sp.Rational(1, 10)  # Python float: its decimal repr


def test_rates_regularizer_schedule():
    text = QUADRATIC + 'rates = {u = "1", v = "2"}\nregularizer = "u**2 + v**2"\nschedule = "1/(1+t)"\n'
    p = load_spec(text)
    assert p.metric == sp.ImmutableMatrix(sp.diag(1, 2, 1, 2, 1, 2))
    u1, v1 = p.params[:2]
    assert sp.expand(p.regularizer - sum(s**2 for s in p.params)) == 0
    assert p.schedule == 1 / (1 + TIME) and p.schedule.free_symbols == {TIME}
    q = load_spec(SHARED + 'rates = {a = "1/2", b = 1, c = 1}\n')
    assert q.metric == sp.ImmutableMatrix(sp.diag(sp.Rational(1, 2), 1, 1))
    m = load_spec(SHARED + 'metric = [["2", "a", 0], ["a", "2", 0], [0, 0, "1"]]\n')
    assert m.metric[0, 1] == m.params[0]


def test_round_trip_catalog():
    for name, entry in FLOWS.items():
        p = entry.parameterization()
        if p.blocks:
            with pytest.raises(SpecError, match="matrix blocks"):
                dump_spec(p)
            continue
        text = dump_spec(p)
        assert load_spec(text) == p, name


def test_round_trip_metric_regularizer_schedule():
    text = QUADRATIC + 'rates = {u = "1", v = "2"}\nregularizer = "u**2 + v**2"\nschedule = "1/(1+t)"\n'
    p = load_spec(text)
    assert load_spec(dump_spec(p)) == p
    m = load_spec(SHARED + 'metric = [["2", "a", 0], ["a", "2", 0], [0, 0, "1"]]\nregularizer = "a**2"\n'
                  'constants = {lam = "positive"}\nschedule = "lam*exp(-t)"\n')
    assert load_spec(dump_spec(m)) == m
    # negative control: an edited dump is a different model
    assert load_spec(dump_spec(m).replace('"a*c"', '"a*c + 1"')) != m


def test_dump_refuses_inexpressible_symbols():
    from theory.parameterization import Parameterization
    x = sp.Symbol("x")  # no domain at all
    with pytest.raises(SpecError, match="'x'"):
        dump_spec(Parameterization("p", (x,), (x**2,), (1,)))


def test_files(tmp_path):
    (tmp_path / "m.toml").write_text(QUADRATIC)
    data = {"name": "m", "params": ["a", "b", "c"], "map": ["a*c", "b*c"], "init": {"a": 1, "b": 2, "c": 1}}
    (tmp_path / "m.json").write_text(json.dumps(data, indent=1))
    (tmp_path / "m.spec").write_text(json.dumps(data))
    assert load_spec(tmp_path / "m.toml") == load_spec(QUADRATIC)
    assert load_spec(str(tmp_path / "m.json")).outputs == load_spec(SHARED).outputs
    assert load_spec(tmp_path / "m.spec") == load_spec(tmp_path / "m.json")
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "missing.toml")


# ---- refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize("edit, message", [
    (('init =', 'intit ='), r"unknown key 'intit' \(did you mean 'init'\?\)"),
    (('map = ["u**2 - v**2"]', 'map = ["u**2 - z"]'), "map uses unknown symbol 'z'"),
    (('init = {u = "alpha", v = "alpha"}', 'init = {u = "alpha", v = "alpha", w = 1}'),
     "init given for unknown parameter 'w'"),
    (('init = {u = "alpha", v = "alpha"}', 'init = {u = "alpha"}'), "missing init for parameter 'v'"),
    (('init = {u = "alpha", v = "alpha"}', 'init = {u = "alpha", v = "u"}'), "init of v uses unknown symbol 'u'"),
    (('map = ["u**2 - v**2"]\n', ''), "missing key 'map'"),
    (('separable = 3', 'separable = 0'), "'separable' must be a positive integer"),
    (('separable = 3', 'separable = true'), "'separable' must be a positive integer"),
    (('map = ["u**2 - v**2"]', 'map = ["u**2", "v**2"]'), "exactly one map entry"),
    (('map = ["u**2 - v**2"]', 'map = ["u.__class__"]'), "operator '.' is not allowed"),
    (('map = ["u**2 - v**2"]', 'map = ["__import__(1)"]'), "unknown symbol '__import__'"),
    (('map = ["u**2 - v**2"]', 'map = ["u**2 - v**2 + 2j"]'), "complex number"),
    (('map = ["u**2 - v**2"]', 'map = ["u*"]'), "cannot parse 'u\\*'"),
    (('map = ["u**2 - v**2"]', 'map = ["1/(u-u)"]'), "not finite"),
    (('params = ["u", "v"]', 'params = ["u", "lambda"]'), "'lambda' is not a valid symbol name"),
    (('params = ["u", "v"]', 'params = ["u", "alpha"]'), "'alpha' is declared both"),
])
def test_rejected_with_named_problem(edit, message):
    good = load_spec(QUADRATIC)  # the unedited spec loads (the control for every case below)
    assert good.name == "diagonal-quadratic"
    bad = QUADRATIC.replace(*edit)
    assert bad != QUADRATIC
    with pytest.raises(InvalidParameterization, match=message):
        load_spec(bad)


def test_schedule_needs_regularizer():
    with pytest.raises(SpecError, match="'schedule' was given but no 'regularizer'"):
        load_spec(QUADRATIC + 'schedule = "1/(1+t)"\n')
    with pytest.raises(SpecError, match="schedule uses unknown symbol 'u'"):
        load_spec(QUADRATIC + 'regularizer = "u**2"\nschedule = "u*t"\n')


def test_syntax_errors_carry_position(tmp_path):
    with pytest.raises(SpecError, match=r"invalid TOML: .*line 3, column"):
        load_spec('name = "x"\nparams = ["u"]\nmap = ["u" "v"]\ninit = {u = 1}')
    with pytest.raises(SpecError, match=r"invalid JSON: .*line 2, column"):
        load_spec('{"name": "x",\n "params": ["u"] "map": ["u"]}')
    with pytest.raises(SpecError, match="top level must be an object"):
        (tmp_path / "list.json").write_text("[1, 2]")
        load_spec(tmp_path / "list.json")
    assert issubclass(SpecError, IbcheckError)


def test_rates_must_cover_every_parameter():
    with pytest.raises(SpecError, match="missing rates for parameter 'v'"):
        load_spec(QUADRATIC + 'rates = {u = "1"}\n')
    with pytest.raises(SpecError, match="either 'rates'"):
        load_spec(SHARED + 'rates = {a = 1, b = 1, c = 1}\nmetric = [[1,0,0],[0,1,0],[0,0,1]]\n')


def test_documented_examples_load():
    """The examples in docs/spec-format.md are valid specs and say what the text claims."""
    import re
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[1] / "docs" / "spec-format.md").read_text()
    blocks = re.findall(r"```(toml|json)\n(.*?)```", doc, re.S)
    assert len(blocks) == 3
    specs = {p.name: p for p in (load_spec(b) for _, b in blocks)}
    from dataclasses import replace
    q = specs["diagonal-quadratic"]
    cat = CATALOG["diagonal-quadratic"].parameterization()
    assert replace(cat, source=q.source, description=q.description) == q  # the doc's claim
    wd = specs["uv-weight-decay"]
    assert wd.init == (sp.Rational(1, 10),) * 4 and wd.metric == sp.ImmutableMatrix(sp.diag(1, 2, 1, 2))
    assert specs["shared-hidden-unit"].metric[2, 2] == sp.Rational(1, 2)


# ---- spec files are data, never code ----------------------------------------------------------
HOSTILE_FIELDS = [
    ("u.__class__", "operator '.' is not allowed"),
    ("__import__('os').system('true')", "unknown symbol '__import__'"),
    ("(lambda: u)()", "unknown symbol 'lambda'"),
    ("'u'", "unexpected"),
    ("eval('u')", "unknown symbol 'eval'"),
    ("u if v else 1", "unknown symbol 'if'"),
    ("u[0]", "operator '['"),
    ("u == v", "operator '=='"),
    ("2j*u", "complex number"),
    ("sqrt(-1)*u", "complex number"),
    ("u**9**9**9", "astronomically large"),
    ("(u+v)**100000", "exponent is 100000"),
    ("1e999999999*u", "out of range"),
    ("(u+v+u*v+1+u**2+v**2)**8", "number of terms"),
    ("2**9**9**9", "astronomically large"),
    ("exec('1')", "unknown symbol 'exec'"),
]


@pytest.mark.parametrize("text, message", HOSTILE_FIELDS)
def test_a_spec_string_cannot_run_code_or_hang(text, message):
    import time

    for field in ("map", "init"):
        if field == "init" and any(c in text for c in "uv"):
            continue  # init may use constants only: a symbol there is refused before anything else
        spec = ('name = "h"\nparams = ["u", "v"]\n' +
                (f'map = [{json.dumps(text)}]\ninit = {{u = 1, v = 2}}\n' if field == "map" else
                 f'map = ["u*v"]\ninit = {{u = {json.dumps(text)}, v = 2}}\n'))
        t0 = time.perf_counter()
        with pytest.raises(InvalidParameterization, match=re.escape(message)):
            load_spec(spec)
        assert time.perf_counter() - t0 < 1.0


def test_a_benign_twin_of_each_refusal_is_accepted():
    """Negative control: the limits refuse only what exceeds them."""
    p = load_spec('name = "ok"\nparams = ["u", "v"]\nmap = ["(u+v)**3 + exp(u) - sqrt(v**2 + 1)", '
                  '"u**(1/2)*v"]\ninit = {u = "1e2", v = "2"}\n')
    assert p.init[0] == 100 and p.n_outputs == 2


@pytest.mark.parametrize("name", ["t", "w_1", "mu_2", "_x", "T_mu"])
def test_internal_names_are_reserved(name):
    with pytest.raises(SpecError, match="reserved"):
        load_spec(f'name = "r"\nparams = ["{name}", "v"]\nmap = ["{name}*v"]\ninit = {{{name} = 1, v = 2}}\n')
    with pytest.raises(SpecError, match="reserved"):
        load_spec(f'name = "r"\nparams = ["u", "v"]\nconstants = {{{name} = "positive"}}\nmap = ["u*v"]\n'
                  f'init = {{u = 1, v = 2}}\n')


@pytest.mark.parametrize("name", ["w", "mu"])
def test_parameters_named_like_the_engines_symbols_are_derived_in_the_users_names(name):
    from theory import derive
    p = load_spec(f'name = "r"\nparams = ["{name}", "v"]\nmap = ["{name}*v"]\ninit = {{{name} = 1, v = 2}}\n')
    d = derive(p, use_cache=False)
    x, v = p.params
    laws = [h.expr for h, pr in d.laws if pr.proved]
    assert len(laws) == 1 and sp.expand(laws[0] ** 2 - (x**2 - v**2) ** 2) == 0


def test_binary_and_non_utf8_files_are_clean_errors(tmp_path):
    b = tmp_path / "b.toml"
    b.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(SpecError, match="binary file"):
        load_spec(b)
    c = tmp_path / "c.toml"
    c.write_bytes(b'name = "\xe9"\n')
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(c)


def test_limits_are_a_context():
    from theory import bounds

    text = 'name = "d"\nparams = ["u", "v"]\nmap = ["(u-v)**30"]\ninit = {u = 1, v = 0}\n'
    with pytest.raises(bounds.LimitExceeded, match="--max-degree"):
        load_spec(text)
    with bounds.using(max_degree=40):
        assert load_spec(text).n_outputs == 1
    with pytest.raises(bounds.LimitExceeded):
        load_spec(text)  # back to the default outside the block
