r"""ibcheck's numeric side: high-precision flows (mpmath/gmpy2 Taylor integrator) that confirm
what ``theory`` derives, with honest verdicts (residual, tolerance, error estimate)."""
from .errors import FlowBlowUp, NotConverged, PrecisionTooLow, ProblemError, SingularInitialization
from .taylor.odes import ODESystem
from .verdict import Verdict
from .problems import Loss, Problem, random_problem
from .references import BregmanFailure, bregman_projection, min_l1_interpolant, min_l2_interpolant
from .checks import RunPair, check_kkt_limit, check_law, check_mirror, check_no_mirror, run
from .flows import Flow, gradient_flow, instantiate
from .taylor.integrator import Speed, Trajectory, integrate
from .confirm.regimes import check_potential_limit, check_regime
