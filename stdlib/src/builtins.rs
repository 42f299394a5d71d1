//! The builtin functions: `print`, `len`, `sorted`, `min`, `isinstance`, ...

use aio_interp::Flag;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::generator::{drain, Sink};
use aio_interp::iter::{make, IterState};
use aio_interp::object::*;
use aio_interp::ops::lookup_special;
use aio_interp::types::{native_fn, type_name, type_of, types};
use aio_interp::{Value, Vm};

fn nargs(name: &str, args: &Args, min: usize, max: usize) -> PyResult<()> {
    nargs_n(name, args.pos.len(), min, max)
}

/// `nargs` for a fast-call builtin given `n` arguments.
fn nargs_n(name: &str, n: usize, min: usize, max: usize) -> PyResult<()> {
    if n < min || n > max {
        // CPython's wording: "one argument" for a function of one object,
        // the argument checker's for the rest.
        if min == 1 && max == 1 {
            return Err(type_error(format!("{name}() takes exactly one argument ({n} given)")));
        }
        if min == max {
            return Err(type_error(format!("{name} expected {min} arguments, got {n}")));
        }
        if n < min {
            return Err(type_error(format!("{name} expected at least {min} argument{}, got {n}", if min == 1 { "" } else { "s" })));
        }
        return Err(type_error(format!("{name} expected at most {max} argument{}, got {n}", if max == 1 { "" } else { "s" })));
    }
    Ok(())
}

/// Where `print` and friends write.
pub enum Stream {
    /// No `file=`: whatever `sys.stdout` is bound to.
    Stdout,
    /// The process's standard output, named explicitly (`file=sys.__stdout__`).
    RawStdout,
    Stderr,
    Other(Value),
}

pub fn stream_of(v: Option<Value>) -> Stream {
    match v {
        None | Some(Value::None) => Stream::Stdout,
        Some(v) => match v.downcast::<crate::sys::StdStream>() {
            Some(s) if s.is_err => Stream::Stderr,
            Some(_) => Stream::RawStdout,
            None => Stream::Other(v),
        },
    }
}

pub fn write_stream(vm: &mut Vm, s: &Stream, text: &str) -> PyResult<()> {
    match s {
        Stream::Stdout => vm.write_out(text)?,
        Stream::RawStdout => vm.write_out_raw(text),
        Stream::Stderr => vm.write_err(text),
        Stream::Other(f) => {
            vm.call_method(f, "write", vec![Value::str(text)])?;
        }
    }
    Ok(())
}

fn print(vm: &mut Vm, mut args: Args) -> PyResult {
    let sep = match args.take_kw("sep") {
        None | Some(Value::None) => " ".to_string(),
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(other) => return Err(type_error(format!("sep must be None or a string, not {}", type_name(&other)))),
    };
    let end = match args.take_kw("end") {
        None | Some(Value::None) => "\n".to_string(),
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(other) => return Err(type_error(format!("end must be None or a string, not {}", type_name(&other)))),
    };
    let mut file = stream_of(args.take_kw("file"));
    let flush = args.take_kw("flush");
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("'{}' is an invalid keyword argument for print()", k.as_str())));
    }
    if let Stream::Stdout = file {
        if let Some(target) = vm.stdout_rebound() {
            file = Stream::Other(target);
        }
    }
    if let Stream::Other(f) = &file {
        // A file object gets each piece in its own write(), as from CPython.
        for (i, a) in args.pos.iter().enumerate() {
            if i > 0 {
                write_piece(vm, f, &sep)?;
            }
            let s = vm.str_of(a)?;
            write_piece(vm, f, &s)?;
        }
        write_piece(vm, f, &end)?;
        if let Some(fl) = flush {
            if vm.truthy(&fl)? {
                vm.call_method(f, "flush", vec![])?;
            }
        }
        return Ok(Value::None);
    }
    let mut out = String::new();
    for (i, a) in args.pos.iter().enumerate() {
        if i > 0 {
            out.push_str(&sep);
        }
        match a {
            Value::Str(s) => out.push_str(s),
            Value::Int(n) => out.push_str(&n.to_string()),
            other => out.push_str(&vm.str_of(other)?),
        }
    }
    out.push_str(&end);
    write_stream(vm, &file, &out)?;
    if let Some(f) = flush {
        if vm.truthy(&f)? {
            vm.host.flush();
        }
    }
    Ok(Value::None)
}

/// `f.write(text)` for `print`: a StringIO's own write at once.
fn write_piece(vm: &mut Vm, f: &Value, text: &str) -> PyResult<()> {
    if let Some(r) = crate::stringio::write_exact(f, text) {
        return r;
    }
    vm.call_method(f, "write", vec![Value::str(text)])?;
    Ok(())
}

fn input(vm: &mut Vm, args: Args) -> PyResult {
    nargs("input", &args, 0, 1)?;
    if let Some(p) = args.pos.first() {
        let s = vm.str_of(p)?;
        vm.write_out(&s)?;
    }
    vm.host.flush();
    let mut line = read_line_interruptible(vm)?;
    // Ctrl-C that came with the end of input (the terminal closing) is the interrupt.
    vm.poll_interrupt()?;
    if line.is_empty() {
        return Err(err(&types().exc.eof_error, "EOF when reading a line"));
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    Ok(Value::string(String::from_utf8_lossy(&line).into_owned()))
}

/// A line of standard input with its newline (empty at end of input). A
/// signal ends the wait (SIGINT's handler does not restart the read), and
/// Ctrl-C is `KeyboardInterrupt` here as anywhere, not the end of input.
fn read_line_interruptible(vm: &mut Vm) -> PyResult<Vec<u8>> {
    use std::io::BufRead;
    let mut line = Vec::new();
    loop {
        let mut stdin = std::io::stdin().lock();
        let (used, done) = match stdin.fill_buf() {
            Ok([]) => return Ok(line),
            Ok(buf) => match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    line.extend_from_slice(&buf[..=i]);
                    (i + 1, true)
                }
                None => {
                    line.extend_from_slice(buf);
                    (buf.len(), false)
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                drop(stdin);
                vm.check_interrupt()?;
                continue;
            }
            Err(e) => return Err(err(&types().exc.os_error, e.to_string())),
        };
        stdin.consume(used);
        if done {
            return Ok(line);
        }
    }
}

