"""Imports every module that registers constraint types (one module per family)."""

# Each import runs that module's @register lines; order does not matter (the registry sorts by id).
# The 25 IFEval instruction types, under their reference ids.
from . import case, combination, content, format, keywords  # noqa: F401
from . import language, length, punctuation, startend  # noqa: F401
from . import counts, marks, structure  # noqa: F401  (CRAB and other non-IFEval types)
