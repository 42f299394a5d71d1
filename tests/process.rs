//! Child processes and signals from outside: hundreds of short children
//! must leave no descriptor and no zombie behind; SIGTERM to a server with
//! a handler shuts it down cleanly; SIGINT without a handler is
//! `KeyboardInterrupt` (ending by SIGINT), with one it is the handler's; SIGTERM
//! without one ends the process as the system's default does. Every wait
//! is bounded in time.

mod common;
use common::{finish, line_starting, open_fds};

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

fn script(tag: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("aio-process-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{tag}.aio"));
    std::fs::write(&p, text).unwrap();
    p
}

/// The processes whose parent is `pid`, zombies included.
fn children(pid: u32) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0 };
    dir.flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            // pid (comm) state ppid ...: the command may hold spaces, so split after the last ')'.
            let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
            rest.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid)
        })
        .count()
}

fn send(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) on a child this test started.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, sig) }, 0);
}

#[test]
fn short_processes_leave_no_descriptor_or_zombie_behind() {
    let prog = script(
        "leaks",
        r#"
import asyncio
from asyncio.subprocess import PIPE

async def one(i):
    proc = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE, stderr=PIPE)
    out, err = await proc.communicate(b"%d" % i)
    assert out == b"%d" % i and err == b"" and proc.returncode == 0
    shell = await asyncio.create_subprocess_shell("exit 3")
    assert await shell.wait() == 3

async def rounds(n):
    for r in range(n // 20):
        await asyncio.gather(*(one(r * 20 + i) for i in range(20)))

await rounds(40)
print("warm", flush=True)
input()
await rounds(400)
print("done", flush=True)
input()
"#,
    );
    let mut aio = Command::new(env!("CARGO_BIN_EXE_aio")).arg(&prog).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let pid = aio.id();
    let mut out = BufReader::new(aio.stdout.take().unwrap());
    let mut stdin = aio.stdin.take().unwrap();
    line_starting(&mut out, "warm");
    let (fds_before, kids_before) = (open_fds(pid), children(pid));
    writeln!(stdin).unwrap();
    line_starting(&mut out, "done");
    let (fds_after, kids_after) = (open_fds(pid), children(pid));
    writeln!(stdin).unwrap();
    drop(stdin);
    assert!(finish(aio, "the process loop").success());
    assert!(fds_before > 3, "counted {fds_before} descriptors");
    assert!(fds_after <= fds_before + 2, "descriptors grew from {fds_before} to {fds_after} over 800 processes");
    assert_eq!(kids_before, 0, "children left after the warm-up");
    assert_eq!(kids_after, 0, "children (zombies) left after 800 processes");
}

#[test]
fn sigterm_shuts_a_server_down_cleanly() {
    let prog = script(
        "sigterm",
        r#"
import asyncio
import signal

async def handle(reader, writer):
    writer.write(await reader.readline())
    await writer.drain()
    writer.close()

stop = asyncio.Event()
loop = asyncio.get_running_loop()
loop.add_signal_handler(signal.SIGTERM, stop.set)
server = await asyncio.start_server(handle, "127.0.0.1", 0)
print("port", server.sockets[0].getsockname()[1], flush=True)
async with server:
    await stop.wait()
    print("shutting down", flush=True)
await server.wait_closed()
print("clean exit", flush=True)
"#,
    );
    let mut aio = Command::new(env!("CARGO_BIN_EXE_aio")).arg(&prog).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(aio.stdout.take().unwrap());
    let port: u16 = line_starting(&mut out, "port ")[5..].parse().unwrap();
    // The server answers before the signal.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"ping\n").unwrap();
    let mut reply = String::new();
    BufReader::new(&s).read_line(&mut reply).unwrap();
    assert_eq!(reply, "ping\n");
    send(aio.id(), libc::SIGTERM);
    assert_eq!(line_starting(&mut out, "shutting"), "shutting down");
    assert_eq!(line_starting(&mut out, "clean"), "clean exit");
    let status = finish(aio, "the server");
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn sigint_without_a_handler_is_keyboard_interrupt() {
    let prog = script(
        "sigint",
        r#"
import asyncio
print("waiting", flush=True)
await asyncio.sleep(30)
print("not reached")
"#,
    );
    for flags in [&[][..], &["--virtual-time"][..]] {
        let mut aio =
            Command::new(env!("CARGO_BIN_EXE_aio")).args(flags).arg(&prog).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut out = BufReader::new(aio.stdout.take().unwrap());
        line_starting(&mut out, "waiting");
        // Under a virtual clock the program is done at once; it only has to start.
        if flags.is_empty() {
            send(aio.id(), libc::SIGINT);
        }
        let mut err = String::new();
        let mut stderr = aio.stderr.take().unwrap();
        let status = finish(aio, "the sleeper");
        std::io::Read::read_to_string(&mut stderr, &mut err).unwrap();
        if flags.is_empty() {
            // As CPython's: the report, then death by SIGINT (130 in a shell).
            assert_eq!(status.signal(), Some(libc::SIGINT), "stderr: {err}");
            assert!(err.contains("KeyboardInterrupt"), "stderr: {err}");
        } else {
            assert!(status.success());
        }
    }
}

#[test]
fn sigint_with_a_loop_handler_is_the_handlers() {
    let prog = script(
        "sigint_handler",
        r#"
import asyncio
import signal

got = asyncio.Event()
asyncio.get_running_loop().add_signal_handler(signal.SIGINT, got.set)
print("waiting", flush=True)
await asyncio.wait_for(got.wait(), 30)
print("handled Ctrl-C", flush=True)
"#,
    );
    let mut aio = Command::new(env!("CARGO_BIN_EXE_aio")).arg(&prog).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(aio.stdout.take().unwrap());
    line_starting(&mut out, "waiting");
    send(aio.id(), libc::SIGINT);
    assert_eq!(line_starting(&mut out, "handled"), "handled Ctrl-C");
    assert!(finish(aio, "the program").success());
}

#[test]
fn signal_handlers_run_between_instructions() {
    let prog = script(
        "python_handler",
        r#"
import signal
import time

seen = []
signal.signal(signal.SIGUSR1, lambda signum, frame: seen.append(signum))
print("ready", flush=True)
deadline = time.monotonic() + 30
n = 0
while not seen and time.monotonic() < deadline:
    n += 1
print("seen", seen == [signal.SIGUSR1], flush=True)
"#,
    );
    let mut aio = Command::new(env!("CARGO_BIN_EXE_aio")).arg(&prog).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(aio.stdout.take().unwrap());
    line_starting(&mut out, "ready");
    send(aio.id(), libc::SIGUSR1);
    assert_eq!(line_starting(&mut out, "seen"), "seen True");
    assert!(finish(aio, "the busy loop").success());
}

#[test]
fn sigterm_without_a_handler_ends_the_process() {
    let prog = script(
        "sigterm_default",
        r#"
import asyncio
import signal

loop = asyncio.get_running_loop()
loop.add_signal_handler(signal.SIGTERM, print, "never")
loop.remove_signal_handler(signal.SIGTERM)
print("waiting", flush=True)
await asyncio.sleep(30)
"#,
    );
    let mut aio = Command::new(env!("CARGO_BIN_EXE_aio")).arg(&prog).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(aio.stdout.take().unwrap());
    line_starting(&mut out, "waiting");
    send(aio.id(), libc::SIGTERM);
    let status = finish(aio, "the sleeper");
    assert_eq!(status.signal(), Some(libc::SIGTERM), "exit status {status:?}");
}
