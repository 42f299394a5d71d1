//! The list sort for keys whose `<` may run .aio code: an adaptive, stable,
//! natural merge sort that asks exactly the comparisons CPython 3.11's
//! `list.sort` asks, in the same order, so that a `__lt__` that prints or
//! counts sees the same calls.
//!
//! The sort permutes a slice of item numbers; `lt(x, y)` says whether the
//! key of item `x` is less than that of item `y`. Natural runs are found
//! left to right (a strictly descending one is reversed in place), short
//! ones are extended to `minrun` items by binary insertion, and each run is
//! pushed on a stack whose runs are merged by the "powersort" rule. A merge
//! first trims what is already in place, then moves the smaller side to a
//! scratch buffer and merges one item at a time, switching to galloping
//! (exponential then binary search) while one side keeps winning.
//!
//! When a comparison fails, the sort stops at once and the slice is left a
//! permutation of its items, the same one CPython leaves.

use smallvec::SmallVec;

/// Consecutive wins of one side that switch a merge to galloping; the
/// adaptive threshold starts here.
const MIN_GALLOP: usize = 7;

/// Runs shorter than `minrun` (at most this) are extended by insertion.
const MAX_MINRUN: usize = 64;

/// A run on the merge stack: `len` items from `base`, and its node depth in
/// the conceptual merge tree (`power`) once the run after it is known.
#[derive(Clone, Copy)]
struct Run {
    base: usize,
    len: usize,
    power: u32,
}

/// Sort `v` stably by `lt`. On an error from `lt`, `v` holds its items in
/// the order the sort had reached.
pub fn sort<E>(v: &mut [usize], lt: impl FnMut(usize, usize) -> Result<bool, E>) -> Result<(), E> {
    let n = v.len();
    if n < 2 {
        return Ok(());
    }
    let mut ms = MergeState { lt, min_gallop: MIN_GALLOP, pending: SmallVec::new(), tmp: Vec::new(), listlen: n };
    let minrun = compute_minrun(n);
    let mut lo = 0;
    while lo < n {
        let remaining = n - lo;
        let (mut run, descending) = ms.count_run(&v[lo..])?;
        if descending {
            v[lo..lo + run].reverse();
        }
        if run < minrun {
            let force = remaining.min(minrun);
            ms.binary_insertion(&mut v[lo..lo + force], run)?;
            run = force;
        }
        ms.found_new_run(v, run)?;
        ms.pending.push(Run { base: lo, len: run, power: 0 });
        lo += run;
    }
    ms.force_collapse(v)
}

/// The shortest run worth merging for `n` items: `n` itself below
/// `MAX_MINRUN`, else a length between half of it and it such that `n /
/// minrun` is a power of two or a little less.
fn compute_minrun(mut n: usize) -> usize {
    let mut r = 0;
    while n >= MAX_MINRUN {
        r |= n & 1;
        n >>= 1;
    }
    n + r
}

/// The depth in the merge tree of the boundary between the run of `n1`
/// items at `s1` and the `n2` items after it, in a list of `n`: the first
/// bit where the binary fractions of the two runs' midpoints (over `n`)
/// differ. Twice the midpoints keep the arithmetic in integers.
fn power(s1: usize, n1: usize, n2: usize, n: usize) -> u32 {
    let mut a = 2 * s1 + n1;
    let mut b = a + n1 + n2;
    let mut result = 0;
    loop {
        result += 1;
        if a >= n {
            a -= n;
            b -= n;
        } else if b >= n {
            return result;
        }
        a <<= 1;
        b <<= 1;
    }
}

