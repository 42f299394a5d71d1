#!/usr/bin/env python3
"""The reference behaviour of an .aio program: CPython 3.11 running it.

    scripts/oracle.py [--virtual-time] [--uvloop] FILE.aio [ARGS...]
    scripts/oracle.py --write [DIR_OR_FILE ...]    (re)write the expectations of test cases
    scripts/oracle.py --check [DIR_OR_FILE ...]    report cases whose expectations CPython disagrees with

aio promises that a program prints the same stdout, exits with the same status
and ends with the same exception line as CPython 3.11 does. This script runs
the program on CPython with aio's extensions switched on (docs/language.md,
"Extensions"):

  * top-level `await` (and `async for`, `async with`): the module body then
    runs as the main task, `Task-1`, on a fresh event loop;
  * the prelude: asyncio's core names (`sleep`, `gather`, `TaskGroup`, ...)
    and `DeadlockError` are builtins;
  * `import NAME` finds `NAME.aio` in the script's folder;
  * --virtual-time: the loop clock starts at 0.0 and jumps to the next timer
    when nothing is ready; the `time` module reads that clock
    (`time.time()` is 946684800.0 plus loop time, local time is UTC) and a
    blocking `time.sleep(s)` moves it by `s`; a worker thread (`to_thread`,
    `run_in_executor`) runs alone while the clock stands still, and its
    `time.sleep(s)` parks only that worker for `s` virtual seconds; while a
    socket, pipe or child process is being waited on the clock runs at real
    speed; when every task is blocked and nothing can wake one, the program
    stops with `DeadlockError` after the leftover tasks are cancelled;
  * --uvloop: run on uvloop instead (for benchmarks; needs `pip install uvloop`).

--write runs every case (NAME.aio, in folders not starting with `_` or `.`)
under --virtual-time from the case's own folder and writes NAME.out (the
exact stdout) and, for a non-zero exit, NAME.err: `exit N`, then the
`Type: message` line of the uncaught exception if there was one (only the
type for a SyntaxError, whose wording is each implementation's own).
--check does the same without writing and lists the differences.
Only python3 (3.11) is needed.
"""

import argparse
import ast
import asyncio
import builtins
import concurrent.futures
import heapq
import importlib.abc
import importlib.machinery
import inspect
import itertools
import math
import operator
import os
import selectors
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback
import types
import weakref

PRELUDE = (
    "sleep create_task gather wait wait_for shield as_completed timeout TaskGroup "
    "Queue LifoQueue PriorityQueue QueueEmpty QueueFull Event Lock Semaphore "
    "BoundedSemaphore Condition CancelledError InvalidStateError current_task "
    "all_tasks to_thread FIRST_COMPLETED FIRST_EXCEPTION ALL_COMPLETED"
).split()

# time.time() under --virtual-time: 2000-01-01T00:00:00Z plus the loop clock.
VIRTUAL_EPOCH = 946684800.0
DEADLOCK_MESSAGE = "all tasks are blocked and no timer is pending"
THIS_FILE = os.path.abspath(__file__)
# Real time, for the stretches when I/O is in flight (time.monotonic gets replaced).
_real_monotonic = time.monotonic


class DeadlockError(RuntimeError):
    """Every task waits and nothing (timer, I/O, worker) can wake one."""


# Reported as a builtin, `DeadlockError: ...`, not `__main__.DeadlockError`.
DeadlockError.__module__ = "builtins"


# ---------------------------------------------------------------- the clock


class VirtualClock:
    """Seconds of loop time; moved only by the loop, blocking sleeps and I/O."""

    now = 0.0

    @classmethod
    def resolution(cls):
        # A timer is due when its deadline is earlier than now + 1e-9; far from
        # zero that sum rounds back to `now`, so widen it to one step of the
        # float, or a timer due exactly now would never fire.
        return max(1e-9, math.ulp(cls.now))


def _sleep_seconds(seconds):
    """Validate a time.sleep argument as CPython does; the float it means."""
    if not isinstance(seconds, (int, float)):
        seconds = float(seconds) if hasattr(seconds, "__float__") else operator.index(seconds)
    seconds = float(seconds)
    if math.isnan(seconds):
        raise ValueError("Invalid value NaN (not a number)")
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    return seconds


