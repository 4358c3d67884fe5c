"""Evaluation on instruction-following benchmarks; ``crabkit.eval.ifeval`` and ``crabkit.eval.ifbench`` score
IFEval and IFBench exactly as their references, with one engine (``crabkit.eval.scoring``).

Submodules are imported on use, so ``import crabkit.eval`` stays light.
"""
