"""The public hypothesis strategies and the pytest plugin users run in their own CI."""
import pytest
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
        from hypothesis import given, settings, strategies as st
        from numerics import strategies as ibst
        CALLS = {"ib": 0}

        def test_dps(ibcheck_dps, ibcheck_profile):
            print("DPS", ibcheck_dps, "PROFILE", ibcheck_profile)

        @given(ibst.scales())
        def test_property(alpha):
            CALLS["ib"] += 1
            assert alpha > 0

        def test_zz_report():
            print("IBCHECK_EXAMPLES", CALLS["ib"])
    """)
    return pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", *args)


def test_plugin_options_reach_fixtures_and_hypothesis_profile(pytester):
    res = _run_user_suite(pytester, "--ibcheck-dps", "50", "--ibcheck-profile", "deep")
    res.assert_outcomes(passed=3)
    res.stdout.fnmatch_lines(["*DPS 50 PROFILE deep*"])
    n = int(next(l for l in res.stdout.lines if "IBCHECK_EXAMPLES" in l).split()[-1])
    assert n > 6  # the deep profile ran many more examples than quick's 6 (20 distinct scales exist)


def test_plugin_defaults_to_the_quick_profile(pytester):
    res = _run_user_suite(pytester)
    res.assert_outcomes(passed=3)
    res.stdout.fnmatch_lines(["*DPS 30 PROFILE quick*", "*IBCHECK_EXAMPLES 6*"])


@pytest.mark.parametrize("dps", ["8", "0"])
def test_plugin_refuses_a_precision_too_low(pytester, dps):
    """0 included: an explicit 0 is refused, not replaced by the default."""
    res = _run_user_suite(pytester, "--ibcheck-dps", dps)
    assert res.ret != 0
    res.stderr.fnmatch_lines([f"*--ibcheck-dps {dps} is too low*"])


def test_plugin_step_budget_reaches_its_fixture_and_is_checked(pytester, monkeypatch):
    pytester.makepyfile(test_budget="""
        def test_budget(ibcheck_max_steps):
            print("BUDGET", ibcheck_max_steps)
    """)
    res = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", "--ibcheck-max-steps", "123")
    res.assert_outcomes(passed=1)
    res.stdout.fnmatch_lines(["*max_steps=123*", "*BUDGET 123*"])
    monkeypatch.setenv("IBCHECK_MAX_STEPS", "77")
    pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider").stdout.fnmatch_lines(["*BUDGET 77*"])
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ibcheck-max-steps", "0")
    assert res.ret != 0
    res.stderr.fnmatch_lines(["*at least 1*"])


def test_plugin_leaves_a_users_other_hypothesis_tests_alone(pytester):
    """A user's own property test (no ibcheck fixture, marker or strategy) keeps hypothesis's
    defaults: 100 random examples, and settings it states itself are kept."""
    pytester.makepyfile(test_other="""
        from hypothesis import given, settings, strategies as st
        CALLS = {"plain": 0, "mine": 0}

        @given(st.integers())
        def test_plain(x):
            CALLS["plain"] += 1

        @settings(max_examples=13)
        @given(st.integers())
        def test_mine(x):
            CALLS["mine"] += 1

        def test_zz_report():
            print("COUNTS", CALLS["plain"], CALLS["mine"], settings.default.derandomize)
    """)
    # the baseline is hypothesis itself without the plugin (on CI, CI=true, hypothesis's own
    # default profile differs: derandomized), and the plugin must change nothing of it
    base = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", "-p", "no:ibcheck")
    base.assert_outcomes(passed=3)
    line = next(s for s in base.outlines if "COUNTS" in s)
    expected = line[line.index("COUNTS"):].split()
    assert expected[1:3] == ["100", "13"]
    res = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    res.assert_outcomes(passed=3)
    res.stdout.fnmatch_lines([f"*{' '.join(expected)}*"])


def test_marked_test_gets_the_profile_but_keeps_its_own_settings(pytester):
    pytester.makepyfile(test_marked="""
        import pytest
        from hypothesis import given, settings, strategies as st
        CALLS = {"a": 0, "b": 0}

        @pytest.mark.ibcheck
        @given(st.integers())
        def test_a(x):
            CALLS["a"] += 1

        @pytest.mark.ibcheck
        @settings(max_examples=3)
        @given(st.integers())
        def test_b(x):
            CALLS["b"] += 1

        def test_zz_report():
            print("COUNTS", CALLS["a"], CALLS["b"])
    """)
    res = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    res.assert_outcomes(passed=3)
    res.stdout.fnmatch_lines(["*COUNTS 6 3*"])


def test_a_failing_property_reports_without_shrinking_in_the_quick_profile(pytester):
    """No shrinking in the quick profile: a failing property stops at its first counterexample
    (found, then replayed once for the report) instead of running the property again and again
    while shrinking. Counted in calls, not seconds, so load cannot flip it; the control is the
    same property with shrinking switched back on, which calls it many more times."""
    pytester.makepyfile(test_fail="""
        from hypothesis import Phase, given, settings
        from numerics import strategies as ibst

        def _count(name):
            with open(name, "a") as f:
                f.write("x")

        @given(ibst.least_squares(n=4))
        def test_wrong(data):
            _count("calls_quick")
            X, y = data
            assert len(X) < 2  # a wrong claim: fails on most examples (m >= 2 rows)

        @settings(phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink))
        @given(ibst.least_squares(n=4))
        def test_wrong_shrinking(data):
            _count("calls_shrink")
            X, y = data
            assert len(X) < 2
    """)
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    res.assert_outcomes(failed=2)
    assert "test_wrong(" in res.stdout.str()  # the counterexample is reported
    quick = len((pytester.path / "calls_quick").read_text())
    shrink = len((pytester.path / "calls_shrink").read_text())
    assert quick <= 3, quick
    assert shrink > 3 * quick, (quick, shrink)


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    from importlib.metadata import entry_points
    eps = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert eps.get("ibcheck") == "numerics.plugin", "install ibcheck (pip install .) to register its plugin"
