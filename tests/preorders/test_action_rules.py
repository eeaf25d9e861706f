"""preorders.actions.rules: an amount that is not a finite number blocks, never crashes."""

from __future__ import annotations

import pytest

from preorders.actions.rules import charge_blocker, money, release_blocker


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