class Workers:
    """Worker threads under virtual time take turns with the loop.

    A worker runs alone, the loop parked, from its start or wake-up until it
    sleeps or returns. Computing takes no virtual time, so runs repeat exactly,
    and a sleeping worker is a timer like any other.
    """

    turn = threading.Condition()
    running = 0
    local = threading.local()

    @classmethod
    def loop_of_this_thread(cls):
        return getattr(cls.local, "loop", None)

    @classmethod
    def _take_turn(cls):
        with cls.turn:
            cls.running += 1

    @classmethod
    def _give_back(cls):
        with cls.turn:
            cls.running -= 1
            cls.turn.notify_all()

    @classmethod
    def _wait_for_workers(cls):
        with cls.turn:
            cls.turn.wait_for(lambda: cls.running == 0)

    @classmethod
    def start(cls, loop, body):
        """On the loop's thread: run `body` on a new thread until it parks."""

        def thread_main():
            cls.local.loop = loop
            try:
                body()
            finally:
                cls._give_back()

        cls._take_turn()
        threading.Thread(target=thread_main, name="aio-worker", daemon=True).start()
        cls._wait_for_workers()

    @classmethod
    def nap(cls, loop, seconds):
        """On a worker: sleep `seconds` of loop time while the loop goes on."""
        woken = threading.Event()

        def wake_up():  # runs on the loop's thread when the timer is due
            cls._take_turn()
            woken.set()
            cls._wait_for_workers()

        loop.schedule_timer(VirtualClock.now + seconds, wake_up)
        cls._give_back()
        woken.wait()


