r"""Weight normalization (Chou, Rauhut, Ward, arXiv 2305.05448): sparse recovery, plain flow vs WN.

Setup: ``numpy.random.default_rng(2024)``, :math:`A \in \mathbb R^{m\times n}` with entries
:math:`N(0, 1/m)`, a k-sparse :math:`x^*` with Gaussian nonzeros, :math:`y = Ax^*`; from
:math:`u(0) = v(0) = \alpha\mathbf 1`, the plain flow on :math:`x = u^L - v^L` and weight
normalization (:math:`\eta_z = 1/r_0^2`, :math:`\eta_r = \eta_z/\rho`), float64 in log variables
(:mod:`numerics.reproduce._wn_flows`). Reported: :math:`\|x_\infty - x^*\|/\|x^*\|`, :math:`\log_{10}
\alpha_{\mathrm{eff}}^2` read from the final state, the robustness bound
:math:`\alpha_{\mathrm{eff}}^2 \le (\tau/2n)\,e^{-\rho(\tau - 2n\alpha^2)}` (:math:`\rho\tau \ge 1`,
:math:`\tau` = min-:math:`\ell_1`, certified by a dual certificate), and 30-digit spot checks: the
float64 limit against the Bregman/KKT reference of the plain potential at
:math:`a = \alpha_{\mathrm{eff}}`.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from . import Report

SUMMARY = ("Chou-Rauhut-Ward weight normalization: plain flow vs WN over alpha, rho, L "
           "(sparse recovery, effective scale, robustness bound)")

FULL = dict(n=100, m=40, k=5, alphas=(0.01, 0.05, 0.1, 0.15, 0.2, 0.5), rhos=(1, 10, 100), depths=(2, 3),
            spot=((2, 0.05, 1), (2, 0.05, 10), (3, 0.05, 10)))
QUICK = dict(n=30, m=15, k=3, alphas=(0.02, 0.2), rhos=(1, 100), depths=(2,), spot=((2, 0.02, 1),))


def problem(n, m, k, seed=2024):
    rng = np.random.default_rng(seed)
    A = rng.normal(0, 1 / np.sqrt(m), (m, n))
    xs = np.zeros(n)
    idx = rng.choice(n, k, replace=False)
    xs[idx] = rng.normal(size=k)
    return A, A @ xs, xs


def l1_certificate(A, xs, margin=1e-8):
    r""":math:`\tau = \|x^*\|_1` when a dual certificate proves :math:`x^*` the unique min-:math:`\ell_1`
    interpolant: :math:`\lambda = (A_S^\top)^+\mathrm{sign}(x^*_S)` with :math:`\|A_{S^c}^\top\lambda\|_\infty
    < 1`; else ``None``."""
    S = np.flatnonzero(xs)
    lam = np.linalg.pinv(A[:, S].T) @ np.sign(xs[S])
    c = A.T @ lam
    off = np.delete(np.abs(c), S)
    if np.max(np.abs(c[S] - np.sign(xs[S]))) > margin or np.max(off) >= 1 - margin:
        return None
    return float(np.sum(np.abs(xs)))


def bound_log(tau, n, alpha, rho, *, factor=1.0, sign=-1.0):
    r""":math:`\log[(\tau/2n)\,e^{\mp\,\text{factor}\cdot\rho(\tau - 2n\alpha^2)}]` (controls: ``factor``, ``sign``)."""
    return math.log(tau / (2 * n)) + sign * factor * rho * (tau - 2 * n * alpha**2)


def spot_check(A, y, res, L, dps=30):
    r"""Float64 limit vs the 30-digit KKT point of the plain potential at
    :math:`a = \alpha_{\mathrm{eff}}` (read from the float64 final state). Returns the max error."""
    import mpmath
    import sympy as sp

    from ..references import bregman_projection

    X = [[sp.Rational(float(v)) for v in row] for row in A]
    Y = [sp.Rational(float(v)) for v in y]
    with mpmath.workdps(dps + 20):
        a = mpmath.exp(mpmath.mpf(res.log_alpha_eff2) / 2)
        if L == 2:
            g = lambda mu: 2 * a**2 * mpmath.sinh(4 * mu)
            dg = lambda mu: 8 * a**2 * mpmath.cosh(4 * mu)
            dom = None
        else:
            e = mpmath.mpf(-L) / (L - 2)
            kap = L * (L - 2) * a ** (L - 2)
            g = lambda mu: a**L * ((1 - kap * mu) ** e - (1 + kap * mu) ** e)
            dg = lambda mu: a**L * kap * (-e) * ((1 - kap * mu) ** (e - 1) + (1 + kap * mu) ** (e - 1))
            q = sp.Rational(int(10**25 / kap * (1 - mpmath.mpf(10) ** -20)), 10**25)
            dom = (-q, q)
    ref = bregman_projection(dual_grad=g, dual_hess=dg, X=X, y=Y, dps=dps, dual_domain=dom, estimate=False)
    return max(abs(float(w) - float(x)) for w, x in zip(ref.w, res.x))


def _flow_job(job):
    """One flow of the sweep: ``("plain", A, y, L, alpha, None)`` or ``("wn", A, y, L, alpha, rho)``."""
    from ._wn_flows import plain_flow, weightnorm_flow

    kind, A, y, L, a, rho = job
    return plain_flow(A, y, L=L, alpha=a) if kind == "plain" else weightnorm_flow(A, y, L=L, alpha=a, rho=rho)


def run(out_dir: Path, *, quick: bool = False, progress=lambda m: None, executor=None) -> Report:
    """The sweep over (L, alpha, rho); its flows run on ``executor`` when given
    (:mod:`numerics.executors`: same results, digit for digit, as here)."""
    from ..executors import ordered_map

    cfg = QUICK if quick else FULL
    n, m, k = cfg["n"], cfg["m"], cfg["k"]
    A, y, xs = problem(n, m, k)
    tau, how = l1_certificate(A, xs), "dual certificate"
    if tau is None:  # x* is not the min-l1 interpolant here: the exact LP on the float64 data
        import sympy as sp

        from ..references import min_l1_interpolant
        sol = min_l1_interpolant([[sp.Rational(float(v)) for v in row] for row in A],
                                 [sp.Rational(float(v)) for v in y], check_unique=False)
        tau, how = float(sol.value), "exact LP"
    rows, figures, notes, curves = [], {}, [], {}
    passed = True
    t0 = time.perf_counter()
    results = {}
    jobs = [(kind, A, y, L, a, rho) for L in cfg["depths"] for a in cfg["alphas"]
            for kind, rho in [("plain", None)] + [("wn", r) for r in cfg["rhos"]]]
    progress(f"{len(jobs)} flows (plain and weight-normalized)")
    flows = dict(zip([j[0:1] + j[3:] for j in jobs], ordered_map(executor, _flow_job, jobs)))
    for L in cfg["depths"]:
        for a in cfg["alphas"]:
            pf = flows[("plain", L, a, None)]
            errs = [np.linalg.norm(pf.x - xs) / np.linalg.norm(xs)]
            flags = ["" if pf.converged else "*"]
            steps = [(pf.steps, pf.stiff_steps)]
            aeff, slack = [], []
            for rho in cfg["rhos"]:
                res = flows[("wn", L, a, rho)]
                results[(L, a, rho)] = res
                errs.append(np.linalg.norm(res.x - xs) / np.linalg.norm(xs))
                flags.append("" if res.converged else "*")
                steps.append((res.steps, res.stiff_steps))
                aeff.append(res.log_alpha_eff2 / math.log(10))
                if L == 2 and tau is not None and rho * tau >= 1:
                    s = bound_log(tau, n, a, rho) - res.log_alpha_eff2
                    slack.append(s / math.log(10))
                    if s < -1e-6 * max(1.0, abs(res.log_alpha_eff2)):
                        passed = False
                        notes.append(f"bound violated at L={L}, alpha={a}, rho={rho}: slack {s:.3e}")
                if a == cfg["alphas"][0]:
                    curves[(L, rho)] = res.history
            if a == cfg["alphas"][0]:
                curves[(L, "plain")] = pf.history
            rows.append((L, a, errs, flags, aeff, slack, steps))
    figures["seconds_sweep"] = round(time.perf_counter() - t0, 1)
    # 30-digit spot checks of the effective scale
    spots = []
    for (L, a, rho) in cfg["spot"]:
        res = results.get((L, a, rho))
        if res is None or not res.converged:
            continue
        progress(f"spot check L={L} alpha={a} rho={rho} (30 digits)")
        err = spot_check(A, y, res, L)
        spots.append((L, a, rho, err))
        if not err < 1e-6:
            passed = False
    table = _table(rows, cfg, tau, n, spots, how)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [out_dir / "table.md"]
    files[0].write_text(table + "\n")
    plot = _plot(rows, cfg, curves, out_dir)
    if plot:
        files.append(plot)
    figures["tau"] = tau
    figures["bound_rows"] = sum(len(r[5]) for r in rows)
    return Report(name="weightnorm", table=table, files=tuple(str(f) for f in files), passed=passed,
                  figures=figures, notes=tuple(notes))


def _table(rows, cfg, tau, n, spots, how) -> str:
    rhos = cfg["rhos"]
    head = ("| L | alpha | plain | " + " | ".join(f"WN rho={r}" for r in rhos) + " | "
            + " | ".join(f"log10 a_eff^2 (rho={r})" for r in rhos) + " | bound slack (log10) |")
    sep = "|" + "---|" * (3 + 2 * len(rhos) + 1)
    lines = [f"n = {cfg['n']}, m = {cfg['m']}, {cfg['k']}-sparse, seed 2024; tau = min l1 = "
             f"{tau:.6f} ({how}); alpha_c = sqrt(tau/2n) = {math.sqrt(tau / (2 * n)):.4f}", "",
             "Relative error ||x_inf - x*||/||x*|| (* = step budget reached before ||g|| <= 1e-10)", "",
             head, sep]
    for L, a, errs, flags, aeff, slack, _ in rows:
        e = " | ".join(f"{v:.1e}{f}" for v, f in zip(errs, flags))
        s = ", ".join(f"{v:.2f}" for v in slack) if slack else "-"
        lines.append(f"| {L} | {a} | {e} | " + " | ".join(f"{v:.1f}" for v in aeff) + f" | {s} |")
    lines += ["", "Steps (of which RODAS3), columns as above: plain, " + ", ".join(f"WN rho={r}" for r in rhos), ""]
    lines += [f"- L = {L}, alpha = {a}: " + ", ".join(f"{k} ({s})" for k, s in st)
              for L, a, _, _, _, _, st in rows]
    if spots:
        lines += ["", "30-digit spot checks: max |x_inf(float64) - argmin Q_a (KKT, 30 digits)|, "
                      "a = alpha_eff read from the final state", ""]
        lines += [f"- L = {L}, alpha = {a}, rho = {rho}: {err:.1e}" for L, a, rho, err in spots]
    return "\n".join(lines)


def _plot(rows, cfg, curves, out_dir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axs = plt.subplots(1, 2, figsize=(11, 4))
    for L in cfg["depths"]:
        al = [r[1] for r in rows if r[0] == L]
        for j, name in enumerate(["plain"] + [f"WN rho={r}" for r in cfg["rhos"]]):
            axs[0].semilogy(al, [r[2][j] for r in rows if r[0] == L], marker="o", label=f"L={L} {name}")
    axs[0].set_xlabel("alpha")
    axs[0].set_ylabel("||x - x*|| / ||x*||")
    axs[0].legend(fontsize=7)
    for key, h in curves.items():
        if h:
            t, l = zip(*h)
            axs[1].loglog(np.maximum(t, 1e-6), np.maximum(l, 1e-30), label=f"L={key[0]} {key[1]}")
    axs[1].set_xlabel("t")
    axs[1].set_ylabel("loss")
    axs[1].legend(fontsize=7)
    axs[1].set_title(f"alpha = {cfg['alphas'][0]}")
    path = out_dir / "weightnorm.png"
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
