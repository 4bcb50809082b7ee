"""The law engine: conservation laws :math:`h` with :math:`J_G M \\nabla h = 0` and their forms on the
leaf through the initialization.

* :mod:`.lie` — how many laws there are (Lie-algebra rank; jets in :mod:`._lie_jets`, residues in
  :mod:`._lie_modular`, shared Leibniz rule in :mod:`._leibniz`);
* :mod:`.search` — finding and proving them (polynomial/Laurent ansatz, characteristics);
* :mod:`.darboux` — logarithmic and rational laws :math:`\\sum_k c_k \\log P_k + F`;
* :mod:`.leaf` — a law with another law frozen at its value at :math:`x_0` (a leaf identity);
* :mod:`.leaf_potential` — claims that hold on the leaf through :math:`x_0` only.
"""
from .search import (LAW_IDENTITY, characteristic_law, find_laws, law_summary, laws_equivalent,
                     prove_law)
from .lie import lie_count

__all__ = ["LAW_IDENTITY", "characteristic_law", "find_laws", "law_summary", "laws_equivalent",
           "prove_law", "lie_count"]
