"""docker-compose.yml checked as far as can be done without a Docker engine.

The real Compose v2 binary validates every profile and the LocalExecutor
variant; the rest reads its resolved config: files it mounts exist, every
variable it reads is documented in .env.example and no secret has a default,
published ports are loopback-only and distinct, the image is held to the same
lock as the local install, and every service is one the native tests run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import stack_native as sn

ROOT = sn.ROOT
DOCKERFILE = ROOT / "docker" / "Dockerfile"
LOCK = ROOT / "requirements" / "constraints.txt"
VARIANTS = {
    "celery": (sn.COMPOSE_FILE,),
    "local": (sn.COMPOSE_FILE, sn.LOCAL_OVERRIDE),
}
SECRETS = (
    "POSTGRES_PASSWORD",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "_AIRFLOW_WWW_USER_PASSWORD",
)


@pytest.fixture(scope="module")
def env_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("compose") / "stack.env"
    sn.make_env_file(path)
    return path


def _profiles(env_file: Path, files: tuple[Path, ...]) -> list[str]:
    proc = sn.run_compose(env_file, "config", "--profiles", files=files)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def _all_services(env_file: Path) -> dict[str, dict]:
    return {
        name: service
        for files in VARIANTS.values()
        for name, service in sn.compose_config(env_file, files=files)["services"].items()
    }


# --------------------------------------------------------------------------- validity
def test_the_wrapper_script_hides_failures_so_the_checks_call_the_binary(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("services:\n  a:\n    image: x\n    no_such_key: 1\n")
    binary = subprocess.run([sn.COMPOSE, "-f", str(broken), "config", "-q"], capture_output=True)
    assert binary.returncode != 0
    assert Path(sn.COMPOSE).name == "docker-compose" and "site-packages" in sn.COMPOSE


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_profile_of_every_variant_validates_with_the_real_compose_binary(env_file, variant):
    files = VARIANTS[variant]
    profiles = _profiles(env_file, files)
    assert {"pg-warehouse", "flower" if variant == "celery" else "celery"} <= set(profiles)
    for selection in ([], *([p] for p in profiles), ["*"]):
        args = [a for p in selection for a in ("--profile", p)]
        proc = sn.run_compose(env_file, *args, "config", "-q", files=files)
        assert proc.returncode == 0, f"{variant} {selection}: {proc.stderr}"


def test_the_local_variant_runs_without_redis_and_workers_on_the_local_executor(env_file):
    services = sn.compose_config(env_file, profiles=(), files=VARIANTS["local"])["services"]
    assert not {"redis", "airflow-worker", "flower"} & set(services)
    for name, service in services.items():
        if name.startswith("airflow-"):
            assert service["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", name
            assert "redis" not in service.get("depends_on", {}), name


def test_without_the_secrets_compose_refuses_and_names_the_missing_one(tmp_path):
    example = tmp_path / "as-committed.env"
    example.write_text((ROOT / ".env.example").read_text())
    proc = sn.run_compose(example, "config", "-q")
    assert proc.returncode != 0
    assert any(f"{name} in .env" in proc.stderr for name in SECRETS), proc.stderr


def test_the_committed_example_holds_no_secret_value_and_make_env_fills_each():
    committed = sn.read_env_file(ROOT / ".env.example")
    assert all(committed.get(name) == "" for name in SECRETS), committed
    compose = sn.COMPOSE_FILE.read_text()
    for name in SECRETS:
        assert f"${{{name}:?" in compose, f"{name} must be required (`${{{name}:?...}}`)"


# ------------------------------------------------------------------- files, variables, ports
def test_every_mounted_path_env_file_build_context_and_script_exists(env_file):
    for name, service in _all_services(env_file).items():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind":
                assert Path(volume["source"]).exists(), f"{name} mounts {volume['source']}"
        for item in service.get("env_file", []):
            path = item["path"] if isinstance(item, dict) else item
            assert Path(path).exists(), f"{name} env_file {path}"
        if "build" in service:
            context = Path(service["build"]["context"])
            assert (context / service["build"]["dockerfile"]).is_file(), name
        for arg in [*(service.get("entrypoint") or []), *(service.get("command") or [])]:
            if arg.startswith("/opt/saas-elt/"):
                assert (ROOT / arg.removeprefix("/opt/saas-elt/")).is_file(), f"{name}: {arg}"


def test_every_variable_the_compose_files_read_is_documented_in_env_example():
    documented = set(
        re.findall(r"^#?\s*([A-Z_][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M)
    )
    used = {
        (path.name, name)
        for path in (sn.COMPOSE_FILE, sn.LOCAL_OVERRIDE)
        for name in re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", path.read_text())
    }
    assert len(used) >= len(SECRETS)
    assert not {u for u in used if u[1] not in documented}, "not in .env.example"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_published_ports_are_loopback_only_and_never_collide(env_file, variant):
    services = sn.compose_config(env_file, files=VARIANTS[variant])["services"]
    seen: dict[str, str] = {}
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.get("host_ip") == "127.0.0.1", f"{name} publishes {port} beyond loopback"
            assert port["published"] not in seen, f"{name} and {seen.get(port['published'])}"
            seen[port["published"]] = name
    assert len(seen) >= 3


# ------------------------------------------------------------------- shape of Airflow's file
def test_services_wait_for_what_they_need_as_in_airflows_compose_file(env_file):
    services = sn.compose_config(env_file)["services"]
    for name in ("postgres", "redis", *sn.RUN_BY_NATIVE_STACK):
        if name != "airflow-init":
            assert services[name]["healthcheck"]["test"], f"{name} has no healthcheck"
    for name in sn.RUN_BY_NATIVE_STACK:
        if not name.startswith("airflow-") and name != "flower":
            continue
        needs = services[name]["depends_on"]
        assert needs["postgres"]["condition"] == "service_healthy", name
        assert needs["redis"]["condition"] == "service_healthy", name
        if name != "airflow-init":
            assert needs["airflow-init"]["condition"] == "service_completed_successfully", name
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == (
        "service_healthy"
    )
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
        "http://airflow-apiserver:8080/execution/"
    )
    assert env["MAILCHIMP_BASE_URL"].startswith("http://mock-apis:")
    assert env["HUBSPOT_BASE_URL"].startswith("http://mock-apis:")


def test_the_data_lives_on_named_volumes_and_the_code_is_mounted_for_live_editing(env_file):
    config = sn.compose_config(env_file)
    assert {"postgres-db", "elt-data", "airflow-logs"} <= set(config["volumes"])
    worker = config["services"]["airflow-worker"]["volumes"]
    named = {v["target"]: v["source"] for v in worker if v["type"] == "volume"}
    assert named == {"/data": "elt-data", "/opt/airflow/logs": "airflow-logs"}
    bound = {v["target"] for v in worker if v["type"] == "bind"}
    for folder in ("dags", "dbt_project", "elt", "connectors", "quality"):
        assert f"/opt/saas-elt/{folder}" in bound, folder
    pg = config["services"]["postgres"]["volumes"]
    assert [v["source"] for v in pg if v["type"] == "volume"] == ["postgres-db"]


# --------------------------------------------------------------------------- the image
def _lock() -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "docker"))
    import check_pins

    return check_pins.read_lock(LOCK)


def test_the_image_builds_on_the_locked_airflow_and_the_local_python():
    text = DOCKERFILE.read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.M))
    assert args["AIRFLOW_VERSION"] == _lock()["apache-airflow"]
    assert args["PYTHON_VERSION"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert "FROM apache/airflow:slim-${AIRFLOW_VERSION}-python${PYTHON_VERSION}" in text
    assert "pip install -c requirements/constraints.txt -e ." in text
    assert "python docker/check_pins.py requirements/constraints.txt" in text
    ignored = (ROOT / "docker" / "Dockerfile.dockerignore").read_text().split()
    assert {".env", ".venv", "data", ".git"} <= set(ignored), "secrets or the venv in the context"


def test_the_local_install_has_the_versions_the_image_build_enforces(tmp_path):
    check = [sys.executable, str(ROOT / "docker" / "check_pins.py")]
    ok = subprocess.run([*check, str(LOCK)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    tampered = tmp_path / "constraints.txt"
    tampered.write_text(
        re.sub(r"^apache-airflow==.*$", "apache-airflow==0.0.1", LOCK.read_text(), flags=re.M)
    )
    bad = subprocess.run([*check, str(tampered)], capture_output=True, text=True)
    assert bad.returncode == 1 and "apache-airflow: installed" in bad.stderr


# --------------------------------------------------------------------------- proven natively
def test_every_service_is_one_the_native_tests_run(env_file):
    services = _all_services(env_file)
    proven = {*sn.DEBIAN_PACKAGED, *sn.RUN_BY_NATIVE_STACK, *sn.RUN_BY_PG_WAREHOUSE_TEST}
    assert set(services) == proven, set(services) ^ proven
    base = sn.compose_config(env_file)["services"]
    for name in sn.DEBIAN_PACKAGED:
        assert not base[name].get("command"), f"{name}: the native test runs the image's default"


@pytest.mark.parametrize(
    ("variant", "service"),
    [("celery", s) for s in sn.RUN_BY_NATIVE_STACK + sn.RUN_BY_PG_WAREHOUSE_TEST]
    + [("local", "airflow-scheduler")],
)
def test_each_command_exists_in_the_installed_tools(env_file, variant, service):
    """What the native tests start is the compose command, resolved by the image's
    entrypoint rules; here each resolves to an installed program or CLI command."""
    config = sn.compose_config(env_file, files=VARIANTS[variant])
    argv = sn.native_command(config["services"][service])
    if argv[0] == "airflow":
        sub = [a for a in argv[1:] if not a.startswith("-")]
        proc = subprocess.run(
            [str(sn.VENV_BIN / "airflow"), *sub, "--help"],
            capture_output=True, text=True, timeout=120, env=sn.base_env(),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        for flag in (a for a in argv[1:] if a.startswith("-")):
            assert flag in proc.stdout, f"{service}: `airflow {' '.join(sub)}` has no {flag}"
    elif argv[0] in ("bash", "python", "elt"):
        assert (sn.VENV_BIN / argv[0]).exists() or argv[0] == "bash"
    else:
        pytest.fail(f"{service}: {argv[0]} is neither airflow nor a known program")


@pytest.mark.parametrize("image_service", sorted(sn.DEBIAN_PACKAGED))
def test_the_images_we_do_not_build_match_the_debian_packages_the_native_test_runs(
    env_file, image_service
):
    image = sn.compose_config(env_file)["services"][image_service]["image"]
    tag = image.split(":", 1)[1]
    binary = {"postgres": "postgres", "redis": "redis-server"}[image_service]
    path = sn.find_binary(binary)
    if path is None:
        sn.skip_unless_installed([binary], f"apt-get install {sn.DEBIAN_PACKAGED[image_service]}")
    version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    found = re.search(r"(\d+)\.(\d+)", version.split("v=")[-1] if "v=" in version else version)
    major, minor = found.groups()
    wanted = tag.split("-")[0]
    assert wanted in (major, f"{major}.{minor}"), f"{image} vs {binary} {major}.{minor}"
