"""The button codec: what it writes it reads back; whatever a client sends, it never raises
and never yields an id the database column cannot hold."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import callbacks as cb
from bot.core.parsing import MAX_ID

IDS = st.integers(1, MAX_ID)
STATES = st.sampled_from(list(cb.STATE_CODES))
CHOICE = st.from_regex(r"[A-Za-z0-9_.\-]{1,40}", fullmatch=True)
PAYLOADS = st.one_of(
    st.builds(cb.MemberDecision, IDS, st.booleans()),
    st.builds(cb.LanguageChoice, st.sampled_from(["vi", "en"])),
    st.builds(cb.DirectiveConfirm, IDS, IDS),
    st.builds(cb.DirectiveAction, IDS, st.sampled_from(list(cb.VERBS))),
    st.builds(cb.ComposeChoice, st.sampled_from("tdus"), CHOICE),
    st.builds(cb.TaskOpen, IDS),
    st.builds(cb.TaskStateChoice, IDS, STATES),
    st.builds(cb.TaskProgress, IDS, STATES, st.integers(0, 100)),
    st.builds(cb.TaskAction, IDS, st.sampled_from(list(cb.TASK_VERBS))),
    st.builds(cb.UnitAction, IDS, IDS, st.sampled_from(list(cb.UNIT_VERBS))),
    st.builds(cb.InitiativeFeature, IDS),
    st.builds(cb.InitiativeSubmit, st.booleans()),
    st.builds(cb.TaskFormChoice, st.sampled_from("ptds"), CHOICE),
)
PREFIXES = ["md", "lang", "dc", "dv", "dr", "da", "cp", "tk", "ts", "tp", "tv", "tc", "tz"]
PREFIXES += ["tr", "tu", "if", "is", "kp"]
# Fields that look almost right: ids around the column's limit, other scripts' digits, signs.
FIELDS = st.one_of(
    st.integers(-5, 2**63).map(str),
    st.sampled_from(["0", "01", "²", "٥٠", "+1", " 1", "1\n", "y", "n", "send", "maybe", ""]),
    st.text(max_size=12),
)
FORGED = st.builds(
    lambda prefix, fields: ":".join([prefix, *fields]),
    st.sampled_from(PREFIXES),
    st.lists(FIELDS, max_size=4),
)
SURROGATES = st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))


@given(PAYLOADS)
def test_what_is_encoded_decodes_back_within_64_bytes(payload: cb.CallbackPayload) -> None:
    data = cb.encode(payload)
    assert len(data.encode()) <= cb.MAX_BYTES
    assert cb.decode(data) == payload


def _ids_in_bounds(payload: cb.CallbackPayload) -> None:
    for item in dataclasses.fields(payload):
        value = getattr(payload, item.name)
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        if item.name == "progress":
            assert 0 <= value <= 100
        else:
            assert 1 <= value <= MAX_ID, (item.name, value)


@given(st.one_of(st.text(), FORGED, SURROGATES, st.builds(lambda a, b: a + b, FORGED, SURROGATES)))
def test_any_string_decodes_to_nothing_or_to_ids_within_the_column(data: str) -> None:
    payload = cb.decode(data)
    if payload is not None:
        _ids_in_bounds(payload)
        assert cb.encode(payload) == data  # only what this codec writes is accepted


@pytest.mark.parametrize(
    "data",
    [
        "dc:2147483648:1",
        "dc:1:2147483648",
        "tk:" + "9" * 18,
        "tp:1:i:101",
        "tp:1:i:-1",
        "tp:1:i:²",
        "tk:²",
        "tk:٥",
        "cp:s:send\n",
        "tk:1\ud800",
        "\udfff",
        "md:" + "1" * 5000 + ":y",
    ],
)
def test_forged_buttons_seen_in_the_field_decode_to_nothing(data: str) -> None:
    assert cb.decode(data) is None


def test_the_largest_id_still_decodes() -> None:
    assert cb.decode(f"dc:{MAX_ID}:1") == cb.DirectiveConfirm(MAX_ID, 1)
