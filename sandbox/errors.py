"""The one exception handlers raise: it becomes an `{"errors": [...]}` response."""

from __future__ import annotations


class ApiError(Exception):
    """An API error with its HTTP status and the strings for the `errors` array."""

    def __init__(self, status: int, *messages: str) -> None:
        super().__init__(f"{status}: {'; '.join(messages)}")
        self.status = status
        self.messages = list(messages)


def not_found(kind: str) -> ApiError:
    """404 for an unknown id, e.g. `Order not found` (SPEC §8.10)."""
    return ApiError(404, f"{kind} not found")
