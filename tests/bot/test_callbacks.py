import pytest

from bot.core.callbacks import MAX_BYTES, LanguageChoice, MemberDecision, decode, encode


@pytest.mark.parametrize(
    "payload",
    [MemberDecision(1, True), MemberDecision(2**31 - 1, False), LanguageChoice("en")],
)
def test_round_trip_and_size(payload) -> None:
    data = encode(payload)
    assert len(data.encode()) <= MAX_BYTES
    assert decode(data) == payload


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "md",
        "md:1",
        "md:1:x",
        "md:0:y",
        "md:-1:y",
        "md:01:y",
        "md:abc:y",
        "md:1:y:z",
        "lang:fr",
        "lang:",
        "xx:1:y",
        "md:" + "9" * 70 + ":y",
        "md:1:y\x00",
    ],
)
def test_forged_or_malformed_data_decodes_to_nothing(data) -> None:
    assert decode(data) is None
