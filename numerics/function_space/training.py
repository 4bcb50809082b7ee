r"""Finite-width two-layer ReLU networks trained by full-batch gradient descent (NumPy, float64).

Jin & Montúfar 2023, eqs. (1)-(4) and App. B.2: :math:`f(x) = \sum_i W^{(2)}_i[W^{(1)}_i x + b^{(1)}_i]_+ + b^{(2)}`
in the standard parametrization (:math:`W^{(1)}\sim W`, :math:`b^{(1)}\sim B`,
:math:`W^{(2)}\sim W/\sqrt n`, :math:`b^{(2)}\sim B/\sqrt n`), anti-symmetric initialization
:math:`f_{ASI} = \tfrac{\sqrt2}{2}(f(\cdot,\theta') - f(\cdot,\theta''))`, :math:`\theta'_0 = \theta''_0`
(so :math:`f_{ASI}(\cdot,\theta_0)\equiv0`), all four layers of both copies trained by
:math:`\theta\leftarrow\theta-\eta\nabla L`, :math:`L = \frac1M\sum_j\tfrac12(f(x_j)-y_j)^2`.
Every array carries a leading axis of independent seeds, so a width is one batched run.

Step size. Linearized, :math:`r\leftarrow (I - \tfrac{\eta}{M}JJ^\top)r`, stable iff
:math:`\eta < 2M/(n\lambda_{\max}(\hat\Theta_n))` with :math:`\hat\Theta_n = \tfrac1n JJ^\top`
(:func:`ntk`). The paper's Thm 10 writes :math:`\eta < 2/(n\lambda_{\max})` for its normalisation;
with ours that is the same bound divided by :math:`M`, so a step below the paper's bound is stable
here too. :func:`train` takes the step as a fraction of our bound and reports both.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from theory.errors import IbcheckError

C_ASI = np.sqrt(0.5)


class TrainingError(IbcheckError):
    """Bad training request (unknown law, step above the stability bound when refused, ...)."""


def sample_law(law: str, params: dict, size, rng):
    """(W, B) samples for ``law`` in {"uniform", "gaussian", "rademacher"}."""
    if law == "uniform":
        return rng.uniform(-params["a_w"], params["a_w"], size), rng.uniform(-params["a_b"], params["a_b"], size)
    if law == "gaussian":
        return rng.normal(0, params["sigma_w"], size), rng.normal(0, params["sigma_b"], size)
    if law == "rademacher":
        return rng.choice([-1.0, 1.0], size), rng.uniform(-params["a_b"], params["a_b"], size)
    raise TrainingError(f"unknown initialization law {law!r}; known: uniform, gaussian, rademacher")


@dataclass
class Net:
    """Both ASI copies, each array of shape (seeds, n) (biases b2: (seeds,))."""

    W1: np.ndarray   # (2, S, n)
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray   # (2, S)

    @property
    def width(self):
        return self.W1.shape[-1]


def init_net(n: int, seeds: int, law: str, params: dict, rng) -> Net:
    W, B = sample_law(law, params, (seeds, n), rng)
    W2, B2 = sample_law(law, params, (seeds, n), rng)
    _, b2 = sample_law(law, params, (seeds,), rng)
    W2 = W2 / np.sqrt(n)
    b2 = b2 / np.sqrt(n)
    twice = lambda a: np.stack([a, a.copy()])
    return Net(twice(W), twice(B), twice(W2), twice(b2))


def forward(net: Net, x: np.ndarray) -> np.ndarray:
    """f_ASI at points x: (seeds, len(x))."""
    pre = net.W1[..., None] * x + net.b1[..., None]            # (2, S, n, M)
    f = np.einsum("csn,csnm->csm", net.W2, np.maximum(pre, 0)) + net.b2[..., None]
    return C_ASI * (f[0] - f[1])


def ntk(net: Net, x: np.ndarray) -> np.ndarray:
    r""":math:`\hat\Theta_n = \frac1n JJ^\top` at the current parameters, (seeds, M, M)."""
    pre = net.W1[..., None] * x + net.b1[..., None]
    act = np.maximum(pre, 0)
    ind = (pre > 0).astype(float)
    xx = np.outer(x, x) + 1
    K = (np.einsum("csnj,csnk->csjk", act, act) + 1
         + np.einsum("csn,csnj,csnk->csjk", net.W2**2, ind, ind) * xx)
    return C_ASI**2 * K.sum(axis=0) / net.width


def _step(net: Net, x, y, eta):
    r"""One GD step on all layers; returns the residual *before* the step, (seeds, M).

    Inputs are one-dimensional and sorted, so unit :math:`i` is active exactly on the data right
    of its kink :math:`c_i = -b^{(1)}_i/W^{(1)}_i` when :math:`W^{(1)}_i > 0` and left of it
    otherwise (ties have probability 0). With :math:`k_i` the number of :math:`x_j \le c_i`, every
    sum over active pairs is a prefix or suffix sum: the outputs
    :math:`f_j = x_j\sum_{i\,\mathrm{active}} W^{(2)}_iW^{(1)}_i + \sum_{i\,\mathrm{active}} W^{(2)}_ib^{(1)}_i`
    come from histograms over :math:`k` (``bincount``) and cumulative sums, and
    :math:`\partial L/\partial W^{(2)}_i = W^{(1)}_iS^x_i + b^{(1)}_iS_i`,
    :math:`\partial L/\partial W^{(1)}_i = W^{(2)}_iS^x_i`, :math:`\partial L/\partial b^{(1)}_i = W^{(2)}_iS_i`
    with :math:`S_i = \sum_{j\,\mathrm{active}} g_j`, :math:`S^x_i = \sum_{j\,\mathrm{active}} g_jx_j`
    read from prefix/suffix tables (:math:`g = \pm\tfrac{\sqrt2}{2}(f-y)/M` per copy). A step
    costs O(width), not O(width x M)."""
    two, S, n = net.W1.shape
    R, M = two * S, x.size
    W1, b1, W2 = (a.reshape(R, n) for a in (net.W1, net.b1, net.W2))
    neg = W1 < 0
    c = -b1 / W1
    slot = (M + 1) * neg + (2 * (M + 1)) * np.arange(R)[:, None]    # (R, n) into a flat table
    for xj in x:   # + number of x_j <= c_i (M passes beat searchsorted's per-element bisection)
        slot += c >= xj
    size = R * 2 * (M + 1)
    hA = np.bincount(slot.ravel(), (W2 * W1).ravel(), size).reshape(R, 2, M + 1)
    hB = np.bincount(slot.ravel(), (W2 * b1).ravel(), size).reshape(R, 2, M + 1)
    # W > 0 with threshold k is active for j >= k: cumulative sum from the left over k <= j;
    # W < 0 is active for j < k: sum over k > j.
    def active(h):
        return np.cumsum(h[:, 0, :M], axis=1) + (np.cumsum(h[:, 1, ::-1], axis=1)[:, ::-1])[:, 1:]
    f = (active(hA) * x + active(hB)).reshape(two, S, M) + net.b2[..., None]
    r = C_ASI * (f[0] - f[1]) - y
    G = (np.array([C_ASI, -C_ASI])[:, None, None] * (r / M)).reshape(R, M)
    def table(v):   # (R, 2(M+1)): suffix sums sum_{j>=k} (W > 0), prefix sums sum_{j<k} (W < 0)
        suf = np.concatenate([np.cumsum(v[:, ::-1], axis=1)[:, ::-1], np.zeros((R, 1))], axis=1)
        pre = np.concatenate([np.zeros((R, 1)), np.cumsum(v, axis=1)], axis=1)
        return np.concatenate([suf, pre], axis=1).ravel()
    S0 = table(G)[slot]
    S1 = table(G * x)[slot]
    # all gradients first: W1, b1, W2 are views of the parameters being updated
    gW2 = (W1 * S1 + b1 * S0).reshape(two, S, n)
    gW1 = (W2 * S1).reshape(two, S, n)
    gb1 = (W2 * S0).reshape(two, S, n)
    net.W2 -= eta * gW2
    net.W1 -= eta * gW1
    net.b1 -= eta * gb1
    net.b2 -= eta * G.sum(axis=1).reshape(two, S)
    return r


@dataclass
class TrainResult:
    width: int
    eta: float
    eta_bound: float          # 2M/(n lambda_max), ours
    eta_paper: float          # 2/(n lambda_max), the paper's form
    steps: int
    final_residual: np.ndarray   # per seed, max_j |f(x_j) - y_j|
    converged: bool
    diverged: bool
    seconds: float
    net: Net = field(repr=False, default=None)


def train(x, y, n: int, *, law: str = "uniform", params=None, seeds: int = 5, seed: int = 0,
          step_fraction: float = 0.9, tol: float = 1e-9, max_steps: int = 200_000,
          retries: int = 0) -> TrainResult:
    r"""Full-batch GD from an anti-symmetric initialization until ``max_j |f(x_j) - y_j| <= tol`` for
    every seed (or ``max_steps``); the step is ``step_fraction`` times the smallest stability bound
    :math:`2M/(n\lambda_{\max}(\hat\Theta_n))` over the seeds. A run that diverges (possible at
    small width, where the linearization is poor) is restarted from the same initialization with
    half the step, up to ``retries`` times (the paper's protocol also halves the step)."""
    kw = dict(law=law, params=params, seeds=seeds, seed=seed, tol=tol, max_steps=max_steps)
    res = _train(x, y, n, step_fraction=step_fraction, **kw)
    while res.diverged and retries > 0:
        step_fraction, retries = step_fraction / 2, retries - 1
        res = _train(x, y, n, step_fraction=step_fraction, **kw)
    return res


def _train(x, y, n, *, law, params, seeds, seed, step_fraction, tol, max_steps) -> TrainResult:
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if x.ndim != 1 or x.shape != y.shape:
        raise TrainingError("x and y must be 1-d arrays of equal length")
    if n < 1 or seeds < 1:
        raise TrainingError("width and seeds must be positive")
    params = params or {"a_w": 1.0, "a_b": 2.0}
    rng = np.random.default_rng(seed)
    net = init_net(n, seeds, law, params, rng)
    lam = np.linalg.eigvalsh(ntk(net, x))[:, -1].max()
    M = x.size
    bound = 2 * M / (n * lam)
    eta = step_fraction * bound
    t0 = time.perf_counter()
    steps, diverged = 0, False
    while True:
        r = _step(net, x, y, eta) if steps < max_steps else forward(net, x) - y
        res = np.abs(r).max()
        if res <= tol or steps >= max_steps:
            if steps < max_steps:   # undo nothing: r is the residual before this step; recompute
                r = forward(net, x) - y
            break
        if not np.isfinite(res) or res > 1e8:
            diverged = True
            break
        steps += 1
    final = np.abs(r).max(axis=1)
    return TrainResult(n, eta, bound, 2 / (n * lam), steps, final, bool((final <= tol).all()), diverged,
                       time.perf_counter() - t0, net)
