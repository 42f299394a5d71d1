//! `_ssl`: TLS on rustls for the `ssl` module (written in .aio). A context
//! becomes a `TlsConfig` here, a client one (trusted roots, whether the
//! chain and the host name are checked) or a server one (a certificate
//! chain and its key); the socket transports of `asyncio` then run a
//! `rustls::Connection` made from it over their sockets. A certificate that
//! does not verify is reported as OpenSSL words it, through the `ssl`
//! module's exception classes.

use std::cell::RefCell;
use std::fmt;
use std::io::{Read, Write};
use std::rc::Rc;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, OtherError, RootCertStore, ServerConfig, SignatureScheme};

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{native_fn, new_class, type_name, types};
use aio_interp::{Value, Vm};

// ring builds with no C toolchain beyond cc; its key exchanges are the
// classic ones, which is all a peer on this machine needs.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// A verification failure as OpenSSL reports it: its code and words.
#[derive(Debug)]
struct VerifyFailure {
    code: i64,
    message: String,
}

impl fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for VerifyFailure {}

/// Checks the server's certificate as the context says: the chain against
/// the roots (unless `CERT_NONE`), the name (if `check_hostname`).
#[derive(Debug)]
struct Verifier {
    roots: Option<Arc<WebPkiServerVerifier>>,
    verify: bool,
    check_hostname: bool,
    provider: Arc<CryptoProvider>,
}

fn is_self_signed(cert: &CertificateDer<'_>) -> bool {
    match x509_parser::parse_x509_certificate(cert.as_ref()) {
        Ok((_, c)) => c.issuer() == c.subject(),
        Err(_) => false,
    }
}

fn name_text(name: &ServerName<'_>) -> (bool, String) {
    match name {
        ServerName::IpAddress(ip) => (true, std::net::IpAddr::from(*ip).to_string()),
        other => (false, other.to_str().into_owned()),
    }
}

fn failure(code: i64, message: impl Into<String>) -> Error {
    Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(VerifyFailure { code, message: message.into() }))))
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if !self.verify {
            return Ok(ServerCertVerified::assertion());
        }
        let self_signed = || {
            if is_self_signed(end_entity) {
                failure(18, "self-signed certificate")
            } else {
                failure(20, "unable to get local issuer certificate")
            }
        };
        let Some(roots) = &self.roots else { return Err(self_signed()) };
        match roots.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Ok(v) => Ok(v),
            Err(Error::InvalidCertificate(e)) => match e {
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    if !self.check_hostname {
                        return Ok(ServerCertVerified::assertion());
                    }
                    let (ip, name) = name_text(server_name);
                    if ip {
                        Err(failure(64, format!("IP address mismatch, certificate is not valid for '{name}'.")))
                    } else {
                        Err(failure(62, format!("Hostname mismatch, certificate is not valid for '{name}'.")))
                    }
                }
                CertificateError::UnknownIssuer => Err(self_signed()),
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => Err(failure(10, "certificate has expired")),
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    Err(failure(9, "certificate is not yet valid"))
                }
                CertificateError::BadSignature => Err(failure(7, "certificate signature failure")),
                CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                    Err(failure(26, "unsuitable certificate purpose"))
                }
                other => Err(Error::InvalidCertificate(other)),
            },
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// A context made ready for connections.
pub enum TlsConfig {
    Client(Arc<ClientConfig>),
    Server(Arc<ServerConfig>),
}

thread_local! {
    static CONFIG_CLASS: Rc<Class> = new_class("_TlsConfig", &[types().object.clone()], Layout::Builtin, None);
}

impl NativeObject for TlsConfig {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        CONFIG_CLASS.with(|c| c.clone())
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        Ok(match self {
            TlsConfig::Client(_) => "<_TlsConfig client>".into(),
            TlsConfig::Server(_) => "<_TlsConfig server>".into(),
        })
    }
}

/// The `ssl` module's exception `kind` (`SSLError`, `SSLCertVerificationError`,
/// ...) made by its `_make_error(kind, code, message)`.
pub fn ssl_error(vm: &mut Vm, kind: &str, code: i64, message: &str) -> PyErr {
    let made = (|| -> PyResult<Value> {
        let m = vm.import_module("ssl")?;
        let f = vm.getattr(&m, &aio_interp::intern::intern("_make_error"))?;
        vm.call(f, Args::new([Value::str(kind), Value::Int(code), Value::str(message)]))
    })();
    match made {
        Ok(Value::Instance(i)) => PyErr(i),
        Ok(_) => err(&types().exc.os_error, message.to_string()),
        Err(e) => e,
    }
}

