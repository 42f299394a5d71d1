//! `bytes`: construction, indexing, and the common bytes methods.

use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::types::{class_function, method, seq_index, type_name, Types};
use crate::value::Value;
use crate::vm::Vm;

fn make(b: Vec<u8>) -> Value {
    Value::Bytes(Rc::new(PyBytes { b: b.into_boxed_slice() }))
}

/// `bytes(x)`.
pub fn construct(vm: &mut Vm, mut args: Args) -> PyResult {
    let enc = args.take_kw("encoding");
    let errors = args.take_kw("errors");
    match args.pos.first() {
        None => Ok(make(vec![])),
        Some(Value::Str(s)) => {
            if enc.is_none() && args.pos.len() < 2 {
                return Err(type_error("string argument without an encoding"));
            }
            let e = enc.or_else(|| args.pos.get(1).cloned()).unwrap_or(Value::str("utf-8"));
            let errors = errors.or_else(|| args.pos.get(2).cloned()).unwrap_or(Value::str("strict"));
            vm.call_method(&Value::Str(s.clone()), "encode", vec![e, errors])
        }
        Some(Value::Int(n)) => {
            if *n < 0 {
                return Err(value_error("negative count"));
            }
            let mut b = crate::ops::try_vec(*n as usize)?;
            b.resize(*n as usize, 0);
            Ok(make(b))
        }
        Some(Value::Bytes(_)) => Ok(args.pos[0].clone()),
        Some(v) => {
            let items = vm.collect(v)?;
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                let n = vm
                    .index_value(&it)
                    .map_err(|_| type_error(format!("'{}' object cannot be interpreted as an integer", type_name(&it))))?;
                if !(0..256).contains(&n) {
                    return Err(value_error("bytes must be in range(0, 256)"));
                }
                out.push(n as u8);
            }
            Ok(make(out))
        }
    }
}

/// `b[i]` / `b[a:b]`.
pub fn getitem(vm: &mut Vm, b: &Rc<PyBytes>, i: &Value) -> PyResult {
    match i {
        Value::Slice(s) => {
            let items: Vec<Value> = b.b.iter().map(|&x| Value::Int(x as i64)).collect();
            let sel = crate::types::tuple::slice_items(vm, &items, s)?;
            Ok(make(sel.iter().map(|v| if let Value::Int(x) = v { *x as u8 } else { 0 }).collect()))
        }
        _ => {
            let n = match i {
                Value::BigInt(_) => Err(crate::ops::index_too_big()),
                _ => vm.index_value(i).map_err(|_| type_error(format!("byte indices must be integers or slices, not {}", type_name(i)))),
            }?;
            seq_index(n, b.b.len()).map(|j| Value::Int(b.b[j] as i64)).ok_or_else(|| index_error("index out of range"))
        }
    }
}

/// `x in b`.
pub fn contains(vm: &mut Vm, b: &PyBytes, x: &Value) -> PyResult<bool> {
    match x {
        Value::Bytes(sub) => Ok(sub.b.is_empty() || b.b.windows(sub.b.len()).any(|w| w == &sub.b[..])),
        _ => {
            let n = vm.index_value(x)?;
            Ok(b.b.contains(&(n as u8)))
        }
    }
}

/// `b % args`: format as text, then encode.
pub fn percent_format(vm: &mut Vm, fmt: &PyBytes, args: &Value) -> PyResult<Value> {
    let text = PyStr::new(&String::from_utf8_lossy(&fmt.b));
    let r = crate::types::str::percent_format(vm, &text, args)?;
    match r {
        Value::Str(s) => Ok(make(s.as_bytes().to_vec())),
        other => Ok(other),
    }
}

fn this(args: &Args) -> PyResult<Rc<PyBytes>> {
    match args.pos.first() {
        Some(Value::Bytes(b)) => Ok(b.clone()),
        _ => Err(type_error("descriptor requires a 'bytes' object")),
    }
}

