r"""Weight decay inside the mirror flow: separable and matrix models with an explicit
regularizer :math:`\lambda(t)h` (Jacobs, Zhou, Burkholz, ICML 2025; Jacobs, Burkholz, ICLR 2025).

Every builder takes a ``schedule`` (SymPy in :data:`theory.parameterization.TIME`); the default
switches the decay off, :math:`\lambda = 1/2` on :math:`[0, 1)` and 0 after, so
:math:`A_\infty = 1/2` and the flow interpolates. ``*_literature`` functions return the papers'
claims in ibcheck's convention (:math:`\dot x = -M(J^\top\nabla L + \lambda\nabla h)`,
:math:`A = \int\lambda`), the same in PyTorch's convention where stated, negative controls, and
errata (printed formulas that fail, kept as :class:`~theory.regularized.Erratum`).
"""
from __future__ import annotations

import sympy as sp

from ..claims import MirrorPotential
from ..parameterization import TIME, Coordinate, separable
from ..regularized.derive import Admissible
from ..regularized.records import A, H0, Control, DecayingLaw, DecayOff, Effect, Erratum, TimePotential, a

alpha = sp.Symbol("alpha", positive=True)
m, w_, u, v = sp.symbols("m w u v", real=True)
up, vp = sp.symbols("u v", positive=True)
x = sp.Symbol("w", real=True)       # the output variable of per-coordinate potentials (theory.mirror.W)
mu = sp.Symbol("mu", real=True)

MIRROR = ("Jacobs, Zhou, Burkholz, 'Mirror, Mirror of the Flow: How Does Regularization Shape "
          "Implicit Bias?', ICML 2025 (arXiv 2504.12883)")
MASK = ("Jacobs, Burkholz, 'Mask in the Mirror: Implicit Sparsification', ICLR 2025 "
        "(arXiv 2408.09966v1)")

#: decay 1/2 on [0, 1), then off: A_oo = 1/2 (Heaviside, so that spec files can state it too)
SWITCH_OFF = sp.Heaviside(1 - TIME) / 2


def mw(n: int = 3, schedule=SWITCH_OFF):
    r""":math:`x = m\odot w`, :math:`h = \sum_i m_i^2 + w_i^2`, init :math:`u_0 = (m_0 + w_0)/\sqrt2 = 1`,
    :math:`v_0 = (m_0 - w_0)/\sqrt2 = \alpha` (PILoT, :math:`2u_0v_0 = m_0^2 - w_0^2 = 1`, at the
    default :math:`\alpha = 1/2`; :math:`\log(u_0/v_0) = \log(1/\alpha)`). Source: Jacobs & Burkholz 2025, Thm 3.1 ("Mask in the
    Mirror"); Jacobs et al. 2025, Eq. 8."""
    u0, v0 = sp.Integer(1), alpha
    c = Coordinate(params=(m, w_), output=m * w_, init=((u0 + v0) / sp.sqrt(2), (u0 - v0) / sp.sqrt(2)),
                   regularizer=m**2 + w_**2)
    return separable(c, n, "mw-decay", constants=(alpha,), source=MASK + ", Thm 3.1; " + MIRROR + ", Eq. 8",
                     description="x = m*w, h = m^2 + w^2, u0 = 1, v0 = alpha", schedule=schedule)


def _mw_init():
    r"""(u0, v0, x0, log(u0/v0)) of :func:`mw`. The logarithm is written
    :math:`\log(u_0/v_0) = \operatorname{arcsinh}(x_0/(u_0v_0))` (true for every init with
    :math:`u_0, v_0 > 0`: :math:`x_0 = (u_0^2 - v_0^2)/2`), the form the engine derives; SymPy does
    not equate the two forms on its own (tests/test_weightdecay_theory.py proves it)."""
    u0, v0 = sp.Integer(1), alpha
    x0 = (u0**2 - v0**2) / 2
    return u0, v0, x0, sp.asinh(x0 / (u0 * v0))


