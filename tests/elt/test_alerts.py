"""The alert hook POSTs a JSON message to a real local HTTP receiver; nothing when unset."""

from __future__ import annotations

import json
from types import SimpleNamespace

from connectors.redact import register_secret
from elt import alerts


def _context(error: Exception) -> dict:
    ti = SimpleNamespace(
        dag_id="saas_elt",
        task_id="dbt.dim_campaigns",
        run_id="manual__1",
        try_number=3,
        log_url="http://127.0.0.1:8080/dags/saas_elt/runs/manual__1/tasks/dbt.dim_campaigns",
    )
    return {"ti": ti, "dag_run": SimpleNamespace(run_id="manual__1"), "exception": error}


def test_a_failed_task_posts_one_json_alert_without_secrets(receiver):
    url, got = receiver
    register_secret("sk-alert-secret-0123456789")
    error = RuntimeError("HTTP 401 for key sk-alert-secret-0123456789")
    assert alerts.send(url, alerts.failure_payload(_context(error)))
    assert len(got) == 1
    alert = got[0]
    assert alert["event"] == "task_failed"
    assert alert["dag_id"] == "saas_elt" and alert["task_id"] == "dbt.dim_campaigns"
    assert alert["try_number"] == 3 and alert["log_url"].endswith("dbt.dim_campaigns")
    assert "RuntimeError: HTTP 401" in alert["error"]
    assert "sk-alert-secret-0123456789" not in json.dumps(alert)


def test_nothing_is_sent_when_unset_and_a_dead_receiver_never_raises(receiver):
    _, got = receiver
    assert alerts.send(None, {"event": "task_failed"}) is False
    assert alerts.send("http://127.0.0.1:9/nobody-listens", {"event": "x"}, timeout_s=2) is False
    assert got == []
