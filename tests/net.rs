//! Sockets against a real peer: an aio server driven by CPython clients,
//! aio clients of a CPython server, so the bytes on the wire are checked by
//! another implementation; and 10,000 connections that must leave no
//! descriptor behind. Everything listens on 127.0.0.1, port 0.

mod common;
use common::{finish, line_starting, open_fds};

use std::io::{BufReader, Write};
use std::process::{Child, Command, Stdio};

fn aio_script(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn tmpdir(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("aio-net-{tag}-{}", std::process::id()))
}

#[test]
fn aio_server_cpython_clients() {
    let dir = tmpdir("server");
    let server = aio_script(
        &dir,
        "server.aio",
        r#"
import asyncio

served = 0
done = asyncio.Event()

async def handle(reader, writer):
    global served
    peer = writer.get_extra_info("peername")
    async for line in reader:
        writer.write(b"echo: " + line.upper())
        await writer.drain()
    writer.write(b"bye\n")
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    served += 1
    if served == 3:
        done.set()

server = await asyncio.start_server(handle, "127.0.0.1", 0)
print("port", server.sockets[0].getsockname()[1])
await done.wait()
server.close()
await server.wait_closed()
print("served", served)
"#,
    );
    let mut aio = Command::new(env!("CARGO_BIN_EXE_aio")).arg(&server).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(aio.stdout.take().unwrap());
    let port: u16 = line_starting(&mut out, "port ")[5..].parse().unwrap();
    let client = r#"
import socket, sys
port = int(sys.argv[1])
with socket.create_connection(("127.0.0.1", port)) as s:
    f = s.makefile("rwb")
    for word in [b"hello", b"wire", b"x" * 60000]:
        f.write(word + b"\n"); f.flush()
        got = f.readline()
        assert got == b"echo: " + word.upper() + b"\n", got[:40]
    s.shutdown(socket.SHUT_WR)
    assert f.readline() == b"bye\n"
    assert f.read() == b""
print("client ok")
"#;
    let clients: Vec<Child> = (0..3)
        .map(|_| {
            Command::new("python3").args(["-c", client, &port.to_string()]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for c in clients {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "a CPython client failed: {}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8_lossy(&o.stdout), "client ok\n");
    }
    assert_eq!(line_starting(&mut out, "served"), "served 3");
    assert!(finish(aio, "the aio server").success());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn aio_clients_cpython_server() {
    let server = r#"
import asyncio
async def handle(reader, writer):
    n = int((await reader.readline()).decode())
    data = await reader.readexactly(n)
    writer.write(b"%d %s\n" % (len(data), data[:5]))
    await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print("port", server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(20)
asyncio.run(main())
"#;
    let mut py = Command::new("python3").args(["-c", server]).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(py.stdout.take().unwrap());
    let port = line_starting(&mut out, "port ")[5..].to_string();
    let dir = tmpdir("client");
    let client = aio_script(
        &dir,
        "client.aio",
        r#"
import asyncio, sys
port = int(sys.argv[1])

async def one(size):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"%d\n" % size)
    writer.write(b"ab" * (size // 2))
    await writer.drain()
    reply = await reader.readline()
    tail = await reader.read()
    writer.close()
    await writer.wait_closed()
    return reply, tail

for r in await asyncio.gather(one(10), one(300000), one(2)):
    print(r)
"#,
    );
    for flags in [&[][..], &["--virtual-time"][..]] {
        let o = Command::new(env!("CARGO_BIN_EXE_aio")).args(flags).arg(&client).arg(&port).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8_lossy(&o.stdout), "(b'10 ababa\\n', b'')\n(b'300000 ababa\\n', b'')\n(b'2 ab\\n', b'')\n");
    }
    let _ = py.kill();
    let _ = py.wait();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn ten_thousand_connections_leave_no_descriptor_behind() {
    let dir = tmpdir("fds");
    let prog = aio_script(
        &dir,
        "fds.aio",
        r#"
import asyncio

async def handle(reader, writer):
    writer.write(await reader.read(100))
    await writer.drain()
    writer.close()
    await writer.wait_closed()

async def connect(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"x")
    assert await reader.read() == b"x"
    writer.close()
    await writer.wait_closed()

async def rounds(port, n):
    for _ in range(n // 50):
        await asyncio.gather(*(connect(port) for _ in range(50)))

server = await asyncio.start_server(handle, "127.0.0.1", 0)
port = server.sockets[0].getsockname()[1]
await rounds(port, 100)
print("warm", flush=True)
input()
await rounds(port, 10000)
print("done", flush=True)
input()
server.close()
await server.wait_closed()
"#,
    );
    let mut aio = Command::new(env!("CARGO_BIN_EXE_aio")).arg(&prog).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let pid = aio.id();
    let mut out = BufReader::new(aio.stdout.take().unwrap());
    let mut stdin = aio.stdin.take().unwrap();
    line_starting(&mut out, "warm");
    let before = open_fds(pid);
    writeln!(stdin).unwrap();
    line_starting(&mut out, "done");
    let after = open_fds(pid);
    writeln!(stdin).unwrap();
    drop(stdin);
    assert!(finish(aio, "the connection loop").success());
    assert!(before > 3, "counted {before} descriptors");
    assert!(after <= before + 2, "descriptors grew from {before} to {after} over 10,000 connections");
    std::fs::remove_dir_all(&dir).ok();
}
