"""A tiny random Llama and a locally trained byte-level BPE tokenizer, saved as a model directory.

Real enough for TRL's SFT, DPO and GRPO trainers to run end to end on CPU in seconds; nothing is
downloaded. The chat template is ChatML with ``{% generation %}`` markers so assistant-only loss works.
"""

from __future__ import annotations

from pathlib import Path

# Own text, a few KB once repeated: enough for the BPE trainer to learn a few hundred merges.
_CORPUS = """\
Here are five tips for sleeping better. Keep a steady schedule, even at weekends.
Keep the room cool, dark and quiet. Stop drinking coffee by early afternoon.
Put the phone away half an hour before bed and read a book instead.
A good summary names the main idea first, then the evidence, then what follows from it.
Write the answer in three short paragraphs. Use a bullet list with exactly four items.
The answer must contain the word river at least twice and end with a question?
Python lists keep their order; sets do not. Use a dictionary to count words quickly.
* First item of a list
* Second item of a list
# A markdown heading
**bold text** and *italic text* and a [placeholder] in square brackets.
The quick brown fox jumps over the lazy dog, 1234567890 times, said the teacher.
"""

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\\n' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def build_tokenizer(vocab_size: int = 400):
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on the built-in corpus."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([_CORPUS] * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=CHAT_TEMPLATE,
    )


def build_tiny_model(out_dir: str | Path, *, seed: int = 0) -> Path:
    """Save a random 2-layer Llama (hidden size 32) with its tokenizer to ``out_dir``; return the path."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    out = Path(out_dir)
    tokenizer = build_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def run_cli(argv: list[str]) -> int:
    """Run a ``crab`` command in-process, exactly as the console script does."""
    from crabkit.cli import main

    return main(argv)
