"""Errors that name the problem.

Every refusal in ``theory`` raises one of these, with a message a user can act on;
none of them is a bare SymPy/mpmath traceback.
"""


class IbcheckError(ValueError):
    """Base class of every error ibcheck raises on bad input or impossible requests."""


class InvalidParameterization(IbcheckError):
    """The parameterization itself is malformed (unknown symbols, shapes, init outside the domain)."""


class NoMirrorPotential(IbcheckError):
    r"""The fields :math:`\nabla G_i` do not commute, so no mirror potential exists for every loss.

    ``witness`` holds the pair ``(i, j)`` and the nonzero bracket
    :math:`[\nabla G_i, \nabla G_j]` (a tuple of SymPy expressions), and ``point`` an exact
    rational point where it is nonzero (Li, Wang, Lee, Arora et al. 2022, Thm 4.10).
    """

    def __init__(self, message, pair=None, bracket=None, point=None):
        super().__init__(message)
        self.pair = pair
        self.bracket = bracket
        self.point = point


class LeafNotSolvable(IbcheckError):
    """The invariant leaf {G(x) = w, laws(x) = laws(x0)} could not be solved for x in closed form."""


class UndecidedError(IbcheckError):
    """A symbolic question could not be decided (raised only where an answer is mandatory)."""


class UnsupportedModel(IbcheckError):
    """The model has a part the derivation does not handle (a regularizer, a schedule, a name
    the engine reserves): refused by name rather than silently ignored."""