fn repr(vm: &mut Vm, args: &[Value]) -> PyResult {
    nargs_n("repr", args.len(), 1, 1)?;
    vm.repr_value(&args[0])
}

fn ascii(vm: &mut Vm, args: Args) -> PyResult {
    nargs("ascii", &args, 1, 1)?;
    let r = vm.repr_str(&args.pos[0])?;
    Ok(Value::string(aio_interp::types::str::ascii_escape(&r)))
}

fn enumerate(vm: &mut Vm, mut args: Args) -> PyResult {
    if args.pos.len() > 2 {
        return Err(type_error(format!("enumerate() takes at most 2 arguments ({} given)", args.pos.len())));
    }
    if let Some((k, _)) = args.kw.iter().find(|(k, _)| !matches!(k.as_str(), "start" | "iterable")) {
        return Err(type_error(format!("'{}' is an invalid keyword argument for enumerate()", k.as_str())));
    }
    let start = args.take_kw("start").or_else(|| args.pos.get(1).cloned());
    // The start is checked before the iterable is asked for an iterator.
    let start = enumerate_start(vm, start.as_ref())?;
    let src = args
        .pos
        .first()
        .cloned()
        .or_else(|| args.take_kw("iterable"))
        .ok_or_else(|| type_error("enumerate() missing required argument 'iterable'"))?;
    enumerate_from(vm, &src, start)
}

/// `enumerate(xs)` or `enumerate(xs, start)`: no `Args` to build.
fn enumerate_pos(vm: &mut Vm, args: &[Value]) -> PyResult {
    match args {
        [src] => enumerate_from(vm, src, (0, None)),
        [src, start] => {
            let start = enumerate_start(vm, Some(start))?;
            enumerate_from(vm, src, start)
        }
        _ => enumerate(vm, Args::new(args.iter().cloned())),
    }
}

/// An enumerate's first count; a start past i64 counts in big integers
/// from the first item.
fn enumerate_start(vm: &mut Vm, start: Option<&Value>) -> PyResult<(i64, Option<Box<num_bigint::BigInt>>)> {
    Ok(match start {
        Some(Value::BigInt(b)) => (0, Some(Box::new((**b).clone()))),
        Some(s) => (vm.index_value(s)?, None),
        None => (0, None),
    })
}

fn enumerate_from(vm: &mut Vm, src: &Value, (count, big): (i64, Option<Box<num_bigint::BigInt>>)) -> PyResult {
    let it = vm.iter(src)?;
    Ok(make(IterState::Enumerate { it, count, big }))
}

fn zip(vm: &mut Vm, mut args: Args) -> PyResult {
    let strict = match args.take_kw("strict") {
        Some(s) => vm.truthy(&s)?,
        None => false,
    };
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("'{}' is an invalid keyword argument for zip()", k.as_str())));
    }
    Ok(make(IterState::Zip { its: zip_iters(vm, &args.pos)?, strict }))
}

/// `zip(xs, ys)` with no `strict=`: no `Args` to build.
fn zip_pos(vm: &mut Vm, args: &[Value]) -> PyResult {
    Ok(make(IterState::Zip { its: zip_iters(vm, args)?, strict: false }))
}

/// The iterators of zip's arguments (an argument that cannot be iterated
/// raises what `iter()` raises, as CPython 3.11's zip does); two go
/// straight into their shared slice, with no list made first.
fn zip_iters(vm: &mut Vm, args: &[Value]) -> PyResult<Rc<[Value]>> {
    if let [a, b] = args {
        let a = vm.iter(a)?;
        return Ok(Rc::from([a, vm.iter(b)?]));
    }
    let mut its = Vec::with_capacity(args.len());
    for a in args {
        its.push(vm.iter(a)?);
    }
    Ok(its.into())
}

fn map(vm: &mut Vm, args: Args) -> PyResult {
    if args.pos.len() < 2 {
        return Err(type_error("map() must have at least two arguments."));
    }
    let f = args.pos[0].clone();
    let mut its = Vec::new();
    for a in &args.pos[1..] {
        its.push(vm.iter(a)?);
    }
    Ok(make(IterState::Map { f, its }))
}

fn filter(vm: &mut Vm, args: Args) -> PyResult {
    nargs("filter", &args, 2, 2)?;
    let it = vm.iter(&args.pos[1])?;
    Ok(make(IterState::Filter { f: args.pos[0].clone(), it, keep_true: true }))
}

fn sorted(vm: &mut Vm, mut args: Args) -> PyResult {
    if args.pos.len() != 1 {
        return Err(type_error(format!("sorted expected 1 argument, got {}", args.pos.len())));
    }
    let key = args.take_kw("key");
    let reverse = match args.take_kw("reverse") {
        Some(r) => vm.truthy(&r)?,
        None => false,
    };
    sorted_of(vm, &args.pos[0], key, reverse)
}

/// `sorted(xs)`: no `Args` to build.
fn sorted_pos(vm: &mut Vm, args: &[Value]) -> PyResult {
    match args {
        [x] => sorted_of(vm, x, None, false),
        _ => sorted(vm, Args::new(args.iter().cloned())),
    }
}

fn sorted_of(vm: &mut Vm, x: &Value, key: Option<Value>, reverse: bool) -> PyResult {
    let items = vm.collect(x)?;
    let r = aio_interp::types::list::sort_values(vm, items, key, reverse)?;
    Ok(Value::list(r))
}

