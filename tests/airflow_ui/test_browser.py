"""The Airflow UI in a real browser, as a person uses it after `make airflow`.

Log in with the generated admin password, open `saas_elt`, trigger it with the
Trigger button (the dialog's defaults), wait for the run, then check what the
pages show: every task in the grid and the graph with a success state, and the
per-stream summary in `extract_mailchimp`'s log. Last, with the scheduler still
up, `saas_elt_report` must get a run from the `marts` asset event of that run.

Airflow runs on a free port that is not 8080: the tasks reach the execution API
only if `AIRFLOW__CORE__EXECUTION_API_SERVER_URL` follows the port. Screenshots:
test-artifacts/airflow_ui/ (login, dag, graph, task_log; failure + log tail on a failure).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

if TYPE_CHECKING:
    from conftest import AirflowUI

DAG_ID = "saas_elt"
REPORT_DAG_ID = "saas_elt_report"
TASKS = ("extract_mailchimp", "extract_hubspot", "raw_gate", "marts_gate", "publish")
DBT_GROUP = "dbt"
UI_WAIT_S = 60
RUN_TIMEOUT_S = 600
ASSET_RUN_TIMEOUT_S = 180


def by_testid(testid: str) -> tuple[str, str]:
    return By.CSS_SELECTOR, f"[data-testid='{testid}']"


def wait(driver: Chrome, seconds: float = UI_WAIT_S) -> WebDriverWait:
    return WebDriverWait(driver, seconds, poll_frequency=0.5)


def log_in(driver: Chrome, ui: AirflowUI, artifacts: Path) -> None:
    """Through the simple auth manager's login form, as a person would."""
    driver.get(f"{ui.base_url}/")
    wait(driver).until(EC.url_contains("/auth/login"))
    user = wait(driver).until(EC.visibility_of_element_located((By.NAME, "username")))
    user.send_keys("admin")
    driver.find_element(By.NAME, "password").send_keys(ui.password)
    driver.save_screenshot(str(artifacts / "login.png"))
    submit = (By.CSS_SELECTOR, "button[type='submit']")
    wait(driver).until(EC.element_to_be_clickable(submit)).click()
    wait(driver).until(lambda d: "/auth/login" not in d.current_url)
    wait(driver).until(EC.presence_of_element_located(by_testid("nav-dags-link")))


def wait_for_dag(ui: AirflowUI, dag_id: str) -> dict:
    """Until the dag processor has parsed `dag_id` into the DB."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        resp = ui.api(f"dags/{dag_id}")
        if resp.ok:
            return resp.json()
        time.sleep(2)
    pytest.fail(f"DAG {dag_id} never showed up in the API:\n{ui.tail(40)}")


def trigger_from_ui(driver: Chrome, ui: AirflowUI, artifacts: Path) -> str:
    """Open the DAG, press Trigger, submit the dialog with its defaults; the new run's id."""
    wait_for_dag(ui, DAG_ID)
    driver.get(f"{ui.base_url}/dags/{DAG_ID}")
    for task_id in TASKS:  # the grid's task list
        wait(driver).until(EC.presence_of_element_located(by_testid(f"task-{task_id}")))
    driver.save_screenshot(str(artifacts / "dag.png"))
    wait(driver).until(EC.element_to_be_clickable(by_testid("trigger-dag-button"))).click()
    dialog = wait(driver).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, "[role='dialog'][data-state='open']"))
    )
    assert f"Trigger Dag - {DAG_ID}" in " ".join(dialog.text.split())
    submit_defaults(driver, dialog)
    # the UI then opens the new run: /dags/saas_elt/runs/<run_id>
    wait(driver).until(EC.url_matches(rf"/dags/{DAG_ID}/runs/[^/?#]+"))
    match = re.search(rf"/dags/{DAG_ID}/runs/([^/?#]+)", driver.current_url)
    assert match, driver.current_url
    return unquote(match.group(1))


