//! `_hashlib`: message digests (md5, sha1, the sha2 and sha3 families,
//! shake, blake2, ripemd160, sm3) from the RustCrypto crates, and `crc32`
//! for `binascii` and `zlib`.

use std::cell::RefCell;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{method, native_fn, new_class, type_name, types};
use aio_interp::{Value, Vm};
use sha2::Digest;

/// The running state of one digest.
#[derive(Clone)]
enum State {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
    Sha512_224(sha2::Sha512_224),
    Sha512_256(sha2::Sha512_256),
    Sha3_224(sha3::Sha3_224),
    Sha3_256(sha3::Sha3_256),
    Sha3_384(sha3::Sha3_384),
    Sha3_512(sha3::Sha3_512),
    Blake2b(blake2::Blake2b512),
    Blake2s(blake2::Blake2s256),
    /// `blake2b(digest_size=n)` for n other than 64, `blake2s` other than 32.
    Blake2bVar(blake2::Blake2bVar),
    Blake2sVar(blake2::Blake2sVar),
    Ripemd160(ripemd::Ripemd160),
    Sm3(sm3::Sm3),
    /// OpenSSL's `md5-sha1`: the two digests side by side.
    Md5Sha1(md5::Md5, sha1::Sha1),
    Shake128(sha3::Shake128),
    Shake256(sha3::Shake256),
}

/// Every name `new()` takes, as `algorithms_available` lists them.
pub const ALGORITHMS: &[&str] = &[
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha512_224",
    "sha512_256",
    "sha3_224",
    "sha3_256",
    "sha3_384",
    "sha3_512",
    "shake_128",
    "shake_256",
    "blake2b",
    "blake2s",
    "ripemd160",
    "sm3",
    "md5-sha1",
];

/// `$e` for each fixed-size digest, then the caller's arms for the others.
macro_rules! each_fixed {
    ($s:expr, $h:ident => $e:expr, $($rest:tt)*) => {
        match $s {
            State::Md5($h) => $e,
            State::Sha1($h) => $e,
            State::Sha224($h) => $e,
            State::Sha256($h) => $e,
            State::Sha384($h) => $e,
            State::Sha512($h) => $e,
            State::Sha512_224($h) => $e,
            State::Sha512_256($h) => $e,
            State::Sha3_224($h) => $e,
            State::Sha3_256($h) => $e,
            State::Sha3_384($h) => $e,
            State::Sha3_512($h) => $e,
            State::Blake2b($h) => $e,
            State::Blake2s($h) => $e,
            State::Ripemd160($h) => $e,
            State::Sm3($h) => $e,
            $($rest)*
        }
    };
}

