"""Numeric side of the function-space claims (wide ReLU networks): mpmath quadrature of the
defining integrals, the check pipeline for ``kind="function-space"`` catalog entries, and NumPy
training of finite-width networks."""
