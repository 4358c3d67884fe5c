"""Time IFEval scoring (strict + loose) of the 541 official GPT-4 responses, in process, against the reference.

Baselines, both measured in this run on the same 541 responses:
* ``reference``: the google-research reference code from ``../shared/oracles`` (imported, never
  copied), ``evaluation_lib.test_instruction_following_strict`` and ``..._loose`` for every prompt,
  in this process (its models load in a first, untimed round); its rounds alternate with crabkit's, so
  both are timed under the same load;
* ``plain``: this scorer with our speed-ups switched off (no memos, upstream langdetect, a fresh
  ``nltk.word_tokenize`` and Punkt per call).

Round 1 of crabkit is fully cold (models load, every memo empty). Rounds 2..N start with every memo
emptied, so they time the scoring itself, not answers remembered from the previous round. CPU time
of this process is reported beside wall time, because other work on a shared machine inflates wall
time. The ratio printed is the reference's best round over crabkit's best round, per response.

    .venv/bin/python bench/ifeval_score.py [--rounds 21] [--reference-rounds 5] [--data ../shared/data/ifeval]
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


def _explained(prompt, responses) -> bool:
    """Whether a README deviation covers one of the prompt's instructions on its response."""
    from ifeval_differential import Triple, documented_deviation

    response = next(r["response"] for r in responses if r["prompt"] == prompt.prompt)
    return any(
        documented_deviation(Triple(iid, kw, prompt.prompt, response)) is not None
        for iid, kw in zip(prompt.instruction_id_list, prompt.kwargs)
    )


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
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--reference-rounds", type=int, default=5, help="timed rounds of the reference")
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
    reference = _reference(prompts, responses)
    ref_first, _, verdicts = _timed(reference)  # the reference's models load here
    # Interleaved (a reference round, then crabkit rounds), so both see the same load on a shared machine.
    walls, cpus, ref_walls, ref_cpus = [], [], [], []
    per_reference = max(1, (args.rounds - 1) // max(args.reference_rounds, 1))
    for _ in range(max(args.reference_rounds, 1)):
        wall, cpu, verdicts = _timed(reference)
        ref_walls.append(wall)
        ref_cpus.append(cpu)
        more_walls, more_cpus, result = _rounds(lambda: score(prompts, responses), per_reference, clear_caches)
        assert result.summary() == first.summary()
        walls += more_walls
        cpus += more_cpus
    best_wall, best_cpu = min(walls) * per, min(cpus) * per
    print(f"crabkit, {len(walls)} rounds (memos emptied each round): median {statistics.median(walls) * per:.3f} "
          f"ms/response wall, best {best_wall:.3f} wall, best {best_cpu:.3f} cpu")  # fmt: skip
    ref_wall, ref_cpu = min(ref_walls) * per, min(ref_cpus) * per
    print(f"reference (in process, {len(ref_walls)} rounds after a warm-up of {ref_first * per:.3f}): median "
          f"{statistics.median(ref_walls) * per:.3f} ms/response wall, best {ref_wall:.3f} wall, best {ref_cpu:.3f} cpu")  # fmt: skip
    ours = {r.key: (r.strict, r.loose) for r in first.results}
    differ = [p for p in prompts if ours[p.key] != verdicts[p.key]]
    unexplained = [p.key for p in differ if not _explained(p, responses)]
    print(f"verdicts: the same as the reference's on {len(ours) - len(differ)}/{len(ours)} prompts; differing: "
          f"{[p.key for p in differ]}, of which not a documented deviation: {unexplained}")  # fmt: skip
    agree = not unexplained

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
          f"{ref_wall / best_wall:.1f}x (best wall), {statistics.median(ref_cpus) / statistics.median(cpus):.1f}x "
          f"(median cpu); vs plain: {plain_cpu / best_cpu:.1f}x (cpu)")  # fmt: skip
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