impl State {
    fn new(name: &str) -> Option<State> {
        Some(match name.to_ascii_lowercase().replace('-', "_").as_str() {
            "md5" => State::Md5(md5::Md5::new()),
            "sha1" => State::Sha1(sha1::Sha1::new()),
            "sha224" => State::Sha224(sha2::Sha224::new()),
            "sha256" => State::Sha256(sha2::Sha256::new()),
            "sha384" => State::Sha384(sha2::Sha384::new()),
            "sha512" => State::Sha512(sha2::Sha512::new()),
            "sha512_224" => State::Sha512_224(sha2::Sha512_224::new()),
            "sha512_256" => State::Sha512_256(sha2::Sha512_256::new()),
            "sha3_224" => State::Sha3_224(sha3::Sha3_224::new()),
            "sha3_256" => State::Sha3_256(sha3::Sha3_256::new()),
            "sha3_384" => State::Sha3_384(sha3::Sha3_384::new()),
            "sha3_512" => State::Sha3_512(sha3::Sha3_512::new()),
            "shake_128" => State::Shake128(sha3::Shake128::default()),
            "shake_256" => State::Shake256(sha3::Shake256::default()),
            "blake2b" => State::Blake2b(blake2::Blake2b512::new()),
            "blake2s" => State::Blake2s(blake2::Blake2s256::new()),
            "ripemd160" => State::Ripemd160(ripemd::Ripemd160::new()),
            "sm3" => State::Sm3(sm3::Sm3::new()),
            "md5_sha1" => State::Md5Sha1(md5::Md5::new(), sha1::Sha1::new()),
            _ => return None,
        })
    }
    fn name(&self) -> &'static str {
        match self {
            State::Md5(_) => "md5",
            State::Sha1(_) => "sha1",
            State::Sha224(_) => "sha224",
            State::Sha256(_) => "sha256",
            State::Sha384(_) => "sha384",
            State::Sha512(_) => "sha512",
            State::Sha512_224(_) => "sha512_224",
            State::Sha512_256(_) => "sha512_256",
            State::Sha3_224(_) => "sha3_224",
            State::Sha3_256(_) => "sha3_256",
            State::Sha3_384(_) => "sha3_384",
            State::Sha3_512(_) => "sha3_512",
            State::Shake128(_) => "shake_128",
            State::Shake256(_) => "shake_256",
            State::Blake2b(_) => "blake2b",
            State::Blake2s(_) | State::Blake2sVar(_) => "blake2s",
            State::Blake2bVar(_) => "blake2b",
            State::Ripemd160(_) => "ripemd160",
            State::Sm3(_) => "sm3",
            State::Md5Sha1(..) => "md5-sha1",
        }
    }
    fn block_size(&self) -> i64 {
        match self {
            State::Sha384(_)
            | State::Sha512(_)
            | State::Sha512_224(_)
            | State::Sha512_256(_)
            | State::Blake2b(_)
            | State::Blake2bVar(_) => 128,
            State::Sha3_224(_) => 144,
            State::Sha3_256(_) | State::Shake256(_) => 136,
            State::Sha3_384(_) => 104,
            State::Sha3_512(_) => 72,
            State::Shake128(_) => 168,
            _ => 64,
        }
    }
    /// Whether this is an extendable-output function (`shake_*`), whose
    /// `digest(length)` takes the length.
    fn xof(&self) -> bool {
        matches!(self, State::Shake128(_) | State::Shake256(_))
    }
    fn update(&mut self, data: &[u8]) {
        use sha3::digest::Update;
        each_fixed!(self, h => Digest::update(h, data),
            State::Md5Sha1(a, b) => {
                Digest::update(a, data);
                Digest::update(b, data);
            }
            State::Shake128(h) => Update::update(h, data),
            State::Shake256(h) => Update::update(h, data),
            State::Blake2bVar(h) => Update::update(h, data),
            State::Blake2sVar(h) => Update::update(h, data),
        )
    }
    /// The digest; `len` bytes of it for a `shake_*`.
    fn digest(&self, len: usize) -> Vec<u8> {
        use sha3::digest::{ExtendableOutput, VariableOutput, XofReader};
        let mut out = vec![0u8; len];
        each_fixed!(self.clone(), h => h.finalize().to_vec(),
            State::Md5Sha1(a, b) => {
                let mut d = a.finalize().to_vec();
                d.extend_from_slice(&b.finalize());
                d
            }
            State::Shake128(h) => {
                h.finalize_xof().read(&mut out);
                out
            }
            State::Shake256(h) => {
                h.finalize_xof().read(&mut out);
                out
            }
            State::Blake2bVar(h) => {
                let mut d = vec![0u8; h.output_size()];
                h.finalize_variable(&mut d).expect("the buffer is the output size");
                d
            }
            State::Blake2sVar(h) => {
                let mut d = vec![0u8; h.output_size()];
                h.finalize_variable(&mut d).expect("the buffer is the output size");
                d
            }
        )
    }
    fn digest_size(&self) -> i64 {
        if self.xof() {
            0
        } else {
            self.digest(0).len() as i64
        }
    }
}

/// A hash object (`hashlib.md5()` and the others).
pub struct Hash {
    state: RefCell<State>,
}

thread_local! {
    static HASH_CLASS: Rc<Class> = {
        let c = new_class("HASH", &[types().object.clone()], Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("_hashlib"));
        method(&c, "HASH", "update", |_vm, a| {
            let h = this(&a)?;
            let data = data_arg(a.pos.get(1))?;
            h.state.borrow_mut().update(&data);
            Ok(Value::None)
        });
        method(&c, "HASH", "digest", |vm, a| {
            let d = digest_of(vm, &a, "digest")?;
            Ok(Value::Bytes(Rc::new(PyBytes { b: d.into_boxed_slice() })))
        });
        method(&c, "HASH", "hexdigest", |vm, a| {
            let d = digest_of(vm, &a, "hexdigest")?;
            Ok(Value::string(hex(&d)))
        });
        method(&c, "HASH", "copy", |_vm, a| {
            let s = this(&a)?.state.borrow().clone();
            Ok(Value::object(Hash { state: RefCell::new(s) }))
        });
        c
    };
}

