"""Layout adapters: one raw record -> Seeds or Rejects naming the field."""

from __future__ import annotations

import pytest

from crabkit.io import FieldMap, adapt_record, detect_layout
from crabkit.records import Message, Reject, Seed, content_id

LONG = "This response is long enough to be a real answer to the question asked."


def one(record, **kw) -> Seed | Reject:
    out = adapt_record(record, "f.jsonl:1", **kw)
    assert len(out) == 1
    return out[0]


def test_alpaca_joins_instruction_and_input_with_a_blank_line():
    seed = one({"instruction": "Summarise this.", "input": "The text.", "output": LONG})
    assert seed.instruction == "Summarise this.\n\nThe text."
    assert seed.response == LONG
    assert seed.origin == "f.jsonl:1"


@pytest.mark.parametrize("empty", ["", "   \n", None])
def test_alpaca_empty_input_leaves_instruction_alone(empty):
    seed = one({"instruction": "Write a poem.", "input": empty, "output": LONG})
    assert seed.instruction == "Write a poem."


@pytest.mark.parametrize(
    ("ikey", "rkey"),
    [("prompt", "response"), ("instruction", "response"), ("prompt", "completion"), ("question", "answer")],
)
def test_pair_layouts_are_detected(ikey, rkey):
    record = {ikey: "Explain gravity.", rkey: LONG}
    assert detect_layout(record) == "pair"
    seed = one(record)
    assert (seed.instruction, seed.response) == ("Explain gravity.", LONG)


def test_seed_id_comes_from_content():
    a = one({"prompt": "Q", "response": LONG, "id": 1})
    b = one({"instruction": "Q", "output": LONG, "id": 2})
    assert a.id == b.id == content_id("Q", LONG)


def test_extra_scalar_fields_go_to_meta_and_nested_ones_do_not():
    seed = one({"prompt": "Q", "response": LONG, "id": "x1", "model": "m", "score": 0.5, "tags": ["a"]})
    assert seed.meta == {"id": "x1", "model": "m", "score": 0.5}


def test_sharegpt_first_turn_only_counts_the_later_turns_and_puts_system_in_meta():
    record = {
        "id": "c1",
        "conversations": [
            {"from": "system", "value": "Be brief."},
            {"from": "human", "value": "Hi?"},
            {"from": "gpt", "value": LONG},
            {"from": "human", "value": "More?"},
            {"from": "gpt", "value": "Second answer."},
        ],
    }
    assert detect_layout(record) == "sharegpt"
    (seed,) = adapt_record(record, "x", all_turns=False)
    assert (seed.instruction, seed.response, seed.history) == ("Hi?", LONG, [])
    assert seed.meta == {"id": "c1", "system": "Be brief.", "later_turns": 1}  # the pipeline warns about it
    # By default nothing is left out: each assistant turn is a seed, earlier turns as its history.
    first, second = adapt_record(record, "x")
    assert (first.response, second.instruction, second.response) == (LONG, "More?", "Second answer.")
    assert [m.content for m in second.history] == ["Hi?", LONG]


def test_sharegpt_accepts_user_and_assistant_roles():
    seed = one({"conversations": [{"from": "user", "value": "Q"}, {"from": "assistant", "value": LONG}]})
    assert (seed.instruction, seed.response) == ("Q", LONG)


def test_openai_messages_with_content_parts():
    record = {
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "You help."}]},
            {
                "role": "user",
                "content": [{"type": "text", "text": "Line one"}, {"type": "text", "text": "two"}],
            },
            {"role": "assistant", "content": LONG},
        ]
    }
    seed = one(record)
    assert seed.instruction == "Line one\ntwo"
    assert seed.meta["system"] == "You help."


def test_all_turns_gives_every_assistant_turn_with_its_history():
    msgs = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2"},
        {"role": "assistant", "content": "A2"},
    ]
    first, second = adapt_record({"messages": msgs}, "o", all_turns=True)
    assert (first.instruction, first.response, first.history) == ("Q1", "A1", [])
    assert (second.instruction, second.response) == ("Q2", "A2")
    assert second.history == [Message("user", "Q1"), Message("assistant", "A1")]
    assert (first.meta["turn"], second.meta["turn"]) == (1, 2)


