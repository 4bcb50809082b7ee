"""Where proof verdicts are made: :mod:`.zero` decides whether an expression vanishes identically
(proved / refuted with a certified witness / undecided), with the decisive rules it tries first,
:mod:`.log_identities` (real sums of arsinh and log terms, by exponentiating) and :mod:`.signs`
(exact signs of real expressions, and absolute values resolved by them)."""