/// Where `key` goes in the sorted `a`, before any items equal to it: the
/// `k` with `a[k-1] < key <= a[k]`. The search starts at `hint` and gallops
/// away from it by 1, 3, 7, ... places before a binary search.
fn gallop_left<E>(lt: &mut impl FnMut(usize, usize) -> Result<bool, E>, key: usize, a: &[usize], hint: usize) -> Result<usize, E> {
    let n = a.len();
    let (mut lastofs, mut ofs) = (0, 1);
    // After the gallop `a[lastofs] < key <= a[ofs]`, with lastofs -1 as
    // one before the start (kept here one higher, as the search's low end).
    let (mut lo, mut hi);
    if lt(a[hint], key)? {
        let maxofs = n - hint;
        while ofs < maxofs {
            if lt(a[hint + ofs], key)? {
                lastofs = ofs;
                ofs = (ofs << 1) + 1;
            } else {
                break;
            }
        }
        ofs = ofs.min(maxofs);
        (lo, hi) = (hint + lastofs + 1, hint + ofs);
    } else {
        let maxofs = hint + 1;
        while ofs < maxofs {
            if lt(a[hint - ofs], key)? {
                break;
            }
            lastofs = ofs;
            ofs = (ofs << 1) + 1;
        }
        ofs = ofs.min(maxofs);
        (lo, hi) = (hint + 1 - ofs, hint - lastofs);
    }
    while lo < hi {
        let m = lo + ((hi - lo) >> 1);
        if lt(a[m], key)? {
            lo = m + 1;
        } else {
            hi = m;
        }
    }
    Ok(hi)
}

/// Where `key` goes in the sorted `a`, after any items equal to it: the
/// `k` with `a[k-1] <= key < a[k]`; searched as `gallop_left` does.
fn gallop_right<E>(lt: &mut impl FnMut(usize, usize) -> Result<bool, E>, key: usize, a: &[usize], hint: usize) -> Result<usize, E> {
    let n = a.len();
    let (mut lastofs, mut ofs) = (0, 1);
    let (mut lo, mut hi);
    if lt(key, a[hint])? {
        let maxofs = hint + 1;
        while ofs < maxofs {
            if lt(key, a[hint - ofs])? {
                lastofs = ofs;
                ofs = (ofs << 1) + 1;
            } else {
                break;
            }
        }
        ofs = ofs.min(maxofs);
        (lo, hi) = (hint + 1 - ofs, hint - lastofs);
    } else {
        let maxofs = n - hint;
        while ofs < maxofs {
            if lt(key, a[hint + ofs])? {
                break;
            }
            lastofs = ofs;
            ofs = (ofs << 1) + 1;
        }
        ofs = ofs.min(maxofs);
        (lo, hi) = (hint + lastofs + 1, hint + ofs);
    }
    while lo < hi {
        let m = lo + ((hi - lo) >> 1);
        if lt(key, a[m])? {
            hi = m;
        } else {
            lo = m + 1;
        }
    }
    Ok(hi)
}

/// How a merge's item-by-item phase ended.
enum MergeEnd {
    /// Both sides placed, or all that is left is in place once the
    /// buffered side is copied back.
    Done,
    /// One item of the buffered side is left, and it goes at the far end.
    LastOfBuffered,
}

struct MergeState<F> {
    lt: F,
    /// The adaptive galloping threshold, kept from merge to merge.
    min_gallop: usize,
    /// The runs not merged yet: few (their lengths grow at least as fast
    /// as the Fibonacci numbers), kept off the heap so that sorting a
    /// short list allocates nothing here.
    pending: SmallVec<[Run; 16]>,
    /// The smaller side of the merge in progress.
    tmp: Vec<usize>,
    listlen: usize,
}

impl<E, F: FnMut(usize, usize) -> Result<bool, E>> MergeState<F> {
    /// The length of the run at the start of `v` (not empty), and whether
    /// it is strictly descending (else it is non-descending).
    fn count_run(&mut self, v: &[usize]) -> Result<(usize, bool), E> {
        if v.len() == 1 {
            return Ok((1, false));
        }
        let mut n = 2;
        let descending = (self.lt)(v[1], v[0])?;
        while n < v.len() && (self.lt)(v[n], v[n - 1])? == descending {
            n += 1;
        }
        Ok((n, descending))
    }

