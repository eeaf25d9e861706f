"""The Redactor blanks the key and every 8+ character piece of its secret, before any cut."""

from __future__ import annotations

import json

import httpx
import pytest

from stoq.redact import CUT, PUBLIC_PREFIX, REDACTED, Redactor

from .conftest import API_KEY, FakeApi, reply

KEY = PUBLIC_PREFIX + "CANARYq7Wm2Zp9Lx4Rt8Vb3Nc6Hd5Jk1"
SECRET = KEY.removeprefix(PUBLIC_PREFIX)


def pieces(text: str) -> list[str]:
    return [SECRET[i : i + 8] for i in range(len(SECRET) - 7) if SECRET[i : i + 8] in text]


def test_the_whole_key_and_any_piece_of_8_or_more_are_blanked():
    redactor = Redactor(KEY)
    assert redactor.redact(f"a {KEY} b") == f"a {REDACTED} b"
    assert redactor.redact(f"x{SECRET[3:11]}y") == f"x{REDACTED}y"
    assert redactor.redact(f"x{SECRET[3:10]}y") == f"x{SECRET[3:10]}y"  # 7 characters stay
    assert redactor.redact("stoq_api_key_ is public") == "stoq_api_key_ is public"


def test_names_printed_beside_a_key_stay_readable():
    # A secret starting with "s" once blanked "pi_key_s" inside STOQ_API_KEY_SHOP2.
    redactor = Redactor(PUBLIC_PREFIX + "sandboxshop002")
    for name in ("STOQ_API_KEY_SHOP2", "api_key_env: STOQ_API_KEY_SAN"):
        assert redactor.redact(name) == name
    assert REDACTED in redactor.redact("leak: key_sandb")  # 5 secret characters: a leak


def test_pieces_match_in_any_letter_case():
    redactor = Redactor(KEY)
    shouted = f"token={KEY.upper()} and {SECRET[5:17].lower()} and İ{SECRET[:9].swapcase()}"
    text = redactor.redact(shouted)
    assert not any(SECRET[i : i + 8].lower() in text.lower() for i in range(len(SECRET) - 7))
    assert text.startswith("token=STOQ_A") and text.count(REDACTED) == 3


@pytest.mark.parametrize("dots", [0, 150, 175, 185, 190, 199, 7_990, 7_995, 20_000])
def test_clip_redacts_before_it_cuts(dots):
    text = "." * dots + f"token={KEY} trailing"
    clipped = Redactor(KEY).clip(text)
    assert len(clipped) <= CUT
    assert pieces(clipped) == []
    assert clipped.startswith("." * min(dots, CUT))


def test_the_issue_body_keeps_no_character_of_the_secret():
    text = "." * 175 + f"token={KEY}"
    assert text[:CUT].replace(KEY, REDACTED).endswith("CANARY")  # the old cut-then-blank
    assert Redactor(KEY).clip(text) == "." * 175 + f"token={REDACTED}"


def test_a_foreign_exception_is_copied_with_redacted_text_and_chain():
    redactor = Redactor(KEY)
    try:
        json.loads(f'{{"token": "{KEY}"')
    except ValueError as exc:
        original = exc
    copy = redactor.exception(original)
    assert isinstance(copy, ValueError) and not hasattr(copy, "doc")  # doc held the whole body

    request = httpx.Request("GET", "https://shop.example/x", headers={"X-Auth-Token": KEY})
    error = httpx.ReadError(f"reset {SECRET[1:13]}", request=request)
    error.__cause__ = OSError(f"errno {KEY}")
    copy = redactor.exception(error)
    assert type(copy) is httpx.ReadError and str(copy) == f"reset {REDACTED}"
    assert str(copy.__cause__) == f"errno {REDACTED}" and type(copy.__cause__) is OSError
    with pytest.raises(RuntimeError):
        copy.request  # noqa: B018 - the request, headers and key included, is not carried over


def test_repr_shows_no_key():
    assert KEY not in repr(Redactor(KEY))


def test_a_body_loses_the_whole_key_in_any_one_case_and_stays_json():
    record = {"note": f"token {KEY}", "shout": KEY.upper(), "quiet": KEY.lower(), "n": 1}
    scrubbed = Redactor(KEY).body(json.dumps(record).encode())
    assert json.loads(scrubbed) == {
        "note": f"token {REDACTED}", "shout": REDACTED, "quiet": REDACTED, "n": 1,
    }  # fmt: skip
    untouched = json.dumps({"note": "no key here"}).encode()
    assert Redactor(KEY).body(untouched) is untouched  # nothing to blank: not even copied


def test_a_record_echoing_the_key_reaches_the_caller_without_it(make_client):
    echoed = {"id": 1, "shopify_order_id": 1, "state": "placed", "created_at": API_KEY}
    api = FakeApi().on("GET", "/preorders/orders/1", reply(200, echoed))
    assert make_client(api).get_order(1)["created_at"] == REDACTED


@pytest.mark.parametrize("short", ["1", "true", "demo", "e"])
def test_a_key_too_short_to_be_real_leaves_bodies_alone(short):
    body = json.dumps({"id": 1, "ok": True, "note": "demo e"}).encode()
    assert Redactor(short).body(body) is body  # blanking "1" or "true" would break the JSON


def test_clip_escapes_control_characters_so_no_line_can_be_forged():
    text = "refused\norder 1234: release succeeded\x1b[2K\x1b[1A\r\x85 caf\u00e9"
    shown = Redactor(KEY).clip(text)
    assert "\n" not in shown and "\x1b" not in shown and "\r" not in shown
    assert shown == r"refused\norder 1234: release succeeded\x1b[2K\x1b[1A\r\x85 caf" + "\u00e9"
