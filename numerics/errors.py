"""Errors of the numeric side; all derive from :class:`theory.IbcheckError`."""
from theory.errors import IbcheckError


class ProblemError(IbcheckError):
    """The problem data are inconsistent (shapes of X and y, m >= n where a claim needs m < n, ...)."""


class PrecisionTooLow(IbcheckError):
    """The working precision cannot deliver the requested tolerance."""


class FlowBlowUp(IbcheckError):
    """The flow left every bounded set (or hit a singularity) before the requested time."""


class NotConverged(IbcheckError):
    """The flow did not reach the convergence criterion within the time/step budget."""


class SingularInitialization(IbcheckError):
    """The initial point is a singular point of the vector field or of a claim (e.g. u = 0 in 1/u)."""
