"""NumPy training of wide ReLU nets: exact gradients, ASI, the step-size bound, convergence."""
import copy

import numpy as np
import pytest

from numerics.function_space import training as tr

X = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
Y = np.array([1.5, 0.5, 1.5, 0.5, 1.5]) + 27 / 14


def _loss(net):
    return 0.5 * ((tr.forward(net, X) - Y) ** 2).sum() / X.size


def test_asi_network_is_zero_at_initialization():
    net = tr.init_net(64, 3, "gaussian", {"sigma_w": 1.0, "sigma_b": 1.0}, np.random.default_rng(0))
    assert np.abs(tr.forward(net, np.linspace(-3, 3, 11))).max() == 0


@pytest.mark.parametrize("law", ["uniform", "gaussian", "rademacher"])
def test_step_is_gradient_descent_on_every_layer(law):
    """The O(width) step equals -eta * (central finite-difference gradient) on all four layers."""
    params = {"a_w": 1.0, "a_b": 2.0, "sigma_w": 1.0, "sigma_b": 1.0}
    net = tr.init_net(30, 2, law, params, np.random.default_rng(3))
    # move off the ASI point so both copies differ and the residual is generic
    rng = np.random.default_rng(4)
    for a in (net.W1, net.b1, net.W2, net.b2):
        a += 0.1 * rng.standard_normal(a.shape)
    eta = 1e-3
    after = copy.deepcopy(net)
    r = tr._step(after, X, Y, eta)
    assert np.allclose(r, tr.forward(net, X) - Y, atol=1e-12)
    h = 1e-6
    for name in ("W1", "b1", "W2", "b2"):
        arr = getattr(net, name)
        step = (arr - getattr(after, name)) / eta
        for idx in [tuple(rng.integers(0, s) for s in arr.shape) for _ in range(6)]:
            plus, minus = copy.deepcopy(net), copy.deepcopy(net)
            getattr(plus, name)[idx] += h
            getattr(minus, name)[idx] -= h
            fd = (_loss(plus) - _loss(minus)) / (2 * h)
            # the loss sums over seeds, each seed's net being independent
            assert abs(step[idx] - fd) <= 1e-6 * max(1, abs(fd)), (name, idx, step[idx], fd)


def test_step_size_bound_and_beyond():
    """Below 2M/(n lambda_max) the linearized residual map contracts and GD converges; at twice the bound
    it does not converge."""
    net = tr.init_net(500, 1, "uniform", {"a_w": 1.0, "a_b": 2.0}, np.random.default_rng(1))
    lam = np.linalg.eigvalsh(tr.ntk(net, X))[0]
    assert lam[0] > 0 and np.allclose(tr.ntk(net, X)[0], tr.ntk(net, X)[0].T)
    good = tr.train(X, Y, 500, seeds=1, seed=1, step_fraction=0.9, tol=1e-3, max_steps=20000)
    bad = tr.train(X, Y, 500, seeds=1, seed=1, step_fraction=2.0, tol=1e-3, max_steps=20000)
    assert good.converged and not good.diverged
    assert not bad.converged   # diverges or oscillates (never reaches zero loss)
    assert np.isclose(good.eta_bound, 2 * X.size / (500 * lam[-1]))
    assert np.isclose(good.eta_paper * X.size, good.eta_bound)


def test_bad_requests_are_clear_errors():
    with pytest.raises(tr.TrainingError, match="unknown initialization law"):
        tr.train(X, Y, 10, law="cauchy")
    with pytest.raises(tr.TrainingError):
        tr.train(X, Y[:3], 10)


def test_training_reaches_zero_loss_and_approaches_the_limit():
    from numerics.reproduce.widenets import limit_function

    h, xs, ys, *_ = limit_function("uniform")
    r = tr.train(xs, ys, 400, seeds=2, seed=5, tol=1e-6, max_steps=40000)
    assert r.converged and r.final_residual.max() <= 1e-6
    grid = np.linspace(-2, 2, 201)
    err = np.abs(tr.forward(r.net, grid) - h(grid)).max(axis=1)
    assert err.max() < 0.3


@pytest.mark.slow
def test_width_sweep_rate():
    """The reproduction's full sweep: fitted slope -0.4 or steeper on n >= 320 (uniform init)."""
    import tempfile

    from numerics.reproduce import widenets

    with tempfile.TemporaryDirectory() as d:
        rep = widenets.run(d, quick=False)
    assert rep.figures["uniform_slope"] <= -0.4, rep.table
