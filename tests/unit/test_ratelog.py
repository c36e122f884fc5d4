"""PeerLog: per-client and total token buckets for the log lines clients cause."""

from __future__ import annotations

import logging

import pytest

from reverie.serving import ratelog


def test_each_client_gets_its_burst_and_what_is_held_back_is_counted(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    monkeypatch.setattr(ratelog.time, "monotonic", lambda: now[0])
    peer_log = ratelog.PeerLog(logging.getLogger("test.ratelog"))
    with caplog.at_level(logging.INFO, "test.ratelog"):
        for _ in range(ratelog.PEER_BURST + 30):
            peer_log.log(b"noisy", logging.INFO, "line")
        peer_log.log(b"quiet", logging.INFO, "other client")
        now[0] += ratelog.PEER_INTERVAL
        peer_log.log(b"noisy", logging.INFO, "again")
    messages = [record.getMessage() for record in caplog.records]
    assert messages.count("line") == ratelog.PEER_BURST
    assert "other client (30 lines caused by clients held back before this one)" in messages
    assert messages[-1] == "again"


def test_all_clients_together_are_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelog.time, "monotonic", lambda: 5.0)
    peer_log = ratelog.PeerLog(logging.getLogger("test.ratelog"))
    allowed = sum(peer_log.allow(number) for number in range(ratelog.TOTAL_BURST * 3))
    assert allowed == ratelog.TOTAL_BURST
