r"""Reproduction: weight decay switched off at several times, sparse regression with x = m⊙w
(Jacobs & Burkholz, 'Mask in the Mirror', ICLR 2025, Sec. 5 setting; Jacobs, Zhou, Burkholz,
ICML 2025, storage of decay in A_oo).

Setting: n = 100 features, 40 samples (X_ij ~ N(0, 1/40)), 5-sparse target x* with entries ±1,
y = X x*; x = m⊙w, h = ‖m‖² + ‖w‖², PILoT-type init u0 = (m0 + w0)/√2 = 1, v0 = (m0 − w0)/√2 = 1/2
per coordinate (2u0v0 = 1, x0 = 3/8). Flow ẋ = −(Jᵀ∇L + λ(t)∇h) with λ = λ0 on [0, T) and 0
after, integrated in float64 (explicit Euler on the loss, step 5e-3 while decay is on and 4e-2 after;
the decay factor e^{−2λh} applied exactly) until ‖∇L‖ < 1e-10. For each run:
the cumulative decay A = λ0 T, the error ‖x∞ − x*‖₂, and the distance to the theory's limit
argmin R_{−A}(x) s.t. Xx = y (Newton in float64 on X∇Q_{−A}(Xᵀν) = y, ∇Q_a(μ) = β_a sinh(2μ +
asinh(x0/β0)), β_a = u0v0 e^{4a}). Equal-A pairs (λ0, T) and (2λ0, T/2) reach the same limit: their
error curves cross. Spot checks: ibcheck's 30-digit Taylor integrator on a smaller instance
(n = 8, 4 samples) of the catalog model `mw-decay` with the same kind of schedule: decaying law,
time-dependent mirror identity and limit = argmin R_{a∞}.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import Report

SUMMARY = "weight decay switched off at several times: error vs A, equal-A crossing (Mask in the Mirror / Mirror, Mirror)"

U0, V0 = 1.0, 0.5


def _problem(n=100, m=40, k=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n)) / math.sqrt(m)
    xs = np.zeros(n)
    idx = rng.choice(n, k, replace=False)
    xs[idx] = rng.choice([-1.0, 1.0], k)
    return X, X @ xs, xs


def _run(X, y, lam0, T, *, eta=5e-3, eta_off=4e-2, tol=1e-10, max_steps=4_000_000, record=20):
    n = X.shape[1]
    m = np.full(n, (U0 + V0) / math.sqrt(2))
    w = np.full(n, (U0 - V0) / math.sqrt(2))
    t, step, curve, converged = 0.0, 0, [], False
    while step < max_steps:
        x = m * w
        g = X.T @ (X @ x - y)
        if t >= T and np.max(np.abs(g)) < tol:
            converged = True
            break
        lam = lam0 if t < T else 0.0
        h = eta if t < T else eta_off   # small steps while A accumulates, larger once decay is off
        # loss step, then the decay step solved exactly (x -> e^{-2 lam h} x): the run's cumulative
        # decay is exactly lam*T, so equal-A schedules differ only by the loss steps' O(h) error
        shrink = math.exp(-2 * lam * h)
        m, w = (m - h * w * g) * shrink, (w - h * m * g) * shrink
        t += h
        step += 1
        if step % record == 0:
            curve.append((t, x.copy()))
    return m * w, t if converged else -t, curve


def _reference(X, y, A):
    """argmin R_{-A}(x) s.t. Xx = y, Newton on the dual (float64)."""
    beta0 = U0 * V0
    beta = beta0 * math.exp(-4 * A)
    c = np.arcsinh((U0**2 - V0**2) / 2 / beta0)
    nu = np.zeros(X.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        return _newton(X, y, beta, c, nu)


def _newton(X, y, beta, c, nu):
    for _ in range(200):
        mu = X.T @ nu
        z = 2 * mu + c
        x = beta * np.sinh(z)
        r = X @ x - y
        if np.max(np.abs(r)) < 1e-12:
            break
        J = (X * (2 * beta * np.cosh(z))) @ X.T
        step = np.linalg.solve(J, r)
        s = 1.0
        while s > 1e-8:   # backtracking on the residual norm
            xn = beta * np.sinh(2 * (X.T @ (nu - s * step)) + c)
            if np.linalg.norm(X @ xn - y) < np.linalg.norm(r):
                break
            s /= 2
        nu = nu - s * step
    return beta * np.sinh(2 * (X.T @ nu) + c)


def _sensing(Ts, lam0=1.0, d=8, m=20, rank=2, alpha=0.5, seed=1, eta=2e-3, tol=1e-8, max_steps=1_000_000):
    """Gaussian (non-commuting) symmetric matrix sensing W = U U^T, U0 = alpha I, decay lam0 on
    [0, T): at convergence ‖W‖_*/‖W‖_F and ‖W − W*‖_F for each A = lam0 T (float64, Euler on the
    loss, the decay factor applied exactly). Returns rows (T, A, ratio, error, converged)."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((m, d, d))
    As = (G + G.transpose(0, 2, 1)) / (2 * math.sqrt(m))
    V = rng.standard_normal((d, rank))
    Ws = V @ V.T / d
    y = np.einsum("kij,ij->k", As, Ws)
    rows = []
    for T in Ts:
        U, t, ok = alpha * np.eye(d), 0.0, False
        for _ in range(max_steps):
            W = U @ U.T
            r = np.einsum("kij,ij->k", As, W) - y
            S = np.einsum("k,kij->ij", r, As)
            gU = 2 * S @ U
            if t >= T and np.max(np.abs(gU)) < tol:
                ok = True
                break
            lam = lam0 if t < T else 0.0
            U = (U - eta * gU) * math.exp(-2 * lam * eta)
            t += eta
        W = U @ U.T
        sv = np.linalg.svd(W, compute_uv=False)
        rows.append((T, lam0 * T, sv.sum() / np.linalg.norm(W), np.linalg.norm(W - Ws), ok))
    return rows