/// The digest `digest()`/`hexdigest()` give: a `shake_*` takes its length.
fn digest_of(vm: &mut Vm, a: &Args, what: &str) -> PyResult<Vec<u8>> {
    let h = this(a)?;
    if !h.state.borrow().xof() {
        if a.pos.len() > 1 {
            return Err(type_error(format!("HASH.{what}() takes no arguments ({} given)", a.pos.len() - 1)));
        }
        return Ok(h.state.borrow().digest(0));
    }
    let kw = a.kw.iter().find(|(k, _)| k.as_str() == "length").map(|(_, v)| v);
    let len = match a.pos.get(1).or(kw) {
        Some(v) => vm.index_value(v)?,
        None => return Err(type_error(format!("{what}() missing required argument 'length' (pos 1)"))),
    };
    if len < 0 {
        return Err(value_error("negative digest length"));
    }
    if len >= 1 << 29 {
        return Err(value_error("digest length is too large"));
    }
    Ok(h.state.borrow().digest(len as usize))
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn this(a: &Args) -> PyResult<&Hash> {
    a.pos.first().and_then(|v| v.downcast::<Hash>()).ok_or_else(|| type_error("descriptor requires a '_hashlib.HASH' object"))
}

/// The bytes of a bytes-like argument; a str is refused as CPython does.
pub fn data_arg(v: Option<&Value>) -> PyResult<Vec<u8>> {
    match v {
        Some(Value::Str(_)) => Err(type_error("Strings must be encoded before hashing")),
        Some(v) if aio_interp::types::bytes::bytes_like(v).is_some() => {
            Ok(aio_interp::types::bytes::bytes_like(v).map(|b| b.into_vec()).unwrap_or_default())
        }
        Some(Value::Instance(i)) if matches!(i.builtin_value(), Some(Value::Bytes(_))) => match i.builtin_value() {
            Some(Value::Bytes(b)) => Ok(b.b.to_vec()),
            _ => unreachable!("checked bytes"),
        },
        Some(other) => Err(type_error(format!("object supporting the buffer API required, not '{}'", type_name(other)))),
        None => Err(type_error("update() takes exactly one argument (0 given)")),
    }
}

impl NativeObject for Hash {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        HASH_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        let s = self.state.borrow();
        Ok(match name {
            "name" => Some(Value::str(s.name())),
            "digest_size" => Some(Value::Int(s.digest_size())),
            "block_size" => Some(Value::Int(s.block_size())),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        let st = self.state.borrow();
        let kind = if st.xof() { "HASHXOF" } else { "HASH" };
        Ok(format!("<{} _hashlib.{kind} object @ {:#x}>", st.name(), self as *const Self as usize))
    }
}

/// `_hashlib.new(name, data=b'')`.
fn new(_vm: &mut Vm, mut a: Args) -> PyResult {
    let data = a.take_kw("data").or_else(|| a.take_kw("string"));
    a.take_kw("usedforsecurity");
    let name = match a.pos.first() {
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(other) => return Err(type_error(format!("new() argument 'name' must be str, not {}", type_name(other)))),
        None => return Err(type_error("new() missing required argument 'name' (pos 1)")),
    };
    let Some(mut st) = State::new(&name) else {
        return Err(value_error(format!("unsupported hash type {name}")));
    };
    if let Some(d) = data.or_else(|| a.pos.get(1).cloned()) {
        st.update(&data_arg(Some(&d))?);
    }
    Ok(Value::object(Hash { state: RefCell::new(st) }))
}

/// `blake2(name, data, digest_size)`: `blake2b`/`blake2s` with a digest
/// of `digest_size` bytes (1 to 64, 1 to 32).
fn blake2(vm: &mut Vm, a: Args) -> PyResult {
    use sha3::digest::VariableOutput;
    let [Value::Str(name), data, size] = &a.pos[..] else {
        return Err(type_error("blake2(name, data, digest_size)"));
    };
    let size = vm.index_value(size)?;
    let max = if name.as_str() == "blake2b" { 64 } else { 32 };
    if !(1..=max).contains(&size) {
        return Err(value_error(format!("digest_size must be between 1 and {max} bytes")));
    }
    let mut st = match (name.as_str(), size == max) {
        ("blake2b", true) => State::Blake2b(blake2::Blake2b512::new()),
        ("blake2s", true) => State::Blake2s(blake2::Blake2s256::new()),
        ("blake2b", false) => State::Blake2bVar(blake2::Blake2bVar::new(size as usize).expect("size checked")),
        _ => State::Blake2sVar(blake2::Blake2sVar::new(size as usize).expect("size checked")),
    };
    st.update(&data_arg(Some(data))?);
    Ok(Value::object(Hash { state: RefCell::new(st) }))
}

/// `crc32(data, value=0)`.
fn crc32(_vm: &mut Vm, a: Args) -> PyResult {
    let data = match a.pos.first() {
        Some(v) if aio_interp::types::bytes::bytes_like(v).is_some() => {
            aio_interp::types::bytes::bytes_like(v).map(|b| b.into_vec()).unwrap_or_default()
        }
        Some(Value::Str(_)) => return Err(type_error("a bytes-like object is required, not 'str'")),
        Some(other) => return Err(type_error(format!("a bytes-like object is required, not '{}'", type_name(other)))),
        None => return Err(type_error("crc32() missing required argument 'data' (pos 1)")),
    };
    let start = match a.pos.get(1) {
        Some(Value::Int(i)) => *i as u32,
        _ => 0,
    };
    let mut h = crc32fast::Hasher::new_with_initial(start);
    h.update(&data);
    Ok(Value::Int(h.finalize() as i64))
}

/// The `_hashlib` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module(
        "_hashlib",
        vec![
            ("new", native_fn("new", new)),
            ("blake2", native_fn("blake2", blake2)),
            ("crc32", native_fn("crc32", crc32)),
            ("HASH", Value::Class(HASH_CLASS.with(|c| c.clone()))),
        ],
    ))
}