/// A rustls error as the `ssl` exception CPython raises for it.
pub fn tls_error(vm: &mut Vm, e: &Error) -> PyErr {
    if let Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) = e {
        if let Some(f) = inner.downcast_ref::<VerifyFailure>() {
            return ssl_error(vm, "SSLCertVerificationError", f.code, &f.message);
        }
    }
    let (reason, words) = match e {
        Error::InvalidCertificate(c) => {
            let words = format!("certificate verify failed: {c:?}");
            return ssl_error(vm, "SSLCertVerificationError", 1, &words);
        }
        Error::AlertReceived(a) => {
            let name = format!("{a:?}");
            let snake: String = name
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let sep = if i > 0 && c.is_ascii_uppercase() { Some('_') } else { None };
                    sep.into_iter().chain(std::iter::once(c.to_ascii_uppercase()))
                })
                .collect();
            (format!("TLSV1_ALERT_{snake}"), format!("tlsv1 alert {}", snake.to_lowercase().replace('_', " ")))
        }
        Error::InvalidMessage(_) | Error::InappropriateMessage { .. } | Error::InappropriateHandshakeMessage { .. } => {
            ("WRONG_VERSION_NUMBER".to_string(), "wrong version number".to_string())
        }
        Error::NoCertificatesPresented => ("PEER_DID_NOT_RETURN_A_CERTIFICATE".into(), "peer did not return a certificate".into()),
        other => ("SSL".to_string(), other.to_string()),
    };
    ssl_error(vm, "SSLError", 1, &format!("[SSL: {reason}] {words} (_ssl.c:1006)"))
}

/// Make a connection for a transport: a client one for `hostname`, or a server one.
pub fn connection(vm: &mut Vm, config: &Value, hostname: &Value) -> PyResult<rustls::Connection> {
    let Some(cfg) = config.downcast::<TlsConfig>() else {
        return Err(type_error(format!("a TLS configuration was expected, not '{}'", type_name(config))));
    };
    match cfg {
        TlsConfig::Client(c) => {
            let host = match hostname {
                Value::Str(s) if !s.as_str().is_empty() => s.as_str().to_string(),
                // Unchecked names still need one for the handshake.
                _ => "localhost".to_string(),
            };
            let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_string())
                .map_err(|_| value_error(format!("invalid server_hostname {host:?}")))?;
            rustls::ClientConnection::new(c.clone(), name).map(rustls::Connection::Client).map_err(|e| tls_error(vm, &e))
        }
        TlsConfig::Server(s) => rustls::ServerConnection::new(s.clone()).map(rustls::Connection::Server).map_err(|e| tls_error(vm, &e)),
    }
}

fn pem_certs(data: &[u8]) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(data).filter_map(|c| c.ok()).collect()
}

fn bytes_list(v: Option<&Value>) -> Vec<Rc<PyBytes>> {
    let items = match v {
        Some(Value::List(l)) => l.borrow().clone(),
        _ => Vec::new(),
    };
    items.into_iter().filter_map(|i| if let Value::Bytes(b) = i { Some(b) } else { None }).collect()
}

/// `count_certs(pem)`: how many certificates a PEM text holds.
fn count_certs(_vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        Some(Value::Bytes(b)) => Ok(Value::Int(pem_certs(&b.b).len() as i64)),
        _ => Err(type_error("count_certs() needs bytes")),
    }
}