def _spot_checks(progress, quick):
    """30-digit checks with ibcheck's integrator on the catalog model (smaller instance)."""
    import sympy as sp

    from theory import derive
    from theory.catalog import weightdecay as wd
    from theory.parameterization import TIME
    from ..cli import default_problem
    from ..regularized.flows import run_decayed, segmented_flow
    from ..regularized.checks import check_decay_limit, check_decaying_law, check_time_mirror

    rows = []
    n = 4 if quick else 8
    pot = derive(wd.mw()).time_potential[0]
    law = derive(wd.mw()).decaying[0][0]
    for lam0, T in ((1, sp.Rational(1, 2)), (2, sp.Rational(1, 4))):
        sched = sp.Piecewise((lam0, TIME < T), (0, True))
        p = wd.mw(n=n, schedule=sched)
        prob = default_problem(p, {"alpha": "1/2"}, seed=11, dps=30)
        sf = segmented_flow(p, prob.X, prob.y, values={"alpha": "1/2"})
        progress(f"weightdecay: 30-digit flow n={n}, lambda={lam0} until t={T}")
        runs = run_decayed(sf, dps=30)
        for v in (check_decaying_law(runs, law, sf.schedule), check_time_mirror(runs, pot, sf.schedule),
                  check_decay_limit(runs, pot, sf.schedule)):
            rows.append((f"lambda={lam0} on [0,{T})", v.claim, v.residual, v.tolerance, v.digits, v.passed))
    return rows


def _run_job(job):
    X, y, lam0, T = job
    return _run(X, y, lam0, T)


