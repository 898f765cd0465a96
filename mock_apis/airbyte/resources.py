"""Workspaces, custom source definitions, sources and destinations.

- Workspaces: list and get; self-hosted's one "Default Workspace" is pre-seeded.
- Source definitions (`/workspaces/{id}/definitions/sources`): custom definitions only
  (the real list also holds the catalogue's built-in ones). Create and update "pull"
  the image, i.e. run its mapped command's `spec` (see `images`), and keep the spec.
- Sources: a custom definition's `configuration` is validated against that spec and
  stored exactly as sent (the SDK turns a plain dict into some built-in source model on
  the way: see the package docstring). `sourceType` is "" for a custom definition: the
  platform names only its built-in definitions (some server versions omit the field for
  custom ones, which this SDK version cannot parse: airbytehq/airbyte#48788).
- Destinations: DuckDB only (`destinationType: duckdb`, `DestinationDuckdb`); the
  configuration keeps `destinationType`, which the SDK needs to parse the response.
- Deletes are soft: gone from get and list unless `includeDeleted=true`; deleting a
  source or destination deletes its connections, as the platform does.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from airbyte_api import api, models

from mock_apis.airbyte import DUCKDB_DEFINITION_ID
from mock_apis.airbyte.call import Call, Reply
from mock_apis.airbyte.images import ConnectorFailed, spec_of
from mock_apis.airbyte.problems import bad_request, not_found
from mock_apis.airbyte.validation import (
    check_configuration,
    keep_masked,
    mask,
    secret_names,
    secret_values,
    validate_body,
)


def live(call: Call, kind: str, key: str, label: str) -> dict[str, Any]:
    """A stored, undeleted object, or the API's 404."""
    obj = call.fake.store.get(kind, key)
    if obj is None or obj.get("_deleted"):
        raise not_found(label, key)
    return obj


def _listed(call: Call, kind: str, request: Any) -> list[dict[str, Any]]:
    wanted = set(request.workspace_ids or [])
    return [
        o
        for o in call.fake.store.all(kind)
        if (request.include_deleted or not o.get("_deleted"))
        and (not wanted or o["workspaceId"] in wanted)
    ]


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


# ---------------------------------------------------------------------- workspaces
def list_workspaces(call: Call) -> dict[str, Any]:
    req = call.query_model(api.ListWorkspacesRequest)
    return call.page([_public(w) for w in _listed(call, "workspaces", req)], req.limit, req.offset)


def get_workspace(call: Call) -> dict[str, Any]:
    return _public(live(call, "workspaces", call.path["workspaceId"], "workspace"))


# ---------------------------------------------------------------------- definitions
def _definition_response(d: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "dockerRepository", "dockerImageTag", "documentationUrl")
    return {k: d[k] for k in keys if d.get(k) is not None}


def _pull_spec(call: Call, repository: str, tag: str) -> dict[str, Any]:
    argv = call.fake.images.command(repository, tag)
    try:
        return spec_of(argv, call.fake.data_dir / "tmp")
    except ConnectorFailed as exc:
        raise bad_request(
            f"Could not get the spec of image {repository}:{tag}: {exc}",
            dockerRepository=repository,
            dockerImageTag=tag,
        ) from exc


def create_source_definition(call: Call) -> dict[str, Any]:
    workspace = live(call, "workspaces", call.path["workspaceId"], "workspace")
    req, _ = validate_body(models.CreateDefinitionRequest, call.raw)
    definition = {
        "id": str(uuid.uuid4()),
        "name": req.name,
        "dockerRepository": req.docker_repository,
        "dockerImageTag": req.docker_image_tag,
        "documentationUrl": req.documentation_url,
        "workspaceId": workspace["workspaceId"],
        "spec": _pull_spec(call, req.docker_repository, req.docker_image_tag),
        "createdAt": int(time.time()),
    }
    call.fake.store.put("definitions", definition["id"], definition)
    return _definition_response(definition)


def _definition(call: Call) -> dict[str, Any]:
    live(call, "workspaces", call.path["workspaceId"], "workspace")
    found = live(call, "definitions", call.path["definitionId"], "source definition")
    if found["workspaceId"] != call.path["workspaceId"]:
        raise not_found("source definition", call.path["definitionId"])
    return found


def list_source_definitions(call: Call) -> dict[str, Any]:
    live(call, "workspaces", call.path["workspaceId"], "workspace")
    found = [
        _definition_response(d)
        for d in call.fake.store.all("definitions")
        if d["workspaceId"] == call.path["workspaceId"] and not d.get("_deleted")
    ]
    return {"data": found}


def get_source_definition(call: Call) -> dict[str, Any]:
    return _definition_response(_definition(call))


