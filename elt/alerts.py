"""Alerts: a failed Airflow task POSTs one JSON message to ELT_ALERT_WEBHOOK.

The payload is plain JSON (dag, run, task, try, error, log URL) so any receiver
takes it: a Slack or Teams workflow, an incident tool, a small HTTP service. Nothing
is sent when the setting is unset. A failing webhook is logged, never raised: an
alert must not change the task's outcome. Secrets are redacted from the error text.
"""

from __future__ import annotations

import logging

import requests

from connectors.redact import redact

log = logging.getLogger(__name__)


def failure_payload(context: dict) -> dict:
    """The alert for a failed task, from the callback context Airflow passes in."""
    ti = context.get("ti") or context.get("task_instance")
    run = context.get("dag_run")
    error = context.get("exception")
    return {
        "event": "task_failed",
        "dag_id": getattr(ti, "dag_id", None),
        "run_id": getattr(run, "run_id", None) or getattr(ti, "run_id", None),
        "task_id": getattr(ti, "task_id", None),
        "try_number": getattr(ti, "try_number", None),
        "error": redact(f"{type(error).__name__}: {error}")[:2000] if error else None,
        "log_url": getattr(ti, "log_url", None),
    }


def send(url: str | None, payload: dict, timeout_s: float = 10.0) -> bool:
    """POST `payload` to `url`; False (and a log line) when it could not be delivered."""
    if not url:
        return False
    try:
        resp = requests.post(url, json=payload, timeout=timeout_s)
        resp.raise_for_status()
    except requests.RequestException as exc:
        log.warning("alert to %s not delivered: %s", redact(url), exc)
        return False
    log.info("alert sent to %s: %s %s", redact(url), payload.get("event"), payload.get("task_id"))
    return True


def on_task_failure(context: dict) -> None:
    """Airflow `on_failure_callback` (after the last retry): alert if a webhook is set."""
    from elt.settings import get_settings

    send(get_settings().alert_webhook, failure_payload(context))
