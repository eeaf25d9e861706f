"""The derived order states SPEC §3.1 documents, in lifecycle order."""

ORDER_STATES = (
    "placed",
    "awaiting_balance",
    "balance_collected",
    "released",
    "fulfilled",
    "cancelled",
    "refunded",
)
