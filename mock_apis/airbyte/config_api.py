"""The one Config API endpoint the fake serves: `POST /api/v1/jobs/get`.

A self-hosted Airbyte serves its Config API (`/api/v1/...`, RPC style: every call a POST
with a JSON body) beside the public API, and takes the same application tokens. The
public API's JobResponse carries no failure reason; this does:

    POST /api/v1/jobs/get  {"id": 7}  ->  JobInfoRead
    {"job": {"id": 7, "configType": "sync", "configId": <connection id>, "createdAt",
             "updatedAt", "startedAt", "status"},
     "attempts": [{"attempt": {"id": 0, "status", "createdAt", "updatedAt", "endedAt",
                               "recordsSynced", "bytesSynced", "totalStats",
                               "failureSummary": {"failures": [FailureReason],
                                                  "partialSuccess"}},
                   "logType": "formatted", "logs": {"logLines": [...]}}]}

Field names, enums and units follow airbyte-platform's `config.yaml` (JobInfoRead,
JobRead, AttemptRead, AttemptFailureSummary, FailureReason) and its `JobConverter`:
times in epoch seconds except a FailureReason's `timestamp` (milliseconds); nulls left
out. Statuses are the job's own (pending, running, incomplete, failed, succeeded,
cancelled); a reset is `reset_connection`. A job has no attempt while pending, then one
(attempt number 0; the fake never retries). Its attempt's status is `running`,
`succeeded` or `failed`; a cancelled job's attempt is `failed` too, with the platform's
cancellation failure (`manual_cancellation`, no origin, "This attempt was cancelled"),
as `FailureHelper.failureSummaryForCancellation` writes it. A failed job's failure is
the one `jobs` kept (`_failure`); `partialSuccess` says whether it committed rows.

Errors in the Config API's shapes (not the public API's problem JSON): an unknown job
404 `NotFoundKnownExceptionInfo` (`message`, `id`, `errorId`); a body that is not
`{"id": <integer>}` 400 `InvalidInputExceptionInfo` (`message`, `validationErrors[]`
with `propertyPath`, `message`, `invalidValue`), as the server's constraint handler
answers. A missing or bad token: the public API's 401.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from mock_apis.airbyte.call import Call, Reply
from mock_apis.airbyte.jobs import failure_reason

CONFIG_TYPES = {"sync": "sync", "reset": "reset_connection"}
JOB_STATUSES = ("pending", "running", "incomplete", "failed", "succeeded", "cancelled")
# AttemptStatus has no cancelled: the platform fails a cancelled job's attempt
ATTEMPT_STATUSES = {
    "succeeded": "succeeded",
    "failed": "failed",
    "incomplete": "failed",  # its last attempt failed; another is to come
    "cancelled": "failed",
}


def cancellation_failure(timestamp_ms: int) -> dict[str, Any]:
    return {
        "failureType": "manual_cancellation",
        "externalMessage": "This attempt was cancelled",
        "internalMessage": "Setting attempt to FAILED because the job was cancelled",
        "timestamp": timestamp_ms,
    }


def job_info(job: dict[str, Any], log_lines: list[str]) -> dict[str, Any]:
    """The JobInfoRead of a stored job, with `log_lines` as its attempt's log."""
    status = job["status"] if job["status"] in JOB_STATUSES else "failed"
    created, updated = int(job["_createdAt"]), int(job["_updatedAt"])
    started = job.get("_startedAt")
    read = {
        "id": job["jobId"],
        "configType": CONFIG_TYPES.get(job["jobType"], job["jobType"]),
        "configId": job["connectionId"],
        "createdAt": created,
        "updatedAt": updated,
        "status": status,
    }
    if started is not None:
        read["startedAt"] = int(started)
    if status == "pending":
        return {"job": read, "attempts": []}
    return {"job": read, "attempts": [_attempt(job, status, log_lines)]}


def _attempt(job: dict[str, Any], status: str, log_lines: list[str]) -> dict[str, Any]:
    attempt: dict[str, Any] = {
        "id": 0,
        "status": ATTEMPT_STATUSES.get(status, "running"),
        "createdAt": int(job.get("_startedAt") or job["_createdAt"]),
        "updatedAt": int(job["_updatedAt"]),
        "recordsSynced": job.get("rowsSynced") or 0,
        "bytesSynced": job.get("bytesSynced") or 0,
    }
    if status in ATTEMPT_STATUSES:
        attempt["endedAt"] = attempt["updatedAt"]
    if "_recordsEmitted" in job:
        attempt["totalStats"] = {
            "recordsEmitted": job["_recordsEmitted"],
            "bytesEmitted": job.get("_bytesEmitted", 0),
            "recordsCommitted": attempt["recordsSynced"],
        }
    failure = None
    if status in ("failed", "incomplete"):
        # a job stored before failures were kept: its reason, of unknown origin
        failure = job.get("_failure") or failure_reason(
            job.get("_reason") or "The job failed.", "replication", "system_error"
        )
    elif status == "cancelled":
        failure = cancellation_failure(int(job["_updatedAt"] * 1000))
    if failure is not None:
        attempt["failureSummary"] = {
            "failures": [failure],
            "partialSuccess": attempt["recordsSynced"] > 0,
        }
    return {"attempt": attempt, "logType": "formatted", "logs": {"logLines": log_lines}}


def _invalid(message: str, invalid_value: Any) -> Reply:
    return Reply(
        400,
        {
            "message": "Some properties contained invalid input.",
            "exceptionClassName": "jakarta.validation.ConstraintViolationException",
            "validationErrors": [
                {
                    "propertyPath": "getJobInfo.jobIdRequestBody.id",
                    "message": message,
                    "invalidValue": "null" if invalid_value is None else str(invalid_value),
                }
            ],
            "errorId": str(uuid.uuid4()),
        },
    )


def get_job_info(call: Call) -> Any:
    try:
        body = orjson.loads(call.raw or b"null")
    except orjson.JSONDecodeError:
        return _invalid("the request body is not valid JSON", None)
    job_id = body.get("id") if isinstance(body, dict) else None
    if job_id is None:
        return _invalid('must not be null (send {"id": <job id>})', None)
    if isinstance(job_id, bool) or not isinstance(job_id, int):
        return _invalid("must be an integer (the job id)", job_id)
    job = call.fake.store.get("jobs", job_id)
    if job is None:
        return Reply(
            404,
            {
                "id": str(job_id),
                "message": f"Object not found. Could not find job with id: {job_id}",
                "exceptionClassName": "io.airbyte.commons.server.errors.IdNotFoundKnownException",
                "errorId": str(uuid.uuid4()),
            },
        )
    return job_info(job, call.fake.jobs.log_lines(job_id))


ROUTES = [
    ("POST", "/jobs/get", get_job_info),
]
