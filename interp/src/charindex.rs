//! Code point positions in long non-ASCII text.
//!
//! A str keeps its text as UTF-8, so code point `i` of non-ASCII text is
//! found by walking from the start: a parser's `src[pos]`, `src[a:b]`,
//! `src.startswith(x, pos)` or `pattern.match(src, pos)` over a whole
//! document with one accented letter in it would cost the document's length
//! each (CPython indexes its fixed-width text directly). For text of at
//! least `MIN_BYTES` bytes, the byte offset of every `STEP`th code point is
//! kept here, beside the strings rather than in them (most strings never
//! need it), keyed by the address of the text: a lookup walks at most one
//! step, and none inside a run of ASCII. A str forgets its index as it is
//! freed (`forget`), so an address is never taken for another text's.

use std::cell::{Cell, RefCell};

/// Shorter text is walked: at most this many bytes.
pub const MIN_BYTES: usize = 512;
/// Code points between two kept offsets.
const STEP: usize = 32;
/// Indexes kept at once, the most recently used first.
const KEPT: usize = 4;

struct Index {
    /// The text's address and length in bytes.
    key: (usize, usize),
    chars: usize,
    /// The byte offset of code point `k * STEP`, and last the text's length.
    offsets: Box<[usize]>,
}

/// The index last used, read without borrowing the cache: `offsets` points
/// into the boxed offsets of an `Index` in `INDEXES`, which stay where they
/// are until the index is dropped, and this is cleared before that.
#[derive(Clone, Copy)]
struct Last {
    key: (usize, usize),
    chars: usize,
    offsets: *const usize,
}

const NO_LAST: Last = Last { key: (0, 0), chars: 0, offsets: std::ptr::null() };

thread_local! {
    static INDEXES: RefCell<Vec<Index>> = const { RefCell::new(Vec::new()) };
    static LAST: Cell<Last> = const { Cell::new(NO_LAST) };
}

impl Index {
    fn build(text: &str) -> Index {
        let mut offsets = Vec::with_capacity(text.len() / STEP + 2);
        let mut chars = 0;
        for (b, _) in text.char_indices() {
            if chars % STEP == 0 {
                offsets.push(b);
            }
            chars += 1;
        }
        offsets.push(text.len());
        Index { key: key(text), chars, offsets: offsets.into_boxed_slice() }
    }
}

impl Last {
    fn offsets(&self) -> &[usize] {
        // SAFETY: see `Last`; one offset per `STEP` code points begun, and
        // the length.
        unsafe { std::slice::from_raw_parts(self.offsets, self.chars.div_ceil(STEP) + 1) }
    }

    /// The byte offset of code point `i` (`i < self.chars`).
    fn byte_of(&self, text: &str, i: usize) -> usize {
        let k = i / STEP;
        let offsets = self.offsets();
        let (start, end) = (offsets[k], offsets[k + 1]);
        let rest = i - k * STEP;
        // A step that is all ASCII has as many bytes as code points.
        if end - start == STEP.min(self.chars - k * STEP) {
            return start + rest;
        }
        text[start..].char_indices().nth(rest).map_or(text.len(), |(b, _)| start + b)
    }

    /// The code point at byte offset `b` (a boundary).
    fn char_of(&self, text: &str, b: usize) -> usize {
        let offsets = self.offsets();
        let k = offsets.partition_point(|&o| o <= b) - 1;
        (k * STEP + text[offsets[k]..b].chars().count()).min(self.chars)
    }
}

fn key(text: &str) -> (usize, usize) {
    (text.as_ptr() as usize, text.len())
}

/// The index of `text`.
#[inline]
fn find(text: &str) -> Last {
    let last = LAST.with(Cell::get);
    if last.key == key(text) {
        return last;
    }
    find_kept(text)
}

/// The index of `text` from the cache, built if it has none.
#[cold]
fn find_kept(text: &str) -> Last {
    INDEXES.with(|cell| {
        let mut all = cell.borrow_mut();
        let key = key(text);
        match all.iter().position(|x| x.key == key) {
            Some(at) => all[..=at].rotate_right(1),
            None => {
                all.truncate(KEPT - 1);
                all.insert(0, Index::build(text));
            }
        }
        let x = &all[0];
        let last = Last { key, chars: x.chars, offsets: x.offsets.as_ptr() };
        LAST.with(|c| c.set(last));
        last
    })
}

/// The number of code points of `text` (non-ASCII, `MIN_BYTES` long at least).
pub fn char_len(text: &str) -> usize {
    find(text).chars
}

/// The byte offset of code point `i` of `text`, its length past the end.
pub fn byte_offset(text: &str, i: usize) -> usize {
    let x = find(text);
    if i >= x.chars {
        text.len()
    } else {
        x.byte_of(text, i)
    }
}

/// `text[i]`: code point `i` of `text` (negative: from the end), if in range.
pub fn char_at(text: &str, i: i64) -> Option<char> {
    let x = find(text);
    let j = if i < 0 { i + x.chars as i64 } else { i };
    if j < 0 || j >= x.chars as i64 {
        return None;
    }
    text[x.byte_of(text, j as usize)..].chars().next()
}

/// The code point index of byte offset `b` of `text` (a boundary).
pub fn char_index(text: &str, b: usize) -> usize {
    find(text).char_of(text, b)
}

/// Drop the index of `text`, which is being freed.
pub fn forget(text: &str) {
    let key = key(text);
    // At exit the cache may already be gone: nothing to forget then.
    let _ = LAST.try_with(|c| {
        if c.get().key == key {
            c.set(NO_LAST);
        }
    });
    let _ = INDEXES.try_with(|cell| {
        if let Ok(mut all) = cell.try_borrow_mut() {
            all.retain(|x| x.key != key);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_match_a_walk() {
        let mut text = String::new();
        for k in 0..3000 {
            text.push(match k % 97 {
                0 => 'é',
                1 => '日',
                2 => '😀',
                _ => (b'a' + (k % 26) as u8) as char,
            });
        }
        let n = text.chars().count();
        assert_eq!(char_len(&text), n);
        for (i, (b, _)) in text.char_indices().enumerate() {
            assert_eq!(byte_offset(&text, i), b);
            assert_eq!(char_at(&text, i as i64), text[b..].chars().next());
            assert_eq!(char_at(&text, i as i64 - n as i64), text[b..].chars().next());
            assert_eq!(char_index(&text, b), i);
        }
        assert_eq!(byte_offset(&text, n), text.len());
        assert_eq!(char_at(&text, n as i64), None);
        assert_eq!(char_at(&text, -(n as i64) - 1), None);
        assert_eq!(byte_offset(&text, n + 5), text.len());
        assert_eq!(char_index(&text, text.len()), n);
        forget(&text);
        INDEXES.with(|c| assert!(c.borrow().iter().all(|x| x.key != key(&text))));
        assert!(LAST.with(Cell::get).key != key(&text));
    }
}
