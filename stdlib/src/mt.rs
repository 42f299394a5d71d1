//! Core of the `random` module: CPython 3.11's Mersenne Twister (MT19937)
//! and the algorithms of its `random.py`, reproduced bit for bit.
//!
//! Seeding the same way as CPython gives the same stream of numbers, so
//! `random.seed(42); random.random()` produces `0.6394267984578837` here too.
//!
//! Functions that can fail return `Err(String)` holding CPython's exact
//! message.  Each function's documentation names the exception class the
//! caller should raise; [`exception_type`] maps any message produced by this
//! module back to that class name.
//!
//! Things left to the caller (they depend on Python objects):
//! * converting arguments (`int`/`float`/`str`/`bytes`), including 3.11's
//!   `randrange()` handling of integral floats (`DeprecationWarning`) and
//!   non-integral floats (`ValueError("non-integer arg 1 for randrange()")`);
//! * `TypeError`s about argument types (e.g. unsupported seed types,
//!   `sample()` of a set, `choices()` given `k` positionally);
//! * negative counts such as `getrandbits(-1)`
//!   (`ValueError("number of bits must be non-negative")`) or `sample(p, -1)`
//!   (the `ValueError` that [`Random::sample_indices`] would give for `k > n`).

use std::collections::HashSet;
use std::f64::consts::{E, PI, TAU};
use std::fmt;

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// Number of 32-bit words in the MT19937 state.
const N: usize = 624;
/// MT19937 middle word offset.
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// `4 * exp(-0.5) / sqrt(2.0)` as computed by CPython.
const NV_MAGICCONST: f64 = 1.715_527_769_921_413_5;
/// `log(4.0)` as computed by CPython.
const LOG4: f64 = 1.386_294_361_119_890_6;
/// `1.0 + log(4.5)` as computed by CPython.
const SG_MAGICCONST: f64 = 2.504_077_396_776_274;

const MSG_EMPTY_RANGE: &str = "empty range for randrange()";
const MSG_ZERO_STEP: &str = "zero step for randrange()";
const MSG_MISSING_STOP: &str = "Missing a non-None stop argument";
const MSG_EMPTY_SEQ: &str = "Cannot choose from an empty sequence";
const MSG_SAMPLE: &str = "Sample larger than population or is negative";
const MSG_COUNTS_LEN: &str = "The number of counts does not match the population";
const MSG_COUNTS_TOTAL: &str = "Total of counts must be greater than zero";
const MSG_POP_EMPTY: &str = "pop from empty list";
const MSG_SSIZE: &str = "Python int too large to convert to C ssize_t";
const MSG_BOTH_WEIGHTS: &str = "Cannot specify both weights and cumulative weights";
const MSG_WEIGHTS_LEN: &str = "The number of weights does not match the population";
const MSG_WEIGHTS_TOTAL: &str = "Total of weights must be greater than zero";
const MSG_WEIGHTS_FINITE: &str = "Total of weights must be finite";
const MSG_LIST_INDEX: &str = "list index out of range";
const MSG_GAMMA: &str = "gammavariate: alpha and beta must be > 0.0";
const MSG_FLOAT_DIV: &str = "float division by zero";
const MSG_ZERO_POW: &str = "0.0 cannot be raised to a negative power";
const MSG_POW_RANGE: &str = "(34, 'Numerical result out of range')";
const MSG_MATH_RANGE: &str = "math range error";
const MSG_STATE_SIZE: &str = "state vector is the wrong size";
const MSG_STATE_INVALID: &str = "invalid state";

/// Name of the Python exception class that goes with an error message
/// returned by this module (`"ValueError"`, `"IndexError"`, `"TypeError"`,
/// `"ZeroDivisionError"` or `"OverflowError"`).
///
/// Unknown messages map to `"ValueError"`.
pub fn exception_type(msg: &str) -> &'static str {
    match msg {
        MSG_EMPTY_SEQ | MSG_LIST_INDEX | MSG_POP_EMPTY => "IndexError",
        MSG_MISSING_STOP | MSG_BOTH_WEIGHTS => "TypeError",
        MSG_FLOAT_DIV | MSG_ZERO_POW => "ZeroDivisionError",
        MSG_POW_RANGE | MSG_MATH_RANGE | MSG_SSIZE => "OverflowError",
        _ => "ValueError",
    }
}

/// A Mersenne Twister generator with the behaviour of CPython 3.11's
/// `random.Random`: the MT19937 state plus the `gauss_next` cache used by
/// [`Random::gauss`].
#[derive(Clone)]
pub struct Random {
    mt: [u32; N],
    index: usize,
    gauss_next: Option<f64>,
}

impl fmt::Debug for Random {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Random").field("index", &self.index).field("gauss_next", &self.gauss_next).finish_non_exhaustive()
    }
}

impl Random {
    // ----------------------------------------------------------------
    // Construction and seeding
    // ----------------------------------------------------------------

    /// A generator seeded from OS entropy, like `random.Random()` or
    /// `random.seed()` with no argument.
    pub fn new_from_entropy() -> Random {
        let mut r = Random::blank();
        r.seed_entropy();
        r
    }

    /// A generator seeded with an integer, like `random.Random(n)`.
    pub fn with_seed_int(n: &BigInt) -> Random {
        let mut r = Random::blank();
        r.seed_int(n);
        r
    }

    fn blank() -> Random {
        Random { mt: [0; N], index: N, gauss_next: None }
    }

    /// `random.seed()` / `random.seed(None)`: reseed from `/dev/urandom`
    /// (624 words, as CPython does), falling back to time, pid, addresses
    /// and std's per-process hash keys if it cannot be read.
    /// Clears the `gauss()` cache.
    pub fn seed_entropy(&mut self) {
        let key = entropy_key();
        self.init_by_array(&key);
        self.gauss_next = None;
    }

    /// `random.seed(n)` for an `int` (also `bool`): the absolute value is
    /// split into 32-bit words, least significant first, and fed to
    /// MT19937's `init_by_array`, so `seed(-5)` is the same as `seed(5)`.
    /// Clears the `gauss()` cache.
    pub fn seed_int(&mut self, n: &BigInt) {
        self.seed_biguint(n.magnitude());
    }

    fn seed_biguint(&mut self, n: &BigUint) {
        let mut key = n.to_u32_digits();
        if key.is_empty() {
            key.push(0);
        }
        self.init_by_array(&key);
        self.gauss_next = None;
    }

    /// `random.seed(s)` for a `str` (version 2, the default): the UTF-8
    /// bytes are seeded as by [`Random::seed_bytes`].
    pub fn seed_str(&mut self, s: &str) {
        self.seed_bytes(s.as_bytes());
    }

    /// `random.seed(b)` for `bytes`/`bytearray` (version 2, the default):
    /// seeds with `int.from_bytes(b + sha512(b).digest(), "big")`.
    pub fn seed_bytes(&mut self, b: &[u8]) {
        let mut data = Vec::with_capacity(b.len() + 64);
        data.extend_from_slice(b);
        data.extend_from_slice(&sha512(b));
        self.seed_biguint(&BigUint::from_bytes_be(&data));
    }

    /// `random.seed(x)` for a `float`: CPython seeds non-`int` objects from
    /// `hash(x)`, see [`Random::seed_hash`]. So `seed(5.0)` equals `seed(5)`,
    /// but `seed(-5.0)` equals `seed(2**64 - 5)`, not `seed(5)`.
    ///
    /// Deviation: CPython hashes a NaN by object identity, so seeding with a
    /// NaN is not reproducible there; here a NaN hashes as 0.
    pub fn seed_float(&mut self, x: f64) {
        self.seed_hash(float_hash(x));
    }

    /// Seed from a Python hash value, the way CPython seeds from any
    /// non-`int` object: the hash, reinterpreted as an unsigned 64-bit
    /// number (`(size_t)hash`), is seeded as an integer.
    pub fn seed_hash(&mut self, hash: i64) {
        self.seed_biguint(&BigUint::from(hash as u64));
    }

    /// `random.getstate()[1]` and `random.getstate()[2]`: the 624 state
    /// words followed by the position (625 numbers in all), and
    /// `gauss_next`. The full Python value is `(3, tuple(words), gauss_next)`.
    pub fn getstate(&self) -> (Vec<u64>, Option<f64>) {
        let mut words: Vec<u64> = self.mt.iter().map(|&w| u64::from(w)).collect();
        words.push(self.index as u64);
        (words, self.gauss_next)
    }

    /// `random.setstate((3, internal, gauss_next))`.
    ///
    /// `internal` must hold 625 numbers (624 words, then the position);
    /// words are truncated to 32 bits as CPython does. `gauss_next` is
    /// stored even if the rest fails, as in CPython.
    ///
    /// Errors (`ValueError`): `"state vector is the wrong size"`,
    /// `"invalid state"` (position greater than 624). The caller raises
    /// `OverflowError` for negative or too large Python ints, and handles
    /// version-2 states (`x % 2**32`) and other versions itself.
    pub fn setstate(&mut self, internal: &[u64], gauss_next: Option<f64>) -> Result<(), String> {
        self.gauss_next = gauss_next;
        if internal.len() != N + 1 {
            return Err(MSG_STATE_SIZE.to_string());
        }
        let index = internal[N];
        if index > N as u64 {
            return Err(MSG_STATE_INVALID.to_string());
        }
        for (dst, &src) in self.mt.iter_mut().zip(internal) {
            *dst = src as u32;
        }
        self.index = index as usize;
        Ok(())
    }

