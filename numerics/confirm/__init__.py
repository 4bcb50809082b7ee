r"""The confirm stage behind ``ibcheck check``: derive, then confirm every claim numerically.

* :mod:`.pipeline`: one parameterization on one problem, every claim with its verdict;
* :mod:`.regimes`: limiting regularizers (flow limits as the scale tends to 0 or infinity);
* :mod:`.potential_values`: a stated potential's values against its own gradient;
* :mod:`.leaf`: claims on the leaf through :math:`x_0` (time-changed mirror, effective scale);
* :mod:`.log_variables`: inconclusive rows redone on the same flow in log coordinates.

The checks along one flow are :mod:`numerics.checks`; the verdict record is :mod:`numerics.verdict`.
"""
from .pipeline import confirm, law_count_verdict

__all__ = ["confirm", "law_count_verdict"]
