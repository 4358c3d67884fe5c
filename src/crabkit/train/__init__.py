"""Training recipes: thin layers over TRL and PEFT (``pip install 'crabkit[train]'``).

* ``train_sft``: SFT on a run's ``train.jsonl``, loss on assistant tokens only, optional LoRA/packing.
* ``verifier_pairs`` / ``policy_pairs`` + ``train_dpo``: DPO on pairs labelled by the checkers.
* ``train_grpo`` with ``constraint_reward``: GRPO on ``ifeval_ground_truth.jsonl``.
* ``load_model`` / ``load_tokenizer``: a directory, Hub id, .gguf, or ``embedded`` (SmolLM2 GGUF).

Every TRL config field can be set from a YAML/JSON file (``crabkit.train.config``). Distributed
runs (multi-GPU, DeepSpeed, FSDP) are TRL's own: set ``deepspeed``/``fsdp`` in that file and start
``crab train ...`` under ``accelerate launch``. Importing this package does not import torch.
"""

from .config import LoraOptions, ModelOptions
from .dpo import load_preference_dataset, train_dpo
from .grpo import load_grpo_dataset, train_grpo
from .models import load_model, load_tokenizer, training_chat_template
from .pairs import PairsConfig, policy_pairs, verifier_pairs
from .rewards import constraint_reward
from .sft import load_sft_dataset, train_sft

__all__ = [
    "LoraOptions",
    "ModelOptions",
    "PairsConfig",
    "constraint_reward",
    "load_grpo_dataset",
    "load_model",
    "load_preference_dataset",
    "load_sft_dataset",
    "load_tokenizer",
    "policy_pairs",
    "train_dpo",
    "train_grpo",
    "train_sft",
    "training_chat_template",
    "verifier_pairs",
]
