//! `_http`: the parts of HTTP/1.1 that aiohttp (written in .aio) leaves to
//! native code because every request goes through them: parsing a
//! message head (status or request line and headers) into what the framing
//! needs, the reason phrases, the `Date` header, and gzip/deflate bodies
//! decoded as they arrive (flate2).

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{method, native_fn, new_class, type_name, types};
use aio_interp::{Value, Vm};

fn bytes_arg<'a>(args: &'a Args, i: usize, what: &str) -> PyResult<&'a [u8]> {
    match args.pos.get(i) {
        Some(Value::Bytes(b)) => Ok(&b.b),
        Some(other) => Err(type_error(format!("{what}() argument must be bytes, not '{}'", type_name(other)))),
        None => Err(type_error(format!("{what}() missing a bytes argument"))),
    }
}

/// What the framing of a message needs from its headers.
#[derive(Default)]
struct Framing {
    length: Option<i64>,
    chunked: bool,
    close: Option<bool>,
    encoding: Option<String>,
    upgrade: bool,
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parse header lines into `(name, value)` pairs and the framing they say.
fn parse_headers(lines: &[&[u8]]) -> PyResult<(Vec<Value>, Framing)> {
    let mut out = Vec::with_capacity(lines.len());
    let mut f = Framing::default();
    for raw in lines {
        if raw.is_empty() {
            continue;
        }
        if raw[0] == b' ' || raw[0] == b'\t' {
            return Err(value_error(format!("Invalid header: continuation line {:?}", String::from_utf8_lossy(raw))));
        }
        let Some(colon) = raw.iter().position(|&b| b == b':') else {
            return Err(value_error(format!("Invalid header: {:?}", String::from_utf8_lossy(raw))));
        };
        let name = String::from_utf8_lossy(&raw[..colon]).into_owned();
        if !is_token(&name) {
            return Err(value_error(format!("Invalid header name: {name:?}")));
        }
        let value = String::from_utf8_lossy(raw[colon + 1..].trim_ascii()).into_owned();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => {
                let n: i64 = value.parse().map_err(|_| value_error(format!("Invalid Content-Length: {value:?}")))?;
                if n < 0 {
                    return Err(value_error(format!("Invalid Content-Length: {value:?}")));
                }
                f.length = Some(n);
            }
            "transfer-encoding" => f.chunked |= value.to_ascii_lowercase().split(',').any(|p| p.trim() == "chunked"),
            "connection" => {
                let v = value.to_ascii_lowercase();
                if v.split(',').any(|p| p.trim() == "close") {
                    f.close = Some(true);
                } else if v.split(',').any(|p| p.trim() == "keep-alive") {
                    f.close = Some(false);
                }
                if v.split(',').any(|p| p.trim() == "upgrade") {
                    f.upgrade = true;
                }
            }
            "content-encoding" => f.encoding = Some(value.to_ascii_lowercase()),
            _ => {}
        }
        out.push(Value::tuple(vec![Value::string(name), Value::string(value)]));
    }
    Ok((out, f))
}

