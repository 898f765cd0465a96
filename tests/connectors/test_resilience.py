"""Faults, bad credentials, locking, the search cap and SIGKILL: still equal to the truth."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading

import duckdb
import pytest
from connector_helpers import assert_matches_ground_truth, configs
from pydantic import SecretStr

from connectors import AuthError, SourceLocked, SyncFailed, run_sync
from connectors.errors import LoadFailed
from connectors.loader import source_lock
from mock_apis.testing import MockServer

FAULTS = [
    ("429_retry_after", {"retry_after": 0.05}),
    ("429", {}),
    ("500", {}),
    ("502", {}),
    ("503", {}),
    ("truncated_json", {}),
    ("drop_connection", {}),
    ("slow", {"ms": 20}),
]


@pytest.mark.parametrize(("kind", "options"), FAULTS, ids=[f[0] for f in FAULTS])
def test_each_injected_fault_kind_still_ends_equal_to_ground_truth(tmp_path, kind, options):
    with MockServer(seed=11, scale=0.03) as server:
        cfgs = configs(server, tmp_path)
        server.set_faults(kind, rate=0.2, seed=3, **options)
        results = {s: run_sync(s, config=cfgs[s]) for s in ("mailchimp", "hubspot")}
        server.clear_faults()
        assert_matches_ground_truth(server, cfgs)
    retries = sum(sr.retries for r in results.values() for sr in r.streams.values())
    if kind != "slow":
        assert retries > 0, f"fault {kind} fired but nothing was retried"


def _state(path, source):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT * FROM raw_{source}._state ORDER BY stream").fetchall()
    finally:
        con.close()


def test_bad_credentials_fail_fast_and_leave_state_unchanged(mock_server, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    cfgs = configs(mock_server, tmp_path)
    for source in ("mailchimp", "hubspot"):
        run_sync(source, config=cfgs[source])
    before = {s: _state(cfgs[s].raw_path, s) for s in ("mailchimp", "hubspot")}
    bad_key = "deadbeefdeadbeefdeadbeefdeadbeef-us21"
    bad_token = "pat-na1-11111111-2222-3333-4444-555555555555"
    bad = configs(mock_server, tmp_path)
    bad["mailchimp"] = bad["mailchimp"].model_copy(update={"api_key": SecretStr(bad_key)})
    bad["hubspot"] = bad["hubspot"].model_copy(update={"access_token": SecretStr(bad_token)})
    for source, secret in (("mailchimp", bad_key), ("hubspot", bad_token)):
        requests_before = mock_server.state()["stats"]["requests"]
        with pytest.raises(AuthError) as err:
            run_sync(source, config=bad[source])
        sent = mock_server.state()["stats"]["requests"] - requests_before
        assert sent == 1, f"an auth failure must stop at the first request, sent {sent}"
        assert "API key" in str(err.value) or "token" in str(err.value)
        assert secret not in str(err.value)
    after = {s: _state(cfgs[s].raw_path, s) for s in ("mailchimp", "hubspot")}
    assert after == before
    assert bad_key not in caplog.text and bad_token not in caplog.text


def test_tokens_never_appear_in_logs_errors_or_the_sync_log(tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    with MockServer(seed=5, scale=0.03) as server:
        cfgs = configs(server, tmp_path)
        server.set_faults("500", rate=0.3, seed=1)
        for source in ("mailchimp", "hubspot"):
            run_sync(source, config=cfgs[source])
        server.clear_faults()
    assert "retry" in caplog.text  # the faults were logged...
    out = capsys.readouterr()
    for secret in (server.mailchimp_api_key, server.hubspot_token):
        assert secret not in caplog.text  # ...without the credential
        assert secret not in out.out + out.err
        for source in ("mailchimp", "hubspot"):
            con = duckdb.connect(str(cfgs[source].raw_path), read_only=True)
            dump = str(con.execute(f"SELECT * FROM raw_{source}._sync_log").fetchall())
            con.close()
            assert secret not in dump
    assert "**********" in repr(cfgs["hubspot"]) and server.hubspot_token not in repr(
        cfgs["hubspot"]
    )


def test_second_run_of_the_same_source_is_refused_naming_lock_and_pid(mock_server, tmp_path):
    cfgs = configs(mock_server, tmp_path)
    with source_lock(cfgs["mailchimp"].raw_path, "mailchimp"):
        with pytest.raises(SourceLocked) as err:
            run_sync("mailchimp", config=cfgs["mailchimp"])
        assert "mailchimp.lock" in str(err.value) and str(os.getpid()) in str(err.value)
        # a different source writes a different file and is not blocked
        assert run_sync("hubspot", config=cfgs["hubspot"]).ok


def test_both_sources_sync_in_parallel_without_a_duckdb_lock_error(mock_server, tmp_path):
    cfgs = configs(mock_server, tmp_path)
    errors: list[BaseException] = []

    def run(source: str) -> None:
        try:
            run_sync(source, config=cfgs[source])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in ("mailchimp", "hubspot")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert_matches_ground_truth(mock_server, cfgs)


def test_search_backlog_over_10000_changes_is_read_completely(tmp_path):
    tiny = {"companies": 20, "deals": 20, "members": 20, "campaigns": 2, "owners": 2}
    with MockServer(seed=3, scale=0.01, contacts=10_500, **tiny) as server:
        cfgs = configs(server, tmp_path)
        cfg = cfgs["hubspot"]
        run_sync("hubspot", config=cfg, streams=["contacts"])
        # rewind the cursor so the next (incremental) sync searches the whole backlog
        con = duckdb.connect(str(cfg.raw_path))
        con.execute(
            "UPDATE raw_hubspot._state SET cursor = '{\"cursor_ms\": 1}' WHERE stream = 'contacts'"
        )
        con.execute("DELETE FROM raw_hubspot.contacts")
        con.close()
        result = run_sync("hubspot", config=cfg, streams=["contacts"])
        contacts = result.streams["contacts"]
        assert contacts.mode == "incremental"
        assert contacts.records_read >= 10_500
        truth = server.ground_truth(["contacts"])["contacts"]
        con = duckdb.connect(str(cfg.raw_path), read_only=True)
        ids = {r[0] for r in con.execute("SELECT id FROM raw_hubspot.contacts").fetchall()}
        n = con.execute("SELECT count(*) FROM raw_hubspot.contacts").fetchone()[0]
        con.close()
        assert n == len(ids) == len(truth)
        assert ids == {t["id"] for t in truth}


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    from connectors import HubspotConfig, MailchimpConfig, run_sync
    base, mc_key, hs_token, raw = sys.argv[1:5]
    cfg = {
        "mailchimp": MailchimpConfig(api_key=mc_key, base_url=base + "/3.0",
                                     raw_path=raw + "/mailchimp.duckdb", batch_pages=1),
        "hubspot": HubspotConfig(access_token=hs_token, base_url=base,
                                 raw_path=raw + "/hubspot.duckdb", batch_pages=1),
    }
    for source in ("mailchimp", "hubspot"):
        run_sync(source, config=cfg[source])
    """
)


