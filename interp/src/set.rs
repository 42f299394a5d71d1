//! `SetData`: the table behind `set` and `frozenset`, laid out as CPython
//! lays out its sets (open addressing, nine linear probes, then perturbed
//! jumps; the same growth policy), so that iterating a set of numbers gives
//! CPython's order: `print({3, 1, 2})` shows `{1, 2, 3}`.

use crate::object::PyResult;
use crate::value::Value;

const MIN_SIZE: usize = 8;
const LINEAR_PROBES: usize = 9;
const PERTURB_SHIFT: u32 = 5;

#[derive(Clone)]
enum Slot {
    Empty,
    Dummy,
    Active { hash: i64, key: Value },
}

/// A table of `n` empty slots. (`vec![Slot::Empty; n]` clones its element
/// slot by slot, matching on it each time; this only stores.)
fn empty_table(n: usize) -> Vec<Slot> {
    std::iter::repeat_with(|| Slot::Empty).take(n).collect()
}

/// The table size `resize` picks to hold `minused` keys.
fn table_size(minused: usize) -> usize {
    let mut size = MIN_SIZE;
    while size <= minused {
        size <<= 1;
    }
    size
}

impl Slot {
    /// A copy sharing the key.
    #[inline(always)]
    fn copied(&self) -> Slot {
        match self {
            Slot::Active { hash, key } => Slot::Active { hash: *hash, key: key.clone() },
            Slot::Empty => Slot::Empty,
            Slot::Dummy => Slot::Dummy,
        }
    }
}

/// The hash table of a set.
pub struct SetData {
    table: Vec<Slot>,
    fill: usize,
    used: usize,
    finger: usize,
}

impl Clone for SetData {
    fn clone(&self) -> SetData {
        // Slot by slot in one pass into a table of the final size
        // (`Vec::clone` pays a guard and an index per slot).
        let table = self.table.iter().map(Slot::copied).collect();
        SetData { table, fill: self.fill, used: self.used, finger: self.finger }
    }
}

impl Default for SetData {
    fn default() -> Self {
        SetData { table: empty_table(MIN_SIZE), fill: 0, used: 0, finger: 0 }
    }
}

/// What `add` did.
#[derive(PartialEq, Eq, Debug)]
pub enum Added {
    New,
    Present,
}

