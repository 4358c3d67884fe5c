"""Readers: every source format, bad input that never stops the stream, and streaming."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import threading
import tracemalloc
import types
from pathlib import Path

import pytest

from crabkit.io import ReadError, read_records
from crabkit.io import readers as readers_mod
from crabkit.records import Reject, Seed

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ANSWER = "Gravity pulls masses toward each other, which is why things fall."


def pair(i: int) -> dict:
    return {"instruction": f"Question {i}?", "output": f"{ANSWER} ({i})", "id": i}


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def split(items):
    seeds = [x for x in items if isinstance(x, Seed)]
    rejects = [x for x in items if isinstance(x, Reject)]
    return seeds, rejects


# --- JSONL ---------------------------------------------------------------------------------------------


def test_jsonl_records_come_in_order_with_line_origins(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [pair(i) for i in range(3)])
    seeds = list(read_records(path))
    assert [s.instruction for s in seeds] == ["Question 0?", "Question 1?", "Question 2?"]
    assert [s.origin for s in seeds] == [f"{path}:{n}" for n in (1, 2, 3)]
    assert seeds[1].meta == {"id": 1}


def test_mixed_bad_jsonl_keeps_every_good_record_and_rejects_each_bad_one(tmp_path):
    huge = "word " * 1_000_000  # a 5 MB response
    lines = [
        json.dumps(pair(0)).encode(),
        b'{"instruction": "broken", "output": ',  # line 2: broken JSON
        json.dumps(pair(1)).encode(),
        json.dumps({"instruction": "no answer"}).encode(),  # line 4: missing field
        json.dumps({"instruction": "Q", "output": 12345}).encode(),  # line 5: number
        json.dumps({"instruction": "Q", "output": None}).encode(),  # line 6: null
        json.dumps({"instruction": ["a", "b"], "output": ANSWER}).encode(),  # line 7: list
        json.dumps(pair(2)).encode(),
        json.dumps({"instruction": "Q", "output": "   "}).encode(),  # line 9: whitespace response
        json.dumps({"instruction": "Q", "output": huge}).encode(),  # line 10: 5 MB
        b'{"instruction": "Q", "output": "caf\xe9 latin-1 bytes"}',  # line 11: invalid UTF-8
        b"",  # line 12: blank, skipped
        b"[1, 2, 3]",  # line 13: not an object
        json.dumps(pair(3)).encode(),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    items = list(read_records(path))
    seeds, rejects = split(items)
    assert [s.meta["id"] for s in seeds] == [0, 1, 2, 3]
    assert [s.origin for s in seeds] == [f"{path}:{n}" for n in (1, 3, 8, 14)]
    got = {int(r.origin.rsplit(":", 1)[1]): (r.field, r.reason) for r in rejects}
    assert sorted(got) == [2, 4, 5, 6, 7, 9, 10, 11, 13]
    assert got[2][1].startswith("invalid JSON:")
    assert got[4] == ("response", "missing field: no response field (output, response, completion, answer)")
    assert got[5] == ("output", "not text: output is a number, expected text")
    assert got[6] == ("output", "not text: output is null, expected text")
    assert got[7] == ("instruction", "not text: instruction is a list, expected text")
    assert got[9] == ("output", "empty: output is only whitespace")
    assert got[10] == ("output", "too long: output has 5,000,000 characters, more than 200,000")
    assert got[11][0] == "output" and got[11][1].startswith("invalid UTF-8: output")
    assert got[13][1].startswith("not an object:")
    # Items come out in input order, rejects interleaved where they were.
    assert [int(x.origin.rsplit(":", 1)[1]) for x in items] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14]


def test_line_over_the_byte_limit_is_skipped_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(readers_mod, "MAX_LINE_BYTES", 200)
    path = write_jsonl(tmp_path / "a.jsonl", [pair(0), {"instruction": "Q", "output": "x" * 1000}, pair(1)])
    seeds, rejects = split(list(read_records(path)))
    assert [s.meta["id"] for s in seeds] == [0, 1]
    assert rejects[0].origin == f"{path}:2" and rejects[0].reason.startswith("too long: line")


def test_bom_and_crlf_are_tolerated(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + json.dumps(pair(0)).encode() + b"\r\n" + json.dumps(pair(1)).encode() + b"\r\n"
    )
    assert [s.meta["id"] for s in read_records(path)] == [0, 1]


def test_gzipped_jsonl(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("".join(json.dumps(pair(i)) + "\n" for i in range(2)))
    assert [s.meta["id"] for s in read_records(path)] == [0, 1]


def test_stdin_dash_reads_jsonl(monkeypatch):
    data = "".join(json.dumps(pair(i)) + "\n" for i in range(2)).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    seeds = list(read_records("-"))
    assert [s.origin for s in seeds] == ["<stdin>:1", "<stdin>:2"]


# --- JSON documents ------------------------------------------------------------------------------------


def test_json_array(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([pair(i) for i in range(3)], indent=2))
    seeds = list(read_records(path))
    assert [s.meta["id"] for s in seeds] == [0, 1, 2]
    assert seeds[2].origin == f"{path}#2"


@pytest.mark.parametrize("key", ["data", "records", "rows"])
def test_json_object_with_a_list_of_records(tmp_path, key):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"version": 2, "meta": {"rows": [1]}, key: [pair(0), pair(1)]}, indent=1))
    assert [s.meta["id"] for s in read_records(path)] == [0, 1]


def test_json_single_record(tmp_path):
    path = tmp_path / "one.json"
    path.write_text(
        json.dumps({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": ANSWER}]})
    )
    (seed,) = read_records(path)
    assert seed.response == ANSWER and seed.origin == f"{path}#0"


def test_json_named_file_holding_jsonl_is_read_as_jsonl(tmp_path):
    path = write_jsonl(tmp_path / "really_lines.json", [pair(0), pair(1)])
    assert [s.origin for s in read_records(path)] == [f"{path}:1", f"{path}:2"]


def test_jsonl_named_file_holding_a_json_array(tmp_path):
    path = tmp_path / "really_array.jsonl"
    path.write_text(json.dumps([pair(0), pair(1)], indent=2))
    assert [s.meta["id"] for s in read_records(path)] == [0, 1]


def test_broken_json_array_keeps_the_records_before_the_error(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(
        '[{"prompt": "Q1", "response": "A1"},\n {"prompt": "Q2", "response": tru},\n {"prompt": "Q3"}]'
    )
    seeds, rejects = split(list(read_records(path)))
    assert [s.instruction for s in seeds] == ["Q1"]
    assert rejects[0].origin == f"{path}#1" and rejects[0].reason.startswith("invalid JSON:")


def test_json_object_whose_only_list_holds_the_records(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"model_name": "m", "prompts": [pair(0), pair(1)]}, indent=2))
    assert [s.origin for s in read_records(path)] == [f"{path}#0", f"{path}#1"]


def test_invalid_utf8_in_a_json_document_costs_only_its_record(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(b'[{"prompt": "Q1", "response": "A1"}, {"prompt": "Q2", "response": "caf\xe9"}, '
                     b'{"prompt": "Q3", "response": "A3"}]')  # fmt: skip
    seeds, rejects = split(list(read_records(path)))
    assert [s.instruction for s in seeds] == ["Q1", "Q3"]
    assert rejects[0].origin == f"{path}#1" and rejects[0].reason.startswith("invalid UTF-8")
    assert rejects[0].field == "response"


def test_json_array_with_bad_records_rejects_them_by_index(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([pair(0), {"instruction": "Q", "output": 1.5}, "text", pair(1)]))
    items = list(read_records(path))
    assert [type(x).__name__ for x in items] == ["Seed", "Reject", "Reject", "Seed"]
    assert (items[1].origin, items[1].field) == (f"{path}#1", "output")


# --- Parquet, directories, Hugging Face ----------------------------------------------------------------


def test_parquet_round_trip(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = [pair(i) for i in range(600)]  # more than one record batch
    rows[5] = {"instruction": "Q", "output": "", "id": 5}
    path = tmp_path / "a.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=100)
    seeds, rejects = split(list(read_records(path)))
    assert len(seeds) == 599 and seeds[0].instruction == "Question 0?" and seeds[-1].meta["id"] == 599
    assert (rejects[0].origin, rejects[0].field) == (f"{path}#5", "output")


def test_parquet_with_message_lists(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    conv = [{"role": "user", "content": "Q"}, {"role": "assistant", "content": ANSWER}]
    path = tmp_path / "chat.parquet"
    pq.write_table(pa.Table.from_pylist([{"messages": conv, "source": "s"}]), path)
    (seed,) = read_records(path)
    assert (seed.instruction, seed.response, seed.meta) == ("Q", ANSWER, {"source": "s", "turn": 1})


def test_parquet_of_mixed_layouts_reads_every_row(tmp_path):
    """A table holds every column in every row: the other layouts' keys come as nulls, and a
    conversation flattened into a text cell comes as JSON text."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    conv = json.dumps([{"role": "user", "content": "Q2"}, {"role": "assistant", "content": ANSWER}])
    rows = [{"instruction": "Q1", "output": ANSWER, "messages": None, "response": None},
            {"instruction": None, "output": None, "messages": conv, "response": None},
            {"instruction": "Q3", "output": None, "messages": None, "response": ANSWER}]  # fmt: skip
    path = tmp_path / "mixed.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    seeds, rejects = split(list(read_records(path)))
    assert [s.instruction for s in seeds] == ["Q1", "Q2", "Q3"] and rejects == []