/// The lines of a head without the final empty line.
fn head_lines(head: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

fn parse_version(v: &[u8]) -> Option<(i64, i64)> {
    let rest = v.strip_prefix(b"HTTP/")?;
    let s = std::str::from_utf8(rest).ok()?;
    let (a, b) = s.split_once('.')?;
    if a.len() != 1 || b.len() != 1 {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn framing_values(f: Framing, version: (i64, i64)) -> [Value; 4] {
    let close = f.close.unwrap_or(version < (1, 1));
    [
        f.length.map(Value::Int).unwrap_or(Value::None),
        Value::bool(f.chunked),
        Value::bool(close),
        f.encoding.map(Value::string).unwrap_or(Value::None),
    ]
}

/// `parse_response(head)` → `(major, minor, status, reason, headers, length, chunked, close, encoding)`.
fn parse_response(_vm: &mut Vm, args: Args) -> PyResult {
    let head = bytes_arg(&args, 0, "parse_response")?;
    let lines = head_lines(head);
    let Some(first) = lines.first() else { return Err(value_error("Invalid status line ''")) };
    let text = String::from_utf8_lossy(first);
    let mut parts = first.splitn(3, |&b| b == b' ');
    let ver = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    let reason = parts.next().unwrap_or_default();
    let Some(version) = parse_version(ver) else {
        return Err(value_error(format!("Invalid status line {text:?}")));
    };
    let status: i64 = match std::str::from_utf8(code).ok().filter(|c| c.len() == 3).and_then(|c| c.parse().ok()) {
        Some(s) if (100..=999).contains(&s) => s,
        _ => return Err(value_error(format!("Invalid status code {text:?}"))),
    };
    let (headers, f) = parse_headers(&lines[1..])?;
    let mut items = vec![
        Value::Int(version.0),
        Value::Int(version.1),
        Value::Int(status),
        Value::string(String::from_utf8_lossy(reason).trim().to_string()),
        Value::list(headers),
    ];
    items.extend(framing_values(f, version));
    Ok(Value::tuple(items))
}

/// `parse_request(head)` → `(method, target, major, minor, headers, length, chunked, close, upgrade)`.
fn parse_request(_vm: &mut Vm, args: Args) -> PyResult {
    let head = bytes_arg(&args, 0, "parse_request")?;
    let lines = head_lines(head);
    let Some(first) = lines.first() else { return Err(value_error("Bad status line ''")) };
    let text = String::from_utf8_lossy(first).into_owned();
    let parts: Vec<&[u8]> = first.split(|&b| b == b' ').collect();
    if parts.len() != 3 {
        return Err(value_error(format!("Bad status line {text:?}")));
    }
    let method = String::from_utf8_lossy(parts[0]).into_owned();
    if !is_token(&method) {
        return Err(value_error(format!("Bad status line {text:?}")));
    }
    let Some(version) = parse_version(parts[2]) else {
        return Err(value_error(format!("Bad status line {text:?}")));
    };
    let (headers, f) = parse_headers(&lines[1..])?;
    let upgrade = f.upgrade;
    let [length, chunked, close, _] = framing_values(f, version);
    Ok(Value::tuple(vec![
        Value::string(method),
        Value::string(String::from_utf8_lossy(parts[1]).into_owned()),
        Value::Int(version.0),
        Value::Int(version.1),
        Value::list(headers),
        length,
        chunked,
        close,
        Value::bool(upgrade),
    ]))
}

/// The reason phrase of a status code (`'Not Found'`), `''` for an unknown one.
pub fn reason(status: i64) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a Teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "",
    }
}

/// `http_date()`: now, as the `Date` header writes it (`Sun, 06 Dec 2026 02:06:10 GMT`).
fn http_date(_vm: &mut Vm, _args: Args) -> PyResult {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mon = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mon <= 2);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let mn = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][(mon - 1) as usize];
    Ok(Value::string(format!("{wd}, {d:02} {mn} {y} {h:02}:{m:02}:{s:02} GMT")))
}

// ------------------------------------------------------------ decompression

enum Inflate {
    Gzip(flate2::write::GzDecoder<Vec<u8>>),
    Zlib(flate2::write::ZlibDecoder<Vec<u8>>),
    Raw(flate2::write::DeflateDecoder<Vec<u8>>),
    /// `deflate` before its first byte says whether a zlib header comes.
    Unknown,
}

/// A body decoder for `Content-Encoding: gzip` or `deflate`.
struct Decompressor {
    kind: String,
    state: RefCell<Inflate>,
}

thread_local! {
    static DECOMPRESSOR_CLASS: Rc<Class> = {
        let c = new_class("Decompressor", &[types().object.clone()], Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("_http"));
        method(&c, "Decompressor", "decompress", |_vm, a| {
            let d = decomp(&a)?;
            let data = bytes_arg(&a, 1, "decompress")?;
            d.feed(data).map(Value::bytes)
        });
        method(&c, "Decompressor", "flush", |_vm, a| decomp(&a)?.finish().map(Value::bytes));
        c
    };
}

impl NativeObject for Decompressor {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        DECOMPRESSOR_CLASS.with(|c| c.clone())
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(format!("<_http.Decompressor {}>", self.kind))
    }
}

