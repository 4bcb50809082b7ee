"""Errors of the numeric side; all derive from :class:`theory.IbcheckError`."""
from theory.errors import IbcheckError


class ProblemError(IbcheckError):
    """The problem data are inconsistent (shapes of X and y, m >= n where a claim needs m < n, ...)."""


class PrecisionTooLow(IbcheckError):
    """The working precision cannot deliver the requested tolerance."""


class FlowBlowUp(IbcheckError):
    """The flow left every bounded set (or hit a singularity) before the requested time."""


class NotConverged(IbcheckError):
    """The flow did not reach the convergence criterion within the time/step budget;
    ``trajectory`` holds the steps made so far (a complete trajectory up to its last step
    point, or None), so that a caller can judge the flow on the interval it reached instead of
    integrating it again."""

    def __init__(self, message: str, trajectory=None):
        super().__init__(message)
        self.trajectory = trajectory


class SingularInitialization(IbcheckError):
    """The initial point is a singular point of the vector field or of a claim (e.g. u = 0 in 1/u)."""
