"""Subcommands of the ``crab`` command, one module each."""
