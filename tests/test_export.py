"""`crab export`: the forms training tools read, Parquet equal to JSONL, `datasets` directories, a
dataset card the Hub's loader follows, and the push to the Hub (up to the call: no Hub here)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from conftest import shared_path, write_pairs
from crabkit.export import (
    ExportConfig,
    ExportError,
    FormError,
    export_run,
    read_parquet_rows,
    rlvr_rows,
    sft_rows,
)
from crabkit.export.forms import JSON_COLUMNS
from crabkit.pipeline import GenerateConfig, generate
from tiny_model import run_cli

datasets = pytest.importorskip("datasets", reason="the export's datasets directories need the 'hf' extra")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def run_dir(ground_truth_run) -> Path:
    return ground_truth_run


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory, run_dir) -> Path:
    """`crab pairs` output: each sample instruction with its own and the next record's response."""
    return write_pairs(run_dir, tmp_path_factory.mktemp("pairs") / "pairs.jsonl", "--form", "standard")


# --- forms ------------------------------------------------------------------------------------------


def test_sft_prompt_completion_puts_every_turn_before_the_final_answer_in_the_prompt():
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "demo q"},
            {"role": "assistant", "content": "demo a"}, {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a"}]  # fmt: skip
    [row] = sft_rows([{"id": "x-fwd", "kind": "forward", "messages": msgs}])
    assert row["prompt"] == msgs[:-1] and row["completion"] == msgs[-1:]
    [whole] = sft_rows([{"id": "x-fwd", "messages": msgs}], "messages")
    assert whole["messages"] == msgs and "prompt" not in whole


def test_bad_rows_are_errors_naming_the_row_and_field():
    with pytest.raises(FormError, match=r"row 2 \(id b\): field 'messages' must end with the assistant's answer"):
        list(sft_rows([{"id": "a", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
                       {"id": "b", "messages": [{"role": "user", "content": "q"}]}]))  # fmt: skip
    with pytest.raises(FormError, match=r"row 1 \(id s\): field 'kwargs' must be a list with one entry per"):
        list(rlvr_rows([{"seed_id": "s", "prompt": "p", "instruction_id_list": ["punctuation:no_comma"], "kwargs": []}]))
    with pytest.raises(FormError, match="unknown RLVR form 'trl'"):
        list(rlvr_rows([], "trl"))


# --- the export directory ---------------------------------------------------------------------------


def test_export_directory_loads_with_load_from_disk_and_through_its_card(run_dir, pairs_file, tmp_path):
    out = tmp_path / "export"
    result = export_run(run_dir, out, ExportConfig(pairs=str(pairs_file)))
    assert set(result.configs) == {"sft", "rlvr", "dpo"}
    for name, (path, n) in result.configs.items():
        local = datasets.load_from_disk(str(out / name))
        assert len(local) == n > 0
        hub_style = datasets.load_dataset(str(out), name, split="train", cache_dir=str(tmp_path / "cache"))
        assert hub_style.to_list() == local.to_list(), name
    sft = datasets.load_from_disk(str(out / "sft"))
    assert {"prompt", "completion", "kind"} <= set(sft.column_names)
    assert all(row["completion"][0]["role"] == "assistant" for row in sft)
    dpo = datasets.load_from_disk(str(out / "dpo"))
    assert isinstance(dpo[0]["prompt"], list) and dpo[0]["chosen"][0]["role"] == "assistant"


def test_card_has_a_hub_header_and_a_body_that_renders(run_dir, tmp_path):
    from huggingface_hub import DatasetCard
    from markdown_it import MarkdownIt

    result = export_run(run_dir, tmp_path / "export", ExportConfig(license="apache-2.0"))
    card = DatasetCard.load(result.card)
    assert card.data.license == "apache-2.0"
    assert card.data.task_categories == ["text-generation"]
    assert card.data.size_categories == ["n<1K"]
    assert [c["config_name"] for c in card.data.configs] == ["sft", "rlvr"]
    html = MarkdownIt("commonmark").enable("table").render(card.text)
    assert html.count("<table>") == 4 and "<h2>Constraint types asked in the SFT prompts</h2>" in html
    stats = json.loads((run_dir / "stats.json").read_text())
    assert f"<td>{stats['seeds']}</td>" in html and f"<td>{stats['demonstrations']}</td>" in html
    assert "<td>IFEval</td>" in html and "<td>crabkit only</td>" in html


def test_license_comes_from_the_input_records_when_they_state_one(tmp_path, sample_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({**row, "license": "CC-BY-4.0"}) + "\n" for row in _jsonl(sample_path)))
    generate(GenerateConfig(input=str(src), min_words=10), tmp_path / "run", progress=False)
    result = export_run(tmp_path / "run", tmp_path / "export", ExportConfig(save_to_disk=False))
    assert result.license == "cc-by-4.0"
    assert "license: cc-by-4.0" in result.card.read_text()
    plain = export_run(tmp_path / "run", tmp_path / "export", ExportConfig(save_to_disk=False, license="mit"))
    assert plain.license == "mit"


FORMS = [("sft", "sft_form", "prompt-completion"), ("sft", "sft_form", "messages"),
         ("rlvr", "rlvr_form", "grpo"), ("rlvr", "rlvr_form", "open-instruct"), ("rlvr", "rlvr_form", "ifeval"),
         ("dpo", "pairs_form", "conversational"), ("dpo", "pairs_form", "standard")]  # fmt: skip


@pytest.mark.parametrize(("config", "option", "form"), FORMS)
def test_parquet_holds_the_same_rows_as_jsonl(run_dir, pairs_file, tmp_path, config, option, form):
    base = {"pairs": str(pairs_file), "save_to_disk": False, option: form}
    as_jsonl = export_run(run_dir, tmp_path / "j", ExportConfig(format="jsonl", **base)).configs[config][0]
    as_parquet = export_run(run_dir, tmp_path / "p", ExportConfig(format="parquet", **base)).configs[config][0]
    rows = _jsonl(as_jsonl)
    assert rows and read_parquet_rows(as_parquet, JSON_COLUMNS.get(form, ())) == rows


def test_same_run_same_options_same_bytes(run_dir, tmp_path):
    def files(d: Path) -> dict[str, bytes]:
        return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}

    a = files(export_run(run_dir, tmp_path / "a").out_dir)
    b = files(export_run(run_dir, tmp_path / "b").out_dir)
    assert "sft/data-00000-of-00001.arrow" in a and "data/rlvr.parquet" in a
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k] and k != "README.md"] == []
    assert a["README.md"].replace(b"/a", b"/b") == b["README.md"]  # the card names its own directory


