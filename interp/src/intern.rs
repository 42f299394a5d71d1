//! Interned strings: identifiers and attribute names share one `PyStr`
//! each, so namespace lookups hash once and compare by pointer first.

use std::cell::RefCell;
use std::rc::Rc;

use crate::object::PyStr;

thread_local! {
    // hashbrown's default hasher: `intern` runs on every `getattr(obj, name)`,
    // where std's SipHash cost more than the lookup itself.
    static TABLE: RefCell<hashbrown::HashMap<Box<str>, Rc<PyStr>>> = RefCell::new(hashbrown::HashMap::new());
}

/// The shared string object for `s`.
pub fn intern(s: &str) -> Rc<PyStr> {
    TABLE.with(|t| {
        if let Some(p) = t.borrow().get(s) {
            return p.clone();
        }
        let p = Rc::new(PyStr::new(s));
        t.borrow_mut().insert(s.into(), p.clone());
        p
    })
}
