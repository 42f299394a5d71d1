//! `--sandbox`: what a program may touch outside the interpreter, in the
//! spirit of Deno's permissions. Under the sandbox every file, the network,
//! child processes, signals to other processes and the environment are
//! refused with `PermissionError`, whose message names the flag that would
//! allow the access; each `--allow-*` flag grants exactly what it names
//! (and turns the sandbox on):
//!
//! - `--allow-read[=PATH,...]`: reading files and listing directories
//!   under PATH (everywhere without a value);
//! - `--allow-write[=PATH,...]`: creating, writing, renaming and removing
//!   under PATH;
//! - `--allow-net[=HOST[:PORT],...]`: connecting to and listening on HOST
//!   (on PORT only, when given), and looking HOST up;
//! - `--allow-run`: starting child processes and signalling other
//!   processes;
//! - `--allow-env`: reading and changing the environment.
//!
//! The I/O entry points of the standard library (`open`, `_os`, `socket`,
//! the subprocess spawner) ask here before they act; imports of modules
//! are not file accesses of the program and are not asked about. Paths are
//! compared once resolved (symbolic links and `..` followed), so a link
//! inside an allowed folder does not lead out of it.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use aio_interp::exceptions::err;
use aio_interp::object::{PyErr, PyResult};
use aio_interp::types::types;

/// One `--allow-net` entry: the host as written, its addresses, and the
/// port (`None`: any).
#[derive(Debug, Clone)]
struct NetGrant {
    host: String,
    addrs: Vec<IpAddr>,
    port: Option<u16>,
}

/// What the sandbox allows; `None` in a list means "all of it".
#[derive(Debug)]
pub struct Sandbox {
    read: Option<Vec<PathBuf>>,
    write: Option<Vec<PathBuf>>,
    net: Option<Vec<NetGrant>>,
    run: bool,
    env: bool,
}

impl Default for Sandbox {
    fn default() -> Sandbox {
        Sandbox::new()
    }
}

impl Sandbox {
    /// A sandbox that allows nothing.
    pub fn new() -> Sandbox {
        Sandbox { read: Some(Vec::new()), write: Some(Vec::new()), net: Some(Vec::new()), run: false, env: false }
    }

    /// Grant what the command-line flag `flag` (`--allow-read=/data`, ...)
    /// names; a usage error when it is not such a flag or its value is bad.
    pub fn allow(&mut self, flag: &str) -> Result<(), String> {
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (flag, None),
        };
        let items = || value.map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>());
        match name {
            "--allow-read" | "--allow-write" => {
                let list = match items() {
                    None => None,
                    Some(v) if v.is_empty() => return Err(format!("{name}= needs a path: {name}=DIR")),
                    Some(v) => {
                        let mut paths = Vec::new();
                        for p in v {
                            let full = std::fs::canonicalize(p).map_err(|e| format!("{name}={p}: {e}"))?;
                            paths.push(full);
                        }
                        Some(paths)
                    }
                };
                let slot = if name == "--allow-read" { &mut self.read } else { &mut self.write };
                extend(slot, list);
            }
            "--allow-net" => {
                let list = match items() {
                    None => None,
                    Some(v) if v.is_empty() => return Err("--allow-net= needs a host: --allow-net=HOST:PORT".into()),
                    Some(v) => Some(v.into_iter().map(net_grant).collect::<Result<Vec<_>, _>>()?),
                };
                extend(&mut self.net, list);
            }
            "--allow-run" if value.is_none() => self.run = true,
            "--allow-env" if value.is_none() => self.env = true,
            "--allow-run" | "--allow-env" => return Err(format!("{name} takes no value")),
            _ => return Err(format!("unknown option {flag}")),
        }
        Ok(())
    }
}

/// Add `more` to a grant list (`None`: everything).
fn extend<T>(slot: &mut Option<Vec<T>>, more: Option<Vec<T>>) {
    match (slot.as_mut(), more) {
        (Some(list), Some(more)) => list.extend(more),
        (_, None) => *slot = None,
        (None, Some(_)) => {}
    }
}

/// Parse `HOST`, `HOST:PORT` or `[V6]:PORT`.
fn net_grant(text: &str) -> Result<NetGrant, String> {
    let bad = || format!("--allow-net={text}: expected HOST or HOST:PORT");
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad())?),
            None if after.is_empty() => None,
            None => return Err(bad()),
        };
        (h.to_string(), port)
    } else if text.matches(':').count() > 1 {
        (text.to_string(), None)
    } else if let Some((h, p)) = text.rsplit_once(':') {
        (h.to_string(), Some(p.parse::<u16>().map_err(|_| bad())?))
    } else {
        (text.to_string(), None)
    };
    if host.is_empty() {
        return Err(bad());
    }
    let addrs = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => (host.as_str(), 0).to_socket_addrs().map(|a| a.map(|s| s.ip()).collect()).unwrap_or_default(),
    };
    Ok(NetGrant { host: host.to_ascii_lowercase(), addrs, port })
}

