r"""Float64 flows of weight normalization and of the plain diagonal network, in log variables.

Weight normalization on :math:`x = u^{\odot L} - v^{\odot L}`, :math:`(u; v) = r z`,
:math:`\|z\| = 1` (Chou, Rauhut, Ward; derivation in ``docs/weightnorm.md``), with
:math:`g = A^\top(Ax - y)` and :math:`\langle g, x\rangle`:

.. math::
   \frac{d\log r}{dt} = -\eta_r L\,\frac{\langle g, x\rangle}{r^2}, \qquad
   \frac{d\log z_{\pm,i}}{dt} = -\eta_z L\bigl(\pm r^L z_{\pm,i}^{L-2} g_i - \langle g, x\rangle\bigr),

:math:`\eta_z = \eta_s/\|s(0)\|^2`, :math:`\rho = \eta_z/\eta_r`. Log variables keep
:math:`u_iv_i \approx \alpha_{\mathrm{eff}}^2` (down to :math:`10^{-255}` at :math:`\rho = 100`)
representable and positive. The plain flow :math:`\dot u = -L u^{L-1} g`, :math:`\dot v = L v^{L-1}g`
runs in :math:`\log u, \log v`. Integration: adaptive Dormand-Prince 5(4) on the clock
:math:`d\tau = (1 + \kappa(x))\,dt` (:math:`\kappa` the largest rate, so steps in :math:`\tau` are
O(1); :math:`t` rides along), until :math:`\|g\|_\infty \le` ``gtol``.
Where that explicit method is held at its stability limit (Hairer's stiffness test) the flow
continues with RODAS3 in :math:`t` and the analytic Jacobian (:mod:`._stiff`), and back.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import IbcheckError

# Dormand-Prince 5(4) tableau
_C = np.array([0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1])
_A = [[], [1 / 5], [3 / 40, 9 / 40], [44 / 45, -56 / 15, 32 / 9],
      [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
      [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
      [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]]
_B5 = np.array([35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0])
_B4 = np.array([5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40])


class FlowFailed(IbcheckError):
    """A float64 flow did not reach the gradient tolerance within its step budget."""


@dataclass
class Result:
    x: np.ndarray
    t: float
    steps: int
    log_r: float | None          # weight normalization: final log r (None for the plain flow)
    log_alpha_eff2: float | None  # log alpha_eff^2 read from the final state
    history: list                 # (t, loss) samples
    converged: bool = True        # False: the step budget ran out first (last state reported)
    stiff_steps: int = 0          # of ``steps``, those taken by the Rosenbrock integrator (_stiff)


def _dopri(f, y, gtol_fn, *, rtol=1e-12, atol=1e-15, max_steps=100000, record=None, detect_stiff=False):
    r"""Returns (y, steps, converged, stiff): at the budget's end the last state, flagged.

    ``detect_stiff``: Hairer's test (Hairer, Wanner, *Solving ODEs II*, IV.2; DOPRI5's
    ``nstiff``): on an accepted step :math:`h\lambda \approx h\|k_7 - k_6\|/\|y_1 - Y_6\|`
    (stages 6 and 7 both at :math:`c = 1`); 15 accepted steps with :math:`h\lambda > 3.25` before
    6 consecutive ones without say the step is held at the stability boundary: return with
    ``stiff=True`` so that the caller continues with a stiff integrator."""
    h, tau, steps = 1e-3, 0.0, 0
    k1 = f(y)
    nstiff = nonstiff = 0
    while steps < max_steps:
        if gtol_fn(y):
            return y, steps, True, False
        ks = [k1]
        ys6 = None
        for s in range(1, 7):
            ys = y + h * sum(a * k for a, k in zip(_A[s], ks))
            if s == 5:  # stage 6 (c = 1); stage 7 is y5 itself (FSAL)
                ys6 = ys
            ks.append(f(ys))
        y5 = y + h * sum(b * k for b, k in zip(_B5, ks) if b)
        y4 = y + h * sum(b * k for b, k in zip(_B4, ks) if b)
        err = (np.abs(y5 - y4) / (atol + rtol * np.maximum(np.abs(y), np.abs(y5)))).max()
        if not np.isfinite(err):
            if not 1e-14 <= h < np.inf:  # non-finite at any step: the flow left the floats
                return y, steps, False, False
            h *= 0.2
            continue
        if err <= 1 or h < 1e-14:
            if detect_stiff:
                den = np.linalg.norm(y5 - ys6)
                hlamb = h * np.linalg.norm(ks[6] - ks[5]) / den if den > 0 else 0.0
                if hlamb > 3.25:
                    nonstiff, nstiff = 0, nstiff + 1
                    if nstiff == 15:
                        return y5, steps + 1, False, True
                else:
                    nonstiff += 1
                    if nonstiff == 6:
                        nstiff = 0
            y, k1, tau = y5, ks[6], tau + h
            steps += 1
            if record is not None:
                record(y)
        h *= min(5.0, max(0.2, 0.9 * (1 / max(err, 1e-16)) ** 0.2))
    return y, steps, False, False


def _integrate(f, Y0, done, rec, system, method, max_steps):
    """Dormand-Prince on the rescaled clock (``f``, last component :math:`t`), and/or RODAS3 in
    :math:`t` (``system = (f_t, jac)`` without the clock). ``method``: ``"dopri"`` (explicit
    only), ``"rodas"`` (stiff only), ``"auto"`` (explicit until Hairer's stiffness test fires,
    then stiff from that state: deterministic, and the non-stiff transient, where the explicit
    5th-order method is cheaper per unit of accuracy, is left to it; back to the explicit method
    once RODAS3's steps are below the explicit stability limit, e.g. in a saddle escape). Returns
    ``(Y, steps, stiff_steps, converged)``."""
    from ._stiff import rodas3

    if method not in ("dopri", "rodas", "auto"):
        raise IbcheckError(f"unknown integration method {method!r} (dopri, rodas, auto)")
    if method == "dopri":
        Y, steps, ok, _ = _dopri(f, Y0, done, record=rec, max_steps=max_steps)
        return Y, steps, 0, ok
    ft, jac = system
    steps = nst = 0
    Y, stiff = Y0, method == "rodas"
    while steps < max_steps:
        if not stiff:
            Y, k, ok, stiff = _dopri(f, Y, done, record=rec, max_steps=max_steps - steps,
                                     detect_stiff=True)
            steps += k
            if ok or not stiff:
                return Y, steps, nst, ok
        # first step in t: 1e-3 clock units (dt/dtau = f(Y)[-1])
        h0 = 1e-3 * float(f(Y)[-1])
        Z, t, k, ok, _ = rodas3(ft, jac, Y[:-1], lambda Z: done(np.append(Z, 0.0)), t=float(Y[-1]),
                                h=h0, max_steps=max_steps - steps,
                                record=lambda Z, tt: rec(np.append(Z, tt)),
                                exit_nonstiff=(method == "auto"))
        Y, steps, nst, stiff = np.append(Z, t), steps + k, nst + k, False
        if ok:
            return Y, steps, nst, True
    return Y, steps, nst, False


def weightnorm_flow(A, y, *, L: int, alpha: float, rho: float, gtol: float = 1e-10,
                    eta_z: float | None = None, max_steps: int = 100000, method: str = "auto") -> Result:
    r"""WN-A flow from :math:`u(0) = v(0) = \alpha\mathbf 1` (:math:`r_0 = \sqrt{2n}\alpha`,
    :math:`z_0 = \mathbf 1/\sqrt{2n}`), :math:`\eta_z = 1/r_0^2` by default (initial tangential speed
    of the plain flow), :math:`\eta_r = \eta_z/\rho`."""
    if not alpha > 0:
        raise IbcheckError(f"alpha must be > 0, got {alpha}")
    if not rho > 0:
        raise IbcheckError(f"rho must be > 0, got {rho}")
    if L < 2:
        raise IbcheckError(f"L must be >= 2, got {L}")
    A = np.asarray(A, float)
    y = np.asarray(y, float)
    m, n = A.shape
    r0 = np.sqrt(2 * n) * alpha
    ez = 1 / r0**2 if eta_z is None else eta_z
    er = ez / rho
    lip = np.linalg.norm(A, 2) ** 2

    def parts(Y):
        lr, lp, lm = Y[0], Y[1:n + 1], Y[n + 1:2 * n + 1]
        rL = np.exp(L * lr)
        x = rL * (np.exp(L * lp) - np.exp(L * lm))
        g = A.T @ (A @ x - y)
        return lr, lp, lm, rL, x, g

    def f(Y):
        lr, lp, lm, rL, x, g = parts(Y)
        gx = g @ x
        r2 = np.exp(2 * lr)
        umax = np.exp(lr + max(float(lp.max()), float(lm.max())))
        scale = 1 + L * L * lip * (ez + er) * r2 * umax ** (2 * L - 2)
        dlr = -er * L * gx / r2
        dlp = -ez * L * (rL * np.exp((L - 2) * lp) * g - gx)
        dlm = -ez * L * (-rL * np.exp((L - 2) * lm) * g - gx)
        return np.concatenate([[dlr], dlp, dlm, [1.0]]) / scale

    Y0 = np.concatenate([[np.log(r0)], np.full(2 * n, -0.5 * np.log(2 * n)), [0.0]])
    hist = []

    def rec(Y):
        if len(hist) < 100000:
            _, _, _, _, x, _ = parts(Y)
            res = A @ x - y
            hist.append((Y[-1], 0.5 * float(res @ res)))

    from ._stiff import wn_system
    ft, jac, _, _ = wn_system(A, y, L=L, eta_z=ez, eta_r=er)
    Y, steps, nst, ok = _integrate(f, Y0, lambda Y: np.abs(parts(Y)[5]).max() <= gtol, rec,
                                   (ft, jac), method, max_steps)
    lr = Y[0]
    _, _, _, _, x, _ = parts(Y)
    log_aeff2 = 2 * np.log(alpha) + 2 * (lr - np.log(r0)) - rho * (np.exp(2 * lr) - r0**2)
    return Result(x=x, t=float(Y[-1]), steps=steps, log_r=float(lr), log_alpha_eff2=float(log_aeff2),
                  history=hist[::max(1, len(hist) // 400)], converged=ok, stiff_steps=nst)


def plain_flow(A, y, *, L: int, alpha: float, gtol: float = 1e-10, max_steps: int = 100000,
               method: str = "auto") -> Result:
    r"""Plain gradient flow on :math:`x = u^L - v^L`, :math:`u(0) = v(0) = \alpha\mathbf 1`."""
    if not alpha > 0:
        raise IbcheckError(f"alpha must be > 0, got {alpha}")
    A = np.asarray(A, float)
    y = np.asarray(y, float)
    m, n = A.shape
    lip = np.linalg.norm(A, 2) ** 2

    def parts(Y):
        p, q = Y[:n], Y[n:2 * n]
        x = np.exp(L * p) - np.exp(L * q)
        g = A.T @ (A @ x - y)
        return p, q, x, g

    def f(Y):
        p, q, x, g = parts(Y)
        big = float(np.max(np.exp((2 * L - 2) * np.concatenate([p, q]))))
        scale = 1 + L * L * lip * big
        return np.concatenate([-L * np.exp((L - 2) * p) * g, L * np.exp((L - 2) * q) * g, [1.0]]) / scale

    Y0 = np.concatenate([np.full(2 * n, np.log(alpha)), [0.0]])
    hist = []

    def rec(Y):
        _, _, x, _ = parts(Y)
        res = A @ x - y
        hist.append((Y[-1], 0.5 * float(res @ res)))

    from ._stiff import plain_system
    ft, jac, _, _ = plain_system(A, y, L=L)
    Y, steps, nst, ok = _integrate(f, Y0, lambda Y: np.abs(parts(Y)[3]).max() <= gtol, rec,
                                   (ft, jac), method, max_steps)
    return Result(x=parts(Y)[2], t=float(Y[-1]), steps=steps, log_r=None, log_alpha_eff2=None,
                  history=hist[::max(1, len(hist) // 400)], converged=ok, stiff_steps=nst)