def submit_defaults(driver: Chrome, dialog: WebElement) -> None:
    """Press the dialog's Trigger button, leaving the params form as it comes.

    The form disables the button while a param does not validate: a typed Param is
    required unless its type allows "null", so e.g. `Param("", type="string")` blocks it."""
    submit = wait(driver).until(EC.presence_of_element_located(by_testid("trigger-dag-submit")))
    try:
        enabled = bool(wait(driver, 20).until(lambda _: submit.is_enabled()))
    except TimeoutException:
        enabled = False
    if not enabled:
        required = dialog.find_elements(By.CSS_SELECTOR, "[required]")
        empty = [f.get_attribute("name") for f in required if not f.get_attribute("value")]
        pytest.fail(
            "the trigger dialog's Trigger button stays disabled with the default params; "
            f"required fields left empty: {empty}; the dialog reads:\n{dialog.text}"
        )
    submit.click()


def run_path(dag_id: str, run_id: str) -> str:
    return f"dags/{dag_id}/dagRuns/{quote(run_id, safe='')}"


def wait_for_success(ui: AirflowUI, run_id: str) -> dict:
    """Poll the REST API until the run is done; fail with the task states if it failed."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    run: dict = {}
    while time.monotonic() < deadline:
        resp = ui.api(run_path(DAG_ID, run_id))
        resp.raise_for_status()
        run = resp.json()
        if run["state"] == "success":
            return run
        if run["state"] == "failed":
            break
        time.sleep(5)
    tis = ui.api(f"{run_path(DAG_ID, run_id)}/taskInstances", limit=200).json()
    states = {t["task_id"]: t["state"] for t in tis.get("task_instances", [])}
    pytest.fail(f"run {run_id} ended {run.get('state')!r}; task states: {states}")


def text_of(driver: Chrome, locator: tuple[str, str]) -> str:
    return " ".join(driver.find_element(*locator).text.split())


def wait_for_badge(driver: Chrome, state: str) -> None:
    """Until the page header (the run's or the task's) shows the state badge `state`."""
    badge = (By.CSS_SELECTOR, "[data-testid='header-card'] [data-testid='state-badge']")
    wait(driver).until(EC.text_to_be_present_in_element(badge, state))


def table_states(driver: Chrome) -> dict[str, str]:
    """The run page's Task Instances table: task id -> the state it shows."""
    names = driver.find_elements(*by_testid("table-cell-task_display_name"))
    states = driver.find_elements(*by_testid("table-cell-state"))
    return {n.text.strip(): s.text.strip() for n, s in zip(names, states, strict=False)}


def check_grid(driver: Chrome, ui: AirflowUI, run_id: str) -> None:
    """The run page: the run's Success badge; each task in the grid (its name, and a
    cell for this run) and in the Task Instances table with the state Success."""
    driver.get(f"{ui.base_url}/dags/{DAG_ID}/runs/{run_id}")
    wait_for_badge(driver, "Success")
    for task_id in (*TASKS, DBT_GROUP):
        row = wait(driver).until(EC.presence_of_element_located(by_testid(f"task-{task_id}")))
        assert row.text.strip().startswith(task_id), row.text
    for task_id in TASKS:
        cell = by_testid(f"grid-{run_id}-{task_id}")
        wait(driver).until(EC.presence_of_element_located(cell))
    wait(driver).until(
        lambda d: all(table_states(d).get(t) == "Success" for t in TASKS),
        "the Task Instances table does not show every task as Success",
    )


def check_graph(driver: Chrome, ui: AirflowUI, run_id: str, artifacts: Path) -> None:
    """The graph view of the run: a node per task (and the dbt group), each in success."""
    driver.get(f"{ui.base_url}/dags/{DAG_ID}/runs/{run_id}")
    graph_button = (By.CSS_SELECTOR, "button[aria-label^='Show Graph']")
    wait(driver).until(EC.element_to_be_clickable(graph_button)).click()
    for node_id in (*TASKS, DBT_GROUP):
        node = by_testid(f"rf__node-{node_id}")
        wait(driver).until(EC.visibility_of_element_located(node))
        # the node shows its task id and its state; the dbt group also "Task Group"
        wait(driver).until(EC.text_to_be_present_in_element(node, "success"))
        assert text_of(driver, node).startswith(node_id), text_of(driver, node)
    wait_for_badge(driver, "Success")  # the run's, in the details panel
    driver.save_screenshot(str(artifacts / "graph.png"))