def install_virtual_time():
    """Point the time module at the virtual clock, with local time in UTC."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    real = types.SimpleNamespace(
        localtime=time.localtime, gmtime=time.gmtime, ctime=time.ctime, asctime=time.asctime,
        strftime=time.strftime,
    )

    def sleep(seconds):
        seconds = _sleep_seconds(seconds)
        loop = Workers.loop_of_this_thread()
        if loop is None:
            # A blocking sleep on the loop's thread stops every task meanwhile.
            VirtualClock.now += seconds
        else:
            Workers.nap(loop, seconds)

    def wall():
        return VIRTUAL_EPOCH + VirtualClock.now

    def loop_time():
        return VirtualClock.now

    def now_or(stamp):
        return wall() if stamp is None else stamp

    time.time = wall
    time.time_ns = lambda: round(wall() * 1e9)
    time.monotonic = time.perf_counter = loop_time
    time.monotonic_ns = time.perf_counter_ns = lambda: round(VirtualClock.now * 1e9)
    time.sleep = sleep
    time.localtime = lambda secs=None: real.localtime(now_or(secs))
    time.gmtime = lambda secs=None: real.gmtime(now_or(secs))
    time.ctime = lambda secs=None: real.ctime(now_or(secs))
    time.asctime = lambda t=None: real.asctime(time.localtime() if t is None else t)
    time.strftime = lambda fmt, t=None: real.strftime(fmt, time.localtime() if t is None else t)


# ------------------------------------------------------------ the event loop


class TimerInOrder(asyncio.TimerHandle):
    """A timer whose ties on the deadline go to the one made first."""

    __slots__ = ("_made",)
    _counter = itertools.count()

    def __init__(self, when, callback, args, loop, context=None):
        super().__init__(when, callback, args, loop, context)
        self._made = next(TimerInOrder._counter)

    def _order(self):
        return (self._when, self._made)

    def __lt__(self, other):
        return self._order() < other._order()

    def __le__(self, other):
        return self._order() <= other._order()

    def __gt__(self, other):
        return self._order() > other._order()

    def __ge__(self, other):
        return self._order() >= other._order()


class JumpingSelector(selectors.DefaultSelector):
    """Where the loop would block, move the virtual clock instead.

    The loop calls `select(timeout)` with timeout 0 when callbacks are ready,
    the time left to the next timer when there is one, and None when there is
    nothing at all to wait for.
    """

    loop = None

    def io_in_flight(self):
        """Could something outside the loop wake a task? A watched socket or
        pipe (the loop's own wake-up pipe aside) or a child being waited for."""
        if len(self.get_map()) > 1:
            return True
        # asyncio's child watcher waits for each child on a thread of its
        # own, named `asyncio-waitpid-N`.
        return any("waitpid-" in t.name and t.is_alive() for t in threading.enumerate())

    def select(self, timeout=None):
        # Look for I/O in flight before polling: a child watcher that posts
        # its wake-up and ends between the two is then still seen by the poll.
        in_flight = self.io_in_flight()
        events = super().select(0)
        if events or timeout == 0:
            return events
        if in_flight:
            # The clock runs at real speed: wait for the I/O, at most until
            # the next timer is due, and count the time that passed.
            started = _real_monotonic()
            events = super().select(timeout)
            VirtualClock.now += _real_monotonic() - started
            return events
        if timeout is None:
            raise DeadlockError(DEADLOCK_MESSAGE)
        VirtualClock.now = max(VirtualClock.now, self.loop.next_deadline())
        return events



class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """The default loop, on the virtual clock, with workers taking turns."""

    made = weakref.WeakSet()

    def __init__(self):
        selector = JumpingSelector()
        super().__init__(selector)
        selector.loop = self
        VirtualTimeLoop.made.add(self)

    # Read on every iteration right after time(); BaseEventLoop.__init__
    # assigns it once, which the setter ignores.
    @property
    def _clock_resolution(self):
        return VirtualClock.resolution()

    @_clock_resolution.setter
    def _clock_resolution(self, value):
        pass

    def time(self):
        return VirtualClock.now

    def next_deadline(self):
        return self._scheduled[0]._when

    def schedule_timer(self, when, callback, *args, context=None):
        """Push a timer without the thread checks (workers call this while
        the loop is parked, so nothing races)."""
        timer = TimerInOrder(when, callback, args, self, context)
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer

    def call_at(self, when, callback, *args, context=None):
        if when is None:
            raise TypeError("when cannot be None")
        self._check_closed()
        if self._debug:
            self._check_thread()
            self._check_callback(callback, "call_at")
        return self.schedule_timer(when, callback, *args, context=context)

    def run_in_executor(self, executor, func, *args):
        self._check_closed()
        if self._debug:
            self._check_callback(func, "run_in_executor")
        if executor is None:
            self._check_default_executor()
        elif isinstance(executor, concurrent.futures.ProcessPoolExecutor):
            return super().run_in_executor(executor, func, *args)
        future = self.create_future()

        def deliver(outcome, failed):
            if future.cancelled():
                return
            if failed:
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

        def work():
            try:
                outcome, failed = func(*args), False
            except BaseException as error:
                outcome, failed = error, True
            # Through the ready queue, as a real executor's result comes.
            self.call_soon_threadsafe(deliver, outcome, failed)

        Workers.start(self, work)
        return future


class VirtualTimePolicy(asyncio.DefaultEventLoopPolicy):
    _loop_factory = VirtualTimeLoop


def cancel_leftovers():
    """After a deadlock outside asyncio.run: cancel what is left, as
    asyncio.run does when it ends, so that `finally` blocks run."""
    for loop in list(VirtualTimeLoop.made):
        if loop.is_closed() or loop.is_running():
            continue
        leftovers = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in leftovers:
            task.cancel()
        if leftovers:
            try:
                loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            except DeadlockError:
                pass


# ------------------------------------------------------------- the program


class SiblingModules(importlib.abc.MetaPathFinder):
    """`import NAME` loads NAME.aio from the script's folder."""

    def __init__(self, folder):
        self.finder = importlib.machinery.FileFinder(folder, (importlib.machinery.SourceFileLoader, [".aio"]))

    def find_spec(self, fullname, path=None, target=None):
        if path is not None:
            return None
        spec = self.finder.find_spec(fullname, target)
        # Only plain NAME.aio files: a bare folder is not a module here.
        if spec is None or spec.loader is None or spec.submodule_search_locations is not None:
            return None
        return spec


def exception_line(error):
    """The `Type: message` line that ends CPython's report of `error`."""
    if isinstance(error, SyntaxError):
        return type(error).__name__
    return traceback.format_exception_only(type(error), error)[0].rstrip("\n").split("\n")[0]


def without_oracle_frames(error):
    """The traceback from the program's first frame on, as `python3 FILE` shows it."""
    tb = error.__traceback__
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) == THIS_FILE:
        tb = tb.tb_next
    return error.with_traceback(tb)