fn reversed(vm: &mut Vm, args: Args) -> PyResult {
    // A class: its constructor's wording.
    if args.pos.len() != 1 {
        return Err(type_error(format!("reversed expected 1 argument, got {}", args.pos.len())));
    }
    let v = &args.pos[0];
    Ok(match v {
        Value::List(l) => make(IterState::ListRev { list: l.clone(), left: l.len() }),
        Value::Tuple(t) => {
            let mut items = t.items.to_vec();
            items.reverse();
            make(IterState::List { list: Rc::new(PyList::new(items)), idx: 0 })
        }
        Value::Range(r) => {
            let n = r.len();
            let last = if n == 0 { r.start } else { r.get(n - 1) };
            make(IterState::Range { next: last, left: n, step: -r.step })
        }
        Value::Str(s) => {
            let rev: Vec<Value> = s.chars().rev().map(|c| Value::string(c.to_string())).collect();
            make(IterState::List { list: Rc::new(PyList::new(rev)), idx: 0 })
        }
        _ => {
            if let Some(f) = lookup_special(v, "__reversed__") {
                return vm.call(f, Args::new([v.clone()]));
            }
            if lookup_special(v, "__getitem__").is_some() && lookup_special(v, "__len__").is_some() {
                let n = vm.len(v)? as i64;
                return Ok(make(IterState::Seq { seq: v.clone(), idx: n - 1, reverse: true }));
            }
            if let Value::Dict(d) = v {
                let mut keys = d.keys();
                keys.reverse();
                return Ok(make(IterState::List { list: Rc::new(PyList::new(keys)), idx: 0 }));
            }
            if let Value::Object(_) = v {
                if let Some(f) = lookup_special(v, "__reversed__") {
                    return vm.call(f, Args::new([v.clone()]));
                }
            }
            return Err(type_error(format!("'{}' object is not reversible", type_name(v))));
        }
    })
}

fn min_max(vm: &mut Vm, mut args: Args, is_max: bool) -> PyResult {
    let name = if is_max { "max" } else { "min" };
    let key = args.take_kw("key").filter(|k| !k.is_none());
    let default = args.take_kw("default");
    if let Some((k, _)) = args.kw.first() {
        return Err(type_error(format!("'{}' is an invalid keyword argument for {name}()", k.as_str())));
    }
    min_max_of(vm, &args.pos, key, default, is_max)
}

/// `min(a, b)`, `max(xs)`: no `Args` to build; two or more arguments are
/// compared at once, without `min_max_of`'s frame.
fn min_pos(vm: &mut Vm, args: &[Value]) -> PyResult {
    match args {
        [_, _, ..] => best_of(vm, args, false),
        _ => min_max_of(vm, args, None, None, false),
    }
}
fn max_pos(vm: &mut Vm, args: &[Value]) -> PyResult {
    match args {
        [_, _, ..] => best_of(vm, args, true),
        _ => min_max_of(vm, args, None, None, true),
    }
}

/// The least (greatest with `is_max`) of a list, tuple, set or frozenset
/// holding only ints, read in place; `None` when it is empty, holds
/// anything else or is another kind of value (the general path answers).
fn best_int_in(src: &Value, is_max: bool) -> Option<i64> {
    fn best<'a>(mut items: impl Iterator<Item = &'a Value>, is_max: bool) -> Option<i64> {
        let Value::Int(mut best) = *items.next()? else { return None };
        for it in items {
            let Value::Int(x) = *it else { return None };
            if (is_max && x > best) || (!is_max && x < best) {
                best = x;
            }
        }
        Some(best)
    }
    match src {
        Value::List(l) => best(l.borrow().iter(), is_max),
        Value::Tuple(t) => best(t.items.iter(), is_max),
        Value::Set(s) | Value::FrozenSet(s) => best(s.s.borrow().entries().map(|(_, k)| k), is_max),
        _ => None,
    }
}

/// The least of `items` (the greatest with `is_max`), the first of equals.
fn best_of(vm: &mut Vm, items: &[Value], is_max: bool) -> PyResult {
    let Some((first, rest)) = items.split_first() else { unreachable!("best_of is given at least one item") };
    let mut best = first;
    for it in rest {
        let better = match (it, best) {
            // Equal ints are the same value: which one is kept cannot show.
            (Value::Int(x), Value::Int(y)) => (is_max && x > y) || (!is_max && x < y),
            _ if is_max => vm.gt(it, best)?,
            _ => vm.lt(it, best)?,
        };
        if better {
            best = it;
        }
    }
    Ok(best.clone())
}

fn min_max_of(vm: &mut Vm, pos: &[Value], key: Option<Value>, default: Option<Value>, is_max: bool) -> PyResult {
    let name = if is_max { "max" } else { "min" };
    if let ([src], None) = (pos, &key) {
        if let Some(best) = best_int_in(src, is_max) {
            return Ok(Value::Int(best));
        }
    }
    // The items are compared where they are (`min(a, b)` copies nothing).
    let collected;
    let items: &[Value] = match pos.len() {
        0 => return Err(type_error(format!("{name} expected at least 1 argument, got 0"))),
        1 => {
            collected = vm.collect(&pos[0])?;
            &collected
        }
        _ => {
            if default.is_some() {
                return Err(type_error(format!("Cannot specify a default for {name}() with multiple positional arguments")));
            }
            pos
        }
    };
    let Some(first) = items.first() else {
        return match default {
            Some(d) => Ok(d),
            None => Err(value_error(format!("{name}() arg is an empty sequence"))),
        };
    };
    let Some(key) = key else {
        return best_of(vm, items, is_max);
    };
    let mut best = first;
    let mut best_key = vm.call_pos(&key, [best.clone()])?;
    for it in &items[1..] {
        let k = vm.call_pos(&key, [it.clone()])?;
        let better = if is_max { vm.gt(&k, &best_key)? } else { vm.lt(&k, &best_key)? };
        if better {
            best = it;
            best_key = k;
        }
    }
    Ok(best.clone())
}

fn min(vm: &mut Vm, args: Args) -> PyResult {
    min_max(vm, args, false)
}
fn max(vm: &mut Vm, args: Args) -> PyResult {
    min_max(vm, args, true)
}

