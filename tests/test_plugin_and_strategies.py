"""The public hypothesis strategies and the pytest plugin users run in their own CI."""
import sympy as sp
from hypothesis import given

from numerics import strategies as ibst
from theory.catalog import CATALOG


@given(ibst.least_squares(n=4))
def test_least_squares_draws_exact_underdetermined_full_rank_data(data):
    X, y = data
    m, n = len(X), len(X[0])
    assert m < n and len(y) == m
    assert sp.Matrix(X).rank() == m
    assert all(isinstance(a, sp.Rational) for row in X for a in row)
    assert any(b != 0 for b in y)


@given(ibst.scales(), ibst.shapes())
def test_scales_and_shapes_are_exact_and_in_range(alpha, s):
    assert alpha.is_Rational and sp.Rational(1, 10) <= alpha <= 2
    assert s.is_Rational and abs(s) < 1


@given(ibst.catalog_names(mirror=True).flatmap(lambda n: ibst.catalog_values(n).map(lambda v: (n, v))))
def test_catalog_values_cover_every_constant(pair):
    name, values = pair
    p = CATALOG[name].parameterization()
    assert set(values) == {c.name for c in p.constants}


def _run_user_suite(pytester, *args):
    pytester.makepyfile(test_user="""
        from hypothesis import given, settings
        from numerics import strategies as ibst

        def test_dps(ibcheck_dps, ibcheck_profile):
            print("DPS", ibcheck_dps, "PROFILE", ibcheck_profile, "EXAMPLES", settings().max_examples)

        @given(ibst.scales())
        def test_property(alpha):
            assert alpha > 0
    """)
    return pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", *args)


def test_plugin_options_reach_fixtures_and_hypothesis_profile(pytester):
    res = _run_user_suite(pytester, "--ibcheck-dps", "50", "--ibcheck-profile", "deep")
    res.assert_outcomes(passed=2)
    res.stdout.fnmatch_lines(["*DPS 50 PROFILE deep EXAMPLES 200*"])


def test_plugin_defaults_to_the_quick_profile(pytester):
    res = _run_user_suite(pytester)
    res.assert_outcomes(passed=2)
    res.stdout.fnmatch_lines(["*DPS 30 PROFILE quick EXAMPLES 6*"])


def test_plugin_refuses_a_precision_too_low(pytester):
    res = _run_user_suite(pytester, "--ibcheck-dps", "8")
    assert res.ret != 0
    res.stderr.fnmatch_lines(["*too low*"])


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    from importlib.metadata import entry_points
    eps = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert eps.get("ibcheck") == "numerics.plugin", "install ibcheck (pip install .) to register its plugin"
