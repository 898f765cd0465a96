"""The compose stack, service by service, without a Docker engine.

PostgreSQL and Redis from Debian's packages, then every Airflow service with the
command and environment docker-compose.yml gives it (CeleryExecutor, PostgreSQL
metadata, the FAB auth manager, the admin from the env file): airflow-init,
api-server, scheduler, dag-processor, triggerer, Celery worker and Flower, plus
the mock APIs and the docs server. Each compose healthcheck is run against its
service; the saas_elt DAG is unpaused and triggered through the REST API and must
succeed with every task executed by the Celery worker; then everything stops.
The LocalExecutor variant (docker/compose.local.yml: no Redis, no worker) runs
the same way, its tasks run by the scheduler.
"""

from __future__ import annotations

import shlex
import socket
import time
from pathlib import Path

import psycopg2
import pytest
import requests
import stack_native as sn

pytestmark = [pytest.mark.stack, pytest.mark.timeout(1200)]

MOCK_SCALE = "0.05"
DAG_ID = "saas_elt"
# variant -> (compose files, profiles)
VARIANTS = {
    "celery": ((sn.COMPOSE_FILE,), ("*",)),
    "local": ((sn.COMPOSE_FILE, sn.LOCAL_OVERRIDE), ()),
}
# Container ports each service publishes or others reach it on.
ENDPOINTS = (
    ("postgres", 5432),
    ("redis", 6379),
    ("airflow-apiserver", 8080),
    ("airflow-scheduler", 8974),
    ("flower", 5555),
    ("mock-apis", 8900),
    ("docs", 8000),
)


def _missing_binaries() -> list[str]:
    needed = ("initdb", "postgres", "pg_isready", "createdb", "redis-server", "redis-cli", "curl")
    return [b for b in needed if sn.find_binary(b) is None]


