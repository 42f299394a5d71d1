//! Nothing that is finished stays behind: a million tasks coming and going
//! (gathered in batches, awaited one at a time, with timers) keep memory as
//! flat as a hundred thousand do. Each program runs twice, with 100,000
//! and with 1,000,000 tasks, in a process of its own; the peak resident
//! size of the larger run must stay within 1.2 times the smaller's. Ten
//! thousand connections to a server on 127.0.0.1 leave no descriptor open
//! and memory as flat as a thousand do.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one run may take before the test gives up on it.
const LIMIT: Duration = Duration::from_secs(60);

fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aio-leaks-{}-{what}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Run `program` with `args` (in virtual time) and answer its peak
/// resident size in KiB, as the kernel counted it (`wait4`'s `ru_maxrss`),
/// and what it printed. The run must end well within `LIMIT`.
fn run_measured(name: &str, program: &str, args: &[&str]) -> (u64, String) {
    let dir = temp_dir(name);
    let file = dir.join(format!("{name}.aio"));
    std::fs::write(&file, program).expect("write program");
    let out_path = dir.join("stdout");
    let err_path = dir.join("stderr");
    // Reaped below by wait4, which also gives its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_aio"))
        .arg("--virtual-time")
        .arg(&file)
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("run aio");
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: wait4 on the child this test started, with pointers to
        // locals that outlive the call.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert_eq!(r, 0, "wait4 failed");
        if start.elapsed() > LIMIT {
            // SAFETY: kill(2) and wait4 on the child this test started.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::wait4(pid, &mut status, 0, std::ptr::null_mut());
            }
            panic!("{name} {args:?} did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "{name} {args:?} failed ({status}):\n{stderr}");
    // Linux counts ru_maxrss in KiB.
    (usage.ru_maxrss as u64, stdout)
}

/// Run `program` with 100,000 and 1,000,000 tasks (its first argument)
/// and hold the peaks within 1.2 times each other; the program prints how
/// many tasks finished.
fn flat(name: &str, program: &str) {
    let (small, out_small) = run_measured(name, program, &["100000"]);
    let (large, out_large) = run_measured(name, program, &["1000000"]);
    assert_eq!(out_small.trim(), "100000", "{name}: the small run");
    assert_eq!(out_large.trim(), "1000000", "{name}: the large run");
    eprintln!("{name}: peak {small} KiB at 100,000 tasks, {large} KiB at 1,000,000");
    assert!(
        large as f64 <= 1.2 * small as f64,
        "{name}: a million tasks peaked at {large} KiB, a hundred thousand at {small} KiB: finished tasks are kept"
    );
}

#[test]
fn tasks_gathered_in_batches() {
    flat(
        "gathered",
        r#"
import asyncio, sys
N = int(sys.argv[1])
done = 0
async def work():
    global done
    done += 1
    return done
async def main():
    for _ in range(N // 10_000):
        await asyncio.gather(*(work() for _ in range(10_000)))
    print(done)
asyncio.run(main())
"#,
    );
}

#[test]
fn tasks_awaited_one_at_a_time() {
    flat(
        "one_at_a_time",
        r#"
import asyncio, sys
N = int(sys.argv[1])
async def work(i):
    return i
async def main():
    done = 0
    for i in range(N):
        t = asyncio.create_task(work(i), name=f"w{i}")
        done += await t == i
    print(done)
asyncio.run(main())
"#,
    );
}

// A sleeper holds the earliest deadline all along, so cancelled timers
// behind it are not dropped at the top of the heap; tasks set context
// variables, and some are cancelled before they ever run.
#[test]
fn tasks_with_timers_and_contexts() {
    flat(
        "timers",
        r#"
import asyncio, sys, contextvars
N = int(sys.argv[1])
var = contextvars.ContextVar("var")
done = 0
async def work(i):
    global done
    var.set(i)
    await asyncio.sleep(0)
    done += 1
async def cancelled_early(i):
    raise AssertionError("a task cancelled before it started ran")
async def main():
    global done
    var.set(-1)
    sleeper = asyncio.create_task(asyncio.sleep(3600))
    loop = asyncio.get_running_loop()
    for b in range(N // 1000):
        batch = []
        for i in range(1000):
            if i % 10 == 0:
                batch.append(asyncio.wait_for(work(i), 100 + b + i))
            elif i % 100 == 1:
                t = asyncio.create_task(cancelled_early(i))
                t.cancel()
                batch.append(t)
            else:
                batch.append(work(i))
        results = await asyncio.gather(*batch, return_exceptions=True)
        done += sum(isinstance(r, asyncio.CancelledError) for r in results)
        loop.call_later(50 + b, print).cancel()
    sleeper.cancel()
    print(done)
asyncio.run(main())
"#,
    );
}

// A server on 127.0.0.1 (port 0) and a client that opens, uses and closes
// the connections, eight at a time; the program counts its own open
// descriptors before and after.
#[test]
fn connections_leave_no_descriptors() {
    let program = r#"
import asyncio, os, sys
N = int(sys.argv[1])
async def handle(reader, writer):
    data = await reader.readline()
    writer.write(data.upper())
    await writer.drain()
    writer.close()
    await writer.wait_closed()
async def client(port, i, sem):
    async with sem:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping %d\n" % i)
        await writer.drain()
        line = await reader.readline()
        writer.close()
        await writer.wait_closed()
        return line == b"PING %d\n" % i
def open_fds():
    return len(os.listdir("/proc/self/fd"))
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sem = asyncio.Semaphore(8)
    before = open_fds()
    ok = 0
    for batch in range(N // 500):
        results = await asyncio.gather(*(client(port, batch * 500 + i, sem) for i in range(500)))
        ok += sum(results)
    await asyncio.sleep(0)
    after = open_fds()
    server.close()
    await server.wait_closed()
    print(ok, before, after)
asyncio.run(main())
"#;
    let counts = |out: &str| -> Vec<u64> { out.split_whitespace().filter_map(|w| w.parse().ok()).collect() };
    let (small, out_small) = run_measured("connections", program, &["1000"]);
    let (large, out_large) = run_measured("connections", program, &["10000"]);
    let (s, l) = (counts(&out_small), counts(&out_large));
    assert_eq!(s.len(), 3, "the small run printed {out_small:?}");
    assert_eq!(l.len(), 3, "the large run printed {out_large:?}");
    assert_eq!((s[0], l[0]), (1000, 10000), "every connection answered");
    eprintln!("connections: descriptors {} -> {} over 10,000; peak {small} KiB at 1,000, {large} KiB at 10,000", l[1], l[2]);
    assert!(l[2] <= l[1] + 2, "10,000 connections left {} descriptors open", l[2] - l[1]);
    assert!(large as f64 <= 1.2 * small as f64, "10,000 connections peaked at {large} KiB, 1,000 at {small} KiB");
}