def test_directory_of_shards_and_split_selection(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "ds" / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([pair(0)]), data / "train-00000-of-00002.parquet")
    write_jsonl(data / "train-00001-of-00002.jsonl", [pair(1)])
    write_jsonl(data / "test-00000-of-00001.jsonl", [pair(9)])
    assert [s.meta["id"] for s in read_records(tmp_path / "ds")] == [9, 0, 1]
    assert [s.meta["id"] for s in read_records(f"{tmp_path / 'ds'}:train")] == [0, 1]
    with pytest.raises(ReadError, match="no .jsonl"):
        read_records(f"{tmp_path / 'ds'}:validation")


def test_saved_hf_dataset_dir(tmp_path):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list([pair(0), pair(1)])
    ds.save_to_disk(str(tmp_path / "saved"))
    seeds = list(read_records(tmp_path / "saved"))
    assert [s.meta["id"] for s in seeds] == [0, 1] and seeds[1].origin == f"{tmp_path / 'saved'}#1"

    dd = datasets.DatasetDict({"train": ds, "test": datasets.Dataset.from_list([pair(7)])})
    dd.save_to_disk(str(tmp_path / "dict"))
    assert [s.meta["id"] for s in read_records(tmp_path / "dict")] == [0, 1]
    assert [s.meta["id"] for s in read_records(f"{tmp_path / 'dict'}:test")] == [7]
    with pytest.raises(ReadError, match="no split 'dev'"):
        read_records(f"{tmp_path / 'dict'}:dev")