class Stack:
    """The native stack: its processes, the compose config and how to reach it."""

    def __init__(self, root: Path, procs: sn.Processes, variant: str) -> None:
        self.root = root
        self.procs = procs
        self.variant = variant
        self.env_file = root / "stack.env"
        # manual runs only: the test's triggered run is the one it waits for. The Celery
        # variant (the deployment) runs a task per dbt model through the workers; the
        # LocalExecutor variant draws dbt as one task (tests/e2e covers per-node tasks).
        self.secrets = sn.make_env_file(
            self.env_file,
            MOCK_SCALE=MOCK_SCALE,
            ELT_SCHEDULE="none",
            ELT_DBT_TASKS="per_node" if variant == "celery" else "single",
        )
        files, profiles = VARIANTS[variant]
        config = sn.compose_config(self.env_file, files=files, profiles=profiles)
        self.services = config["services"]
        # started in this order, after airflow-init has run (and exited)
        self.long_running = [
            s for s in sn.RUN_BY_NATIVE_STACK if s in self.services and s != "airflow-init"
        ]
        dirs = {"repo": sn.ROOT, "data": root / "data", "airflow_home": root / "airflow"}
        for d in (dirs["data"], dirs["airflow_home"]):
            d.mkdir()
        self.nmap = sn.NativeMap(dirs)
        self.health: dict[str, str] = {}

    # ------------------------------------------------------------------ env
    def env(self, service: str) -> dict[str, str]:
        """Compose's environment for a service, mapped; plus what the image sets
        (AIRFLOW_HOME) and the loopback binds a container does not need."""
        env = {**sn.base_env(), **sn.native_env(self.services[service], self.nmap)}
        if service.startswith("airflow-") or service == "flower":
            env.update(
                AIRFLOW_HOME=str(self.nmap.dirs["airflow_home"]),
                AIRFLOW__API__HOST="127.0.0.1",
                AIRFLOW__API__PORT=str(self.nmap.port("airflow-apiserver", 8080)),
                AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST="127.0.0.1",
                AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT=str(
                    self.nmap.port("airflow-scheduler", 8974)
                ),
                AIRFLOW__CELERY__FLOWER_HOST="127.0.0.1",
                AIRFLOW__CELERY__FLOWER_PORT=str(self.nmap.port("flower", 5555)),
            )
        return env

    # ------------------------------------------------------------------ start
    def start(self) -> None:
        pg = self.services["postgres"]["environment"]
        self.nmap.endpoints.append(
            sn.Endpoint(
                "postgres",
                5432,
                sn.start_postgres(
                    self.procs,
                    user=pg["POSTGRES_USER"],
                    password=pg["POSTGRES_PASSWORD"],
                    db=pg["POSTGRES_DB"],
                    initdb_args=shlex.split(pg["POSTGRES_INITDB_ARGS"]),
                ),
            )
        )
        if "redis" in self.services:
            redis = sn.start_redis(self.procs, self.root)
            self.nmap.endpoints.append(sn.Endpoint("redis", 6379, redis))
        for service, port in ENDPOINTS[2:]:
            self.nmap.endpoints.append(sn.Endpoint(service, port, sn.free_port()))
        init = self.procs.run(
            "airflow-init",
            sn.localize_argv(sn.native_command(self.services["airflow-init"]), self.nmap, ""),
            self.env("airflow-init"),
            timeout=600,
        )
        assert init.returncode == 0, init.stdout[-3000:] + init.stderr[-3000:]
        for service in self.long_running:
            argv = sn.localize_argv(sn.native_command(self.services[service]), self.nmap, service)
            self.procs.start(service, argv, self.env(service), cwd=self.nmap.dirs["airflow_home"])

    # ------------------------------------------------------------------ health
    def healthcheck_argv(self, service: str) -> tuple[list[str], dict[str, str]]:
        """The service's compose healthcheck as this machine runs it."""
        test = self.services[service]["healthcheck"]["test"]
        env = {**self.env(service), "HOSTNAME": socket.gethostname()}
        if service in ("postgres", "redis"):
            env = sn.base_env()
        if test[0] == "CMD-SHELL":
            return ["sh", "-c", self.nmap.text(test[1].replace("$$", "$"), own=service)], env
        argv = [self.nmap.text(a, own=service) for a in test[1:]]
        if service == "postgres":  # the container reaches its server on the local socket
            argv += ["-h", "127.0.0.1", "-p", str(self.nmap.port("postgres", 5432))]
        if service == "redis":
            argv[1:1] = ["-h", "127.0.0.1", "-p", str(self.nmap.port("redis", 6379))]
        return argv, env

    def wait_healthy(self, service: str, timeout: float = 240) -> str:
        argv, env = self.healthcheck_argv(service)
        last = {}

        def check() -> bool:
            proc = self.procs.run(f"health-{service}", argv, env, timeout=60)
            last["out"] = (proc.stdout + proc.stderr)[-800:]
            return proc.returncode == 0

        try:
            sn.wait_until(check, timeout, f"healthcheck of {service}", self.procs)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; last output: {last.get('out')}") from exc
        self.health[service] = " ".join(argv)
        return self.health[service]

    # ------------------------------------------------------------------ REST API
    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.nmap.port('airflow-apiserver', 8080)}"

    def token(self, password: str | None = None) -> requests.Response:
        return requests.post(
            f"{self.api}/auth/token",
            json={
                "username": self.secrets["_AIRFLOW_WWW_USER_USERNAME"],
                "password": password or self.secrets["_AIRFLOW_WWW_USER_PASSWORD"],
            },
            timeout=30,
        )

    def session(self) -> requests.Session:
        resp = self.token()
        resp.raise_for_status()
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
        return s

    def run_dag(self, timeout: float = 900) -> tuple[dict, list[dict], set[str]]:
        api = self.session()
        sn.wait_until(
            lambda: api.get(f"{self.api}/api/v2/dags/{DAG_ID}", timeout=30).ok,
            240, f"DAG {DAG_ID} parsed by the dag-processor", self.procs,
        )  # fmt: skip
        api.patch(
            f"{self.api}/api/v2/dags/{DAG_ID}", json={"is_paused": False}, timeout=30
        ).raise_for_status()
        resp = api.post(
            f"{self.api}/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None}, timeout=30
        )
        assert resp.ok, resp.text
        run_id = resp.json()["dag_run_id"]
        url = f"{self.api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}"
        deadline = time.monotonic() + timeout
        run = {}
        while time.monotonic() < deadline:
            self.procs.raise_if_died()
            run = api.get(url, timeout=30).json()
            if run["state"] in ("success", "failed"):
                break
            time.sleep(3)
        tis = api.get(f"{url}/taskInstances", timeout=30).json()["task_instances"]
        tasks = api.get(f"{self.api}/api/v2/dags/{DAG_ID}/tasks", timeout=30).json()["tasks"]
        return run, tis, {t["task_id"] for t in tasks}

    def metadata_db(self):
        return psycopg2.connect(
            host="127.0.0.1",
            port=self.nmap.port("postgres", 5432),
            user="airflow",
            password=self.secrets["POSTGRES_PASSWORD"],
            dbname="airflow",
        )


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def stack(request, tmp_path_factory):
    sn.skip_unless_installed(_missing_binaries(), "apt-get install postgresql redis-server curl")
    root = tmp_path_factory.mktemp(f"native-stack-{request.param}")
    (root / "logs").mkdir()
    with sn.processes(root / "logs") as procs:
        st = Stack(root, procs, request.param)
        st.start()
        yield st