fn sum(vm: &mut Vm, mut args: Args) -> PyResult {
    let start = args.take_kw("start").or_else(|| args.pos.get(1).cloned()).unwrap_or(Value::Int(0));
    if let Value::Str(_) = start {
        return Err(type_error("sum() can't sum strings [use ''.join(seq) instead]"));
    }
    let src = args.pos.first().cloned().ok_or_else(|| type_error("sum() takes at least 1 positional argument (0 given)"))?;
    let mut acc = start;
    // A list or tuple is walked in place: numbers are added under one
    // borrow, anything else by `+` (which may change the list: its length
    // is read again, as its iterator would).
    if let Value::List(_) | Value::Tuple(_) = &src {
        let mut i = 0;
        loop {
            let x = match &src {
                Value::List(l) => add_plain_run(&mut acc, &l.borrow(), &mut i),
                Value::Tuple(t) => add_plain_run(&mut acc, &t.items, &mut i),
                _ => None,
            };
            match x {
                Some(x) => acc = vm.binary(0, &acc, &x)?,
                None => return Ok(acc),
            }
        }
    }
    let it = vm.iter(&src)?;
    // Plain left-to-right addition: CPython 3.11 does not compensate float
    // sums (`sum([0.1] * 10)` is `0.9999999999999999`).
    loop {
        let x = match (&acc, &it) {
            // A generator of ints is drained: they are added up in its loop.
            (Value::Int(a), Value::Generator(g)) if g.kind == GenKind::Generator => {
                let mut sink = Sink::SumInt(*a);
                let r = drain(vm, g, &mut sink);
                if let Sink::SumInt(total) = sink {
                    acc = Value::Int(total);
                }
                match r? {
                    Some(x) => x,
                    None => break,
                }
            }
            _ => match vm.next(&it)? {
                Some(x) => x,
                None => break,
            },
        };
        acc = match add_plain(&acc, &x) {
            Some(r) => r,
            None => vm.binary(0, &acc, &x)?,
        };
    }
    Ok(acc)
}

/// `acc + x` when both are ints (without overflow) or floats, exact
/// ints mixing with floats as `+` mixes them; `None` when `+` must run.
#[inline]
fn add_plain(acc: &Value, x: &Value) -> Option<Value> {
    Some(match (acc, x) {
        (Value::Int(a), Value::Int(b)) => Value::Int(a.checked_add(*b)?),
        (Value::Float(a), Value::Float(b)) => Value::float(a.get() + b.get()),
        (Value::Float(a), Value::Int(b)) if b.unsigned_abs() < 1 << 53 => Value::float(a.get() + *b as f64),
        (Value::Int(a), Value::Float(b)) if a.unsigned_abs() < 1 << 53 => Value::float(*a as f64 + b.get()),
        _ => return None,
    })
}

/// Add `items[*i..]` to `acc` while `add_plain` can; the first item that
/// needs `+` is returned, with `*i` past it.
fn add_plain_run(acc: &mut Value, items: &[Value], i: &mut usize) -> Option<Value> {
    while let Some(x) = items.get(*i) {
        *i += 1;
        match add_plain(acc, x) {
            Some(r) => *acc = r,
            None => return Some(x.clone()),
        }
    }
    None
}

fn abs(vm: &mut Vm, args: &[Value]) -> PyResult {
    nargs_n("abs", args.len(), 1, 1)?;
    let v = &args[0];
    match v {
        Value::Int(i) => Ok(match i.checked_abs() {
            Some(a) => Value::Int(a),
            None => Value::from_bigint(num_bigint::BigInt::from(*i) * -1),
        }),
        Value::Bool(b) => Ok(Value::Int(b.get() as i64)),
        Value::BigInt(b) => Ok(Value::from_bigint(num_traits::Signed::abs(&**b))),
        Value::Float(f) => Ok(Value::float(f.get().abs())),
        _ => match lookup_special(v, "__abs__") {
            Some(f) => vm.call(f, Args::new([v.clone()])),
            None => Err(type_error(format!("bad operand type for abs(): '{}'", type_name(v)))),
        },
    }
}

/// `round(x)` with no keywords: a float or an int answered here as their
/// `__round__` would, anything else by `round`.
fn round_pos(vm: &mut Vm, args: &[Value]) -> PyResult {
    match args {
        [Value::Float(x)] => aio_interp::types::float::round_to_int(x.get()),
        [Value::Int(i)] => Ok(Value::Int(*i)),
        _ => round(vm, Args::new(args.iter().cloned())),
    }
}

fn round(vm: &mut Vm, mut args: Args) -> PyResult {
    if args.pos.len() + args.kw.len() > 2 {
        return Err(type_error(format!("round() takes at most 2 arguments ({} given)", args.pos.len() + args.kw.len())));
    }
    let nd = args.take_kw("ndigits").or_else(|| args.pos.get(1).cloned());
    let v = args
        .pos
        .first()
        .cloned()
        .or_else(|| args.take_kw("number"))
        .ok_or_else(|| type_error("round() missing required argument 'number' (pos 1)"))?;
    let f = match &v {
        Value::Float(_) | Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => {
            let cls = type_of(&v);
            cls.lookup("__round__")
        }
        _ => lookup_special(&v, "__round__"),
    };
    match f {
        Some(f) => {
            let mut a = Args::new([v.clone()]);
            if let Some(n) = nd {
                a.pos.push(n);
            }
            vm.call(f, a)
        }
        None => Err(type_error(format!("type {} doesn't define __round__ method", type_name(&v)))),
    }
}

