"""Offer walks for the sync: every offer, discarded ones too, into a load; the ids seen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from preorders import walks
from preorders.progress import Phase
from preorders.sync_report import SyncReport
from stoq import StoqClient, errors
from warehouse.frames import offer_frames

#: Walks of the offers at most, while each one sees the API's count of offers change under it.
OFFER_WALKS = 3


def walk_offers(
    client: StoqClient, load: Any, report: SyncReport, seen: set[str], phase: Phase
) -> bool:
    """Walk every offer into the load (a stricter API may hide discarded offers unless asked:
    ask too, dedupe by id); True when either list drifted while it was walked."""
    drifted = False
    for status in (None, "discarded"):
        try:
            walk = client.list_offers(status=status)
            for chunk in walks.chunks(walks.walk_records(walk, report, phase), 1000):
                seen.update(text_ids(chunk))
                load.add(offer_frames(chunk))
        except errors.ValidationError:
            if status is None:
                raise
            continue  # this API lists discarded offers with the rest
        report.walks += 1
        drifted = drifted or walk.stats.drift
    return drifted


def text_ids(records: list[dict[str, Any]]) -> Iterator[str]:
    """The ids of offer records that a VARCHAR column can hold (others are rejected, and a
    lone surrogate must not reach the missing-offers stage, which DuckDB would refuse)."""
    for record in records:
        if "id" not in record:
            continue
        text = str(record["id"])
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            continue
        yield text
