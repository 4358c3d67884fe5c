"""One block of seeds to back-translated records: rules, edits and the contrast choice, per request.

The driver hands over a block whose seeds are grouped by request (all answers to one instruction
side by side, see ``crabkit.pipeline``), so every answer's siblings are at hand, and the answers of
the previous requests serve as "other" answers. Per seed:

1. rules: every verifiable constraint it (or its edited form) satisfies (``backtranslate_rules``),
   with its contrast answers given to the types that read them (words the others use and this one
   avoids);
2. edits: for ``EditConfig.rate`` of the seeds, one edit of :mod:`crabkit.backtranslate.edits`
   (chosen before any back-translation: an edited seed is back-translated on its edited text only);
   kept only when the edit's target type is inferred on the edited text (edits whose target is not
   among the run's types are never tried);
3. contrast: per type, the variant the other answers fail most often (``choose_informative``).

Edits are balanced within the block: of the edits a seed allows, the one applied least often so far
(relative to its weight) is chosen, so the rarer ones get their turn whenever a seed allows them;
the rarest (``Edit.eager``: a yes/no answer, a letter with names) are tried on every seed.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator, Sequence

from crabkit.constraints import ConstraintType
from crabkit.records import Seed

from .contrast import ContrastConfig, choose_informative
from .edits import DEFERRED, EditConfig, EditContext, candidate_edits
from .rules import Backtranslated, _rng, backtranslate_rules, describe_constraints

__all__ = ["prepare_block", "request_groups"]


def request_groups(seeds: Sequence[Seed]) -> Iterator[list[Seed]]:
    """Runs of consecutive seeds that answer the same request."""
    run: list[Seed] = []
    for seed in seeds:
        if run and seed.request_key != run[0].request_key:
            yield run
            run = []
        run.append(seed)
    if run:
        yield run


def _nearest(texts: Sequence[str], i: int, most: int) -> list[str]:
    """Up to ``most`` other texts of a group, the ones after ``i`` first (then from the start),
    skipping copies of ``texts[i]``."""
    order = [*range(i + 1, len(texts)), *range(i)]
    out: list[str] = []
    for j in order:
        if texts[j] != texts[i] and texts[j] not in out:
            out.append(texts[j])
            if len(out) >= most:
                break
    return out


def _compatible(types: Sequence[ConstraintType], target: str) -> list[ConstraintType]:
    """The types that can share a prompt with ``target`` (an edited answer always asks for it)."""
    from crabkit.constraints.conflicts import conflicts

    return [t for t in types if t.id == target or not conflicts(target, t.id)]


def _edited(
    seed: Seed,
    siblings: Sequence[str],
    contrast: Sequence[str],
    run_seed: int,
    types: Sequence[ConstraintType],
    cfg: EditConfig,
    used: Counter[str],
) -> tuple[str, Backtranslated | None] | None:
    """The edit chosen for the seed and the seed back-translated with it (see the module
    docstring); None when it is not chosen for an edit or no edit fits it. A deferred edit
    (applied at composition) comes with None. Only the types that can be asked beside the edit's
    target are inferred: an edited answer is always asked for that target."""
    rng = _rng(run_seed, seed.id, "edit")
    eager_only = rng.random() >= cfg.rate
    ctx = EditContext(seed.instruction, seed.response, tuple(siblings))
    # An edit whose target type is not inferred (``--types ifbench``) could never be kept.
    inferred = {t.id for t in types}
    options = [e for e in candidate_edits(cfg, eager_only) if e.target in inferred]
    # The least used edit (for its weight) first; the rng breaks ties.
    rng.shuffle(options)
    options.sort(key=lambda e: used[e.id] / cfg.weight(e.id))
    for edit in options:
        edited = edit.apply(ctx, rng)
        if edited is None:
            continue
        if edit.id in DEFERRED:
            used[edit.id] += 1
            return edit.id, None
        new = backtranslate_rules(
            seed, run_seed, _compatible(types, edit.target), response=edited, contrast=contrast, salt=":edit",
            describe=False,
        )  # fmt: skip
        if edit.target in new.candidates:
            new.edit = edit.id
            used[edit.id] += 1
            return edit.id, new
    return None


def prepare_block(
    seeds: Sequence[Seed],
    run_seed: int,
    types: Sequence[ConstraintType],
    edits: EditConfig | None = None,
    contrast: ContrastConfig | None = None,
) -> list[Backtranslated]:
    """Back-translate ``seeds`` (grouped by request) with edits and the contrast choice, in order."""
    edits = edits or EditConfig()
    contrast = contrast or ContrastConfig()
    out: list[Backtranslated] = []
    recent: deque[str] = deque(maxlen=max(contrast.others, 1))  # answers to the previous requests
    used: Counter[str] = Counter()
    for group in request_groups(seeds):
        texts = [s.response for s in group]
        others = list(recent)[-contrast.others :] if contrast.others else []
        for i, seed in enumerate(group):
            siblings = _nearest(texts, i, contrast.siblings)
            answers = [*siblings, *others]
            chosen = _edited(seed, siblings, answers, run_seed, types, edits, used) if edits.rate > 0 else None
            if chosen is not None and chosen[1] is not None:
                bt = chosen[1]
            else:
                bt = backtranslate_rules(seed, run_seed, types, contrast=answers, describe=False)
                bt.edit = chosen[0] if chosen is not None else None
            choose_informative(bt, siblings, others)
            describe_constraints(bt, run_seed)
            out.append(bt)
        recent.extend(_spread(texts, contrast.others))
    return out


def _spread(texts: Sequence[str], most: int) -> list[str]:
    """Up to ``most`` distinct texts of a group, from its end (the most recently analysed)."""
    out: list[str] = []
    for t in reversed(texts):
        if t not in out:
            out.append(t)
        if len(out) >= most:
            break
    return out[::-1]