    /// Sort `v` by binary insertion, its first `sorted` items being in order.
    fn binary_insertion(&mut self, v: &mut [usize], sorted: usize) -> Result<(), E> {
        for start in sorted.max(1)..v.len() {
            let pivot = v[start];
            let (mut l, mut r) = (0, start);
            while l < r {
                let m = l + ((r - l) >> 1);
                if (self.lt)(pivot, v[m])? {
                    r = m;
                } else {
                    l = m + 1;
                }
            }
            v.copy_within(l..start, l + 1);
            v[l] = pivot;
        }
        Ok(())
    }

    /// A run of `n2` items follows the top of the stack: merge the runs
    /// deeper in the merge tree than the boundary between the two.
    fn found_new_run(&mut self, v: &mut [usize], n2: usize) -> Result<(), E> {
        let Some(top) = self.pending.last() else { return Ok(()) };
        let p = power(top.base, top.len, n2, self.listlen);
        while self.pending.len() > 1 && self.pending[self.pending.len() - 2].power > p {
            self.merge_at(v, self.pending.len() - 2)?;
        }
        if let Some(top) = self.pending.last_mut() {
            top.power = p;
        }
        Ok(())
    }

    /// Merge what is left on the stack, at the end.
    fn force_collapse(&mut self, v: &mut [usize]) -> Result<(), E> {
        while self.pending.len() > 1 {
            let mut n = self.pending.len() - 2;
            if n > 0 && self.pending[n - 1].len < self.pending[n + 1].len {
                n -= 1;
            }
            self.merge_at(v, n)?;
        }
        Ok(())
    }

    /// Merge the runs at stack places `i` and `i + 1`.
    fn merge_at(&mut self, v: &mut [usize], i: usize) -> Result<(), E> {
        let Run { base: mut pa, len: mut na, .. } = self.pending[i];
        let Run { base: pb, len: nb, .. } = self.pending[i + 1];
        self.pending[i].len = na + nb;
        self.pending.remove(i + 1);
        // The items of a that are not greater than b's first are in place.
        let k = gallop_right(&mut self.lt, v[pb], &v[pa..pa + na], 0)?;
        pa += k;
        na -= k;
        if na == 0 {
            return Ok(());
        }
        // And so are the items of b not less than a's last.
        let nb = gallop_left(&mut self.lt, v[pa + na - 1], &v[pb..pb + nb], nb - 1)?;
        if nb == 0 {
            return Ok(());
        }
        if na <= nb {
            self.merge_lo(v, pa, na, nb)
        } else {
            self.merge_hi(v, pa, na, nb)
        }
    }

