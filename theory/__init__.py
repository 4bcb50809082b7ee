r"""ibcheck's symbolic side: parameterization -> conservation laws, mirror potentials,
limiting regularizers, proofs, LaTeX. Exact (SymPy) throughout; never imports ``numerics``."""
from .claims import (ConservedQuantity, Derivation, LawCount, LimitingRegularizer, MirrorPotential,
                     NoMirror, Proof)
from .errors import (IbcheckError, InvalidParameterization, LeafNotSolvable, NoMirrorPotential,
                     UndecidedError)
from .parameterization import TIME, Block, Coordinate, Parameterization, from_matrices, matrix_symbols, separable
from .derive import derive
from .verify import verify
from .latex import latex_claim, latex_document, latex_proof, latex_snippets
from .spec import SpecError, dump_spec, load_spec
from .laws import find_laws, prove_law
from .laws import lie_count
from .limits import derive_limits, prove_limit
from .mirror import brackets_vanish, derive_potential, leaf_potential, prove_potential