def check_task_log(driver: Chrome, ui: AirflowUI, run_id: str, artifacts: Path) -> str:
    """extract_mailchimp's log page shows the extract's per-stream summary: a line per
    stream as it finishes, then the table (stream, mode, read, written, ...)."""
    driver.get(f"{ui.base_url}/dags/{DAG_ID}/runs/{run_id}/tasks/extract_mailchimp")
    assert driver.current_url.endswith("/tasks/extract_mailchimp")
    log = by_testid("virtualized-list")
    wait(driver).until(EC.text_to_be_present_in_element(log, "members"))
    # the summary is logged in the task's own group: visible without opening "Post Execute"
    table_row = re.compile(r"mailchimp\.members\s+\w+\s+\d+\s+\d+")
    wait(driver).until(
        lambda d: table_row.search(d.find_element(*log).text), "no per-stream summary table"
    )
    text = driver.find_element(*log).text
    assert re.search(r"mailchimp\.members \w+ succeeded: read \d+", text), text
    wait_for_badge(driver, "Success")  # the task's
    driver.save_screenshot(str(artifacts / "task_log.png"))
    return text


def wait_for_asset_run(ui: AirflowUI, source_run_id: str) -> dict:
    """Until `saas_elt_report` has an asset-triggered run fed by `source_run_id`'s event."""
    deadline = time.monotonic() + ASSET_RUN_TIMEOUT_S
    runs: list[dict] = []
    while time.monotonic() < deadline:
        resp = ui.api(f"dags/{REPORT_DAG_ID}/dagRuns")
        runs = resp.json().get("dag_runs", []) if resp.ok else []
        for run in runs:
            if run["run_type"] != "asset_triggered":
                continue
            events = ui.api(f"{run_path(REPORT_DAG_ID, run['dag_run_id'])}/upstreamAssetEvents")
            sources = {
                (e["source_dag_id"], e["source_run_id"]) for e in events.json()["asset_events"]
            }
            if (DAG_ID, source_run_id) in sources:
                return run
        time.sleep(3)
    dag = ui.api(f"dags/{REPORT_DAG_ID}")
    pytest.fail(
        f"no asset-triggered run of {REPORT_DAG_ID} from {source_run_id} within "
        f"{ASSET_RUN_TIMEOUT_S}s; DAG: {dag.status_code} {dag.text[:300]}; runs: {runs}"
    )


@pytest.mark.timeout(1200)
def test_trigger_and_inspect_a_run_in_the_browser(
    driver: Chrome, airflow_ui: AirflowUI, artifacts: Path
):
    started = time.monotonic()
    log_in(driver, airflow_ui, artifacts)

    run_id = trigger_from_ui(driver, airflow_ui, artifacts)
    run = airflow_ui.api(run_path(DAG_ID, run_id)).json()
    assert (run["run_type"], run.get("triggering_user_name")) == ("manual", "admin"), run
    print(f"triggered {run_id} from the UI after {time.monotonic() - started:.0f}s")

    wait_for_success(airflow_ui, run_id)
    print(f"{run_id} succeeded after {time.monotonic() - started:.0f}s")

    check_grid(driver, airflow_ui, run_id)
    # the log before the graph: the UI keeps the last view, and next to a graph the log
    # panel is narrow
    log_text = check_task_log(driver, airflow_ui, run_id, artifacts)
    assert "contacts" in log_text or "members" in log_text
    check_graph(driver, airflow_ui, run_id, artifacts)

    report_run = wait_for_asset_run(airflow_ui, run_id)
    print(f"{REPORT_DAG_ID}: {report_run['dag_run_id']} ({report_run['state']})")
    print(f"screenshots: {artifacts}; total {time.monotonic() - started:.0f}s")
