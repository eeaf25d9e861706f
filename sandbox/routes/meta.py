"""Discovery actions: /help (and `<prefix>/help`), public skill.md and llms.txt."""

from __future__ import annotations

from sandbox.config import BASE_PATH
from sandbox.registry import REGISTRY
from sandbox.reports import catalog

action = REGISTRY.action


@action(
    "help",
    "GET",
    "/help",
    "The manifest of every action: method, path, aliases, schemas.",
    aliases=["help", "list actions", "what can I do"],
    schema={"type": "object", "properties": {"prefix": {"type": "string"}}},
    notes="Narrow with ?prefix=/preorders/orders or append /help to any path prefix.",
)
def help_manifest(shop, req):
    prefix = req.params.get("prefix") or req.query.get("prefix")
    body = shop.registry.manifest(prefix)
    if prefix and prefix.rstrip("/") == "/preorders/reports":
        body["reports"] = catalog(expanded=True)
    return 200, body


@action(
    "skill_md",
    "GET",
    "/preorders/skill.md",
    "Public markdown guide to the preorder API.",
    public=True,
)
def skill_md(shop, req):
    lines = [
        "# STOQ Preorders API v2 (sandbox)",
        "",
        f"Base URL: `{req.origin}{BASE_PATH}`. Send `X-Auth-Token: <key>` on every request.",
        'Reads answer 200, writes 202 with bare payloads; errors are `{"errors": [...]}`.',
        "Lists are paginated with `page`/`per_page` and carry `meta`.",
        "Bulk actions and exports answer a job handle; poll its `status_url` as given.",
        "",
        "| Method | Path | Description | Aliases |",
        "|---|---|---|---|",
    ]
    for a in shop.registry.actions:
        if a.path.startswith("/preorders"):
            lines.append(f"| {a.method} | `{a.path}` | {a.description} | {', '.join(a.aliases)} |")
    return 200, "\n".join(lines) + "\n"


@action("llms_txt", "GET", "/llms.txt", "Public index of the API's documentation.", public=True)
def llms_txt(shop, req):
    root = req.origin + BASE_PATH
    return 200, "\n".join(
        [
            "# STOQ API v2 (sandbox)",
            "",
            "> Local emulator of the STOQ Preorders v2 API.",
            "",
            f"- [Preorders skill]({root}/preorders/skill.md): conventions and every action",
            f"- [Help manifest]({root}/help): machine-readable actions (needs X-Auth-Token)",
            f"- Actions registered: {len(shop.registry.actions)}",
            "",
        ]
    )
