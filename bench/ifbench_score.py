"""Time IFBench scoring (strict + loose) of the repository's 294 sample responses, in process, against the reference.

Baseline, measured in this run on the same responses: ``reference``, IFBench's ``evaluation_lib``
(``../shared/oracles/ifbench``, loaded offline by ``ifbench_oracle.py``, never copied),
``test_instruction_following_strict`` and ``..._loose`` for every one of the 300 prompts (prompts of
``words:start_verb``, which it cannot run offline, are left out of its rounds). Its rounds alternate
with crabkit's, so both are timed under the same load; crabkit's start with every memo emptied.
Printed: best and median wall time per round, and the reference's best over crabkit's best.

    .venv/bin/python bench/ifbench_score.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import ifbench_oracle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    from crabkit.eval.ifbench import IFBENCH, load_ifbench_prompts, unsupported_types
    from crabkit.eval.ifeval import clear_caches
    from crabkit.eval.scoring import read_responses, score

    data = ifbench_oracle.DATA
    prompts = load_ifbench_prompts(data / "IFBench_test.jsonl")
    responses = read_responses(data / "sample_output.jsonl")
    reason = ifbench_oracle.oracle_missing()
    _, lib = (None, None) if reason else ifbench_oracle.load_reference()
    table = lib.read_prompt_to_response_dict(str(data / "sample_output.jsonl")) if lib else {}
    unsupported = set(unsupported_types())
    inputs = [] if lib is None else [
        lib.InputExample(key=p.key, instruction_id_list=p.instruction_id_list, prompt=p.prompt, kwargs=p.kwargs)
        for p in prompts if not unsupported & set(p.instruction_id_list)
    ]  # fmt: skip

    def reference() -> None:
        for inp in copy.deepcopy(inputs):
            lib.test_instruction_following_strict(inp, table)
            lib.test_instruction_following_loose(inp, table)

    def crabkit() -> None:
        clear_caches()
        score(prompts, responses, bench=IFBENCH)

    if lib is not None:
        reference()  # untimed: the reference's lazy imports and models
    times: dict[str, list[float]] = {"crabkit": [], "reference": []}
    for _ in range(args.rounds):
        for name, fn in (("crabkit", crabkit), ("reference", reference if lib else None)):
            if fn is None:
                continue
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    print(f"IFBench sample: {len(prompts)} prompts, {len(responses)} responses, {args.rounds} rounds")
    for name, ts in times.items():
        if ts:
            print(f"  {name:9s} best {min(ts):.3f} s  median {statistics.median(ts):.3f} s per round")
    if times["reference"]:
        print(f"  reference / crabkit (best rounds): {min(times['reference']) / min(times['crabkit']):.1f}x "
              f"(the reference over {len(inputs)} prompts, crabkit over all {len(prompts)})")  # fmt: skip
    else:
        print(f"  no reference baseline: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
