"""Warehouse exceptions.

WarehouseError            base class; never raised itself
├── MissingKey            a record has no key (`shopify_order_id`/`id` for orders, `id` for offers):
│                         the caller handed us something that is not an API record at all
└── LoadStateError        a load was used out of order (add after finish, finish twice, mark_missing
                          on an incremental load, leaving the block without finish)

Records with a key but an unexpected shape never raise: they become `frames.Reject` rows.
"""

from __future__ import annotations


class WarehouseError(Exception):
    """Base class of every warehouse error."""


class MissingKey(WarehouseError, ValueError):
    """A record has no key; raised by `frames.order_frames` / `frames.offer_frames`."""

    def __init__(self, stream: str, keys: tuple[str, ...], position: int) -> None:
        self.stream = stream
        self.keys = keys
        self.position = position
        wanted = " or ".join(repr(k) for k in keys)
        super().__init__(f"{stream} record #{position} has no {wanted}: not an API record")


class LoadStateError(WarehouseError, RuntimeError):
    """A load unit of work was used out of order."""
