"""Deterministic, realistic shop data per seed: offers, variants, customers and orders."""

from __future__ import annotations

import random
import uuid

from sandbox.offers import Offer, Variant
from sandbox.orders import Customer, LineItem, Order

DAY = 86400.0
HISTORY_DAYS = 180
FIRST_ORDER_ID = 5512345000000
FIRST_VARIANT_ID = 43900910000000
FIRST_PRODUCT_ID = 8012345600000
FIRST_CUSTOMER_ID = 7012345600000
STATUS_CYCLE = ("enabled", "enabled", "disabled", "enabled", "scheduled", "discarded")
DEPOSITS = (20, 10, 25, 50, 0, 100, 30)
STATE_WEIGHTS = {
    "placed": 10,
    "awaiting_balance": 30,
    "balance_collected": 15,
    "released": 10,
    "fulfilled": 20,
    "cancelled": 8,
    "refunded": 7,
}
ADJECTIVES = ("Spring", "Summer", "Autumn", "Winter", "Limited", "Founders", "Restock", "Studio")
NOUNS = ("Drop", "Edition", "Collection", "Release", "Batch", "Series", "Run", "Launch")
PRODUCTS = ("Canvas Tote", "Ceramic Mug", "Wool Beanie", "Linen Shirt", "Desk Lamp", "Sneaker")
SIZES = ("S", "M", "L", "XL", "One size")
FIRST = ("Jane", "Omar", "Li", "Ana", "Tomas", "Priya", "Kofi", "Mia", "Lars", "Yuki", "Sam")
LAST = ("Doe", "Haddad", "Wei", "Silva", "Novak", "Rao", "Mensah", "Berg", "Sato", "Lee")
EXTRA_TAGS = ("vip", "wholesale", "wave-2", "gift", "priority")