    /// Merge the `na` items at `pa` (run a) with the `nb` after them (run
    /// b), `na <= nb`, front to back with a moved to the buffer. a's first
    /// item is greater than b's first, and a's last greater than all of b.
    ///
    /// What is left of a is `tmp[na0 - na..]`, of b `v[end - nb..end]`, and
    /// the next place to fill is `end - nb - na`.
    fn merge_lo(&mut self, v: &mut [usize], pa: usize, na: usize, nb: usize) -> Result<(), E> {
        let end = pa + na + nb;
        let na0 = na;
        self.tmp.clear();
        self.tmp.extend_from_slice(&v[pa..pa + na]);
        let (mut na, mut nb) = (na, nb);
        let lt = &mut self.lt;
        let tmp = &self.tmp;
        let min_gallop = &mut self.min_gallop;
        let r = (|| -> Result<MergeEnd, E> {
            v[end - nb - na] = v[end - nb];
            nb -= 1;
            if nb == 0 {
                return Ok(MergeEnd::Done);
            }
            if na == 1 {
                return Ok(MergeEnd::LastOfBuffered);
            }
            let mut mg = *min_gallop;
            loop {
                let (mut acount, mut bcount) = (0, 0);
                loop {
                    if lt(v[end - nb], tmp[na0 - na])? {
                        v[end - nb - na] = v[end - nb];
                        nb -= 1;
                        bcount += 1;
                        acount = 0;
                        if nb == 0 {
                            return Ok(MergeEnd::Done);
                        }
                        if bcount >= mg {
                            break;
                        }
                    } else {
                        v[end - nb - na] = tmp[na0 - na];
                        na -= 1;
                        acount += 1;
                        bcount = 0;
                        if na == 1 {
                            return Ok(MergeEnd::LastOfBuffered);
                        }
                        if acount >= mg {
                            break;
                        }
                    }
                }
                // One side keeps winning: gallop until neither wins by
                // MIN_GALLOP in a row, lowering the threshold meanwhile.
                mg += 1;
                loop {
                    mg -= (mg > 1) as usize;
                    *min_gallop = mg;
                    let k = gallop_right(lt, v[end - nb], &tmp[na0 - na..], 0)?;
                    acount = k;
                    if k > 0 {
                        let dest = end - nb - na;
                        v[dest..dest + k].copy_from_slice(&tmp[na0 - na..na0 - na + k]);
                        na -= k;
                        if na == 1 {
                            return Ok(MergeEnd::LastOfBuffered);
                        }
                        // Only with an inconsistent `<`.
                        if na == 0 {
                            return Ok(MergeEnd::Done);
                        }
                    }
                    v[end - nb - na] = v[end - nb];
                    nb -= 1;
                    if nb == 0 {
                        return Ok(MergeEnd::Done);
                    }
                    let k = gallop_left(lt, tmp[na0 - na], &v[end - nb..end], 0)?;
                    bcount = k;
                    if k > 0 {
                        v.copy_within(end - nb..end - nb + k, end - nb - na);
                        nb -= k;
                        if nb == 0 {
                            return Ok(MergeEnd::Done);
                        }
                    }
                    v[end - nb - na] = tmp[na0 - na];
                    na -= 1;
                    if na == 1 {
                        return Ok(MergeEnd::LastOfBuffered);
                    }
                    if acount < MIN_GALLOP && bcount < MIN_GALLOP {
                        break;
                    }
                }
                // Penalised for leaving galloping mode.
                mg += 1;
                *min_gallop = mg;
            }
        })();
        let dest = end - nb - na;
        match r {
            Ok(MergeEnd::LastOfBuffered) => {
                v.copy_within(end - nb..end, dest);
                v[end - 1] = tmp[na0 - 1];
                Ok(())
            }
            r => {
                // Done or failed: the rest of a goes back where it belongs
                // or, after an error, at least back into the list.
                v[dest..dest + na].copy_from_slice(&tmp[na0 - na..]);
                r.map(|_| ())
            }
        }
    }

