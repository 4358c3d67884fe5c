"""Imports every module that registers constraint types (one module per family)."""

# Each import runs that module's @register lines; order does not matter (the registry sorts by id).
# The 25 IFEval instruction types, under their reference ids.
from . import (  # noqa: F401  # noqa: F401  # noqa: F401  (CRAB and other non-IFEval types)
    case,
    combination,
    content,
    counts,
    format,
    ifbench_counts,  # IFBench's count:* and ratio:* types
    ifbench_format,  # IFBench's format:* types (suite 'ifbench': inferred only when asked for)
    ifbench_tasks,  # IFBench's custom:* and repeat:* types (checked only)
    ifbench_words,  # IFBench's words:* and sentence:* types
    keywords,
    language,
    length,
    marks,
    punctuation,
    startend,
    structure,
)