def run_program(path, args, virtual_time, uvloop, exception_file):
    folder = os.path.dirname(os.path.abspath(path))
    sys.argv = [path] + args
    sys.path[0] = folder
    sys.dont_write_bytecode = True
    sys.meta_path.insert(0, SiblingModules(folder))
    for name in PRELUDE:
        setattr(builtins, name, getattr(asyncio, name))
    builtins.DeadlockError = DeadlockError
    if virtual_time:
        install_virtual_time()
        asyncio.set_event_loop_policy(VirtualTimePolicy())
    elif uvloop:
        try:
            import uvloop as uv
        except ImportError:
            sys.exit("oracle.py: --uvloop needs uvloop (pip install uvloop)")
        asyncio.set_event_loop_policy(uv.EventLoopPolicy())

    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
    except OSError as e:
        print(f"oracle.py: can't open file '{path}': [Errno {e.errno}] {e.strerror}", file=sys.stderr)
        sys.exit(2)
    # The program is the __main__ module, as under `python3 FILE`.
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    try:
        code = compile(source, path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
        if code.co_flags & inspect.CO_COROUTINE:
            # Top-level await: the module body is the main task, Task-1.
            asyncio.run(eval(code, main.__dict__))
        else:
            exec(code, main.__dict__)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as error:
        if isinstance(error, DeadlockError):
            cancel_leftovers()
        if exception_file:
            with open(exception_file, "w", encoding="utf-8") as f:
                f.write(exception_line(error) + "\n")
        traceback.print_exception(without_oracle_frames(error))
        sys.exit(1)


# ------------------------------------------------------- test expectations


def collect_cases(paths):
    cases = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
                cases += [os.path.join(root, f) for f in files if f.endswith(".aio")]
        elif p.endswith(".aio"):
            cases.append(p)
        else:
            sys.exit(f"oracle.py: {p} is neither a folder nor an .aio file")
    return sorted(cases)


def expectations_of(case, timeout):
    """What CPython says about `case`: {"out": text, "err": text or None}, or an error string."""
    with tempfile.TemporaryDirectory() as tmp:
        exc_file = os.path.join(tmp, "exception")
        cmd = [sys.executable, THIS_FILE, "--virtual-time", "--exception-file", exc_file, os.path.basename(case)]
        try:
            proc = subprocess.run(cmd, cwd=os.path.dirname(os.path.abspath(case)), capture_output=True,
                                  stdin=subprocess.DEVNULL, timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"{case}: CPython did not finish within {timeout} s"
        line = open(exc_file, encoding="utf-8").read() if os.path.exists(exc_file) else ""
    err = None
    if proc.returncode != 0:
        err = f"exit {proc.returncode}\n" + line
    return {"out": proc.stdout.decode("utf-8", "replace"), "err": err}


def read_or_none(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


def for_each_case(cases, timeout, action):
    with concurrent.futures.ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        results = pool.map(lambda c: (c, expectations_of(c, timeout)), cases)
        return [problem for case, said in results for problem in action(case, said)]


def write_expectations(case, said):
    if isinstance(said, str):
        return [said]
    base = case[:-4]
    with open(base + ".out", "w", encoding="utf-8") as f:
        f.write(said["out"])
    if said["err"] is None:
        if os.path.exists(base + ".err"):
            os.remove(base + ".err")
    else:
        with open(base + ".err", "w", encoding="utf-8") as f:
            f.write(said["err"])
    return []


def check_expectations(case, said):
    if isinstance(said, str):
        return [said]
    base = case[:-4]
    problems = []
    if read_or_none(base + ".out") != said["out"]:
        problems.append(f"{base}.out differs from CPython's stdout")
    if read_or_none(base + ".err") != said["err"]:
        problems.append(f"{base}.err differs: CPython says {said['err']!r}")
    return problems


def main():
    ap = argparse.ArgumentParser(usage="\n" + textwrap.indent(textwrap.dedent(__doc__.split("\n\n")[1]), "  "), description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n\n".join(__doc__.split("\n\n")[2:]))
    ap.add_argument("--virtual-time", action="store_true", help="run on the virtual clock")
    ap.add_argument("--uvloop", action="store_true", help="run on uvloop")
    ap.add_argument("--exception-file", metavar="FILE",
                    help="write the `Type: message` line of an uncaught exception to FILE")
    ap.add_argument("--write", action="store_true", help="(re)write NAME.out/NAME.err of every case given")
    ap.add_argument("--check", action="store_true", help="report cases whose NAME.out/NAME.err CPython disagrees with")
    ap.add_argument("--timeout", type=float, default=30, help="seconds per case for --write/--check (default 30)")
    ap.add_argument("program", nargs="?", help="FILE.aio, or folders and files for --write/--check")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if a.write or a.check:
        paths = ([a.program] if a.program else []) + a.args
        if not paths:
            ap.error("give the folders or cases to --write or --check")
        cases = collect_cases(paths)
        problems = for_each_case(cases, a.timeout, write_expectations if a.write else check_expectations)
        print("\n".join(problems) if problems else
              f"{'wrote' if a.write else 'checked'} the expectations of {len(cases)} cases")
        return 1 if problems else 0
    if not a.program:
        ap.error("give FILE.aio")
    if a.virtual_time and a.uvloop:
        ap.error("--uvloop runs on real time; it does not combine with --virtual-time")
    run_program(a.program, a.args, a.virtual_time, a.uvloop, a.exception_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
