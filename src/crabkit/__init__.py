"""crabkit: constraint back-translation (CRAB) end to end."""

__version__ = "0.1.0"