static SANDBOX: OnceLock<Sandbox> = OnceLock::new();

/// Run under `sandbox` from now on (once, before the program starts).
pub fn install(sandbox: Sandbox) {
    let _ = SANDBOX.set(sandbox);
}

/// Is a sandbox in force?
pub fn active() -> bool {
    SANDBOX.get().is_some()
}

fn denied(what: String, flag: String) -> PyErr {
    err(&types().exc.permission_error, format!("{what} is not allowed by --sandbox: {flag} would allow it"))
}

/// `path` made absolute and resolved: symbolic links and `..` followed as
/// far as the path exists, the rest taken as written.
fn resolve(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(path) };
    // The path's parts, for walking back from its end to a part that exists.
    let parts: Vec<Component> = abs.components().collect();
    for keep in (1..=parts.len()).rev() {
        let head: PathBuf = parts[..keep].iter().collect();
        let Ok(mut out) = std::fs::canonicalize(&head) else { continue };
        for c in &parts[keep..] {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(n) => out.push(n),
                _ => {}
            }
        }
        return out;
    }
    abs
}

/// The folder to name in a suggestion for `resolved`: itself when it is a
/// directory, else the one that holds it.
fn folder_of(resolved: &Path) -> String {
    let dir = if resolved.is_dir() { resolved } else { resolved.parent().unwrap_or(resolved) };
    dir.display().to_string()
}

/// May the program read (`write`: false) or write `path`?
pub fn check_path(path: &str, read: bool, write: bool) -> PyResult<()> {
    let Some(sb) = SANDBOX.get() else { return Ok(()) };
    let resolved = resolve(Path::new(path));
    let allowed = |grant: &Option<Vec<PathBuf>>| grant.as_ref().is_none_or(|dirs| dirs.iter().any(|d| resolved.starts_with(d)));
    if read && !allowed(&sb.read) {
        return Err(denied(format!("reading '{path}'"), format!("--allow-read={}", folder_of(&resolved))));
    }
    if write && !allowed(&sb.write) {
        return Err(denied(format!("writing '{path}'"), format!("--allow-write={}", folder_of(&resolved))));
    }
    Ok(())
}

/// May the program connect to (`listen`: bind to) `addr`?
pub fn check_addr(addr: &SocketAddr, listen: bool) -> PyResult<()> {
    let Some(sb) = SANDBOX.get() else { return Ok(()) };
    let Some(grants) = &sb.net else { return Ok(()) };
    let ip = addr.ip();
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    let ok = grants.iter().any(|g| g.addrs.contains(&ip) && g.port.is_none_or(|p| p == addr.port()));
    if ok {
        return Ok(());
    }
    let what = if listen { format!("listening on {addr}") } else { format!("connecting to {addr}") };
    Err(denied(what, format!("--allow-net={addr}")))
}

/// May the program look `host` up (DNS)? Addresses written as numbers
/// need no lookup.
pub fn check_lookup(host: &str) -> PyResult<()> {
    let Some(sb) = SANDBOX.get() else { return Ok(()) };
    let Some(grants) = &sb.net else { return Ok(()) };
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.is_empty() || h.parse::<IpAddr>().is_ok() || grants.iter().any(|g| g.host.eq_ignore_ascii_case(h)) {
        return Ok(());
    }
    Err(denied(format!("looking up '{host}'"), format!("--allow-net={host}")))
}

/// May the program start `program` as a child process?
pub fn check_run(program: &str) -> PyResult<()> {
    match SANDBOX.get() {
        Some(sb) if !sb.run => Err(denied(format!("running '{program}'"), "--allow-run".into())),
        _ => Ok(()),
    }
}

/// May the program send signal `sig` to process `pid` (not its own)?
pub fn check_signal(pid: i64, sig: i64) -> PyResult<()> {
    match SANDBOX.get() {
        Some(sb) if !sb.run => Err(denied(format!("sending signal {sig} to process {pid}"), "--allow-run".into())),
        _ => Ok(()),
    }
}

/// May the program read (`change`: false) or change the environment?
pub fn check_env(change: bool) -> PyResult<()> {
    match SANDBOX.get() {
        Some(sb) if !sb.env => {
            let what = if change { "changing the environment" } else { "reading the environment" };
            Err(denied(what.into(), "--allow-env".into()))
        }
        _ => Ok(()),
    }
}
