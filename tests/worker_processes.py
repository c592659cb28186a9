"""Real Celery worker processes for the crash tests (SIGKILL mid-campaign): one way to start
them and to wait for what they do, shared by the email and SMS tests."""

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_celery_worker(env: dict, queues: str) -> subprocess.Popen:
    """A solo-pool worker on `queues` (comma-separated), as the Procfile runs one, minus the
    cluster chatter (gossip, mingle, heartbeat) that only slows a lone test worker."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "sendethic",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queues,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
    )


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
