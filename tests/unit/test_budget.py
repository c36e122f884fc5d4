"""The server-wide memory budget: its default, its floor and how a job is measured against it."""

from __future__ import annotations

import pytest

from reverie.serving.budget import RAM_SHARE, MemoryBudget, budget_bytes, machine_memory
from reverie_wire.errors import Busy, ConfigError
from reverie_wire.protocol import Limits


def test_the_default_is_a_share_of_the_machines_memory_but_never_under_one_connections_allowance() -> None:
    assert budget_bytes(Limits()) == max(machine_memory() // RAM_SHARE, Limits().max_inflight_bytes)
    huge = Limits(max_pixels=16384 * 16384)
    assert budget_bytes(huge) >= huge.max_inflight_bytes


def test_a_budget_under_one_connections_allowance_is_refused() -> None:
    limits = Limits(max_pixels=1_000_000, memory_budget=1 << 20)
    with pytest.raises(ConfigError, match="memory_budget is 1,048,576 bytes, less than one connection's allowance"):
        budget_bytes(limits)
    assert budget_bytes(Limits(max_pixels=1_000_000, memory_budget=1 << 30)) == 1 << 30


def test_a_job_counts_with_what_is_in_flight_and_held() -> None:
    budget = MemoryBudget(100)
    budget.in_flight, budget.held = 30, 50
    budget.check_job(20)
    with pytest.raises(Busy, match="memory budget"):
        budget.check_job(21)
    assert budget.over_by(60) == 10
