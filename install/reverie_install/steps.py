"""An install is a list of steps, each with a sentence that says what it does; --dry-run only prints them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One thing the installer does; ``action`` is None for advice that only prints."""

    description: str
    action: Callable[[], None] | None = None


def run_steps(steps: list[Step], dry_run: bool, out: Callable[[str], None] = print) -> None:
    """Print and perform each step in order; the first failure stops the install."""
    for step in steps:
        if step.action is None:
            out(f"  note: {step.description}")
            continue
        out(f"{'would ' if dry_run else ''}{step.description}")
        if not dry_run:
            step.action()
