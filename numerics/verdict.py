r"""The record every numeric check returns.

A verdict reports the measured residual, the tolerance it was held to, the working precision
and an error estimate (typically the change of the residual's inputs under a second run at
higher precision), so that a reader sees *how well* a claim held, not only whether.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class Verdict:
    model: str
    claim: str            # human-readable claim, e.g. "law u_i*v_i", "mirror identity", "KKT limit"
    kind: str             # "law" | "mirror" | "limit" | "regularizer" | ...
    passed: bool
    residual: float       # measured, in the units of ``scale`` (relative where scale != 1)
    tolerance: float
    dps: int
    error_estimate: float  # estimated numerical error of the residual itself
    symbolic: str = ""    # proof status from theory: proved / refuted / undecided / n/a
    seconds: float = 0.0
    details: dict = field(default_factory=dict)

    @property
    def digits(self) -> float:
        """Digits of agreement: -log10(residual), capped at the working precision."""
        if self.residual <= 0:
            return float(self.dps)
        if not math.isfinite(self.residual):  # a check that could not run agrees to no digit
            return 0.0
        return min(float(self.dps), -math.log10(self.residual))

    @property
    def status(self) -> str:
        """confirmed / refuted / inconclusive / error / skipped."""
        return self.details.get("status", "confirmed" if self.passed else "refuted")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["digits"] = round(self.digits, 2)
        return d

    def _repr_html_(self) -> str:  # Jupyter
        return verdicts_html([self])


class Verdicts(list):
    """A list of verdicts that a notebook displays as an HTML table: ``Verdicts(confirm(...))``."""

    def _repr_html_(self) -> str:
        return verdicts_html(self)


def _fmt(x: float) -> str:
    return f"{x:.2e}" if isinstance(x, float) and math.isfinite(x) else "&ndash;"


def verdicts_html(verdicts) -> str:
    """An HTML table of verdicts: model, claim, symbolic and numeric status, residual,
    tolerance and what it means, digits (escaped: claims are user text)."""
    from html import escape

    head = ("model", "claim", "symbolic", "numeric", "residual", "tolerance", "test", "digits")
    rows = []
    for v in verdicts:
        digits = "&ndash;" if v.kind == "no-mirror" or not math.isfinite(v.residual) else f"{v.digits:.1f}"
        cells = (escape(v.model), escape(v.claim), escape(v.symbolic or "-"), escape(v.status),
                 _fmt(v.residual), _fmt(v.tolerance), escape(test_meaning(v.kind)), digits)
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return ("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


#: what the tolerance means, per kind of check (the table's "test" column and the JSON "test")
TESTS = {
    "law": ("defect <= tol", "max_t |h(x(t)) - h(x(0))| / max(1, |h(x(0))|) at most the tolerance"),
    "mirror": ("defect <= tol", "max_t |grad R(w(t)) - mu(t)| (or |w(t) - grad Q(mu(t))|), relative, "
                                "at most the tolerance"),
    "limit": ("distance <= tol", "|w_flow(oo) - argmin D_R(w, w0) s.t. Xw = y|, relative, at most the tolerance"),
    "limit-potential": ("decreasing, last <= tol", "the defect |factor (R(w) - R(0)) - leading(w)| decreases "
                        "along scales approaching the limit point and ends below tol = max(1/2 x the "
                        "first defect, its error estimate)"),
    "regime": ("decreasing, last <= tol", "the distance of the flow limit to the reference interpolant "
               "decreases along the scale sweep and ends below tol = 1/2 x the first distance"),
    "no-mirror": ("|bracket| > tol", "the witness Lie bracket at an exact point is larger than the "
                  "rounding tolerance: the refusal of a potential is not an artefact"),
    "flow": ("-", "the flow itself could not be integrated"),
}


def test_meaning(kind: str, wide: bool = False) -> str:
    short, long = TESTS.get(kind, ("-", "no numeric test"))
    return long if wide else short


def skipped(model: str, claim: str, kind: str, dps: int, reason: str, symbolic: str = "") -> Verdict:
    """A check that does not apply to this model or problem (never a failure, never a pass of
    the claim: ``status`` is "skipped" and ``details.reason`` says why)."""
    return Verdict(model=model, claim=claim, kind=kind, passed=True, residual=math.nan,
                   tolerance=math.nan, dps=dps, error_estimate=math.nan, symbolic=symbolic,
                   details={"status": "skipped", "reason": reason})


def failed_verdict(model: str, label: str, kind: str, dps: int, exc: Exception, symbolic: str) -> Verdict:
    """A check that could not run is a failed verdict that says why (never a silent pass)."""
    return Verdict(model=model, claim=label, kind=kind, passed=False, residual=float("inf"),
                   tolerance=0.0, dps=dps, error_estimate=float("inf"), symbolic=symbolic,
                   details={"status": "error", "error": f"{type(exc).__name__}: {exc}"})


def flag_inconsistency(v: Verdict) -> Verdict:
    """A claim proved symbolically can never be refuted numerically: when it is, one of the two
    halves has a defect. The row then fails as an internal inconsistency (and ``check`` exits
    non-zero) instead of showing two contradictory verdicts."""
    status = v.details.get("status", "confirmed" if v.passed else "refuted")
    if v.symbolic != "proved" or status != "refuted":
        return v
    return replace(v, passed=False, details={**v.details, "status": "inconsistent",
                                              "error": "internal inconsistency: proved symbolically "
                                                       "but refuted numerically; please report it"})


def relabeled(v: Verdict, label: str) -> Verdict:
    """``v`` under another claim label."""
    return replace(v, claim=label)
