//! Instance attribute storage: the `__slots__` values and the `__dict__`
//! values of an instance, laid out by keys its class shares.
//!
//! DESIGN. CPython's key-sharing dicts (PEP 412), reduced to one chain:
//!
//! - Every class whose instances have a `__dict__` owns one `SharedKeys`:
//!   the attribute names its instances were given, in the order they were
//!   first given. Names are only ever appended (at most
//!   `SHARED_KEYS_MAX`), so a name's index never changes.
//! - An instance (`Attrs`) keeps a `Vec` of values: first its `__slots__`
//!   (`nslots` of them, `Undef` while unset), then, while its map is
//!   `Shared`, the values of the first `n` shared names, in that order.
//!   Three attributes cost three values (48 bytes), not a dict with its
//!   keys, hashes and table (about 400 bytes).
//! - Setting the next name in the keys' order, or a new name when the
//!   instance holds all the keys, stays shared (`__init__` sets its
//!   attributes in one order for every instance). Anything else (a name
//!   out of order, a deletion, more than `SHARED_KEYS_MAX` names, and
//!   reading `__dict__`) gives the instance a dict of its own (`Dict`),
//!   built from its values in key order, which then is its storage. So
//!   `obj.__dict__` is a real dict that stays in sync with the object for
//!   good, insertion order and all, and a program sees no difference.
//! - The attribute caches of the VM (`bytecode::AttrWay`) keep, per class,
//!   the class's keys and the name's index in them: an instance holding
//!   those keys answers `self.x` with one pointer comparison and one
//!   indexed load (`get_cached`, `set_cached`), as CPython's
//!   LOAD_ATTR_INSTANCE_VALUE does. A method load asks whether the
//!   instance hides the method (`shadows_cached`), answered without a scan
//!   while the keys have not grown since the name was found absent.
//!   Base-class methods called on instances of several subclasses hit
//!   too: each subclass has its own way in the cache, with its own keys.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::dict::{DictData, Entry, KeyIndex};
use crate::object::{PyDict, PyStr};
use crate::value::Value;

/// The most names one class's shared keys hold; an instance given more
/// gets a dict of its own.
pub const SHARED_KEYS_MAX: usize = 30;

/// A cache's key index before the name was found among the keys.
pub const NO_INDEX: u32 = u32::MAX;

/// The attribute names the instances of one class share, in the order
/// they were first set (see the module note).
#[derive(Default)]
pub struct SharedKeys {
    names: RefCell<Vec<Rc<PyStr>>>,
    /// The names' positions by hash, for the `__dict__` of an instance
    /// holding them all (`Attrs::own_dict`).
    index: RefCell<KeyIndex>,
    /// Bit `hash % 64` of every name: a clear bit proves a name absent.
    bits: Cell<u64>,
}

fn bit(name: &PyStr) -> u64 {
    1 << (name.hash() as u64 & 63)
}

