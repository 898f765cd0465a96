"""The client-side request budget: never more than `limit` requests in any window."""

from __future__ import annotations

import threading

import pytest

from connectors.http import RequestBudget


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_budget_lets_a_burst_through_then_waits_for_the_oldest_request_to_leave_the_window():
    clock = FakeClock()
    budget = RequestBudget(3, 10.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        budget.take()
    assert clock.slept == []
    clock.now += 4.0
    budget.take()  # the 4th within 10 s of the first: waits until the first is 10 s old
    assert clock.slept == [pytest.approx(6.0)]
    assert budget.waited_s == pytest.approx(6.0)


def test_no_window_ever_holds_more_than_the_limit():
    clock = FakeClock()
    budget = RequestBudget(5, 10.0, clock=clock, sleep=clock.sleep)
    sent: list[float] = []
    for i in range(40):
        budget.take()
        sent.append(clock.now)
        clock.now += 0.7 if i % 3 else 0.1
    for t in sent:
        assert sum(1 for u in sent if t <= u < t + 10.0) <= 5


def test_budget_is_shared_safely_between_threads():
    budget = RequestBudget(1000, 10.0)
    threads = [
        threading.Thread(target=lambda: [budget.take() for _ in range(200)]) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(budget._sent) == 800 and budget.waited_s == 0


def test_a_budget_needs_a_positive_limit():
    with pytest.raises(ValueError, match="limit >= 1"):
        RequestBudget(0, 10.0)
