"""Choose how to re-read open orders: per-order GETs, one window walk, or a mix of both."""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RereadPlan:
    """Open orders to GET one by one, and the created-at start of the window to page through."""

    singles: list[int]
    window_from: datetime
    window_orders: int
    estimated_requests: int


def plan_reread(
    open_orders: list[tuple[int, datetime]],
    known_created: list[datetime],
    *,
    per_page: int,
    floor: datetime,
) -> RereadPlan:
    """Pick the window start that minimises requests: GET open orders older than it, page the rest.

    `open_orders` are (id, created_at) of orders that may still change; `known_created` holds the
    created_at of every order the warehouse knows (a window walk pages through all of them), and
    `floor` is where the walk for new orders starts anyway (high-water mark minus lag), so the
    window never starts later than it.
    """
    opens = sorted(open_orders, key=lambda item: item[1])
    known = sorted(known_created)
    older = [created for _, created in opens if created < floor]

    def cost(start: datetime) -> int:
        singles = bisect_left(older, start)  # open orders the window misses
        window = len(known) - bisect_left(known, start)
        return singles + max(1, math.ceil(window / per_page))

    # Candidates: the floor itself, or a window widened back to each older open order.
    best = min([floor, *older], key=lambda start: (cost(start), start != floor))
    singles = [order_id for order_id, created in opens if created < best]
    window_orders = len(known) - bisect_left(known, best)
    return RereadPlan(singles, best, window_orders, cost(best))