    fn init_genrand(&mut self, s: u32) {
        self.mt[0] = s;
        for i in 1..N {
            let prev = self.mt[i - 1];
            self.mt[i] = 1_812_433_253u32.wrapping_mul(prev ^ (prev >> 30)).wrapping_add(i as u32);
        }
        self.index = N;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19_650_218);
        let mut i = 1usize;
        let mut j = 0usize;
        for _ in 0..N.max(key.len()) {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525)).wrapping_add(key[j]).wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                self.mt[0] = self.mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                self.mt[0] = self.mt[N - 1];
                i = 1;
            }
        }
        self.mt[0] = 0x8000_0000;
        self.index = N;
    }

    fn twist(&mut self) {
        for k in 0..N {
            let y = (self.mt[k] & UPPER_MASK) | (self.mt[(k + 1) % N] & LOWER_MASK);
            let mag = if y & 1 != 0 { MATRIX_A } else { 0 };
            self.mt[k] = self.mt[(k + M) % N] ^ (y >> 1) ^ mag;
        }
        self.index = 0;
    }

    // ----------------------------------------------------------------
    // Raw output
    // ----------------------------------------------------------------

    /// The next 32-bit output of MT19937 (`genrand_uint32`); the same as
    /// `random.getrandbits(32)`.
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random.random()`: a float in `[0.0, 1.0)` with 53 random bits,
    /// built from two outputs (`a >> 5`, `b >> 6`).
    pub fn random(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `random.getrandbits(k)`: a non-negative int with `k` random bits.
    /// `k == 0` gives 0 without consuming output. For `k > 32`, 32-bit
    /// outputs fill the number from the least significant word up; the
    /// last (most significant) word keeps only its top bits.
    ///
    /// The caller raises `ValueError("number of bits must be non-negative")`
    /// for negative `k`, and CPython's `OverflowError` for `k >= 2**31`.
    pub fn getrandbits(&mut self, k: u64) -> BigInt {
        if k <= 32 {
            return BigInt::from(self.bits_u32(k as u32));
        }
        let words = ((k - 1) / 32 + 1) as usize;
        let mut digits = Vec::with_capacity(words);
        let mut left = k;
        for _ in 0..words {
            let mut r = self.next_u32();
            if left < 32 {
                r >>= 32 - left;
            }
            digits.push(r);
            left = left.saturating_sub(32);
        }
        BigInt::from_biguint(Sign::Plus, BigUint::new(digits))
    }

    /// `getrandbits(k)` for `k <= 32`.
    fn bits_u32(&mut self, k: u32) -> u32 {
        if k == 0 {
            0
        } else {
            self.next_u32() >> (32 - k)
        }
    }

    /// `getrandbits(k)` for `k <= 64`.
    fn bits_u64(&mut self, k: u32) -> u64 {
        if k <= 32 {
            return u64::from(self.bits_u32(k));
        }
        let lo = u64::from(self.next_u32());
        let hi = u64::from(self.next_u32() >> (64 - k));
        lo | (hi << 32)
    }

    /// `random.randbytes(n)`: `getrandbits(n * 8).to_bytes(n, "little")`.
    pub fn randbytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n / 4 {
            out.extend_from_slice(&self.next_u32().to_le_bytes());
        }
        let rem = n % 4;
        if rem > 0 {
            let r = self.next_u32() >> (32 - 8 * rem as u32);
            out.extend_from_slice(&r.to_le_bytes()[..rem]);
        }
        out
    }

    /// `_randbelow(n)` for a machine-size `n` (same draws as
    /// [`Random::randbelow`]).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.bits_u64(k);
            if r < n {
                return r;
            }
        }
    }

    fn below_usize(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// `random._randbelow(n)` (`_randbelow_with_getrandbits`): a uniform
    /// int in `[0, n)`, drawing `getrandbits(n.bit_length())` until the
    /// result is below `n`.
    ///
    /// Defined for `n > 0`; for `n <= 0` this returns 0 without consuming
    /// output (CPython would loop forever on 0).
    pub fn randbelow(&mut self, n: &BigInt) -> BigInt {
        if !n.is_positive() {
            return BigInt::zero();
        }
        if let Some(small) = n.to_u64() {
            return BigInt::from(self.below(small));
        }
        let k = n.bits();
        loop {
            let r = self.getrandbits(k);
            if &r < n {
                return r;
            }
        }
    }

    // ----------------------------------------------------------------
    // Integers and sequences
    // ----------------------------------------------------------------

    /// `random.randrange(start)` when `stop` is `None`, otherwise
    /// `random.randrange(start, stop, step)`; arguments already converted
    /// to ints by the caller (pass `step = 1` when it was omitted).
    ///
    /// Errors:
    /// * `TypeError`: `"Missing a non-None stop argument"` (stop is `None`
    ///   but step is not 1);
    /// * `ValueError`: `"empty range for randrange()"` (one argument, or a
    ///   non-unit step with no values), `"empty range for randrange()
    ///   (start, stop, width)"` (unit step), `"zero step for randrange()"`.
    pub fn randrange(&mut self, start: &BigInt, stop: Option<&BigInt>, step: &BigInt) -> Result<BigInt, String> {
        let Some(stop) = stop else {
            if !step.is_one() {
                return Err(MSG_MISSING_STOP.to_string());
            }
            if start.is_positive() {
                return Ok(self.randbelow(start));
            }
            return Err(MSG_EMPTY_RANGE.to_string());
        };
        let width = stop - start;
        if step.is_one() {
            if width.is_positive() {
                return Ok(start + self.randbelow(&width));
            }
            return Err(format!("{MSG_EMPTY_RANGE} ({start}, {stop}, {width})"));
        }
        let n = if step.is_positive() {
            (&width + step - 1u32).div_floor(step)
        } else if step.is_negative() {
            (&width + step + 1u32).div_floor(step)
        } else {
            return Err(MSG_ZERO_STEP.to_string());
        };
        if !n.is_positive() {
            return Err(MSG_EMPTY_RANGE.to_string());
        }
        Ok(start + step * self.randbelow(&n))
    }

    /// `random.randint(a, b)`: `randrange(a, b + 1)`, so an empty range
    /// gives `ValueError("empty range for randrange() (a, b+1, width)")`.
    pub fn randint(&mut self, a: &BigInt, b: &BigInt) -> Result<BigInt, String> {
        let stop = b + 1;
        self.randrange(a, Some(&stop), &BigInt::one())
    }

    /// `random.choice(seq)`: the index to pick from a sequence of length
    /// `len` (`_randbelow(len)`).
    ///
    /// Error (`IndexError`): `"Cannot choose from an empty sequence"`.
    pub fn choice_index(&mut self, len: usize) -> Result<usize, String> {
        if len == 0 {
            return Err(MSG_EMPTY_SEQ.to_string());
        }
        Ok(self.below_usize(len))
    }

    /// `random.shuffle(x)` in place: for `i` from `len - 1` down to 1, swap
    /// item `i` with item `_randbelow(i + 1)`.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below_usize(i + 1);
            items.swap(i, j);
        }
    }

    /// `random.sample(population, k)` as indices into the population, in
    /// selection order. Like CPython, it uses a pool (partial shuffle) when
    /// the population is small relative to `k`, and otherwise redraws
    /// indices until it finds one not yet selected.
    ///
    /// Error (`ValueError`): `"Sample larger than population or is
    /// negative"` when `k > population_len` (the caller gives the same
    /// error for a negative `k`).
    pub fn sample_indices(&mut self, population_len: usize, k: usize) -> Result<Vec<usize>, String> {
        let n = population_len;
        if k > n {
            return Err(MSG_SAMPLE.to_string());
        }
        let mut result = Vec::with_capacity(k);
        // Size of a small set minus the size of an empty list, plus the
        // table size for big sets.
        let mut setsize: u128 = 21;
        if k > 5 {
            let exp = ((k as u128 * 3) as f64).ln() / LOG4;
            setsize = setsize.saturating_add(4u128.saturating_pow(exp.ceil() as u32));
        }
        if (n as u128) <= setsize {
            let mut pool: Vec<usize> = (0..n).collect();
            for i in 0..k {
                let j = self.below_usize(n - i);
                result.push(pool[j]);
                pool[j] = pool[n - i - 1];
            }
        } else {
            let mut selected = HashSet::with_capacity(k);
            for _ in 0..k {
                let mut j = self.below_usize(n);
                while !selected.insert(j) {
                    j = self.below_usize(n);
                }
                result.push(j);
            }
        }
        Ok(result)
    }

    /// `random.sample(population, k, counts=counts)` as indices into the
    /// population: samples `range(sum(counts))` and maps each pick back to
    /// its population index by bisecting the running totals.
    ///
    /// Errors: `ValueError` `"The number of counts does not match the
    /// population"`, `"Total of counts must be greater than zero"`, or the
    /// one from [`Random::sample_indices`]; `IndexError` `"pop from empty
    /// list"` (empty population and counts); `OverflowError` `"Python int
    /// too large to convert to C ssize_t"` (huge total). The caller raises
    /// `TypeError("Counts must be integers")` for non-int counts.
    pub fn sample_counts_indices(&mut self, population_len: usize, counts: &[i64], k: usize) -> Result<Vec<usize>, String> {
        let mut cum = Vec::with_capacity(counts.len());
        let mut acc: i128 = 0;
        for &c in counts {
            acc += i128::from(c);
            cum.push(acc);
        }
        if cum.len() != population_len {
            return Err(MSG_COUNTS_LEN.to_string());
        }
        let total = cum.pop().ok_or_else(|| MSG_POP_EMPTY.to_string())?;
        if total <= 0 {
            return Err(MSG_COUNTS_TOTAL.to_string());
        }
        if total > isize::MAX as i128 {
            return Err(MSG_SSIZE.to_string());
        }
        let selections = self.sample_indices(total as usize, k)?;
        Ok(selections.into_iter().map(|s| bisect_right_by(&cum, 0, cum.len(), |c| (s as i128) < *c)).collect())
    }

    /// `random.choices(population, weights, cum_weights=..., k=k)` as
    /// indices into the population.
    ///
    /// Without weights each pick is `floor(random() * n)`; with weights
    /// (accumulated left to right) or cumulative weights each pick bisects
    /// (`bisect_right`) the cumulative list with `random() * total` over
    /// `[0, n - 1)`. Weights are taken as floats.
    ///
    /// Errors:
    /// * `TypeError`: `"Cannot specify both weights and cumulative weights"`;
    /// * `ValueError`: `"The number of weights does not match the
    ///   population"`, `"Total of weights must be greater than zero"`,
    ///   `"Total of weights must be finite"`;
    /// * `IndexError`: `"list index out of range"` for an empty population
    ///   (after one `random()` when unweighted and `k > 0`, at once when
    ///   weighted, whatever `k`). CPython names the sequence type in this
    ///   message (`tuple index out of range`, ...): the caller may adjust it.
    pub fn choices_indices(
        &mut self,
        population_len: usize,
        weights: Option<&[f64]>,
        cum_weights: Option<&[f64]>,
        k: usize,
    ) -> Result<Vec<usize>, String> {
        let n = population_len;
        let cum: Vec<f64> = match (weights, cum_weights) {
            (None, None) => {
                let nf = n as f64;
                let mut out = Vec::with_capacity(k);
                for _ in 0..k {
                    let i = (self.random() * nf).floor();
                    if i >= nf {
                        return Err(MSG_LIST_INDEX.to_string());
                    }
                    out.push(i as usize);
                }
                return Ok(out);
            }
            (Some(w), None) => {
                let mut cum = Vec::with_capacity(w.len());
                let mut acc = 0.0;
                for (i, &x) in w.iter().enumerate() {
                    acc = if i == 0 { x } else { acc + x };
                    cum.push(acc);
                }
                cum
            }
            (None, Some(c)) => c.to_vec(),
            (Some(_), Some(_)) => return Err(MSG_BOTH_WEIGHTS.to_string()),
        };
        if cum.len() != n {
            return Err(MSG_WEIGHTS_LEN.to_string());
        }
        let total = match cum.last() {
            Some(&t) => t + 0.0,
            None => return Err(MSG_LIST_INDEX.to_string()),
        };
        if total <= 0.0 {
            return Err(MSG_WEIGHTS_TOTAL.to_string());
        }
        if !total.is_finite() {
            return Err(MSG_WEIGHTS_FINITE.to_string());
        }
        let hi = n - 1;
        let mut out = Vec::with_capacity(k);
        for _ in 0..k {
            let x = self.random() * total;
            out.push(bisect_right_by(&cum, 0, hi, |c| x < *c));
        }
        Ok(out)
    }

    // ----------------------------------------------------------------
    // Real-valued distributions
    // ----------------------------------------------------------------

    /// `random.uniform(a, b)`: `a + (b - a) * random()`.
    pub fn uniform(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.random()
    }

    /// `random.triangular(low, high, mode)` (`mode = None` puts the mode
    /// in the middle). If `mode` is given and `high == low`, returns `low`
    /// (CPython catches the `ZeroDivisionError`); one `random()` is always
    /// consumed.
    pub fn triangular(&mut self, low: f64, high: f64, mode: Option<f64>) -> f64 {
        let mut u = self.random();
        let mut c = match mode {
            None => 0.5,
            Some(m) => {
                let span = high - low;
                if span == 0.0 {
                    return low;
                }
                (m - low) / span
            }
        };
        let (mut lo, mut hi) = (low, high);
        if u > c {
            u = 1.0 - u;
            c = 1.0 - c;
            std::mem::swap(&mut lo, &mut hi);
        }
        lo + (hi - lo) * (u * c).sqrt()
    }

    /// `random.normalvariate(mu, sigma)` (Kinderman and Monahan's ratio
    /// method; two `random()` calls per attempt).
    pub fn normalvariate(&mut self, mu: f64, sigma: f64) -> f64 {
        loop {
            let u1 = self.random();
            let u2 = 1.0 - self.random();
            let z = NV_MAGICCONST * (u1 - 0.5) / u2;
            let zz = z * z / 4.0;
            if zz <= -u2.ln() {
                return mu + z * sigma;
            }
        }
    }

    /// `random.gauss(mu, sigma)` (Box-Muller). Every other call uses the
    /// value cached by the previous one (`gauss_next`); seeding clears it.
    pub fn gauss(&mut self, mu: f64, sigma: f64) -> f64 {
        let z = match self.gauss_next.take() {
            Some(z) => z,
            None => {
                let x2pi = self.random() * TAU;
                let g2rad = (-2.0 * (1.0 - self.random()).ln()).sqrt();
                self.gauss_next = Some(x2pi.sin() * g2rad);
                x2pi.cos() * g2rad
            }
        };
        mu + z * sigma
    }

    /// `random.lognormvariate(mu, sigma)`: `exp(normalvariate(mu, sigma))`.
    ///
    /// Error (`OverflowError`): `"math range error"` when `exp` overflows.
    pub fn lognormvariate(&mut self, mu: f64, sigma: f64) -> Result<f64, String> {
        py_exp(self.normalvariate(mu, sigma))
    }

    /// `random.expovariate(lambd)`: `-log(1.0 - random()) / lambd`.
    ///
    /// Error (`ZeroDivisionError`): `"float division by zero"` when
    /// `lambd == 0`, raised after the `random()` call as in CPython.
    pub fn expovariate(&mut self, lambd: f64) -> Result<f64, String> {
        let u = self.random();
        if lambd == 0.0 {
            return Err(MSG_FLOAT_DIV.to_string());
        }
        Ok(-(1.0 - u).ln() / lambd)
    }

    /// `random.vonmisesvariate(mu, kappa)`: an angle in `[0, 2*pi)`.
    pub fn vonmisesvariate(&mut self, mu: f64, kappa: f64) -> f64 {
        if kappa <= 1e-6 {
            return TAU * self.random();
        }
        let s = 0.5 / kappa;
        let r = s + (1.0 + s * s).sqrt();
        let z = loop {
            let u1 = self.random();
            let z = (PI * u1).cos();
            let d = z / (r + z);
            let u2 = self.random();
            if u2 < 1.0 - d * d || u2 <= (1.0 - d) * d.exp() {
                break z;
            }
        };
        let q = 1.0 / r;
        let f = (q + z) / (1.0 + q * z);
        let u3 = self.random();
        if u3 > 0.5 {
            py_fmod(mu + f.acos(), TAU)
        } else {
            py_fmod(mu - f.acos(), TAU)
        }
    }

    /// `random.gammavariate(alpha, beta)` (three methods depending on
    /// whether `alpha` is above, at or below 1).
    ///
    /// Error (`ValueError`): `"gammavariate: alpha and beta must be > 0.0"`.
    pub fn gammavariate(&mut self, alpha: f64, beta: f64) -> Result<f64, String> {
        if alpha <= 0.0 || beta <= 0.0 {
            return Err(MSG_GAMMA.to_string());
        }
        if alpha > 1.0 {
            // Cheng's rejection algorithm GB.
            let ainv = (2.0 * alpha - 1.0).sqrt();
            let bbb = alpha - LOG4;
            let ccc = alpha + ainv;
            loop {
                let u1 = self.random();
                if !(1e-7 < u1 && u1 < 0.999_999_9) {
                    continue;
                }
                let u2 = 1.0 - self.random();
                let v = (u1 / (1.0 - u1)).ln() / ainv;
                let x = alpha * v.exp();
                let z = u1 * u1 * u2;
                let r = bbb + ccc * v - x;
                if r + SG_MAGICCONST - 4.5 * z >= 0.0 || r >= z.ln() {
                    return Ok(x * beta);
                }
            }
        } else if alpha == 1.0 {
            Ok(-(1.0 - self.random()).ln() * beta)
        } else {
            // Ahrens and Dieter's algorithm GS.
            let x = loop {
                let u = self.random();
                let b = (E + alpha) / E;
                let p = b * u;
                let x = if p <= 1.0 { p.powf(1.0 / alpha) } else { -((b - p) / alpha).ln() };
                let u1 = self.random();
                if p > 1.0 {
                    if u1 <= x.powf(alpha - 1.0) {
                        break x;
                    }
                } else if u1 <= (-x).exp() {
                    break x;
                }
            };
            Ok(x * beta)
        }
    }

    /// `random.betavariate(alpha, beta)`: `y / (y + gammavariate(beta, 1))`
    /// with `y = gammavariate(alpha, 1)`, or 0.0 when `y == 0`.
    ///
    /// Error (`ValueError`): as [`Random::gammavariate`] (for a bad `beta`,
    /// after the first gamma draw).
    pub fn betavariate(&mut self, alpha: f64, beta: f64) -> Result<f64, String> {
        let y = self.gammavariate(alpha, 1.0)?;
        if y != 0.0 {
            let g = self.gammavariate(beta, 1.0)?;
            return Ok(y / (y + g));
        }
        Ok(0.0)
    }

    /// `random.paretovariate(alpha)`: `(1.0 - random()) ** (-1.0 / alpha)`.
    ///
    /// Errors (after the `random()` call): `ZeroDivisionError` `"float
    /// division by zero"` (alpha is 0); `OverflowError` `"(34, 'Numerical
    /// result out of range')"` when the power overflows.
    pub fn paretovariate(&mut self, alpha: f64) -> Result<f64, String> {
        let u = 1.0 - self.random();
        if alpha == 0.0 {
            return Err(MSG_FLOAT_DIV.to_string());
        }
        py_pow(u, -1.0 / alpha)
    }

    /// `random.weibullvariate(alpha, beta)`:
    /// `alpha * (-log(1.0 - random())) ** (1.0 / beta)`.
    ///
    /// Errors (after the `random()` call): `ZeroDivisionError` `"float
    /// division by zero"` (beta is 0) or `"0.0 cannot be raised to a
    /// negative power"`; `OverflowError` `"(34, 'Numerical result out of
    /// range')"`.
    pub fn weibullvariate(&mut self, alpha: f64, beta: f64) -> Result<f64, String> {
        let u = 1.0 - self.random();
        let base = -u.ln();
        if beta == 0.0 {
            return Err(MSG_FLOAT_DIV.to_string());
        }
        Ok(alpha * py_pow(base, 1.0 / beta)?)
    }
}

