"""One memory budget for the whole server, which every connection's allowance only divides.

Each bound of the first round was per connection (two messages in flight, 1 GiB unread), and connections
multiply them: three connections each holding an unfinished 1 GiB message grew the server by 3 GB. So what peers
make the server hold is also counted together: bytes in flight (``InflowGuard``), the pixels of the jobs it has
taken (queued or running, guides included) and what it sent that its clients have not read. The guard cuts the
connection holding the most in flight while the sum is over the budget, and a job that would take the sum over
it is refused ``busy``, a snapshot that would is dropped. Results already computed are never dropped for it; they
only leave less room.
"""

from __future__ import annotations

import os

from reverie_wire.errors import Busy, ConfigError
from reverie_wire.protocol import Limits

# Without [limits] memory_budget: this share of the machine's memory.
RAM_SHARE = 4


def machine_memory() -> int:
    """The machine's physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def budget_bytes(limits: Limits) -> int:
    """``[limits] memory_budget``, or a quarter of the machine's memory (0, the default, says so); at least one
    connection's allowance, else the largest valid job could never arrive."""
    if not limits.memory_budget:
        return max(machine_memory() // RAM_SHARE, limits.max_inflight_bytes)
    budget = limits.memory_budget
    if budget < limits.max_inflight_bytes:
        raise ConfigError(
            f"[limits] memory_budget is {budget:,} bytes, less than one connection's allowance "
            f"({limits.max_inflight_bytes:,}, twice the largest message at max_pixels {limits.max_pixels:,}): "
            "raise memory_budget or lower max_pixels"
        )
    return budget


class MemoryBudget:
    """The budget and what counts against it. ``in_flight`` is written by the guard's thread, ``held`` by the
    server's (each a plain int, read whole by the other)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.in_flight = 0  # bytes connections have sent that the server has not read yet
        self.held = 0  # pixels of the jobs taken, and bytes sent but not read by their clients

    def over_by(self, in_flight: int) -> int:
        """How far ``in_flight`` and what is held pass the budget (0 or less: within it)."""
        return in_flight + self.held - self.total

    def fits(self, nbytes: int) -> bool:
        """Whether ``nbytes`` more (a snapshot) stay within the budget."""
        return self.in_flight + self.held + nbytes <= self.total

    def check_job(self, nbytes: int) -> None:
        """Refuse a job whose pixels would take the server over its budget."""
        used = self.in_flight + self.held
        if used + nbytes > self.total:
            raise Busy(
                f"the dream server holds {used / 1e6:.0f} MB for its clients and this job's {nbytes / 1e6:.0f} MB "
                f"would pass its memory budget of {self.total / 1e6:.0f} MB; try again when a job finishes (or "
                "raise [limits] memory_budget in its config)"
            )
