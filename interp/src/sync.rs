//! Locks, semaphores and conditions as observers see them: the name the
//! program gives each one (`Lock 'fork'`, `Lock locks['knife']`, `Lock
//! created at line 7`), the tasks holding it, the futures tasks wait on to
//! acquire it, and the cycles of waits that make a deadlock. The library's
//! `Lock`, `Semaphore` and `Condition` (in `asyncio.aio`) keep their holders
//! in `_holder` (a task or None) or `_holders` (a list of tasks) and their
//! name in `_aio_name`; this module reads them.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use crate::bytecode::{Code, Op};
use crate::object::{Instance, Module};
use crate::task::Future;
use crate::trace::is_user;
use crate::value::Value;
use crate::vm::Vm;

// ------------------------------------------------------------ names

/// The variable, attribute or dict key the value being made at the
/// innermost line of user code is stored in: `fork`, `locks['fork']`; or
/// `created at line 7` when that is not plain. `kind` is the class
/// (`Lock`), and the result is the name for people: `Lock 'fork'`,
/// `Lock locks['fork']`, `Lock created at line 7`.
pub fn sync_name(vm: &Vm, kind: &str) -> String {
    let Some(f) = vm.frames.iter().rev().find(|f| is_user(&f.code)) else { return kind.to_string() };
    let line = f.code.line_at(f.ip.saturating_sub(1));
    match stored_as(&f.code, &f.globals, f.ip) {
        Some(name) if name.contains('[') => format!("{kind} {name}"),
        Some(name) => format!("{kind} '{name}'"),
        None => format!("{kind} created at line {line}"),
    }
}

fn var_name(code: &Code, m: &Module, op: &Op) -> Option<String> {
    let s = match *op {
        Op::StoreGlobal(i) => return Some(m.name_of_slot(i).as_str().to_string()),
        Op::StoreName(i) => code.names.get(i as usize)?,
        Op::StoreFast(i) | Op::StoreDeref(i) => code.varnames.get(i as usize)?,
        _ => return None,
    };
    Some(s.as_str().to_string())
}

fn loaded_name(code: &Code, m: &Module, op: &Op) -> Option<String> {
    let s = match *op {
        Op::LoadGlobal(i) => return Some(m.name_of_slot(i).as_str().to_string()),
        Op::LoadName(i) => code.names.get(i as usize)?,
        Op::LoadFast(i) | Op::LoadDeref(i) => code.varnames.get(i as usize)?,
        // These stand in for `LoadFast` (the attribute instruction follows).
        Op::LoadFastAttr { slot, .. } | Op::LoadFastStoreAttr { slot, .. } | Op::LoadFastMethod { slot, .. } => {
            code.varnames.get(slot as usize)?
        }
        Op::LoadAttr { name, .. } => code.names.get(name as usize)?,
        _ => return None,
    };
    Some(s.as_str().to_string())
}