impl SetData {
    pub fn new() -> SetData {
        SetData::default()
    }
    pub fn len(&self) -> usize {
        self.used
    }
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }
    fn mask(&self) -> usize {
        self.table.len() - 1
    }

    /// Add `key`; `eq` compares a stored key with `key` when the hashes match
    /// and the keys are not identical.
    pub fn add(&mut self, hash: i64, key: Value, eq: &mut dyn FnMut(&Value, &Value) -> PyResult<bool>) -> PyResult<Added> {
        let mask = self.mask();
        let mut i = hash as u64 as usize & mask;
        let mut perturb = hash as u64;
        let mut freeslot: Option<usize> = None;
        let slot = 'probe: loop {
            let probes = if i + LINEAR_PROBES <= mask { LINEAR_PROBES } else { 0 };
            for j in i..=i + probes {
                match &self.table[j] {
                    Slot::Empty => break 'probe j,
                    Slot::Active { hash: h, key: k } if *h == hash && (k.is(&key) || eq(k, &key)?) => return Ok(Added::Present),
                    Slot::Dummy if freeslot.is_none() => freeslot = Some(j),
                    _ => {}
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i.wrapping_mul(5).wrapping_add(1).wrapping_add(perturb as usize)) & mask;
        };
        if let Some(f) = freeslot {
            self.table[f] = Slot::Active { hash, key };
            self.used += 1;
            return Ok(Added::New);
        }
        self.table[slot] = Slot::Active { hash, key };
        self.fill += 1;
        self.used += 1;
        if self.fill * 5 >= mask * 3 {
            self.resize(if self.used > 50000 { self.used * 2 } else { self.used * 4 });
        }
        Ok(Added::New)
    }

    /// Position of `key` in the table.
    pub fn find(&self, hash: i64, key: &Value, eq: &mut dyn FnMut(&Value, &Value) -> PyResult<bool>) -> PyResult<Option<usize>> {
        self.find_by(hash, key, eq)
    }

    /// Is `key`, of hash `hash` (its own, or the one stored with it in
    /// another set), in the set? `None` when only .aio code can say: an
    /// equal hash met a key whose `__eq__` is the program's (the general
    /// path asks it, as CPython does, even when a later key is the one).
    #[inline(always)]
    pub fn contains_sure(&self, hash: i64, key: &Value) -> Option<bool> {
        Some(self.find_sure(hash, key)?.is_some())
    }

    /// `find` when no .aio code is needed to tell (see `contains_sure`):
    /// the first key of equal hash whose `__eq__` is the program's answers
    /// `None`, as the general path would ask it before any later key.
    /// Inlined: its callers probe for every key of another set.
    #[inline(always)]
    fn find_sure(&self, hash: i64, key: &Value) -> Option<Option<usize>> {
        self.probe(hash, key, |k, key| match (k, key) {
            (Value::Int(a), Value::Int(b)) => Ok(a == b),
            _ => crate::types::dict::simple_eq(k, key).ok_or(()),
        })
        .ok()
    }

    /// `discard` when no .aio code is needed to tell (`None` otherwise,
    /// with nothing removed).
    pub fn discard_sure(&mut self, hash: i64, key: &Value) -> Option<bool> {
        let Some(j) = self.find_sure(hash, key)? else { return Some(false) };
        self.table[j] = Slot::Dummy;
        self.used -= 1;
        Some(true)
    }

    /// `find` with the comparison inlined.
    #[inline]
    pub fn find_by<E: FnMut(&Value, &Value) -> PyResult<bool>>(&self, hash: i64, key: &Value, eq: E) -> PyResult<Option<usize>> {
        self.probe(hash, key, eq)
    }

    /// The probe sequence of CPython's set (linear runs, then perturbed
    /// jumps) for `key`: the slot of the first key of equal hash that is
    /// `key` or that `eq` finds equal, `None` at an empty slot; `eq`'s
    /// error stops it.
    #[inline(always)]
    fn probe<X, E: FnMut(&Value, &Value) -> Result<bool, X>>(&self, hash: i64, key: &Value, mut eq: E) -> Result<Option<usize>, X> {
        let mask = self.mask();
        let mut i = hash as u64 as usize & mask;
        let mut perturb = hash as u64;
        let table = &self.table[..];
        loop {
            let last = if i + LINEAR_PROBES <= mask { i + LINEAR_PROBES } else { i };
            let mut j = i;
            loop {
                match &table[j] {
                    Slot::Empty => return Ok(None),
                    Slot::Active { hash: h, key: k } if *h == hash && (k.is(key) || eq(k, key)?) => return Ok(Some(j)),
                    _ => {}
                }
                if j == last {
                    break;
                }
                j += 1;
            }
            perturb >>= PERTURB_SHIFT;
            i = (i.wrapping_mul(5).wrapping_add(1).wrapping_add(perturb as usize)) & mask;
        }
    }

    /// Remove `key`; `true` if it was there.
    pub fn discard(&mut self, hash: i64, key: &Value, eq: &mut dyn FnMut(&Value, &Value) -> PyResult<bool>) -> PyResult<bool> {
        match self.find(hash, key, eq)? {
            Some(j) => {
                self.table[j] = Slot::Dummy;
                self.used -= 1;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// `set.pop()`: the first entry from the finger on.
    pub fn pop(&mut self) -> Option<Value> {
        if self.used == 0 {
            return None;
        }
        let n = self.table.len();
        let mut j = self.finger & self.mask();
        loop {
            if let Slot::Active { .. } = self.table[j] {
                break;
            }
            j = (j + 1) % n;
        }
        let Slot::Active { key, .. } = std::mem::replace(&mut self.table[j], Slot::Dummy) else {
            unreachable!("the loop stopped at an active slot")
        };
        self.used -= 1;
        self.finger = j + 1;
        Some(key)
    }

    fn resize(&mut self, minused: usize) {
        let old = std::mem::replace(&mut self.table, empty_table(table_size(minused)));
        self.fill = self.used;
        for slot in old {
            if let Slot::Active { hash, key } = slot {
                self.insert_clean(hash, key);
            }
        }
    }

    /// Insert into a table known to hold no equal key and no dummies.
    #[inline(always)]
    fn insert_clean(&mut self, hash: i64, key: Value) {
        let mask = self.mask();
        let mut i = hash as u64 as usize & mask;
        let mut perturb = hash as u64;
        loop {
            if matches!(self.table[i], Slot::Empty) {
                self.table[i] = Slot::Active { hash, key };
                return;
            }
            if i + LINEAR_PROBES <= mask {
                for j in i + 1..=i + LINEAR_PROBES {
                    if matches!(self.table[j], Slot::Empty) {
                        self.table[j] = Slot::Active { hash, key };
                        return;
                    }
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i.wrapping_mul(5).wrapping_add(1).wrapping_add(perturb as usize)) & mask;
        }
    }

    /// Add `key`, known to equal no key of the set (it comes from another
    /// set), where `add` would put it, without comparing keys.
    pub fn add_distinct(&mut self, hash: i64, key: Value) {
        if self.fill != self.used {
            // Dummies: `add` reuses the first one on the probe path.
            let _ = self.add(hash, key, &mut |_, _| Ok(false));
            return;
        }
        self.insert_clean(hash, key);
        self.fill += 1;
        self.used += 1;
        if self.fill * 5 >= self.mask() * 3 {
            self.resize(if self.used > 50000 { self.used * 2 } else { self.used * 4 });
        }
    }

    /// A copy of `other`: what merging it into an empty set makes, with
    /// the table made at its final size at once.
    pub fn copy_of(other: &SetData) -> SetData {
        if other.used == 0 {
            return SetData::new();
        }
        // An empty table of MIN_SIZE grows as `merge` would grow it.
        let grows = other.used * 5 >= (MIN_SIZE - 1) * 3;
        let size = if grows { table_size(other.used * 2) } else { MIN_SIZE };
        if size == other.table.len() && other.fill == other.used {
            return SetData { finger: 0, ..other.clone() };
        }
        let mut out = SetData { table: empty_table(size), fill: other.used, used: other.used, finger: 0 };
        for slot in &other.table {
            if let Slot::Active { hash, key } = slot {
                out.insert_clean(*hash, key.clone());
            }
        }
        out
    }

    /// Add every key of `other` (CPython's `set_merge`, whose shortcuts
    /// decide the resulting order).
    pub fn merge(&mut self, other: &SetData, eq: &mut dyn FnMut(&Value, &Value) -> PyResult<bool>) -> PyResult<()> {
        if other.used == 0 {
            return Ok(());
        }
        let grows = (self.fill + other.used) * 5 >= self.mask() * 3;
        let size = if grows { table_size((self.used + other.used) * 2) } else { self.table.len() };
        if self.fill == 0 && size == other.table.len() && other.fill == other.used {
            // Same size, nothing to skip: the table as it is (no table
            // of that size made first only to be replaced).
            self.table = other.table.clone();
            self.fill = other.fill;
            self.used = other.used;
            return Ok(());
        }
        if grows {
            self.resize((self.used + other.used) * 2);
        }
        if self.fill == 0 {
            self.fill = other.used;
            self.used = other.used;
            for slot in &other.table {
                if let Slot::Active { hash, key } = slot {
                    self.insert_clean(*hash, key.clone());
                }
            }
            return Ok(());
        }
        for slot in &other.table {
            if let Slot::Active { hash, key } = slot {
                self.add(*hash, key.clone(), eq)?;
            }
        }
        Ok(())
    }

    /// Make room for `n` more keys at once (as CPython does before adding a dict's keys).
    pub fn reserve_for(&mut self, n: usize) {
        if (self.fill + n) * 5 >= self.mask() * 3 {
            self.resize((self.used + n) * 2);
        }
    }

    /// After many discards, drop the dummies (as `difference_update` does).
    pub fn shrink_after_removals(&mut self) {
        if (self.fill - self.used) * 5 >= self.mask() {
            self.resize(if self.used > 50000 { self.used * 2 } else { self.used * 4 });
        }
    }

    /// Keys and hashes in table order.
    pub fn entries(&self) -> impl Iterator<Item = (i64, &Value)> {
        self.table.iter().filter_map(|s| match s {
            Slot::Active { hash, key } => Some((*hash, key)),
            _ => None,
        })
    }
    pub fn items(&self) -> Vec<Value> {
        let mut out = Vec::with_capacity(self.used);
        out.extend(self.entries().map(|(_, k)| k.clone()));
        out
    }
    /// The live key at or after table position `pos`, and the next position.
    pub fn next_from(&self, mut pos: usize) -> Option<(usize, Value)> {
        while let Some(s) = self.table.get(pos) {
            pos += 1;
            if let Slot::Active { key, .. } = s {
                return Some((pos, key.clone()));
            }
        }
        None
    }
    pub fn clear(&mut self) {
        *self = SetData::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(xs: &[i64]) -> Vec<i64> {
        let mut s = SetData::new();
        for &x in xs {
            s.add(crate::hash::hash_i64(x), Value::Int(x), &mut |a, b| Ok(matches!((a, b), (Value::Int(x), Value::Int(y)) if x == y)))
                .unwrap();
        }
        s.items().iter().map(|v| if let Value::Int(i) = v { *i } else { 0 }).collect()
    }

    #[test]
    fn order_matches_cpython() {
        // python3 -c "print(list({100, 3, 17, 8, -1, 64}))"
        // python3: s = set(); for x in [100, 3, 17, 8, -1, 64]: s.add(x)
        assert_eq!(ints(&[100, 3, 17, 8, -1, 64]), vec![64, 3, 100, 8, 17, -1]);
        assert_eq!(ints(&[5, 3, 1]), vec![1, 3, 5]);
        let many: Vec<i64> = (0..100).map(|i| i * 37 % 101).collect();
        assert_eq!(ints(&many), (0..101).filter(|&i| many.contains(&i)).collect::<Vec<_>>());
    }
}
