"""Request checks as the real API makes them.

- Bodies are parsed by the SDK's own `unmarshal` into its request models
  (`airbyte_api.models`), the contract the real server is generated from: a missing
  field or a wrong type answers 400 naming the field (`data.errors[].field`, camelCase
  as on the wire).
- A custom source's `configuration` is the exception: the SDK types it as a union of
  built-in sources, the server as any object. It is validated against its definition's
  connector spec (JSON schema, as the platform does on create/update): 400 naming each
  field, `$.api_key`. A destination's is the SDK's `DestinationDuckdb`.
- Messages never carry a submitted value: only field names and what the schema wants.
  Secrets (spec properties marked `airbyte_secret`) are masked in every response
  (`**********`); a PATCH/PUT that sends the mask back keeps the stored secret.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import orjson
import pydantic
from airbyte_api import utils
from jsonschema import exceptions as schema_exceptions
from jsonschema import validators

from mock_apis.airbyte.problems import MASK, bad_request

M = TypeVar("M", bound=pydantic.BaseModel)


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw or b"null")
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}") from exc


def validate_body(
    model: type[M], raw: bytes, opaque_configuration: bool = False
) -> tuple[M, dict[str, Any]]:
    """The body parsed into the SDK's `model` by the SDK's own `unmarshal`, and the JSON
    as sent. With `opaque_configuration` (a custom source's), `configuration` need only be
    an object: the SDK types it as a union of built-in sources, the server as any JSON,
    and its spec is what checks it (`check_configuration`)."""
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise bad_request(
            f"The request body must be a JSON object ({model.__name__})",
            errors=[{"field": "$", "message": "must be a JSON object"}],
        )
    checked = body
    if opaque_configuration and "configuration" in body:
        if not isinstance(body["configuration"], dict):
            raise bad_request(
                f"Invalid {model.__name__}: configuration: must be a JSON object",
                errors=[{"field": "configuration", "message": "must be a JSON object"}],
            )
        checked = {**body, "configuration": {}}
    try:
        return utils.unmarshal(checked, model), body
    except pydantic.ValidationError as exc:
        found = exc.errors(include_input=False)
        errors = _field_errors([{**e, "loc": e["loc"][1:]} for e in found], body)
    except ValueError as exc:  # the SDK's destinationType discriminator raises these
        errors = [{"field": "configuration.destinationType", "message": _discriminator(exc)}]
    listing = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    raise bad_request(f"Invalid {model.__name__}: {listing}", errors=errors)


def _discriminator(exc: ValueError) -> str:
    if "discriminator" in str(exc):
        return "is missing but it is required (it names the destination connector)"
    return "is not valid"


def _field_errors(raw_errors: list[Any], body: dict[str, Any]) -> list[dict[str, str]]:
    config = body.get("configuration")
    out: dict[str, str] = {}
    for err in raw_errors:
        loc = list(err["loc"])
        if loc and loc[0] == "configuration":
            if not isinstance(config, dict):
                out["configuration"] = "must be a JSON object"
                continue
            if len(loc) > 1 and isinstance(loc[1], str) and loc[1] not in config:
                del loc[1]  # the union member's tag or class name, not a field
        out.setdefault(_dotted(loc) or "$", err["msg"])
    return [{"field": f, "message": m} for f, m in out.items()]


def _dotted(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def check_configuration(config: Any, spec: dict[str, Any], what: str = "configuration") -> None:
    """400 unless `config` satisfies the connector spec's `connectionSpecification`."""
    schema = spec.get("connectionSpecification") or {}
    if not isinstance(config, dict):
        raise bad_request(
            f"The {what} must be a JSON object",
            errors=[{"field": "configuration", "message": "must be a JSON object"}],
        )
    validator_cls = validators.validator_for(schema, default=validators.Draft7Validator)
    found = sorted(
        validator_cls(schema).iter_errors(config), key=lambda e: list(map(str, e.absolute_path))
    )
    errors = [e for err in found for e in _schema_errors(err)]
    if errors:
        listing = "\n".join(f"{e['field']}: {e['message']}" for e in errors)
        raise bad_request(
            "The provided configuration does not fulfill the specification. Errors: "
            f"json schema validation failed when comparing the data to the json schema. "
            f"\nErrors: {listing}",
            errors=errors,
        )


def _schema_errors(err: schema_exceptions.ValidationError) -> Iterator[dict[str, str]]:
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
    if err.validator == "required":
        present = err.instance if isinstance(err.instance, dict) else {}
        for name in err.validator_value:
            if name not in present:
                yield {"field": f"{path}.{name}", "message": "is missing but it is required"}
        return
    kind = err.validator
    if kind == "type":
        wanted = err.validator_value
        message = f"must be of type {'/'.join(wanted) if isinstance(wanted, list) else wanted}"
    elif kind in ("enum", "const"):
        message = f"must be one of {err.validator_value}"
    elif kind == "additionalProperties":
        allowed = set((err.schema or {}).get("properties", {}))
        extra = sorted(set(err.instance) - allowed) if isinstance(err.instance, dict) else []
        message = f"has properties the spec does not allow: {extra}"
    elif kind in ("oneOf", "anyOf"):
        message = "matches none of the options the spec allows"
    else:
        message = f"must satisfy {kind}: {err.validator_value}"
    yield {"field": path, "message": message}


def secret_names(spec: dict[str, Any]) -> set[str]:
    """Names of the spec's properties marked `airbyte_secret`, at any depth."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, prop in (node.get("properties") or {}).items():
                if isinstance(prop, dict) and prop.get("airbyte_secret"):
                    names.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec.get("connectionSpecification") or spec)
    return names


def mask(config: Any, names: set[str]) -> Any:
    """`config` with every secret value replaced by the mask, as the API returns it."""
    if isinstance(config, dict):
        return {
            k: MASK if k in names and v is not None else mask(v, names) for k, v in config.items()
        }
    if isinstance(config, list):
        return [mask(v, names) for v in config]
    return config


def keep_masked(new: Any, old: Any, names: set[str]) -> Any:
    """`new` with each secret sent back masked replaced by the stored value."""
    if not isinstance(new, dict) or not isinstance(old, dict):
        return new
    out = copy.deepcopy(new)
    for key, value in new.items():
        if key in names and value == MASK and key in old:
            out[key] = old[key]
        elif isinstance(value, dict):
            out[key] = keep_masked(value, old.get(key), names)
    return out


def secret_values(config: Any, names: set[str]) -> set[str]:
    """The secret strings inside `config`, to scrub from logs, reasons and errors."""
    found: set[str] = set()
    if isinstance(config, dict):
        for key, value in config.items():
            if key in names and value not in (None, MASK):
                found.add(value if isinstance(value, str) else orjson.dumps(value).decode())
            else:
                found |= secret_values(value, names)
    elif isinstance(config, list):
        for value in config:
            found |= secret_values(value, names)
    return found


def scrub(text: str, secrets: Iterable[str]) -> str:
    for value in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text
