"""Time IFEval scoring (strict + loose) of the 541 official GPT-4 responses, in process.

Baselines:
* the google-research reference: ~2.2 s for the 541 responses, whole process (``evaluation_main``,
  strict + loose), i.e. ~4.07 ms per response, measured earlier on this machine;
* ``plain``: this scorer with our speed-ups switched off (no memos, upstream langdetect, a fresh
  ``nltk.word_tokenize`` and Punkt per call), measured in this run.

Round 1 is fully cold (models load, every memo empty). Rounds 2..N start with every memo emptied,
so they time the scoring itself, not answers remembered from the previous round. CPU time of this
process is reported beside wall time, because other work on a shared machine inflates wall time.

    .venv/bin/python bench/ifeval_score.py [--rounds 20] [--data ../shared/data/ifeval]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REFERENCE_MS_PER_RESPONSE = 2200 / 541  # ~4.07 ms, whole-process, measured earlier on this machine
_DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ifeval"


def _load(data: Path):
    from crabkit.eval.ifeval import read_prompts, read_responses

    prompts = read_prompts(data / "input_data.jsonl")
    responses = read_responses(data / "input_response_data_gpt4_20231107_145030.jsonl")
    current = {p.key: p.prompt for p in prompts}
    for record in responses:  # the one prompt the GPT-4 file keys by its older wording
        if record["prompt"].startswith("What is inside Shinto shrines?"):
            record["prompt"] = current[2785]
    return prompts, responses


@contextlib.contextmanager
def _plain() -> Iterator[None]:
    """Swap the memoised analyses for direct upstream calls (langdetect, nltk) for one run."""
    import langdetect
    from langdetect import DetectorFactory
    from nltk.tokenize import word_tokenize
    from nltk.tokenize.punkt import PunktTokenizer

    from crabkit import text
    from crabkit.constraints import case, language, length

    text.punkt_dir()  # NLTK finds the english model where crabkit wrote it

    def plain_language(value: str) -> str | None:
        DetectorFactory.seed = 0
        try:
            return langdetect.detect(value)
        except langdetect.LangDetectException:
            return None

    punkt = PunktTokenizer("english")  # one instance, as the reference caches it

    def plain_sentences(value: str) -> int:
        return len(punkt.tokenize(value))

    def plain_upper(value: str) -> int:
        return sum(1 for t in word_tokenize(value) if t.isupper())

    replacements = {
        "language": plain_language,
        "sentence_count": plain_sentences,
        "upper_token_count": plain_upper,
    }
    targets = {case: ("language", "upper_token_count"), language: ("language",), length: ("sentence_count",)}
    originals = {(m, name): getattr(m, name) for m, names in targets.items() for name in names}
    try:
        for module, name in originals:
            setattr(module, name, replacements[name])
        yield
    finally:
        for (module, name), fn in originals.items():
            setattr(module, name, fn)


def _timed(fn) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--data", type=Path, default=_DEFAULT_DATA)
    args = parser.parse_args(argv)
    if not (args.data / "input_data.jsonl").is_file():
        print(f"IFEval data not found under {args.data}", file=sys.stderr)
        return 2

    from crabkit.eval.ifeval import clear_caches, score

    prompts, responses = _load(args.data)
    n = len(responses)
    per = 1000 / n

    wall, cpu, first = _timed(lambda: score(prompts, responses))
    print(f"round 1 (cold: models load, memos empty): {wall * per:.3f} ms/response wall, {cpu * per:.3f} cpu")
    walls, cpus = [], []
    for _ in range(args.rounds - 1):
        clear_caches()
        wall, cpu, result = _timed(lambda: score(prompts, responses))
        assert result.summary() == first.summary()
        walls.append(wall)
        cpus.append(cpu)
    if walls:
        best_wall, best_cpu = min(walls) * per, min(cpus) * per
        print(
            f"rounds 2..{args.rounds} (memos emptied each round): median {statistics.median(walls) * per:.3f} "
            f"ms/response wall, best {best_wall:.3f} wall, best {best_cpu:.3f} cpu"
        )
    else:
        best_wall, best_cpu = wall * per, cpu * per

    with _plain():
        wall, cpu, plain = _timed(lambda: score(prompts, responses))
    assert plain.summary() == first.summary(), "plain upstream calls disagree with the memoised path"
    plain_cpu = cpu * per
    print(
        f"plain (no memos, upstream langdetect/nltk), one warm round: {wall * per:.3f} ms/response wall, "
        f"{plain_cpu:.3f} cpu"
    )

    s = first.summary()
    print(
        f"scores: prompt_strict {s['prompt_strict']:.4f}  instruction_strict {s['instruction_strict']:.4f}  "
        f"prompt_loose {s['prompt_loose']:.4f}  instruction_loose {s['instruction_loose']:.4f}"
    )
    print(
        f"speed-up vs reference (~{REFERENCE_MS_PER_RESPONSE:.2f} ms/response whole-process): "
        f"{REFERENCE_MS_PER_RESPONSE / best_cpu:.1f}x (best cpu), {REFERENCE_MS_PER_RESPONSE / best_wall:.1f}x "
        f"(best wall); vs plain in this run: {plain_cpu / best_cpu:.1f}x (cpu)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
