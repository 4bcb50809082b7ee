r"""A model with no mirror potential: a linear net :math:`\mathbb R \to \mathbb R \to \mathbb R^2`.

:math:`w = (a\,c,\ b\,c)` (two outputs sharing one hidden unit :math:`c`). The fields
:math:`\nabla w_1 = (c, 0, a)`, :math:`\nabla w_2 = (0, c, b)` have bracket
:math:`(-b, a, 0) \ne 0`, so by Li, Wang, Lee, Arora et al., NeurIPS 2022
(Thm 4.10: a mirror flow for every loss needs commuting fields) no potential exists.
Source of the model: Marcotte, Gribonval, Peyré 2023, Sec. 4 (linear networks).
"""
from __future__ import annotations

import sympy as sp

from ..parameterization import Parameterization

LI = ("Li, Wang, Lee, Arora et al., 'Implicit Bias of Gradient Descent on Reparametrized Models: "
      "On Equivalence to Mirror Descent', NeurIPS 2022, Thm 4.10")


def shared_hidden_unit() -> Parameterization:
    r""":math:`w = (a c, b c)`, init :math:`(a, b, c) = (1, 2, 1)`: non-commuting, refused.

    Source: Li et al. 2022, Thm 4.10 (commuting fields are necessary); one law
    :math:`a^2 + b^2 - c^2` (Marcotte et al. 2023, balancedness).
    """
    a, b, c = sp.symbols("a b c", real=True)
    return Parameterization(name="shared-hidden-unit", params=(a, b, c), outputs=(a * c, b * c),
                            init=(1, 2, 1), source=LI,
                            description="w = (a c, b c): a 1-2 linear net through one hidden unit")
