//! Python's regular-expression syntax, checked with CPython's error
//! messages and translated into the syntax of the engines under `re`
//! (regex-automata for plain patterns, fancy-regex for backreferences and
//! lookaround), with Python's meaning of `^`, `$`, `\Z`, `.` and the flags.

/// `re.IGNORECASE` and the other flag bits, as CPython numbers them.
pub const I: u32 = 2;
pub const L: u32 = 4;
pub const M: u32 = 8;
pub const S: u32 = 16;
pub const U: u32 = 32;
pub const X: u32 = 64;
pub const A: u32 = 256;

/// A pattern in the engines' syntax, with what Python needs to know of it.
pub struct Translated {
    /// The pattern for the engines.
    pub src: String,
    /// The number of capturing groups (Python's `Pattern.groups`).
    pub groups: usize,
    /// Named groups in order of definition.
    pub names: Vec<(String, usize)>,
    /// Whether the pattern needs the backtracking engine (fancy-regex).
    pub fancy: bool,
    /// The flags after the inline global flags were added.
    pub flags: u32,
    /// A final non-multiline `$` became the hidden last group `(\n?\z)`:
    /// the match ends where that group starts.
    pub tail: bool,
}

/// A bad pattern: CPython's message and the character position it names.
#[derive(Debug)]
pub struct ReError {
    pub msg: String,
    pub pos: Option<usize>,
}

fn err<T>(msg: impl Into<String>, pos: usize) -> Result<T, ReError> {
    Err(ReError { msg: msg.into(), pos: Some(pos) })
}

struct Parser {
    c: Vec<char>,
    i: usize,
    out: String,
    groups: usize,
    names: Vec<(String, usize)>,
    open: Vec<usize>,
    fancy: bool,
    flags: u32,
    bytes: bool,
    /// Top-level `|` seen (a final `$` then cannot become the hidden group).
    top_alt: bool,
    tail: bool,
}

/// Translate `pat` (a str pattern, or a bytes pattern decoded as Latin-1
/// when `bytes`) under `flags`.
pub fn translate(pat: &str, flags: u32, bytes: bool) -> Result<Translated, ReError> {
    let mut p = Parser {
        c: pat.chars().collect(),
        i: 0,
        out: String::new(),
        groups: 0,
        names: Vec::new(),
        open: Vec::new(),
        fancy: false,
        flags,
        bytes,
        top_alt: false,
        tail: false,
    };
    if bytes && flags & U != 0 {
        return Err(ReError { msg: "cannot use UNICODE flag with a bytes pattern".into(), pos: None });
    }
    if !bytes && flags & L != 0 {
        return Err(ReError { msg: "cannot use LOCALE flag with a str pattern".into(), pos: None });
    }
    p.global_flags()?;
    if p.flags & A != 0 && p.flags & U != 0 {
        return Err(ReError { msg: "ASCII and UNICODE flags are incompatible".into(), pos: None });
    }
    let body_start = p.out.len();
    p.alternation(0)?;
    if p.i < p.c.len() {
        // Only a stray ')' stops the top-level alternation early.
        return err("unbalanced parenthesis", p.i);
    }
    let mut src = String::new();
    if p.flags & I != 0 {
        src.push_str("(?i)");
    }
    src.push_str(&p.out[body_start..]);
    let mut fl = p.flags;
    if !bytes && fl & A == 0 {
        fl |= U;
    }
    Ok(Translated { src, groups: p.groups, names: p.names, fancy: p.fancy, flags: fl, tail: p.tail })
}