def mw_literature(p=None) -> tuple:
    r"""Corrected claims (re-derived, proved by the checker) next to the printed ones (errata).

    * :math:`m^2 - w^2 = \delta_0 e^{-4A}` (ibcheck), :math:`e^{-2W}` with PyTorch's
      :math:`W = \int wd` (``weight_decay=wd``);
    * :math:`\nabla R_a(x) = \tfrac12[\operatorname{arcsinh}(x/\beta_a) - \log(u_0/v_0)]`,
      :math:`\beta_a = u_0v_0e^{4a} = u_0v_0e^{-4A}` (corrected Thm 3.1) and, without decay,
      :math:`R_0(x) = \tfrac12[x\operatorname{arcsinh}(x/(u_0v_0)) - \sqrt{x^2 + u_0^2v_0^2} - x\log(u_0/v_0)]`
      (corrected Thm 2.1);
    * errata, "Mask in the Mirror" v1 as printed: Thm 3.1 with scale :math:`a_t = 2u_0v_0e^{-2\int\alpha}`
      (scale 2 and exponent 2 instead of 4), Thm 2.1 with factor :math:`\tfrac14` and scale :math:`2u_0v_0`.
    """
    u0, v0, x0, L = _mw_init()
    beta = u0 * v0 * sp.exp(4 * a)
    R31c = (x * sp.asinh(x / beta) - sp.sqrt(x**2 + beta**2) - x * L) / 2
    at = 2 * u0 * v0 * sp.exp(2 * a)              # printed: 2 u0 v0 exp(-2 int alpha), a = -int alpha
    R31 = (x * sp.asinh(x / at) - sp.sqrt(x**2 + at**2) - x * L) / 2
    R21 = (x * sp.asinh(x / (2 * u0 * v0)) - sp.sqrt(x**2 + 4 * u0**2 * v0**2) - x * L) / 4
    R21c = (x * sp.asinh(x / (u0 * v0)) - sp.sqrt(x**2 + u0**2 * v0**2) - x * L) / 2
    R21c = R21c - R21c.xreplace({x: x0})  # ibcheck's normalisation R(x0) = 0 (the paper's differs by a constant)
    return (
        DecayingLaw(m**2 - w_**2, H0 * sp.exp(-4 * A), coordinate=True),
        DecayingLaw(m**2 - w_**2, H0 * sp.exp(-2 * A), coordinate=True, convention="pytorch"),
        TimePotential(variables=(x,), potential=R31c, gradient=(sp.diff(R31c, x),), coordinate=True),
        Erratum(TimePotential(variables=(x,), potential=R31, gradient=(sp.diff(R31, x),), coordinate=True),
                MASK + ", Thm 3.1 (as printed)",
                note="scale 2 u0 v0 and exponent -2 int alpha: the identity grad R_a(argmin R_a) = 0 fails for a != 0",
                correction="beta_a = u0 v0 exp(-4 int alpha)"),
        Erratum(DecayOff(MirrorPotential(variables=(x,), potential=R21, gradient=(sp.diff(R21, x),),
                                         coordinate=True)),
                MASK + ", Thm 2.1 (as printed, no decay)",
                note="factor 1/4 with scale 2 u0 v0: grad R(x0) != 0",
                correction="factor 1/2 with scale u0 v0"),
        DecayOff(MirrorPotential(variables=(x,), potential=R21c, gradient=(sp.diff(R21c, x),), coordinate=True)),
    )


