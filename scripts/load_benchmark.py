"""Load benchmark of the running HTTP service (a script that prints figures, not a timed test).

    python scripts/load_benchmark.py [--workers 2] [--concurrency 32] [--seconds 15] [--postgres URL]

Starts ``python -m service serve`` on a free loopback port (SQLite in a temporary folder, and PostgreSQL
when ``--postgres`` gives a server URL: a throw-away database is created on it and dropped), then drives it
from a second process with ``wrk`` (Debian package ``wrk``; a Python client cannot generate this load on
two cores) at the given concurrency, with the corpus texts as bodies. Every run is bounded by its
duration and talks to 127.0.0.1 only. Prints requests/s, p50/p99 latency and errors
for ``POST /v1/classify`` and ``POST /v1/petitions``.
Targets (issue 3): classify >= 500 requests/s with p99 < 50 ms at concurrency 32, no errors; intake >= 200/s.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
KEY = "load-benchmark-key"


def corpus_texts(limit: int = 2000) -> list[str]:
    texts = []
    for path in sorted((ROOT / "data" / "corpus").glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            texts.extend(json.loads(line)["text"] for line in handle if line.strip())
    return texts[:: max(1, len(texts) // limit)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(database_url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "API_KEYS": KEY}
    process = subprocess.Popen([sys.executable, "-m", "service", "serve", "--port", str(port), "--workers", str(workers)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError("the service did not become ready within 60 s")


LUA = """
local bodies = {%s}
local path = "%s"
local unique = %s
local counter = 0
-- thread_id is a global: setup() gives each wrk thread its own (a local here would shadow it, and
-- both threads would send the same idempotency keys)
thread_id = 0
function setup(thread) thread:set("thread_id", math.random(1, 1e9)) end
function init(args) math.randomseed(thread_id) end

-- Paced runs: this thread's requests arrive as a Poisson process of mean gap `gap` ms, the way independent
-- clients arrive. Each call of delay() books the next arrival for the connection that asks; a fixed think
-- time instead keeps the 32 connections in lockstep, and their bursts of 32 measure queueing, not load.
local gap = %s
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } pacing_timespec; int clock_gettime(int, pacing_timespec *); ]]
local clock = ffi.new("pacing_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local booked = nil
function delay()
  if gap == 0 then return 0 end
  local now = now_ms()
  -- behind schedule (every connection was busy): the next arrival counts from now, no backlog is replayed
  booked = math.max(booked or now, now) + -math.log(1 - math.random()) * gap
  return math.floor(booked - now)
end
request = function()
  counter = counter + 1
  local body = bodies[(counter %% #bodies) + 1]
  if unique then body = string.gsub(body, "@KEY@", thread_id .. "-" .. counter) end
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["X-API-Key"] = "%s"}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%f %%f %%f %%d %%d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.requests))
end
"""


def drive(base: str, path: str, bodies: list[dict], concurrency: int, seconds: int, unique: bool = False,
          rate: float | None = None) -> dict:
    """Run wrk (C, two threads) against ``path`` for ``seconds`` and parse its summary.

    Without ``rate`` every connection sends its next request as soon as the last one is answered (closed loop:
    the service's capacity). With ``rate``, requests arrive at random (Poisson) at about ``rate`` per second,
    spread over the ``concurrency`` connections: the latency a client sees at that load. If the service
    falls behind, fewer are sent, and the achieved rate printed shows it.
    """
    threads = 2
    gap = threads * 1000 / rate if rate else 0
    encoded = ", ".join(_lua_string(json.dumps(body, ensure_ascii=False)) for body in bodies)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as script:
        script.write(LUA % (encoded, path, "true" if unique else "false", gap, KEY))
    try:
        output = subprocess.run(["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s", "-s", script.name,
                                 base], capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    requests, duration, p50, p99, errors, _ = line.split()[1:]
    return {"requests": int(requests), "per_second": int(requests) / float(duration), "p50": float(p50),
            "p99": float(p99), "errors": int(errors)}


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def report(name: str, result: dict) -> None:
    print(f"  {name:34s} {result['per_second']:7.0f} req/s   p50 {result['p50']:6.1f} ms   p99 {result['p99']:6.1f} ms"
          f"   {result['requests']} requests, {result['errors']} errors", flush=True)


def run_against(database_url: str, label: str, args, texts: list[str]) -> None:
    process, base = start_service(database_url, args.workers)
    try:
        print(f"{label} ({args.workers} workers, concurrency {args.concurrency}, {args.seconds} s each):", flush=True)
        classify = [{"text": t} for t in texts]
        drive(base, "/v1/classify", classify[:50], args.concurrency, 2)  # warm-up
        if "classify" in args.endpoints:
            report("POST /v1/classify, capacity", drive(base, "/v1/classify", classify, args.concurrency,
                                                        args.seconds))
            report(f"POST /v1/classify at ~{args.rate}/s", drive(base, "/v1/classify", classify, args.concurrency,
                                                                 args.seconds, rate=args.rate))
        if "intake" not in args.endpoints:
            return
        intake = [{"text": t, "channel": "web", "idempotency_key": f"load-{uuid.uuid4().hex[:8]}-@KEY@"} for t in texts]
        report("POST /v1/petitions", drive(base, "/v1/petitions", intake, args.concurrency, args.seconds, unique=True))
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15, help="duration of each run (bounded)")
    parser.add_argument("--rate", type=int, default=500, help="offered classify requests/s for the paced run")
    parser.add_argument("--endpoints", default="classify,intake", help="comma-separated: classify, intake")
    parser.add_argument("--postgres", default=None, help="admin URL of a PostgreSQL server, e.g. "
                                                         "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    texts = corpus_texts()
    with tempfile.TemporaryDirectory() as folder:
        run_against(f"sqlite:///{folder}/load.db", "SQLite", args, texts)
    if args.postgres:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"petitions_load_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run_against(make_url(args.postgres).set(database=name).render_as_string(hide_password=False),
                        "PostgreSQL", args, texts)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
