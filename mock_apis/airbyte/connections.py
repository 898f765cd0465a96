"""Connections, stream properties and jobs.

- Connections: create, list, get, PATCH, delete (the public API has no PUT). Stream
  configurations follow `catalog`'s rules against the source's discovered catalog
  (discovered on first use, cached per source until its configuration changes or
  `GET /streams?ignoreCache=true`). Schedules are stored, never run: jobs start only
  through `POST /jobs`.
- `GET /streams?sourceId=&destinationId=`: `StreamProperties` per stream.
- Jobs: `POST /jobs` (`sync` or `reset`; the API refuses other types), get, list
  (filters: connectionId, workspaceIds, jobType, status, created/updated ranges;
  `orderBy` `createdAt|DESC` by default), cancel (`DELETE /jobs/{id}`).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC
from typing import Any

from airbyte_api import api, models

from mock_apis.airbyte import catalog as catalogs
from mock_apis.airbyte.call import Call, Reply
from mock_apis.airbyte.images import ConnectorFailed
from mock_apis.airbyte.jobs import public
from mock_apis.airbyte.problems import bad_request, not_found
from mock_apis.airbyte.resources import live, source_secrets
from mock_apis.airbyte.validation import validate_body


def _catalog(call: Call, source: dict[str, Any], refresh: bool = False) -> dict[str, Any]:
    call.secrets |= source_secrets(call, source)  # discover's errors may quote its config
    try:
        return call.fake.jobs.catalog(source, refresh=refresh)
    except ConnectorFailed as exc:
        raise bad_request(
            f"Something went wrong in the connector: discover of source {source['sourceId']} "
            f"failed: {exc}",
            sourceId=source["sourceId"],
        ) from exc


def _schedule(given: dict[str, Any] | None) -> dict[str, Any]:
    if not given:
        return {"scheduleType": "manual"}
    if given.get("scheduleType") == "cron":
        if not given.get("cronExpression"):
            raise bad_request(
                "Missing cron expression in the schedule.",
                errors=[
                    {"field": "schedule.cronExpression", "message": "is missing but it is required"}
                ],
            )
        return {"scheduleType": "cron", "cronExpression": given["cronExpression"]}
    return {"scheduleType": given.get("scheduleType", "manual")}


def _response(connection: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in connection.items() if not k.startswith("_") and v is not None}


# ---------------------------------------------------------------------- connections
def create_connection(call: Call) -> dict[str, Any]:
    req, body = validate_body(models.ConnectionCreateRequest, call.raw)
    source = live(call, "sources", req.source_id, "source")
    dest = live(call, "destinations", req.destination_id, "destination")
    if source["workspaceId"] != dest["workspaceId"]:
        raise bad_request("The source and the destination belong to different workspaces.")
    streams = catalogs.resolve(
        (body.get("configurations") or {}).get("streams"), _catalog(call, source)
    )
    connection = {
        "connectionId": str(uuid.uuid4()),
        "name": req.name or f"{source['name']} → {dest['name']}",
        "sourceId": source["sourceId"],
        "destinationId": dest["destinationId"],
        "workspaceId": source["workspaceId"],
        "configurations": {"streams": streams},
        "schedule": _schedule(body.get("schedule")),
        "status": body.get("status") or "active",
        "namespaceDefinition": body.get("namespaceDefinition") or "destination",
        "namespaceFormat": req.namespace_format,
        "prefix": req.prefix or "",
        "nonBreakingSchemaUpdatesBehavior": body.get("nonBreakingSchemaUpdatesBehavior")
        or "ignore",
        "tags": body.get("tags") or [],
        "createdAt": int(time.time()),
    }
    call.fake.store.put("connections", connection["connectionId"], connection)
    return _response(connection)


def list_connections(call: Call) -> dict[str, Any]:
    req = call.query_model(api.ListConnectionsRequest)
    wanted = set(req.workspace_ids or [])
    found = [
        _response(c)
        for c in call.fake.store.all("connections")
        if (req.include_deleted or not c.get("_deleted"))
        and (not wanted or c["workspaceId"] in wanted)
    ]
    return call.page(found, req.limit, req.offset)


def get_connection(call: Call) -> dict[str, Any]:
    return _response(live(call, "connections", call.path["connectionId"], "connection"))


def patch_connection(call: Call) -> dict[str, Any]:
    connection = live(call, "connections", call.path["connectionId"], "connection")
    _, body = validate_body(models.ConnectionPatchRequest, call.raw)
    if body.get("configurations") is not None:
        source = live(call, "sources", connection["sourceId"], "source")
        streams = body["configurations"].get("streams")
        connection["configurations"] = {
            "streams": catalogs.resolve(streams, _catalog(call, source))
        }
    if "schedule" in body:
        connection["schedule"] = _schedule(body["schedule"])
    simple = (
        "name",
        "status",
        "namespaceDefinition",
        "namespaceFormat",
        "prefix",
        "nonBreakingSchemaUpdatesBehavior",
        "tags",
    )
    connection.update({k: body[k] for k in simple if body.get(k) is not None})
    call.fake.store.put("connections", connection["connectionId"], connection)
    return _response(connection)


def delete_connection(call: Call) -> Reply:
    connection = live(call, "connections", call.path["connectionId"], "connection")
    connection.update(_deleted=True, status="deprecated")
    call.fake.store.put("connections", connection["connectionId"], connection)
    return Reply(204)


def get_stream_properties(call: Call) -> list[dict[str, Any]]:
    req = call.query_model(api.GetStreamPropertiesRequest)
    source = live(call, "sources", req.source_id, "source")
    if req.destination_id:
        live(call, "destinations", req.destination_id, "destination")
    return catalogs.stream_properties(_catalog(call, source, refresh=bool(req.ignore_cache)))


# ---------------------------------------------------------------------- jobs
def create_job(call: Call) -> dict[str, Any]:
    req, _ = validate_body(models.JobCreateRequest, call.raw)
    job_type = req.job_type.value
    if job_type not in ("sync", "reset"):
        raise bad_request(
            f"Job type {job_type} is not supported here: use sync or reset.",
            errors=[{"field": "jobType", "message": "must be sync or reset"}],
        )
    live(call, "connections", req.connection_id, "connection")
    return public(call.fake.jobs.create(req.connection_id, job_type))


def _job_id(call: Call) -> int:
    try:
        return int(call.path["jobId"])
    except ValueError:
        raise bad_request(
            f"jobId must be an integer, got {call.path['jobId']!r}",
            errors=[{"field": "jobId", "message": "must be an integer"}],
        ) from None


def get_job(call: Call) -> dict[str, Any]:
    job = call.fake.store.get("jobs", _job_id(call))
    if job is None:
        raise not_found("job", call.path["jobId"])
    return public(job)


def cancel_job(call: Call) -> dict[str, Any]:
    return public(call.fake.jobs.cancel(_job_id(call)))


def list_jobs(call: Call) -> dict[str, Any]:
    req = call.query_model(api.ListJobsRequest)
    field, _, direction = (req.order_by or "createdAt|DESC").partition("|")
    if field not in ("createdAt", "updatedAt") or direction.upper() not in ("ASC", "DESC"):
        raise bad_request(
            f"orderBy {req.order_by!r} is not valid: use createdAt|ASC, createdAt|DESC, "
            "updatedAt|ASC or updatedAt|DESC.",
            errors=[{"field": "orderBy", "message": "must be <createdAt|updatedAt>|<ASC|DESC>"}],
        )
    jobs = [j for j in call.fake.store.all("jobs") if _job_matches(j, req)]
    key = "_createdAt" if field == "createdAt" else "_updatedAt"
    jobs.sort(key=lambda j: (j[key], j["jobId"]), reverse=direction.upper() == "DESC")
    return call.page([public(j) for j in jobs], req.limit, req.offset)


def _job_matches(job: dict[str, Any], req: Any) -> bool:
    def ts(value: Any) -> float | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()

    checks = [
        req.connection_id is None or job["connectionId"] == req.connection_id,
        not req.workspace_ids or job.get("_workspaceId") in req.workspace_ids,
        req.job_type is None or job["jobType"] == req.job_type.value,
        req.status is None or job["status"] == req.status.value,
    ]
    for bound, stamp, later in (
        (req.created_at_start, job["_createdAt"], True),
        (req.created_at_end, job["_createdAt"], False),
        (req.updated_at_start, job["_updatedAt"], True),
        (req.updated_at_end, job["_updatedAt"], False),
    ):
        limit = ts(bound)
        if limit is not None:
            checks.append(stamp >= limit if later else stamp <= limit)
    return all(checks)


ROUTES = [
    ("POST", "/connections", create_connection),
    ("GET", "/connections", list_connections),
    ("GET", "/connections/{connectionId}", get_connection),
    ("PATCH", "/connections/{connectionId}", patch_connection),
    ("DELETE", "/connections/{connectionId}", delete_connection),
    ("GET", "/streams", get_stream_properties),
    ("POST", "/jobs", create_job),
    ("GET", "/jobs", list_jobs),
    ("GET", "/jobs/{jobId}", get_job),
    ("DELETE", "/jobs/{jobId}", cancel_job),
]
