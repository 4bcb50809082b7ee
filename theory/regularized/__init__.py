r"""Explicit regularization inside the mirror flow (weight decay): admissibility of :math:`(G, h)`,
decaying laws in :math:`A_t = \int_0^t\lambda`, time-dependent potentials :math:`R_{a_t}`, the
three effects, schedules. Jacobs, Zhou, Burkholz, 'Mirror, Mirror of the Flow: How Does
Regularization Shape Implicit Bias?', ICML 2025 (arXiv 2504.12883)."""
from .derive import Admissible, derive_regularized, has_regularization, verify_regularized
from .records import (A, H0, Admissibility, Control, DecayingLaw, DecayOff, Effect, Erratum, RegularizedDerivation,
                      TimePotential, a)
from .schedules import ScheduleError, ScheduleInfo, analyse_schedule

__all__ = ["A", "H0", "a", "Admissibility", "Admissible", "Control", "DecayingLaw", "DecayOff", "Effect", "Erratum",
           "RegularizedDerivation", "ScheduleError", "ScheduleInfo", "TimePotential", "analyse_schedule",
           "derive_regularized", "has_regularization", "verify_regularized"]
