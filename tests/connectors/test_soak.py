"""Soaks (slow, `make test-all`): runs of time advances, each followed by incremental
syncs of both sources that must end equal to the ground truth: plain, under injected
faults, and with syncs killed mid-way.

Short steps reach states a day-long step jumps over (a campaign sent moments before
a sync, a record changed twice between two syncs). A loop like this one, at scale 1,
found the null-`since` crash in email activity on its 39th step (it is rare: 60 steps
at scale 0.3 did not hit it; `test_sync.py` has a deterministic test for it)."""

from __future__ import annotations

import random
import signal

import pytest
from connector_helpers import assert_matches_ground_truth, configs
from test_resilience import FAULTS as RESILIENCE_FAULTS
from test_resilience import _killed_sync

from connectors import run_sync
from mock_apis.testing import MockServer

STEPS = 40


@pytest.mark.slow
def test_short_advances_keep_every_stream_equal_to_ground_truth(tmp_path):
    with MockServer(seed=11, scale=0.3) as server:
        cfgs = configs(server, tmp_path)
        for step in range(STEPS + 1):
            if step:
                # alternate very short and longer steps, small and larger change rates
                server.advance(days=0.05 if step % 2 else 0.5, change_rate=0.002 * (step % 4 + 1))
            for source in ("mailchimp", "hubspot"):
                result = run_sync(source, config=cfgs[source])
                assert result.ok, f"step {step}: {source} failed: {result.streams}"
            assert_matches_ground_truth(server, cfgs)


# the fault kinds test_resilience.py checks on a first sync, except "slow" (no retry)
FAULTS = [f for f in RESILIENCE_FAULTS if f[0] != "slow"]


@pytest.mark.slow
def test_incremental_syncs_under_injected_faults_stay_equal_to_ground_truth(tmp_path):
    """The fault test in test_resilience.py covers a first sync; here every incremental
    sync of a run of advances meets a fault kind (15% of requests)."""
    with MockServer(seed=21, scale=0.2) as server:
        cfgs = configs(server, tmp_path)
        for step in range(21):
            if step:
                server.advance(days=(0.05, 0.3, 1, 2)[step % 4], change_rate=0.01 * (step % 3 + 1))
            kind, options = FAULTS[step % len(FAULTS)]
            server.set_faults(kind, rate=0.15, seed=step, **options)
            for source in ("mailchimp", "hubspot"):
                run_sync(source, config=cfgs[source])
            server.clear_faults()
            assert_matches_ground_truth(server, cfgs)


@pytest.mark.slow
def test_incremental_syncs_killed_at_random_moments_then_rerun_stay_equal_to_truth(tmp_path):
    """SIGKILL lands mid-way through incremental syncs (test_resilience.py kills a first
    sync): after each advance, one or two killed attempts, then a clean run."""
    rng = random.Random(33)
    with MockServer(seed=33, scale=0.1) as server:
        cfgs = configs(server, tmp_path)
        for source in ("mailchimp", "hubspot"):
            run_sync(source, config=cfgs[source])
        killed = 0
        for _ in range(8):
            server.advance(days=rng.choice([0.3, 1, 3]), change_rate=rng.choice([0.01, 0.05]))
            for _ in range(rng.choice([1, 2])):
                server.set_faults("slow", rate=1.0, ms=rng.choice([20, 60]))
                killed += _killed_sync(server, tmp_path, rng.uniform(0.3, 2.5)) == -signal.SIGKILL
                server.clear_faults()
            for source in ("mailchimp", "hubspot"):
                run_sync(source, config=cfgs[source])
            assert_matches_ground_truth(server, cfgs)
    assert killed >= 4, f"only {killed} attempts were killed mid-way"
