"""Orders kept sorted by (created_at, id) so newest-first pages and date windows are O(page)."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator

from sandbox.orders import Order


class OrderBook:
    """A sorted list plus an id index; pages are sliced from the newest end."""

    def __init__(self) -> None:
        self._keys: list[tuple[float, int]] = []
        self._orders: list[Order] = []
        self.by_id: dict[int, Order] = {}

    def __len__(self) -> int:
        return len(self._orders)

    def add(self, order: Order) -> None:
        """Insert keeping the sort; appending the newest order is the common, O(1) case."""
        key = (order.created_at, order.id)
        if not self._keys or key > self._keys[-1]:
            self._keys.append(key)
            self._orders.append(order)
        else:
            i = bisect.bisect_left(self._keys, key)
            self._keys.insert(i, key)
            self._orders.insert(i, order)
        self.by_id[order.id] = order

    def get(self, order_id: int) -> Order | None:
        """The order with this Shopify id, if any."""
        return self.by_id.get(order_id)

    def newest(self) -> Order | None:
        """The head of the newest-first list."""
        return self._orders[-1] if self._orders else None

    def window(self, start: float | None, end: float | None) -> tuple[int, int]:
        """Index range [lo, hi) of orders with start <= created_at < end."""
        lo = 0 if start is None else bisect.bisect_left(self._keys, (start, -1))
        hi = len(self._keys) if end is None else bisect.bisect_left(self._keys, (end, -1))
        return lo, max(lo, hi)

    def page(self, lo: int, hi: int, offset: int, limit: int) -> list[Order]:
        """`limit` orders newest-first from the window, skipping `offset`."""
        top = hi - offset
        bottom = max(lo, top - limit)
        if top <= lo:
            return []
        return self._orders[bottom:top][::-1]

    def scan(self, lo: int, hi: int, keep: Callable[[Order], bool] | None = None) -> list[Order]:
        """Every order in the window, newest-first, that `keep` accepts (O(window))."""
        items = self._orders[lo:hi][::-1]
        return items if keep is None else [o for o in items if keep(o)]

    def __iter__(self) -> Iterator[Order]:
        """Newest first."""
        return reversed(self._orders)
