"""Evaluation on instruction-following benchmarks; ``crabkit.eval.ifeval`` scores IFEval exactly as the reference.

Submodules are imported on use, so ``import crabkit.eval`` stays light.
"""