fn decode(_vm: &mut Vm, args: Args) -> PyResult {
    let b = this(&args)?;
    let (codec, errors) = crate::codecs::codec_args(&args, 1, "decode")?;
    Ok(Value::string(crate::codecs::decode(codec, &b.b, &errors)?))
}

fn hex(_vm: &mut Vm, args: Args) -> PyResult {
    let b = this(&args)?;
    Ok(Value::string(b.b.iter().map(|x| format!("{x:02x}")).collect()))
}

fn fromhex(_vm: &mut Vm, args: Args) -> PyResult {
    let s = match args.pos.get(1) {
        Some(Value::Str(s)) => s.clone(),
        _ => return Err(type_error("fromhex() argument must be str")),
    };
    let digits: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    for (i, pair) in digits.chunks(2).enumerate() {
        let t: String = pair.iter().collect();
        let v = u8::from_str_radix(&t, 16)
            .map_err(|_| value_error(format!("non-hexadecimal number found in fromhex() arg at position {}", i * 2)))?;
        out.push(v);
    }
    Ok(make(out))
}

fn b_len(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(Value::Int(this(&args)?.b.len() as i64))
}

fn via_str(vm: &mut Vm, args: Args, name: &str) -> PyResult {
    let b = this(&args)?;
    let text = Value::string(b.b.iter().map(|&c| c as char).collect());
    let rest: Vec<Value> = args.pos[1..]
        .iter()
        .map(|v| match v {
            Value::Bytes(x) => Value::string(x.b.iter().map(|&c| c as char).collect()),
            other => other.clone(),
        })
        .collect();
    let r = vm.call_method(&text, name, rest)?;
    Ok(to_bytes_deep(&r))
}

fn to_bytes_deep(v: &Value) -> Value {
    match v {
        Value::Str(s) => make(s.chars().map(|c| c as u32 as u8).collect()),
        Value::List(l) => Value::list(l.to_vec().iter().map(to_bytes_deep).collect()),
        Value::Tuple(t) => Value::tuple(t.items.iter().map(to_bytes_deep).collect()),
        other => other.clone(),
    }
}

macro_rules! via {
    ($($f:ident => $name:literal),*) => {
        $(fn $f(vm: &mut Vm, args: Args) -> PyResult { via_str(vm, args, $name) })*
    };
}
via!(b_upper => "upper", b_lower => "lower", b_strip => "strip", b_split => "split", b_replace => "replace", b_startswith => "startswith", b_endswith => "endswith", b_find => "find", b_count => "count", b_index => "index", b_rstrip => "rstrip", b_lstrip => "lstrip");

fn b_join(vm: &mut Vm, args: Args) -> PyResult {
    let b = this(&args)?;
    let items = vm.collect(args.pos.get(1).unwrap_or(&Value::None))?;
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(&b.b);
        }
        match it {
            Value::Bytes(x) => out.extend_from_slice(&x.b),
            other => return Err(type_error(format!("sequence item {i}: expected a bytes-like object, {} found", type_name(other)))),
        }
    }
    Ok(make(out))
}

/// Install the bytes methods.
pub fn install(t: &'static Types) {
    let c = &t.bytes;
    let methods: &[(&str, NativeFnPtr)] = &[
        ("decode", decode),
        ("hex", hex),
        ("__len__", b_len),
        ("upper", b_upper),
        ("lower", b_lower),
        ("strip", b_strip),
        ("lstrip", b_lstrip),
        ("rstrip", b_rstrip),
        ("split", b_split),
        ("replace", b_replace),
        ("startswith", b_startswith),
        ("endswith", b_endswith),
        ("find", b_find),
        ("count", b_count),
        ("index", b_index),
        ("join", b_join),
    ];
    for (name, f) in methods {
        method(c, "bytes", name, *f);
    }
    class_function(c, "fromhex", fromhex, true);
}
