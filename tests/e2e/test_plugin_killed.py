"""A plug-in that dies mid-dream (GIMP kills it when the artist cancels) leaves the server free.

The server notices the vanished connection and cancels the job; the image keeps its layers.
"""

from __future__ import annotations

import os
import signal

import pytest
from dream_server import facts, wait_for
from gimp_harness import GIMP_PATH, BackgroundBatch, GimpInstall, Workspace

pytestmark = pytest.mark.gimp


def test_killed_plugin_gets_its_job_cancelled_and_the_image_keeps_its_layers(
    gimp: GimpInstall, gimp_dir: Workspace, work: Workspace, endpoint: str
) -> None:
    cancelled_before = facts(endpoint)["jobs_cancelled"]
    batch = BackgroundBatch(
        gimp,
        gimp_dir,
        work,
        "image, layer = g.new_image(256, 256)\n"
        f"out = g.dream(image, layer, endpoint={endpoint!r}, model='mobilenet', octaves=1, steps=1000)\n"
        "rec.value('status', out['status'])\n"
        "rec.layers('after', image)\n",
        GIMP_PATH,
    )

    def dreaming() -> bool:
        """the server to run the plug-in's job"""
        return facts(endpoint)["running"] is not None

    wait_for(dreaming)
    (pid,) = batch.plugin_pids()
    os.kill(pid, signal.SIGKILL)
    record = batch.finish()
    assert record.values["status"] != "success"
    assert [entry["name"] for entry in record.values["after"]] == ["artwork"]

    def cancelled() -> bool:
        """the server to count the job cancelled"""
        state = facts(endpoint)
        return state["jobs_cancelled"] == cancelled_before + 1 and state["running"] is None

    wait_for(cancelled)