impl SharedKeys {
    /// The index of `name` among the keys.
    #[inline]
    pub fn index_of(&self, name: &PyStr) -> Option<usize> {
        if self.bits.get() & bit(name) == 0 {
            return None;
        }
        // Names are mostly the interned strings of the code: identity
        // first, the text only where the hashes agree.
        let h = name.hash();
        self.names.borrow().iter().position(|k| std::ptr::eq(&**k, name) || (k.hash() == h && k.same_text(name)))
    }
    pub fn len(&self) -> usize {
        self.names.borrow().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `len` without counting a borrow (the names are borrowed mutably
    /// only while one is pushed, which runs no program code).
    #[inline(always)]
    fn len_unguarded(&self) -> usize {
        // SAFETY: the reference lives only for this read, and no mutable
        // borrow is held across it (see above); a held one fails the try.
        unsafe { self.names.try_borrow_unguarded().map_or(usize::MAX, |n| n.len()) }
    }
    fn push(&self, name: Rc<PyStr>) {
        self.bits.set(self.bits.get() | bit(&name));
        self.index.borrow_mut().push(name.hash());
        self.names.borrow_mut().push(name);
    }
}

/// What the values after the slots are.
pub enum AttrMap {
    /// There are none: no `__dict__` (`__slots__` without `'__dict__'`).
    NoDict,
    /// The values of the first names of these keys.
    Shared(Rc<SharedKeys>),
    /// None: the attributes live in this dict of the instance's own.
    Dict(Rc<PyDict>),
}

/// An instance's attributes: slot values, then shared-key values or a dict.
pub struct Attrs {
    pub values: Vec<Value>,
    pub map: AttrMap,
    /// How many of `values` are `__slots__` values.
    pub nslots: u32,
    /// Has the `__dict__` been made a dict object as CPython 3.11 makes
    /// one (read or assigned, or past `SHARED_KEYS_MAX` names)? The cycle
    /// collector counts it as an object of its own then.
    pub dict_made: bool,
}

impl Attrs {
    /// Unset slots and no attributes, with the class's keys (if its
    /// instances have a `__dict__`).
    pub fn new(nslots: usize, keys: Option<&Rc<SharedKeys>>) -> Attrs {
        let map = match keys {
            Some(k) => AttrMap::Shared(k.clone()),
            None => AttrMap::NoDict,
        };
        Attrs { values: vec![Value::Undef; nslots], map, nslots: nslots as u32, dict_made: false }
    }

    /// How many shared-key values there are.
    #[inline(always)]
    fn shared_len(&self) -> usize {
        self.values.len() - self.nslots as usize
    }

    /// The value of attribute `name` (not a slot).
    pub fn get(&self, name: &PyStr) -> Option<Value> {
        match &self.map {
            AttrMap::Shared(k) => {
                let i = k.index_of(name)?;
                self.values.get(self.nslots as usize + i).cloned()
            }
            AttrMap::Dict(d) => d.d.borrow().get_pystr(name),
            AttrMap::NoDict => None,
        }
    }

    /// `get` through a cache way (see `bytecode::AttrWay`): `keys` are
    /// the shared keys of the way's class and `index` the name's index in
    /// them (`NO_INDEX` until known; it never changes once known, as keys
    /// only grow), so an instance with those keys answers with no lookup.
    /// `hint` is the entry the name was found at in a dict of its own.
    #[inline(always)]
    pub fn get_cached(&self, name: &PyStr, keys: *const SharedKeys, index: &Cell<u32>, hint: &Cell<u32>) -> Option<Value> {
        match &self.map {
            AttrMap::Shared(k) => {
                let mut i = index.get();
                if i == NO_INDEX || !std::ptr::eq(Rc::as_ptr(k), keys) {
                    let found = k.index_of(name)? as u32;
                    if std::ptr::eq(Rc::as_ptr(k), keys) {
                        index.set(found);
                    }
                    i = found;
                }
                self.values.get(self.nslots as usize + i as usize).cloned()
            }
            AttrMap::Dict(d) => d.d.borrow().get_pystr_hinted(name, hint),
            AttrMap::NoDict => None,
        }
    }

    /// Are the values laid out by the shared keys at address `keys`?
    #[inline(always)]
    pub fn follows(&self, keys: usize) -> bool {
        matches!(&self.map, AttrMap::Shared(k) if Rc::as_ptr(k) as usize == keys)
    }

    /// For a specialised attribute instruction (`bytecode::AttrSpec`): the
    /// value at index `at`, when the values follow the keys at address
    /// `keys` (0: `at` is a slot's, whatever the map) and it is set.
    #[inline(always)]
    pub fn value_at(&self, keys: usize, at: usize) -> Option<&Value> {
        if keys == 0 {
            return self.values.get(at).filter(|v| !v.is_undef());
        }
        // A shared-key value is never unset: deleting one gives the
        // instance a dict of its own.
        if !self.follows(keys) {
            return None;
        }
        self.values.get(at)
    }

    /// `value_at` for a store of the value `v` gives: true when stored,
    /// over the value at `at` or, for the next name of the keys (an
    /// `__init__` setting its attributes), after the last one; false,
    /// not calling `v`, when the values are laid out otherwise. (`at` is
    /// below `nslots` plus the number of keys: keys only grow.)
    #[inline(always)]
    pub fn store_at(&mut self, keys: usize, at: usize, v: impl FnOnce() -> Value) -> bool {
        if keys != 0 && !self.follows(keys) {
            return false;
        }
        if let Some(old) = self.values.get_mut(at) {
            std::mem::replace(old, v()).discard();
            return true;
        }
        if keys == 0 || at != self.values.len() {
            return false;
        }
        self.push_next(v());
        true
    }

    /// Append the value of the next shared name (see `store_at`).
    #[inline(never)]
    fn push_next(&mut self, v: Value) {
        let AttrMap::Shared(k) = &self.map else { unreachable!("store_at checked the keys") };
        let n = k.len();
        self.push_shared(n, v);
    }

    /// For a specialised method load: does no attribute of the instance
    /// hide a method, the values following the keys at address `keys`
    /// (0: the instance has no `__dict__`), which had `len` names when
    /// the method's was found not to be one of them?
    #[inline(always)]
    pub fn hides_none(&self, keys: usize, len: u32) -> bool {
        match &self.map {
            AttrMap::Shared(k) => Rc::as_ptr(k) as usize == keys && k.len_unguarded() == len as usize,
            AttrMap::NoDict => keys == 0,
            AttrMap::Dict(_) => false,
        }
    }

    /// Is `name` an attribute (so that it hides a method of the class)?
    #[inline(always)]
    pub fn shadows(&self, name: &PyStr) -> bool {
        match &self.map {
            AttrMap::Shared(k) => k.index_of(name).is_some_and(|i| i < self.shared_len()),
            AttrMap::Dict(d) => d.d.borrow().contains_pystr(name),
            AttrMap::NoDict => false,
        }
    }

    /// `shadows` for a method load, remembering the answer: `absent` is
    /// the number of names `keys` had when `name` was last found not to be
    /// one of them (keys only grow, so while the count stays, so does the
    /// answer). `keys` are those of the class the cache way is for.
    #[inline(always)]
    pub fn shadows_cached(&self, name: &PyStr, keys: *const SharedKeys, absent: &Cell<u32>) -> bool {
        if let AttrMap::Shared(k) = &self.map {
            if std::ptr::eq(Rc::as_ptr(k), keys) {
                let len = k.names.borrow().len() as u32;
                if absent.get() == len {
                    return false;
                }
                return match k.index_of(name) {
                    Some(i) => i < self.shared_len(),
                    None => {
                        absent.set(len);
                        false
                    }
                };
            }
        }
        self.shadows(name)
    }

    /// Set attribute `name`, keeping the instance shared when the name is
    /// one it has or the next in the keys' order; false when there is no
    /// `__dict__`. (Dropping the old value runs no .aio code, so it may
    /// happen under the borrow.)
    pub fn set(&mut self, name: &Rc<PyStr>, value: Value) -> bool {
        self.set_at(name, value, None)
    }

    /// `set` through a cache way (see `get_cached`).
    #[inline(always)]
    pub fn set_cached(&mut self, name: &Rc<PyStr>, value: Value, keys: *const SharedKeys, index: &Cell<u32>, hint: &Cell<u32>) -> bool {
        if let AttrMap::Shared(k) = &self.map {
            if std::ptr::eq(Rc::as_ptr(k), keys) {
                let i = index.get() as usize;
                let n = self.shared_len();
                if i < n {
                    std::mem::replace(&mut self.values[self.nslots as usize + i], value).discard();
                    return true;
                }
                if i == n {
                    self.push_shared(k.len(), value);
                    return true;
                }
                let k = k.clone();
                let done = self.set_at(name, value, None);
                if index.get() == NO_INDEX {
                    if let Some(j) = k.index_of(name) {
                        index.set(j as u32);
                    }
                }
                return done;
            }
        }
        self.set_at(name, value, Some(hint))
    }

    fn push_shared(&mut self, keys: usize, value: Value) {
        // The first instance finds out how many attributes the class's
        // instances get; the others then allocate that many at once.
        if self.values.len() == self.values.capacity() {
            self.values.reserve_exact(keys.saturating_sub(self.shared_len()).max(1));
        }
        self.values.push(value);
    }

    /// `hint`: where a dict of the instance's own had the name last time.
    fn set_at(&mut self, name: &Rc<PyStr>, value: Value, hint: Option<&Cell<u32>>) -> bool {
        match &self.map {
            AttrMap::NoDict => return false,
            AttrMap::Dict(d) => {
                match hint {
                    Some(h) => d.d.borrow_mut().set_pystr_hinted(name, value, h),
                    None => d.set_str_rc(name.clone(), value),
                }
                return true;
            }
            AttrMap::Shared(k) => {
                let k = k.clone();
                let n = self.shared_len();
                let at = match k.index_of(name) {
                    Some(i) if i <= n => Some(i),
                    None if n == k.len() && n < SHARED_KEYS_MAX => {
                        k.push(name.clone());
                        Some(n)
                    }
                    _ => None,
                };
                if let Some(i) = at {
                    if i < n {
                        self.values[self.nslots as usize + i] = value;
                    } else {
                        self.push_shared(k.len(), value);
                    }
                    return true;
                }
            }
        }
        // Out of the keys' order, or too many names: a dict of its own.
        if let AttrMap::Shared(k) = &self.map {
            self.dict_made |= k.len() >= SHARED_KEYS_MAX && k.index_of(name).is_none();
        }
        match self.own_dict() {
            Some(d) => {
                d.set_str_rc(name.clone(), value);
                true
            }
            None => false,
        }
    }

    /// Remove attribute `name` (the instance gets a dict of its own first).
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        if let AttrMap::Shared(k) = &self.map {
            let n = self.shared_len();
            if k.index_of(&PyStr::new(name)).is_none_or(|i| i >= n) {
                return None;
            }
        }
        self.own_dict()?.remove_str(name)
    }

    /// The attribute names, in order.
    pub fn keys(&self) -> Vec<Value> {
        match &self.map {
            AttrMap::Shared(k) => k.names.borrow()[..self.shared_len()].iter().map(|n| Value::Str(n.clone())).collect(),
            AttrMap::Dict(d) => d.keys(),
            AttrMap::NoDict => Vec::new(),
        }
    }

    /// The `__dict__`: a shared instance's values move into a dict of its
    /// own, in key order, and stay there (so the dict and the object agree
    /// from now on). `None` without a `__dict__`.
    pub fn own_dict(&mut self) -> Option<Rc<PyDict>> {
        let k = match &self.map {
            AttrMap::NoDict => return None,
            AttrMap::Dict(d) => return Some(d.clone()),
            AttrMap::Shared(k) => k.clone(),
        };
        let start = self.nslots as usize;
        let names = k.names.borrow();
        let entries = names
            .iter()
            .zip(self.values.drain(start..))
            .map(|(name, value)| Entry { hash: name.hash(), key: Value::Str(name.clone()), value })
            .collect();
        self.values.shrink_to_fit();
        let d = Rc::new(PyDict::from_data(DictData::from_distinct(entries, Some(&k.index.borrow()))));
        self.map = AttrMap::Dict(d.clone());
        Some(d)
    }
}
