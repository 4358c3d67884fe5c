"""Where ``crab generate`` processes its blocks. The local engine is the pipeline itself
(:func:`crabkit.pipeline.generate` with ``engine=None``); :class:`RayEngine` runs the same
:func:`crabkit.pipeline.process_block` on Ray Data workers (``pip install 'crabkit[scale]'``).
"""

from crabkit.engine.ray_engine import RayEngine

__all__ = ["RayEngine"]
