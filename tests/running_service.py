"""``python -m service serve`` as a real process for tests: a free port, its log in a file, stopped after."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import API_KEY

ROOT = Path(__file__).resolve().parent.parent
_ACCESS_LINE = re.compile(r" (\d+) service\.access: (\S+) (\S+) (\d{3}) ")


@dataclass
class RunningService:
    process: subprocess.Popen
    base: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def answering_pids(self, path: str) -> list[int]:
        """Process ids of the workers whose access log lines show a request to ``path``, in log order."""
        return [int(m.group(1)) for m in _ACCESS_LINE.finditer(self.log()) if m.group(3) == path]


def free_port() -> int:
    with socket.socket() as probe:  # a port the OS says is free
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(base: str, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the service at {base} was not ready within {seconds:.0f} s")


@contextmanager
def running_service(models_dir: Path, database_url: str, log_path: Path, workers: int = 2,
                    port: int | None = None) -> Iterator[RunningService]:
    port = port or free_port()
    env = {**os.environ, "MODELS_DIR": str(models_dir), "API_KEYS": API_KEY, "DATABASE_URL": database_url,
           "LOG_LEVEL": "INFO"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "service", "serve", "--port", str(port),
                                    "--workers", str(workers)], cwd=ROOT, env=env, stdout=log, stderr=log)
    service = RunningService(process, f"http://127.0.0.1:{port}", log_path)
    try:
        wait_ready(service.base)
        yield service
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
