//! `_ssl`: TLS on rustls for the `ssl` module (written in .aio). A context
//! becomes a `TlsConfig` here, a client one (trusted roots, whether the
//! chain and the host name are checked) or a server one (a certificate
//! chain and its key); the socket transports of `asyncio` then run a
//! `rustls::Connection` made from it over their sockets. A certificate that
//! does not verify is reported as OpenSSL words it, through the `ssl`
//! module's exception classes.

use std::fmt;
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

/// `client_config(pems, default_roots, verify, check_hostname)`.
fn client_config(vm: &mut Vm, args: Args) -> PyResult {
    let pems = bytes_list(args.pos.first());
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
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(vm, &e))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Value::object(TlsConfig::Client(Arc::new(config))))
}

/// `server_config(chain_pem, key_pem)`; a bad chain or key is `ssl.SSLError`.
fn server_config(vm: &mut Vm, args: Args) -> PyResult {
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
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(vm, &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|_| ssl_error(vm, "SSLError", 116, "[X509: KEY_VALUES_MISMATCH] key values mismatch (_ssl.c:3900)"))?;
    Ok(Value::object(TlsConfig::Server(Arc::new(config))))
}

pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let fns: &[(&str, NativeFnPtr)] = &[("client_config", client_config), ("server_config", server_config), ("count_certs", count_certs)];
    let entries: Vec<(&str, Value)> = fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect();
    Ok(vm.make_native_module("_ssl", entries))
}
