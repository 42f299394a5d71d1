//! The dunder methods of builtin classes that the VM implements for them
//! natively (`range.__iter__`, `int.__hash__`, `tuple.__contains__`,
//! `function.__call__`): visible, so that `hasattr(x, "__iter__")`,
//! `int.__add__(2, 3)` and the ABCs of `collections.abc` see them. A
//! class keeps a method of its own where it has one.

use std::rc::Rc;

use crate::exceptions::*;
use crate::object::*;
use crate::ops::{self, builtin_payload};
use crate::types::{BuiltinType, Types};
use crate::value::Value;
use crate::vm::Vm;

/// The builtin value of `self` (the payload of a subclass instance).
fn value_of(v: &Value) -> Value {
    builtin_payload(v).unwrap_or_else(|| v.clone())
}

fn this(args: &Args) -> PyResult<Value> {
    args.pos.first().map(value_of).ok_or_else(|| type_error("descriptor needs an argument"))
}

fn other(args: &Args) -> PyResult<Value> {
    args.pos.get(1).map(value_of).ok_or_else(|| type_error("expected 1 argument, got 0"))
}

fn s_iter(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    vm.iter(&v)
}

fn s_len(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    Ok(Value::Int(vm.len(&v)? as i64))
}

fn s_contains(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    let x = args.pos.get(1).cloned().unwrap_or(Value::None);
    Ok(Value::bool(vm.contains(&v, &x)?))
}

fn s_getitem(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    let i = args.pos.get(1).cloned().unwrap_or(Value::None);
    vm.getitem(&v, &i)
}

fn s_hash(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    Ok(Value::Int(vm.hash(&v)?))
}

fn s_repr(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    let outer = args.pos.first().unwrap_or(&v);
    Ok(Value::string(vm.repr_builtin_value(outer, &v)?))
}

fn s_str(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    Ok(Value::string(vm.str_of(&v)?))
}

fn s_format(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    let spec = match args.pos.get(1) {
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(other) => return Err(type_error(format!("format() argument 2 must be str, not {}", crate::types::type_name(other)))),
        None => String::new(),
    };
    Ok(Value::string(vm.format(&v, &spec)?))
}

fn s_bool(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    Ok(Value::bool(vm.truthy(&v)?))
}

fn s_call(vm: &mut Vm, mut args: Args) -> PyResult {
    if args.pos.is_empty() {
        return Err(type_error("descriptor '__call__' needs an argument"));
    }
    let f = args.pos.remove(0);
    vm.call(f, args)
}

