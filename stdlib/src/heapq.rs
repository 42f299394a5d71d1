//! `_heapq`: the hot heap operations of `heapq` on a plain list (push,
//! pop, heapify, replace, pushpop), comparing with `<` as Python does.

use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{native_fn, type_name};
use aio_interp::{Value, Vm};

fn list_arg(a: &Args, fname: &str) -> PyResult<Rc<PyList>> {
    match a.pos.first() {
        Some(Value::List(l)) => Ok(l.clone()),
        Some(Value::Instance(i)) => match i.builtin_value() {
            Some(Value::List(l)) => Ok(l),
            _ => Err(type_error(format!("{fname}() argument 1 must be list, not {}", type_name(&a.pos[0])))),
        },
        Some(other) => Err(type_error(format!("{fname}() argument 1 must be list, not {}", type_name(other)))),
        None => Err(type_error(format!("{fname} expected 2 arguments, got 0"))),
    }
}

fn get(heap: &PyList, i: usize) -> PyResult<Value> {
    heap.get(i).ok_or_else(|| runtime_error("list changed size during iteration"))
}

fn set(heap: &PyList, i: usize, v: Value) -> PyResult<()> {
    let mut items = heap.borrow_mut();
    match items.get_mut(i) {
        Some(slot) => {
            *slot = v;
            Ok(())
        }
        None => Err(runtime_error("list changed size during iteration")),
    }
}

/// Move the item at `pos` toward the root while it is smaller than its parent.
fn sift_down(vm: &mut Vm, heap: &PyList, start: usize, mut pos: usize) -> PyResult<()> {
    let item = get(heap, pos)?;
    while pos > start {
        let parent_pos = (pos - 1) >> 1;
        let parent = get(heap, parent_pos)?;
        if vm.lt(&item, &parent)? {
            set(heap, pos, parent)?;
            pos = parent_pos;
        } else {
            break;
        }
    }
    set(heap, pos, item)
}

/// Bubble the smaller child up from `pos` to a leaf, then settle the item
/// that was at `pos` there.
fn sift_up(vm: &mut Vm, heap: &PyList, mut pos: usize) -> PyResult<()> {
    let end = heap.len();
    let start = pos;
    let item = get(heap, pos)?;
    let mut child = 2 * pos + 1;
    while child < end {
        let right = child + 1;
        if right < end {
            let (c, r) = (get(heap, child)?, get(heap, right)?);
            if !vm.lt(&c, &r)? {
                child = right;
            }
        }
        let c = get(heap, child)?;
        set(heap, pos, c)?;
        pos = child;
        child = 2 * pos + 1;
    }
    set(heap, pos, item)?;
    sift_down(vm, heap, start, pos)
}

fn heappush(vm: &mut Vm, a: Args) -> PyResult {
    let heap = list_arg(&a, "heappush")?;
    let Some(item) = a.pos.get(1).cloned() else {
        return Err(type_error(format!("heappush expected 2 arguments, got {}", a.pos.len())));
    };
    heap.push(item);
    let n = heap.len();
    sift_down(vm, &heap, 0, n - 1)?;
    Ok(Value::None)
}

fn heappop(vm: &mut Vm, a: Args) -> PyResult {
    let heap = list_arg(&a, "heappop")?;
    let last = heap.borrow_mut().pop().ok_or_else(|| index_error("index out of range"))?;
    if heap.is_empty() {
        return Ok(last);
    }
    let top = std::mem::replace(&mut heap.borrow_mut()[0], last);
    sift_up(vm, &heap, 0)?;
    Ok(top)
}

fn heapreplace(vm: &mut Vm, a: Args) -> PyResult {
    let heap = list_arg(&a, "heapreplace")?;
    let item = a.pos.get(1).cloned().ok_or_else(|| type_error("heapreplace expected 2 arguments, got 1"))?;
    if heap.is_empty() {
        return Err(index_error("index out of range"));
    }
    let top = std::mem::replace(&mut heap.borrow_mut()[0], item);
    sift_up(vm, &heap, 0)?;
    Ok(top)
}

fn heappushpop(vm: &mut Vm, a: Args) -> PyResult {
    let heap = list_arg(&a, "heappushpop")?;
    let item = a.pos.get(1).cloned().ok_or_else(|| type_error("heappushpop expected 2 arguments, got 1"))?;
    let Some(top) = heap.get(0) else { return Ok(item) };
    if !vm.lt(&top, &item)? {
        return Ok(item);
    }
    let top = std::mem::replace(&mut heap.borrow_mut()[0], item);
    sift_up(vm, &heap, 0)?;
    Ok(top)
}

fn heapify(vm: &mut Vm, a: Args) -> PyResult {
    let heap = list_arg(&a, "heapify")?;
    for i in (0..heap.len() / 2).rev() {
        sift_up(vm, &heap, i)?;
    }
    Ok(Value::None)
}

/// The `_heapq` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    Ok(vm.make_native_module(
        "_heapq",
        vec![
            ("heappush", native_fn("heappush", heappush)),
            ("heappop", native_fn("heappop", heappop)),
            ("heapreplace", native_fn("heapreplace", heapreplace)),
            ("heappushpop", native_fn("heappushpop", heappushpop)),
            ("heapify", native_fn("heapify", heapify)),
        ],
    ))
}