def update_source_definition(call: Call) -> dict[str, Any]:
    definition = _definition(call)
    req, _ = validate_body(models.UpdateDefinitionRequest, call.raw)
    spec = _pull_spec(call, definition["dockerRepository"], req.docker_image_tag)
    definition.update(name=req.name, dockerImageTag=req.docker_image_tag, spec=spec)
    call.fake.store.put("definitions", definition["id"], definition)
    return _definition_response(definition)


def delete_source_definition(call: Call) -> dict[str, Any]:
    definition = _definition(call)
    for source in call.fake.store.all("sources"):
        if source["definitionId"] == definition["id"] and not source.get("_deleted"):
            _delete_actor(call, "sources", "sourceId", source)
    definition["_deleted"] = True
    call.fake.store.put("definitions", definition["id"], definition)
    return _definition_response(definition)


# ---------------------------------------------------------------------- sources
def _source_response(call: Call, source: dict[str, Any]) -> dict[str, Any]:
    definition = call.fake.store.get("definitions", source["definitionId"]) or {"spec": {}}
    out = _public(source)
    out["configuration"] = mask(source["configuration"], secret_names(definition["spec"]))
    out["sourceType"] = ""
    return out


def _checked_config(call: Call, config: Any, definition: dict[str, Any]) -> None:
    call.secrets |= secret_values(config, secret_names(definition["spec"]))
    check_configuration(config, definition["spec"])


def source_secrets(call: Call, source: dict[str, Any]) -> set[str]:
    """The source's secret values, for masking them out of any error about it."""
    definition = call.fake.store.get("definitions", source["definitionId"]) or {"spec": {}}
    return secret_values(source["configuration"], secret_names(definition["spec"]))


def create_source(call: Call) -> dict[str, Any]:
    req, body = validate_body(models.SourceCreateRequest, call.raw, opaque_configuration=True)
    workspace = live(call, "workspaces", req.workspace_id, "workspace")
    if not req.definition_id:
        raise bad_request(
            "definitionId is required: the fake runs custom source definitions only "
            "(built-in sourceType connectors need Docker).",
            errors=[{"field": "definitionId", "message": "is missing but it is required"}],
        )
    definition = live(call, "definitions", req.definition_id, "source definition")
    if definition["workspaceId"] != workspace["workspaceId"]:
        raise not_found("source definition", req.definition_id)
    _checked_config(call, body["configuration"], definition)
    source = {
        "sourceId": str(uuid.uuid4()),
        "name": req.name,
        "definitionId": definition["id"],
        "workspaceId": workspace["workspaceId"],
        "configuration": body["configuration"],
        "createdAt": int(time.time()),
    }
    if body.get("resourceAllocation") is not None:
        source["resourceAllocation"] = body["resourceAllocation"]
    call.fake.store.put("sources", source["sourceId"], source)
    return _source_response(call, source)


def list_sources(call: Call) -> dict[str, Any]:
    req = call.query_model(api.ListSourcesRequest)
    found = [_source_response(call, s) for s in _listed(call, "sources", req)]
    return call.page(found, req.limit, req.offset)


def get_source(call: Call) -> dict[str, Any]:
    return _source_response(call, live(call, "sources", call.path["sourceId"], "source"))


def _update_source(call: Call, model: type, replace: bool) -> dict[str, Any]:
    source = live(call, "sources", call.path["sourceId"], "source")
    definition = live(call, "definitions", source["definitionId"], "source definition")
    req, body = validate_body(model, call.raw, opaque_configuration=True)
    if "configuration" in body:
        names = secret_names(definition["spec"])
        new = body["configuration"]
        if not replace and isinstance(new, dict):
            new = {**source["configuration"], **new}
        new = keep_masked(new, source["configuration"], names)
        _checked_config(call, new, definition)
        source["configuration"] = new
    if req.name is not None:
        source["name"] = req.name
    if body.get("resourceAllocation") is not None:
        source["resourceAllocation"] = body["resourceAllocation"]
    call.fake.store.put("sources", source["sourceId"], source)
    call.fake.store.delete("catalogs", source["sourceId"])  # a new config: discover again
    return _source_response(call, source)


def patch_source(call: Call) -> dict[str, Any]:
    return _update_source(call, models.SourcePatchRequest, replace=False)


def put_source(call: Call) -> dict[str, Any]:
    return _update_source(call, models.SourcePutRequest, replace=True)


def _delete_actor(call: Call, kind: str, key: str, actor: dict[str, Any]) -> None:
    for connection in call.fake.store.all("connections"):
        if connection.get(key) == actor[key] and not connection.get("_deleted"):
            connection["_deleted"] = True
            connection["status"] = "deprecated"
            call.fake.store.put("connections", connection["connectionId"], connection)
    actor["_deleted"] = True
    call.fake.store.put(kind, actor[key], actor)


def delete_source(call: Call) -> Any:
    _delete_actor(
        call, "sources", "sourceId", live(call, "sources", call.path["sourceId"], "source")
    )
    return Reply(204)