/// `client_config(pems, default_roots, verify, check_hostname, alpn=[])`.
fn client_config(vm: &mut Vm, args: Args) -> PyResult {
    let pems = bytes_list(args.pos.first());
    let alpn = bytes_list(args.pos.get(4)).iter().map(|b| b.b.to_vec()).collect();
    let flag = |i: usize| matches!(args.pos.get(i), Some(Value::Bool(b)) if b.get());
    let (default_roots, verify, check_hostname) = (flag(1), flag(2), flag(3));
    let mut store = RootCertStore::empty();
    if default_roots {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for p in &pems {
        for c in pem_certs(&p.b) {
            // A certificate webpki cannot use as a root is left out, as OpenSSL ignores it.
            let _ = store.add(c);
        }
    }
    let provider = provider();
    let roots = if store.is_empty() {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                .build()
                .map_err(|e| ssl_error(vm, "SSLError", 1, &e.to_string()))?,
        )
    };
    let verifier = Verifier { roots, verify, check_hostname, provider: provider.clone() };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(vm, &e))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = alpn;
    Ok(Value::object(TlsConfig::Client(Arc::new(config))))
}

/// `server_config(chain_pem, key_pem, alpn=[])`; a bad chain or key is `ssl.SSLError`.
fn server_config(vm: &mut Vm, args: Args) -> PyResult {
    let alpn = bytes_list(args.pos.get(2)).iter().map(|b| b.b.to_vec()).collect();
    let (Some(Value::Bytes(chain)), Some(Value::Bytes(key))) = (args.pos.first(), args.pos.get(1)) else {
        return Err(type_error("server_config() needs the chain and the key as bytes"));
    };
    let certs = pem_certs(&chain.b);
    if certs.is_empty() {
        return Err(ssl_error(vm, "SSLError", 9, "[SSL] PEM lib (_ssl.c:3900)"));
    }
    let Ok(key) = PrivateKeyDer::from_pem_slice(&key.b) else {
        return Err(ssl_error(vm, "SSLError", 9, "[SSL] PEM lib (_ssl.c:3900)"));
    };
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(vm, &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|_| ssl_error(vm, "SSLError", 116, "[X509: KEY_VALUES_MISMATCH] key values mismatch (_ssl.c:3900)"))?;
    config.alpn_protocols = alpn;
    Ok(Value::object(TlsConfig::Server(Arc::new(config))))
}

// ------------------------------------------------------------ a session's facts

/// The OpenSSL name of a cipher suite (`TLS_AES_256_GCM_SHA384`,
/// `ECDHE-RSA-AES128-GCM-SHA256`), its protocol and its secret bits, as
/// `SSLSocket.cipher()` gives them.
pub fn cipher_of(c: &rustls::Connection) -> Option<Value> {
    let s = c.negotiated_cipher_suite()?;
    let rust_name = format!("{:?}", s.suite());
    let (name, version) = match rust_name.strip_prefix("TLS13_") {
        Some(rest) => (format!("TLS_{rest}"), "TLSv1.3"),
        None => {
            let twelve = [
                ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"),
                ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"),
                ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"),
                ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"),
                ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"),
                ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"),
            ];
            let name = twelve.iter().find(|(r, _)| *r == rust_name).map(|(_, o)| o.to_string()).unwrap_or_else(|| rust_name.clone());
            (name, "TLSv1.2")
        }
    };
    let bits = if name.contains("128") { 128 } else { 256 };
    Some(Value::tuple(vec![Value::str(&name), Value::str(version), Value::Int(bits)]))
}

/// `TLSv1.3` or `TLSv1.2`, once the handshake has settled it.
pub fn version_of(c: &rustls::Connection) -> Option<&'static str> {
    match c.protocol_version()? {
        rustls::ProtocolVersion::TLSv1_3 => Some("TLSv1.3"),
        rustls::ProtocolVersion::TLSv1_2 => Some("TLSv1.2"),
        _ => Some("TLSv1"),
    }
}

/// A fact of a session once its handshake is over (None before):
/// `peercert` (DER bytes), `version`, `cipher`, `alpn`.
pub fn session_info(c: &rustls::Connection, what: &str) -> Value {
    if c.is_handshaking() {
        return Value::None;
    }
    match what {
        "peercert" => c
            .peer_certificates()
            .and_then(|certs| certs.first())
            .map(|der| Value::Bytes(Rc::new(PyBytes { b: der.as_ref().into() })))
            .unwrap_or(Value::None),
        "version" => version_of(c).map(Value::str).unwrap_or(Value::None),
        "cipher" => cipher_of(c).unwrap_or(Value::None),
        "alpn" => c.alpn_protocol().map(|p| Value::str(&String::from_utf8_lossy(p))).unwrap_or(Value::None),
        _ => Value::None,
    }
}

// ------------------------------------------------------------ sessions over blocking sockets