def run(out_dir: Path, *, quick: bool = False, progress=lambda m: None, executor=None) -> Report:
    """The switch-off sweep; its float64 runs go to ``executor`` when given (:mod:`numerics.executors`)."""
    from ..executors import ordered_map

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n, mm, k = (30, 12, 3) if quick else (100, 40, 5)
    X, y, xs = _problem(n, mm, k)
    lam0 = 1.0
    Ts = (0.0, 0.25, 0.5, 1.0, 2.0) if quick else (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)
    lines = ["| switch-off T | lambda | A = lambda T | error ‖x∞ − x*‖ | ‖x∞ − argmin R_{−A}‖ | ‖x∞‖₁ | t_end (negative: not converged) |",
             "|---|---|---|---|---|---|---|"]
    figures, curves, results = {}, {}, []
    progress(f"weightdecay: float64 runs, decay off at T = {', '.join(map(str, Ts))}, and the equal-A pair")
    Tp = 1.0  # equal-A pair: (lambda0, Tp) and (2 lambda0, Tp/2)
    pair = [(X, y, 2 * lam0, Tp / 2)] + ([] if Tp in Ts else [(X, y, lam0, Tp)])
    runs = list(ordered_map(executor, _run_job, [(X, y, lam0, T) for T in Ts] + pair))
    for T, (x, t_end, curve) in zip(Ts, runs):
        A = lam0 * T
        ref = _reference(X, y, A)
        err, dref = np.linalg.norm(x - xs), np.max(np.abs(x - ref))
        results.append((T, A, err, dref, t_end))
        curves[(lam0, T)] = curve
        lines.append(f"| {T} | {lam0} | {A:.2f} | {err:.3e} | {dref:.1e} | {np.abs(x).sum():.4f} | {t_end:.1f} |")
        figures[f"error(A={A:g})"] = float(err)
        figures[f"dist_to_theory(A={A:g})"] = float(dref)
    x2, t2, c2 = runs[len(Ts)]
    c1 = curves[(lam0, Tp)] if Tp in Ts else runs[len(Ts) + 1][2]
    x1 = [r for r in results if r[0] == Tp]
    L = min(len(c1), len(c2))
    e1 = np.array([np.linalg.norm(c1[i][1] - xs) for i in range(L)])
    e2 = np.array([np.linalg.norm(c2[i][1] - xs) for i in range(L)])
    d = e1 - e2
    cross = [c1[i][0] for i in range(1, L) if np.sign(d[i]) != np.sign(d[i - 1]) and d[i] != 0]
    lim_gap = float(np.max(np.abs(_run(X, y, lam0, Tp)[0] - x2)))
    lines += ["", f"Equal A = {lam0 * Tp:g}: lambda = {lam0:g} on [0, {Tp:g}) vs lambda = {2 * lam0:g} on [0, {Tp / 2:g}): "
              f"error curves cross at t = {', '.join(f'{c:.2f}' for c in cross[:3]) or '(none on the grid)'}; "
              f"limits differ by {lim_gap:.1e} (max-norm, float64 Euler)."]
    figures["equal_A_crossing_t"] = cross[0] if cross else None
    figures["equal_A_limit_gap"] = lim_gap
    progress("weightdecay: Gaussian matrix sensing, decay off at several times")
    sens = _sensing((0.0, 0.5, 1.0) if quick else (0.0, 0.25, 0.5, 1.0, 1.5), d=6 if quick else 8,
                    m=12 if quick else 20)
    lines += ["", "Gaussian (non-commuting) matrix sensing W = UUᵀ (no potential: the fields do not commute), "
              "U₀ = I/2, rank-2 target, decay λ = 1 on [0, T):", "",
              "| T = A | ‖W∞‖_*/‖W∞‖_F | ‖W∞ − W*‖_F | converged |", "|---|---|---|---|"]
    for T, A_, ratio, err, ok in sens:
        lines.append(f"| {A_:g} | {ratio:.4f} | {err:.3e} | {ok} |")
        figures[f"sensing_ratio(A={A_:g})"] = float(ratio)
    spot = _spot_checks(progress, quick)
    lines += ["", "30-digit spot checks (ibcheck Taylor integrator, catalog model mw-decay, u0 = 1, v0 = alpha = 1/2 as above):", "",
              "| schedule | claim | residual | tolerance | digits | passed |", "|---|---|---|---|---|---|"]
    for s, c, r, tau, dg, ok in spot:
        lines.append(f"| {s} | {c} | {r:.1e} | {tau:.0e} | {dg:.1f} | {ok} |")
    passed = all(r[-1] for r in spot) and all(r[3] < 5e-2 and r[4] > 0 for r in results) and lim_gap < 5e-2 \
        and all(r[-1] for r in sens)
    table = "\n".join(lines) + "\n"
    files = [out_dir / "table.md"]
    files[0].write_text(table)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        ax[0].plot([r[1] for r in results], [r[2] for r in results], "o-")
        ax[0].set_xlabel("cumulative decay A"), ax[0].set_ylabel("‖x∞ − x*‖₂"), ax[0].set_yscale("log")
        ax[1].plot([c[0] for c in c1[:L]], e1, label=f"λ={lam0:g} on [0,{Tp:g})")
        ax[1].plot([c[0] for c in c2[:L]], e2, label=f"λ={2 * lam0:g} on [0,{Tp / 2:g})")
        ax[1].set_xscale("log"), ax[1].set_yscale("log"), ax[1].set_xlabel("t"), ax[1].legend()
        fig.tight_layout()
        fig.savefig(out_dir / "weightdecay.png", dpi=110)
        files.append(out_dir / "weightdecay.png")
    except ImportError:
        pass
    return Report("weightdecay", table, tuple(str(f) for f in files), passed, figures)