def test_export_refuses_a_directory_of_someone_else_and_an_unfinished_run(run_dir, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="is not empty and is not a crab export"):
        export_run(run_dir, mine)
    with pytest.raises(ExportError, match="has no manifest.json"):
        export_run(tmp_path, tmp_path / "out")


def test_default_export_lives_in_the_run_directory_and_the_run_still_resumes(run_dir, sample_path, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    assert run_cli(["export", str(run), "--format", "jsonl", "--no-save-to-disk"]) == 0
    assert (run / "export" / "data" / "sft.jsonl").is_file()
    cfg = GenerateConfig(input=str(sample_path), min_words=10)
    cfg.compose.ground_truth = "every"
    assert generate(cfg, run, progress=False).already_done  # the run directory still is crab's own


def test_push_to_hub_uploads_the_card_and_data_files(run_dir, tmp_path, monkeypatch, capsys):
    import huggingface_hub

    calls: list[tuple[str, tuple, dict]] = []

    class CommitInfo:
        oid = "abc123"

    def create_repo(self, *args, **kwargs):
        calls.append(("create_repo", args, kwargs))

    def upload_folder(self, **kwargs):
        calls.append(("upload_folder", (), kwargs))
        folder = Path(kwargs["folder_path"])
        assert (folder / "README.md").is_file() and (folder / "data" / "sft.parquet").is_file()
        return CommitInfo()

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", create_repo)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
    out = tmp_path / "export"
    assert run_cli(["export", str(run_dir), "--out", str(out), "--push-to-hub", "me/crab-data", "--private"]) == 0
    assert calls[0] == ("create_repo", ("me/crab-data",), {"repo_type": "dataset", "private": True, "exist_ok": True})
    name, _, kw = calls[1]
    assert name == "upload_folder" and kw["repo_id"] == "me/crab-data" and kw["repo_type"] == "dataset"
    assert Path(kw["folder_path"]) == out and kw["allow_patterns"] == ["README.md", "data/*"]
    assert 'load_dataset("me/crab-data", "sft"' in (out / "README.md").read_text()
    assert "pushed to https://huggingface.co/datasets/me/crab-data (abc123)" in capsys.readouterr().out


def test_a_failed_push_is_one_line_and_exit_status_2(run_dir, tmp_path, monkeypatch, capsys):
    import huggingface_hub

    def refuse(self, *args, **kwargs):
        raise huggingface_hub.errors.LocalTokenNotFoundError("Token is required but no token found")

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", refuse)
    code = run_cli(["export", str(run_dir), "--out", str(tmp_path / "e"), "--push-to-hub", "me/x", "--no-save-to-disk"])
    assert code == 2
    assert "push to me/x failed: LocalTokenNotFoundError: Token is required" in capsys.readouterr().err


# --- open-instruct's RLVR layout, scored the way open-instruct scores it -------------------------------


def open_instruct_ifeval_score(prediction: str, label: str) -> float:
    """open-instruct's ``IFEvalVerifier`` contract (``open_instruct/ground_truth_utils.py``): the
    label is a string that ``ast.literal_eval`` reads as a list whose first item is a dict (or its
    JSON text) with ``instruction_id`` and ``kwargs``; None kwargs are dropped; the score is the
    share of instructions whose IFEval checker passes on the prediction."""
    from crabkit.constraints import get_by_ifeval_id

    constraint = ast.literal_eval(label)[0]
    if isinstance(constraint, str):
        constraint = json.loads(constraint)
    rewards = []
    for key, args in zip(constraint["instruction_id"], constraint["kwargs"], strict=True):
        args = {k: v for k, v in (args or {}).items() if v is not None}
        ctype = get_by_ifeval_id(key)  # crabkit's IFEval checkers (reference-exact on IFEval's 541)
        rewards.append(1.0 if prediction.strip() and ctype.check(prediction, ctype.from_kwargs(args)) else 0.0)
    return sum(rewards) / len(rewards)


def test_open_instruct_rows_pass_its_ifeval_verifier_on_their_reference_answers(run_dir, tmp_path):
    result = export_run(run_dir, tmp_path / "e", ExportConfig(format="jsonl", rlvr_form="open-instruct",
                                                             save_to_disk=False))  # fmt: skip
    rows = _jsonl(result.configs["rlvr"][0])
    truth = {r["seed_id"]: r for r in _jsonl(run_dir / "ifeval_ground_truth.jsonl")}
    assert len(rows) == len(truth)
    for row in rows:
        assert set(row) == {"id", "messages", "ground_truth", "dataset"} and row["dataset"] == "ifeval"
        assert row["messages"][-1] == {"role": "user", "content": truth[row["id"]]["prompt"]}
        assert open_instruct_ifeval_score(truth[row["id"]]["response"], row["ground_truth"]) == 1.0
    # And it does fail: an answer that ignores the constraints scores below 1 on most rows.
    scores = [open_instruct_ifeval_score("ok", row["ground_truth"]) for row in rows]
    assert sum(s < 1 for s in scores) > len(rows) / 2


# --- on the shared pairs -------------------------------------------------------------------------------


def test_generate_and_export_on_the_shared_pairs(tmp_path):
    from huggingface_hub import DatasetCard

    pairs = shared_path("seed_pairs", "pairs_flat.jsonl")
    run = tmp_path / "run"
    assert run_cli(["generate", str(pairs), "--out", str(run), "--ground-truth", "every", "--no-progress"]) == 0
    assert run_cli(["export", str(run), "--out", str(tmp_path / "p")]) == 0
    assert run_cli(["export", str(run), "--out", str(tmp_path / "j"), "--format", "jsonl", "--no-save-to-disk"]) == 0
    for name in ("sft", "rlvr"):
        rows = _jsonl(tmp_path / "j" / "data" / f"{name}.jsonl")
        assert read_parquet_rows(tmp_path / "p" / "data" / f"{name}.parquet") == rows
        assert len(datasets.load_from_disk(str(tmp_path / "p" / name))) == len(rows)
    stats = json.loads((run / "stats.json").read_text())
    assert len(_jsonl(tmp_path / "j" / "data" / "rlvr.jsonl")) >= 0.6 * stats["seeds"]
    card = DatasetCard.load(tmp_path / "p" / "README.md")
    assert card.data.size_categories == ["1K<n<10K"] and "## Counts" in card.text


# --- crab train reads the exported files as they are ------------------------------------------------


def test_crab_train_loaders_read_exported_files(run_dir, tmp_path):
    from crabkit.train.grpo import load_grpo_dataset
    from crabkit.train.rewards import constraint_reward
    from crabkit.train.sft import load_sft_dataset

    out = export_run(run_dir, tmp_path / "e", ExportConfig(format="jsonl", save_to_disk=False)).configs
    assert load_sft_dataset(out["sft"][0]).to_list() == load_sft_dataset(run_dir / "train.jsonl").to_list()
    exported = load_grpo_dataset(out["rlvr"][0])
    direct = load_grpo_dataset(run_dir / "ifeval_ground_truth.jsonl")
    assert exported.to_list() == direct.to_list()
    truth = _jsonl(run_dir / "ifeval_ground_truth.jsonl")
    assert any(json.loads(c) for c in exported["constraints"]), "the crabkit-only constraints are rewarded too"
    rewards = constraint_reward(exported["prompt"], [r["response"] for r in truth], **{
        k: exported[k] for k in ("instruction_id_list", "kwargs", "constraints", "reference_words")})
    assert rewards == [1.0] * len(truth)
    assert constraint_reward(exported["prompt"], ["no"] * len(truth), **{
        k: exported[k] for k in ("instruction_id_list", "kwargs", "constraints", "reference_words")}) == [0.0] * len(truth)


def test_card_names_the_input_file_but_not_the_exporters_directories(run_dir, tmp_path):
    card = export_run(run_dir, tmp_path / "e", ExportConfig(save_to_disk=False)).card.read_text()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    source = Path(manifest["config"]["input"])
    assert f"| input | {source.name} |" in card and str(source.parent) not in card


def test_standard_pairs_with_earlier_turns_cannot_be_parquet_and_say_so(run_dir, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    rows = [{"prompt": "q", "chosen": "a", "rejected": "b"},
            {"prompt": [{"role": "user", "content": "q0"}, {"role": "assistant", "content": "a0"},
                        {"role": "user", "content": "q"}], "chosen": "a", "rejected": "b"}]  # fmt: skip
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(ExportError, match="dpo: the rows do not make one table .* use the conversational form"):
        export_run(run_dir, tmp_path / "e", ExportConfig(pairs=str(pairs), pairs_form="standard", save_to_disk=False))
    ok = export_run(run_dir, tmp_path / "e", ExportConfig(pairs=str(pairs), save_to_disk=False))
    assert read_parquet_rows(ok.configs["dpo"][0], ("constraints", "kwargs"))[1]["prompt"][0]["content"] == "q0"
