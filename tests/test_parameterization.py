"""Parameterization input: construction, replication, matrix blocks, and refusals of bad input."""
import pytest
import sympy as sp

from theory import (Coordinate, InvalidParameterization, Parameterization, from_matrices, matrix_symbols,
                    separable)
from theory.catalog import CATALOG, FLOWS

u, v, z = sp.symbols("u v z", real=True)
alpha = sp.Symbol("alpha", positive=True)


def test_separable_replicates_template_with_indexed_symbols():
    p = separable(Coordinate((u, v), u**2 - v**2, (alpha, alpha)), 4, "q", constants=(alpha,))
    assert p.dim == 8 and p.n_outputs == 4
    assert str(p.outputs[2]) == "u_3**2 - v_3**2"
    assert p.init == (alpha,) * 8
    assert p.coordinate is not None and p.is_separable


def test_rates_become_a_diagonal_metric_and_enter_the_fields():
    p = separable(Coordinate((u, v), u**2 - v**2, (1, 1), rates=(1, 3)), 2, "rates")
    assert p.metric == sp.ImmutableMatrix(sp.diag(1, 3, 1, 3))
    f0 = p.fields()[0]
    assert list(f0) == [2 * p.params[0], -6 * p.params[1], 0, 0]


def test_matrix_parameters_are_flattened_row_major():
    A = matrix_symbols("A", 2, 1)
    B = matrix_symbols("B", 1, 2)
    p = from_matrices("ba", [("A", A), ("B", B)], B * A, [sp.Matrix([[1], [2]]), sp.Matrix([[3, 4]])])
    assert p.n_outputs == 1 and p.dim == 4
    assert p.init == (1, 2, 3, 4)
    assert [b.shape for b in p.blocks] == [(2, 1), (1, 2)]


def test_substitute_replaces_constants_everywhere():
    p = CATALOG["diagonal-quadratic"].parameterization().substitute({"alpha": sp.Rational(1, 3)})
    assert p.constants == () and set(p.init) == {sp.Rational(1, 3)}
    with pytest.raises(InvalidParameterization, match="no constant named beta"):
        p.substitute({"beta": 1})


def test_fingerprint_tracks_mathematical_content():
    a = CATALOG["diagonal-quadratic"].parameterization()
    b = CATALOG["diagonal-quadratic"].parameterization()
    c = CATALOG["diagonal-depth3"].parameterization()
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


@pytest.mark.parametrize("kwargs, message", [
    (dict(outputs=(u * z,)), "unknown symbol"),
    (dict(init=(1,)), "2 parameters but 1 initial values"),
    (dict(init=(1, alpha)), "init may only use the constants"),
    (dict(metric=sp.eye(3)), "metric has shape"),
    (dict(schedule=sp.Symbol("t")), "schedule was given but no regularizer"),
    (dict(params=(u, u)), "repeated"),
])
def test_bad_input_is_refused_with_a_message_naming_the_problem(kwargs, message):
    base = dict(name="bad", params=(u, v), outputs=(u * v,), init=(1, 1))
    with pytest.raises(InvalidParameterization, match=message):
        Parameterization(**{**base, **kwargs})


def test_init_outside_the_domain_is_refused():
    r = sp.Symbol("r", positive=True)
    with pytest.raises(InvalidParameterization, match="outside the domain of r"):
        Parameterization("wn", (r,), (r**2,), (-1,))


def test_singular_initialization_is_refused():
    with pytest.raises(InvalidParameterization, match="singular point"):
        Parameterization("inv", (u, v), (1 / u + v,), (0, 1))


def test_every_catalog_entry_builds_and_cites_a_source():
    for name, e in FLOWS.items():
        p = e.parameterization()
        assert p.source, name
        assert p.name == name or name.startswith(p.name.split("-")[0]), name
