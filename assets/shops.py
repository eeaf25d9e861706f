"""The shops as Dagster sees them: one partition per shop, the `stoq/shop` run tag, a step's shop.

The partitions are the names in the shops file (preorders.shops, read without requiring the keys:
the webserver that loads the code location may hold none); a bad file fails the location's load
with the file's own message. Without PREORDERS_SHOPS there is one partition, `default`. A step
resolves its shop again when it runs, and its client reads the key then (assets/resources.py).
Every run for a shop carries the tag `stoq/shop=<name>`; pipelines/dagster.yaml lets one run per
tag value be in progress, so two runs never share a key's rate budget.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import dagster as dg

from preorders.shops import Shop, load_shops, pick

SHOP_TAG = "stoq/shop"
#: How a run names its shop, in the error when several are configured and none is named.
CHOOSE = "set `shop` in the run config"
#: The `shop` config field of every op that talks to STOQ or reads a shop's rows.
SHOP_FIELD = (
    "The shop (a name in the shops file); empty: the single configured shop (an error naming"
    " them when there are several)."
)


def shop_names(env: Mapping[str, str] = os.environ) -> list[str]:
    """The configured shops' names, in file order; keys need not be set."""
    return [shop.name for shop in load_shops(env, keys_required=False)]


def shop_partitions(env: Mapping[str, str] = os.environ) -> dg.StaticPartitionsDefinition:
    """One partition per configured shop (`default` without a shops file)."""
    return dg.StaticPartitionsDefinition(shop_names(env))


@contextmanager
def partitioned_checks() -> Iterator[None]:
    """Around the definition of a check partitioned by shop: Dagster 1.13 runs and records such
    checks per partition, but flags a partitioned check spec as a preview; said here, once."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="Specifying a partitions_def on an AssetCheckSpec",
            category=dg.PreviewWarning,
        )
        yield


def shop_tags(name: str) -> dict[str, str]:
    """The run tags of a run for shop `name`."""
    return {SHOP_TAG: name}


def run_shop(name: str | None) -> Shop:
    """The shop named (empty: the single configured shop), read from the shops file now; a
    `dg.Failure` naming the configured shops when there are several and none is named."""
    from stoq.errors import ConfigurationError

    shops = load_shops(keys_required=False)  # a bad file raises its own error, as at load
    try:
        return pick(shops, name or None, choose=CHOOSE)
    except ConfigurationError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None


def first_shop() -> Shop:
    """The first configured shop, read now: whose key a deployment-wide request uses."""
    return load_shops(keys_required=False)[0]


def op_shop(context: dg.OpExecutionContext, name: str) -> Shop:
    """The op's shop (its `shop` config field); tags a run launched without `stoq/shop` (from
    the UI) so it shows the shop, and refuses a run whose tag names another shop."""
    shop = run_shop(name)
    tagged = context.run.tags.get(SHOP_TAG)
    if tagged is None:
        context.instance.add_run_tags(context.run_id, shop_tags(shop.name))
    elif tagged != shop.name:
        raise dg.Failure(
            f"the run is tagged {SHOP_TAG}={tagged} but its config names shop {shop.name!r}",
            allow_retries=False,
        )
    return shop


# Read when the code location loads: a partitions definition is fixed at load (the names only).
SHOP_PARTITIONS = shop_partitions()
