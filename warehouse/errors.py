"""Warehouse exceptions.

WarehouseError            base class; never raised itself
├── MissingKey            a record has no key (`shopify_order_id`/`id` for orders, `id` for offers):
│                         the caller handed us something that is not an API record at all
├── LoadStateError        a load was used out of order (add after finish, finish twice, mark_missing
│   │                     on an incremental load, leaving the block without finish)
│   └── LoadInProgress    a live load of the same shop's stream (another sync, in this process or
│                         another) holds the warehouse's stage: raised before this one stages
└── WarehouseUnavailable  (also an OSError) `warehouse.connect.connect` cannot open the file: it is
    │                     a directory, not a DuckDB file, not writable, its folder cannot be made;
    │                     raised at once, never retried
    └── WarehouseLocked   another process held DuckDB's lock on the file for all of `lock_wait`

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


class LoadInProgress(LoadStateError):
    """Another live load of this shop's stream holds its stage lock: this load stops before it
    stages a row, so two syncs of one shop never walk and merge over each other."""


class WarehouseUnavailable(WarehouseError, OSError):
    """The warehouse file cannot be opened for a reason waiting will not fix; raised at once."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0])


class WarehouseLocked(WarehouseUnavailable):
    """Another process kept its lock on the warehouse file for the whole wait."""

    def __init__(self, message: str, path: str, waited: float) -> None:
        super().__init__(message, path)
        self.waited = waited
