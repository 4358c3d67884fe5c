"""Imports every module that registers constraint types (one module per family)."""

# Each import runs that module's @register lines; order does not matter (the registry sorts by id).