fn decomp(args: &Args) -> PyResult<&Decompressor> {
    args.pos.first().and_then(|v| v.downcast::<Decompressor>()).ok_or_else(|| type_error("descriptor requires a Decompressor"))
}

fn zlib_error(e: std::io::Error) -> PyErr {
    value_error(format!("Can not decode content-encoding: {e}"))
}

impl Decompressor {
    fn feed(&self, data: &[u8]) -> PyResult<Vec<u8>> {
        let mut st = self.state.borrow_mut();
        if let Inflate::Unknown = &*st {
            if data.is_empty() {
                return Ok(Vec::new());
            }
            // A zlib stream starts with a CMF byte whose low nibble is 8 (deflate).
            *st = if data[0] & 0x0f == 8 && (u16::from(data[0]) << 8 | u16::from(*data.get(1).unwrap_or(&0))) % 31 == 0 {
                Inflate::Zlib(flate2::write::ZlibDecoder::new(Vec::new()))
            } else {
                Inflate::Raw(flate2::write::DeflateDecoder::new(Vec::new()))
            };
        }
        let out = match &mut *st {
            Inflate::Gzip(d) => {
                d.write_all(data).map_err(zlib_error)?;
                std::mem::take(d.get_mut())
            }
            Inflate::Zlib(d) => {
                d.write_all(data).map_err(zlib_error)?;
                std::mem::take(d.get_mut())
            }
            Inflate::Raw(d) => {
                d.write_all(data).map_err(zlib_error)?;
                std::mem::take(d.get_mut())
            }
            Inflate::Unknown => Vec::new(),
        };
        Ok(out)
    }

    fn finish(&self) -> PyResult<Vec<u8>> {
        let mut st = self.state.borrow_mut();
        let out = match std::mem::replace(&mut *st, Inflate::Unknown) {
            Inflate::Gzip(d) => d.finish().map_err(zlib_error)?,
            Inflate::Zlib(d) => d.finish().map_err(zlib_error)?,
            Inflate::Raw(d) => d.finish().map_err(zlib_error)?,
            Inflate::Unknown => Vec::new(),
        };
        Ok(out)
    }
}

fn decompressor_new(_vm: &mut Vm, args: Args) -> PyResult {
    let kind = match args.pos.first() {
        Some(Value::Str(s)) => s.as_str().to_ascii_lowercase(),
        _ => return Err(type_error("Decompressor() needs an encoding name")),
    };
    let state = match kind.as_str() {
        "gzip" | "x-gzip" => Inflate::Gzip(flate2::write::GzDecoder::new(Vec::new())),
        "deflate" => Inflate::Unknown,
        other => return Err(value_error(format!("unsupported content encoding {other:?}"))),
    };
    Ok(Value::object(Decompressor { kind, state: RefCell::new(state) }))
}

/// `compress(data, encoding)`: a whole body gzip- or deflate-encoded (for `Response.enable_compression`).
fn compress(_vm: &mut Vm, args: Args) -> PyResult {
    let data = bytes_arg(&args, 0, "compress")?;
    let kind = match args.pos.get(1) {
        Some(Value::Str(s)) => s.as_str().to_string(),
        _ => "gzip".into(),
    };
    let out = match kind.as_str() {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).and_then(|_| e.finish()).map_err(|e| os_error_from_io(&e))?
        }
        _ => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).and_then(|_| e.finish()).map_err(|e| os_error_from_io(&e))?
        }
    };
    Ok(Value::bytes(out))
}

/// The `_http` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let fns: &[(&str, NativeFnPtr)] = &[
        ("parse_response", parse_response),
        ("parse_request", parse_request),
        ("http_date", http_date),
        ("Decompressor", decompressor_new),
        ("compress", compress),
        ("reason", |_vm, a| match a.pos.first() {
            Some(Value::Int(i)) => Ok(Value::str(reason(*i))),
            _ => Ok(Value::str("")),
        }),
    ];
    let entries: Vec<(&str, Value)> = fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect();
    Ok(vm.make_native_module("_http", entries))
}
