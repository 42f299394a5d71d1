#!/usr/bin/env python3
"""Time the HTTP client alone: aio's against CPython+aiohttp's.

    bench/http/compare_client.py --aio target/release/aio [--runs N] [--server cpython,aio]

For each server side named (`server/serve.aio` run by CPython+aiohttp
through scripts/oracle.py, or by aio), one server is started on 127.0.0.1
and `client_1000.aio PORT` (1,000 GET requests over 50 connections) runs
under each client side in turn, run by run, so that a machine that slows
down slows both alike. The time compared is the one the program measures
around its requests (printed on stderr), not the start-up of either side.
The table gives the median and the best time of each client, and aio's
median over CPython's (below 1.0, aio's client is faster). Every run must
print the same stdout on both sides, else the row says DIFFERS.
Needs python3 with aiohttp installed (`pip install aiohttp`).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "..", "scripts", "oracle.py")
CLIENT = os.path.join(HERE, "client_1000.aio")
SERVER = os.path.join(HERE, "server", "serve.aio")
TIMED = re.compile(r"(\d+) requests in ([0-9.]+)s")


def start_server(cmd):
    """A running server and its port (it prints `port N` first)."""
    proc = subprocess.Popen(cmd, cwd=os.path.dirname(SERVER), stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    line = proc.stdout.readline().decode()
    if not line.startswith("port "):
        proc.kill()
        sys.exit(f"compare_client.py: the server did not start: {line!r}")
    return proc, int(line.split()[1])


def timed_client(cmd):
    """(seconds of the requests, stdout) of one run of a client."""
    proc = subprocess.run(cmd, cwd=HERE, capture_output=True, stdin=subprocess.DEVNULL, timeout=300)
    m = TIMED.search(proc.stderr.decode("utf-8", "replace"))
    if proc.returncode != 0 or not m:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        sys.exit(f"compare_client.py: {cmd[0]} failed: {tail}")
    return float(m.group(2)), proc.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aio", required=True, help="the aio binary to measure")
    ap.add_argument("--runs", type=int, default=7, help="runs of each client per server (default 7)")
    ap.add_argument("--server", default="cpython,aio", help="the servers to run against (default cpython,aio)")
    a = ap.parse_args()
    aio = os.path.abspath(a.aio)
    runners = {"aio": [aio], "cpython": [sys.executable, ORACLE]}
    print(f"{'server':<10}{'aio med s':>11}{'aio best':>10}{'cpy med s':>11}{'cpy best':>10}{'aio/cpy':>9}  check")
    for server in [s for s in a.server.split(",") if s]:
        proc, port = start_server(runners[server] + [SERVER])
        try:
            times = {"aio": [], "cpython": []}
            outs = set()
            for _ in range(a.runs):
                for side in ("aio", "cpython"):
                    seconds, out = timed_client(runners[side] + [CLIENT, str(port)])
                    times[side].append(seconds)
                    outs.add(out)
        finally:
            proc.kill()
            proc.wait()
        med = {s: statistics.median(v) for s, v in times.items()}
        check = "ok" if len(outs) == 1 else "DIFFERS"
        print(f"{server:<10}{med['aio']:>11.3f}{min(times['aio']):>10.3f}{med['cpython']:>11.3f}"
              f"{min(times['cpython']):>10.3f}{med['aio'] / med['cpython']:>9.2f}  {check}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
