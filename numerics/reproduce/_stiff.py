r"""Linearly implicit (Rosenbrock) float64 integration of the log-variable flows, with analytic Jacobians.

Why: near the limit the residual's slow modes decay at rates :math:`\sim L^2 a^{2L-2}\|A\|^2`
(:math:`a` the off-support scale) while the support modes decay at O(1); an explicit step is bounded
by the fast modes, so Dormand-Prince needs :math:`\sim a^{-(2L-2)}` steps. An L-stable Rosenbrock
method is not: its steps grow with the slow time scale.

Method: RODAS3 (Sandu, Verwer, Blom, Spee, Carmichael, Potra, *Benchmarking stiff ODE solvers
for atmospheric chemistry problems II: Rosenbrock solvers*, Atmos. Env. 31 (1997)), order 3,
stiffly accurate, L-stable, embedded order 2; in the transformed stage form

.. math::
   \Bigl(\tfrac{1}{h\gamma} I - J\Bigr) K_i = f\Bigl(y + \sum_{j<i} a_{ij}K_j\Bigr)
   + \sum_{j<i}\frac{c_{ij}}{h}K_j, \qquad y_{1} = y + \sum_i m_i K_i,\quad
   \mathrm{err} = \sum_i e_i K_i,

:math:`\gamma = 1/2`. One LU-type solve (``np.linalg.solve`` on all stages' right-hand sides is
not possible since the stages are sequential, so NumPy factorises the matrix once per stage).

Right-hand sides (time :math:`t`, no clock rescaling; :math:`H = A^\top A`, :math:`g = A^\top(Ax-y)`):

weight normalization, :math:`Y = (\log r, \log z_+, \log z_-)`, :math:`s = r^L`,
:math:`x = s(z_+^L - z_-^L)`, :math:`c_\pm = s z_\pm^{L-2}`,

.. math::
   f_r = -\eta_r L\,\langle g,x\rangle e^{-2\log r},\quad
   f_\pm = -\eta_z L(\pm c_\pm \odot g - \langle g,x\rangle),

.. math::
   \partial x/\partial Y = [\,L x,\ \mathrm{diag}(L s z_+^L),\ -\mathrm{diag}(L s z_-^L)\,] =: X,\quad
   \partial g = H X,\quad \partial\langle g,x\rangle = (Hx + g)^\top X,

:math:`\partial c_\pm/\partial\log r = L c_\pm`, :math:`\partial c_\pm/\partial \log z_\pm = (L-2)c_\pm`
(diagonal); plain flow, :math:`Y = (\log u, \log v)`, :math:`f_u = -L u^{L-2}\odot g`,
:math:`f_v = L v^{L-2}\odot g`, :math:`X = [\mathrm{diag}(L u^L), -\mathrm{diag}(L v^L)]`.
"""
from __future__ import annotations

import numpy as np

# RODAS3 (Sandu et al. 1997), transformed form
_GAMMA = 0.5
_A = {(1, 0): 0.0, (2, 0): 2.0, (2, 1): 0.0, (3, 0): 2.0, (3, 1): 0.0, (3, 2): 1.0}
_C = {(1, 0): 4.0, (2, 0): 1.0, (2, 1): -1.0, (3, 0): 1.0, (3, 1): -1.0, (3, 2): -8.0 / 3.0}
_M = (2.0, 0.0, 1.0, 1.0)
_E = (0.0, 0.0, 0.0, 1.0)


def spectral_radius(J, iters=12):
    r"""Power-iteration estimate of :math:`\max|\lambda(J)|` from the deterministic start
    :math:`\mathbf 1` (a lower estimate; enough to tell whether an explicit step of the current
    size would be stable)."""
    v = np.ones(J.shape[0])
    lam = 0.0
    for _ in range(iters):
        w = J @ v
        nw = np.linalg.norm(w)
        if not nw > 0:
            return 0.0
        lam, v = nw / np.linalg.norm(v), w / nw
    return float(lam)


