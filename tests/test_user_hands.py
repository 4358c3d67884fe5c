"""`crab` in a user's hands: driven as people drive it (a pseudo-terminal, so progress bars are on),
with the mistakes people make. No traceback, no silent loss, a run directory nobody can corrupt, a
clear exit status."""

from __future__ import annotations

import gzip
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crabkit.rundir import MARKER

CRAB = [sys.executable, "-m", "crabkit.cli"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
ANSWER = ("Rivers carry water downhill to the sea, and on the way they shape valleys, feed wetlands and "
          "move a great deal of sand and silt that later builds deltas at their mouths.")  # fmt: skip


def rows(n: int, tag: str = "") -> list[dict]:
    return [{"instruction": f"Question {tag}{i}: what does a river do to its valley?", "response": ANSWER + f" ({i})"}
            for i in range(n)]  # fmt: skip


def write_jsonl(path: Path, items: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")
    return path


def in_terminal(args: list[str], stdin: bytes | None = None, timeout: float = 120,
                env: dict | None = None) -> tuple[int, str]:  # fmt: skip
    """Run ``crab ARGS`` with a pseudo-terminal as stdout and stderr (stdin: a pipe when given).
    Returns the exit status and everything it printed."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [*CRAB, *args], stdout=slave, stderr=slave, stdin=subprocess.PIPE if stdin is not None else slave,
        env=env or ENV, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    if stdin is not None:
        proc.stdin.write(stdin)
        proc.stdin.close()
    out = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                chunk = b""
            if not chunk and proc.poll() is not None:
                break
            out += chunk
        elif proc.poll() is not None:
            break
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"crab {' '.join(args)} ran past {timeout}s:\n{out.decode(errors='replace')[-2000:]}")
    os.close(master)
    return proc.wait(), out.decode("utf-8", "replace")


def ok(args: list[str], **kw) -> str:
    rc, out = in_terminal(args, **kw)
    assert "Traceback" not in out, out[-3000:]
    assert rc == 0, out[-3000:]
    return out


def refused(args: list[str], status: int = 2, **kw) -> str:
    rc, out = in_terminal(args, **kw)
    assert "Traceback" not in out, out[-3000:]
    assert rc == status, (rc, out[-3000:])
    return out


def seeds_out(run: Path) -> int:
    return sum(1 for line in (run / "constraints.jsonl").read_text().splitlines() if line.strip())


@pytest.fixture
def data(tmp_path) -> Path:
    return write_jsonl(tmp_path / "pairs.jsonl", rows(60))


# -- progress bars on, every input shape --------------------------------------------------------------


def test_progress_bar_on_for_every_input_shape(data, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    array = tmp_path / "pairs.json"
    array.write_text(json.dumps(rows(60)))
    table = tmp_path / "pairs.parquet"
    pq.write_table(pa.Table.from_pylist(rows(60)), table)
    ok(["generate", str(data), "--out", str(tmp_path / "limit"), "--limit", "10"])
    ok(["generate", str(array), "--out", str(tmp_path / "array")])
    out = ok(["generate", str(table), "--out", str(tmp_path / "parquet")])
    assert "rec/s" in out or "rec" in out  # the bar was drawn
    ok(["generate", "-", "--out", str(tmp_path / "stdin")], stdin=data.read_bytes())
    assert seeds_out(tmp_path / "stdin") == seeds_out(tmp_path / "array") == 60


def test_a_finished_run_rerun_says_so_and_exits_0(data, tmp_path):
    ok(["generate", str(data), "--out", str(tmp_path / "r")])
    again = ok(["generate", str(data), "--out", str(tmp_path / "r")])
    assert "already complete" in again and "seeds 60" in again


# -- the run directory ----------------------------------------------------------------------------------


def test_out_that_is_a_file_or_cannot_be_made_is_one_line_exit_2(data, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    out = refused(["generate", str(data), "--out", str(afile)])
    assert "is a file" in out and afile.read_text() == "mine"
    out = refused(["generate", str(data), "--out", "/proc/crab-cannot-be-here"])
    assert "cannot create the run directory" in out


def test_an_input_inside_the_run_directory_is_refused_and_left_intact(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    inside = write_jsonl(run / "train.jsonl", rows(20))
    before = inside.read_bytes()
    out = refused(["generate", str(inside), "--out", str(run)])
    assert "inside the run directory" in out and inside.read_bytes() == before
    # --out equal to the input's own directory: the same
    refused(["generate", str(inside), "--out", str(run.parent / "run")])


def test_files_crab_did_not_write_are_never_overwritten(data, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "train.jsonl").write_text("my notes\n")
    out = refused(["generate", str(data), "--out", str(run)])
    assert "not a crab run directory" in out and (run / "train.jsonl").read_text() == "my notes\n"
    ok(["generate", str(data), "--out", str(tmp_path / "ours")])
    (tmp_path / "ours" / "notes.txt").write_text("x")
    out = refused(["generate", str(data), "--out", str(tmp_path / "ours")])
    assert "notes.txt" in out


def test_a_swapped_input_after_a_kill_is_refused(tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", rows(1500))
    run = tmp_path / "run"
    proc = subprocess.Popen([*CRAB, "generate", str(data), "--out", str(run), "--no-progress"], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while not (run / "state.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (run / "state.json").exists()
    write_jsonl(data, rows(1500, tag="other "))  # another file at the same path
    out = refused(["generate", str(data), "--out", str(run)])
    assert "not the one this run started with" in out


def test_a_second_run_on_the_same_directory_is_refused_and_the_first_is_unharmed(tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", rows(1200))
    first = subprocess.Popen([*CRAB, "generate", str(data), "--out", str(tmp_path / "run"), "--no-progress"],
                             env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 60
    while not (tmp_path / "run" / MARKER).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    out = refused(["generate", str(data), "--out", str(tmp_path / "run")])
    assert "another crab run is writing" in out
    assert first.wait() == 0
    ok(["generate", str(data), "--out", str(tmp_path / "alone")])
    for name in ("train.jsonl", "constraints.jsonl", "rejects.jsonl", "stats.json"):
        assert (tmp_path / "run" / name).read_bytes() == (tmp_path / "alone" / name).read_bytes(), name


# -- damaged or hostile records --------------------------------------------------------------------------


def test_a_truncated_gzip_keeps_every_record_before_the_damage(tmp_path):
    items = rows(3000)
    blob = gzip.compress("".join(json.dumps(r) + "\n" for r in items).encode())
    path = tmp_path / "pairs.jsonl.gz"
    path.write_bytes(blob[: len(blob) // 2])
    ok(["generate", str(path), "--out", str(tmp_path / "r")])
    kept = seeds_out(tmp_path / "r")
    assert 1000 < kept < 3000
    rejects = (tmp_path / "r" / "rejects.jsonl").read_text()
    assert "cut short" in rejects


def test_a_damaged_parquet_row_group_costs_only_its_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_pylist(rows(1900)), path, row_group_size=100, compression="NONE")
    blob = bytearray(path.read_bytes())
    middle = len(blob) // 3
    blob[middle : middle + 3000] = b"A" * 3000
    path.write_bytes(bytes(blob))
    ok(["generate", str(path), "--out", str(tmp_path / "r")])
    assert seeds_out(tmp_path / "r") >= 1600  # one or two damaged groups of 100, the rest read
    assert "unreadable Parquet data" in (tmp_path / "r" / "rejects.jsonl").read_text()


def test_a_line_nested_1000_deep_is_one_reject_among_good_records(tmp_path):
    lines = [json.dumps(r) for r in rows(30)]
    lines[7] = "[" * 1000 + "]" * 1000
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join(lines) + "\n")
    ok(["generate", str(path), "--out", str(tmp_path / "r")])
    assert seeds_out(tmp_path / "r") == 29
    assert "nested too deeply" in (tmp_path / "r" / "rejects.jsonl").read_text()


def test_a_json_array_broken_at_record_5_keeps_records_6_to_9(tmp_path):
    items = [json.dumps(r) for r in rows(10)]
    items[5] = items[5].replace('"response":', '"response" "oops":', 1)
    path = tmp_path / "a.json"
    path.write_text("[\n" + ",\n".join(items) + "\n]")
    ok(["generate", str(path), "--out", str(tmp_path / "r")])
    assert seeds_out(tmp_path / "r") == 9
    (reject,) = [json.loads(x) for x in (tmp_path / "r" / "rejects.jsonl").read_text().splitlines()]
    assert reject["origin"].endswith("#5")


def test_binary_data_named_jsonl_is_refused_with_what_it_is(tmp_path):
    png = tmp_path / "pairs.jsonl"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    out = refused(["generate", str(png), "--out", str(tmp_path / "r")])
    assert "PNG image" in out
    gz = tmp_path / "really_gzip.jsonl"
    gz.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows(20)).encode()))
    ok(["generate", str(gz), "--out", str(tmp_path / "g")])
    assert seeds_out(tmp_path / "g") == 20


def test_an_empty_input_says_nothing_was_produced(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    out = refused(["generate", str(empty), "--out", str(tmp_path / "r")], status=4)
    assert "produced no training examples" in out


def test_verify_reports_bad_rows_and_goes_on(tmp_path):
    path = tmp_path / "c.jsonl"
    good = {"response": "no commas here", "constraints": [{"type": "punctuation:no_comma", "params": {}}]}
    bad_params = {"response": "x y z", "constraints": [{"type": "length_constraints:number_words", "params": {"num_words": "3"}}]}
    path.write_text("\n".join([json.dumps([1, 2]), json.dumps(bad_params), json.dumps(good), "{nope"]) + "\n")
    rc, out = in_terminal(["verify", str(path)])
    assert rc == 1 and "Traceback" not in out
    assert "not a JSON object" in out and "bad params" in out and "not valid JSON" in out
    assert '"constraints_checked": 2' in out


def test_config_values_of_the_wrong_type_name_the_key(data, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text('llm:\n  concurrency: "8"\n')
    out = refused(["generate", str(data), "--out", str(tmp_path / "r"), "--config", str(config)])
    assert "llm.concurrency" in out and "whole number" in out


# -- the LLM stage ------------------------------------------------------------------------------------


def _openai(url: str, key_var: str = "CRAB_UX_KEY") -> list[str]:
    return ["--backend", "openai", "--base-url", url, "--model", "stub", "--api-key-env", key_var]


def test_a_refused_key_stops_the_run_within_seconds_and_a_rerun_continues(data, tmp_path):
    pytest.importorskip("aiohttp")
    from llm_server import StubServer

    secret = "sk-ux-0123456789abcdef-LEAK"
    env = {**ENV, "CRAB_UX_KEY": secret}
    with StubServer(faults=lambda payload, attempt: "401") as server:
        start = time.monotonic()
        rc, out = in_terminal(["generate", str(data), "--out", str(tmp_path / "r"), *_openai(server.url)], env=env)
        assert time.monotonic() - start < 30
    assert rc == 4 and "Traceback" not in out, out[-2000:]
    assert "refused the API key" in out and "$CRAB_UX_KEY" in out
    assert secret[6:14] not in out
    state = json.loads((tmp_path / "r" / "state.json").read_text()) if (tmp_path / "r" / "state.json").exists() else None
    assert state is None or not state["done"]  # nothing marked finished: a plain rerun will continue


def test_nothing_listening_stops_the_run_within_seconds(data, tmp_path):
    pytest.importorskip("aiohttp")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    rc, out = in_terminal(["generate", str(data), "--out", str(tmp_path / "r"),
                           *_openai(f"http://127.0.0.1:{port}/v1")])  # fmt: skip
    assert time.monotonic() - start < 30
    assert rc == 4 and "cannot reach the server" in out and "Traceback" not in out, out[-2000:]


def test_an_error_page_echoing_the_key_leaves_no_trace_of_it(data, tmp_path):
    pytest.importorskip("aiohttp")
    from llm_server import StubServer

    secret = "sk-ux-echo-fedcba9876543210-LEAK"
    env = {**ENV, "CRAB_UX_KEY": secret}
    with StubServer(faults=lambda payload, attempt: "400") as server:
        _, out = in_terminal(["generate", str(data), "--out", str(tmp_path / "r"), *_openai(server.url),
                               "--llm-failures", "keep"], env=env)  # fmt: skip
    assert "Traceback" not in out
    runs = [secret[i : i + 8] for i in range(len(secret) - 7)]
    assert not any(r in out for r in runs)
    for path in (tmp_path / "r").rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            assert not any(r.encode() in blob for r in runs), path.name


def test_every_answer_unparseable_is_counted_and_exits_4(data, tmp_path):
    pytest.importorskip("aiohttp")
    from llm_server import StubServer

    with StubServer(answer=lambda payload: "I cannot do JSON today.") as server:
        rc, out = in_terminal(["generate", str(data), "--out", str(tmp_path / "r"), *_openai(server.url)])
    assert rc == 4 and "Traceback" not in out, out[-2000:]
    stats = json.loads((tmp_path / "r" / "stats.json").read_text())
    assert stats["llm_failures"] == stats["seeds"] == 60
    assert "failures 60" in out and "LLM stage failed for 100%" in out


def test_the_openai_backend_goes_through_a_proxy_and_around_it_for_no_proxy(data, tmp_path):
    pytest.importorskip("aiohttp")
    from llm_server import StubServer
    from proxy_server import ForwardProxy

    with StubServer() as server, ForwardProxy({"crab-backend.invalid": "127.0.0.1"}) as proxy:
        port = server.url.rsplit(":", 1)[1].split("/")[0]
        env = {**ENV, "HTTP_PROXY": proxy.url, "HTTPS_PROXY": proxy.url, "NO_PROXY": ""}
        # Only the proxy knows the host "crab-backend.invalid": without it nothing could be reached.
        ok(["generate", str(data), "--out", str(tmp_path / "via"), "--no-refine", "--no-judge",
            *_openai(f"http://crab-backend.invalid:{port}/v1")], env=env)  # fmt: skip
        through = proxy.forwarded
        assert through >= 60
        env["NO_PROXY"] = "127.0.0.1"
        ok(["generate", str(data), "--out", str(tmp_path / "direct"), "--no-refine", "--no-judge",
            *_openai(server.url)], env=env)  # fmt: skip
        assert proxy.forwarded == through  # NO_PROXY: straight to the server


# -- the command line -----------------------------------------------------------------------------------


def test_every_option_of_every_command_has_help():
    import argparse

    from crabkit.cli import build_parser

    missing = []

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*path, name])
            elif action.dest not in ("help", "version") and not action.help:
                missing.append((" ".join(path), action.option_strings or action.dest))

    walk(build_parser(), ["crab"])
    assert missing == []


def test_help_shows_examples_and_defaults_and_one_backend_grammar():
    top = ok(["--help"])
    assert "examples:" in top and "exit status" in top and "``" not in top
    for command in (["generate"], ["eval", "ifeval"], ["eval", "followbench"], ["pairs"]):
        text = ok([*command, "--help"])
        for flag in ("--backend", "--base-url", "--model", "--api-key-env", "--header", "--concurrency",
                     "--timeout", "--retries"):  # fmt: skip
            assert flag in text, (command, flag)
    assert "(default: 0.3)" in ok(["generate", "--help"]) or "default 0.3" in ok(["generate", "--help"])


def test_multi_turn_input_uses_every_turn_and_warns_when_told_not_to(tmp_path):
    convs = [{"messages": [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello there."},
                           {"role": "user", "content": f"Tell me about rivers, part {i}."},
                           {"role": "assistant", "content": ANSWER}]} for i in range(20)]  # fmt: skip
    path = write_jsonl(tmp_path / "chat.jsonl", convs)
    out = ok(["generate", str(path), "--out", str(tmp_path / "all")])
    assert seeds_out(tmp_path / "all") == 20  # the "Hi!" turns are too short; the second turns are seeds
    rc, out = in_terminal(["generate", str(path), "--out", str(tmp_path / "first"), "--first-turn-only"])
    assert rc == 4 and "20 later assistant turns" in out  # nothing usable, and it says why
