//! Hashes. Numbers and tuples hash exactly as in CPython (see `numfmt`),
//! which also fixes the iteration order of sets; strings and bytes, which
//! CPython hashes with a per-run random key, use a fast hash of our own.

pub use crate::numfmt::{hash_float as hash_f64, hash_i64, hash_int as hash_bigint, hash_pointer as hash_id, hash_tuple, TupleHash};

/// A hash for strings; never -1.
pub fn hash_str(s: &str) -> i64 {
    // FNV-1a, then a final avalanche.
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in s.as_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51afd7ed558ccd);
    h ^= h >> 33;
    let h = h as i64;
    if h == -1 {
        -2
    } else {
        h
    }
}

/// A hash for bytes (distinct from the same text as str, as in CPython's practice).
pub fn hash_bytes(b: &[u8]) -> i64 {
    let mut h: u64 = 0x84222325cbf29ce4;
    for &x in b {
        h ^= x as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h ^= h >> 29;
    let h = h as i64;
    if h == -1 {
        -2
    } else {
        h
    }
}
