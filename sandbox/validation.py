"""A small JSON Schema subset (the one the help manifest publishes) and query-string coercion."""

from __future__ import annotations

from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _is(value: Any, type_name: str) -> bool:
    # bool is an int in Python but never a JSON integer/number.
    if type_name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[type_name])


def validate(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Messages for every violation of type/properties/required/enum/items/bounds/not-null."""
    label = path or "body"
    errors: list[str] = []
    not_schema = schema.get("not")
    if not_schema == {"type": "null"} and value is None:
        return [f"{label} must not be null"]
    wanted = schema.get("type")
    if wanted is not None:
        names = wanted if isinstance(wanted, list) else [wanted]
        if not any(_is(value, n) for n in names):
            return [f"{label} must be {' or '.join(_article(n) for n in names)}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{label} must be one of: {', '.join(str(v) for v in schema['enum'])}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{label} must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{label} must be <= {schema['maximum']}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append(f"{label} must have at least {schema['minItems']} item(s)")
        if "items" in schema:
            for i, item in enumerate(value):
                errors += validate(item, schema["items"], f"{label}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{_join(path, name)} is required")
        if schema.get("additionalProperties") is False:
            for name in value:
                if name not in props:
                    errors.append(f"{_join(path, name)} is not a known field")
        for name, sub in props.items():
            if name in value:
                errors += validate(value[name], sub, _join(path, name))
    return errors


def coerce_query(pairs: list[tuple[str, str]], schema: dict[str, Any]) -> tuple[dict, list[str]]:
    """Turn query pairs into typed values per the schema; `k[]=a&k[]=b` and `k=a,b` make arrays."""
    props = schema.get("properties", {})
    raw: dict[str, list[str]] = {}
    for key, value in pairs:
        raw.setdefault(key.removesuffix("[]"), []).append(value)
    out: dict[str, Any] = {}
    errors: list[str] = []
    for key, values in raw.items():
        sub = props.get(key)
        if sub is None:
            continue  # Unknown params are ignored, as Rails does.
        if sub.get("type") == "array":
            parts = [p for v in values for p in v.split(",") if p != ""]
            items = [_scalar(p, sub.get("items", {}), f"{key}[]", errors) for p in parts]
            out[key] = items
        else:
            out[key] = _scalar(values[-1], sub, key, errors)
    return out, errors


def _scalar(text: str, schema: dict[str, Any], key: str, errors: list[str]) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        errors.append(f"{key} must be {_article(kind)}")
        return None
    if kind == "boolean":
        if text.lower() in ("true", "1"):
            return True
        if text.lower() in ("false", "0"):
            return False
        errors.append(f"{key} must be a boolean")
        return None
    return text


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _article(type_name: str | None) -> str:
    return {"integer": "an integer", "array": "an array", "object": "an object"}.get(
        type_name or "", f"a {type_name}"
    )