fn divmod(vm: &mut Vm, args: &[Value]) -> PyResult {
    nargs_n("divmod", args.len(), 2, 2)?;
    let (a, b) = (&args[0], &args[1]);
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        // The common case, in machine words: Python's floor division and
        // its modulo, whose sign follows the divisor.
        if let (Some(q), Some(r)) = (x.checked_div_euclid(*y), x.checked_rem_euclid(*y)) {
            let (q, r) = if r != 0 && *y < 0 { (q - 1, r + y) } else { (q, r) };
            return Ok(Value::tuple(vec![Value::Int(q), Value::Int(r)]));
        }
    }
    if let (Value::Float(_) | Value::Int(_), Value::Float(_) | Value::Int(_)) = (a, b) {
        if matches!(a, Value::Float(_)) || matches!(b, Value::Float(_)) {
            let x = aio_interp::types::float::to_float(vm, a)?;
            let y = aio_interp::types::float::to_float(vm, b)?;
            if y == 0.0 {
                return Err(zero_division("float divmod()"));
            }
            let (q, r) = aio_interp::numfmt::float_divmod(x, y);
            return Ok(Value::tuple(vec![Value::float(q), Value::float(r)]));
        }
    }
    // `a.__divmod__(b)`, then `b.__rdivmod__(a)`, each passing with NotImplemented.
    let mut declined = false;
    for (x, y, name) in [(a, b, "__divmod__"), (b, a, "__rdivmod__")] {
        if let Some(f) = lookup_special(x, name) {
            let r = vm.call(f, Args::new([x.clone(), y.clone()]))?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
            declined = true;
        }
    }
    let q = vm.binary(aio_interp::ops::FLOORDIV, a, b).map_err(|e| {
        if e.is(&types().exc.zero_division_error) {
            zero_division("integer division or modulo by zero")
        } else if e.is(&types().exc.type_error) && (declined || aio_interp::ops::lookup_special(b, "__rdivmod__").is_none()) {
            type_error(format!("unsupported operand type(s) for divmod(): '{}' and '{}'", type_name(a), type_name(b)))
        } else {
            e
        }
    })?;
    let r = vm.binary(aio_interp::ops::MOD, a, b)?;
    Ok(Value::tuple(vec![q, r]))
}

fn pow(vm: &mut Vm, mut args: Args) -> PyResult {
    let m = args.take_kw("mod").or_else(|| args.pos.get(2).cloned());
    let base = args.pos.first().cloned().or_else(|| args.take_kw("base")).unwrap_or(Value::None);
    let exp = args.pos.get(1).cloned().or_else(|| args.take_kw("exp")).unwrap_or(Value::None);
    match m {
        None | Some(Value::None) => vm.binary(aio_interp::ops::POW, &base, &exp),
        Some(m) => {
            if aio_interp::types::complex::get(&base).is_some() || aio_interp::types::complex::get(&exp).is_some() {
                return Err(value_error("complex modulo"));
            }
            let (Some(b), Some(e), Some(md)) =
                (aio_interp::types::int::to_bigint(&base), aio_interp::types::int::to_bigint(&exp), aio_interp::types::int::to_bigint(&m))
            else {
                return Err(type_error("pow() 3rd argument not allowed unless all arguments are integers"));
            };
            if num_traits::Zero::is_zero(&md) {
                return Err(value_error("pow() 3rd argument cannot be 0"));
            }
            let e_neg = num_traits::Signed::is_negative(&e);
            let base = if e_neg {
                match mod_inverse(&b, &md) {
                    Some(inv) => inv,
                    None => return Err(value_error("base is not invertible for the given modulus")),
                }
            } else {
                b
            };
            let e = num_traits::Signed::abs(&e);
            let r = base.modpow(&e, &md);
            // Python's result has the sign of the modulus.
            let r = if !num_traits::Zero::is_zero(&r) && (num_traits::Signed::is_negative(&r) != num_traits::Signed::is_negative(&md)) {
                r + &md
            } else {
                r
            };
            Ok(Value::from_bigint(r))
        }
    }
}

fn mod_inverse(a: &num_bigint::BigInt, m: &num_bigint::BigInt) -> Option<num_bigint::BigInt> {
    use num_integer::Integer;
    let e = a.mod_floor(m).extended_gcd(m);
    if e.gcd != num_bigint::BigInt::from(1) && e.gcd != num_bigint::BigInt::from(-1) {
        return None;
    }
    Some(e.x.mod_floor(m))
}

fn any(vm: &mut Vm, args: &[Value]) -> PyResult {
    nargs_n("any", args.len(), 1, 1)?;
    Ok(Value::bool(find_truth(vm, &args[0], true)?))
}

fn all(vm: &mut Vm, args: &[Value]) -> PyResult {
    nargs_n("all", args.len(), 1, 1)?;
    Ok(Value::bool(!find_truth(vm, &args[0], false)?))
}

