"""The LLM stage of ``crab generate``: a refined instruction and judged soft constraints per seed.

One module per job: :mod:`.config` (settings, building the backend), :mod:`.prompts` (templates and
reading JSON back), :mod:`.refine`, :mod:`.soft` and :mod:`.soft_types` (what is asked for and how
answers are read), :mod:`.measurable` (claims code can check), :mod:`.judge` (verdicts),
:mod:`.dedup`, :mod:`.runner` (each seed's requests as its own flow; several blocks in flight),
:mod:`.plan` (the dry run's estimate) and :mod:`.scripted` (the offline demo responder).
Imports go one way: runner -> steps -> prompts -> ``crabkit.llm``.
"""

from crabkit.llmstage.config import BACKEND_NAMES, BudgetExhausted, LLMConfig, backend_settings, build_backend
from crabkit.llmstage.prompts import PROMPTS
from crabkit.llmstage.runner import StageResult, StageRunner, arun_block, first_requests, run_llm_stage
from crabkit.llmstage.scripted import demo_script

__all__ = [
    "BACKEND_NAMES",
    "PROMPTS",
    "BudgetExhausted",
    "LLMConfig",
    "StageResult",
    "StageRunner",
    "arun_block",
    "backend_settings",
    "build_backend",
    "demo_script",
    "first_requests",
    "run_llm_stage",
]