@pytest.fixture(scope="module")
def dag_run(stack):
    for service in ("postgres", "redis", "airflow-apiserver", "airflow-worker"):
        if service in stack.services:
            stack.wait_healthy(service)
    return stack.run_dag()


def _log_tails(stack: Stack, *names: str) -> str:
    return "\n".join(f"--- {n}\n{stack.procs.tail(n)}" for n in names)


def test_saas_elt_triggered_through_the_rest_api_succeeds_on_postgres(stack, dag_run):
    run, tis, dag_tasks = dag_run
    assert run["state"] == "success", (
        f"{run}\n{[(t['task_id'], t['state']) for t in tis]}\n"
        + _log_tails(stack, "airflow-scheduler", "airflow-worker")
    )
    assert {t["task_id"] for t in tis} == dag_tasks
    assert {t["state"] for t in tis} == {"success"}
    executor = stack.services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"]
    assert f"Loaded executor: :{executor}:" in stack.procs.tail("airflow-scheduler", 10**6)
    results = _celery_results(stack)
    if stack.variant == "celery":
        # the result backend is written after the task's own state (and the report DAG's
        # tasks, asset-triggered by this run, go through Celery too): wait for the rows
        deadline = time.monotonic() + 120
        while results.get("SUCCESS", 0) < len(dag_tasks) and time.monotonic() < deadline:
            time.sleep(2)
            results = _celery_results(stack)
        # Every task went through Celery: one SUCCESS in its result backend per task try.
        assert results.get("SUCCESS", 0) >= len(dag_tasks), results
    else:
        assert results == {}, "the LocalExecutor variant sent work to Celery"


def _celery_results(stack: Stack) -> dict[str, int]:
    with stack.metadata_db() as con, con.cursor() as cur:
        cur.execute("select to_regclass('celery_taskmeta') is not null")
        if not cur.fetchone()[0]:
            return {}
        cur.execute("select status, count(*) from celery_taskmeta group by status")
        return dict(cur.fetchall())


def test_every_service_passes_its_compose_healthcheck_natively(stack, dag_run):
    services = (*(s for s in sn.DEBIAN_PACKAGED if s in stack.services), *stack.long_running)
    for service in services:
        stack.wait_healthy(service)
    assert set(stack.health) == set(services)


def test_the_admin_from_the_env_file_gets_a_token_and_a_wrong_password_does_not(stack, dag_run):
    assert stack.token().status_code == 201
    assert (
        stack.token(password="not-" + stack.secrets["_AIRFLOW_WWW_USER_PASSWORD"]).status_code
        == 401
    )


def test_the_worker_built_the_warehouse_and_the_docs_server_serves_its_docs(stack, dag_run):
    """The marts asset event triggers saas_elt_report under the real scheduler: it writes
    the dbt docs and the run report, which the docs server then serves."""
    port = stack.nmap.port("docs", 8000)
    pages = ("quality_docs/index.html", "dbt/docs/index.html", "reports/latest.html")

    def served(page: str) -> bool:
        return requests.get(f"http://127.0.0.1:{port}/{page}", timeout=30).status_code == 200

    sn.wait_until(
        lambda: all(served(p) for p in pages), 600,
        "saas_elt_report (asset-triggered) wrote the dbt docs and the run report", stack.procs,
    )  # fmt: skip
    for page in pages:
        resp = requests.get(f"http://127.0.0.1:{port}/{page}", timeout=30)
        assert "<html" in resp.text.lower(), page
    api = stack.session()
    runs = api.get(f"{stack.api}/api/v2/dags/saas_elt_report/dagRuns", timeout=30).json()
    assert [r["run_type"] for r in runs["dag_runs"]] == ["asset_triggered"], runs
    assert (stack.nmap.dirs["data"] / "warehouse.duckdb").stat().st_size > 0


def test_stopping_the_stack_leaves_no_process_and_frees_the_ports(stack, dag_run):
    groups = {name: p.pid for name, p in stack.procs.started.items()}
    assert all(sn.group_alive(pgid) for pgid in groups.values())
    stack.procs.stop_all()
    assert not [name for name, pgid in groups.items() if sn.group_alive(pgid)]
    for e in stack.nmap.endpoints:
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", e.port)) != 0, f"{e.service} still listening"
