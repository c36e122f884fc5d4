"""The words for a dream's estimated time left, the same on the command line and in GIMP."""

from __future__ import annotations


def time_left_text(seconds: float | None) -> str:
    """``~12 s left``, ``~3 min 05 s left``, ``~14 min left``; "" when there is no estimate yet."""
    if seconds is None:
        return ""
    if seconds < 1:
        return "almost done"
    whole = round(seconds)
    if whole < 60:
        return f"~{whole} s left"
    if whole < 600:
        return f"~{whole // 60} min {whole % 60:02d} s left"
    return f"~{round(seconds / 60)} min left"
