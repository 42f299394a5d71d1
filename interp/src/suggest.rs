//! `Did you mean: 'print'?`: the closest of a list of names to a mistyped
//! one, by the edit distance and cut-offs CPython 3.12 uses, so that aio
//! suggests what CPython would.

/// Inserting, deleting or replacing a character costs this much...
const MOVE_COST: usize = 2;
/// ...and replacing it by itself in the other case costs this.
const CASE_COST: usize = 1;
/// Longer names are never compared.
const MAX_STRING_SIZE: usize = 40;
/// Nothing is suggested from more candidates than this.
const MAX_CANDIDATES: usize = 750;

fn substitution_cost(a: char, b: char) -> usize {
    if a == b {
        0
    } else if a.to_lowercase().eq(b.to_lowercase()) {
        CASE_COST
    } else {
        MOVE_COST
    }
}

/// The weighted edit distance between `a` and `b`, or anything above
/// `max` once it is clear the distance exceeds it.
pub fn distance(a: &str, b: &str, max: usize) -> usize {
    if a == b {
        return 0;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // What the two share at either end costs nothing.
    let pre = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[pre..], &b[pre..]);
    let post = a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[..a.len() - post], &b[..b.len() - post]);
    if a.is_empty() || b.is_empty() {
        return MOVE_COST * (a.len() + b.len());
    }
    if a.len() > MAX_STRING_SIZE || b.len() > MAX_STRING_SIZE {
        return max + 1;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if (long.len() - short.len()) * MOVE_COST > max {
        return max + 1;
    }
    // One row of the matrix: row[i] is the cost of turning short[..=i]
    // into the part of `long` seen so far.
    let mut row: Vec<usize> = (1..=short.len()).map(|i| i * MOVE_COST).collect();
    let mut result = 0;
    for (bi, &bc) in long.iter().enumerate() {
        let mut diagonal = bi * MOVE_COST;
        result = diagonal;
        let mut smallest = usize::MAX;
        for (i, &ac) in short.iter().enumerate() {
            let substitute = diagonal + substitution_cost(bc, ac);
            diagonal = row[i];
            result = substitute.min(result.min(diagonal) + MOVE_COST);
            row[i] = result;
            smallest = smallest.min(result);
        }
        if smallest > max {
            return max + 1;
        }
    }
    result
}

/// The candidate closest to `wrong`, if one is close enough: no more than
/// about a third of the characters involved may change, and on a tie the
/// first candidate wins (so the order of `candidates` matters).
pub fn closest<'a>(wrong: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let wrong_len = wrong.chars().count();
    if candidates.len() > MAX_CANDIDATES || wrong_len > MAX_STRING_SIZE {
        return None;
    }
    let mut best_distance = wrong_len;
    let mut best = None;
    for &candidate in candidates {
        // A name that is there but failed anyway (a property that raised
        // AttributeError) is no suggestion.
        if candidate == wrong || best_distance == 0 {
            continue;
        }
        let max = ((candidate.chars().count() + wrong_len + 3) * MOVE_COST / 6).min(best_distance - 1);
        let d = distance(wrong, candidate, max);
        if d <= max {
            best = Some(candidate);
            best_distance = d;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("prnt", "print", 10), 2);
        assert_eq!(distance("slep", "sleep", 10), 2);
        assert_eq!(distance("Print", "print", 10), 1);
        assert_eq!(distance("abc", "abc", 0), 0);
        assert_eq!(distance("ab", "ba", 10), 4);
        assert_eq!(distance("", "abc", 10), 6);
        // Beyond the limit the answer is only "too far".
        assert!(distance("apple", "zebra", 3) > 3);
    }

    #[test]
    fn closest_names() {
        assert_eq!(closest("prnt", &["message", "print", "int"]), Some("print"));
        assert_eq!(closest("slep", &["gather", "sleep", "run"]), Some("sleep"));
        assert_eq!(closest("lenght", &["len", "length"]), Some("length"));
        assert_eq!(closest("x", &["print"]), None);
        assert_eq!(closest("name", &["name"]), None);
        // Ties go to the first.
        assert_eq!(closest("abcd", &["abcde", "abcdf"]), Some("abcde"));
        // Short names need a close match: two edits are too many for two letters.
        assert_eq!(closest("ab", &["abc"]), None);
        let many: Vec<String> = (0..800).map(|i| format!("n{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(closest("n1", &many), None);
    }
}