def mw_controls(p=None) -> tuple:
    """Negative controls the checker must reject: the other convention's factor, the decay-free
    potential frozen at a = 0 on a decayed flow."""
    u0, v0, x0, L = _mw_init()
    frozen = (sp.asinh(x / (u0 * v0)) - L) / 2
    ctl = "negative control"
    return (
        Control(DecayingLaw(m**2 - w_**2, H0 * sp.exp(-2 * A), coordinate=True), ctl,
                note="PyTorch's factor e^{-2W} read with ibcheck's A", correction="e^{-4A}"),
        Control(DecayingLaw(m**2 - w_**2, H0 * sp.exp(-4 * A), coordinate=True, convention="pytorch"), ctl,
                note="ibcheck's factor e^{-4A} read with PyTorch's W", correction="e^{-2W}"),
        Control(TimePotential(variables=(x,), gradient=(frozen,), coordinate=True), ctl,
                note="the decay-free potential R_0 on a decayed flow", correction="R_{a_t}, a_t = -A_t"),
    )


def quadratic(n: int = 3, schedule=SWITCH_OFF):
    r""":math:`x = u\odot u - v\odot v`, :math:`h = \|u\|^2 + \|v\|^2`, :math:`u_0 = v_0 = \alpha`.
    Decay is equivalent to an exponentially smaller init, :math:`\alpha_{\rm eff}^2 = \alpha^2 e^{-4A}`
    (re-derived; Jacobs et al. 2025, Sec. 3)."""
    c = Coordinate(params=(u, v), output=u**2 - v**2, init=(alpha, alpha), regularizer=u**2 + v**2)
    return separable(c, n, "diagonal-quadratic-decay", constants=(alpha,), source=MIRROR + ", Sec. 3",
                     description="x = u^2 - v^2, h = u^2 + v^2, u0 = v0 = alpha", schedule=schedule)


def quadratic_literature(p=None) -> tuple:
    r""":math:`uv = \alpha^2 e^{-4A}`; :math:`\nabla R_a(x) = \tfrac14\operatorname{arcsinh}(x/(2\alpha^2e^{4a}))`
    (Woodworth's :math:`Q_\alpha/4` with :math:`\alpha_{\rm eff}^2 = \alpha^2e^{4a}`)."""
    return (
        DecayingLaw(u * v, H0 * sp.exp(-4 * A), coordinate=True),
        TimePotential(variables=(x,), gradient=(sp.asinh(x / (2 * alpha**2 * sp.exp(4 * a))) / 4,),
                      coordinate=True),
    )


def power(k: int = 2, n: int = 3, schedule=SWITCH_OFF):
    r""":math:`x = u^{2k} - v^{2k}` (:math:`u, v > 0`) with its matched regularizer
    :math:`h = u^{2k} + v^{2k}` (Jacobs et al. 2025, Cor. 3.1), :math:`u_0 = v_0 = \alpha`."""
    p_ = 2 * k
    c = Coordinate(params=(up, vp), output=up**p_ - vp**p_, init=(alpha, alpha), regularizer=up**p_ + vp**p_)
    return separable(c, n, f"diagonal-power{p_}-decay", constants=(alpha,), source=MIRROR + ", Cor. 3.1",
                     description=f"x = u^{p_} - v^{p_}, h = u^{p_} + v^{p_}, u0 = v0 = alpha", schedule=schedule)


def power_literature(k: int = 2) -> tuple:
    r"""Re-derived: :math:`u^{2-p} + v^{2-p}` grows by :math:`2p(p-2)A` (:math:`p = 2k`);
    dual :math:`\nabla Q_a(\mu) = (\alpha^{2-p} - p(p-2)(\mu + a))^{-p/(p-2)} - (\alpha^{2-p} - p(p-2)(a - \mu))^{-p/(p-2)}`.
    Control: ordinary weight decay :math:`u^2 + v^2` declared admissible (refuted with the witness)."""
    p_ = 2 * k
    e = sp.Rational(-p_, p_ - 2)
    c0 = alpha ** (2 - p_)
    K = p_ * (p_ - 2)
    dual = (c0 - K * (mu + a)) ** e - (c0 - K * (a - mu)) ** e
    cu = c0 / K
    return (
        DecayingLaw(up ** (2 - p_) + vp ** (2 - p_), H0 + 2 * K * A, coordinate=True),
        TimePotential(variables=(x,), dual_variables=(mu,), dual_gradient=(dual,), coordinate=True),
        Effect("range", (a - cu, cu - a), verdict="widening", origin="user"),
        Erratum(Effect("range", (-cu - a, cu + a), verdict="shrinking", origin="user"),
                MIRROR + ", 'Eq. 9' as reported by reviews of the ICLR-2025 version (secondary source)",
                note="dual domain (-c_u - a, c_v + a): the sign of a is flipped; with a = -A it would shrink",
                correction="(a - c_v, c_u - a): widening by 2A"),
    )