/// A TLS session that `ssl.SSLSocket` (.aio) drives over a blocking
/// socket: records in with `feed`, records out with `take_out`, plaintext
/// through `write` and `read`.
struct Session(RefCell<rustls::Connection>);

thread_local! {
    static SESSION_CLASS: Rc<Class> = new_class("_TlsSession", &[types().object.clone()], Layout::Builtin, None);
}

impl NativeObject for Session {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        SESSION_CLASS.with(|c| c.clone())
    }
}

fn session_arg(args: &Args) -> PyResult<&Session> {
    args.pos.first().and_then(|v| v.downcast::<Session>()).ok_or_else(|| type_error("a TLS session was expected"))
}

fn bytes_arg(args: &Args, i: usize) -> PyResult<Rc<PyBytes>> {
    match args.pos.get(i) {
        Some(Value::Bytes(b)) => Ok(b.clone()),
        _ => Err(type_error("bytes were expected")),
    }
}

/// `session(config, server_hostname)`: a new session, client or server as the configuration is.
fn session_new(vm: &mut Vm, args: Args) -> PyResult {
    let config = args.pos.first().cloned().unwrap_or(Value::None);
    let mut c = connection(vm, &config, args.pos.get(1).unwrap_or(&Value::None))?;
    c.set_buffer_limit(None);
    Ok(Value::object(Session(RefCell::new(c))))
}

/// `feed(session, records)`: take records from the peer (b'' at its EOF);
/// a failure is the `ssl` exception OpenSSL would raise. Returns whether
/// the peer has closed the session.
fn session_feed(vm: &mut Vm, args: Args) -> PyResult {
    let data = bytes_arg(&args, 1)?;
    let s = session_arg(&args)?;
    let result = {
        let mut c = s.0.borrow_mut();
        let mut rest: &[u8] = &data.b;
        if rest.is_empty() {
            let _ = c.read_tls(&mut rest);
        }
        let result = loop {
            match c.process_new_packets() {
                Ok(state) if rest.is_empty() => break Ok(state.peer_has_closed()),
                Ok(state) => {
                    if c.read_tls(&mut rest).is_err() {
                        break Ok(state.peer_has_closed());
                    }
                }
                Err(e) => break Err(e),
            }
        };
        if result.is_err() && c.is_handshaking() {
            // No alert: the connection is dropped, as asyncio does.
            let mut sink = Vec::new();
            while c.wants_write() && c.write_tls(&mut sink).is_ok() {}
        }
        result
    };
    match result {
        Ok(closed) => Ok(Value::bool(closed)),
        Err(e) => Err(tls_error(vm, &e)),
    }
}

/// `take_out(session)`: the records to send to the peer now.
fn session_take_out(_vm: &mut Vm, args: Args) -> PyResult {
    let s = session_arg(&args)?;
    let mut out = Vec::new();
    let mut c = s.0.borrow_mut();
    while c.wants_write() && c.write_tls(&mut out).is_ok() {}
    Ok(Value::Bytes(Rc::new(PyBytes { b: out.into_boxed_slice() })))
}

/// `state(session)`: `(handshaking, wants_read)`.
fn session_state(_vm: &mut Vm, args: Args) -> PyResult {
    let s = session_arg(&args)?;
    let c = s.0.borrow();
    Ok(Value::tuple(vec![Value::bool(c.is_handshaking()), Value::bool(c.wants_read())]))
}

/// `write(session, data)`: plaintext for the peer (sent with the next `take_out`).
fn session_write(_vm: &mut Vm, args: Args) -> PyResult {
    let data = bytes_arg(&args, 1)?;
    let s = session_arg(&args)?;
    let _ = s.0.borrow_mut().writer().write_all(&data.b);
    Ok(Value::Int(data.b.len() as i64))
}

/// `read(session, n)`: up to `n` bytes of plaintext; None when none has
/// arrived yet, b'' once the peer has closed the session.
fn session_read(_vm: &mut Vm, args: Args) -> PyResult {
    let s = session_arg(&args)?;
    let n = match args.pos.get(1) {
        Some(Value::Int(n)) if *n > 0 => *n as usize,
        _ => 16 * 1024,
    };
    let mut buf = vec![0u8; n];
    let got = s.0.borrow_mut().reader().read(&mut buf);
    match got {
        Ok(k) => {
            buf.truncate(k);
            Ok(Value::Bytes(Rc::new(PyBytes { b: buf.into_boxed_slice() })))
        }
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(Value::None),
        Err(_) => Ok(Value::Bytes(Rc::new(PyBytes { b: Box::new([]) }))),
    }
}

