r"""The record every numeric check returns.

A verdict reports the measured residual, the tolerance it was held to, the working precision
and an error estimate (typically the change of the residual's inputs under a second run at
higher precision), so that a reader sees *how well* a claim held, not only whether.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


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

    def as_dict(self) -> dict:
        d = asdict(self)
        d["digits"] = round(self.digits, 2)
        return d