def new_uuid(rng: random.Random) -> str:
    """A UUID4 drawn from the seeded RNG."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seed_catalog(
    rng: random.Random, n_offers: int, now: float
) -> tuple[dict[str, Offer], dict[int, Variant]]:
    """Offers cycling through every status and deposit, each with 2-5 variants; plus spares."""
    offers: dict[str, Offer] = {}
    variants: dict[int, Variant] = {}
    next_variant = FIRST_VARIANT_ID
    for i in range(n_offers):
        created = now - (HISTORY_DAYS + 30) * DAY + i * 3 * DAY
        name = f"{ADJECTIVES[i % len(ADJECTIVES)]} {NOUNS[(i // 2) % len(NOUNS)]} {2025 + i % 2}"
        offer = Offer(
            id=new_uuid(rng),
            name=name,
            internal_name=f"{name} (#{i + 1})",
            enabled=True,
            deposit_percentage=DEPOSITS[i % len(DEPOSITS)],
            created_at=created,
            updated_at=created,
            delivery_at=now + rng.randint(10, 90) * DAY if i % 3 else None,
        )
        status = STATUS_CYCLE[i % len(STATUS_CYCLE)]
        if status == "disabled":
            offer.enabled = False
        elif status == "scheduled":
            offer.enabled = False
            offer.scheduled_start_at = now + rng.randint(3, 30) * DAY
        elif status == "discarded":
            offer.enabled = False
            offer.discarded_at = now - rng.randint(1, 20) * DAY
        product_id = FIRST_PRODUCT_ID + i
        product = PRODUCTS[i % len(PRODUCTS)]
        for k in range(rng.randint(2, 5)):
            next_variant += rng.randint(1, 40000)
            variant = Variant(
                id=next_variant,
                product_id=product_id,
                title=f"{product} / {SIZES[k % len(SIZES)]}",
                sku=f"SKU-{i + 1:03d}-{k + 1}",
                price_cents=rng.randint(19, 349) * 100 + rng.choice((0, 50, 99)),
                offer_ids=[offer.id],
                preorder_max_count=rng.choice((None, 50, 100, 500)),
            )
            variants[variant.id] = variant
            offer.variant_ids.append(variant.id)
        offers[offer.id] = offer
    # Variants in the catalog but in no offer: valid targets for add_variants.
    for k in range(10):
        next_variant += rng.randint(1, 40000)
        variants[next_variant] = Variant(
            id=next_variant,
            product_id=FIRST_PRODUCT_ID + n_offers + k // 3,
            title=f"Spare product {k // 3 + 1} / {SIZES[k % len(SIZES)]}",
            sku=f"SKU-SPARE-{k + 1}",
            price_cents=rng.randint(19, 199) * 100,
        )
    return offers, variants


def seed_customers(rng: random.Random, n: int) -> list[Customer]:
    """`n` customers with stable ids, names and emails."""
    out = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first.lower()}.{last.lower()}{i + 1}@example.com"
        out.append(Customer(FIRST_CUSTOMER_ID + i * 7, email, f"{first} {last}"))
    return out


def currency_of(customer: Customer, currencies: tuple[str, ...]) -> str:
    """The currency a customer buys in: the shop's currencies in turn, by customer (no RNG)."""
    return currencies[(customer.id - FIRST_CUSTOMER_ID) // 7 % len(currencies)]


def make_order(
    rng: random.Random,
    order_id: int,
    number: int,
    created: float,
    now: float,
    customer: Customer,
    offers: list[Offer],
    variants: dict[int, Variant],
    state: str,
    currencies: tuple[str, ...] = ("USD",),
) -> Order:
    """One order whose stored fields derive to `state` (or the nearest state its deposit allows)."""
    chosen = [rng.choice(offers)]
    if rng.random() < 0.15:
        chosen.append(rng.choice(offers))
    items: list[LineItem] = []
    for _ in range(rng.randint(1, 3)):
        offer = rng.choice(chosen)
        v = variants[rng.choice(offer.variant_ids)]
        items.append(
            LineItem(v.id, v.product_id, offer.id, rng.randint(1, 3), v.price_cents, v.title)
        )
    pct = {o.id: o.deposit_percentage for o in chosen}
    deposit = sum(li.price_cents * li.quantity * pct[li.offer_id] // 100 for li in items)
    total = sum(li.price_cents * li.quantity for li in items)
    hold = "on_hold" if rng.random() < 0.85 else "scheduled"
    order = Order(order_id, f"#{number}", created, customer, items, deposit, 0, "pending", hold)
    order.currency = currency_of(customer, currencies)
    order.updated_at = created
    if rng.random() < 0.3:
        order.tags.append(rng.choice(EXTRA_TAGS))
    if state == "awaiting_balance" and not 0 < deposit < total:
        state = "placed" if deposit == 0 else "balance_collected"

    def later() -> float:
        return min(now, created + rng.uniform(3600.0, 20 * DAY))

    def pay_all() -> None:
        order.paid_cents, order.financial_status = total, "paid"
        if deposit < total:
            order.charged_at = later()

    if state == "awaiting_balance":
        order.paid_cents, order.financial_status = deposit, "partially_paid"
    elif state == "balance_collected":
        pay_all()
    elif state in ("released", "fulfilled"):
        forced = state == "released" and 0 < deposit < total and rng.random() < 0.2
        if forced:
            order.paid_cents, order.financial_status = deposit, "partially_paid"
        else:
            pay_all()
        order.fulfillment_status = "unfulfilled" if state == "released" else "fulfilled"
        order.released_at = later()
    elif state == "cancelled":
        order.paid_cents = deposit
        paid = "refunded" if rng.random() < 0.5 else "partially_paid"
        order.financial_status = "voided" if deposit == 0 else paid
        order.cancelled_at = later()
    elif state == "refunded":
        order.paid_cents = deposit if deposit else total
        order.financial_status = "refunded"
        order.refunded_at = later()
        if rng.random() < 0.3:
            order.fulfillment_status = "fulfilled"
    order.updated_at = max(
        t for t in (created, order.charged_at, order.cancelled_at, order.refunded_at) if t
    )
    return order


def seed_orders(
    rng: random.Random,
    n: int,
    now: float,
    customers: list[Customer],
    offers: dict[str, Offer],
    variants: dict[int, Variant],
    currencies: tuple[str, ...] = ("USD",),
    id_seed: int | None = None,
) -> list[Order]:
    """`n` orders over the last HISTORY_DAYS days, oldest first, in every state.

    Ids come from `rng` unless `id_seed` names their own RNG (then equal seeds, equal ids).
    """
    pool = list(offers.values())
    states = list(STATE_WEIGHTS)
    # Guarantee every state appears, then draw the rest by weight.
    targets = states[:n] + rng.choices(states, list(STATE_WEIGHTS.values()), k=max(0, n - 7))
    rng.shuffle(targets)
    times = sorted(int(now - rng.uniform(60.0, HISTORY_DAYS * DAY)) for _ in range(n))
    out, order_id = [], FIRST_ORDER_ID
    ids = rng if id_seed is None else random.Random(id_seed)
    for i, created in enumerate(times):
        order_id += ids.randint(1, 997)
        customer = rng.choice(customers)
        out.append(
            make_order(
                rng,
                order_id,
                1001 + i,
                float(created),
                now,
                customer,
                pool,
                variants,
                targets[i],
                currencies,
            )
        )
    return out