/// `close_notify(session)`: end the session politely (sent with the next `take_out`).
fn session_close_notify(_vm: &mut Vm, args: Args) -> PyResult {
    session_arg(&args)?.0.borrow_mut().send_close_notify();
    Ok(Value::None)
}

/// `info(session, what)`: see [`session_info`].
fn session_info_fn(_vm: &mut Vm, args: Args) -> PyResult {
    let what = match args.pos.get(1) {
        Some(Value::Str(w)) => w.as_str().to_string(),
        _ => return Ok(Value::None),
    };
    Ok(session_info(&session_arg(&args)?.0.borrow(), &what))
}

/// `wait_fd(fd, write, timeout)`: is the descriptor ready? A worker thread
/// (`to_thread`) is not made to wait here, which would stop every task:
/// it is parked for a moment and asks again; elsewhere the call blocks,
/// up to `timeout` seconds (None: no limit).
fn wait_fd(vm: &mut Vm, args: Args) -> PyResult {
    let fd = match args.pos.first() {
        Some(Value::Int(fd)) if *fd >= 0 => *fd as libc::c_int,
        _ => return Err(err(&types().exc.os_error, "[Errno 9] Bad file descriptor")),
    };
    let write = matches!(args.pos.get(1), Some(Value::Bool(b)) if b.get());
    let limit = match args.pos.get(2) {
        Some(Value::Float(f)) => Some(f.get()),
        Some(Value::Int(i)) => Some(*i as f64),
        _ => None,
    };
    let events = if write { libc::POLLOUT } else { libc::POLLIN };
    let poll = |ms: libc::c_int| -> bool {
        let mut p = libc::pollfd { fd, events, revents: 0 };
        // SAFETY: one pollfd on the stack, for the duration of the call.
        unsafe { libc::poll(&mut p, 1, ms) > 0 }
    };
    if poll(0) {
        return Ok(Value::bool(true));
    }
    if vm.block_worker(0.001) {
        return Ok(Value::bool(false));
    }
    let deadline = limit.map(|s| std::time::Instant::now() + std::time::Duration::from_secs_f64(s.max(0.0)));
    loop {
        let ms = match deadline {
            Some(d) => d.saturating_duration_since(std::time::Instant::now()).as_millis().min(50) as libc::c_int,
            None => 50,
        };
        if poll(ms) {
            return Ok(Value::bool(true));
        }
        vm.check_interrupt()?;
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Ok(Value::bool(false));
        }
    }
}

/// The OpenSSL long name of a name attribute (`commonName`), else its OID.
fn attribute_name(oid: &str) -> String {
    let known = [
        ("2.5.4.3", "commonName"),
        ("2.5.4.4", "surname"),
        ("2.5.4.5", "serialNumber"),
        ("2.5.4.6", "countryName"),
        ("2.5.4.7", "localityName"),
        ("2.5.4.8", "stateOrProvinceName"),
        ("2.5.4.9", "streetAddress"),
        ("2.5.4.10", "organizationName"),
        ("2.5.4.11", "organizationalUnitName"),
        ("2.5.4.12", "title"),
        ("2.5.4.15", "businessCategory"),
        ("2.5.4.17", "postalCode"),
        ("2.5.4.42", "givenName"),
        ("2.5.4.43", "initials"),
        ("2.5.4.44", "generationQualifier"),
        ("2.5.4.46", "dnQualifier"),
        ("2.5.4.65", "pseudonym"),
        ("1.2.840.113549.1.9.1", "emailAddress"),
        ("0.9.2342.19200300.100.1.1", "userId"),
        ("0.9.2342.19200300.100.1.25", "domainComponent"),
        ("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionCountryName"),
    ];
    known.iter().find(|(o, _)| *o == oid).map(|(_, n)| n.to_string()).unwrap_or_else(|| oid.to_string())
}