def power_controls(k: int = 2) -> tuple:
    """Ordinary weight decay declared admissible for :math:`u^{2k} - v^{2k}` (refuted, witness shown)."""
    return (Control(Admissible(up**2 + vp**2), "negative control",
                    note=f"ordinary weight decay u^2 + v^2 declared admissible for u^{2 * k} - v^{2 * k}",
                    correction=f"u^{2 * k} + v^{2 * k}"),)


def quadratic_controls(p=None) -> tuple:
    """The decay-free potential (a frozen at 0) on a decayed flow."""
    return (Control(TimePotential(variables=(x,), gradient=(sp.asinh(x / (2 * alpha**2)) / 4,), coordinate=True),
                    "negative control", note="the decay-free potential R_0 on a decayed flow",
                    correction="alpha_eff^2 = alpha^2 e^{-4A}"),)


def entries(E) -> list:
    """Catalog entries of this family (``E`` is :class:`theory.catalog.Entry`)."""
    return [
        E("mw-decay", mw, lambda: mw_literature() + mw_controls(),
          "x = m*w with weight decay h = m^2 + w^2, decay switched off (Mask in the Mirror; errata)",
          {"n": 3}, values={"alpha": "1/2"}),
        E("diagonal-quadratic-decay", quadratic, lambda: quadratic_literature() + quadratic_controls(),
          "x = u^2 - v^2 with h = u^2 + v^2: decay = exponentially smaller init", {"n": 3},
          values={"alpha": "1/2"}),
        E("diagonal-power4-decay", lambda n=3: power(2, n), lambda: power_literature(2) + power_controls(2),
          "x = u^4 - v^4 with its matched regularizer u^4 + v^4 (not ordinary weight decay)", {"n": 3},
          values={"alpha": "1/2"}),
        E("lora-decay", lambda: lora(), lambda: lora_literature(),
          "LoRA W = B A with decay on both factors: B^T B - A A^T decays as e^{-4A}; no potential", {},
          mirror=False),
        E("sensing-commuting-decay", lambda: sensing_commuting(), sensing_commuting_literature,
          "W = U U^T, commuting symmetric measurements: trace potential + A tr W (non-separable KKT)", {},
          values={"alpha": "1/2"}),
        E("sensing-gaussian-decay", lambda: sensing_gaussian(), lambda: (),
          "W = U U^T, non-commuting measurements: no potential (witness)", {}, mirror=False,
          values={"alpha": "1/2"}),
    ]


# ---- matrix cases -------------------------------------------------------------------------------
def lora(d_out: int = 2, r: int = 2, d_in: int = 2, schedule=SWITCH_OFF):
    r"""LoRA :math:`W = BA` (:math:`B \in \mathbb R^{d_{out}\times r}`, :math:`A \in \mathbb R^{r\times d_{in}}`),
    decay on both factors, :math:`h = \|A\|_F^2 + \|B\|_F^2`, LoRA init :math:`B_0 = 0`, :math:`A_0` fixed.
    The fields of :math:`G` do not commute (no potential, witness shown), but every entry of
    :math:`B^\top B - AA^\top` decays as :math:`e^{-4A_t}` (:math:`e^{-2W}` in PyTorch's
    ``weight_decay``), Jacobs et al. 2025, Sec. 4 (LoRA)."""
    from ..parameterization import from_matrices, matrix_symbols
    Bm, Am = matrix_symbols("B", d_out, r), matrix_symbols("A", r, d_in)
    A0 = sp.Matrix(r, d_in, lambda i, j: sp.Rational((i + 2 * j) % 3 + 1, 2) * (-1) ** (i * j))
    h = sum(x**2 for x in list(Bm) + list(Am))
    return from_matrices("lora-decay", [("B", Bm), ("A", Am)], Bm * Am, [sp.zeros(d_out, r), A0],
                         source=MIRROR + ", Sec. 4 (LoRA)", description="W = B A, h = |A|^2 + |B|^2, B0 = 0",
                         regularizer=h, schedule=schedule)


