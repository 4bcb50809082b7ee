"""Errors of the function-space claims (all :class:`theory.IbcheckError`, so the CLI exits 2)."""
from ..errors import IbcheckError


class InvalidLaw(IbcheckError):
    """An initialization law is malformed: a density that does not integrate to 1 or is negative,
    weights that do not sum to 1, a support that is not an interval."""


class InvalidData(IbcheckError):
    """Data the selected function cannot be built for: repeated or too few x, non-rational values."""


class DegeneratePenalty(IbcheckError):
    """The curvature penalty 1/zeta is infinite somewhere on the data range (zeta vanishes there)."""