fn flag_bit(c: char) -> Option<u32> {
    Some(match c {
        'i' => I,
        'L' => L,
        'm' => M,
        's' => S,
        'u' => U,
        'x' => X,
        'a' => A,
        _ => return None,
    })
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }
    fn at(&self, s: &str) -> bool {
        let want: Vec<char> = s.chars().collect();
        self.c.get(self.i..self.i + want.len()) == Some(&want[..])
    }
    fn verbose(&self) -> bool {
        self.flags & X != 0
    }
    fn ascii(&self) -> bool {
        self.bytes || self.flags & A != 0
    }

    /// Inline global flags such as `(?i)` at the start of the pattern.
    fn global_flags(&mut self) -> Result<(), ReError> {
        loop {
            self.skip_verbose();
            if !self.at("(?") {
                return Ok(());
            }
            let mut j = self.i + 2;
            let mut add = 0;
            while let Some(b) = self.c.get(j).and_then(|&c| flag_bit(c)) {
                add |= b;
                j += 1;
            }
            if add == 0 || self.c.get(j) != Some(&')') {
                return Ok(());
            }
            self.check_flag_types(add, self.i + 2)?;
            self.flags |= add;
            self.i = j + 1;
        }
    }

    fn check_flag_types(&self, add: u32, pos: usize) -> Result<(), ReError> {
        if add & L != 0 && !self.bytes {
            return err("bad inline flags: cannot use 'L' flag with a str pattern", pos);
        }
        if add & U != 0 && self.bytes {
            return err("bad inline flags: cannot use 'u' flag with a bytes pattern", pos);
        }
        if (add & A != 0 && add & (U | L) != 0) || (add & U != 0 && add & L != 0) {
            return err("bad inline flags: flags 'a', 'u' and 'L' are incompatible", pos);
        }
        Ok(())
    }

    fn skip_verbose(&mut self) {
        if !self.verbose() {
            return;
        }
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.i += 1;
            } else if c == '#' {
                while let Some(c) = self.peek() {
                    self.i += 1;
                    if c == '\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    /// Branches separated by `|`, up to a `)` or the end.
    fn alternation(&mut self, depth: usize) -> Result<(), ReError> {
        loop {
            self.sequence(depth)?;
            if self.peek() == Some('|') {
                if depth == 0 {
                    self.top_alt = true;
                }
                self.i += 1;
                self.out.push('|');
                continue;
            }
            return Ok(());
        }
    }

    /// Items with their repeats, up to `|`, `)` or the end.
    fn sequence(&mut self, depth: usize) -> Result<(), ReError> {
        // Whether the last item can take a repeat, and where its text starts.
        let mut last: Option<usize> = None;
        let mut last_was_repeat = false;
        loop {
            self.skip_verbose();
            let Some(c) = self.peek() else { return Ok(()) };
            let start = self.i;
            match c {
                '|' | ')' => return Ok(()),
                '*' | '+' | '?' | '{' => {
                    if c == '{' && !self.is_repeat_brace() {
                        self.i += 1;
                        last = Some(self.out.len());
                        self.out.push_str("\\{");
                        last_was_repeat = false;
                        continue;
                    }
                    let Some(_) = last else {
                        return err("nothing to repeat", start);
                    };
                    if last_was_repeat {
                        return err("multiple repeat", start);
                    }
                    self.repeat()?;
                    last_was_repeat = true;
                    continue;
                }
                _ => {}
            }
            last_was_repeat = false;
            let at = self.out.len();
            let repeatable = self.item(depth)?;
            last = if repeatable { Some(at) } else { None };
        }
    }

    /// Whether the `{` at the cursor starts `{m}`, `{m,}`, `{,n}` or `{m,n}`.
    fn is_repeat_brace(&self) -> bool {
        let mut j = self.i + 1;
        if self.c.get(j) == Some(&'}') {
            return false;
        }
        while self.c.get(j).is_some_and(|c| c.is_ascii_digit()) {
            j += 1;
        }
        if self.c.get(j) == Some(&',') {
            j += 1;
            while self.c.get(j).is_some_and(|c| c.is_ascii_digit()) {
                j += 1;
            }
        }
        self.c.get(j) == Some(&'}')
    }

    fn number(&mut self) -> Option<u64> {
        let s = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if s == self.i {
            return None;
        }
        let t: String = self.c[s..self.i].iter().collect();
        Some(t.parse().unwrap_or(u64::MAX))
    }

    fn repeat(&mut self) -> Result<(), ReError> {
        let start = self.i;
        let c = self.c[self.i];
        self.i += 1;
        match c {
            '*' | '+' | '?' => self.out.push(c),
            _ => {
                let lo = self.number();
                let hi = if self.peek() == Some(',') {
                    self.i += 1;
                    self.number()
                } else {
                    Some(lo.unwrap_or(0))
                };
                self.i += 1; // the '}'
                let lo = lo.unwrap_or(0);
                const MAXREPEAT: u64 = 4294967295;
                if lo >= MAXREPEAT || hi.is_some_and(|h| h >= MAXREPEAT) {
                    return Err(ReError { msg: "the repetition number is too large".into(), pos: Some(start + 1) });
                }
                if let Some(h) = hi {
                    if h < lo {
                        return err("min repeat greater than max repeat", start + 1);
                    }
                    self.out.push_str(&format!("{{{lo},{h}}}"));
                } else {
                    self.out.push_str(&format!("{{{lo},}}"));
                }
            }
        }
        match self.peek() {
            Some('?') => {
                self.i += 1;
                self.out.push('?');
            }
            Some('+') => {
                self.i += 1;
                self.out.push('+');
                self.fancy = true;
            }
            _ => {}
        }
        Ok(())
    }

    fn lit(&mut self, ch: char) {
        push_literal(&mut self.out, ch);
    }

    /// One item; returns whether a repeat may follow it.
    fn item(&mut self, depth: usize) -> Result<bool, ReError> {
        let c = self.c[self.i];
        let start = self.i;
        self.i += 1;
        match c {
            '(' => self.group(start, depth),
            '[' => {
                self.class(start)?;
                Ok(true)
            }
            '.' => {
                if self.flags & S != 0 {
                    self.out.push_str("(?s:.)");
                } else {
                    self.out.push('.');
                }
                Ok(true)
            }
            '^' => {
                self.out.push_str(if self.flags & M != 0 { "(?m:^)" } else { "\\A" });
                Ok(false)
            }
            '$' => {
                if self.flags & M != 0 {
                    self.out.push_str("(?m:$)");
                } else {
                    self.skip_verbose();
                    if depth == 0 && !self.top_alt && self.i == self.c.len() {
                        self.out.push_str("(\\n?\\z)");
                        self.tail = true;
                    } else {
                        self.out.push_str("(?=\\n?\\z)");
                        self.fancy = true;
                    }
                }
                Ok(false)
            }
            '\\' => self.escape(start),
            _ => {
                self.lit(c);
                Ok(true)
            }
        }
    }

    fn group_name(&mut self, end: char, what_start: usize) -> Result<String, ReError> {
        let s = self.i;
        while let Some(c) = self.peek() {
            if c == end {
                break;
            }
            self.i += 1;
        }
        if self.peek() != Some(end) {
            let msg = if end == '>' { "missing >, unterminated name" } else { "missing ), unterminated name" };
            return err(msg, s);
        }
        let name: String = self.c[s..self.i].iter().collect();
        self.i += 1;
        if name.is_empty() {
            return err("missing group name", s);
        }
        let _ = what_start;
        Ok(name)
    }

    fn is_identifier(name: &str) -> bool {
        let mut cs = name.chars();
        match cs.next() {
            Some(c) if c == '_' || c.is_alphabetic() => {}
            _ => return false,
        }
        cs.all(|c| c == '_' || c.is_alphanumeric())
    }

    fn group(&mut self, start: usize, depth: usize) -> Result<bool, ReError> {
        if self.peek() != Some('?') {
            return self.capture(start, depth, None);
        }
        self.i += 1;
        let Some(c) = self.peek() else {
            return err("unexpected end of pattern", self.i);
        };
        match c {
            ':' => {
                self.i += 1;
                self.out.push_str("(?:");
                self.body(start, depth)?;
                Ok(true)
            }
            'P' => {
                self.i += 1;
                match self.peek() {
                    Some('<') => {
                        self.i += 1;
                        let ns = self.i;
                        let name = self.group_name('>', start)?;
                        if !Self::is_identifier(&name) {
                            return err(format!("bad character in group name '{name}'"), ns);
                        }
                        self.capture(start, depth, Some((name, ns)))
                    }
                    Some('=') => {
                        self.i += 1;
                        let ns = self.i;
                        let name = self.group_name(')', start)?;
                        if !Self::is_identifier(&name) {
                            return err(format!("bad character in group name '{name}'"), ns);
                        }
                        let Some(&(_, n)) = self.names.iter().find(|(k, _)| *k == name) else {
                            return err(format!("unknown group name '{name}'"), ns);
                        };
                        if self.open.contains(&n) {
                            return err("cannot refer to an open group", start);
                        }
                        self.backref(n);
                        Ok(true)
                    }
                    Some(c) => err(format!("unknown extension ?P{c}"), start + 1),
                    None => err("unexpected end of pattern", self.i),
                }
            }
            '#' => {
                while let Some(c) = self.peek() {
                    self.i += 1;
                    if c == ')' {
                        return Ok(false);
                    }
                }
                err("missing ), unterminated comment", start)
            }
            '=' | '!' => {
                self.i += 1;
                self.fancy = true;
                self.out.push_str(if c == '=' { "(?=" } else { "(?!" });
                self.body(start, depth)?;
                Ok(true)
            }
            '<' => {
                self.i += 1;
                match self.peek() {
                    Some(d @ ('=' | '!')) => {
                        self.i += 1;
                        self.fancy = true;
                        self.out.push_str(if d == '=' { "(?<=" } else { "(?<!" });
                        self.body(start, depth)?;
                        Ok(true)
                    }
                    Some(d) => err(format!("unknown extension ?<{d}"), start + 1),
                    None => err("unexpected end of pattern", self.i),
                }
            }
            '>' => {
                self.i += 1;
                self.fancy = true;
                self.out.push_str("(?>");
                self.body(start, depth)?;
                Ok(true)
            }
            '(' => {
                self.i += 1;
                let ns = self.i;
                let name = self.group_name(')', start)?;
                let n = if name.chars().all(|c| c.is_ascii_digit()) {
                    let n: usize = name.parse().unwrap_or(usize::MAX);
                    if n == 0 {
                        return err("bad group number", ns);
                    }
                    if n >= 100 {
                        return err("invalid group reference", ns);
                    }
                    n
                } else {
                    if !Self::is_identifier(&name) {
                        return err(format!("bad character in group name '{name}'"), ns);
                    }
                    match self.names.iter().find(|(k, _)| *k == name) {
                        Some(&(_, n)) => n,
                        None => return err(format!("unknown group name '{name}'"), ns),
                    }
                };
                self.fancy = true;
                self.out.push_str(&format!("(?({n})"));
                // yes|no: at most one '|' at this level.
                self.sequence(depth + 1)?;
                if self.peek() == Some('|') {
                    self.i += 1;
                    self.out.push('|');
                    self.sequence(depth + 1)?;
                    if self.peek() == Some('|') {
                        return err("conditional backref with more than two branches", self.i);
                    }
                }
                if self.peek() != Some(')') {
                    return err("missing ), unterminated subpattern", start);
                }
                self.i += 1;
                self.out.push(')');
                if n > self.groups {
                    return Err(ReError { msg: "invalid group reference".into(), pos: Some(ns) });
                }
                Ok(true)
            }
            _ if flag_bit(c).is_some() || c == '-' => self.scoped_flags(start, depth),
            _ => err(format!("unknown extension ?{c}"), start + 1),
        }
    }

    fn scoped_flags(&mut self, start: usize, depth: usize) -> Result<bool, ReError> {
        let mut add = 0;
        let mut del = 0;
        while let Some(b) = self.peek().and_then(flag_bit) {
            add |= b;
            self.i += 1;
        }
        if self.peek() == Some(')') {
            return err("global flags not at the start of the expression", start);
        }
        self.check_flag_types(add, start + 2)?;
        if self.peek() == Some('-') {
            self.i += 1;
            let s = self.i;
            while let Some(c) = self.peek() {
                match flag_bit(c) {
                    Some(b) if b & (I | M | S | X) != 0 => {
                        del |= b;
                        self.i += 1;
                    }
                    Some(_) => return err("bad inline flags: cannot turn off flags 'a', 'u' and 'L'", self.i),
                    None => break,
                }
            }
            if del == 0 {
                return match self.peek() {
                    None => err("missing flag", self.i),
                    Some(_) => err("missing flag", s),
                };
            }
            if add & del != 0 {
                return err("bad inline flags: flag turned on and off", self.i);
            }
        }
        match self.peek() {
            Some(':') => self.i += 1,
            None => return err("missing -, : or )", self.i),
            Some(_) => {
                let msg = if del != 0 || self.c[self.i - 1] == '-' { "missing :" } else { "unknown flag" };
                return err(msg, self.i);
            }
        }
        let saved = self.flags;
        self.flags = (self.flags | add) & !del;
        let ci_changed = (saved & I) != (self.flags & I);
        if ci_changed {
            self.out.push_str(if self.flags & I != 0 { "(?i:" } else { "(?-i:" });
        } else {
            self.out.push_str("(?:");
        }
        let r = self.body(start, depth);
        self.flags = saved;
        r.map(|_| true)
    }

    /// A group's contents and its closing `)`.
    fn body(&mut self, start: usize, depth: usize) -> Result<(), ReError> {
        self.alternation(depth + 1)?;
        if self.peek() != Some(')') {
            return err("missing ), unterminated subpattern", start);
        }
        self.i += 1;
        self.out.push(')');
        Ok(())
    }

    fn capture(&mut self, start: usize, depth: usize, name: Option<(String, usize)>) -> Result<bool, ReError> {
        self.groups += 1;
        let n = self.groups;
        if let Some((name, ns)) = name {
            if let Some(&(_, old)) = self.names.iter().find(|(k, _)| *k == name) {
                return err(format!("redefinition of group name '{name}' as group {n}; was group {old}"), ns);
            }
            self.names.push((name, n));
        }
        self.open.push(n);
        self.out.push('(');
        self.body(start, depth)?;
        self.open.pop();
        Ok(true)
    }

    fn backref(&mut self, n: usize) {
        self.fancy = true;
        self.out.push_str(&format!("(?:\\{n})"));
    }

    /// Read up to `n` hex digits for `\x`, `\u`, `\U`.
    fn hex(&mut self, n: usize, start: usize, kind: char) -> Result<char, ReError> {
        let s = self.i;
        while self.i < s + n && self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
            self.i += 1;
        }
        let digits: String = self.c[s..self.i].iter().collect();
        if digits.len() != n {
            let shown: String = self.c[start..self.i].iter().collect();
            return err(format!("incomplete escape {shown}"), start);
        }
        let v = u32::from_str_radix(&digits, 16).unwrap_or(0);
        match char::from_u32(v) {
            Some(ch) => Ok(ch),
            None => {
                let _ = kind;
                let shown: String = self.c[start..self.i].iter().collect();
                err(format!("bad escape {shown}"), start)
            }
        }
    }

    /// An escape that stands for one character (shared by classes and the
    /// rest); `None` when the escape is not of that kind.
    fn char_escape(&mut self, start: usize, c: char) -> Result<Option<char>, ReError> {
        Ok(Some(match c {
            'a' => '\x07',
            'f' => '\x0c',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\x0b',
            'x' => return self.hex(2, start, 'x').map(Some),
            'u' if !self.bytes => return self.hex(4, start, 'u').map(Some),
            'U' if !self.bytes => {
                let ch = self.hex(8, start, 'U');
                return match ch {
                    Ok(ch) => Ok(Some(ch)),
                    Err(_) => {
                        let shown: String = self.c[start..self.i].iter().collect();
                        err(format!("bad escape {shown}"), start)
                    }
                };
            }
            'N' if !self.bytes => {
                if self.peek() != Some('{') {
                    return err("missing {", self.i);
                }
                let s = self.i + 1;
                let Some(rel) = self.c[s..].iter().position(|&c| c == '}') else {
                    return err("missing }, unterminated name", s);
                };
                let name: String = self.c[s..s + rel].iter().collect();
                self.i = s + rel + 1;
                return err(format!("undefined character name '{name}'"), start);
            }
            _ => return Ok(None),
        }))
    }

    fn escape(&mut self, start: usize) -> Result<bool, ReError> {
        let Some(c) = self.peek() else {
            return err("bad escape (end of pattern)", start);
        };
        self.i += 1;
        if let Some(ch) = self.char_escape(start, c)? {
            self.lit(ch);
            return Ok(true);
        }
        let ascii = self.ascii();
        match c {
            'A' => self.out.push_str("\\A"),
            'Z' => self.out.push_str("\\z"),
            'b' => self.out.push_str(if ascii { "(?-u:\\b)" } else { "\\b" }),
            'B' => self.out.push_str(if ascii { "(?-u:\\B)" } else { "\\B" }),
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => {
                let mut set = String::new();
                class_set(&mut set, c, ascii);
                if c.is_ascii_lowercase() {
                    self.out.push('[');
                    self.out.push_str(&set);
                    self.out.push(']');
                } else {
                    self.out.push_str("[^");
                    self.out.push_str(&set);
                    self.out.push(']');
                }
                return Ok(true);
            }
            '0'..='9' => {
                // \0, \0oo or \ooo are octal; \N and \NN are backreferences.
                let d0 = c;
                let d1 = self.peek().filter(|c| c.is_ascii_digit());
                if d0 == '0' {
                    let mut v = 0u32;
                    let mut k = 0;
                    while k < 2 && self.peek().is_some_and(|c| ('0'..='7').contains(&c)) {
                        v = v * 8 + self.c[self.i].to_digit(8).unwrap_or(0);
                        self.i += 1;
                        k += 1;
                    }
                    self.lit(char::from_u32(v).unwrap_or('\0'));
                    return Ok(true);
                }
                if let Some(d1) = d1 {
                    let d2 = self.c.get(self.i + 1).copied();
                    if d0 <= '7' && d1 <= '7' && d2.is_some_and(|c| ('0'..='7').contains(&c)) {
                        let v = d0.to_digit(8).unwrap_or(0) * 64
                            + d1.to_digit(8).unwrap_or(0) * 8
                            + d2.and_then(|c| c.to_digit(8)).unwrap_or(0);
                        self.i += 2;
                        if v > 0o377 {
                            let shown: String = self.c[start..self.i].iter().collect();
                            return err(format!("octal escape value {shown} outside of range 0-0o377"), start);
                        }
                        self.lit(char::from_u32(v).unwrap_or('\0'));
                        return Ok(true);
                    }
                    self.i += 1;
                }
                let n: usize = self.c[start + 1..self.i].iter().collect::<String>().parse().unwrap_or(0);
                if n > self.groups {
                    return err(format!("invalid group reference {n}"), start + 1);
                }
                if self.open.contains(&n) {
                    return err("cannot refer to an open group", start);
                }
                self.backref(n);
                return Ok(true);
            }
            _ if c.is_ascii_alphabetic() => return err(format!("bad escape \\{c}"), start),
            _ => {
                self.lit(c);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A character class `[...]`; the cursor is past the `[`.
    fn class(&mut self, start: usize) -> Result<(), ReError> {
        let mut out = String::from("[");
        if self.peek() == Some('^') {
            self.i += 1;
            out.push('^');
        }
        let mut first = true;
        let mut any = false;
        loop {
            let Some(c) = self.peek() else {
                return err("unterminated character set", start);
            };
            if c == ']' && !first {
                self.i += 1;
                break;
            }
            first = false;
            let item_start = self.i;
            let lo = self.class_item(&mut out)?;
            if self.peek() == Some('-') && self.c.get(self.i + 1).is_some_and(|&c| c != ']') {
                self.i += 1;
                let hi_start = self.i;
                let mut scratch = String::new();
                let hi = self.class_item(&mut scratch)?;
                match (lo, hi) {
                    (Some(a), Some(b)) => {
                        if b < a {
                            let shown: String = self.c[item_start..self.i].iter().collect();
                            return err(format!("bad character range {shown}"), item_start);
                        }
                        out.push('-');
                        push_literal_in_class(&mut out, b);
                    }
                    _ => {
                        let shown: String = self.c[item_start..self.i].iter().collect();
                        let _ = hi_start;
                        return err(format!("bad character range {shown}"), item_start);
                    }
                }
            }
            any = true;
        }
        if !any {
            return err("unterminated character set", start);
        }
        if out == "[^" {
            // Python's [^] cannot happen (']' first is literal); keep the engine happy.
            out.push_str("\\x{0}-\\x{10FFFF}");
        }
        out.push(']');
        self.out.push_str(&out);
        Ok(())
    }

    /// One class member written to `out`; the character when it is a
    /// single character (a possible range end).
    fn class_item(&mut self, out: &mut String) -> Result<Option<char>, ReError> {
        let start = self.i;
        let c = self.c[self.i];
        self.i += 1;
        if c != '\\' {
            push_literal_in_class(out, c);
            return Ok(Some(c));
        }
        let Some(e) = self.peek() else {
            return err("unterminated character set", start - 1);
        };
        self.i += 1;
        if let Some(ch) = self.char_escape(start, e)? {
            push_literal_in_class(out, ch);
            return Ok(Some(ch));
        }
        match e {
            'b' => {
                push_literal_in_class(out, '\x08');
                Ok(Some('\x08'))
            }
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => {
                let ascii = self.ascii();
                if e.is_ascii_lowercase() {
                    class_set(out, e, ascii);
                } else {
                    out.push_str("[^");
                    class_set(out, e, ascii);
                    out.push(']');
                }
                Ok(None)
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                let mut k = 0;
                while k < 2 && self.peek().is_some_and(|c| ('0'..='7').contains(&c)) {
                    v = v * 8 + self.c[self.i].to_digit(8).unwrap_or(0);
                    self.i += 1;
                    k += 1;
                }
                if v > 0o377 {
                    let shown: String = self.c[start..self.i].iter().collect();
                    return err(format!("octal escape value {shown} outside of range 0-0o377"), start);
                }
                let ch = char::from_u32(v).unwrap_or('\0');
                push_literal_in_class(out, ch);
                Ok(Some(ch))
            }
            _ if e.is_ascii_alphanumeric() => err(format!("bad escape \\{e}"), start),
            _ => {
                push_literal_in_class(out, e);
                Ok(Some(e))
            }
        }
    }
}

/// The members of `\d`, `\s` or `\w` (any case), for use inside `[...]`.
fn class_set(out: &mut String, c: char, ascii: bool) {
    let lower = c.to_ascii_lowercase();
    if ascii {
        out.push_str(match lower {
            'd' => "0-9",
            's' => " \\t\\n\\r\\x0C\\x0B",
            _ => "0-9A-Za-z_",
        });
    } else {
        out.push_str(match lower {
            'd' => "\\d",
            's' => "\\s\\x1C-\\x1F",
            _ => "\\w",
        });
    }
}

fn push_literal(out: &mut String, ch: char) {
    if ch.is_ascii_alphanumeric() || ch == '_' || (!ch.is_ascii() && !ch.is_whitespace() && !ch.is_control()) {
        out.push(ch);
    } else if "\\.+*?()|[]{}^$#&-~".contains(ch) {
        // The engines' meta characters; other punctuation stays literal
        // (an escaped `<` or `>` would be a word boundary to them).
        out.push('\\');
        out.push(ch);
    } else if ch.is_ascii_graphic() {
        out.push(ch);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", ch as u32));
    }
}

fn push_literal_in_class(out: &mut String, ch: char) {
    push_literal(out, ch);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(p: &str) -> String {
        translate(p, 0, false).map(|t| t.src).unwrap_or_else(|e| format!("error: {} at {:?}", e.msg, e.pos))
    }

    #[test]
    fn translates_python_syntax() {
        assert_eq!(t(r"(?P<a>x)(?P=a)"), r"(x)(?:\1)");
        assert_eq!(t(r"^ab$"), r"\Aab(\n?\z)");
        assert_eq!(t(r"a{,3}"), r"a{0,3}");
        assert_eq!(t(r"a{x"), r"a\{x");
        assert_eq!(t(r"\Z"), r"\z");
    }

    #[test]
    fn reports_cpython_errors() {
        assert_eq!(t("(ab"), "error: missing ), unterminated subpattern at Some(0)");
        assert_eq!(t("ab)"), "error: unbalanced parenthesis at Some(2)");
        assert_eq!(t("*a"), "error: nothing to repeat at Some(0)");
        assert_eq!(t("a**"), "error: multiple repeat at Some(2)");
        assert_eq!(t("[a-"), "error: unterminated character set at Some(0)");
        assert_eq!(t("[z-a]"), "error: bad character range z-a at Some(1)");
        assert_eq!(t(r"\q"), "error: bad escape \\q at Some(0)");
        assert_eq!(t(r"(a)\2"), "error: invalid group reference 2 at Some(4)");
    }
}
