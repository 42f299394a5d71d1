//! Tab completion for the REPL: keywords, names in scope and attributes
//! after a dot, from a snapshot of the session's names.

use std::collections::HashMap;

/// Python's keywords, completed like names.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else", "except",
    "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try",
    "while", "with", "yield",
];

/// What can be completed, as the main thread last saw it: the editor runs on
/// another thread and cannot touch the VM's values.
#[derive(Default, Debug, Clone)]
pub struct Names {
    /// Global names of `__main__`.
    pub globals: Vec<String>,
    /// Builtin names.
    pub builtins: Vec<String>,
    /// For each global, the names `dir()` gives for its value.
    pub attrs: HashMap<String, Vec<String>>,
}

impl Names {
    /// The completions of the word before `pos` in `line`: where the
    /// replaced text starts, and the candidates, sorted.
    pub fn complete(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        if before.trim().is_empty() {
            // Tab at the start of a line indents, as in Python's REPL.
            return (pos, vec!["    ".to_string()]);
        }
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .map_or(0, |i| i + before[i..].chars().next().map_or(1, char::len_utf8));
        let word = &before[start..];
        if word.starts_with(|c: char| c.is_ascii_digit()) {
            return (pos, vec![]);
        }
        let (from, prefix, pool): (usize, &str, Vec<&str>) = match word.rsplit_once('.') {
            Some((base, prefix)) => {
                let attrs = self.attrs.get(base).map(|v| v.iter().map(String::as_str).collect()).unwrap_or_default();
                (pos - prefix.len(), prefix, attrs)
            }
            None => (
                start,
                word,
                KEYWORDS
                    .iter()
                    .copied()
                    .chain(self.globals.iter().map(String::as_str))
                    .chain(self.builtins.iter().map(String::as_str))
                    .collect(),
            ),
        };
        // Private names only when asked for.
        let private = prefix.starts_with('_');
        let mut out: Vec<String> =
            pool.into_iter().filter(|n| n.starts_with(prefix) && (private || !n.starts_with('_'))).map(str::to_string).collect();
        out.sort();
        out.dedup();
        (from, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let mut n = Names {
            globals: vec!["asyncio".into(), "answer".into(), "_secret".into()],
            builtins: vec!["abs".into(), "all".into(), "print".into()],
            attrs: HashMap::new(),
        };
        n.attrs.insert("asyncio".into(), vec!["gather".into(), "get_running_loop".into(), "_gathering_future".into(), "sleep".into()]);
        n
    }

    #[test]
    fn attribute_after_a_dot() {
        let line = "x = asyncio.ga";
        assert_eq!(names().complete(line, line.len()), (12, vec!["gather".to_string()]));
        let line = "asyncio._g";
        assert_eq!(names().complete(line, line.len()), (8, vec!["_gathering_future".to_string()]));
    }

    #[test]
    fn names_and_keywords() {
        assert_eq!(
            names().complete("a", 1),
            (0, vec!["abs", "all", "and", "answer", "as", "assert", "async", "asyncio", "await"].into_iter().map(String::from).collect())
        );
        assert_eq!(names().complete("print(aw", 8), (6, vec!["await".to_string()]));
        assert!(names().complete("_", 1).1.contains(&"_secret".to_string()));
        assert!(!names().complete("", 0).1.is_empty());
    }

    #[test]
    fn unknown_base_and_numbers() {
        assert_eq!(names().complete("foo.ba", 6), (4, vec![]));
        assert_eq!(names().complete("1.5", 3), (3, vec![]));
        assert_eq!(names().complete("    ", 4), (4, vec!["    ".to_string()]));
    }
}