def test_saved_dataset_without_datasets_installed_says_how_to_install(tmp_path, monkeypatch):
    (tmp_path / "saved").mkdir()
    (tmp_path / "saved" / "state.json").write_text("{}")
    (tmp_path / "saved" / "dataset_info.json").write_text("{}")
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` fail
    with pytest.raises(ReadError, match=r"pip install 'crabkit\[hf\]'"):
        read_records(tmp_path / "saved")


def test_hub_id_is_streamed_with_load_dataset(monkeypatch):
    calls = []

    def load_dataset(name, split, streaming):
        calls.append((name, split, streaming))
        return iter([pair(0), pair(1)])

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    seeds = list(read_records("some-org/some.data:validation"))
    assert calls == [("some-org/some.data", "validation", True)]
    assert [s.origin for s in seeds] == ["some-org/some.data:validation#0", "some-org/some.data:validation#1"]
    list(read_records("some-org/other"))
    assert calls[-1] == ("some-org/other", "train", True)


def test_hub_failure_is_a_clear_read_error(monkeypatch):
    def load_dataset(name, split, streaming):
        raise ConnectionError("Couldn't reach the Hub\nlong traceback text")

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    with pytest.raises(
        ReadError, match=r"cannot open Hub dataset 'org/name' \(split 'train'\): Couldn't reach"
    ):
        read_records("org/name")


def test_hub_offline_with_real_datasets_fails_clearly():
    pytest.importorskip("datasets")
    if os.environ.get("HF_HUB_OFFLINE") != "1":
        pytest.skip("needs HF_HUB_OFFLINE=1 so that no network is tried")
    with pytest.raises(ReadError, match="cannot open Hub dataset 'crabkit-test/no-such-dataset'"):
        read_records("crabkit-test/no-such-dataset")


def test_missing_file_and_bad_options_raise_before_iteration(tmp_path):
    with pytest.raises(ReadError, match="no such file"):
        read_records(tmp_path / "missing.jsonl")
    path = write_jsonl(tmp_path / "a.jsonl", [pair(0)])
    with pytest.raises(ValueError, match="unknown layout"):
        read_records(path, layout="csv")


# --- streaming -----------------------------------------------------------------------------------------


def test_stdin_pipe_yields_a_record_before_the_input_ends(monkeypatch):
    r, w = os.pipe()
    more = threading.Event()

    def writer():
        with os.fdopen(w, "wb") as f:
            f.write((json.dumps(pair(0)) + "\n").encode())
            f.flush()
            more.wait(10)
            f.write((json.dumps(pair(1)) + "\n").encode())

    t = threading.Thread(target=writer)
    t.start()
    with os.fdopen(r, "rb") as pipe:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(pipe))
        stream = read_records("-")
        first = next(stream)  # would block forever if the reader waited for the end of input
        assert first.meta["id"] == 0 and not more.is_set()
        more.set()
        assert [s.meta["id"] for s in stream] == [1]
    t.join()


def _peak_bytes_reading(path: Path) -> int:
    tracemalloc.start()
    try:
        for _ in read_records(path):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_memory_is_flat_in_the_number_of_records(tmp_path, fmt):
    peaks, sizes = [], []
    for n in (1_000, 8_000):
        path = tmp_path / f"big{n}.{fmt}"
        with open(path, "w", encoding="utf-8") as f:
            if fmt == "jsonl":
                f.writelines(json.dumps(pair(i)) + "\n" for i in range(n))
            else:
                f.write("[\n" + ",\n".join(json.dumps(pair(i)) for i in range(n)) + "\n]\n")
        assert sum(1 for _ in read_records(path)) == n  # also warms imports before measuring
        peaks.append(_peak_bytes_reading(path))
        sizes.append(path.stat().st_size)
    # Eight times the records, (nearly) the same peak, and far below the file size.
    assert peaks[1] < peaks[0] * 1.25 + 16_384, peaks
    assert peaks[1] < sizes[1] / 2, (peaks, sizes)


# --- shared data ---------------------------------------------------------------------------------------


def test_shared_seed_pairs_read_cleanly():
    path = SHARED / "data" / "seed_pairs" / "pairs_flat.jsonl"
    if not path.exists():
        pytest.skip(f"shared test data not present: {path}")
    seeds, rejects = split(list(read_records(path)))
    assert (len(seeds), len(rejects)) == (1872, 0)
    assert len({s.instruction for s in seeds}) == 363
    assert all(s.meta["source_file"] and s.origin.startswith(str(path)) for s in seeds)
