#!/usr/bin/env python3
"""Time aio against CPython 3.11 (and uvloop) on the same .aio programs.

    bench/compare.py --aio target/release/aio [FOLDER_OR_FILE ...] [--runs N] [--only NAME,...]

Every NAME.aio given (by default the programs beside this script) runs
unchanged on each side: aio, CPython through scripts/oracle.py, and uvloop
through `scripts/oracle.py --uvloop` when `import uvloop` works. The sides
take turns run by run, so a machine that slows down slows all of them alike.
The table gives the median wall time of each side, aio's time over
CPython's and over uvloop's (below 1.0, aio is faster), the peak resident
memory of one more run of aio and of CPython (through GNU time when
/usr/bin/time is there, else from /proc), and a check: `ok` when every
run of both sides printed the same stdout and exit status, `DIFFERS` when
they disagree, `AIO FAILS` when aio exits non-zero where CPython does not
(the last line of aio's stderr follows). The geometric mean of aio/CPython
over the `ok` rows ends the table. Only python3 is needed.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "scripts", "oracle.py")
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def programs(paths, only):
    """The .aio programs named or found in the folders given, filtered by --only."""
    found = []
    for p in paths:
        if os.path.isdir(p):
            found += [os.path.join(p, f) for f in os.listdir(p) if f.endswith(".aio")]
        else:
            found.append(p)
    wanted = [w for w in only.split(",") if w]
    return sorted(os.path.abspath(f) for f in found
                  if not wanted or any(w in os.path.basename(f) for w in wanted))


def timed_run(cmd):
    """(seconds, exit status, stdout, last line of stderr) of one run."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=os.path.dirname(cmd[-1]), capture_output=True, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    return seconds, proc.returncode, proc.stdout, err[-1] if err else ""


def peak_mb(cmd):
    """Peak resident memory of one run of `cmd`, in MB (see below)."""
    # The kernel's account of a child (wait4's ru_maxrss) starts from the
    # memory of the process that forked it, this one, so small programs
    # would all seem to take as much as this script. GNU time forks from a
    # small process; without it, watch the child's own high-water mark.
    cwd = os.path.dirname(cmd[-1])
    if GNU_TIME:
        with tempfile.NamedTemporaryFile("r", suffix=".kb") as f:
            subprocess.run([GNU_TIME, "-f", "%M", "-o", f.name] + cmd, cwd=cwd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            kb = [int(line) for line in f.read().split() if line.isdigit()]
            return kb[-1] / 1024 if kb else float("nan")
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    peak_kb = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.002)
    return peak_kb / 1024 if peak_kb else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aio", required=True, help="the aio binary to measure")
    ap.add_argument("paths", nargs="*", default=[HERE], help="folders of .aio programs, or programs")
    ap.add_argument("--runs", type=int, default=5, help="runs of each side per program (default 5)")
    ap.add_argument("--only", default="", help="comma-separated parts of program names")
    ap.add_argument("--no-uvloop", action="store_true", help="leave uvloop out even when installed")
    a = ap.parse_args()

    aio = os.path.abspath(a.aio)
    sides = {"aio": lambda prog: [aio, prog], "cpython": lambda prog: [sys.executable, ORACLE, prog]}
    if not a.no_uvloop:
        try:
            import uvloop  # noqa: F401
            sides["uvloop"] = lambda prog: [sys.executable, ORACLE, "--uvloop", prog]
        except ImportError:
            print("note: uvloop is not installed (pip install uvloop); its columns are left out")
    progs = programs(a.paths, a.only)
    if not progs:
        sys.exit("compare.py: no .aio programs to run")

    uv = "uvloop" in sides
    print(f"{'benchmark':<20}" + "".join(f"{s + ' s':>11}" for s in sides)
          + f"{'aio/cpy':>9}" + (f"{'aio/uvl':>9}" if uv else "") + f"{'aio MB':>9}{'cpy MB':>9}  check", flush=True)
    ok_ratios = []
    for prog in progs:
        times = {s: [] for s in sides}
        seen = {s: set() for s in sides}
        last_err = ""
        for _ in range(a.runs):
            for side, cmd in sides.items():
                seconds, status, out, err = timed_run(cmd(prog))
                times[side].append(seconds)
                seen[side].add((status, out))
                if side == "aio" and status != 0:
                    last_err = err
        median = {s: statistics.median(v) for s, v in times.items()}
        ratio = median["aio"] / median["cpython"]
        if len(seen["aio"]) == 1 and seen["aio"] == seen["cpython"]:
            check = "ok"
            ok_ratios.append(ratio)
        elif any(st != 0 for st, _ in seen["aio"]) and all(st == 0 for st, _ in seen["cpython"]):
            check = f"AIO FAILS: {last_err[:80]}"
        else:
            check = "DIFFERS"
        row = f"{os.path.basename(prog)[:-4]:<20}" + "".join(f"{median[s]:>11.3f}" for s in sides)
        row += f"{ratio:>9.2f}" + (f"{median['aio'] / median['uvloop']:>9.2f}" if uv else "")
        row += f"{peak_mb(sides['aio'](prog)):>9.1f}{peak_mb(sides['cpython'](prog)):>9.1f}  {check}"
        print(row, flush=True)
    if ok_ratios:
        print(f"geometric mean aio/cpython over {len(ok_ratios)} ok rows: {statistics.geometric_mean(ok_ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
