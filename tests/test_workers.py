"""``python -m service serve --workers N``: connections spread over the workers, a dead worker replaced,
a taken port refused, SIGTERM stopping everything (real processes on loopback)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import pytest

from tests.running_service import ROOT, free_port, running_service

pytestmark = pytest.mark.slow


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purpose
    stat = open(f"/proc/{pid}/stat").read() if os.path.exists(f"/proc/{pid}/stat") else ""
    return bool(stat) and stat.split(") ")[-1][:1] != "Z"


def _requests_on_new_connections(base: str, count: int) -> list[int]:
    """Open ``count`` connections in one burst (as a connection pool or a proxy does), then send one request
    on each and return the status codes."""
    host, port = base.removeprefix("http://").split(":")
    connections = [socket.create_connection((host, int(port)), timeout=30) for _ in range(count)]
    statuses = []
    for connection in connections:
        with connection:
            connection.sendall(f"GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            reply = b""
            while chunk := connection.recv(65536):
                reply += chunk
            statuses.append(int(reply.split(b" ", 2)[1]))
    return statuses


def _listening_sockets(port: int) -> int:
    """How many sockets listen on ``port`` (IPv4, from /proc/net/tcp: state 0A is LISTEN)."""
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows if int(row[1].split(":")[1], 16) == port and row[3] == "0A")


def test_each_worker_listens_on_its_own_socket_and_connections_reach_both(models_dir, tmp_path):
    with running_service(models_dir, f"sqlite:///{tmp_path / 'w.db'}", tmp_path / "service.log") as service:
        port = int(service.base.rsplit(":", 1)[1])
        # uvicorn's --workers shares one listening socket, and a burst of connections can all be accepted by
        # whichever worker wakes first; one socket per worker lets the kernel spread them by address hash
        assert _listening_sockets(port) == 2
        statuses = _requests_on_new_connections(service.base, 32)
        time.sleep(0.5)  # the access lines are written after the responses
        pids = service.answering_pids("/health")
    assert statuses == [200] * 32
    # all 32 on one of the two workers would happen with a probability of 2 in 2^32
    assert len(pids) >= 32 and len(set(pids)) == 2, pids


def test_a_worker_that_dies_is_replaced_and_the_service_keeps_answering(models_dir, tmp_path):
    with running_service(models_dir, f"sqlite:///{tmp_path / 'w.db'}", tmp_path / "service.log") as service:
        _requests_on_new_connections(service.base, 32)
        time.sleep(0.5)
        victim = service.answering_pids("/health")[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and f"worker {victim} exited" not in service.log():
            time.sleep(0.2)
        assert f"worker {victim} exited" in service.log()
        # the replacement imports and loads the model; until it listens, the other worker takes every connection
        deadline = time.monotonic() + 90
        statuses: list[int] = []
        recent: list[int] = []
        while time.monotonic() < deadline:
            statuses += _requests_on_new_connections(service.base, 32)
            time.sleep(0.5)
            recent = service.answering_pids("/health")[-32:]
            if len(set(recent)) == 2:
                break
    assert set(statuses) == {200}  # no request failed while a worker was down and replaced
    assert victim not in recent and len(set(recent)) == 2  # two workers again, the killed one not among them


def test_a_port_already_in_use_is_refused_with_a_clear_message(models_dir, tmp_path):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        env = {**os.environ, "MODELS_DIR": str(models_dir), "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
        result = subprocess.run([sys.executable, "-m", "service", "serve", "--port", str(port), "--workers", "2"],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"cannot bind 127.0.0.1:{port}" in result.stderr


def test_sigterm_stops_the_supervisor_and_every_worker(models_dir, tmp_path):
    with running_service(models_dir, f"sqlite:///{tmp_path / 'w.db'}", tmp_path / "service.log") as service:
        _requests_on_new_connections(service.base, 32)
        time.sleep(0.5)
        workers = set(service.answering_pids("/health"))
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(timeout=40) == 0
    assert len(workers) == 2 and not any(_alive(pid) for pid in workers)
