//! `_hashlib`: message digests (md5, sha1, the sha2 family, blake2) from
//! the RustCrypto crates, and `crc32` for `binascii` and `zlib`.

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
    Blake2b(blake2::Blake2b512),
    Blake2s(blake2::Blake2s256),
}

macro_rules! each {
    ($s:expr, $h:ident => $e:expr) => {
        match $s {
            State::Md5($h) => $e,
            State::Sha1($h) => $e,
            State::Sha224($h) => $e,
            State::Sha256($h) => $e,
            State::Sha384($h) => $e,
            State::Sha512($h) => $e,
            State::Blake2b($h) => $e,
            State::Blake2s($h) => $e,
        }
    };
}

impl State {
    fn new(name: &str) -> Option<State> {
        Some(match name.to_ascii_lowercase().as_str() {
            "md5" => State::Md5(md5::Md5::new()),
            "sha1" => State::Sha1(sha1::Sha1::new()),
            "sha224" => State::Sha224(sha2::Sha224::new()),
            "sha256" => State::Sha256(sha2::Sha256::new()),
            "sha384" => State::Sha384(sha2::Sha384::new()),
            "sha512" => State::Sha512(sha2::Sha512::new()),
            "blake2b" => State::Blake2b(blake2::Blake2b512::new()),
            "blake2s" => State::Blake2s(blake2::Blake2s256::new()),
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
            State::Blake2b(_) => "blake2b",
            State::Blake2s(_) => "blake2s",
        }
    }
    fn block_size(&self) -> i64 {
        match self {
            State::Sha384(_) | State::Sha512(_) | State::Blake2b(_) => 128,
            _ => 64,
        }
    }
    fn update(&mut self, data: &[u8]) {
        each!(self, h => h.update(data))
    }
    fn digest(&self) -> Vec<u8> {
        each!(self.clone(), h => h.finalize().to_vec())
    }
    fn digest_size(&self) -> i64 {
        each!(self, h => { let _ = h; self.digest().len() as i64 })
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
        method(&c, "HASH", "digest", |_vm, a| {
            let d = this(&a)?.state.borrow().digest();
            Ok(Value::Bytes(Rc::new(PyBytes { b: d.into_boxed_slice() })))
        });
        method(&c, "HASH", "hexdigest", |_vm, a| {
            let d = this(&a)?.state.borrow().digest();
            Ok(Value::string(hex(&d)))
        });
        method(&c, "HASH", "copy", |_vm, a| {
            let s = this(&a)?.state.borrow().clone();
            Ok(Value::object(Hash { state: RefCell::new(s) }))
        });
        c
    };
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
        Ok(format!("<{} _hashlib.HASH object @ {:#x}>", self.state.borrow().name(), self as *const Self as usize))
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
        vec![("new", native_fn("new", new)), ("crc32", native_fn("crc32", crc32)), ("HASH", Value::Class(HASH_CLASS.with(|c| c.clone())))],
    ))
}