/// Does iterating `src` reach a value whose truth is `wanted`? The
/// iteration stops there. A generator is drained: the values whose truth
/// needs no call are tested in its loop.
fn find_truth(vm: &mut Vm, src: &Value, wanted: bool) -> PyResult<bool> {
    let it = vm.iter(src)?;
    if let Value::Generator(g) = &it {
        if g.kind == GenKind::Generator {
            let mut sink = Sink::Until(wanted);
            while let Some(x) = drain(vm, g, &mut sink)? {
                if vm.truthy(&x)? == wanted {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
    }
    while let Some(x) = vm.next(&it)? {
        if vm.truthy(&x)? == wanted {
            return Ok(true);
        }
    }
    Ok(false)
}

fn iter(vm: &mut Vm, args: Args) -> PyResult {
    nargs("iter", &args, 1, 2)?;
    if args.pos.len() == 2 {
        return Ok(make(IterState::Callable { f: args.pos[0].clone(), sentinel: args.pos[1].clone() }));
    }
    vm.iter(&args.pos[0])
}

fn next(vm: &mut Vm, args: Args) -> PyResult {
    nargs("next", &args, 1, 2)?;
    let it = &args.pos[0];
    if !vm.is_iterator(it) {
        return Err(type_error(format!("'{}' object is not an iterator", type_name(it))));
    }
    if let Value::Generator(g) = it {
        // A generator's return value travels in StopIteration.
        if args.pos.len() == 1 {
            return vm.call_method(&Value::Generator(g.clone()), "__next__", vec![]);
        }
    }
    match vm.next(it)? {
        Some(v) => Ok(v),
        None => match args.pos.get(1) {
            Some(d) => Ok(d.clone()),
            None => Err(stop_iteration(Value::None)),
        },
    }
}

fn issubclass(vm: &mut Vm, args: &[Value]) -> PyResult {
    nargs_n("issubclass", args.len(), 2, 2)?;
    Ok(Value::bool(vm.issubclass(&args[0], &args[1])?))
}

fn id(_vm: &mut Vm, args: &[Value]) -> PyResult {
    nargs_n("id", args.len(), 1, 1)?;
    Ok(Value::Int(id_of(&args[0])))
}

/// `id(v)`.
pub fn id_of(v: &Value) -> i64 {
    match v.ptr() {
        Some(p) => p as i64,
        None => match v {
            Value::Int(i) => 0x1000_0000 + i.wrapping_mul(32),
            Value::Float(f) => f.get().to_bits() as i64 >> 2,
            Value::Bool(b) => 0x900 + b.get() as i64,
            _ => 0x800,
        },
    }
}

fn hash(vm: &mut Vm, args: &[Value]) -> PyResult {
    nargs_n("hash", args.len(), 1, 1)?;
    Ok(Value::Int(vm.hash(&args[0])?))
}

fn callable(_vm: &mut Vm, args: &[Value]) -> PyResult {
    nargs_n("callable", args.len(), 1, 1)?;
    Ok(Value::bool(aio_interp::types::is_callable(&args[0])))
}

fn name_arg(v: &Value) -> PyResult<Rc<PyStr>> {
    match v {
        Value::Str(s) => Ok(aio_interp::intern::intern(s.as_str())),
        other => Err(type_error(format!("attribute name must be string, not '{}'", type_name(other)))),
    }
}

fn getattr(vm: &mut Vm, args: &[Value]) -> PyResult {
    nargs_n("getattr", args.len(), 2, 3)?;
    let name = name_arg(&args[1])?;
    if let Some(default) = args.get(2) {
        return Ok(vm.lookup_attr(&args[0], &name)?.unwrap_or_else(|| default.clone()));
    }
    vm.getattr(&args[0], &name)
}

fn setattr(vm: &mut Vm, args: Args) -> PyResult {
    nargs("setattr", &args, 3, 3)?;
    let name = name_arg(&args.pos[1])?;
    vm.setattr(&args.pos[0], &name, args.pos[2].clone())?;
    Ok(Value::None)
}

fn hasattr(vm: &mut Vm, args: &[Value]) -> PyResult {
    nargs_n("hasattr", args.len(), 2, 2)?;
    let name = name_arg(&args[1])?;
    Ok(Value::bool(vm.lookup_attr(&args[0], &name)?.is_some()))
}

fn delattr(vm: &mut Vm, args: Args) -> PyResult {
    nargs("delattr", &args, 2, 2)?;
    let name = name_arg(&args.pos[1])?;
    vm.delattr(&args.pos[0], &name)?;
    Ok(Value::None)
}

fn chr(vm: &mut Vm, args: &[Value]) -> PyResult {
    nargs_n("chr", args.len(), 1, 1)?;
    let n = match &args[0] {
        Value::BigInt(_) => i64::MAX,
        v => vm.index_value(v)?,
    };
    aio_interp::ops::c_int(n)?;
    if !(0..0x110000).contains(&n) {
        return Err(value_error("chr() arg not in range(0x110000)"));
    }
    match char::from_u32(n as u32) {
        Some(c) => Ok(Value::string(c.to_string())),
        None => Err(value_error("surrogate characters are not supported")),
    }
}

fn ord(_vm: &mut Vm, args: &[Value]) -> PyResult {
    nargs_n("ord", args.len(), 1, 1)?;
    match &args[0] {
        Value::Str(s) => {
            let n = s.char_len();
            if n != 1 {
                return Err(type_error(format!("ord() expected a character, but string of length {n} found")));
            }
            Ok(Value::Int(s.chars().next().map(|c| c as i64).unwrap_or(0)))
        }
        Value::Bytes(b) => {
            if b.b.len() != 1 {
                return Err(type_error(format!("ord() expected a character, but string of length {} found", b.b.len())));
            }
            Ok(Value::Int(b.b[0] as i64))
        }
        other => Err(type_error(format!("ord() expected string of length 1, but {} found", type_name(other)))),
    }
}

fn radix(vm: &mut Vm, args: &Args, name: &str, spec: &str) -> PyResult {
    nargs(name, args, 1, 1)?;
    let v = &args.pos[0];
    let n = match v {
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => v.clone(),
        _ => Value::Int(vm.index_value(v)?),
    };
    Ok(Value::string(vm.format(&n, spec)?))
}
fn hex(vm: &mut Vm, args: Args) -> PyResult {
    radix(vm, &args, "hex", "#x")
}
fn oct(vm: &mut Vm, args: Args) -> PyResult {
    radix(vm, &args, "oct", "#o")
}
fn bin(vm: &mut Vm, args: Args) -> PyResult {
    radix(vm, &args, "bin", "#b")
}

fn format(vm: &mut Vm, args: Args) -> PyResult {
    nargs("format", &args, 1, 2)?;
    let spec = match args.pos.get(1) {
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(other) => return Err(type_error(format!("format() argument 2 must be str, not {}", type_name(other)))),
        None => String::new(),
    };
    Ok(Value::string(vm.format(&args.pos[0], &spec)?))
}

fn vars(vm: &mut Vm, args: Args) -> PyResult {
    nargs("vars", &args, 0, 1)?;
    match args.pos.first() {
        Some(Value::Instance(i)) if i.has_dict() => Ok(i.dict().map(Value::Dict).unwrap_or(Value::None)),
        Some(v @ (Value::Class(_) | Value::Module(_) | Value::Function(_))) => vm.getattr(v, &aio_interp::intern::intern("__dict__")),
        Some(_) => Err(type_error("vars() argument must have __dict__ attribute")),
        None => globals(vm, Args::default()),
    }
}

fn globals(vm: &mut Vm, _args: Args) -> PyResult {
    let g = match vm.frames.last() {
        Some(f) => f.globals.clone(),
        None => return Ok(Value::Dict(Rc::new(PyDict::new()))),
    };
    let d = Rc::new(PyDict::new());
    for (k, v) in g.entries() {
        d.set_str_rc(k, v);
    }
    Ok(Value::Dict(d))
}

pub(crate) fn locals(vm: &mut Vm, _args: Args) -> PyResult {
    let Some(f) = vm.frames.last() else { return Ok(Value::Dict(Rc::new(PyDict::new()))) };
    if let Some(ns) = &f.locals {
        return Ok(Value::Dict(ns.clone()));
    }
    if f.code.name.as_str() == "<module>" {
        return globals(vm, Args::default());
    }
    let d = Rc::new(PyDict::new());
    let code = f.code.clone();
    let base = f.base;
    for (i, name) in code.varnames.iter().enumerate() {
        let v = match &vm.stack[base + i] {
            Value::Cell(c) => c.v.borrow().clone(),
            other => other.clone(),
        };
        if !v.is_undef() {
            d.set_str_rc(name.clone(), v);
        }
    }
    Ok(Value::Dict(d))
}

fn dir(vm: &mut Vm, args: Args) -> PyResult {
    match args.pos.first() {
        None => {
            let g = globals(vm, Args::default())?;
            let mut keys: Vec<String> = match &g {
                Value::Dict(d) => d.keys().iter().filter_map(|k| k.as_str().map(|s| s.to_string())).collect(),
                _ => vec![],
            };
            keys.sort();
            Ok(Value::list(keys.iter().map(|k| Value::str(k)).collect()))
        }
        Some(v) => {
            // A class's own __dir__ (or its metaclass's, for a class) decides;
            // a module's `__dir__()` function, for a module (PEP 562).
            let own = match v {
                Value::Module(m) => m.get("__dir__").map(|f| (f, Args::new([]))),
                _ => lookup_special(v, "__dir__").filter(|f| !matches!(f, Value::Native(_))).map(|f| (f, Args::new([v.clone()]))),
            };
            if let Some((f, a)) = own {
                let r = vm.call(f, a)?;
                let mut items = vm.collect(&r)?;
                let mut keyed = Vec::with_capacity(items.len());
                for it in items.drain(..) {
                    keyed.push((vm.str_of(&it)?, it));
                }
                keyed.sort_by(|a, b| a.0.cmp(&b.0));
                return Ok(Value::list(keyed.into_iter().map(|(_, v)| v).collect()));
            }
            let mut names: Vec<String> = Vec::new();
            match v {
                Value::Module(m) => names.extend(m.entries().iter().map(|(k, _)| k.as_str().to_string())),
                Value::Class(c) => {
                    for k in c.mro_iter() {
                        names.extend(k.dict.keys().iter().filter_map(|x| x.as_str().map(|s| s.to_string())));
                    }
                }
                Value::Instance(i) => {
                    names.extend(i.dict_keys().iter().filter_map(|x| x.as_str().map(|s| s.to_string())));
                    for k in i.class().mro_iter() {
                        names.extend(k.dict.keys().iter().filter_map(|x| x.as_str().map(|s| s.to_string())));
                    }
                }
                other => {
                    for k in type_of(other).mro_iter() {
                        names.extend(k.dict.keys().iter().filter_map(|x| x.as_str().map(|s| s.to_string())));
                    }
                }
            }
            names.sort();
            names.dedup();
            Ok(Value::list(names.iter().map(|k| Value::str(k)).collect()))
        }
    }
}

fn anext(vm: &mut Vm, args: Args) -> PyResult {
    nargs("anext", &args, 1, 2)?;
    let it = args.pos[0].clone();
    let is_agen = matches!(&it, Value::Generator(g) if g.kind == GenKind::AsyncGenerator);
    if !is_agen && lookup_special(&it, "__anext__").is_none() {
        return Err(type_error(format!("'{}' object is not an async iterator", type_name(&it))));
    }
    let a = aio_interp::generator::get_anext(vm, it)?;
    if let Some(default) = args.pos.get(1).cloned() {
        // An awaitable that gives the default instead of StopAsyncIteration.
        let m = crate::load_asyncio(vm)?;
        let f = vm.getattr(&m, &aio_interp::intern::intern("__aio_anext_default"))?;
        return vm.call(f, Args::new([a, default]));
    }
    Ok(a)
}

fn aiter(vm: &mut Vm, args: Args) -> PyResult {
    nargs("aiter", &args, 1, 1)?;
    aio_interp::generator::get_aiter(vm, args.pos[0].clone())
}

/// `__import__(name, globals=None, locals=None, fromlist=(), level=0)`: the
/// module, or for `a.b` without a fromlist the package `a`, as `import` binds.
fn dunder_import(vm: &mut Vm, mut args: Args) -> PyResult {
    let fromlist = args.take_kw("fromlist").or_else(|| args.pos.get(3).cloned());
    let _ = (args.take_kw("globals"), args.take_kw("locals"), args.take_kw("level"));
    let name = match args.pos.first() {
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(other) => return Err(type_error(format!("__import__() argument 1 must be str, not {}", type_name(other)))),
        None => return Err(type_error("__import__() missing required argument 'name' (pos 1)")),
    };
    let m = vm.import_module(&name)?;
    let wants_leaf = match &fromlist {
        None | Some(Value::None) => false,
        Some(v) => vm.truthy(v)?,
    };
    match name.split_once('.') {
        Some((top, _)) if !wants_leaf => vm.import_module(top),
        _ => Ok(m),
    }
}

fn breakpoint(_vm: &mut Vm, _args: Args) -> PyResult {
    Ok(Value::None)
}

/// Install the builtin functions, classes and constants into `vm.builtins`.
pub fn install(vm: &mut Vm) {
    let t = types();
    let b = &vm.builtins;
    let fns: &[(&str, NativeFnPtr)] = &[
        ("print", print),
        ("input", input),
        ("ascii", ascii),
        ("map", map),
        ("filter", filter),
        ("reversed", reversed),
        ("sum", sum),
        ("pow", pow),
        ("iter", iter),
        ("next", next),
        ("setattr", setattr),
        ("delattr", delattr),
        ("hex", hex),
        ("oct", oct),
        ("bin", bin),
        ("format", format),
        ("vars", vars),
        ("globals", globals),
        ("locals", locals),
        ("dir", dir),
        ("anext", anext),
        ("aiter", aiter),
        ("breakpoint", breakpoint),
        ("__import__", dunder_import),
        ("open", crate::file::open),
        ("exec", crate::exec::exec),
        ("eval", crate::exec::eval),
        ("compile", crate::exec::compile),
    ];
    for (name, f) in fns {
        b.set_str(name, native_fn(name, *f));
    }
    let fast: &[(&str, FastFnPtr)] = &[
        ("len", aio_interp::types::object::builtin_len),
        ("repr", repr),
        ("issubclass", issubclass),
        ("any", any),
        ("all", all),
        ("isinstance", aio_interp::types::object::builtin_isinstance),
        ("abs", abs),
        ("divmod", divmod),
        ("chr", chr),
        ("ord", ord),
        ("id", id),
        ("hash", hash),
        ("callable", callable),
        ("getattr", getattr),
        ("hasattr", hasattr),
    ];
    for (name, f) in fast {
        b.set_str(name, aio_interp::types::native_fast(name, *f));
    }
    let fast_kw: &[(&str, FastFnPtr, NativeFnPtr)] = &[
        ("enumerate", enumerate_pos, enumerate),
        ("zip", zip_pos, zip),
        ("sorted", sorted_pos, sorted),
        ("min", min_pos, min),
        ("max", max_pos, max),
        ("round", round_pos, round),
    ];
    for (name, fast, full) in fast_kw {
        b.set_str(name, aio_interp::types::native_fast_kw(name, *fast, *full));
    }
    let classes = [
        ("object", &t.object),
        ("type", &t.type_),
        ("int", &t.int),
        ("bool", &t.bool_),
        ("float", &t.float),
        ("str", &t.str_),
        ("bytes", &t.bytes),
        ("list", &t.list),
        ("tuple", &t.tuple),
        ("dict", &t.dict),
        ("set", &t.set),
        ("frozenset", &t.frozenset),
        ("range", &t.range),
        ("slice", &t.slice),
        ("property", &t.property),
        ("staticmethod", &t.staticmethod),
        ("classmethod", &t.classmethod),
        ("super", &t.super_),
    ];
    for (name, c) in classes {
        b.set_str(name, Value::Class(c.clone()));
    }
    b.set_str("complex", Value::Class(aio_interp::types::complex::complex_class()));
    b.set_str("bytearray", Value::Class(aio_interp::types::bytearray::bytearray_class()));
    b.set_str("memoryview", Value::Class(aio_interp::types::memoryview::memoryview_class()));
    let e = &t.exc;
    let excs = [
        &e.base_exception,
        &e.exception,
        &e.system_exit,
        &e.keyboard_interrupt,
        &e.generator_exit,
        &e.base_exception_group,
        &e.arithmetic_error,
        &e.zero_division_error,
        &e.floating_point_error,
        &e.system_error,
        &e.unicode_translate_error,
        &e.overflow_error,
        &e.assertion_error,
        &e.attribute_error,
        &e.buffer_error,
        &e.eof_error,
        &e.import_error,
        &e.module_not_found_error,
        &e.lookup_error,
        &e.index_error,
        &e.key_error,
        &e.memory_error,
        &e.name_error,
        &e.unbound_local_error,
        &e.os_error,
        &e.file_not_found_error,
        &e.file_exists_error,
        &e.permission_error,
        &e.is_a_directory_error,
        &e.timeout_error,
        &e.blocking_io_error,
        &e.child_process_error,
        &e.connection_error,
        &e.broken_pipe_error,
        &e.connection_aborted_error,
        &e.connection_refused_error,
        &e.connection_reset_error,
        &e.interrupted_error,
        &e.not_a_directory_error,
        &e.process_lookup_error,
        &e.runtime_error,
        &e.not_implemented_error,
        &e.recursion_error,
        &e.reference_error,
        &e.deadlock_error,
        &e.stop_iteration,
        &e.stop_async_iteration,
        &e.syntax_error,
        &e.indentation_error,
        &e.tab_error,
        &e.type_error,
        &e.value_error,
        &e.unicode_error,
        &e.unicode_decode_error,
        &e.unicode_encode_error,
        &e.warning,
        &e.user_warning,
        &e.deprecation_warning,
        &e.runtime_warning,
        &e.pending_deprecation_warning,
        &e.syntax_warning,
        &e.future_warning,
        &e.import_warning,
        &e.unicode_warning,
        &e.bytes_warning,
        &e.resource_warning,
        &e.encoding_warning,
    ];
    for c in excs {
        b.set_str(c.name().as_str(), Value::Class(c.clone()));
    }
    b.set_str("ExceptionGroup", Value::Class(exception_group_class()));
    b.set_str("EnvironmentError", Value::Class(e.os_error.clone()));
    b.set_str("IOError", Value::Class(e.os_error.clone()));
    b.set_str("None", Value::None);
    b.set_str("NotImplemented", Value::NotImplemented);
    b.set_str("Ellipsis", Value::Ellipsis);
    b.set_str("__name__", Value::str("builtins"));
    b.set_str("__debug__", Value::Bool(Flag::TRUE));
}
