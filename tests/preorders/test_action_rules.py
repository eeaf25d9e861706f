"""preorders.actions.rules: an amount that is not a finite number blocks, never crashes."""

from __future__ import annotations

import pytest

from preorders.actions.rules import (
    CHARGE,
    RELEASE,
    charge_blocker,
    money,
    release_blocker,
    state_of,
)


@pytest.mark.parametrize("odd", ["NaN", "sNaN", "Infinity", "-inf"])
def test_an_amount_that_is_not_a_finite_number_reads_as_unreadable(odd: str) -> None:
    held = {"state": "balance_collected", "payments": {"total_outstanding": odd}}
    owing = {"state": "awaiting_balance", "payments": {"total_outstanding": odd}}
    assert money(held) is None
    assert release_blocker(held) == "a balance is outstanding"  # not proof of payment
    assert charge_blocker(owing) == "nothing outstanding"  # nothing charged on a guess


def test_finite_amounts_still_decide() -> None:
    paid = {"state": "balance_collected", "payments": {"total_outstanding": "0.00"}}
    owing = {"state": "awaiting_balance", "payments": {"total_outstanding": "12.50"}}
    assert release_blocker(paid) is None and charge_blocker(owing) is None


@pytest.mark.parametrize(
    ("stop", "reason"),
    [
        ({"financial_status": "partially_refunded"}, "money was refunded"),
        ({"financial_status": "refunded"}, "money was refunded"),
        ({"cancelled_at": "2026-01-01T00:00:00Z"}, "the order is cancelled"),
    ],
)
def test_no_balance_is_charged_on_a_cancelled_or_refunded_order(stop: dict, reason: str) -> None:
    # SPEC §3.1 leaves the precedence open: `state` may still say awaiting_balance.
    owing = {"state": "awaiting_balance", "payments": {"total_outstanding": "12.50"}, **stop}
    assert charge_blocker(owing) == (reason + "; act on it by hand" if "refunded" in reason
                                     else reason)  # fmt: skip
    assert release_blocker({**owing, "state": "balance_collected"}) is not None


@pytest.mark.parametrize("odd", [{"state": {"name": "released"}}, {"payments": "paid"}])
def test_an_order_of_an_odd_shape_is_judged_not_crashed_on(odd: dict) -> None:
    order = {"state": "balance_collected", "payments": {"total_outstanding": "0"}, **odd}
    assert state_of(order) in (None, "balance_collected")
    assert release_blocker(order) is not None  # no proof it is held and paid
    assert RELEASE.applied(order) is False  # no proof it was released
    assert CHARGE.applied(order) is ("payments" not in odd)  # paid only when it says 0