def lora_literature(d_out: int = 2, r: int = 2, d_in: int = 2) -> tuple:
    r"""Each entry of :math:`B^\top B - AA^\top`: :math:`e^{-4A}` (ibcheck), :math:`e^{-2W}` (PyTorch);
    control: the PyTorch factor read in ibcheck's convention."""
    from ..parameterization import matrix_symbols
    Bm, Am = matrix_symbols("B", d_out, r), matrix_symbols("A", r, d_in)
    L = Bm.T * Bm - Am * Am.T
    out = []
    for i in range(r):
        for j in range(i, r):
            q = sp.expand(L[i, j])
            out.append(DecayingLaw(q, H0 * sp.exp(-4 * A)))
            out.append(DecayingLaw(q, H0 * sp.exp(-2 * A), convention="pytorch"))
    out.append(Control(DecayingLaw(sp.expand(L[0, 0]), H0 * sp.exp(-2 * A)), "negative control",
                       note="PyTorch's factor e^{-2W} read with ibcheck's A", correction="e^{-4A}"))
    return tuple(out)


def _sensing(name, measurements, schedule, description, cols=None, U0=None):
    from ..parameterization import Block, Parameterization, matrix_symbols
    d = measurements[0].shape[0]
    cols = d if cols is None else cols
    U = matrix_symbols("U", d, cols)
    W = U * U.T
    outs = tuple(sp.expand((Ai * W).trace()) for Ai in measurements)
    init = tuple(sp.eye(d) * alpha if U0 is None else U0)
    return Parameterization(name=name, params=tuple(U), outputs=outs, init=init, constants=(alpha,),
                            regularizer=sum(x**2 for x in U), schedule=schedule,
                            source=MIRROR + ", matrix sensing (final version)", blocks=(Block("U", (d, cols), tuple(U)),),
                            description=description)


#: an orthogonal change of basis with rational entries (3-4-5)
_P = sp.Matrix([[sp.Rational(3, 5), -sp.Rational(4, 5)], [sp.Rational(4, 5), sp.Rational(3, 5)]])


def sensing_commuting(schedule=SWITCH_OFF, square: bool = False):
    r"""Matrix sensing :math:`W = UU^\top`, commuting symmetric measurements
    :math:`A_i = P e_ie_i^\top P^\top` (outputs :math:`\langle A_i, W\rangle`), :math:`h = \|U\|_F^2`.
    The catalog entry uses a 2x1 factor :math:`U_0 = \alpha P(1, 1)^\top` (no decay-free law); with
    ``square=True`` :math:`U` is 2x2, :math:`U_0 = \alpha I` (then the decay-free flow has 2 laws,
    ratios of linear forms, that the law ansatz does not find; the potential is the same).
    Jacobs et al. 2025 (Thm 3.3, commuting quadratic maps): :math:`Q_a(\mu) = \tfrac14\|\exp(aB + \sum\mu_iA_i)w_0\|^2`;
    here :math:`R_a(W) = \tfrac14\operatorname{tr}(W\log W - W) + (\tfrac12\log(1/\alpha) + A)\operatorname{tr}W`
    on the commuting algebra (:math:`\operatorname{tr}W = \|W\|_*` for PSD W): a nuclear-norm term growing with A."""
    meas = [_P * sp.diag(*[1 if j == i else 0 for j in range(2)]) * _P.T for i in range(2)]
    if square:
        return _sensing("sensing-commuting-decay", meas, schedule,
                        "W = U U^T, commuting symmetric measurements, U0 = alpha I")
    return _sensing("sensing-commuting-decay", meas, schedule,
                    "W = u u^T (2x1 factor), commuting symmetric measurements, u0 = alpha P (1, 1)",
                    cols=1, U0=list(alpha * _P * sp.Matrix([1, 1])))


