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
        budget.done(budget.take())
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
        budget.done(budget.take())
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
    assert len(budget._held) == 800 and budget.waited_s == 0


def test_a_budget_needs_a_positive_limit():
    with pytest.raises(ValueError, match="limit >= 1"):
        RequestBudget(0, 10.0)


def test_a_request_in_flight_holds_its_place_until_its_response_ends():
    """The server counts a request when it arrives, after we send it: its place in our
    window starts at `done`, so a slow response never lets us overrun the server's."""
    clock = FakeClock()
    budget = RequestBudget(1, 10.0, clock=clock, sleep=clock.sleep)
    place = budget.take()
    clock.now += 30.0  # a very slow response: still in flight
    waiter = threading.Thread(target=budget.take)
    waiter.start()
    waiter.join(timeout=0.5)
    assert waiter.is_alive()  # no room while the first request is in flight
    budget.done(place)
    waiter.join(timeout=5)
    assert not waiter.is_alive()
    assert clock.now >= 30.0 + 10.0  # room only 10 s after the first response ended
