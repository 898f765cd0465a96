"""Soak (slow, `make test-all`): many short time advances, each followed by an
incremental sync of both sources that must end equal to the ground truth.

Short steps reach states a day-long step jumps over (a campaign sent moments before
a sync, a record changed twice between two syncs). A loop like this one, at scale 1,
found the null-`since` crash in email activity on its 39th step (it is rare: 60 steps
at scale 0.3 did not hit it; `test_sync.py` has a deterministic test for it)."""

from __future__ import annotations

import pytest
from connector_helpers import assert_matches_ground_truth, configs

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
