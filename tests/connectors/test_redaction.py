"""No credential leaves a run in any encoding: not in raised messages, logs, stderr or
the `_sync_log`, even when the upstream echoes the request's Authorization header."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus

import duckdb
import pytest

from connectors import HubspotConfig, MailchimpConfig, SyncFailed, run_sync
from connectors.redact import (
    MASK,
    RedactingFilter,
    Redactor,
    install,
    redact,
    register_secret,
)

MC_KEY = "5f3c9a0b1d2e4f60718293a4b5c6d7e8-us6"
HS_TOKEN = "pat-eu1-9c8b7a6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4"


def encodings(secret: str) -> dict[str, str]:
    """Every form of `secret` that must never be seen."""
    return {
        "raw": secret,
        "url-encoded": quote(secret, safe=""),
        "url-encoded (plus)": quote_plus(secret),
        "first 20 characters": secret[:20],
        "base64 Basic": base64.b64encode(f"anystring:{secret}".encode()).decode(),
        "base64 Basic, unpadded": base64.b64encode(f"anystring:{secret}".encode())
        .decode()
        .rstrip("="),
        "base64 Basic, other user": base64.b64encode(f"svc-user:{secret}".encode()).decode(),
        "base64 alone": base64.b64encode(secret.encode()).decode(),
    }


def assert_clean(text: str, secret: str, where: str) -> None:
    for name, form in encodings(secret).items():
        assert form not in text, f"the secret ({name}) leaked into {where}: {text[:400]}"


# --------------------------------------------------------------------------- unit
@pytest.mark.parametrize("secret", [MC_KEY, HS_TOKEN, "s3cr3t/with+odd=chars&more?yes"])
def test_the_redactor_hides_every_encoding_of_a_secret(secret):
    r = Redactor([secret])
    for name, form in encodings(secret).items():
        text = f"upstream said: {form} (end)"
        out = r(text)
        assert_clean(out, secret, f"the redacted {name} form")
        assert MASK in out and out.startswith("upstream said: ") and out.endswith(" (end)")


def test_a_truncated_echo_of_a_secret_is_hidden_past_twenty_characters():
    r = Redactor([MC_KEY])
    for cut in (20, 25, len(MC_KEY) - 1):
        assert r(f"key={MC_KEY[:cut]}|") in {f"key={MASK}|"}
    basic = base64.b64encode(f"anystring:{MC_KEY}".encode()).decode()
    assert r(f"auth {basic[:40]}") == f"auth {MASK}"  # a base64 Basic value cut off


def test_credential_shaped_values_are_hidden_even_for_unknown_secrets():
    r = Redactor()
    assert r("Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==") == f"Authorization: Basic {MASK}"
    assert r('{"authorization": "Bearer abc.def.123"}') == f'{{"authorization": "Bearer {MASK}"}}'
    assert r("sent Bearer eyJhbGciOiJIUzI1NiJ9.e30.x1 to") == f"sent Bearer {MASK} to"
    assert r("GET /x?apikey=abc123&count=10") == f"GET /x?apikey={MASK}&count=10"


def test_ordinary_text_is_left_alone():
    r = Redactor([MC_KEY, HS_TOKEN])
    for text in (
        "GET http://127.0.0.1:8900/3.0/lists -> 500: InternalServerError - try again",
        "HTTP Basic authentication failed; check the API key",
        "Bearer tokens expire",
        "campaign 0123abcd4567 sent to 1,234 members",
    ):
        assert r(text) == text


def test_a_redactor_takes_the_secret_fields_of_a_config(tmp_path):
    cfg = MailchimpConfig(api_key=MC_KEY, base_url="http://127.0.0.1:1/3.0")
    r = Redactor.from_config(cfg)
    assert r.secrets == (MC_KEY,)
    assert r(f"x {quote(MC_KEY)} y") == f"x {MASK} y"


def test_the_process_wide_registry_hides_registered_secrets_for_any_caller():
    secret = "registry-test-secret-0123456789"
    assert redact(f"dbt artifact: {secret}") == f"dbt artifact: {secret}"
    register_secret(secret)
    assert redact(f"dbt artifact: {secret}") == f"dbt artifact: {MASK}"
    HubspotConfig(access_token="pat-made-by-a-config-0042")  # configs register themselves
    assert redact("token pat-made-by-a-config-0042") == f"token {MASK}"


def test_the_log_filter_hides_secrets_in_message_args_and_exception(caplog):
    logger = logging.getLogger("tests.redaction.filter")
    logger.addFilter(RedactingFilter(Redactor([MC_KEY])))
    basic = base64.b64encode(f"anystring:{MC_KEY}".encode()).decode()
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("sent %s and %s", MC_KEY, {"Authorization": f"Basic {basic}"})
        try:
            raise RuntimeError(f"boom {quote(MC_KEY)}")
        except RuntimeError:
            logger.exception("failed")
    assert "sent *** and" in caplog.text and "boom ***" in caplog.text
    assert_clean(caplog.text, MC_KEY, "the log")


def test_install_adds_one_filter_to_each_handler():
    handler = logging.StreamHandler()
    install(handler)
    install(handler)
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1


# --------------------------------------------------------------------------- a real sync
class _Echo(BaseHTTPRequestHandler):
    """An upstream that answers the connection check and then fails every request with a
    500 whose body echoes the Authorization header, as some proxies and APIs do, plus the
    credential it carries in the other forms a body may hold it."""

    def do_GET(self) -> None:
        if self.path.endswith("/ping"):
            return self._send(200, {"health_status": "Everything's Chimpy!"})
        if self.path.startswith("/crm/v3/owners") and "limit=1" in self.path:
            return self._send(200, {"results": []})
        auth = self.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        secret = value
        if scheme == "Basic":
            secret = base64.b64decode(value).decode().split(":", 1)[1]
        echo = (
            f"upstream error; request headers: Authorization: {auth}; "
            f"credential {quote(secret, safe='')} prefix {secret[:20]} "
            f"as svc {base64.b64encode(f'svc-user:{secret}'.encode()).decode()}"
        )
        return self._send(500, {"title": "InternalServerError", "detail": echo})

    do_POST = do_GET

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


FAST = {"http_max_retries": 1, "backoff_base_s": 0.01, "backoff_max_s": 0.02}


def _configs(url: str, tmp_path: Path) -> dict[str, tuple[object, str]]:
    return {
        "mailchimp": (
            MailchimpConfig(
                api_key=MC_KEY, base_url=f"{url}/3.0", raw_path=tmp_path / "mc.duckdb", **FAST
            ),
            MC_KEY,
        ),
        "hubspot": (
            HubspotConfig(
                access_token=HS_TOKEN,
                base_url=url,
                raw_path=tmp_path / "hs.duckdb",
                requests_per_10s=0,
                search_requests_per_s=0,
                **FAST,
            ),
            HS_TOKEN,
        ),
    }


def _sync_log_errors(path: Path, source: str) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            f"SELECT error FROM raw_{source}._sync_log WHERE error IS NOT NULL"
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


@pytest.mark.parametrize("source", ["mailchimp", "hubspot"])
def test_an_echoed_authorization_header_never_reaches_messages_logs_or_the_sync_log(
    echo_url, tmp_path, source, caplog, capfd
):
    config, secret = _configs(echo_url, tmp_path)[source]
    stderr = logging.StreamHandler(sys.stderr)  # what a CLI user sees
    logging.getLogger().addHandler(stderr)
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(SyncFailed) as err:
            run_sync(source, config=config)
    finally:
        logging.getLogger().removeHandler(stderr)
    errors = _sync_log_errors(config.raw_path, source)
    assert errors, "no stream failed: the echo never happened"
    assert any("Authorization: " in e and MASK in e for e in errors), errors[0]
    out, err_text = capfd.readouterr()
    assert "upstream error" in caplog.text and "upstream error" in err_text
    assert_clean(str(err.value), secret, "the raised message")
    assert_clean(caplog.text, secret, "the log records")
    assert_clean(out + err_text, secret, "stdout/stderr")
    for e in errors:
        assert_clean(e, secret, f"raw_{source}._sync_log.error")


def test_elt_extract_prints_no_encoding_of_the_mailchimp_key_on_stderr(echo_url, tmp_path):
    """The reported incident, end to end: `elt extract` against an echoing upstream."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILCHIMP_", "ELT_"))}
    env.update(
        ELT_DATA_DIR=str(tmp_path),
        ELT_HTTP_MAX_RETRIES="1",
        MAILCHIMP_BASE_URL=f"{echo_url}/3.0",
        MAILCHIMP_API_KEY=MC_KEY,
        MAILCHIMP_BACKOFF_BASE_S="0.01",
    )
    elt = Path(sys.executable).with_name("elt")
    proc = subprocess.run(
        [str(elt), "extract", "--source", "mailchimp"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode != 0 and "upstream error" in proc.stderr, proc.stderr[-2000:]
    assert_clean(proc.stdout + proc.stderr, MC_KEY, "`elt extract` output")
    for e in _sync_log_errors(tmp_path / "raw" / "mailchimp.duckdb", "mailchimp"):
        assert_clean(e, MC_KEY, "raw_mailchimp._sync_log.error")
