"""Numerics of models with an explicit regularizer (weight decay): segmented flows over the
schedule's pieces, the checks of decay claims, and the confirm pipeline behind ``ibcheck check``."""
