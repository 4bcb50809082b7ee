"""The weight-normalization reproduction: registry, bad input, certificate, a quick run (slow)."""
import numpy as np
import pytest

from numerics import reproduce
from numerics.errors import IbcheckError
from numerics.reproduce import weightnorm as R
from numerics.reproduce._wn_flows import plain_flow, weightnorm_flow


def test_registered():
    assert "weightnorm" in reproduce.available()


@pytest.mark.parametrize("kw, match", [(dict(alpha=0.0, rho=1.0, L=2), "alpha"),
                                       (dict(alpha=0.1, rho=-1.0, L=2), "rho"),
                                       (dict(alpha=0.1, rho=1.0, L=1), "L")])
def test_bad_input(kw, match):
    A, y, _ = R.problem(6, 3, 1)
    with pytest.raises(IbcheckError, match=match):
        weightnorm_flow(A, y, **kw)
    if kw["alpha"] <= 0:
        with pytest.raises(IbcheckError, match="alpha"):
            plain_flow(A, y, L=2, alpha=0.0)


def test_l1_certificate_and_its_control():
    A, y, xs = R.problem(100, 40, 5)
    tau = R.l1_certificate(A, xs)
    assert tau == pytest.approx(np.sum(np.abs(xs)))
    wrong = xs.copy()
    wrong[np.flatnonzero(xs)[0]] *= -1          # a wrong sign pattern has no certificate
    assert R.l1_certificate(A, wrong) is None


def test_float_flow_reproduces_the_effective_scale_limit():
    A, y, xs = R.problem(12, 6, 2, seed=7)
    res = weightnorm_flow(A, y, L=2, alpha=0.05, rho=2.0)
    assert res.converged and np.linalg.norm(A @ res.x - y) < 1e-9
    assert R.spot_check(A, y, res, 2) < 1e-7
    # control: the plain scale alpha instead of alpha_eff is far off
    from dataclasses import replace
    assert R.spot_check(A, y, replace(res, log_alpha_eff2=2 * np.log(0.05)), 2) > 1e-4


@pytest.mark.slow
def test_quick_run(tmp_path):
    rep = R.run(tmp_path, quick=True)
    assert rep.passed and "WN rho=100" in rep.table and (tmp_path / "table.md").exists()
