"""Fixtures of the real-browser test of the Airflow UI.

`airflow_ui` starts the embedded Airflow the way `make airflow` does (`elt airflow
--with-mock standalone`) on a throw-away data dir and a free port that is not 8080;
`driver` is Debian's headless Chromium driven by Selenium. On a failure the driver
fixture leaves a screenshot and the tail of Airflow's log in test-artifacts/airflow_ui/.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = REPO_ROOT / ".venv" / "bin"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = REPO_ROOT / "test-artifacts" / "airflow_ui"
ADMIN = "admin"
# standalone's first start migrates a new SQLite DB: ~1 min here, more on a busy machine
START_TIMEOUT_S = 300
STOP_TIMEOUT_S = 90
# what the child may inherit from the test process: no AIRFLOW_*/ELT_* of the harness
KEEP_ENV = ("HOME", "LANG", "LC_ALL", "LOGNAME", "TMPDIR", "TZ", "USER", "PYTHONPATH")


@dataclass
class AirflowUI:
    """A running `elt airflow --with-mock standalone` and how to reach it."""

    proc: subprocess.Popen
    base_url: str
    data_dir: Path
    log_path: Path
    password: str = ""
    _token: str = ""

    def tail(self, lines: int = 200) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def token(self) -> str:
        if not self._token:
            resp = requests.post(
                f"{self.base_url}/auth/token",
                json={"username": ADMIN, "password": self.password},
                timeout=30,
            )
            resp.raise_for_status()
            self._token = resp.json()["access_token"]
        return self._token

    def api(self, path: str, **params: object) -> requests.Response:
        """GET /api/v2/<path> as the admin user."""
        return requests.get(
            f"{self.base_url}/api/v2/{path}",
            headers={"Authorization": f"Bearer {self.token()}"},
            params=params,
            timeout=30,
        )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item, so a fixture can tell that its test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port != 8080:  # the point is to prove the UI and its tasks work off the default
            return port


def require(ok: bool, message: str) -> None:
    """Skip on a developer's machine that lacks a Debian package; fail in CI."""
    if not ok:
        msg = f"{message} (`.ci/run` installs chromium + chromium-driver)"
        (pytest.fail if os.environ.get("ELT_REQUIRE_STACK") else pytest.skip)(msg)


@pytest.fixture(scope="module")
def browser_binaries() -> None:
    for path in (CHROMIUM, CHROMEDRIVER):
        require(os.access(path, os.X_OK), f"not installed here: {path}")


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.iterdir():
        if old.is_file():
            old.unlink()
    return ARTIFACTS


def child_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in KEEP_ENV}
    bin_dir = VENV_BIN if VENV_BIN.is_dir() else Path(sys.executable).parent
    env.update(
        PATH=os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
        ELT_DATA_DIR=str(data_dir),
        AIRFLOW__API__PORT=str(port),
        MOCK_SCALE="0.1",
        ELT_SCHEDULE="none",
        AIRFLOW__CORE__PARALLELISM="4",
        PYTHONUNBUFFERED="1",
    )
    return env


def start_airflow(tmp: Path) -> AirflowUI:
    port = free_port()
    data_dir = tmp / "data"
    log_path = tmp / "airflow.log"
    env = child_env(data_dir, port)
    elt = Path(env["PATH"].split(os.pathsep)[0]) / "elt"
    if not elt.exists():
        pytest.fail(f"{elt} is missing: run `make install`")
    with log_path.open("wb") as log:  # the child keeps its own handle
        proc = subprocess.Popen(
            [str(elt), "airflow", "--with-mock", "standalone"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return AirflowUI(proc, f"http://127.0.0.1:{port}", data_dir, log_path)


def wait_until_up(ui: AirflowUI) -> None:
    """Until the API answers healthy and the generated admin password is on disk."""
    password_file = ui.data_dir / "airflow" / "simple_auth_manager_passwords.json.generated"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if ui.proc.poll() is not None:
            pytest.fail(f"Airflow exited with {ui.proc.returncode}; log tail:\n{ui.tail(60)}")
        try:
            health = requests.get(f"{ui.base_url}/api/v2/monitor/health", timeout=5)
            healthy = health.ok and health.json()["metadatabase"]["status"] == "healthy"
            ui.password = json.loads(password_file.read_text())[ADMIN] if healthy else ""
        except (requests.RequestException, OSError, ValueError, KeyError):
            ui.password = ""
        if ui.password:
            return
        time.sleep(2)
    pytest.fail(f"Airflow not up after {START_TIMEOUT_S}s; log tail:\n{ui.tail(60)}")


def stop_airflow(proc: subprocess.Popen) -> None:
    """SIGINT to `elt` (it forwards one SIGINT to Airflow), then SIGKILL what is left."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            print(f"Airflow still up {STOP_TIMEOUT_S}s after SIGINT: SIGKILL")
    with contextlib.suppress(ProcessLookupError):  # what is left: task runners, a hung part
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def airflow_ui(browser_binaries: None, tmp_path_factory: pytest.TempPathFactory):
    ui = start_airflow(tmp_path_factory.mktemp("airflow_ui"))
    try:
        wait_until_up(ui)
        yield ui
    finally:
        stop_airflow(ui.proc)
        print(f"Airflow log: {ui.log_path}")


def new_driver() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument("--window-size=1600,1000")
    # an explicit driver path: Selenium Manager never tries to download one
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


@pytest.fixture
def driver(
    airflow_ui: AirflowUI, artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[webdriver.Chrome]:
    browser = new_driver()
    try:
        yield browser
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is None or report.failed:
            save_failure(browser, airflow_ui, artifacts)
        browser.quit()


def save_failure(browser: webdriver.Chrome, ui: AirflowUI, artifacts: Path) -> None:
    shot = artifacts / "failure.png"
    tail = artifacts / "airflow_tail.log"
    try:
        browser.save_screenshot(str(shot))
        print(f"failure screenshot ({browser.current_url}): {shot}")
    except Exception as exc:  # a dead browser must not hide the test's own failure
        print(f"no failure screenshot: {exc!r}")
    tail.write_text(ui.tail(200) + "\n")
    print(f"last 200 lines of the Airflow log: {tail}")
