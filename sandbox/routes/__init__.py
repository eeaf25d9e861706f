"""Route handlers; importing this package registers every action in REGISTRY, in manifest order."""

from sandbox.routes import meta, offers, orders, reports, variants  # noqa: F401
