//! HTTP against another implementation: one server program and one client
//! program, each valid for both aio and CPython with aiohttp, run in every
//! pairing. CPython's server with CPython's client gives the reference; aio's
//! client against CPython's server, and CPython's client against aio's
//! server (and aio against aio), must print the same. Everything listens on
//! 127.0.0.1, port 0. Without aiohttp for `python3` the test says so and
//! checks aio against aio only.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = r#"
import asyncio
import sys
from aiohttp import web

routes = web.RouteTableDef()


@routes.get("/")
async def index(request):
    return web.Response(text="hello from the server")


@routes.get("/users/{name}")
async def user(request):
    return web.json_response({"name": request.match_info["name"], "query": sorted(request.query.items())})


@routes.post("/echo")
async def echo(request):
    data = await request.json()
    return web.json_response({"got": data, "type": request.content_type}, status=201)


@routes.post("/form")
async def form(request):
    data = await request.post()
    return web.Response(text=";".join(f"{k}={data[k]}" for k in sorted(data)))


@routes.get("/stream")
async def stream(request):
    resp = web.StreamResponse(headers={"X-Kind": "stream"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for i in range(20):
        await resp.write(f"piece {i};".encode() * 50)
    await resp.write_eof()
    return resp


@routes.get("/big")
async def big(request):
    return web.Response(body=bytes(range(256)) * 4000, content_type="application/octet-stream")


@routes.get("/old")
async def old(request):
    raise web.HTTPFound("/users/moved?from=old")


@routes.get("/fail")
async def fail(request):
    raise web.HTTPForbidden(text="keep out")


@routes.get("/headers")
async def headers(request):
    return web.Response(text=request.headers.get("X-Token", "-"), headers={"X-Reply": "pong"})


@web.middleware
async def stamp(request, handler):
    resp = await handler(request)
    resp.headers["X-Stamp"] = "yes"
    return resp


async def main():
    app = web.Application(middlewares=[stamp])
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print("port", runner.addresses[0][1], flush=True)
    await asyncio.sleep(120)
    await runner.cleanup()


asyncio.run(main())
"#;

const CLIENT: &str = r#"
import asyncio
import sys
import aiohttp


async def main(port):
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(base) as session:
        async with session.get("/") as resp:
            print(resp.status, resp.reason, resp.content_type, resp.headers["X-Stamp"], await resp.text())
        async with session.get("/users/ada", params={"b": "2", "a": "x y"}) as resp:
            print(resp.status, await resp.json())
        async with session.post("/echo", json={"n": [1, 2.5, None, True], "s": "é"}) as resp:
            print(resp.status, await resp.json())
        async with session.post("/form", data={"x": "1", "y": "a&b"}) as resp:
            print(resp.status, await resp.text())
        async with session.get("/stream") as resp:
            sizes = 0
            async for chunk in resp.content.iter_chunked(1000):
                sizes += len(chunk)
            print(resp.status, resp.headers["X-Kind"], resp.headers.get("Transfer-Encoding"), sizes)
        async with session.get("/big") as resp:
            body = await resp.read()
            print(resp.status, resp.content_length, len(body), sum(body) % 9973)
        async with session.get("/old") as resp:
            print(resp.status, resp.url.path_qs, [h.status for h in resp.history], (await resp.json())["name"])
        async with session.get("/fail") as resp:
            print(resp.status, resp.reason, await resp.text())
            try:
                resp.raise_for_status()
            except aiohttp.ClientResponseError as e:
                print("raised", e.status, e.message)
        async with session.get("/headers", headers={"X-Token": "t0k"}) as resp:
            print(await resp.text(), resp.headers["x-reply"])
        async with session.get("/nowhere") as resp:
            print(resp.status, await resp.text())
        results = await asyncio.gather(*(session.get(f"/users/u{i}") for i in range(20)))
        names = []
        for r in results:
            names.append((await r.json())["name"])
            r.release()
        print(len(names), names[0], names[-1])


asyncio.run(main(int(sys.argv[1])))
"#;

fn tmpdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("aio-http-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn aio() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aio"))
}

fn python() -> Command {
    Command::new("python3")
}

/// Does `python3` have aiohttp?
fn cpython_has_aiohttp() -> bool {
    python().args(["-c", "import aiohttp"]).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// A running server and the port it printed.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(mut cmd: Command, script: &std::path::Path) -> Server {
    let child = cmd.arg(script).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    // Held by the server from here on, so that its drop ends the child on any panic below.
    let mut server = Server { child, port: 0 };
    let mut out = BufReader::new(server.child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut line = String::new();
    while Instant::now() < deadline {
        line.clear();
        assert!(out.read_line(&mut line).unwrap_or(0) > 0, "the server ended before printing its port");
        if let Some(p) = line.trim().strip_prefix("port ") {
            server.port = p.parse().unwrap();
            return server;
        }
    }
    panic!("the server printed no port in time");
}

/// Wait for `child` at most `secs` seconds (else kill it and fail); it must
/// succeed; its stdout.
fn finish(mut child: Child, secs: u64, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{what} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// Run the client against `port`, bounded in time; its stdout.
fn run_client(mut cmd: Command, script: &std::path::Path, port: u16) -> String {
    let child = cmd.arg(script).arg(port.to_string()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    finish(child, 60, "the client")
}

#[test]
fn aio_and_cpython_aiohttp_both_ways() {
    let dir = tmpdir();
    let server = dir.join("server.aio");
    let client = dir.join("client.aio");
    std::fs::write(&server, SERVER).unwrap();
    std::fs::write(&client, CLIENT).unwrap();

    let aio_server = start_server(aio(), &server);
    let aio_aio = run_client(aio(), &client, aio_server.port);
    assert_eq!(aio_aio.lines().count(), 12, "aio against aio printed:\n{aio_aio}");

    if !cpython_has_aiohttp() {
        println!("skipped the CPython pairings: python3 has no aiohttp (pip install aiohttp)");
        std::fs::remove_dir_all(&dir).ok();
        return;
    }
    let py_server = start_server(python(), &server);
    let reference = run_client(python(), &client, py_server.port);
    let aio_client = run_client(aio(), &client, py_server.port);
    assert_eq!(aio_client, reference, "aio's client against CPython's aiohttp server");
    let py_client = run_client(python(), &client, aio_server.port);
    assert_eq!(py_client, reference, "CPython's aiohttp client against aio's server");
    assert_eq!(aio_aio, reference, "aio against aio");
    drop(aio_server);
    drop(py_server);
    std::fs::remove_dir_all(&dir).ok();
}

/// Blocking TLS sockets in worker threads beside the loop that serves
/// them: `wrap_socket.aio` keeps its servers in another process (so that
/// CPython's oracle, whose workers run alone under a virtual clock, can
/// write its expectations); here the same talk happens with the servers on
/// the program's own loop, in real time, and must print the same.
#[test]
fn blocking_tls_in_workers_beside_the_loop() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("http");
    let want = std::fs::read_to_string(dir.join("wrap_socket.out")).unwrap();
    let child = aio()
        .arg("--timeout")
        .arg("60")
        .arg("_helpers/wrap_socket_beside_loop.aio")
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(finish(child, 90, "the program"), want);
}