def _killed_sync(server, raw_dir, after_s: float) -> int | None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILL_SCRIPT,
            server.base_url,
            server.mailchimp_api_key,
            server.hubspot_token,
            str(raw_dir),
        ],
        cwd=os.getcwd(),
    )
    try:
        proc.wait(timeout=after_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return proc.returncode


@pytest.mark.parametrize("kill_after_s", [1.0, 2.5])
def test_sync_killed_with_sigkill_then_rerun_ends_equal_to_ground_truth(tmp_path, kill_after_s):
    with MockServer(seed=9, scale=0.05) as server:
        server.set_faults("slow", rate=1.0, ms=250)  # unkilled: ~8 s, so both kills land mid-way
        rc = _killed_sync(server, tmp_path, kill_after_s)
        server.clear_faults()
        assert rc == -signal.SIGKILL, "the sync finished before it could be killed"
        cfgs = configs(server, tmp_path)
        server.advance(days=1, change_rate=0.05)
        for source in ("mailchimp", "hubspot"):
            run_sync(source, config=cfgs[source])
        assert_matches_ground_truth(server, cfgs)


def test_statement_failing_inside_a_transaction_reports_its_own_error_then_rerun_recovers(
    mock_server, tmp_path
):
    """A DuckDB memory_limit too small for one members batch: the INSERT runs out of memory
    inside the stream's transaction. The stream must fail with that first error (not the
    "transaction is aborted" of a later statement), roll back, log it in _sync_log, leave
    the other streams committed, and a rerun with the normal limit ends equal to the truth."""
    tight = configs(mock_server, tmp_path, memory_limit="8MB")["mailchimp"]
    with pytest.raises(SyncFailed) as info:
        # two streams of one lane: 8 MB shared with a concurrent lane would make which
        # stream runs out first a matter of timing
        run_sync("mailchimp", config=tight, streams=["lists", "members"])
    members = info.value.result.streams["members"]
    assert members.status == "failed"
    assert members.error.startswith("LoadFailed: raw_mailchimp.members: parsing")
    assert "OutOfMemoryException" in members.error
    assert "transaction is aborted" not in members.error.lower()
    assert info.value.result.streams["lists"].status == "succeeded"

    con = duckdb.connect(str(tight.raw_path), read_only=True)
    try:
        logged = con.execute(
            "SELECT status, error FROM raw_mailchimp._sync_log WHERE stream = 'members'"
        ).fetchall()
        member_rows = con.execute("SELECT count(*) FROM raw_mailchimp.members").fetchone()[0]
        member_state = con.execute(
            "SELECT count(*) FROM raw_mailchimp._state WHERE stream = 'members'"
        ).fetchone()[0]
        list_rows = con.execute("SELECT count(*) FROM raw_mailchimp.lists").fetchone()[0]
    finally:
        con.close()
    assert logged == [("failed", members.error)]
    assert (member_rows, member_state) == (0, 0)  # the batch and its cursor rolled back together
    assert list_rows > 0

    cfgs = configs(mock_server, tmp_path)
    assert run_sync("mailchimp", config=cfgs["mailchimp"]).ok
    assert_matches_ground_truth(mock_server, cfgs, sources=("mailchimp",))


def test_a_failed_commit_that_kept_its_cursor_is_undone(mock_server, tmp_path, monkeypatch):
    """A COMMIT that fails having saved the stream's cursor but not its rows (a CI run once
    ended that way after a DuckDB out-of-memory at COMMIT). The stream fails, its cursor
    goes back to the last good commit (none: a first sync), and a rerun ends equal to the
    truth; without the reset the rerun would skip what the cursor claims was read."""
    from connectors.loader import Loader

    cfgs = configs(mock_server, tmp_path)
    real_commit, real_set = Loader.commit, Loader.set_state
    written: dict[str, object] = {}

    def set_state(self, stream, cursor):
        written[stream] = cursor
        return real_set(self, stream, cursor)

    def commit(self, stream=""):
        if stream != "unsubscribes":
            return real_commit(self, stream)
        self.rollback()  # the rows are gone ...
        real_set(self, stream, written[stream])  # ... but the cursor is saved
        raise LoadFailed(
            "raw_mailchimp.unsubscribes: COMMIT failed (simulated)",
            stream=stream,
            first_error=duckdb.TransactionException("simulated"),
        )

    monkeypatch.setattr(Loader, "set_state", set_state)
    monkeypatch.setattr(Loader, "commit", commit)
    with pytest.raises(SyncFailed) as info:
        run_sync("mailchimp", config=cfgs["mailchimp"])
    assert info.value.result.streams["unsubscribes"].status == "failed"
    assert "unsubscribes" in written  # the simulated commit really saved a cursor
    monkeypatch.undo()

    con = duckdb.connect(str(cfgs["mailchimp"].raw_path), read_only=True)
    try:
        cursor_rows = con.execute(
            "SELECT count(*) FROM raw_mailchimp._state WHERE stream = 'unsubscribes'"
        ).fetchone()[0]
    finally:
        con.close()
    assert cursor_rows == 0
    assert run_sync("mailchimp", config=cfgs["mailchimp"]).ok
    assert_matches_ground_truth(mock_server, cfgs, sources=("mailchimp",))


def test_load_failed_names_the_stream_and_keeps_the_first_error(tmp_path):
    from connectors.loader import Loader
    from connectors.mailchimp import SOURCE

    stream = next(s for s in SOURCE.streams if s.name == "members")
    loader = Loader(tmp_path / "x.duckdb", "mailchimp", "sync-1")
    try:
        loader.ensure_tables(SOURCE.streams)
        loader.begin(stream.name)
        with pytest.raises(LoadFailed) as info:
            loader._sql("SELECT * FROM no_such_table", stream=stream.name, what="probe")
        assert info.value.stream == "members"
        assert isinstance(info.value.first_error, duckdb.CatalogException)
        assert not loader.in_transaction
        assert loader.count(stream) == 0  # the connection is usable again: rolled back
    finally:
        loader.close()