def test_all_turns_keeps_turns_before_a_broken_message():
    msgs = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": None},
        {"role": "assistant", "content": "A2"},
    ]
    seed, reject = adapt_record({"messages": msgs}, "o", all_turns=True)
    assert seed.response == "A1"
    assert reject.field == "messages[2].content"
    assert "messages[2].content is null" in reject.reason


def test_field_map_names_the_fields():
    seed = one(
        {"q": "Why?", "a": LONG, "ctx": "Context."},
        fields=FieldMap(instruction="q", response="a", input="ctx"),
    )
    assert seed.instruction == "Why?\n\nContext."
    assert "ctx" not in seed.meta and "q" not in seed.meta


def test_field_map_for_messages():
    seed = one({"dialog": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": LONG}]},
               fields=FieldMap(messages="dialog"))  # fmt: skip
    assert seed.response == LONG


def test_explicit_layout_overrides_detection():
    # Detected as alpaca, but the user says the answer is in "response".
    record = {"instruction": "Q", "output": "draft", "response": LONG}
    assert one(record).response == "draft"
    assert one(record, layout="pair", fields=FieldMap(response="response")).response == LONG
    reject = one({"prompt": "Q", "response": LONG}, layout="sharegpt")
    assert isinstance(reject, Reject) and reject.field == "conversations"


@pytest.mark.parametrize(
    ("value", "kind"), [(42, "a number"), (None, "null"), (["a", "b"], "a list"), ({"t": 1}, "an object")]
)
def test_non_string_response_is_rejected_naming_the_field(value, kind):
    reject = one({"prompt": "Q", "response": value})
    assert isinstance(reject, Reject)
    assert reject.field == "response"
    assert reject.reason == f"not text: response is {kind}, expected text"


@pytest.mark.parametrize("text", ["", "  \n\t "])
def test_empty_instruction_is_rejected(text):
    reject = one({"instruction": text, "output": LONG})
    assert isinstance(reject, Reject) and reject.field == "instruction"
    assert reject.reason.startswith("empty: instruction")


def test_over_long_response_is_rejected():
    reject = one({"prompt": "Q", "response": "x" * 101}, max_chars=100)
    assert reject.field == "response"
    assert reject.reason == "too long: response has 101 characters, more than 100"
    assert isinstance(one({"prompt": "Q", "response": "x" * 100}, max_chars=100), Seed)


def test_missing_response_field_is_rejected():
    reject = one({"instruction": "Q", "input": ""}, layout="alpaca")
    assert (reject.field, reject.reason) == ("output", "missing field: 'output' (layout alpaca)")


def test_missing_response_is_named_when_detecting():
    reject = one({"question": "Why?", "id": 3})
    assert reject.field == "response"
    assert reject.reason == "missing field: no response field (output, response, completion, answer)"


def test_record_without_known_fields_is_rejected_listing_its_keys():
    reject = one({"title": "t", "body": "b"})
    assert reject.reason.startswith("unknown layout:")
    assert "body, title" in reject.reason


@pytest.mark.parametrize("record", [[1, 2], "text", 3, None])
def test_non_object_record_is_rejected(record):
    reject = one(record)
    assert isinstance(reject, Reject) and reject.reason.startswith("not an object:")


def test_lone_surrogates_mean_invalid_utf8():
    reject = one({"prompt": "Q", "response": "bad \udcff byte"})
    assert (reject.field, reject.reason.split(":")[0]) == ("response", "invalid UTF-8")


def test_unknown_role_and_image_part_are_rejected():
    tool = one({"messages": [{"role": "tool", "content": "x"}]})
    assert tool.field == "messages[0].role" and "'tool'" in tool.reason
    image = one({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})
    assert image.field == "messages[0].content[0]"


def test_conversation_without_a_reply_is_rejected():
    reject = one({"messages": [{"role": "user", "content": "Q"}]})
    assert reject.reason.startswith("no reply:")


def test_assistant_turn_without_user_before_it_is_history_only():
    msgs = [
        {"role": "assistant", "content": "Hello, how can I help?"},
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": LONG},
    ]
    seed = one({"messages": msgs})
    assert seed.instruction == "Q" and seed.history == [Message("assistant", "Hello, how can I help?")]