/// A distinguished name as CPython gives it: a tuple of RDNs, each a tuple
/// of `(name, value)` pairs.
fn name_value(name: &x509_parser::x509::X509Name<'_>) -> Value {
    let rdns: Vec<Value> = name
        .iter()
        .map(|rdn| {
            let pairs: Vec<Value> = rdn
                .iter()
                .map(|atv| {
                    let value =
                        atv.as_str().map(str::to_string).unwrap_or_else(|_| String::from_utf8_lossy(atv.attr_value().data).into_owned());
                    Value::tuple(vec![Value::str(&attribute_name(&atv.attr_type().to_id_string())), Value::str(&value)])
                })
                .collect();
            Value::tuple(pairs)
        })
        .collect();
    Value::tuple(rdns)
}

/// A certificate time as OpenSSL prints it: `Nov 12 03:35:18 2126 GMT`.
fn time_text(t: &x509_parser::time::ASN1Time) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let d = t.to_datetime();
    let month = MONTHS[(d.month() as usize).clamp(1, 12) - 1];
    format!("{month} {:>2} {:02}:{:02}:{:02} {} GMT", d.day(), d.hour(), d.minute(), d.second(), d.year())
}

fn general_name(g: &x509_parser::extensions::GeneralName<'_>) -> Value {
    use x509_parser::extensions::GeneralName as G;
    let (kind, value) = match g {
        G::DNSName(s) => ("DNS", Value::str(s)),
        G::RFC822Name(s) => ("email", Value::str(s)),
        G::URI(s) => ("URI", Value::str(s)),
        G::DirectoryName(n) => ("DirName", name_value(n)),
        G::RegisteredID(oid) => ("Registered ID", Value::str(&oid.to_id_string())),
        G::IPAddress(b) if b.len() == 4 => ("IP Address", Value::str(&format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]))),
        G::IPAddress(b) if b.len() == 16 => {
            let groups: Vec<String> = b.chunks(2).map(|p| format!("{:X}", u16::from_be_bytes([p[0], p[1]]))).collect();
            ("IP Address", Value::str(&groups.join(":")))
        }
        G::IPAddress(_) => ("IP Address", Value::str("<invalid>")),
        _ => ("othername", Value::str("<unsupported>")),
    };
    Value::tuple(vec![Value::str(kind), value])
}

/// `decode_cert(der)`: a certificate as `getpeercert()` gives it: subject,
/// issuer, version, serialNumber, notBefore, notAfter, subjectAltName.
fn decode_cert(vm: &mut Vm, args: Args) -> PyResult {
    let Some(Value::Bytes(der)) = args.pos.first() else { return Err(type_error("decode_cert() needs bytes")) };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(&der.b) else {
        return Err(ssl_error(vm, "SSLError", 13, "[ASN1] nested asn1 error (_ssl.c:1006)"));
    };
    let d = PyDict::new();
    d.set_str("subject", name_value(cert.subject()));
    d.set_str("issuer", name_value(cert.issuer()));
    d.set_str("version", Value::Int(cert.version().0 as i64 + 1));
    let raw = cert.tbs_certificate.raw_serial();
    let digits: String = raw.iter().skip_while(|b| **b == 0).map(|b| format!("{b:02X}")).collect();
    d.set_str("serialNumber", Value::str(if digits.is_empty() { "0" } else { &digits }));
    d.set_str("notBefore", Value::str(&time_text(&cert.validity().not_before)));
    d.set_str("notAfter", Value::str(&time_text(&cert.validity().not_after)));
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        let names: Vec<Value> = san.value.general_names.iter().map(general_name).collect();
        d.set_str("subjectAltName", Value::tuple(names));
    }
    Ok(Value::dict(d))
}

pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let fns: &[(&str, NativeFnPtr)] = &[
        ("client_config", client_config),
        ("server_config", server_config),
        ("count_certs", count_certs),
        ("decode_cert", decode_cert),
        ("session", session_new),
        ("feed", session_feed),
        ("take_out", session_take_out),
        ("state", session_state),
        ("write", session_write),
        ("read", session_read),
        ("close_notify", session_close_notify),
        ("info", session_info_fn),
        ("wait_fd", wait_fd),
    ];
    let entries: Vec<(&str, Value)> = fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect();
    Ok(vm.make_native_module("_ssl", entries))
}