/// `bisect.bisect_right` over `a[lo..hi]`, with `x_lt(item)` meaning
/// `x < item`.
fn bisect_right_by<T>(a: &[T], mut lo: usize, mut hi: usize, x_lt: impl Fn(&T) -> bool) -> usize {
    while lo < hi {
        let mid = (lo + hi) / 2;
        if x_lt(&a[mid]) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Python's `float % float` for a non-zero divisor (result takes the sign
/// of the divisor).
fn py_fmod(x: f64, y: f64) -> f64 {
    let m = x % y;
    if m == 0.0 {
        0.0f64.copysign(y)
    } else if (y < 0.0) != (m < 0.0) {
        m + y
    } else {
        m
    }
}

/// `math.exp(x)` with its overflow check.
fn py_exp(x: f64) -> Result<f64, String> {
    let r = x.exp();
    if r.is_infinite() && x.is_finite() {
        return Err(MSG_MATH_RANGE.to_string());
    }
    Ok(r)
}

/// Python's `x ** y` for floats with a non-negative base (the only case
/// used here).
fn py_pow(x: f64, y: f64) -> Result<f64, String> {
    if x == 0.0 && y < 0.0 {
        return Err(MSG_ZERO_POW.to_string());
    }
    let r = x.powf(y);
    if r.is_infinite() && x.is_finite() && y.is_finite() {
        return Err(MSG_POW_RANGE.to_string());
    }
    Ok(r)
}

/// Python's `hash(float)`: the value reduced modulo the Mersenne prime
/// `2**61 - 1`, with the sign of `x`; `±inf` hash to `±314159` and a
/// result of -1 becomes -2. NaN (identity-hashed in CPython) gives 0.
fn float_hash(x: f64) -> i64 {
    const MODULUS: u128 = (1 << 61) - 1;
    if x.is_nan() {
        return 0;
    }
    if x.is_infinite() {
        return if x > 0.0 { 314_159 } else { -314_159 };
    }
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    // |x| = mant * 2**exp exactly.
    let (mant, exp) = if exp_bits == 0 { (frac, -1074) } else { (frac | (1u64 << 52), exp_bits - 1075) };
    // 2**61 == 1 (mod MODULUS), so only exp mod 61 matters.
    let shift = exp.rem_euclid(61) as u32;
    let h = ((u128::from(mant) << shift) % MODULUS) as i64;
    let h = if x < 0.0 { -h } else { h };
    if h == -1 {
        -2
    } else {
        h
    }
}

/// 624 words of OS entropy for seeding (the size CPython reads), or a
/// smaller key mixed from time, pid, addresses and std's random hash keys.
fn entropy_key() -> Vec<u32> {
    use std::io::Read;
    let mut buf = vec![0u8; N * 4];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        if f.read_exact(&mut buf).is_ok() {
            return buf.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        }
    }
    fallback_key()
}

fn fallback_key() -> Vec<u32> {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let local = 0u8;
    let addr = &local as *const u8 as usize as u64;
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(count);
    let keyed = hasher.finish();
    let words64 = [nanos as u64, (nanos >> 64) as u64, u64::from(std::process::id()), addr, count, keyed];
    words64.iter().flat_map(|&w| [w as u32, (w >> 32) as u32]).collect()
}

/// SHA-512 round constants (first 64 bits of the fractional parts of the
/// cube roots of the first 80 primes).
const SHA512_K: [u64; 80] = [
    0x428a2f98d728ae22,
    0x7137449123ef65cd,
    0xb5c0fbcfec4d3b2f,
    0xe9b5dba58189dbbc,
    0x3956c25bf348b538,
    0x59f111f1b605d019,
    0x923f82a4af194f9b,
    0xab1c5ed5da6d8118,
    0xd807aa98a3030242,
    0x12835b0145706fbe,
    0x243185be4ee4b28c,
    0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f,
    0x80deb1fe3b1696b1,
    0x9bdc06a725c71235,
    0xc19bf174cf692694,
    0xe49b69c19ef14ad2,
    0xefbe4786384f25e3,
    0x0fc19dc68b8cd5b5,
    0x240ca1cc77ac9c65,
    0x2de92c6f592b0275,
    0x4a7484aa6ea6e483,
    0x5cb0a9dcbd41fbd4,
    0x76f988da831153b5,
    0x983e5152ee66dfab,
    0xa831c66d2db43210,
    0xb00327c898fb213f,
    0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2,
    0xd5a79147930aa725,
    0x06ca6351e003826f,
    0x142929670a0e6e70,
    0x27b70a8546d22ffc,
    0x2e1b21385c26c926,
    0x4d2c6dfc5ac42aed,
    0x53380d139d95b3df,
    0x650a73548baf63de,
    0x766a0abb3c77b2a8,
    0x81c2c92e47edaee6,
    0x92722c851482353b,
    0xa2bfe8a14cf10364,
    0xa81a664bbc423001,
    0xc24b8b70d0f89791,
    0xc76c51a30654be30,
    0xd192e819d6ef5218,
    0xd69906245565a910,
    0xf40e35855771202a,
    0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8,
    0x1e376c085141ab53,
    0x2748774cdf8eeb99,
    0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63,
    0x4ed8aa4ae3418acb,
    0x5b9cca4f7763e373,
    0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc,
    0x78a5636f43172f60,
    0x84c87814a1f0ab72,
    0x8cc702081a6439ec,
    0x90befffa23631e28,
    0xa4506cebde82bde9,
    0xbef9a3f7b2c67915,
    0xc67178f2e372532b,
    0xca273eceea26619c,
    0xd186b8c721c0c207,
    0xeada7dd6cde0eb1e,
    0xf57d4f7fee6ed178,
    0x06f067aa72176fba,
    0x0a637dc5a2c898a6,
    0x113f9804bef90dae,
    0x1b710b35131c471b,
    0x28db77f523047d84,
    0x32caab7b40c72493,
    0x3c9ebe0a15c9bebc,
    0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6,
    0x597f299cfc657e2a,
    0x5fcb6fab3ad6faec,
    0x6c44198c4a475817,
];
/// SHA-512 initial hash (fractional parts of the square roots of the first
/// 8 primes).
const SHA512_H0: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// SHA-512 (FIPS 180-4) of `data`, used by string and bytes seeds.
fn sha512(data: &[u8]) -> [u8; 64] {
    let mut h = SHA512_H0;
    let bit_len = (data.len() as u128) * 8;
    let mut msg = Vec::with_capacity(data.len() + 256);
    msg.extend_from_slice(data);
    msg.push(0x80);
    while msg.len() % 128 != 112 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    let mut w = [0u64; 80];
    for block in msg.chunks_exact(128) {
        for (wt, chunk) in w.iter_mut().zip(block.chunks_exact(8)) {
            *wt = u64::from_be_bytes(chunk.try_into().expect("8-byte chunk"));
        }
        for t in 16..80 {
            let s0 = w[t - 15].rotate_right(1) ^ w[t - 15].rotate_right(8) ^ (w[t - 15] >> 7);
            let s1 = w[t - 2].rotate_right(19) ^ w[t - 2].rotate_right(61) ^ (w[t - 2] >> 6);
            w[t] = w[t - 16].wrapping_add(s0).wrapping_add(w[t - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for (&kt, &wt) in SHA512_K.iter().zip(w.iter()) {
            let big_s1 = e.rotate_right(14) ^ e.rotate_right(18) ^ e.rotate_right(41);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(big_s1).wrapping_add(ch).wrapping_add(kt).wrapping_add(wt);
            let big_s0 = a.rotate_right(28) ^ a.rotate_right(34) ^ a.rotate_right(39);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = big_s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (hv, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *hv = hv.wrapping_add(v);
        }
    }
    let mut out = [0u8; 64];
    for (chunk, v) in out.chunks_exact_mut(8).zip(h) {
        chunk.copy_from_slice(&v.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    //! Expected values were produced by CPython 3.11.7 (generator script:
    //! `tools/gen_tests.py` in the scratch crate this module was written in).
    use super::*;

    fn bi(s: &str) -> BigInt {
        match s {
            "3**20000" => BigInt::from(3).pow(20000),
            "2**19968-1" => (BigInt::one() << 19968usize) - 1,
            _ => s.parse().expect("decimal integer"),
        }
    }

    fn f(s: &str) -> f64 {
        s.parse().expect("float literal")
    }

    fn same(got: f64, want: &str) -> bool {
        let w = f(want);
        (got.is_nan() && w.is_nan()) || got.to_bits() == w.to_bits()
    }

    fn assert_f(got: f64, want: &str) {
        assert!(same(got, want), "got {got:?}, want {want}");
    }

    fn seeded(n: i64) -> Random {
        Random::with_seed_int(&BigInt::from(n))
    }

    /// Checks an error message and the exception type it maps to.
    fn assert_err<T: fmt::Debug>(got: Result<T, String>, want: (&str, &str)) {
        let msg = got.expect_err("expected an error");
        assert_eq!(msg, want.1);
        assert_eq!(exception_type(&msg), want.0, "type of {msg:?}");
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn seed42_sequence() {
        let mut r = Random::new_from_entropy();
        r.seed_int(&BigInt::from(42));
        assert_f(r.random(), SEED42_RANDOM[0]);
        assert_f(r.random(), SEED42_RANDOM[1]);
        assert_eq!(SEED42_RANDOM[0], "0.6394267984578837");
        let one = BigInt::one();
        let six = BigInt::from(6);
        for want in SEED42_DICE {
            assert_eq!(r.randint(&one, &six).unwrap(), BigInt::from(want));
        }
        let hundred = BigInt::from(100);
        let got = r.randrange(&hundred, None, &one).unwrap();
        assert_eq!(got, BigInt::from(SEED42_TAIL.0));
        let got = r.randrange(&BigInt::zero(), Some(&hundred), &BigInt::from(5)).unwrap();
        assert_eq!(got, BigInt::from(SEED42_TAIL.1));
        assert_f(r.uniform(1.5, 2.5), SEED42_TAIL.2);
    }

    #[test]
    fn next_u32_many_seeds() {
        for (seed, want) in U32_SEEDS {
            let mut r = Random::with_seed_int(&bi(seed));
            let vals: Vec<u32> = (0..1250).map(|_| r.next_u32()).collect();
            for (&p, &w) in U32_POS.iter().zip(want.iter()) {
                assert_eq!(vals[p], w, "seed {seed} position {p}");
            }
        }
    }

    #[test]
    fn negative_seed_equals_positive() {
        let mut a = Random::with_seed_int(&BigInt::from(-5));
        let mut b = seeded(5);
        for _ in 0..10 {
            assert_eq!(a.next_u32(), b.next_u32());
        }
    }

    #[test]
    fn random_many_seeds() {
        for (seed, want) in RANDOM_SEEDS_0_20.iter().enumerate() {
            let mut r = seeded(seed as i64);
            for w in want {
                assert_f(r.random(), w);
            }
        }
    }

    #[test]
    fn getrandbits_words() {
        let mut r = seeded(7);
        for (k, want) in GETRANDBITS_SEED7 {
            assert_eq!(r.getrandbits(k), bi(want), "k = {k}");
        }
        assert_eq!(r.next_u32(), GETRANDBITS_AFTER);
    }

    #[test]
    fn big_ranges() {
        let mut r = seeded(123);
        let one = BigInt::one();
        let ten30 = bi("1000000000000000000000000000000");
        let ten20 = bi("100000000000000000000");
        let ten50 = BigInt::from(10).pow(50);
        let two64 = BigInt::one() << 64usize;
        let got = [
            r.randrange(&ten30, None, &one),
            r.randint(&BigInt::zero(), &BigInt::from(1_000_000_000_000i64)),
            r.randrange(&-&ten20, Some(&ten20), &BigInt::from(7)),
            r.randrange(&ten20, Some(&-&ten20), &BigInt::from(-3)),
            r.randrange(&BigInt::from(5), Some(&BigInt::from(6)), &one),
            r.randrange(&two64, None, &one),
            r.randrange(&(&two64 + 1), None, &one),
            r.randint(&-&ten50, &ten50),
            r.randrange(&one, None, &one),
            r.randrange(&BigInt::from(-7), Some(&BigInt::from(7)), &BigInt::from(2)),
            r.randrange(&BigInt::from(7), Some(&BigInt::from(-7)), &BigInt::from(-2)),
            r.randint(&(BigInt::one() << 63usize), &two64),
        ];
        for (g, w) in got.into_iter().zip(BIG_RANGES_SEED123) {
            assert_eq!(g.unwrap(), bi(w));
        }
    }

    #[test]
    fn randrange_errors() {
        let mut r = seeded(1);
        for (start, stop, step, ty, msg) in RANDRANGE_ERRORS {
            let stop = stop.map(bi);
            assert_err(r.randrange(&bi(start), stop.as_ref(), &bi(step)), (ty, msg));
        }
        assert_err(r.randint(&BigInt::from(5), &BigInt::from(4)), RANDINT_5_4);
        let big = bi("100000000000000000000");
        assert_err(r.randint(&big, &BigInt::from(-3)), RANDINT_BIG);
        assert_err(r.choice_index(0), CHOICE_EMPTY);
        assert_err(r.sample_indices(3, 4), SAMPLE_BIG);
        // None of the failures consumed output.
        let mut fresh = seeded(1);
        assert_eq!(r.next_u32(), fresh.next_u32());
    }

    #[test]
    fn shuffle_lengths() {
        let mut r = seeded(1);
        for (n, want) in SHUFFLE_LENS.iter().zip(SHUFFLE_SEED1) {
            let mut items: Vec<usize> = (0..*n).collect();
            r.shuffle(&mut items);
            assert_eq!(items, want, "length {n}");
        }
        assert_eq!(r.next_u32(), SHUFFLE_AFTER);
    }

    #[test]
    fn choice_matches_randbelow() {
        let mut a = seeded(17);
        let mut b = seeded(17);
        for len in 1..50usize {
            let i = a.choice_index(len).unwrap();
            assert_eq!(BigInt::from(i), b.randbelow(&BigInt::from(len)));
        }
    }

    #[test]
    fn samples_both_branches() {
        let mut r = seeded(3);
        for (n, k, want) in SAMPLES_SEED3 {
            assert_eq!(r.sample_indices(n, k).unwrap(), want, "n = {n}, k = {k}");
        }
        assert_eq!(r.next_u32(), SAMPLES_AFTER);
    }

    #[test]
    fn sample_with_counts() {
        let mut r = seeded(4);
        for (counts, k, want) in SAMPLE_COUNTS_SEED4 {
            assert_eq!(r.sample_counts_indices(3, counts, k).unwrap(), want);
        }
        assert_err(r.sample_counts_indices(3, &[1, 2], 1), ERR_COUNTS_LEN);
        assert_err(r.sample_counts_indices(3, &[1, -2, 1], 1), ERR_COUNTS_TOTAL);
        assert_err(r.sample_counts_indices(0, &[], 0), ERR_COUNTS_EMPTY);
        assert_err(r.sample_counts_indices(3, &[1, 2, 3], 7), ERR_COUNTS_K);
    }

    #[test]
    fn choices_weighted_and_not() {
        let mut r = seeded(5);
        for (n, w, cw, k, want) in CHOICES_SEED5 {
            assert_eq!(r.choices_indices(n, w, cw, k).unwrap(), want);
        }
        assert_eq!(r.next_u32(), CHOICES_AFTER);
    }

    #[test]
    fn choices_errors() {
        let mut r = seeded(6);
        let w11: &[f64] = &[1.0, 1.0];
        let cw: &[f64] = &[1.0, 2.0];
        assert_err(r.choices_indices(2, Some(w11), Some(cw), 1), CHOICES_ERR_BOTH);
        assert_err(r.choices_indices(2, Some(&[1.0, 1.0, 1.0]), None, 1), CHOICES_ERR_LEN);
        assert_err(r.choices_indices(2, Some(&[0.0, 0.0]), None, 1), CHOICES_ERR_ZERO);
        assert_err(r.choices_indices(2, Some(&[1.0, -3.0]), None, 1), CHOICES_ERR_NEG);
        assert_err(r.choices_indices(2, Some(&[1.0, f64::INFINITY]), None, 1), CHOICES_ERR_INF);
        assert_err(r.choices_indices(2, Some(&[1.0, f64::NAN]), None, 1), CHOICES_ERR_NAN);
        assert_err(r.choices_indices(0, Some(&[]), None, 0), CHOICES_ERR_EMPTY_W);
        assert_err(r.choices_indices(0, None, None, 2), CHOICES_ERR_EMPTY);
        assert_eq!(r.next_u32(), CHOICES_ERR_AFTER);
    }

    #[test]
    fn gauss_cache() {
        let mut r = seeded(9);
        for w in GAUSS_SEED9 {
            assert_f(r.gauss(0.0, 1.0), w);
        }
        r.seed_int(&BigInt::from(9));
        assert_f(r.gauss(0.0, 1.0), GAUSS_RESEED[0]);
        r.seed_int(&BigInt::from(9));
        assert_f(r.gauss(3.0, 2.0), GAUSS_RESEED[1]);
        assert_f(r.random(), GAUSS_RESEED[2]);
        assert_f(r.gauss(3.0, 2.0), GAUSS_RESEED[3]);
    }

    #[test]
    fn distributions() {
        let mut r = seeded(11);
        for (label, want) in DISTS_SEED11 {
            let got: Result<f64, String> = match label {
                "normal 0 1" => Ok(r.normalvariate(0.0, 1.0)),
                "normal 10 2" => Ok(r.normalvariate(10.0, 2.0)),
                "expo 1.5" => r.expovariate(1.5),
                "expo -2" => r.expovariate(-2.0),
                "expo 0" => r.expovariate(0.0),
                "tri 0 1 none" => Ok(r.triangular(0.0, 1.0, None)),
                "tri 1 3 2.5" => Ok(r.triangular(1.0, 3.0, Some(2.5))),
                "tri 2 2 2" => Ok(r.triangular(2.0, 2.0, Some(2.0))),
                "tri 2 2 none" => Ok(r.triangular(2.0, 2.0, None)),
                "tri 0 10 none" => Ok(r.triangular(0.0, 10.0, None)),
                "tri 10 0 3" => Ok(r.triangular(10.0, 0.0, Some(3.0))),
                "tri 0 1 -1" => Ok(r.triangular(0.0, 1.0, Some(-1.0))),
                "tri 0 1 5" => Ok(r.triangular(0.0, 1.0, Some(5.0))),
                "lognorm 0 1" => r.lognormvariate(0.0, 1.0),
                "lognorm 1000 0.5" => r.lognormvariate(1000.0, 0.5),
                "lognorm 0 0" => r.lognormvariate(0.0, 0.0),
                "vonmises 1 4" => Ok(r.vonmisesvariate(1.0, 4.0)),
                "vonmises 0 0" => Ok(r.vonmisesvariate(0.0, 0.0)),
                "vonmises -7 0.5" => Ok(r.vonmisesvariate(-7.0, 0.5)),
                "vonmises 100 50" => Ok(r.vonmisesvariate(100.0, 50.0)),
                "gamma 0.5 1" => r.gammavariate(0.5, 1.0),
                "gamma 0.05 3" => r.gammavariate(0.05, 3.0),
                "gamma 1 2" => r.gammavariate(1.0, 2.0),
                "gamma 3 1.5" => r.gammavariate(3.0, 1.5),
                "gamma 200 1" => r.gammavariate(200.0, 1.0),
                "gamma -1 1" => r.gammavariate(-1.0, 1.0),
                "gamma 1 0" => r.gammavariate(1.0, 0.0),
                "beta 2 3" => r.betavariate(2.0, 3.0),
                "beta 0.01 0.01" => r.betavariate(0.01, 0.01),
                "beta 1 -1" => r.betavariate(1.0, -1.0),
                "beta 0 1" => r.betavariate(0.0, 1.0),
                "pareto 2.5" => r.paretovariate(2.5),
                "pareto 0" => r.paretovariate(0.0),
                "pareto 1e-5" => r.paretovariate(1e-5),
                "weibull 1.5 2" => r.weibullvariate(1.5, 2.0),
                "weibull 1 0" => r.weibullvariate(1.0, 0.0),
                "weibull 1 1e-5" => r.weibullvariate(1.0, 1e-5),
                "uniform 5 -3" => Ok(r.uniform(5.0, -3.0)),
                "random" => Ok(r.random()),
                _ => panic!("unknown case {label}"),
            };
            if let Some(v) = want.strip_prefix("ok:") {
                let g = got.unwrap_or_else(|e| panic!("{label}: unexpected error {e}"));
                assert!(same(g, v), "{label}: got {g:?}, want {v}");
            } else {
                let rest = want.strip_prefix("err:").unwrap();
                let (ty, msg) = rest.split_once(':').unwrap();
                let e = got.expect_err(label);
                assert_eq!((exception_type(&e), e.as_str()), (ty, msg), "{label}");
            }
        }
    }

    #[test]
    fn str_and_bytes_seeds() {
        for (label, want) in STR_SEEDS {
            let s = match label.split_once('*') {
                Some((c, n)) => c.repeat(n.parse().unwrap()),
                None => label.to_string(),
            };
            let mut r = seeded(0);
            r.seed_str(&s);
            for w in want {
                assert_f(r.random(), w);
            }
        }
        for (b, want) in BYTES_SEEDS {
            let mut r = seeded(0);
            r.seed_bytes(b);
            for w in want {
                assert_f(r.random(), w);
            }
        }
    }

    #[test]
    fn float_seeds() {
        for (x, hash, want, next) in FLOAT_SEEDS {
            assert_eq!(float_hash(f(x)), hash, "hash({x})");
            let mut r = seeded(0);
            r.seed_float(f(x));
            assert_f(r.random(), want);
            assert_eq!(r.next_u32(), next, "seed({x})");
        }
        // seed(5.0) is seed(5); seed(-5.0) is seed(2**64 - 5).
        let mut a = seeded(0);
        a.seed_float(-5.0);
        let mut b = Random::with_seed_int(&((BigInt::one() << 64usize) - 5));
        assert_eq!(a.next_u32(), b.next_u32());
    }

    #[test]
    fn state_roundtrip() {
        let mut r = seeded(42);
        for _ in 0..3 {
            r.random();
        }
        let (words, gauss_next) = r.getstate();
        assert_eq!(words.len(), 625);
        assert_eq!(words[..624].iter().sum::<u64>(), STATE42.0);
        assert_eq!([words[0], words[1], words[623]], STATE42.1);
        assert_eq!(words[624], STATE42.2);
        assert_eq!(gauss_next, None);

        r.gauss(0.0, 1.0);
        let (words, gauss_next) = r.getstate();
        let expected: Vec<f64> = (0..700).map(|_| r.gauss(0.0, 1.0)).collect();
        let mut other = seeded(1);
        other.setstate(&words, gauss_next).unwrap();
        let again: Vec<f64> = (0..700).map(|_| other.gauss(0.0, 1.0)).collect();
        assert_eq!(expected, again);

        // Words are truncated to 32 bits; position 624 forces a twist.
        let mut big = vec![(1u64 << 33) + 1; 624];
        big.push(624);
        other.setstate(&big, None).unwrap();
        assert_eq!(other.getstate().0[0], 1);

        let mut bad = words.clone();
        bad[624] = 625;
        assert_err(other.setstate(&bad, None), ("ValueError", "invalid state"));
        assert_err(other.setstate(&words[..624], None), ("ValueError", "state vector is the wrong size"));
    }

    #[test]
    fn randbytes_sizes() {
        let mut r = seeded(8);
        for (n, want) in RANDBYTES_SEED8.iter().enumerate() {
            assert_eq!(hex(&r.randbytes(n)), *want, "n = {n}");
        }
        assert_eq!(r.next_u32(), RANDBYTES_AFTER);
    }

    #[test]
    fn sha512_vectors() {
        for (n, want) in SHA512_CASES {
            let data: Vec<u8> = (0..n).map(|i| ((i * 7 + 3) % 256) as u8).collect();
            assert_eq!(hex(&sha512(&data)), want, "length {n}");
        }
    }

    #[test]
    fn constants_match_libm() {
        assert_eq!(LOG4, 4.0f64.ln());
        assert_eq!(SG_MAGICCONST, 1.0 + 4.5f64.ln());
        assert_eq!(NV_MAGICCONST, 4.0 * (-0.5f64).exp() / 2.0f64.sqrt());
    }

    #[test]
    fn entropy_seeds_differ() {
        let mut a = Random::new_from_entropy();
        let mut b = Random::new_from_entropy();
        let xa: Vec<u32> = (0..4).map(|_| a.next_u32()).collect();
        let xb: Vec<u32> = (0..4).map(|_| b.next_u32()).collect();
        assert_ne!(xa, xb);
        assert_ne!(fallback_key(), fallback_key());
        let mut c = seeded(3);
        c.gauss(0.0, 1.0);
        c.seed_entropy();
        assert_eq!(c.getstate().1, None);
    }

    #[test]
    fn randbelow_edges() {
        let mut r = seeded(2);
        assert_eq!(r.randbelow(&BigInt::zero()), BigInt::zero());
        assert_eq!(r.randbelow(&BigInt::from(-4)), BigInt::zero());
        let mut fresh = seeded(2);
        assert_eq!(r.next_u32(), fresh.next_u32());
        for _ in 0..100 {
            assert!(r.randbelow(&BigInt::one()).is_zero());
        }
        // randbelow(1) redraws getrandbits(1) until it gets 0.
        assert_eq!(r.next_u32(), 2531703885);
        // Around the u64 fast path's limits (values from CPython).
        let mut r = seeded(2);
        let want = [
            "0",
            "0",
            "0",
            "1550730039",
            "3588440356",
            "1323436024",
            "3914746131789064238",
            "659184109953178577",
            "12566774096673229136",
            "16624349623937101006",
        ];
        let two32 = BigInt::one() << 32usize;
        let two64 = BigInt::one() << 64usize;
        let ns = [
            BigInt::one(),
            BigInt::from(2),
            BigInt::from(3),
            &two32 - 1,
            two32.clone(),
            &two32 + 1,
            BigInt::one() << 63usize,
            &two64 - 1,
            two64.clone(),
            &two64 + 1,
        ];
        for (n, w) in ns.iter().zip(want) {
            assert_eq!(r.randbelow(n), bi(w), "n = {n}");
        }
        assert_eq!(r.next_u32(), 3741058122);
    }

    #[test]
    fn exception_types() {
        assert_eq!(exception_type(MSG_EMPTY_RANGE), "ValueError");
        assert_eq!(exception_type("empty range for randrange() (0, 0, 0)"), "ValueError");
        assert_eq!(exception_type(MSG_MISSING_STOP), "TypeError");
        assert_eq!(exception_type(MSG_EMPTY_SEQ), "IndexError");
        assert_eq!(exception_type(MSG_FLOAT_DIV), "ZeroDivisionError");
        assert_eq!(exception_type(MSG_POW_RANGE), "OverflowError");
    }

    const SEED42_RANDOM: [&str; 2] = ["0.6394267984578837", "0.025010755222666936"];
    const SEED42_DICE: [i64; 10] = [3, 2, 2, 2, 6, 1, 6, 6, 5, 1];
    const SEED42_TAIL: (i64, i64, &str) = (75, 65, "1.5317826794817835");
    const U32_POS: [usize; 11] = [0, 1, 2, 3, 4, 623, 624, 625, 1247, 1248, 1249];
    const U32_SEEDS: [(&str, [u32; 11]); 13] = [
        (
            "0",
            [
                3626764237, 1654615998, 3255389356, 3823568514, 1806341205, 2390040247, 2229104038, 1244770883, 577331751, 2465233080,
                2246525520,
            ],
        ),
        (
            "1",
            [
                577090037, 2444712010, 3639700191, 3445702192, 3280387012, 802355090, 1360367077, 3404757168, 1721233950, 1032912167,
                497515921,
            ],
        ),
        (
            "5",
            [
                2675342405, 1097127993, 3185950873, 1539898300, 3415330359, 2959306914, 3041615143, 4094254167, 544940891, 3497215180,
                3652902517,
            ],
        ),
        (
            "-5",
            [
                2675342405, 1097127993, 3185950873, 1539898300, 3415330359, 2959306914, 3041615143, 4094254167, 544940891, 3497215180,
                3652902517,
            ],
        ),
        (
            "42",
            [
                2746317213, 478163327, 107420369, 3184935163, 1181241943, 2929454134, 1071722055, 2864457210, 3190649866, 2301518177,
                4083988011,
            ],
        ),
        (
            "4294967295",
            [
                2728839433, 2661025012, 872737089, 924893097, 2608619700, 2365591444, 2143983266, 3800597872, 3603081785, 900933221,
                496015789,
            ],
        ),
        (
            "4294967296",
            [
                485306839, 1508871100, 1794561286, 4014597330, 71624475, 1921684606, 2208258976, 2815084510, 1684584400, 623633719,
                1305440047,
            ],
        ),
        (
            "4294967297",
            [
                991850117, 2151679444, 2200792185, 3616180723, 1780619055, 1774102469, 3192309354, 2092212203, 4125094038, 1376725891,
                1142049008,
            ],
        ),
        (
            "18446744073709551616",
            [
                4198958755, 3158798261, 1593907883, 395124210, 2146018685, 2947533755, 3021547123, 1151403081, 3163348752, 652386864,
                3422546286,
            ],
        ),
        (
            "100000000000000000000000000000000000000000000000000",
            [
                3550308147, 1496871671, 3185676159, 3260854399, 2059167049, 1970423753, 39597722, 1806126756, 4215853146, 1883852501,
                3070618294,
            ],
        ),
        (
            "-100000000000000000000000000000000000000000000000000",
            [
                3550308147, 1496871671, 3185676159, 3260854399, 2059167049, 1970423753, 39597722, 1806126756, 4215853146, 1883852501,
                3070618294,
            ],
        ),
        (
            "3**20000",
            [
                479690909, 1955890244, 506206384, 3380765411, 2458888412, 381174647, 976512181, 2758716554, 2668268638, 1496406581,
                3576312447,
            ],
        ),
        (
            "2**19968-1",
            [
                1143843490, 496467457, 2215199907, 555180503, 1055393975, 2216393392, 3427360529, 2395584033, 140512366, 4080434682,
                1188146085,
            ],
        ),
    ];
    const RANDOM_SEEDS_0_20: [[&str; 3]; 20] = [
        ["0.8444218515250481", "0.7579544029403025", "0.420571580830845"],
        ["0.13436424411240122", "0.8474337369372327", "0.763774618976614"],
        ["0.9560342718892494", "0.9478274870593494", "0.05655136772680869"],
        ["0.23796462709189137", "0.5442292252959519", "0.36995516654807925"],
        ["0.23604808973743452", "0.1031660342307158", "0.396058242610681"],
        ["0.6229016948897019", "0.7417869892607294", "0.7951935655656966"],
        ["0.793340083761663", "0.8219540423197268", "0.4850346279309453"],
        ["0.32383276483316237", "0.15084917392450192", "0.6509344730398537"],
        ["0.2267058593810488", "0.9622950358343828", "0.12633089865085956"],
        ["0.46300735781502145", "0.37331193139504204", "0.13853941251445523"],
        ["0.5714025946899135", "0.4288890546751146", "0.5780913011344704"],
        ["0.4523795535098186", "0.559772386080496", "0.9242105840237294"],
        ["0.4745706786885481", "0.6574725026572553", "0.6664104711248381"],
        ["0.2590084917154736", "0.6852579929645369", "0.6840819180161107"],
        ["0.10682853770165568", "0.7025855239868555", "0.6520420203142754"],
        ["0.965242141552123", "0.011654693792141124", "0.7359916197968754"],
        ["0.36152277491407514", "0.480480665601294", "0.4169526266056648"],
        ["0.5219839097124932", "0.8066907771186791", "0.9604947743238768"],
        ["0.18126486333322134", "0.6614305484952444", "0.33455970316750006"],
        ["0.6771258268002703", "0.7849113560871108", "0.5204661572030815"],
    ];
    const GETRANDBITS_SEED7: [(u64, &str); 12] = [
        (0, "0"),
        (1, "0"),
        (2, "3"),
        (31, "323946139"),
        (32, "1695753998"),
        (33, "2795742288"),
        (63, "7574918311415852851"),
        (64, "1736392818365009963"),
        (65, "10750541312280087032"),
        (100, "17010142571352656441948396948"),
        (128, "23770569487636332224155707499473838938"),
        (1000, "3288648839707030557863660961679607211729291128700950236179736460178394461118300988157079167678651090132849306981248446598978828973822232518112821471966853383676446846743016839111608988561009079013122870336679693508552905894664617327749901466638443906334400317819432505507966608699736161106733936940836")];
    const GETRANDBITS_AFTER: u32 = 2406286680;
    const BIG_RANGES_SEED123: [&str; 12] = [
        "957645590236294382864113840998",
        "293806866183",
        "-95073323308640366615",
        "13540919473921483660",
        "5",
        "957416568342600015",
        "12943891998228852269",
        "-66716363871246346605839545299692699432963101866084",
        "0",
        "-7",
        "7",
        "11105617314241132083",
    ];
    const RANDRANGE_ERRORS: [(&str, Option<&str>, &str, &str, &str); 10] = [
        ("0", None, "1", "ValueError", "empty range for randrange()"),
        ("-3", None, "1", "ValueError", "empty range for randrange()"),
        ("10", None, "2", "TypeError", "Missing a non-None stop argument"),
        ("0", Some("0"), "1", "ValueError", "empty range for randrange() (0, 0, 0)"),
        ("5", Some("1"), "1", "ValueError", "empty range for randrange() (5, 1, -4)"),
        ("0", Some("10"), "0", "ValueError", "zero step for randrange()"),
        ("0", Some("10"), "-1", "ValueError", "empty range for randrange()"),
        ("10", Some("0"), "1", "ValueError", "empty range for randrange() (10, 0, -10)"),
        ("-5", Some("-10"), "1", "ValueError", "empty range for randrange() (-5, -10, -5)"),
        ("0", Some("1000000000000000000000000000000"), "0", "ValueError", "zero step for randrange()"),
    ];
    const RANDINT_5_4: (&str, &str) = ("ValueError", "empty range for randrange() (5, 5, 0)");
    const RANDINT_BIG: (&str, &str) = ("ValueError", "empty range for randrange() (100000000000000000000, -2, -100000000000000000002)");
    const CHOICE_EMPTY: (&str, &str) = ("IndexError", "Cannot choose from an empty sequence");
    const SAMPLE_BIG: (&str, &str) = ("ValueError", "Sample larger than population or is negative");
    const SHUFFLE_LENS: [usize; 6] = [0, 1, 2, 3, 10, 100];
    const SHUFFLE_SEED1: [&[usize]; 6] = [
        &[],
        &[0],
        &[1, 0],
        &[1, 0, 2],
        &[8, 2, 0, 9, 5, 3, 6, 7, 1, 4],
        &[
            17, 78, 74, 20, 92, 61, 4, 6, 33, 10, 14, 88, 39, 72, 8, 41, 36, 51, 9, 81, 22, 94, 38, 35, 80, 82, 43, 24, 95, 16, 59, 68, 5,
            91, 23, 99, 26, 97, 15, 30, 65, 64, 25, 50, 31, 66, 76, 19, 73, 42, 52, 79, 32, 45, 60, 21, 47, 7, 18, 96, 46, 87, 11, 12, 53,
            85, 37, 58, 93, 71, 44, 90, 70, 63, 56, 28, 67, 84, 54, 27, 48, 1, 69, 83, 86, 2, 98, 40, 13, 75, 29, 34, 57, 89, 0, 77, 55,
            49, 3, 62,
        ],
    ];
    const SHUFFLE_AFTER: u32 = 2831306050;
    const SAMPLES_SEED3: [(usize, usize, &[usize]); 26] = [
        (100, 5, &[30, 75, 69, 16, 47]),
        (10, 10, &[9, 7, 1, 4, 0, 3, 2, 6, 5, 8]),
        (
            50,
            48,
            &[
                45, 30, 34, 35, 48, 25, 40, 9, 14, 43, 42, 33, 24, 0, 4, 10, 2, 19, 1, 26, 27, 8, 15, 32, 23, 12, 22, 13, 37, 18, 41, 46,
                11, 3, 31, 38, 7, 16, 20, 47, 6, 17, 39, 28, 21, 44, 49, 5,
            ],
        ),
        (1000000, 10, &[613494, 427374, 612632, 243674, 948124, 353123, 715110, 960213, 974070, 30052]),
        (
            1000,
            30,
            &[
                876, 286, 620, 687, 712, 167, 715, 881, 334, 987, 554, 926, 585, 582, 106, 730, 671, 216, 648, 851, 587, 273, 291, 127, 64,
                493, 874, 654, 495, 90,
            ],
        ),
        (85, 6, &[44, 8, 52, 19, 2, 37]),
        (86, 6, &[54, 53, 15, 5, 77, 78]),
        (
            200,
            60,
            &[
                194, 11, 96, 183, 150, 84, 141, 71, 129, 60, 9, 79, 1, 19, 27, 153, 137, 8, 50, 104, 74, 156, 67, 39, 10, 86, 80, 92, 35,
                197, 170, 117, 133, 98, 164, 152, 143, 26, 158, 191, 69, 110, 190, 77, 111, 66, 167, 178, 140, 174, 2, 106, 173, 5, 169,
                34, 15, 85, 119, 90,
            ],
        ),
        (5, 0, &[]),
        (0, 0, &[]),
        (1, 1, &[0]),
        (1000000000, 3, &[653762648, 759082048, 299492805]),
        (85, 6, &[62, 2, 75, 7, 83, 47]),
        (86, 6, &[32, 80, 58, 38, 75, 76]),
        (85, 10, &[40, 22, 46, 23, 84, 47, 76, 33, 38, 48]),
        (86, 10, &[13, 3, 72, 16, 39, 64, 28, 83, 34, 30]),
        (85, 16, &[41, 23, 55, 12, 13, 76, 84, 42, 28, 56, 21, 10, 43, 27, 57, 34]),
        (86, 16, &[28, 15, 4, 67, 24, 40, 73, 23, 35, 43, 82, 10, 79, 44, 75, 16]),
        (277, 22, &[215, 149, 265, 138, 237, 177, 213, 148, 214, 209, 18, 211, 79, 102, 2, 244, 222, 113, 16, 233, 147, 174]),
        (278, 22, &[116, 34, 146, 61, 125, 23, 17, 262, 101, 220, 25, 6, 246, 87, 257, 153, 122, 10, 268, 274, 211, 27]),
        (
            277,
            50,
            &[
                58, 174, 64, 129, 244, 31, 180, 113, 101, 62, 61, 87, 122, 140, 65, 3, 249, 204, 25, 138, 127, 137, 158, 134, 133, 108, 13,
                121, 82, 198, 209, 0, 219, 14, 247, 32, 11, 271, 12, 17, 123, 8, 218, 182, 22, 131, 128, 125, 80, 40,
            ],
        ),
        (
            278,
            50,
            &[
                161, 36, 179, 197, 199, 155, 184, 135, 97, 168, 219, 63, 65, 1, 194, 40, 91, 21, 191, 235, 277, 22, 220, 27, 190, 254, 215,
                214, 9, 125, 111, 274, 138, 217, 114, 218, 66, 14, 166, 134, 62, 237, 271, 192, 55, 163, 272, 52, 2, 242,
            ],
        ),
        (
            1045,
            100,
            &[
                293, 483, 796, 90, 188, 203, 769, 366, 48, 699, 248, 52, 235, 986, 582, 613, 181, 74, 488, 218, 204, 125, 563, 332, 890,
                577, 184, 847, 79, 247, 1018, 661, 255, 465, 630, 716, 771, 965, 403, 258, 376, 1029, 406, 961, 358, 569, 428, 989, 85,
                384, 512, 240, 951, 422, 863, 765, 164, 425, 707, 1030, 774, 593, 690, 946, 529, 702, 495, 159, 658, 410, 918, 908, 152,
                166, 98, 509, 766, 978, 938, 715, 980, 453, 600, 736, 878, 190, 139, 273, 770, 1039, 150, 599, 527, 322, 237, 871, 1031,
                550, 798, 302,
            ],
        ),
        (
            1046,
            100,
            &[
                846, 547, 445, 629, 47, 549, 981, 783, 410, 352, 738, 489, 659, 988, 294, 856, 982, 421, 958, 56, 985, 148, 819, 93, 957,
                470, 480, 141, 520, 495, 388, 529, 281, 383, 75, 522, 347, 92, 641, 375, 866, 186, 175, 241, 189, 541, 597, 73, 730, 926,
                689, 14, 60, 685, 678, 893, 777, 995, 159, 430, 1003, 800, 256, 652, 244, 562, 156, 885, 230, 897, 513, 198, 766, 754, 922,
                605, 543, 219, 693, 232, 1011, 1041, 721, 121, 602, 372, 306, 366, 759, 930, 252, 221, 289, 860, 615, 382, 937, 987, 639,
                361,
            ],
        ),
        (
            1045,
            300,
            &[
                140, 219, 371, 802, 735, 204, 544, 554, 785, 109, 279, 86, 980, 555, 506, 725, 681, 826, 917, 141, 722, 1019, 867, 1023,
                114, 155, 276, 604, 102, 697, 115, 577, 797, 931, 744, 1020, 189, 714, 193, 580, 426, 686, 761, 400, 835, 766, 131, 606,
                622, 149, 880, 407, 817, 198, 557, 540, 174, 582, 183, 206, 889, 256, 378, 800, 300, 30, 862, 822, 455, 912, 417, 972, 834,
                392, 323, 565, 927, 597, 317, 648, 509, 541, 703, 723, 306, 1026, 994, 683, 495, 979, 615, 195, 1010, 649, 2, 110, 788,
                774, 677, 239, 503, 177, 536, 640, 471, 203, 991, 981, 542, 216, 37, 832, 512, 661, 454, 1009, 579, 290, 673, 913, 156,
                138, 478, 811, 90, 638, 51, 26, 368, 633, 945, 518, 79, 510, 551, 19, 347, 330, 336, 891, 352, 711, 710, 137, 82, 878, 859,
                954, 793, 34, 733, 81, 757, 351, 1027, 210, 64, 882, 1039, 447, 715, 775, 226, 496, 970, 111, 805, 43, 418, 975, 865, 205,
                1024, 164, 1001, 964, 484, 716, 69, 550, 432, 213, 664, 500, 311, 23, 475, 468, 883, 707, 411, 448, 184, 466, 38, 736, 262,
                375, 379, 458, 936, 370, 610, 854, 229, 950, 823, 214, 264, 801, 982, 146, 940, 546, 199, 162, 837, 22, 988, 598, 413, 515,
                172, 651, 28, 142, 112, 623, 977, 453, 502, 1008, 61, 827, 412, 845, 325, 974, 33, 720, 731, 52, 244, 810, 40, 406, 505,
                27, 224, 247, 96, 398, 485, 953, 168, 340, 637, 118, 354, 126, 608, 53, 745, 297, 281, 476, 307, 861, 255, 574, 272, 955,
                345, 644, 353, 324, 95, 58, 698, 445, 91, 997, 632, 3, 107, 31, 1015, 92, 909, 890, 838, 934, 493, 55, 1006, 670, 521, 339,
                873, 488,
            ],
        ),
        (
            1046,
            300,
            &[
                696, 980, 719, 70, 782, 624, 807, 179, 600, 377, 845, 234, 1039, 798, 684, 824, 357, 790, 735, 376, 743, 849, 897, 469,
                910, 984, 706, 551, 347, 1038, 792, 997, 87, 315, 351, 47, 956, 188, 198, 655, 485, 115, 98, 921, 955, 683, 757, 3, 147,
                399, 817, 215, 693, 637, 225, 922, 165, 430, 492, 99, 312, 293, 23, 229, 470, 588, 427, 450, 859, 1034, 653, 385, 957, 363,
                162, 84, 230, 49, 207, 408, 522, 175, 223, 952, 456, 222, 994, 708, 825, 912, 227, 597, 908, 777, 421, 239, 15, 950, 612,
                158, 699, 393, 992, 146, 746, 866, 137, 438, 511, 717, 127, 686, 483, 882, 899, 172, 513, 446, 661, 338, 423, 447, 949,
                857, 753, 391, 838, 991, 833, 961, 71, 598, 37, 378, 196, 57, 308, 602, 1031, 125, 966, 83, 398, 424, 565, 1007, 885, 77,
                958, 402, 292, 211, 909, 613, 841, 313, 998, 582, 768, 763, 330, 883, 638, 948, 970, 455, 736, 590, 584, 60, 764, 609, 496,
                20, 29, 269, 305, 42, 339, 102, 417, 953, 726, 1003, 488, 27, 566, 692, 104, 192, 536, 506, 1021, 856, 533, 695, 90, 879,
                76, 277, 844, 1042, 691, 273, 572, 34, 345, 92, 123, 942, 848, 759, 349, 601, 374, 151, 285, 208, 835, 720, 931, 570, 523,
                926, 579, 318, 644, 286, 843, 472, 939, 559, 62, 648, 237, 256, 573, 548, 209, 891, 155, 760, 68, 917, 370, 785, 812, 647,
                100, 554, 650, 803, 577, 72, 854, 512, 846, 1014, 409, 235, 253, 10, 142, 988, 945, 592, 96, 996, 344, 295, 306, 364, 814,
                17, 291, 802, 111, 369, 360, 636, 388, 267, 300, 311, 783, 219, 887, 372, 53, 575, 213, 268, 297, 604, 259, 721, 157, 979,
                503, 131,
            ],
        ),
    ];
    const SAMPLES_AFTER: u32 = 1522014175;
    const SAMPLE_COUNTS_SEED4: [(&[i64], usize, &[usize]); 5] = [
        (&[3, 1, 2], 4, &[0, 0, 0, 2]),
        (&[0, 5, 0], 3, &[1, 1, 1]),
        (&[2, 2, 2], 6, &[0, 2, 2, 0, 1, 1]),
        (&[1000, 1, 1000], 10, &[0, 2, 2, 0, 0, 2, 0, 2, 0, 0]),
        (&[3, -1, 2], 3, &[0, 0, 2]),
    ];
    const ERR_COUNTS_LEN: (&str, &str) = ("ValueError", "The number of counts does not match the population");
    const ERR_COUNTS_TOTAL: (&str, &str) = ("ValueError", "Total of counts must be greater than zero");
    const ERR_COUNTS_EMPTY: (&str, &str) = ("IndexError", "pop from empty list");
    const ERR_COUNTS_K: (&str, &str) = ("ValueError", "Sample larger than population or is negative");
    type ChoicesCase = (usize, Option<&'static [f64]>, Option<&'static [f64]>, usize, &'static [usize]);
    const CHOICES_SEED5: [ChoicesCase; 8] = [
        (10, None, None, 10, &[6, 7, 7, 9, 7, 9, 0, 4, 9, 6]),
        (5, Some(&[1.0, 2.0, 3.0, 4.0, 5.0]), None, 10, &[4, 1, 3, 2, 3, 3, 0, 2, 2, 4]),
        (4, None, Some(&[1.0, 1.0, 5.0, 10.0]), 10, &[3, 2, 3, 2, 3, 2, 0, 3, 2, 2]),
        (3, Some(&[0.1, 0.0, 2.5]), None, 5, &[2, 2, 2, 2, 2]),
        (1, None, None, 3, &[0, 0, 0]),
        (1, Some(&[0.5]), None, 3, &[0, 0, 0]),
        (1000, None, None, 5, &[298, 361, 165, 145, 65]),
        (3, None, None, 0, &[]),
    ];
    const CHOICES_AFTER: u32 = 1294327475;
    const CHOICES_ERR_BOTH: (&str, &str) = ("TypeError", "Cannot specify both weights and cumulative weights");
    const CHOICES_ERR_LEN: (&str, &str) = ("ValueError", "The number of weights does not match the population");
    const CHOICES_ERR_ZERO: (&str, &str) = ("ValueError", "Total of weights must be greater than zero");
    const CHOICES_ERR_NEG: (&str, &str) = ("ValueError", "Total of weights must be greater than zero");
    const CHOICES_ERR_INF: (&str, &str) = ("ValueError", "Total of weights must be finite");
    const CHOICES_ERR_NAN: (&str, &str) = ("ValueError", "Total of weights must be finite");
    const CHOICES_ERR_EMPTY_W: (&str, &str) = ("IndexError", "list index out of range");
    const CHOICES_ERR_EMPTY: (&str, &str) = ("IndexError", "list index out of range");
    const CHOICES_ERR_AFTER: u32 = 3530265750;
    const GAUSS_SEED9: [&str; 5] =
        ["-0.9407568840284877", "0.22268633975498442", "1.2934773612320982", "1.5346500332416784", "1.1811733345981423"];
    const GAUSS_RESEED: [&str; 4] = ["-0.9407568840284877", "1.1184862319430247", "0.13853941251445523", "3.445372679509969"];
    const DISTS_SEED11: [(&str, &str); 74] = [
        ("normal 0 1", "ok:-0.18557263512529387"),
        ("normal 0 1", "ok:1.3619259523869924"),
        ("normal 0 1", "ok:0.03260161678584818"),
        ("normal 0 1", "ok:-1.1083456507249343"),
        ("normal 0 1", "ok:1.0762923740794708"),
        ("normal 10 2", "ok:8.000879287775136"),
        ("normal 10 2", "ok:10.692709065825106"),
        ("expo 1.5", "ok:2.68545818128657"),
        ("expo 1.5", "ok:2.2303403434944022"),
        ("expo 1.5", "ok:0.7073950916424577"),
        ("expo -2", "ok:-0.4779872920820476"),
        ("tri 0 1 none", "ok:0.2806190434914944"),
        ("tri 0 1 none", "ok:0.08660466774257872"),
        ("tri 0 1 none", "ok:0.5143979335765131"),
        ("tri 1 3 2.5", "ok:1.4226740061874694"),
        ("tri 1 3 2.5", "ok:1.7553971064240235"),
        ("tri 1 3 2.5", "ok:1.8519560088382758"),
        ("tri 2 2 2", "ok:2"),
        ("tri 2 2 none", "ok:2.0"),
        ("tri 0 10 none", "ok:4.693245767358965"),
        ("tri 10 0 3", "ok:2.174209314772624"),
        ("tri 0 1 -1", "ok:0.019310563699268424"),
        ("tri 0 1 5", "ok:1.7892620097671235"),
        ("lognorm 0 1", "ok:0.9988477591432766"),
        ("lognorm 0 1", "ok:0.9035621549333972"),
        ("vonmises 1 4", "ok:0.7320717312236953"),
        ("vonmises 1 4", "ok:0.9447432953675101"),
        ("vonmises 1 4", "ok:1.0004271623996956"),
        ("vonmises 0 0", "ok:2.9530171472104256"),
        ("vonmises -7 0.5", "ok:2.520609373651695"),
        ("vonmises 100 50", "ok:5.538152075051933"),
        ("gamma 0.5 1", "ok:0.010644766531197057"),
        ("gamma 0.5 1", "ok:0.01951470307282203"),
        ("gamma 0.5 1", "ok:0.014311992190975361"),
        ("gamma 0.05 3", "ok:0.046220913147622736"),
        ("gamma 0.05 3", "ok:3.874882977363922e-05"),
        ("gamma 0.05 3", "ok:1.744783896641793e-14"),
        ("gamma 1 2", "ok:0.2807485521745974"),
        ("gamma 1 2", "ok:2.0640493076727786"),
        ("gamma 3 1.5", "ok:1.8185824947461857"),
        ("gamma 3 1.5", "ok:2.507382464152848"),
        ("gamma 3 1.5", "ok:3.10790016314143"),
        ("gamma 200 1", "ok:187.20460930478748"),
        ("gamma 200 1", "ok:218.52396587124971"),
        ("beta 2 3", "ok:0.25198164523573324"),
        ("beta 2 3", "ok:0.6654630950361435"),
        ("beta 2 3", "ok:0.2257827739447185"),
        ("beta 0.01 0.01", "ok:6.788437432639446e-42"),
        ("pareto 2.5", "ok:1.4075676076361399"),
        ("pareto 2.5", "ok:2.237901139057141"),
        ("weibull 1.5 2", "ok:0.6740081582180025"),
        ("weibull 1.5 2", "ok:0.6137106306250528"),
        ("uniform 5 -3", "ok:-2.2673898475398637"),
        ("expo 0", "err:ZeroDivisionError:float division by zero"),
        ("pareto 0", "err:ZeroDivisionError:float division by zero"),
        ("weibull 1 0", "err:ZeroDivisionError:float division by zero"),
        ("gamma -1 1", "err:ValueError:gammavariate: alpha and beta must be > 0.0"),
        ("gamma 1 0", "err:ValueError:gammavariate: alpha and beta must be > 0.0"),
        ("beta 1 -1", "err:ValueError:gammavariate: alpha and beta must be > 0.0"),
        ("beta 0 1", "err:ValueError:gammavariate: alpha and beta must be > 0.0"),
        ("lognorm 1000 0.5", "err:OverflowError:math range error"),
        ("lognorm 1000 0.5", "err:OverflowError:math range error"),
        ("lognorm 1000 0.5", "err:OverflowError:math range error"),
        ("lognorm 1000 0.5", "err:OverflowError:math range error"),
        ("lognorm 0 0", "ok:1.0"),
        ("pareto 1e-5", "err:OverflowError:(34, 'Numerical result out of range')"),
        ("pareto 1e-5", "err:OverflowError:(34, 'Numerical result out of range')"),
        ("pareto 1e-5", "err:OverflowError:(34, 'Numerical result out of range')"),
        ("pareto 1e-5", "err:OverflowError:(34, 'Numerical result out of range')"),
        ("weibull 1 1e-5", "err:OverflowError:(34, 'Numerical result out of range')"),
        ("weibull 1 1e-5", "ok:0.0"),
        ("weibull 1 1e-5", "ok:0.0"),
        ("weibull 1 1e-5", "err:OverflowError:(34, 'Numerical result out of range')"),
        ("random", "ok:0.2039788793696844"),
    ];
    const STR_SEEDS: [(&str, [&str; 3]); 6] = [
        ("hello", ["0.3537754404730722", "0.6631985810268619", "0.5476053663383964"]),
        ("", ["0.9602256525641875", "0.595411957851699", "0.3880117152955401"]),
        ("héllo✓", ["0.12601871362713057", "0.4402755332258871", "0.2987087600147542"]),
        ("x*200", ["0.8500063097913054", "0.17305576775745346", "0.32172225320517356"]),
        ("a*111", ["0.8914333082163279", "0.7000703999753025", "0.1202030795059974"]),
        ("a*112", ["0.8931524918639059", "0.06130367761891753", "0.8246072463810853"]),
    ];
    const BYTES_SEEDS: [(&[u8], [&str; 3]); 4] = [
        (&[0, 1], ["0.29193984183030475", "0.2069343783932741", "0.45344657699367696"]),
        (&[], ["0.9602256525641875", "0.595411957851699", "0.3880117152955401"]),
        (
            &[
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
                33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
                64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94,
                95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
                120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143,
                144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167,
                168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191,
                192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215,
                216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239,
                240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255,
            ],
            ["0.14149378059758566", "0.8514004474109346", "0.059652218009438984"],
        ),
        (&[0, 0, 0, 0, 0], ["0.7738443158939314", "0.6027091485980933", "0.869823440869735"]),
    ];
    const FLOAT_SEEDS: [(&str, i64, &str, u32); 16] = [
        ("1.5", 1152921504606846977, "0.551763726942059", 1099911448),
        ("-1.5", -1152921504606846977, "0.7101153317194698", 3396863),
        ("0.0", 0, "0.8444218515250481", 3255389356),
        ("-0.0", 0, "0.8444218515250481", 3255389356),
        ("5.0", 5, "0.6229016948897019", 3185950873),
        ("-5.0", -5, "0.02309888160478102", 2437717581),
        ("1e+300", 1224995262755759164, "0.2614143642581235", 291042395),
        ("-2.5e-310", -386353265232576880, "0.6295854865918574", 2367873469),
        ("5e-324", 16777216, "0.4787190331584651", 1780193951),
        ("inf", 314159, "0.19236379321481523", 1231978967),
        ("-inf", -314159, "0.820833204760975", 1254833236),
        ("3.141592653589793", 326490430436040707, "0.6739941379167522", 1650358046),
        ("1.1805916207174113e+21", 512, "0.018986953904685522", 1886593176),
        ("-1.0", -2, "0.13119521545503066", 1306021862),
        ("0.1", 230584300921369408, "0.8062579873336703", 594006205),
        ("1e-300", 482449582752280463, "0.43684087591810306", 2339693476),
    ];
    const STATE42: (u64, [u64; 3], u64) = (1301783031767, [2468570525, 44967195, 1079217633], 6);
    const RANDBYTES_SEED8: [&str; 10] =
        ["", "3a", "d35e", "f758f6", "6c361860", "d138572031", "dae16eb4350b", "a1b3ce15240823", "d44a583f1000afcf", "5ce3c6ffb3d5a08135"];
    const RANDBYTES_AFTER: u32 = 1721037353;
    const SHA512_CASES: [(usize, &str); 12] = [
        (0, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
        (1, "e45bf5817ddf94aa2f7a407071f0eedc6beb98f768b4cd33d1176d44d1563a45a5d7212290eb7670c6786b13591aedac86478993895e8b24e612014abaa6ba04"),
        (3, "8853167ab14c043919981a6409307ef68b5b726f4b80dcab259daa24b7cabcb8b4bbfd3e2e36ed98465059661f672e6529cdcc673e7eabfa78dd3186745b112a"),
        (111, "68cffa6d0d76f309c9ce0d35280939f8e25990c43b7b086ccdf709be35b07d4ddba599541ff2b1c19d34ea49aeafb9659adb7ac3c0b078bb30a22d57fc6687ef"),
        (112, "d0865c524d1dddf7c23b799c413f5adcd7caefd3f66a9b49750ec81066012c25a8bcf94ddea6dc525691673097ca40e0101e897fc97218cfdb0704084e2bef4b"),
        (113, "606314353bd419f9f7720e8297f2af8a9ed5f0bb0bed29b716bf18e34577623ae7effa46f496bd4282134e7e895284a4760a910d2ad8ec11e9dd75863058cd9c"),
        (127, "e0b6a20f1c0c88970a9340152cd5a1c1ecf3d3b8de55102741879438079473540133b812706e5dbec322c8c9523b6fc8c6d16ee626e87ad5fe3d2916afedc369"),
        (128, "99b16f17aa0b969a5b8f08f367719d516e330ccd2660b6f0688ec031dbc783de50a1cd185a2568dba75070a2403d17d4741d163578515dfd2ff756ddfe4d47b1"),
        (129, "a1556e29185778aa5991e34b8884c840d589f0fbb4b8ed590e51e9ac4eb03a008125000db2671f8fe7f485b59a77b518670078ecb41a54b4cd02a7f1d2ca4c6d"),
        (255, "c2e3bb67012f9eb526202efa59997933f7d3e75e7ded738818bc27d94977f4573afddb1b2793745701e62affa3b7a1c8262c992a321f488a6b1942a4795bab98"),
        (256, "e49c208e41556e859d1a52d14784a061c2d5ae2c8690a5360e9f9344f60861c1362a9ec05a9f08a4167b3da41bdd122a387413dd06976470e4beff5053f2ac71"),
        (1000, "00e36fccf193e59697a92b5ab24666ce6326d7fa16bf10832d0991ddc591112e9dfa6a636950ed9c4d67344a760654c2ff7785e1d60094d651038735b5dccabd")];
}