    /// Merge the `na` items at `pa` with the `nb` after them, `na > nb`,
    /// back to front with b moved to the buffer (the mirror of `merge_lo`).
    ///
    /// What is left of a is `v[pa..pa + na]`, of b `tmp[..nb]`, and the
    /// next place to fill is `pa + na + nb - 1`.
    fn merge_hi(&mut self, v: &mut [usize], pa: usize, na: usize, nb: usize) -> Result<(), E> {
        self.tmp.clear();
        self.tmp.extend_from_slice(&v[pa + na..pa + na + nb]);
        let (mut na, mut nb) = (na, nb);
        let lt = &mut self.lt;
        let tmp = &self.tmp;
        let min_gallop = &mut self.min_gallop;
        let r = (|| -> Result<MergeEnd, E> {
            v[pa + na + nb - 1] = v[pa + na - 1];
            na -= 1;
            if na == 0 {
                return Ok(MergeEnd::Done);
            }
            if nb == 1 {
                return Ok(MergeEnd::LastOfBuffered);
            }
            let mut mg = *min_gallop;
            loop {
                let (mut acount, mut bcount) = (0, 0);
                loop {
                    if lt(tmp[nb - 1], v[pa + na - 1])? {
                        v[pa + na + nb - 1] = v[pa + na - 1];
                        na -= 1;
                        acount += 1;
                        bcount = 0;
                        if na == 0 {
                            return Ok(MergeEnd::Done);
                        }
                        if acount >= mg {
                            break;
                        }
                    } else {
                        v[pa + na + nb - 1] = tmp[nb - 1];
                        nb -= 1;
                        bcount += 1;
                        acount = 0;
                        if nb == 1 {
                            return Ok(MergeEnd::LastOfBuffered);
                        }
                        if bcount >= mg {
                            break;
                        }
                    }
                }
                mg += 1;
                loop {
                    mg -= (mg > 1) as usize;
                    *min_gallop = mg;
                    let k = na - gallop_right(lt, tmp[nb - 1], &v[pa..pa + na], na - 1)?;
                    acount = k;
                    if k > 0 {
                        v.copy_within(pa + na - k..pa + na, pa + na - k + nb);
                        na -= k;
                        if na == 0 {
                            return Ok(MergeEnd::Done);
                        }
                    }
                    v[pa + na + nb - 1] = tmp[nb - 1];
                    nb -= 1;
                    if nb == 1 {
                        return Ok(MergeEnd::LastOfBuffered);
                    }
                    let k = nb - gallop_left(lt, v[pa + na - 1], &tmp[..nb], nb - 1)?;
                    bcount = k;
                    if k > 0 {
                        v[pa + na + nb - k..pa + na + nb].copy_from_slice(&tmp[nb - k..nb]);
                        nb -= k;
                        if nb == 1 {
                            return Ok(MergeEnd::LastOfBuffered);
                        }
                        // Only with an inconsistent `<`.
                        if nb == 0 {
                            return Ok(MergeEnd::Done);
                        }
                    }
                    v[pa + na + nb - 1] = v[pa + na - 1];
                    na -= 1;
                    if na == 0 {
                        return Ok(MergeEnd::Done);
                    }
                    if acount < MIN_GALLOP && bcount < MIN_GALLOP {
                        break;
                    }
                }
                mg += 1;
                *min_gallop = mg;
            }
        })();
        match r {
            Ok(MergeEnd::LastOfBuffered) => {
                v.copy_within(pa..pa + na, pa + 1);
                v[pa] = tmp[0];
                Ok(())
            }
            r => {
                v[pa + na..pa + na + nb].copy_from_slice(&tmp[..nb]);
                r.map(|_| ())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sort numbers by a key with many ties; check order and stability.
    #[test]
    fn sorts_stably() {
        let mut seed = 7u64;
        for n in [0, 1, 2, 5, 63, 64, 65, 200, 1000, 5000] {
            for modulus in [3, 1000, 1 << 30] {
                let keys: Vec<u64> = (0..n)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (seed >> 33) % modulus
                    })
                    .collect();
                let mut v: Vec<usize> = (0..n as usize).collect();
                sort(&mut v, |a, b| Ok::<_, ()>(keys[a] < keys[b])).unwrap();
                let mut want: Vec<usize> = (0..n as usize).collect();
                want.sort_by_key(|&i| keys[i]);
                assert_eq!(v, want);
            }
        }
    }

    /// A failing comparison leaves a permutation.
    #[test]
    fn failure_keeps_items() {
        let keys: Vec<u64> = (0..500u64).map(|i| (i * 7919) % 263).collect();
        for stop in [1, 10, 100, 1000, 2000, 3000] {
            let mut count = 0;
            let mut v: Vec<usize> = (0..500).collect();
            let _ = sort(&mut v, |a, b| {
                count += 1;
                if count == stop {
                    Err(())
                } else {
                    Ok(keys[a] < keys[b])
                }
            });
            let mut seen = v.clone();
            seen.sort();
            assert_eq!(seen, (0..500).collect::<Vec<_>>());
        }
    }
}
