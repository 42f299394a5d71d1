//! `DictData`: the insertion-ordered hash table behind `dict` and instance
//! and class namespaces. Entries sit in a `Vec` in insertion order; a
//! `hashbrown::HashTable` maps hashes to entry positions once there are
//! more than `SMALL` entries. A smaller dict (most instance namespaces and
//! keyword dicts) has no index: a lookup scans its few entries comparing
//! stored hashes, which costs no more than a probe and saves the index's
//! allocation on every instance. Lookups take the
//! key comparison as an argument so that keys with a user `__eq__` can be
//! compared by the VM (see `Vm::dict_get`).

use std::rc::Rc;

use hashbrown::HashTable;
use smallvec::SmallVec;

use crate::object::PyStr;
use crate::value::Value;

/// The index's hash of a key's hash. hashbrown takes a group tag from the
/// top 7 bits and the bucket from the low ones; Python hashes of small
/// ints are the ints themselves, whose top bits are all equal, so every
/// occupied slot of a group matched the tag and had its key compared.
/// Multiplying by an odd constant spreads the low bits into the high ones
/// and keeps distinct low bits distinct.
#[inline(always)]
fn ix(hash: i64) -> u64 {
    (hash as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The most entries (live or deleted) a dict keeps without an index.
const SMALL: usize = 8;

/// The positions of distinct keys by hash, as a dict's index holds them,
/// grown one key at a time: a class's shared attribute names keep one, so
/// an instance's `__dict__` made from them copies it (a few hundred bytes)
/// instead of hashing every name into a new one.
#[derive(Default)]
pub struct KeyIndex {
    table: HashTable<u32>,
    hashes: Vec<i64>,
}

impl KeyIndex {
    /// Index the next key, whose hash is `hash`.
    pub fn push(&mut self, hash: i64) {
        let KeyIndex { table, hashes } = self;
        table.insert_unique(ix(hash), hashes.len() as u32, |&j| ix(hashes[j as usize]));
        hashes.push(hash);
    }
}

/// One slot of the entry vector; a deleted entry has an `Undef` key.
#[derive(Clone)]
pub struct Entry {
    pub hash: i64,
    pub key: Value,
    pub value: Value,
}

/// The table of a dict.
#[derive(Default, Clone)]
pub struct DictData {
    entries: Vec<Entry>,
    /// Empty while `entries.len() <= SMALL`; else the position of every live entry.
    index: HashTable<u32>,
    used: usize,
    /// The class whose namespace this is: every change voids the classes'
    /// attribute caches (the class epoch) and the class's version tag
    /// (`Class::modified`).
    owner: Option<std::rc::Weak<crate::object::Class>>,
    /// Bit `hash % 64` of every key inserted since the last `clear`: a
    /// clear bit proves a key absent without a probe. A method call checks
    /// that the instance dict does not shadow the method, and instance dicts
    /// hold few keys.
    key_bits: u64,
}

/// Bumped by every change to a class namespace; class attribute caches
/// (`Class::lookup_pystr`) hold answers only for the epoch they were made in.
static CLASS_EPOCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The current class epoch.
#[inline(always)]
pub fn class_epoch() -> u64 {
    CLASS_EPOCH.load(std::sync::atomic::Ordering::Relaxed)
}

/// A class namespace or hierarchy changed.
pub fn bump_class_epoch() {
    CLASS_EPOCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Is `v` of a builtin type (whose class no program can change) that is
/// no descriptor: a class attribute holding it is plain data?
pub fn never_descriptor(v: &Value) -> bool {
    matches!(
        v,
        Value::None
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::BigInt(_)
            | Value::Str(_)
            | Value::Bytes(_)
            | Value::Tuple(_)
            | Value::List(_)
            | Value::Dict(_)
            | Value::Set(_)
            | Value::FrozenSet(_)
    )
}

impl DictData {
    pub fn new() -> DictData {
        DictData::default()
    }
    pub fn with_capacity(n: usize) -> DictData {
        let index = if n > SMALL { HashTable::with_capacity(n) } else { HashTable::new() };
        DictData { entries: Vec::with_capacity(n), index, used: 0, owner: None, key_bits: 0 }
    }
    /// A table of entries whose keys are known to be distinct (an
    /// instance's attributes moving into its `__dict__`): the index is
    /// built once, not entry by entry, or copied from `known` when that
    /// indexes exactly these keys in this order.
    pub fn from_distinct(entries: Vec<Entry>, known: Option<&KeyIndex>) -> DictData {
        let key_bits = entries.iter().fold(0, |bits, e| bits | 1 << (e.hash as u64 & 63));
        let mut d = DictData { used: entries.len(), entries, index: HashTable::new(), owner: None, key_bits };
        match known {
            Some(k) if d.indexed() && k.hashes.len() == d.entries.len() => d.index = k.table.clone(),
            _ => d.reindex(),
        }
        d
    }
    /// Does the index hold the entries' positions (else lookups scan)?
    #[inline(always)]
    fn indexed(&self) -> bool {
        self.entries.len() > SMALL
    }
    /// The position of the live entry with this hash that `is_key` accepts:
    /// through the index, or by a scan of a small dict.
    #[inline(always)]
    fn find_by(&self, hash: i64, mut is_key: impl FnMut(&Value) -> bool) -> Option<usize> {
        let entries = &self.entries;
        if !self.indexed() {
            return entries.iter().position(|e| e.hash == hash && !e.key.is_undef() && is_key(&e.key));
        }
        self.index
            .find(ix(hash), |&i| {
                let e = &entries[i as usize];
                e.hash == hash && is_key(&e.key)
            })
            .map(|&i| i as usize)
    }
    /// Rebuild the index from the live entries (empty for a small dict).
    fn reindex(&mut self) {
        self.index.clear();
        if !self.indexed() {
            return;
        }
        let entries = &self.entries;
        // Room for them all at once, not grown (and rehashed) as they go in.
        self.index.reserve(self.used, |&j| ix(entries[j as usize].hash));
        for (i, e) in entries.iter().enumerate() {
            if !e.key.is_undef() {
                self.index.insert_unique(ix(e.hash), i as u32, |&j| ix(entries[j as usize].hash));
            }
        }
    }
    pub fn len(&self) -> usize {
        self.used
    }
    /// Make this the namespace of class `owner` (see `CLASS_EPOCH`).
    pub fn watch(&mut self, owner: std::rc::Weak<crate::object::Class>) {
        self.owner = Some(owner);
        bump_class_epoch();
    }
    #[inline(always)]
    fn changed(&self) {
        if self.owner.is_some() {
            self.class_changed(true);
        }
    }
    /// A class namespace changed: a new class epoch and, when `untag`, no
    /// version tag for the class and its subclasses (`Class::modified`;
    /// false for a value replaced by one that changes how no attribute of
    /// an instance resolves, see `set_str_rc`).
    #[inline(never)]
    fn class_changed(&self, untag: bool) {
        bump_class_epoch();
        if untag {
            if let Some(cls) = self.owner.as_ref().and_then(|o| o.upgrade()) {
                cls.modified();
            }
        }
    }
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// Position of the entry whose key equals `key`, comparing with `eq`
    /// when the keys are not identical.
    pub fn find(&self, hash: i64, key: &Value, mut eq: impl FnMut(&Value, &Value) -> bool) -> Option<usize> {
        self.find_by(hash, |k| k.is(key) || eq(k, key))
    }

    /// Positions of the entries with exactly this hash (for comparisons that
    /// must run outside the borrow of the table).
    pub fn candidates(&self, hash: i64) -> SmallVec<[usize; 4]> {
        if !self.indexed() {
            let live = |(_, e): &(usize, &Entry)| e.hash == hash && !e.key.is_undef();
            return self.entries.iter().enumerate().filter(live).map(|(i, _)| i).collect();
        }
        self.index.iter_hash(ix(hash)).map(|&i| i as usize).filter(|&i| self.entries[i].hash == hash).collect()
    }

    pub fn entry(&self, pos: usize) -> &Entry {
        &self.entries[pos]
    }
    pub fn value_at(&self, pos: usize) -> Value {
        self.entries[pos].value.clone()
    }
    pub fn set_value_at(&mut self, pos: usize, value: Value) {
        self.changed();
        self.entries[pos].value = value;
    }

    /// Append a key known to be absent.
    pub fn insert_new(&mut self, hash: i64, key: Value, value: Value) {
        self.changed();
        let pos = self.entries.len() as u32;
        self.key_bits |= 1 << (hash as u64 & 63);
        self.entries.push(Entry { hash, key, value });
        self.used += 1;
        if self.entries.len() == SMALL + 1 {
            self.reindex();
        } else if self.indexed() {
            let entries = &self.entries;
            self.index.insert_unique(ix(hash), pos, |&i| ix(entries[i as usize].hash));
        }
    }

    /// Remove the entry at `pos`, returning its key and value.
    pub fn remove_at(&mut self, pos: usize) -> (Value, Value) {
        self.changed();
        let hash = self.entries[pos].hash;
        if self.indexed() {
            if let Ok(e) = self.index.find_entry(ix(hash), |&i| i as usize == pos) {
                e.remove();
            }
        }
        let e = &mut self.entries[pos];
        let key = std::mem::replace(&mut e.key, Value::Undef);
        let value = std::mem::take(&mut e.value);
        self.used -= 1;
        if self.entries.len() > 16 && self.used * 2 < self.entries.len() {
            self.compact();
        }
        (key, value)
    }

    /// Drop deleted entries and rebuild the index.
    fn compact(&mut self) {
        self.entries.retain(|e| !e.key.is_undef());
        self.reindex();
    }

    pub fn clear(&mut self) {
        self.changed();
        self.entries.clear();
        self.index.clear();
        self.used = 0;
        self.key_bits = 0;
    }

    /// The live entry at or after `pos`, with the position after it: the
    /// cursor that dict iterators keep.
    pub fn next_from(&self, mut pos: usize) -> Option<(usize, &Entry)> {
        while let Some(e) = self.entries.get(pos) {
            pos += 1;
            if !e.key.is_undef() {
                return Some((pos, e));
            }
        }
        None
    }

    /// The last live entry (for `popitem`).
    pub fn last_pos(&self) -> Option<usize> {
        self.entries.iter().rposition(|e| !e.key.is_undef())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| !e.key.is_undef())
    }
    pub fn items(&self) -> Vec<(Value, Value)> {
        self.iter().map(|e| (e.key.clone(), e.value.clone())).collect()
    }
    pub fn keys(&self) -> Vec<Value> {
        self.iter().map(|e| e.key.clone()).collect()
    }
    pub fn values(&self) -> Vec<Value> {
        self.iter().map(|e| e.value.clone()).collect()
    }

    // String-keyed fast paths: namespaces and keyword arguments.

    fn find_str(&self, key: &str, hash: i64) -> Option<usize> {
        self.find_by(hash, |k| matches!(k, Value::Str(s) if s.as_str() == key))
    }
    pub fn get_str(&self, key: &str) -> Option<Value> {
        self.find_str(key, crate::hash::hash_str(key)).map(|p| self.entries[p].value.clone())
    }
    pub fn get_str_hashed(&self, key: &str, hash: i64) -> Option<Value> {
        self.find_str(key, hash).map(|p| self.entries[p].value.clone())
    }
    /// Position of the string key `key`; interned names are usually the
    /// very object stored as the key, so identity is tried first.
    #[inline]
    fn find_pystr(&self, key: &PyStr) -> Option<usize> {
        self.find_by(key.hash(), |k| matches!(k, Value::Str(s) if std::ptr::eq(&**s, key) || s.same_text(key)))
    }
    /// Lookup by an existing string object (its hash is cached).
    pub fn get_pystr(&self, key: &PyStr) -> Option<Value> {
        self.find_pystr(key).map(|p| self.entries[p].value.clone())
    }
    /// `get_pystr` trying entry `hint` first (where this key was found last
    /// time), and remembering where it finds the key.
    #[inline]
    pub fn get_pystr_hinted(&self, key: &PyStr, hint: &std::cell::Cell<u32>) -> Option<Value> {
        if let Some(e) = self.entries.get(hint.get() as usize) {
            if matches!(&e.key, Value::Str(s) if std::ptr::eq(&**s, key)) {
                return Some(e.value.clone());
            }
        }
        let p = self.find_pystr(key)?;
        hint.set(p as u32);
        Some(self.entries[p].value.clone())
    }
    /// `set_str_rc` for an interned name, trying the entry at `hint`
    /// first (see `get_pystr_hinted`) and remembering where the key went.
    pub fn set_pystr_hinted(&mut self, key: &Rc<PyStr>, value: Value, hint: &std::cell::Cell<u32>) {
        self.changed();
        if let Some(e) = self.entries.get_mut(hint.get() as usize) {
            if matches!(&e.key, Value::Str(s) if Rc::ptr_eq(s, key)) {
                let old = std::mem::replace(&mut e.value, value);
                old.discard();
                return;
            }
        }
        self.set_str_rc(key.clone(), value);
        if let Some(p) = self.find_pystr(key) {
            hint.set(p as u32);
        }
    }
    /// Position of a key when finding it runs no .aio code: `is_key` tells
    /// each entry of the same hash as the key, or `None` for one whose own
    /// `__eq__` may have to be asked (an instance). `Some(found)` when no
    /// such entry was met, `None` for the general lookup (which asks that
    /// `__eq__`, as CPython does, even when a later entry is the key).
    #[inline]
    fn find_decided(&self, hash: i64, mut is_key: impl FnMut(&Value) -> Option<bool>) -> Option<Option<usize>> {
        let mut unsure = false;
        let found = self.find_by(hash, |k| {
            is_key(k).unwrap_or_else(|| {
                unsure = true;
                false
            })
        });
        (!unsure).then_some(found)
    }
    /// Is `key`, of hash `hash`, a key? `None` when only .aio code can say
    /// (an equal hash met a key whose `__eq__` is the program's).
    pub fn contains_sure(&self, hash: i64, key: &Value) -> Option<bool> {
        self.find_decided(hash, |k| crate::types::dict::simple_eq(k, key)).map(|p| p.is_some())
    }
    /// `d[key] = value` where `find_decided` answered `found`; gives the key
    /// and `value` back for the general path.
    fn set_decided(&mut self, found: Option<Option<usize>>, hash: i64, key: Value, value: Value) -> Result<(), (Value, Value)> {
        match found {
            Some(Some(p)) => {
                self.set_value_at(p, value);
                Ok(())
            }
            Some(None) => {
                self.insert_new(hash, key, value);
                Ok(())
            }
            None => Err((key, value)),
        }
    }
    /// Position of the int key `i` (see `find_decided`): an int key equals
    /// the int, or the bool of the same value; a str or None never does; a
    /// float key takes the general path (an exact comparison with a big int).
    #[inline]
    pub fn find_int(&self, i: i64) -> Option<Option<usize>> {
        self.find_decided(crate::hash::hash_i64(i), |k| match k {
            Value::Int(j) => Some(*j == i),
            Value::Bool(b) => Some(b.get() as i64 == i),
            Value::Str(_) | Value::None => Some(false),
            _ => None,
        })
    }
    /// `find_int`'s answer as the value: `Some(None)` for an absent key.
    #[inline]
    pub fn get_int(&self, i: i64) -> Option<Option<Value>> {
        self.find_int(i).map(|p| p.map(|p| self.entries[p].value.clone()))
    }
    /// `d[i] = value` for an int key when no .aio code can run (see
    /// `find_int`); gives `value` back otherwise.
    pub fn set_int(&mut self, i: i64, value: Value) -> Result<(), Value> {
        let found = self.find_int(i);
        self.set_decided(found, crate::hash::hash_i64(i), Value::Int(i), value).map_err(|(_, v)| v)
    }
    /// Position of a str key from a program (see `find_decided`): only an
    /// instance or a native object of the same hash may equal it by its own
    /// `__eq__`.
    pub fn find_pystr_sure(&self, key: &PyStr) -> Option<Option<usize>> {
        self.find_decided(key.hash(), |k| match k {
            Value::Str(s) => Some(std::ptr::eq(&**s, key) || s.same_text(key)),
            Value::Instance(_) | Value::Object(_) => None,
            _ => Some(false),
        })
    }
    /// `find_pystr_sure`'s answer as the value: `Some(None)` for an absent key.
    #[inline]
    pub fn get_pystr_sure(&self, key: &PyStr) -> Option<Option<Value>> {
        self.find_pystr_sure(key).map(|p| p.map(|p| self.entries[p].value.clone()))
    }
    /// `d[key] = value` for a str key from a program when no .aio code can
    /// run (see `find_pystr_sure`); gives the key and `value` back otherwise.
    pub fn set_pystr_sure(&mut self, key: Rc<PyStr>, value: Value) -> Result<(), (Value, Value)> {
        let found = self.find_pystr_sure(&key);
        self.set_decided(found, key.hash(), Value::Str(key), value)
    }
    /// Is the string `key` a key?
    pub fn contains_pystr(&self, key: &PyStr) -> bool {
        self.key_bits & (1 << (key.hash() as u64 & 63)) != 0 && self.find_pystr(key).is_some()
    }
    pub fn set_str(&mut self, key: &str, value: Value) {
        self.set_str_rc(Rc::new(PyStr::new(key)), value)
    }
    pub fn set_str_rc(&mut self, key: Rc<PyStr>, value: Value) {
        let hash = key.hash();
        match self.find_pystr(&key) {
            Some(p) => {
                if self.owner.is_some() {
                    // `Cls.count += 1`: a class's data replaced by data
                    // keeps the version tag (the instances' attributes
                    // resolve as before; `LoadAttrClass` reads the value
                    // here, not a copy).
                    self.class_changed(!(never_descriptor(&self.entries[p].value) && never_descriptor(&value)));
                }
                self.entries[p].value = value
            }
            None => self.insert_new(hash, Value::Str(key), value),
        }
    }
    pub fn remove_str(&mut self, key: &str) -> Option<Value> {
        let p = self.find_str(key, crate::hash::hash_str(key))?;
        Some(self.remove_at(p).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_insertion_order_across_deletes() {
        let mut d = DictData::new();
        for i in 0..40 {
            d.set_str(&format!("k{i}"), Value::Int(i));
        }
        for i in 0..30 {
            assert!(d.remove_str(&format!("k{i}")).is_some());
        }
        d.set_str("new", Value::Int(99));
        let keys: Vec<String> = d.keys().iter().map(|k| k.as_str().unwrap().to_string()).collect();
        assert_eq!(keys.len(), 11);
        assert_eq!(keys[0], "k30");
        assert_eq!(keys[10], "new");
        assert!(matches!(d.get_str("k35"), Some(Value::Int(35))));
        assert!(d.get_str("k3").is_none());
    }
}