/// A constant dict key as the program wrote it: `'fork'`, `3`.
fn key_text(code: &Code, op: &Op) -> Option<String> {
    match op {
        Op::LoadConst(i) => match code.consts.get(*i as usize)? {
            Value::Str(s) if !s.as_str().contains(['\'', '\\', '\n']) => Some(format!("'{}'", s.as_str())),
            _ => None,
        },
        Op::LoadInt(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An expression of one instruction: a constant or a variable (or the
/// fused instructions that stand in for a `LoadFast`).
fn single_load(op: &Op) -> bool {
    matches!(
        op,
        Op::LoadConst(_)
            | Op::LoadInt(_)
            | Op::LoadNone
            | Op::LoadFast(_)
            | Op::LoadFastAttr { .. }
            | Op::LoadFastMethod { .. }
            | Op::LoadGlobal(_)
            | Op::LoadName(_)
    )
}

/// Where the value a call (ending just before `ip`) returns is stored.
fn stored_as(code: &Code, m: &Module, ip: usize) -> Option<String> {
    let ops: Vec<Op> = code.ops.iter().collect();
    let next = ops.get(ip)?;
    // `fork = Lock()`
    if let Some(n) = var_name(code, m, next) {
        return Some(n);
    }
    // `self.fork = Lock()`: the object, then the attribute.
    if let (Some(_), Some(Op::StoreAttr { name, .. })) = (loaded_name(code, m, next), ops.get(ip + 1)) {
        return code.names.get(*name as usize).map(|s| s.as_str().to_string());
    }
    // `locks['fork'] = Lock()`, `self.locks['fork'] = Lock()`
    let mut i = ip;
    let mut container = None;
    while let Some(n) = ops.get(i).and_then(|op| loaded_name(code, m, op)) {
        container = Some(n);
        i += 1;
    }
    if let (Some(c), Some(k), Some(Op::StoreSubscr)) = (container, ops.get(i).and_then(|op| key_text(code, op)), ops.get(i + 1)) {
        return Some(format!("{c}[{k}]"));
    }
    // `left, right = Lock(), Lock()`: count the items after this one.
    let (mut after, mut j) = (0usize, ip);
    while let Some(op) = ops.get(j) {
        match *op {
            Op::BuildTuple(n) => {
                let n = n as usize;
                if ops.get(j + 1) == Some(&Op::UnpackSequence(n as u32)) && after < n {
                    return var_name(code, m, ops.get(j + 2 + (n - 1 - after))?);
                }
                break;
            }
            // `a, b = X(), Y()` is compiled as the values, a `Swap` that
            // reverses them, and the stores in order.
            Op::Swap(n) => {
                let n = n as usize;
                if after < n {
                    return var_name(code, m, ops.get(j + 1 + (n - 1 - after))?);
                }
                break;
            }
            ref op if single_load(op) => {
                j += 1;
                if matches!(ops.get(j), Some(Op::LoadMethod { .. } | Op::LoadAttr { .. })) {
                    j += 1;
                }
                if matches!(ops.get(j), Some(Op::Call(0) | Op::CallMethod(0))) {
                    j += 1;
                }
                after += 1;
            }
            _ => break,
        }
    }
    // `locks = {'fork': Lock(), ...}`: the key just before the call, a
    // dict display a few instructions on, then its variable.
    let start = call_start(code, ip)?;
    let key = key_text(code, ops.get(start.checked_sub(1)?)?)?;
    for (j, op) in ops.iter().enumerate().skip(ip).take(64) {
        if let Op::BuildMap(_) = op {
            let var = var_name(code, m, ops.get(j + 1)?)?;
            return Some(format!("{var}[{key}]"));
        }
        // The value went somewhere else before any dict was built.
        if var_name(code, m, op).is_some() || matches!(op, Op::Pop | Op::StoreAttr { .. } | Op::StoreSubscr | Op::ReturnValue) {
            return None;
        }
    }
    None
}

/// The first instruction of the call that ends just before `ip`, when its
/// callable and arguments are one instruction each (`Lock()`,
/// `asyncio.Semaphore(2)`).
fn call_start(code: &Code, ip: usize) -> Option<usize> {
    let ops: Vec<Op> = code.ops.iter().collect();
    let call = ip.checked_sub(1)?;
    let n = match ops[call] {
        Op::Call(n) | Op::CallMethod(n) => n as usize,
        _ => return None,
    };
    let callee = call.checked_sub(n + 1)?;
    if !ops[callee + 1..call].iter().all(single_load) {
        return None;
    }
    match ops[callee] {
        Op::LoadGlobal(_) | Op::LoadName(_) | Op::LoadFast(_) => Some(callee),
        Op::LoadMethod { .. } | Op::LoadAttr { .. } => {
            let m = callee.checked_sub(1)?;
            matches!(ops[m], Op::LoadGlobal(_) | Op::LoadName(_) | Op::LoadFast(_) | Op::LoadFastAttr { .. } | Op::LoadFastMethod { .. })
                .then_some(m)
        }
        _ => None,
    }
}

// ------------------------------------------------------------ holders and waits

thread_local! {
    /// The futures tasks wait on to acquire a lock or a semaphore, each with
    /// what it acquires.
    static WAITS: RefCell<Vec<(Weak<Future>, Weak<Instance>)>> = const { RefCell::new(Vec::new()) };
}

/// A task waits on `fut` to acquire `sync` (a lock or a semaphore).
pub fn note_wait(sync: &Value, fut: &Rc<Future>) {
    let Value::Instance(i) = sync else { return };
    WAITS.with(|w| {
        let mut w = w.borrow_mut();
        if w.len() >= 64 && w.len().is_power_of_two() {
            w.retain(|(f, i)| f.strong_count() > 0 && i.strong_count() > 0);
        }
        w.push((Rc::downgrade(fut), Rc::downgrade(i)));
    });
}

/// The lock or semaphore a task waiting on `fut` wants to acquire.
pub fn waited_sync(fut: &Future) -> Option<Value> {
    WAITS.with(|w| {
        let w = w.borrow();
        let (_, i) = w.iter().rev().find(|(f, _)| std::ptr::eq(f.as_ptr(), fut))?;
        i.upgrade().map(Value::Instance)
    })
}

/// A lock's name for people (`Lock 'fork'`), from its `_aio_name`.
pub fn sync_label(sync: &Value) -> String {
    match attr(sync, "_aio_name") {
        Some(Value::Str(s)) => s.as_str().to_string(),
        _ => crate::types::type_name(sync),
    }
}

/// How a cycle names it: `fork`, `locks['fork']`, `the Lock created at line 7`.
pub fn short_name(label: &str) -> String {
    if label.contains(" created at line ") {
        return format!("the {label}");
    }
    match label.split_once(' ') {
        Some((_, name)) => name.trim_matches('\'').to_string(),
        None => format!("a {label}"),
    }
}

fn attr(sync: &Value, name: &str) -> Option<Value> {
    match sync {
        Value::Instance(i) => i.dict_get_str(name),
        _ => None,
    }
}

/// The tasks holding a lock or a semaphore now, oldest first.
pub fn holders(sync: &Value) -> Vec<Rc<Future>> {
    if let Some(Value::Future(t)) = attr(sync, "_holder") {
        return vec![t];
    }
    match attr(sync, "_holders") {
        Some(Value::List(l)) => l.borrow().iter().filter_map(|v| if let Value::Future(t) = v { Some(t.clone()) } else { None }).collect(),
        _ => Vec::new(),
    }
}

/// `alice`, `alice and bob`, `a, b, c and 2 more`.
fn names(tasks: &[Rc<Future>]) -> String {
    let n: Vec<String> = tasks.iter().map(|t| t.name()).collect();
    match n.len() {
        0 => String::new(),
        1 => n[0].clone(),
        2..=3 => format!("{} and {}", n[..n.len() - 1].join(", "), n[n.len() - 1]),
        k => format!("{} and {} more", n[..3].join(", "), k - 3),
    }
}

/// What a task waiting on `fut` waits for, when that is a lock or a
/// semaphore: `Lock 'fork' held by alice`.
pub fn wait_label(fut: &Future) -> Option<String> {
    let sync = waited_sync(fut)?;
    let label = sync_label(&sync);
    let h = holders(&sync);
    Some(if h.is_empty() { label } else { format!("{label} held by {}", names(&h)) })
}

/// The cycles of waits among blocked tasks, each told in a sentence:
/// `alice holds fork, waits for knife held by bob, who waits for fork held by alice`.
pub fn wait_cycles(tasks: &[Rc<Future>]) -> Vec<String> {
    // Each blocked task's wait on a lock: what it waits for and its first holder.
    let wants = |t: &Rc<Future>| -> Option<(String, Rc<Future>)> {
        let fut = t.task()?.fut_waiter()?;
        let sync = waited_sync(&fut)?;
        let holder = holders(&sync).into_iter().find(|h| tasks.iter().any(|b| Rc::ptr_eq(b, h)))?;
        Some((short_name(&sync_label(&sync)), holder))
    };
    let mut seen: Vec<u64> = Vec::new();
    let mut out = Vec::new();
    for start in tasks {
        if seen.contains(&start.id()) {
            continue;
        }
        let mut path: Vec<(Rc<Future>, String)> = Vec::new();
        let mut cur = start.clone();
        loop {
            if let Some(k) = path.iter().position(|(t, _)| Rc::ptr_eq(t, &cur)) {
                let cycle = &path[k..];
                seen.extend(cycle.iter().map(|(t, _)| t.id()));
                out.push(tell_cycle(cycle));
                break;
            }
            if seen.contains(&cur.id()) {
                break;
            }
            let Some((what, holder)) = wants(&cur) else { break };
            path.push((cur, what));
            cur = holder;
        }
        seen.extend(path.iter().map(|(t, _)| t.id()));
    }
    out
}

/// One cycle: each task with the lock it waits for, held by the next.
fn tell_cycle(cycle: &[(Rc<Future>, String)]) -> String {
    let (first, wanted) = &cycle[0];
    if cycle.len() == 1 {
        return format!("{} waits for {wanted}, which it holds itself", first.name());
    }
    let held = &cycle[cycle.len() - 1].1;
    let mut s = format!("{} holds {held}, waits for {wanted}", first.name());
    for (t, want) in &cycle[1..] {
        s.push_str(&format!(" held by {}, who waits for {want}", t.name()));
    }
    s.push_str(&format!(" held by {}", first.name()));
    s
}

/// The running task, for the library's `Lock.acquire`: it becomes the holder.
pub fn running(vm: &Vm) -> Option<Rc<Future>> {
    let l = vm.host.running_loop()?.downcast::<crate::event_loop::EventLoop>()?;
    let t = l.current.borrow().clone();
    t
}

#[cfg(test)]
mod tests {
    use super::short_name;

    #[test]
    fn short_names_of_locks() {
        assert_eq!(short_name("Lock 'fork'"), "fork");
        assert_eq!(short_name("Lock locks['fork']"), "locks['fork']");
        assert_eq!(short_name("Semaphore created at line 7"), "the Semaphore created at line 7");
    }
}
