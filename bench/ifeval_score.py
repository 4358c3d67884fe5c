"""Time IFEval scoring (strict + loose) of the 541 official GPT-4 responses, in process, against the reference.

Baselines, both measured in this run on the same 541 responses:
* ``reference``: the google-research reference code from ``../shared/oracles`` (imported, never
  copied), ``evaluation_lib.test_instruction_following_strict`` and ``..._loose`` for every prompt,
  in this process (its models load in its first round, which is left out of its best);
* ``plain``: this scorer with our speed-ups switched off (no memos, upstream langdetect, a fresh
  ``nltk.word_tokenize`` and Punkt per call).

Round 1 of crabkit is fully cold (models load, every memo empty). Rounds 2..N start with every memo
emptied, so they time the scoring itself, not answers remembered from the previous round. CPU time
of this process is reported beside wall time, because other work on a shared machine inflates wall
time. The ratio printed is the reference's best round over crabkit's best round, per response.

    .venv/bin/python bench/ifeval_score.py [--rounds 20] [--reference-rounds 4] [--data ../shared/data/ifeval]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

_SHARED = Path(__file__).resolve().parents[1].parent / "shared"
_DEFAULT_DATA = _SHARED / "data" / "ifeval"


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


def _reference(prompts, responses):
    """A function running the reference over every prompt (strict + loose), and its verdicts."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ifeval_differential import load_reference

    lib = load_reference()
    inputs = [lib.InputExample(key=p.key, instruction_id_list=p.instruction_id_list, prompt=p.prompt,
                               kwargs=p.kwargs) for p in prompts]  # fmt: skip
    table = {r["prompt"]: r["response"] for r in responses}

    def run() -> dict:
        return {
            inp.key: (
                lib.test_instruction_following_strict(inp, table).follow_instruction_list,
                lib.test_instruction_following_loose(inp, table).follow_instruction_list,
            )
            for inp in inputs
        }

    return run


def _rounds(fn, n: int, before=None) -> tuple[list[float], list[float], object]:
    walls, cpus, out = [], [], None
    for _ in range(n):
        if before is not None:
            before()
        wall, cpu, out = _timed(fn)
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--reference-rounds", type=int, default=4, help="rounds of the reference (first one warms it)")
    parser.add_argument("--data", type=Path, default=_DEFAULT_DATA)
    args = parser.parse_args(argv)
    if not (args.data / "input_data.jsonl").is_file():
        print(f"IFEval data not found under {args.data}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ifeval_differential import oracle_missing

    missing = oracle_missing()
    if missing:
        print(missing, file=sys.stderr)
        return 2

    from crabkit.eval.ifeval import clear_caches, score

    prompts, responses = _load(args.data)
    n = len(responses)
    per = 1000 / n

    wall, cpu, first = _timed(lambda: score(prompts, responses))
    print(f"crabkit round 1 (cold: models load, memos empty): {wall * per:.3f} ms/response wall, {cpu * per:.3f} cpu")
    walls, cpus, result = _rounds(lambda: score(prompts, responses), max(args.rounds - 1, 1), clear_caches)
    assert result.summary() == first.summary()
    best_wall, best_cpu = min(walls) * per, min(cpus) * per
    print(f"crabkit rounds 2..{len(walls) + 1} (memos emptied each round): median {statistics.median(walls) * per:.3f} "
          f"ms/response wall, best {best_wall:.3f} wall, best {best_cpu:.3f} cpu")  # fmt: skip

    reference = _reference(prompts, responses)
    ref_walls, ref_cpus, verdicts = _rounds(reference, max(args.reference_rounds, 2))
    ours = {r.key: (r.strict, r.loose) for r in first.results}
    agree = sum(ours[key] == verdicts[key] for key in ours)
    ref_wall, ref_cpu = min(ref_walls[1:]) * per, min(ref_cpus[1:]) * per
    print(f"reference (in process, rounds 2..{len(ref_walls)}): median {statistics.median(ref_walls[1:]) * per:.3f} "
          f"ms/response wall, best {ref_wall:.3f} wall, best {ref_cpu:.3f} cpu; first round "
          f"{ref_walls[0] * per:.3f} wall; same verdicts as crabkit on {agree}/{len(ours)} prompts")  # fmt: skip

    with _plain():
        wall, cpu, plain = _timed(lambda: score(prompts, responses))
    assert plain.summary() == first.summary(), "plain upstream calls disagree with the memoised path"
    plain_cpu = cpu * per
    print(f"plain (no memos, upstream langdetect/nltk), one warm round: {wall * per:.3f} ms/response wall, "
          f"{plain_cpu:.3f} cpu")  # fmt: skip

    s = first.summary()
    print(
        f"scores: prompt_strict {s['prompt_strict']:.4f}  instruction_strict {s['instruction_strict']:.4f}  "
        f"prompt_loose {s['prompt_loose']:.4f}  instruction_loose {s['instruction_loose']:.4f}"
    )
    print(f"speed-up vs the reference, measured in this run: {ref_cpu / best_cpu:.1f}x (best cpu), "
          f"{ref_wall / best_wall:.1f}x (best wall); vs plain: {plain_cpu / best_cpu:.1f}x (cpu)")  # fmt: skip
    return 0 if agree == len(ours) else 1


if __name__ == "__main__":
    sys.exit(main())
