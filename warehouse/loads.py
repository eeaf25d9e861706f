"""Load frames into DuckDB: stage them as Parquet, then merge them in one short transaction.

    with OrdersLoad(conn, run_id="r1", mode="full") as load:
        for page in walk.pages():
            load.add(order_frames(page))
        load.mark_missing()                 # full walks only: flag orders not seen
        load.finish(high_water_mark=..., total_count=..., stats={"pages": 12})

The load takes a connection, or an Opener (`warehouse.connect`) that it uses only to merge.
`add` buffers chunks and writes every `flush_rows` records (or `flush_bytes` of raw JSON) as
Parquet files to the load's stage (`warehouse.stage`); nothing in the warehouse changes while the
walk runs. `finish` merges the whole stage set-based (the latest version of each key wins), applies
the missing flags, writes the rejects, sync_state and the sync_runs row, all in ONE transaction,
then COMMITs and deletes the stage. Large single statements let DuckDB write big first loads
straight to disk instead of holding uncommitted rows in memory. Leaving the block with an exception
(or a killed process) leaves the last committed snapshot as it was; an exception also records a
`failed` sync_runs row in a separate small transaction. Stages of killed loads are removed by the
shop's stream's next load (a live load's stage, in whatever process, is never touched).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from warehouse import sql
from warehouse.frames import OfferFrames, OrderFrames
from warehouse.migrate import DEFAULT_SHOP
from warehouse.parse import ID_RANGE
from warehouse.runs import LoadCounts, open_orders, sync_state
from warehouse.stage import Stage
from warehouse.staged_load import FLUSH_ROWS, MODES, StagedLoad

__all__ = [
    "FLUSH_ROWS",
    "MODES",
    "LoadCounts",
    "OffersLoad",
    "OrdersLoad",
    "known_created_at",
    "open_orders",
    "sync_state",
]


class OrdersLoad(StagedLoad[OrderFrames]):
    """Orders stream: merge orders, replace changed orders' line items, log state changes."""

    stream = "orders"
    child_key = "order_id"
    parts = (("orders", "stage_orders"), ("line_items", "stage_order_line_items"))
    ids_query = "stage_order_ids"

    def __enter__(self) -> OrdersLoad:
        self._enter()
        return self

    def _main(self, frames: OrderFrames) -> pd.DataFrame:
        return frames.orders

    def _keys(self, frames: OrderFrames) -> np.ndarray:
        # A reject's key joins the seen keys when it could be an order id at all.
        keys = [int(k) for k, _, _ in frames.rejects if k and k.isascii() and k.isdigit()]
        keys = [k for k in keys if k in ID_RANGE]
        ids = frames.orders["id"].to_numpy(dtype=np.int64)
        return np.concatenate([ids, np.asarray(keys, dtype=np.int64)])

    def _id_array(self, ids: Iterable[Any]) -> np.ndarray:
        if isinstance(ids, np.ndarray):
            return ids.astype(np.int64, copy=False)
        if isinstance(ids, pd.Series):
            return ids.to_numpy(dtype=np.int64)
        return np.fromiter((int(i) for i in ids), dtype=np.int64)

    def mark_missing_ids(self, ids: Iterable[Any]) -> int | None:
        """Flag these orders missing_from_api (e.g. a per-order GET answered 404); never delete.

        Any mode. Orders already flagged keep their first missing_since; unknown ids are ignored.
        Applied by finish(), after the merge; returns how many it will newly flag (added to
        `counts.missing`), counted now on a held connection; None with an Opener (finish counts).
        """
        self._check_open()
        if self.access.held is not None:
            self.flush()
        mark = self._mark("orders_mark_missing_ids", self._id_array(ids), seen=False)
        if self.access.held is None:
            return None
        params = {"ids": mark.path, "shop": self.shop}
        rows = self.conn.execute(sql.query("orders_missing_ids_known"), params)
        known = np.asarray([r[0] for r in rows.fetchall()], dtype=np.int64)
        added = np.concatenate(self._added) if self._added else np.empty(0, dtype=np.int64)
        flagged = len(np.union1d(known, np.intersect1d(mark.ids, added)))
        self.counts.missing += flagged
        return flagged

    def _children(self, frames: OrderFrames) -> pd.DataFrame:
        return frames.line_items

    def _merge(self, stage: Stage) -> None:
        orders = stage.files("orders")
        self._scalar("orders_stage", orders=orders)
        self._count_delta()
        self.counts.state_changes += self._scalar("orders_state_history")
        self._scalar("order_line_items_delete")
        self._scalar("order_line_items_insert", line_items=stage.files("line_items"))
        self._scalar("orders_touch")
        self._scalar("orders_merge", orders=orders)
        self._scalar("orders_insert", orders=orders)
        self._scalar("orders_unstage")


class OffersLoad(StagedLoad[OfferFrames]):
    """Offers stream (always a full walk): merge offers, replace each seen offer's variants."""

    stream = "offers"
    child_key = "offer_id"
    parts = (("offers", "stage_offers"), ("offer_variants", "stage_offer_variants"))
    ids_query = "stage_offer_ids"

    def __enter__(self) -> OffersLoad:
        self._enter()
        return self

    def _main(self, frames: OfferFrames) -> pd.DataFrame:
        return frames.offers

    def _keys(self, frames: OfferFrames) -> np.ndarray:
        keys = [k for k, _, _ in frames.rejects if k is not None]
        return np.asarray([*frames.offers["id"], *keys], dtype=object)

    def _id_array(self, ids: Iterable[Any]) -> np.ndarray:
        return np.asarray([str(i) for i in ids], dtype=object)

    def _children(self, frames: OfferFrames) -> pd.DataFrame:
        return frames.offer_variants

    def _merge(self, stage: Stage) -> None:
        offers = stage.files("offers")
        self._scalar("offers_stage", offers=offers)
        self._count_delta()
        self._scalar("offer_variants_delete")
        self._scalar("offer_variants_insert", offer_variants=stage.files("offer_variants"))
        self._scalar("offers_touch")
        self._scalar("offers_merge", offers=offers)
        self._scalar("offers_insert", offers=offers)
        self._scalar("offers_unstage")


def known_created_at(conn: duckdb.DuckDBPyConnection, shop: str = DEFAULT_SHOP) -> list[datetime]:
    """created_at of the shop's orders still returned by the API, oldest first."""
    rows = conn.execute(sql.query("known_created_at"), {"shop": shop}).fetchall()
    return [row[0] for row in rows]