def sensing_commuting_literature(square: bool = False) -> tuple:
    r""":math:`\nabla R_a(w)_i = \tfrac14\log(w_i/w_{i,0}) - a` on :math:`w_i = \langle A_i, W\rangle`
    (the gradient of the trace potential :math:`\tfrac14\operatorname{tr}(W\log W - W) + (\dots + A)\operatorname{tr}W`
    restricted to the commuting algebra); :math:`w_{i,0} = \alpha^2` for :math:`U_0 = \alpha I`."""
    ws = sp.symbols("w_1 w_2", real=True)
    w0 = [alpha**2] * 2 if square else [alpha**2, alpha**2]
    return (TimePotential(variables=ws, gradient=tuple(sp.log(wi / c) / 4 - a for wi, c in zip(ws, w0))),
            Control(TimePotential(variables=ws, gradient=tuple(sp.log(wi / c) / 4 for wi, c in zip(ws, w0))),
                    "negative control", note="the decay-free entropy potential (no A tr W term) on a decayed flow",
                    correction="+ A tr W"))


def sensing_gaussian(schedule=SWITCH_OFF):
    r"""Matrix sensing :math:`W = UU^\top` with non-commuting symmetric measurements (fixed
    rational draws standing in for Gaussian ones): no time-dependent potential, witness bracket."""
    meas = [sp.Matrix([[1, sp.Rational(1, 2)], [sp.Rational(1, 2), -sp.Rational(1, 3)]]),
            sp.Matrix([[-sp.Rational(2, 3), 1], [1, sp.Rational(1, 4)]])]
    return _sensing("sensing-gaussian-decay", meas, schedule, "W = U U^T, non-commuting symmetric measurements")


def diagonal_attention(n: int = 3, schedule=SWITCH_OFF):
    r"""Attention scores :math:`x^\top K^\top Q x'` with diagonal key and query matrices
    :math:`K = \operatorname{diag}(k)`, :math:`Q = \operatorname{diag}(q)` and decay on both: the
    effective matrix :math:`K^\top Q = \operatorname{diag}(k\odot q)` is the map of :func:`mw` with
    :math:`(m, w) = (k, q)` and the same regularizer (Jacobs et al. 2025, attention). Built from
    matrices, not from the :func:`mw` template, so the reduction is a statement the checker proves."""
    from ..parameterization import Block, Parameterization
    ks = sp.symbols(f"k_1:{n + 1}", real=True)
    qs = sp.symbols(f"q_1:{n + 1}", real=True)
    Km, Qm = sp.diag(*ks), sp.diag(*qs)
    KQ = Km.T * Qm
    u0, v0 = sp.Integer(1), alpha
    init = [(u0 + v0) / sp.sqrt(2)] * n + [(u0 - v0) / sp.sqrt(2)] * n
    return Parameterization(name="diagonal-attention-decay", params=ks + qs,
                            outputs=tuple(KQ[i, i] for i in range(n)), init=tuple(init), constants=(alpha,),
                            regularizer=sum(k**2 for k in ks) + sum(q**2 for q in qs), schedule=schedule,
                            source=MIRROR + ", attention (diagonal K, Q)",
                            blocks=(Block("K", (n, n), ks), Block("Q", (n, n), qs)),
                            description="diag(K)^T diag(Q), h = |K|^2 + |Q|^2")