# ---------------------------------------------------------------------- destinations
DUCKDB_SPEC = {
    "connectionSpecification": {
        "properties": {"motherduck_api_key": {"type": "string", "airbyte_secret": True}}
    }
}


def _destination_response(destination: dict[str, Any]) -> dict[str, Any]:
    out = _public(destination)
    out["configuration"] = mask(destination["configuration"], secret_names(DUCKDB_SPEC))
    return out


def _duckdb_only(config: dict[str, Any]) -> None:
    if config.get("destinationType") != "duckdb":
        raise bad_request(
            f"destinationType {config.get('destinationType')!r} is not supported by the fake "
            "Airbyte: it writes DuckDB only (destinationType 'duckdb').",
            errors=[{"field": "configuration.destinationType", "message": "must be duckdb"}],
        )
    if str(config.get("destination_path", "")).startswith("md:"):
        raise bad_request(
            "MotherDuck (destination_path 'md:') is not supported by the fake Airbyte.",
            errors=[{"field": "configuration.destination_path", "message": "must be a file"}],
        )


def create_destination(call: Call) -> dict[str, Any]:
    req, body = validate_body(models.DestinationCreateRequest, call.raw)
    call.secrets |= secret_values(body["configuration"], secret_names(DUCKDB_SPEC))
    workspace = live(call, "workspaces", req.workspace_id, "workspace")
    _duckdb_only(body["configuration"])
    if req.definition_id and req.definition_id != DUCKDB_DEFINITION_ID:
        raise not_found("destination definition", req.definition_id)
    destination = {
        "destinationId": str(uuid.uuid4()),
        "name": req.name,
        "definitionId": DUCKDB_DEFINITION_ID,
        "destinationType": "duckdb",
        "workspaceId": workspace["workspaceId"],
        "configuration": body["configuration"],
        "createdAt": int(time.time()),
    }
    call.fake.store.put("destinations", destination["destinationId"], destination)
    return _destination_response(destination)


def list_destinations(call: Call) -> dict[str, Any]:
    req = call.query_model(api.ListDestinationsRequest)
    found = [_destination_response(d) for d in _listed(call, "destinations", req)]
    return call.page(found, req.limit, req.offset)


def get_destination(call: Call) -> dict[str, Any]:
    found = live(call, "destinations", call.path["destinationId"], "destination")
    return _destination_response(found)


def _update_destination(call: Call, model: type, replace: bool) -> dict[str, Any]:
    destination = live(call, "destinations", call.path["destinationId"], "destination")
    req, body = validate_body(model, call.raw)
    if "configuration" in body:
        new = body["configuration"]
        call.secrets |= secret_values(new, secret_names(DUCKDB_SPEC))
        if not replace:
            new = {**destination["configuration"], **new}
        new = keep_masked(new, destination["configuration"], secret_names(DUCKDB_SPEC))
        _duckdb_only(new)
        destination["configuration"] = new
    if req.name is not None:
        destination["name"] = req.name
    call.fake.store.put("destinations", destination["destinationId"], destination)
    return _destination_response(destination)


def patch_destination(call: Call) -> dict[str, Any]:
    return _update_destination(call, models.DestinationPatchRequest, replace=False)


def put_destination(call: Call) -> dict[str, Any]:
    return _update_destination(call, models.DestinationPutRequest, replace=True)


def delete_destination(call: Call) -> Any:
    found = live(call, "destinations", call.path["destinationId"], "destination")
    _delete_actor(call, "destinations", "destinationId", found)
    return Reply(204)


_DEFS = "/workspaces/{workspaceId}/definitions/sources"
ROUTES = [
    ("GET", "/workspaces", list_workspaces),
    ("GET", "/workspaces/{workspaceId}", get_workspace),
    ("POST", _DEFS, create_source_definition),
    ("GET", _DEFS, list_source_definitions),
    ("GET", _DEFS + "/{definitionId}", get_source_definition),
    ("PUT", _DEFS + "/{definitionId}", update_source_definition),
    ("DELETE", _DEFS + "/{definitionId}", delete_source_definition),
    ("POST", "/sources", create_source),
    ("GET", "/sources", list_sources),
    ("GET", "/sources/{sourceId}", get_source),
    ("PATCH", "/sources/{sourceId}", patch_source),
    ("PUT", "/sources/{sourceId}", put_source),
    ("DELETE", "/sources/{sourceId}", delete_source),
    ("POST", "/destinations", create_destination),
    ("GET", "/destinations", list_destinations),
    ("GET", "/destinations/{destinationId}", get_destination),
    ("PATCH", "/destinations/{destinationId}", patch_destination),
    ("PUT", "/destinations/{destinationId}", put_destination),
    ("DELETE", "/destinations/{destinationId}", delete_destination),
]
