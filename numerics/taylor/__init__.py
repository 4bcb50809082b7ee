"""The Taylor engine: ODE systems as straight-line programs, Taylor jets (reference mpmath,
gmpy2 fast path, fixed point) and the adaptive integrator with dense output."""