def rodas3(f, jac, y, done, *, t=0.0, h=1e-3, rtol=1e-12, atol=1e-15, max_steps=100000, record=None,
           exit_nonstiff=False):
    r"""Adaptive RODAS3 from ``y`` at time ``t`` until ``done(y)``. Error norm as in the
    Dormand-Prince driver (max over components of :math:`|err|/(atol + rtol\max(|y|,|y_1|))`),
    step factor :math:`0.9\,\mathrm{err}^{-1/3}` clipped to [0.2, 5]; a rejected step (or a
    non-finite one) shrinks ``h``. ``exit_nonstiff``: return once 15 consecutive accepted steps
    had :math:`h\,\rho(J) < 2` (below Dormand-Prince's stability limit 3.3: an explicit method
    would be accuracy-bound there too, and is cheaper per step at order 5). Returns
    ``(y, t, steps, converged, h)``."""
    steps = calm = 0
    I = np.eye(len(y))
    while steps < max_steps:
        if done(y):
            return y, t, steps, True, h
        # a trial step too long for the exponentials overflows; its error is then not finite
        # and the step is rejected below, so the overflow is not worth a warning
        with np.errstate(over="ignore", invalid="ignore"):
            J = jac(y)
            Mat = I / (h * _GAMMA) - J
            K = []
            for i in range(4):
                yi = y + sum(_A[i, j] * K[j] for j in range(i) if _A[i, j]) if i else y
                rhs = f(yi) + sum((_C[i, j] / h) * K[j] for j in range(i))
                K.append(np.linalg.solve(Mat, rhs))
            y1 = y + sum(m * k for m, k in zip(_M, K) if m)
            e = sum(c * k for c, k in zip(_E, K) if c)
            err = float((np.abs(e) / (atol + rtol * np.maximum(np.abs(y), np.abs(y1)))).max())
        if not np.isfinite(err):
            h *= 0.2
            continue
        if err <= 1:
            if exit_nonstiff:
                calm = calm + 1 if h * spectral_radius(J) < 2.0 else 0
            y, t = y1, t + h
            steps += 1
            if record is not None:
                record(y, t)
            if calm >= 15:
                h *= min(5.0, max(0.2, 0.9 * max(err, 1e-16) ** (-1 / 3)))
                return y, t, steps, False, h
        h *= min(5.0, max(0.2, 0.9 * max(err, 1e-16) ** (-1 / 3)))
    return y, t, steps, False, h


def _normal_equations(A, y):
    r"""``(n, A^T A, A^T y)``: the gradient of the loss is :math:`g = A^\top A x - A^\top y`."""
    A = np.asarray(A, float)
    return A.shape[1], A.T @ A, A.T @ np.asarray(y, float)


def wn_system(A, y, *, L, eta_z, eta_r):
    """``(f, jac, x_of, g_of)`` of the weight-normalization flow in ``(log r, log z+, log z-)``."""
    n, H, b = _normal_equations(A, y)

    def parts(Y):
        lr, lp, lm = Y[0], Y[1:n + 1], Y[n + 1:2 * n + 1]
        s = np.exp(L * lr)
        P, M = np.exp(L * lp), np.exp(L * lm)
        x = s * (P - M)
        return lr, lp, lm, s, P, M, x, H @ x - b

    def f(Y):
        lr, lp, lm, s, P, M, x, g = parts(Y)
        gx = g @ x
        cp, cm = s * np.exp((L - 2) * lp), s * np.exp((L - 2) * lm)
        return np.concatenate([[-eta_r * L * gx * np.exp(-2 * lr)],
                               -eta_z * L * (cp * g - gx), -eta_z * L * (-cm * g - gx)])

    def jac(Y):
        lr, lp, lm, s, P, M, x, g = parts(Y)
        gx = g @ x
        cp, cm = s * np.exp((L - 2) * lp), s * np.exp((L - 2) * lm)
        X = np.zeros((n, 2 * n + 1))
        X[:, 0] = L * x
        X[:, 1:n + 1] = np.diag(L * s * P)
        X[:, n + 1:] = np.diag(-L * s * M)
        dg = H @ X
        dgx = (H @ x + g) @ X
        Jm = np.zeros((2 * n + 1, 2 * n + 1))
        e2 = np.exp(-2 * lr)
        Jm[0] = -eta_r * L * e2 * dgx
        Jm[0, 0] += 2 * eta_r * L * gx * e2
        dcp = np.zeros((n, 2 * n + 1))
        dcp[:, 0] = L * cp
        dcp[:, 1:n + 1] = np.diag((L - 2) * cp)
        dcm = np.zeros((n, 2 * n + 1))
        dcm[:, 0] = L * cm
        dcm[:, n + 1:] = np.diag((L - 2) * cm)
        Jm[1:n + 1] = -eta_z * L * (g[:, None] * dcp + cp[:, None] * dg - dgx[None, :])
        Jm[n + 1:] = -eta_z * L * (-g[:, None] * dcm - cm[:, None] * dg - dgx[None, :])
        return Jm

    return f, jac, (lambda Y: parts(Y)[6]), (lambda Y: parts(Y)[7])


def plain_system(A, y, *, L):
    """``(f, jac, x_of, g_of)`` of the plain flow in ``(log u, log v)``."""
    n, H, b = _normal_equations(A, y)

    def parts(Y):
        p, q = Y[:n], Y[n:2 * n]
        x = np.exp(L * p) - np.exp(L * q)
        return p, q, x, H @ x - b

    def f(Y):
        p, q, x, g = parts(Y)
        return np.concatenate([-L * np.exp((L - 2) * p) * g, L * np.exp((L - 2) * q) * g])

    def jac(Y):
        p, q, x, g = parts(Y)
        X = np.hstack([np.diag(L * np.exp(L * p)), np.diag(-L * np.exp(L * q))])
        dg = H @ X
        cp, cq = np.exp((L - 2) * p), np.exp((L - 2) * q)
        Jm = np.vstack([-L * cp[:, None] * dg, L * cq[:, None] * dg])
        Jm[:n, :n] += np.diag(-L * (L - 2) * cp * g)
        Jm[n:, n:] += np.diag(L * (L - 2) * cq * g)
        return Jm

    return f, jac, (lambda Y: parts(Y)[2]), (lambda Y: parts(Y)[3])