/// Are `a` and `b` of kinds a builtin comparison or operator is defined
/// between (numbers with numbers, otherwise the same type)?
fn compatible(a: &Value, b: &Value) -> bool {
    let num = |v: &Value| matches!(v, Value::Int(_) | Value::BigInt(_) | Value::Bool(_) | Value::Float(_));
    let set = |v: &Value| matches!(v, Value::Set(_) | Value::FrozenSet(_));
    (num(a) && num(b)) || (set(a) && set(b)) || std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn compare_slot(vm: &mut Vm, args: Args, op: u8) -> PyResult {
    let (a, b) = (this(&args)?, other(&args)?);
    if !compatible(&a, &b) {
        return Ok(Value::NotImplemented);
    }
    match vm.builtin_compare(op, &a, &b) {
        Ok(r) => Ok(Value::bool(r)),
        Err(e) if e.is(&crate::types::types().exc.type_error) => Ok(Value::NotImplemented),
        Err(e) => Err(e),
    }
}

fn binary_slot(vm: &mut Vm, args: Args, op: u8, reflected: bool) -> PyResult {
    let (a, b) = (this(&args)?, other(&args)?);
    let (x, y) = if reflected { (b, a) } else { (a, b) };
    // `str * int` and `list * int` are the builtin ones besides numbers.
    let seq_repeat = op == ops::MUL && matches!((&x, &y), (Value::Int(_) | Value::Bool(_), _) | (_, Value::Int(_) | Value::Bool(_)));
    let str_format = op == ops::MOD && matches!(x, Value::Str(_));
    if !compatible(&x, &y) && !seq_repeat && !str_format {
        return Ok(Value::NotImplemented);
    }
    match ops::binary_op(vm, op, false, &x, &y) {
        Ok(r) => Ok(r),
        Err(e) if e.is(&crate::types::types().exc.type_error) => Ok(Value::NotImplemented),
        Err(e) => Err(e),
    }
}

fn neg(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    vm.unary_neg(&v)
}

/// `int.__abs__` and `float.__abs__` (`this` is the builtin value, also of a subclass).
fn s_abs(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(match this(&args)? {
        Value::Int(i) => match i.checked_abs() {
            Some(a) => Value::Int(a),
            None => Value::from_bigint(-num_bigint::BigInt::from(i)),
        },
        Value::Bool(b) => Value::Int(b.get() as i64),
        Value::BigInt(b) => Value::from_bigint(num_traits::Signed::abs(&*b)),
        Value::Float(f) => Value::float(f.get().abs()),
        v => return Err(type_error(format!("bad operand type for abs(): '{}'", crate::types::type_name(&v)))),
    })
}

fn pos(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    vm.unary_pos(&v)
}

fn invert(vm: &mut Vm, args: Args) -> PyResult {
    let v = this(&args)?;
    vm.unary_invert(&v)
}

macro_rules! slot_fns {
    ($($name:ident => $body:expr),* $(,)?) => {
        $(fn $name(vm: &mut Vm, args: Args) -> PyResult {
            let f: fn(&mut Vm, Args) -> PyResult = $body;
            f(vm, args)
        })*
    };
}

slot_fns! {
    s_eq => |vm, a| compare_slot(vm, a, ops::EQ),
    s_ne => |vm, a| compare_slot(vm, a, ops::NE),
    s_lt => |vm, a| compare_slot(vm, a, ops::LT),
    s_le => |vm, a| compare_slot(vm, a, ops::LE),
    s_gt => |vm, a| compare_slot(vm, a, ops::GT),
    s_ge => |vm, a| compare_slot(vm, a, ops::GE),
    s_add => |vm, a| binary_slot(vm, a, ops::ADD, false),
    s_radd => |vm, a| binary_slot(vm, a, ops::ADD, true),
    s_sub => |vm, a| binary_slot(vm, a, ops::SUB, false),
    s_rsub => |vm, a| binary_slot(vm, a, ops::SUB, true),
    s_mul => |vm, a| binary_slot(vm, a, ops::MUL, false),
    s_rmul => |vm, a| binary_slot(vm, a, ops::MUL, true),
    s_truediv => |vm, a| binary_slot(vm, a, ops::DIV, false),
    s_rtruediv => |vm, a| binary_slot(vm, a, ops::DIV, true),
    s_floordiv => |vm, a| binary_slot(vm, a, ops::FLOORDIV, false),
    s_rfloordiv => |vm, a| binary_slot(vm, a, ops::FLOORDIV, true),
    s_mod => |vm, a| binary_slot(vm, a, ops::MOD, false),
    s_rmod => |vm, a| binary_slot(vm, a, ops::MOD, true),
    s_pow => |vm, a| binary_slot(vm, a, ops::POW, false),
    s_rpow => |vm, a| binary_slot(vm, a, ops::POW, true),
    s_and => |vm, a| binary_slot(vm, a, ops::AND, false),
    s_or => |vm, a| binary_slot(vm, a, ops::OR, false),
    s_xor => |vm, a| binary_slot(vm, a, ops::XOR, false),
    s_lshift => |vm, a| binary_slot(vm, a, ops::LSHIFT, false),
    s_rshift => |vm, a| binary_slot(vm, a, ops::RSHIFT, false),
}

/// Add `name` to `cls` unless the class defines it already.
fn add(cls: &Rc<Class>, owner: &'static str, name: &str, f: NativeFnPtr) {
    if cls.dict.get_str(name).is_none() {
        crate::types::method(cls, owner, name, f);
    }
}

const COMPARE: [(&str, NativeFnPtr); 6] =
    [("__eq__", s_eq), ("__ne__", s_ne), ("__lt__", s_lt), ("__le__", s_le), ("__gt__", s_gt), ("__ge__", s_ge)];

const ARITHMETIC: [(&str, NativeFnPtr); 12] = [
    ("__add__", s_add),
    ("__radd__", s_radd),
    ("__sub__", s_sub),
    ("__rsub__", s_rsub),
    ("__mul__", s_mul),
    ("__rmul__", s_rmul),
    ("__truediv__", s_truediv),
    ("__rtruediv__", s_rtruediv),
    ("__floordiv__", s_floordiv),
    ("__rfloordiv__", s_rfloordiv),
    ("__mod__", s_mod),
    ("__rmod__", s_rmod),
];

/// Install the protocol methods on the builtin classes.
pub fn install(t: &'static Types) {
    let containers: [(&Rc<Class>, &'static str); 8] = [
        (&t.list, "list"),
        (&t.tuple, "tuple"),
        (&t.dict, "dict"),
        (&t.set, "set"),
        (&t.frozenset, "frozenset"),
        (&t.str_, "str"),
        (&t.bytes, "bytes"),
        (&t.range, "range"),
    ];
    for (c, owner) in containers {
        add(c, owner, "__iter__", s_iter);
        add(c, owner, "__len__", s_len);
        add(c, owner, "__contains__", s_contains);
        if !matches!(c.builtin, Some(BuiltinType::Set | BuiltinType::FrozenSet)) {
            add(c, owner, "__getitem__", s_getitem);
        }
        for (name, f) in COMPARE {
            add(c, owner, name, f);
        }
        add(c, owner, "__repr__", s_repr);
    }
    for (c, owner) in [(&t.list, "list"), (&t.tuple, "tuple"), (&t.str_, "str"), (&t.bytes, "bytes")] {
        add(c, owner, "__add__", s_add);
        add(c, owner, "__mul__", s_mul);
        add(c, owner, "__rmul__", s_rmul);
    }
    add(&t.str_, "str", "__mod__", s_mod);
    // str() of a str subclass is its text, whatever its __repr__.
    add(&t.str_, "str", "__str__", s_str);
    for (c, owner) in [(&t.int, "int"), (&t.float, "float")] {
        for (name, f) in COMPARE.into_iter().chain(ARITHMETIC) {
            add(c, owner, name, f);
        }
        add(c, owner, "__pow__", s_pow);
        add(c, owner, "__rpow__", s_rpow);
        add(c, owner, "__neg__", neg);
        add(c, owner, "__abs__", s_abs);
        add(c, owner, "__pos__", pos);
        add(c, owner, "__bool__", s_bool);
        add(c, owner, "__repr__", s_repr);
        add(c, owner, "__format__", s_format);
    }
    for (name, f) in
        [("__and__", s_and as NativeFnPtr), ("__or__", s_or), ("__xor__", s_xor), ("__lshift__", s_lshift), ("__rshift__", s_rshift)]
    {
        add(&t.int, "int", name, f);
    }
    add(&t.int, "int", "__invert__", invert);
    for (c, owner) in [(&t.set, "set"), (&t.frozenset, "frozenset"), (&t.dict, "dict")] {
        add(c, owner, "__or__", s_or);
        if c.builtin != Some(BuiltinType::Dict) {
            add(c, owner, "__and__", s_and);
            add(c, owner, "__xor__", s_xor);
            add(c, owner, "__sub__", s_sub);
        }
    }
    // Hashable builtins hash by value; the mutable containers are unhashable.
    for (c, owner) in [
        (&t.int, "int"),
        (&t.float, "float"),
        (&t.str_, "str"),
        (&t.bytes, "bytes"),
        (&t.tuple, "tuple"),
        (&t.frozenset, "frozenset"),
        (&t.range, "range"),
        (&t.none_type, "NoneType"),
    ] {
        add(c, owner, "__hash__", s_hash);
    }
    for c in [&t.list, &t.dict, &t.set] {
        if c.dict.get_str("__hash__").is_none() {
            c.dict.set_str("__hash__", Value::None);
        }
    }
    add(&t.none_type, "NoneType", "__bool__", s_bool);
    add(&t.none_type, "NoneType", "__repr__", s_repr);
    for (c, owner) in [(&t.function, "function"), (&t.builtin_function, "builtin_function_or_method"), (&t.method, "method")] {
        add(c, owner, "__call__", s_call);
    }
}
