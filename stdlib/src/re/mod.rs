//! `_re`: the native half of `re`: compiled patterns and match objects
//! over two engines (regex-automata for plain patterns, fancy-regex for
//! backreferences and lookaround), with Python's search rules, group
//! numbering, empty-match rules and replacement templates.

pub mod parse;

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use aio_interp::charindex;
use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{method, native_fn, new_class, type_name, types};
use aio_interp::{Value, Vm};
use regex_automata::{meta, Anchored, Input};

use crate::params::Sig;

/// One compiled form of a pattern.
enum Engine {
    Meta(meta::Regex),
    Fancy(fancy_regex::Regex),
}

/// How a pattern is applied at a position.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Search,
    Match,
    Full,
}

type Spans = Vec<Option<(usize, usize)>>;

/// A compiled pattern (`re.Pattern`).
pub struct Pattern {
    pattern: Value,
    flags: u32,
    groups: usize,
    names: Vec<(String, usize)>,
    bytes: bool,
    tail: bool,
    src: String,
    fancy: bool,
    search: Engine,
    anchored: OnceCell<Engine>,
    full: OnceCell<Engine>,
}

/// The subject of a search: a str, or bytes seen as Latin-1 text.
#[derive(Clone)]
enum Hay {
    Str(Rc<PyStr>),
    Bytes(Rc<PyBytes>, Rc<str>),
}

impl Hay {
    fn text(&self) -> &str {
        match self {
            Hay::Str(s) => s.as_str(),
            Hay::Bytes(_, t) => t,
        }
    }
    fn ascii(&self) -> bool {
        match self {
            Hay::Str(s) => s.is_ascii(),
            Hay::Bytes(b, _) => b.b.is_ascii(),
        }
    }
    /// The length in characters (bytes of a bytes subject).
    fn char_len(&self) -> usize {
        match self {
            Hay::Str(s) => s.char_len(),
            Hay::Bytes(b, _) => b.b.len(),
        }
    }
    /// The byte offset of character `c` of the text (clamped to its end).
    fn byte_of(&self, c: usize) -> usize {
        match self {
            Hay::Str(s) => s.byte_offset(c),
            Hay::Bytes(_, t) if t.is_ascii() => c.min(t.len()),
            Hay::Bytes(_, t) => t.char_indices().nth(c).map_or(t.len(), |(b, _)| b),
        }
    }
    fn value(&self) -> Value {
        match self {
            Hay::Str(s) => Value::Str(s.clone()),
            Hay::Bytes(b, _) => Value::Bytes(b.clone()),
        }
    }
    /// The text between two byte offsets, as a str or bytes value.
    fn slice(&self, b0: usize, b1: usize) -> Value {
        match self {
            Hay::Str(s) => {
                if b0 == 0 && b1 == s.as_str().len() {
                    Value::Str(s.clone())
                } else {
                    Value::str(&s.as_str()[b0..b1])
                }
            }
            Hay::Bytes(_, t) => Value::Bytes(Rc::new(PyBytes { b: latin1_encode(&t[b0..b1]).into_boxed_slice() })),
        }
    }
    fn empty(&self) -> Value {
        match self {
            Hay::Str(_) => Value::str(""),
            Hay::Bytes(..) => Value::Bytes(Rc::new(PyBytes { b: Box::new([]) })),
        }
    }
}

fn latin1_decode(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

fn latin1_encode(s: &str) -> Vec<u8> {
    s.chars().map(|c| c as u32 as u8).collect()
}

/// Converts byte offsets of a text to character offsets, quickly when
/// the offsets grow (as they do while iterating over matches).
struct Conv<'a> {
    text: &'a str,
    ascii: bool,
    /// The subject str, which finds any offset quickly when it is long.
    subject: Option<&'a PyStr>,
    last_b: usize,
    last_c: usize,
}

impl<'a> Conv<'a> {
    fn new(text: &'a str, hay: &'a Hay) -> Self {
        let subject = match hay {
            // `text` may end early, never start late.
            Hay::Str(s) if s.len() >= charindex::MIN_BYTES && s.as_ptr() == text.as_ptr() => Some(&**s),
            _ => None,
        };
        Conv { text, ascii: hay.ascii(), subject, last_b: 0, last_c: 0 }
    }
    fn char_of(&mut self, b: usize) -> usize {
        if self.ascii {
            return b;
        }
        if let Some(s) = self.subject {
            return s.char_index(b);
        }
        if b < self.last_b {
            self.last_b = 0;
            self.last_c = 0;
        }
        self.last_c += self.text[self.last_b..b].chars().count();
        self.last_b = b;
        self.last_c
    }
}

fn next_char_len(text: &str, b: usize) -> usize {
    text[b..].chars().next().map(|c| c.len_utf8()).unwrap_or(1)
}

thread_local! {
    static PATTERN_CLASS: Rc<Class> = make_pattern_class();
    static MATCH_CLASS: Rc<Class> = make_match_class();
    static ERROR: RefCell<Option<Value>> = const { RefCell::new(None) };
    static CACHE: RefCell<HashMap<(bool, String, u32), Value>> = RefCell::new(HashMap::new());
}

/// Raise `re.error(msg, pattern, pos)`.
fn re_error(vm: &mut Vm, msg: &str, pattern: &Value, pos: Option<usize>) -> PyErr {
    let cls = ERROR.with(|e| e.borrow().clone());
    let Some(cls) = cls else { return value_error(msg.to_string()) };
    let pos = pos.map(|p| Value::Int(p as i64)).unwrap_or(Value::None);
    let pat = if pos.is_none() { Value::None } else { pattern.clone() };
    match vm.call(cls, Args::new([Value::str(msg), pat, pos])) {
        Ok(v) => from_raise_operand(vm, v).unwrap_or_else(|e| e),
        Err(e) => e,
    }
}

fn build(src: &str, fancy: bool) -> Result<Engine, String> {
    if fancy {
        fancy_regex::RegexBuilder::new(src).backtrack_limit(usize::MAX / 2).delegate_dfa_size_limit(0).build().map(Engine::Fancy).map_err(
            |e| match e {
                fancy_regex::Error::CompileError(fancy_regex::CompileError::LookBehindNotConst) => {
                    "look-behind requires fixed-width pattern".to_string()
                }
                other => other.to_string(),
            },
        )
    } else {
        meta::Builder::new().configure(meta::Config::new().dfa(false)).build(src).map(Engine::Meta).map_err(|e| e.to_string())
    }
}

impl Pattern {
    fn compile(vm: &mut Vm, pattern: &Value, flags: u32) -> PyResult<Pattern> {
        let (text, bytes) = match pattern {
            Value::Str(s) => (s.as_str().to_string(), false),
            Value::Bytes(b) => (latin1_decode(&b.b), true),
            other => return Err(type_error(format!("first argument must be string or compiled pattern, not {}", type_name(other)))),
        };
        let t = match parse::translate(&text, flags, bytes) {
            Ok(t) => t,
            Err(e) => return Err(re_error(vm, &e.msg, pattern, e.pos)),
        };
        let search = match build(&t.src, t.fancy) {
            Ok(e) => e,
            Err(msg) => return Err(re_error(vm, &msg, pattern, None)),
        };
        Ok(Pattern {
            pattern: pattern.clone(),
            flags: t.flags,
            groups: t.groups,
            names: t.names,
            bytes,
            tail: t.tail,
            src: t.src,
            fancy: t.fancy,
            search,
            anchored: OnceCell::new(),
            full: OnceCell::new(),
        })
    }

    fn engine(&self, mode: Mode) -> &Engine {
        match (mode, self.fancy) {
            (Mode::Search, _) | (Mode::Match, false) => &self.search,
            (Mode::Match, true) => {
                self.anchored.get_or_init(|| build(&format!("\\G(?:{})", self.src), true).expect("a valid pattern stays valid"))
            }
            (Mode::Full, _) => self.full.get_or_init(|| {
                let src = if self.fancy { format!("\\G(?:{})\\z", self.src) } else { format!("(?:{})\\z", self.src) };
                build(&src, self.fancy).expect("a valid pattern stays valid")
            }),
        }
    }

    /// The byte spans of groups `0..=groups` of the match at or after byte
    /// `start` of `text`.
    fn exec(&self, text: &str, start: usize, mode: Mode) -> PyResult<Option<Spans>> {
        let n = self.groups + 1 + self.tail as usize;
        let mut spans: Spans = match self.engine(mode) {
            Engine::Meta(re) => {
                let anchored = if mode == Mode::Search { Anchored::No } else { Anchored::Yes };
                let input = Input::new(text).span(start..text.len()).anchored(anchored);
                let mut caps = re.create_captures();
                re.search_captures(&input, &mut caps);
                if !caps.is_match() {
                    return Ok(None);
                }
                (0..n).map(|i| caps.get_group(i).map(|s| (s.start, s.end))).collect()
            }
            Engine::Fancy(re) => match re.captures_from_pos(text, start) {
                Ok(Some(c)) => (0..n).map(|i| c.get(i).map(|m| (m.start(), m.end()))).collect(),
                Ok(None) => return Ok(None),
                Err(e) => return Err(runtime_error(format!("regular expression could not be matched: {e}"))),
            },
        };
        if self.tail {
            if let (Some(t), Some(g0)) = (spans.pop().flatten(), spans[0]) {
                spans[0] = Some((g0.0, t.0));
            }
        }
        Ok(Some(spans))
    }

    fn group_index(&self, vm: &mut Vm, g: &Value) -> PyResult<usize> {
        let idx = match g {
            Value::Str(s) => self.names.iter().find(|(k, _)| k == s.as_str()).map(|(_, i)| *i),
            Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => {
                let i = vm.index_value(g).unwrap_or(-1);
                (0..=self.groups as i64).contains(&i).then_some(i as usize)
            }
            Value::Instance(i) if i.builtin_value().is_some_and(|v| matches!(v, Value::Int(_))) => {
                let i = vm.index_value(g).unwrap_or(-1);
                (0..=self.groups as i64).contains(&i).then_some(i as usize)
            }
            _ => None,
        };
        idx.ok_or_else(|| index_error("no such group"))
    }

    fn hay(&self, v: &Value) -> PyResult<Hay> {
        match (v, self.bytes) {
            (Value::Str(s), false) => Ok(Hay::Str(s.clone())),
            (Value::Bytes(b), true) => Ok(Hay::Bytes(b.clone(), latin1_decode(&b.b).into())),
            (Value::Str(_), true) => Err(type_error("cannot use a bytes pattern on a string-like object")),
            (Value::Bytes(_), false) => Err(type_error("cannot use a string pattern on a bytes-like object")),
            (other, _) => {
                if let Value::Instance(i) = other {
                    if let Some(inner) = i.builtin_value() {
                        return self.hay(&inner);
                    }
                }
                Err(type_error(format!("expected string or bytes-like object, got '{}'", type_name(other))))
            }
        }
    }
}

/// A match (`re.Match`).
pub struct MatchObj {
    pattern: Value,
    hay: Hay,
    /// Byte spans in the subject, and the same in characters.
    bspans: Spans,
    spans: Spans,
    pos: usize,
    endpos: usize,
}

impl MatchObj {
    fn pat(&self) -> &Pattern {
        self.pattern.downcast::<Pattern>().expect("a match's pattern")
    }
    fn group(&self, i: usize) -> Value {
        match self.bspans[i] {
            Some((b0, b1)) => self.hay.slice(b0, b1),
            None => Value::None,
        }
    }
    fn lastindex(&self) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        for (i, s) in self.spans.iter().enumerate().skip(1) {
            if let Some((_, e)) = s {
                if best.is_none_or(|(_, be)| *e > be) {
                    best = Some((i, *e));
                }
            }
        }
        best.map(|(i, _)| i)
    }
}

fn make_match(pattern: &Value, hay: &Hay, bspans: Spans, conv: &mut Conv, pos: usize, endpos: usize) -> Value {
    let spans = bspans.iter().map(|s| s.map(|(a, b)| (conv.char_of(a), conv.char_of(b)))).collect();
    Value::object(MatchObj { pattern: pattern.clone(), hay: hay.clone(), bspans, spans, pos, endpos })
}

impl NativeObject for Pattern {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        PATTERN_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "pattern" => Some(self.pattern.clone()),
            "flags" => Some(Value::Int(self.flags as i64)),
            "groups" => Some(Value::Int(self.groups as i64)),
            "groupindex" => {
                let d = PyDict::new();
                for (k, v) in &self.names {
                    d.set_str(k, Value::Int(*v as i64));
                }
                Some(Value::Dict(Rc::new(d)))
            }
            _ => None,
        })
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        let mut p = vm.repr_str(&self.pattern)?;
        if p.chars().count() > 200 {
            p = p.chars().take(200).collect();
        }
        let mut fl = self.flags;
        if !self.bytes {
            fl &= !parse::U;
        }
        if fl == 0 {
            return Ok(format!("re.compile({p})"));
        }
        Ok(format!("re.compile({p}, {})", flag_names(fl)))
    }
}

/// `re.IGNORECASE|re.MULTILINE` for a set of flags.
fn flag_names(fl: u32) -> String {
    const NAMES: [(u32, &str); 9] = [
        (1, "TEMPLATE"),
        (parse::I, "IGNORECASE"),
        (parse::L, "LOCALE"),
        (parse::M, "MULTILINE"),
        (parse::S, "DOTALL"),
        (parse::U, "UNICODE"),
        (parse::X, "VERBOSE"),
        (128, "DEBUG"),
        (parse::A, "ASCII"),
    ];
    let mut parts: Vec<String> = NAMES.iter().filter(|(b, _)| fl & b != 0).map(|(_, n)| format!("re.{n}")).collect();
    let rest = fl & !NAMES.iter().fold(0, |a, (b, _)| a | b);
    if rest != 0 {
        parts.push(format!("0x{rest:x}"));
    }
    parts.join("|")
}

impl NativeObject for MatchObj {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        MATCH_CLASS.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        Ok(match name {
            "string" => Some(self.hay.value()),
            "re" => Some(self.pattern.clone()),
            "pos" => Some(Value::Int(self.pos as i64)),
            "endpos" => Some(Value::Int(self.endpos as i64)),
            "lastindex" => Some(self.lastindex().map(|i| Value::Int(i as i64)).unwrap_or(Value::None)),
            "lastgroup" => Some(
                self.lastindex()
                    .and_then(|i| self.pat().names.iter().find(|(_, n)| *n == i).map(|(k, _)| Value::str(k)))
                    .unwrap_or(Value::None),
            ),
            "regs" => Some(Value::tuple(self.spans.iter().map(|s| span_value(*s)).collect::<Vec<_>>())),
            _ => None,
        })
    }
    fn repr(&self, vm: &mut Vm) -> PyResult<String> {
        let (s, e) = self.spans[0].unwrap_or((0, 0));
        let m = vm.repr_str(&self.group(0))?;
        Ok(format!("<re.Match object; span=({s}, {e}), match={m}>"))
    }
}

fn span_value(s: Option<(usize, usize)>) -> Value {
    let (a, b) = s.map(|(a, b)| (a as i64, b as i64)).unwrap_or((-1, -1));
    Value::tuple(vec![Value::Int(a), Value::Int(b)])
}

fn this_pattern(a: &Args) -> PyResult<Rc<Box<dyn NativeObject>>> {
    match a.pos.first() {
        Some(Value::Object(o)) if o.as_any().is::<Pattern>() => Ok(o.clone()),
        _ => Err(type_error("descriptor requires a 're.Pattern' object")),
    }
}

fn this_match(a: &Args) -> PyResult<&MatchObj> {
    a.pos.first().and_then(|v| v.downcast::<MatchObj>()).ok_or_else(|| type_error("descriptor requires a 're.Match' object"))
}

fn as_pattern(o: &Rc<Box<dyn NativeObject>>) -> &Pattern {
    o.as_any().downcast_ref::<Pattern>().expect("checked pattern")
}

/// The subject and the byte range `[start, end)` of `pos`/`endpos` (characters).
fn bounds(
    vm: &mut Vm,
    p: &Pattern,
    subject: &Value,
    pos: Option<Value>,
    endpos: Option<Value>,
) -> PyResult<(Hay, usize, usize, usize, usize)> {
    let hay = p.hay(subject)?;
    let nchars = hay.char_len();
    let pos = match pos {
        Some(v) if !v.is_none() => vm.index_value(&v)?.clamp(0, nchars as i64) as usize,
        _ => 0,
    };
    let endpos = match endpos {
        Some(v) if !v.is_none() => vm.index_value(&v)?.clamp(0, nchars as i64) as usize,
        _ => nchars,
    };
    let bpos = hay.byte_of(pos);
    let bend = hay.byte_of(endpos);
    Ok((hay, pos, endpos, bpos, bend))
}

fn do_match(vm: &mut Vm, pv: &Value, p: &Pattern, subject: &Value, pos: Option<Value>, endpos: Option<Value>, mode: Mode) -> PyResult {
    let (hay, pos, endpos, bpos, bend) = bounds(vm, p, subject, pos, endpos)?;
    if endpos < pos {
        return Ok(Value::None);
    }
    let text = &hay.text()[..bend];
    match p.exec(text, bpos, mode)? {
        Some(spans) => {
            let mut conv = Conv::new(hay.text(), &hay);
            Ok(make_match(pv, &hay, spans, &mut conv, pos, endpos))
        }
        None => Ok(Value::None),
    }
}

/// Every match from `bpos` to `bend`, by Python's rules for empty matches,
/// at most `limit` of them (0: no limit).
fn all_spans(p: &Pattern, text: &str, bpos: usize, limit: usize) -> PyResult<Vec<Spans>> {
    let mut out = Vec::new();
    let mut start = bpos;
    while start <= text.len() && (limit == 0 || out.len() < limit) {
        let Some(spans) = p.exec(text, start, Mode::Search)? else { break };
        let (s, e) = spans[0].unwrap_or((start, start));
        start = if s == e {
            if s >= text.len() {
                out.push(spans);
                break;
            }
            s + next_char_len(text, s)
        } else {
            e
        };
        out.push(spans);
    }
    Ok(out)
}

fn method_args(qual: &str, names: &[&str], required: usize, a: Args) -> PyResult<Vec<Option<Value>>> {
    Sig { qual, has_self: true, names, required, kwonly: &[] }.bind(a)
}

fn pat_search_like(vm: &mut Vm, a: Args, mode: Mode, qual: &str) -> PyResult {
    let po = this_pattern(&a)?;
    let pv = a.pos[0].clone();
    let mut b = method_args(qual, &["string", "pos", "endpos"], 1, a)?.into_iter();
    let subject = b.next().flatten().unwrap_or(Value::None);
    do_match(vm, &pv, as_pattern(&po), &subject, b.next().flatten(), b.next().flatten(), mode)
}

fn findall_impl(vm: &mut Vm, p: &Pattern, subject: &Value, pos: Option<Value>, endpos: Option<Value>) -> PyResult {
    let (hay, _, _, bpos, bend) = bounds(vm, p, subject, pos, endpos)?;
    let text = &hay.text()[..bend];
    let all = all_spans(p, text, bpos, 0)?;
    let piece = |s: Option<(usize, usize)>| match s {
        Some((a, b)) => hay.slice(a, b),
        None => hay.empty(),
    };
    let items = all
        .into_iter()
        .map(|spans| match p.groups {
            0 => piece(spans[0]),
            1 => piece(spans[1]),
            _ => Value::tuple(spans[1..].iter().map(|s| piece(*s)).collect::<Vec<_>>()),
        })
        .collect();
    Ok(Value::list(items))
}

fn finditer_impl(vm: &mut Vm, pv: &Value, p: &Pattern, subject: &Value, pos: Option<Value>, endpos: Option<Value>) -> PyResult {
    let (hay, pos, endpos, bpos, bend) = bounds(vm, p, subject, pos, endpos)?;
    let text = &hay.text()[..bend];
    let all = all_spans(p, text, bpos, 0)?;
    let mut conv = Conv::new(hay.text(), &hay);
    let ms: Vec<Value> = all.into_iter().map(|s| make_match(pv, &hay, s, &mut conv, pos, endpos)).collect();
    vm.iter(&Value::list(ms))
}

fn split_impl(vm: &mut Vm, p: &Pattern, subject: &Value, maxsplit: i64) -> PyResult {
    let (hay, _, _, _, _) = bounds(vm, p, subject, None, None)?;
    let text = hay.text();
    if maxsplit < 0 {
        return Ok(Value::list(vec![hay.value()]));
    }
    let all = all_spans(p, text, 0, maxsplit as usize)?;
    let mut out = Vec::new();
    let mut last = 0;
    for spans in all {
        let (s, e) = spans[0].unwrap_or((0, 0));
        out.push(hay.slice(last, s));
        for g in &spans[1..] {
            out.push(g.map(|(a, b)| hay.slice(a, b)).unwrap_or(Value::None));
        }
        last = e;
    }
    out.push(hay.slice(last, text.len()));
    Ok(Value::list(out))
}

/// A piece of a replacement template.
enum Piece {
    Text(String),
    Group(usize),
}

/// Parse a replacement template (`\1`, `\g<name>`, escapes) as CPython does.
fn parse_template(vm: &mut Vm, p: &Pattern, tpl_value: &Value, tpl: &str) -> PyResult<Vec<Piece>> {
    let c: Vec<char> = tpl.chars().collect();
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    let err = |vm: &mut Vm, msg: String, pos: usize| re_error(vm, &msg, tpl_value, Some(pos));
    while i < c.len() {
        if c[i] != '\\' {
            lit.push(c[i]);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        let Some(&e) = c.get(i) else {
            return Err(err(vm, "bad escape (end of pattern)".into(), start));
        };
        i += 1;
        let group = |out: &mut Vec<Piece>, lit: &mut String, n: usize| {
            if !lit.is_empty() {
                out.push(Piece::Text(std::mem::take(lit)));
            }
            out.push(Piece::Group(n));
        };
        match e {
            'g' => {
                if c.get(i) != Some(&'<') {
                    return Err(err(vm, "missing <".into(), i));
                }
                i += 1;
                let ns = i;
                while i < c.len() && c[i] != '>' {
                    i += 1;
                }
                if i >= c.len() {
                    return Err(err(vm, "missing >, unterminated name".into(), ns));
                }
                let name: String = c[ns..i].iter().collect();
                i += 1;
                if name.is_empty() {
                    return Err(err(vm, "missing group name".into(), ns));
                }
                let n = if name.chars().all(|ch| ch.is_ascii_digit()) {
                    let n: usize = name.parse().unwrap_or(usize::MAX);
                    if n > p.groups {
                        return Err(err(vm, format!("invalid group reference {n}"), ns));
                    }
                    n
                } else {
                    let ident = name.chars().next().is_some_and(|ch| ch == '_' || ch.is_alphabetic())
                        && name.chars().all(|ch| ch == '_' || ch.is_alphanumeric());
                    if !ident {
                        return Err(err(vm, format!("bad character in group name '{name}'"), ns));
                    }
                    match p.names.iter().find(|(k, _)| *k == name) {
                        Some(&(_, n)) => n,
                        None => return Err(index_error(format!("unknown group name '{name}'"))),
                    }
                };
                group(&mut out, &mut lit, n);
            }
            '0' => {
                let mut v = 0u32;
                let mut k = 0;
                while k < 2 && c.get(i).is_some_and(|ch| ('0'..='7').contains(ch)) {
                    v = v * 8 + c[i].to_digit(8).unwrap_or(0);
                    i += 1;
                    k += 1;
                }
                lit.push(char::from_u32(v).unwrap_or('\0'));
            }
            '1'..='9' => {
                let d1 = c.get(i).copied().filter(|ch| ch.is_ascii_digit());
                if let Some(d1) = d1 {
                    let d2 = c.get(i + 1).copied();
                    if e <= '7' && d1 <= '7' && d2.is_some_and(|ch| ('0'..='7').contains(&ch)) {
                        let v = e.to_digit(8).unwrap_or(0) * 64
                            + d1.to_digit(8).unwrap_or(0) * 8
                            + d2.and_then(|ch| ch.to_digit(8)).unwrap_or(0);
                        i += 2;
                        if v > 0o377 {
                            let shown: String = c[start..i].iter().collect();
                            return Err(err(vm, format!("octal escape value {shown} outside of range 0-0o377"), start));
                        }
                        lit.push(char::from_u32(v).unwrap_or('\0'));
                        continue;
                    }
                    i += 1;
                }
                let n: usize = c[start + 1..i].iter().collect::<String>().parse().unwrap_or(0);
                if n > p.groups {
                    return Err(err(vm, format!("invalid group reference {n}"), start + 1));
                }
                group(&mut out, &mut lit, n);
            }
            'a' => lit.push('\x07'),
            'b' => lit.push('\x08'),
            'f' => lit.push('\x0c'),
            'n' => lit.push('\n'),
            'r' => lit.push('\r'),
            't' => lit.push('\t'),
            'v' => lit.push('\x0b'),
            '\\' => lit.push('\\'),
            _ if e.is_ascii_alphabetic() => return Err(err(vm, format!("bad escape \\{e}"), start)),
            _ => {
                lit.push('\\');
                lit.push(e);
            }
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Text(lit));
    }
    Ok(out)
}

/// Append the expansion of `tpl` for the match with byte spans `spans`.
fn expand_into(buf: &mut String, tpl: &[Piece], text: &str, spans: &Spans) {
    for piece in tpl {
        match piece {
            Piece::Text(t) => buf.push_str(t),
            Piece::Group(n) => {
                if let Some((a, b)) = spans[*n] {
                    buf.push_str(&text[a..b]);
                }
            }
        }
    }
}

fn template_text(hay_bytes: bool, v: &Value) -> Option<String> {
    match (v, hay_bytes) {
        (Value::Str(s), false) => Some(s.as_str().to_string()),
        (Value::Bytes(b), true) => Some(latin1_decode(&b.b)),
        _ => None,
    }
}

fn sub_impl(vm: &mut Vm, pv: &Value, p: &Pattern, repl: &Value, subject: &Value, count: i64) -> PyResult<(Value, usize)> {
    let (hay, _, endpos, _, _) = bounds(vm, p, subject, None, None)?;
    let text = hay.text();
    let tpl = match template_text(p.bytes, repl) {
        Some(t) if t.contains('\\') => Some(parse_template(vm, p, repl, &t)?),
        Some(t) => Some(vec![Piece::Text(t)]),
        None => {
            if matches!(repl, Value::Str(_) | Value::Bytes(_)) {
                return Err(type_error(format!(
                    "expected {}, got '{}'",
                    if p.bytes { "a bytes-like object" } else { "str instance" },
                    type_name(repl)
                )));
            }
            None
        }
    };
    let all = all_spans(p, text, 0, count.max(0) as usize)?;
    let n = all.len();
    if n == 0 {
        return Ok((hay.value(), 0));
    }
    let mut buf = String::with_capacity(text.len());
    let mut last = 0;
    let mut conv = Conv::new(text, &hay);
    // As CPython joins the pieces at the end, a result of the wrong type
    // is reported after every call, by its place among the pieces.
    let mut pieces: i64 = 0;
    let mut bad: Option<String> = None;
    for spans in all {
        let (s, e) = spans[0].unwrap_or((0, 0));
        if last < s {
            buf.push_str(&text[last..s]);
            pieces += 1;
        }
        match &tpl {
            Some(t) => expand_into(&mut buf, t, text, &spans),
            None => {
                let m = make_match(pv, &hay, spans, &mut conv, 0, endpos);
                let r = vm.call(repl.clone(), Args::new([m]))?;
                match (&r, p.bytes) {
                    (Value::None, _) => pieces -= 1,
                    (Value::Str(s), false) => buf.push_str(s.as_str()),
                    (Value::Bytes(b), true) => buf.push_str(&latin1_decode(&b.b)),
                    _ if bad.is_none() => {
                        bad = Some(format!(
                            "sequence item {pieces}: expected {} instance, {} found",
                            if p.bytes { "a bytes-like object" } else { "str" },
                            type_name(&r)
                        ))
                    }
                    _ => {}
                }
            }
        }
        pieces += 1;
        last = e;
    }
    if let Some(msg) = bad {
        return Err(type_error(msg));
    }
    buf.push_str(&text[last..]);
    let out = match hay {
        Hay::Str(_) => Value::string(buf),
        Hay::Bytes(..) => Value::Bytes(Rc::new(PyBytes { b: latin1_encode(&buf).into_boxed_slice() })),
    };
    Ok((out, n))
}

fn make_pattern_class() -> Rc<Class> {
    let c = new_class("Pattern", &[types().object.clone()], Layout::Builtin, None);
    c.dict.set_str("__module__", Value::str("re"));
    method(&c, "Pattern", "search", |vm, a| pat_search_like(vm, a, Mode::Search, "search"));
    method(&c, "Pattern", "match", |vm, a| pat_search_like(vm, a, Mode::Match, "match"));
    method(&c, "Pattern", "fullmatch", |vm, a| pat_search_like(vm, a, Mode::Full, "fullmatch"));
    method(&c, "Pattern", "findall", |vm, a| {
        let po = this_pattern(&a)?;
        let mut b = method_args("findall", &["string", "pos", "endpos"], 1, a)?.into_iter();
        let subject = b.next().flatten().unwrap_or(Value::None);
        findall_impl(vm, as_pattern(&po), &subject, b.next().flatten(), b.next().flatten())
    });
    method(&c, "Pattern", "finditer", |vm, a| {
        let po = this_pattern(&a)?;
        let pv = a.pos[0].clone();
        let mut b = method_args("finditer", &["string", "pos", "endpos"], 1, a)?.into_iter();
        let subject = b.next().flatten().unwrap_or(Value::None);
        finditer_impl(vm, &pv, as_pattern(&po), &subject, b.next().flatten(), b.next().flatten())
    });
    method(&c, "Pattern", "split", |vm, a| {
        let po = this_pattern(&a)?;
        let mut b = method_args("split", &["string", "maxsplit"], 1, a)?.into_iter();
        let subject = b.next().flatten().unwrap_or(Value::None);
        let maxsplit = match b.next().flatten() {
            Some(v) => vm.index_value(&v)?,
            None => 0,
        };
        split_impl(vm, as_pattern(&po), &subject, maxsplit)
    });
    method(&c, "Pattern", "sub", |vm, a| pat_sub(vm, a, false));
    method(&c, "Pattern", "subn", |vm, a| pat_sub(vm, a, true));
    method(&c, "Pattern", "__copy__", |_vm, a| Ok(a.pos[0].clone()));
    method(&c, "Pattern", "__deepcopy__", |_vm, a| Ok(a.pos[0].clone()));
    method(&c, "Pattern", "__eq__", |_vm, a| {
        let (Some(x), Some(y)) = (a.pos[0].downcast::<Pattern>(), a.pos.get(1).and_then(|v| v.downcast::<Pattern>())) else {
            return Ok(Value::NotImplemented);
        };
        let same = x.flags == y.flags
            && match (&x.pattern, &y.pattern) {
                (Value::Str(p), Value::Str(q)) => p.as_str() == q.as_str(),
                (Value::Bytes(p), Value::Bytes(q)) => p.b == q.b,
                _ => false,
            };
        Ok(Value::bool(same))
    });
    method(&c, "Pattern", "__hash__", |vm, a| {
        let p = this_pattern(&a)?;
        let h = vm.hash(&as_pattern(&p).pattern)?;
        Ok(Value::Int(h ^ as_pattern(&p).flags as i64))
    });
    c.dict.set_str("__class_getitem__", native_fn("__class_getitem__", |_vm, a| Ok(a.pos[0].clone())));
    c
}

fn pat_sub(vm: &mut Vm, a: Args, with_count: bool) -> PyResult {
    let po = this_pattern(&a)?;
    let pv = a.pos[0].clone();
    let mut b = method_args(if with_count { "subn" } else { "sub" }, &["repl", "string", "count"], 2, a)?.into_iter();
    let repl = b.next().flatten().unwrap_or(Value::None);
    let subject = b.next().flatten().unwrap_or(Value::None);
    let count = match b.next().flatten() {
        Some(v) => vm.index_value(&v)?,
        None => 0,
    };
    let (s, n) = sub_impl(vm, &pv, as_pattern(&po), &repl, &subject, count)?;
    Ok(if with_count { Value::tuple(vec![s, Value::Int(n as i64)]) } else { s })
}

fn match_group_arg(vm: &mut Vm, m: &MatchObj, g: Option<&Value>) -> PyResult<usize> {
    match g {
        None => Ok(0),
        Some(g) => m.pat().group_index(vm, g),
    }
}

fn make_match_class() -> Rc<Class> {
    let c = new_class("Match", &[types().object.clone()], Layout::Builtin, None);
    c.dict.set_str("__module__", Value::str("re"));
    method(&c, "Match", "group", |vm, a| {
        let m = this_match(&a)?;
        match a.pos.len() {
            1 => Ok(m.group(0)),
            2 => {
                let i = m.pat().group_index(vm, &a.pos[1])?;
                Ok(m.group(i))
            }
            _ => {
                let mut items = Vec::new();
                for g in &a.pos[1..] {
                    let i = m.pat().group_index(vm, g)?;
                    items.push(m.group(i));
                }
                Ok(Value::tuple(items))
            }
        }
    });
    method(&c, "Match", "__getitem__", |vm, a| {
        let m = this_match(&a)?;
        let i = m.pat().group_index(vm, a.pos.get(1).unwrap_or(&Value::None))?;
        Ok(m.group(i))
    });
    method(&c, "Match", "groups", |_vm, mut a| {
        let dflt = a.take_kw("default").or_else(|| a.pos.get(1).cloned()).unwrap_or(Value::None);
        let m = this_match(&a)?;
        let items: Vec<Value> = (1..m.spans.len()).map(|i| if m.spans[i].is_some() { m.group(i) } else { dflt.clone() }).collect();
        Ok(Value::tuple(items))
    });
    method(&c, "Match", "groupdict", |_vm, mut a| {
        let dflt = a.take_kw("default").or_else(|| a.pos.get(1).cloned()).unwrap_or(Value::None);
        let m = this_match(&a)?;
        let d = PyDict::new();
        for (k, i) in &m.pat().names {
            d.set_str(k, if m.spans[*i].is_some() { m.group(*i) } else { dflt.clone() });
        }
        Ok(Value::Dict(Rc::new(d)))
    });
    method(&c, "Match", "start", |vm, a| {
        let m = this_match(&a)?;
        let i = match_group_arg(vm, m, a.pos.get(1))?;
        Ok(Value::Int(m.spans[i].map(|s| s.0 as i64).unwrap_or(-1)))
    });
    method(&c, "Match", "end", |vm, a| {
        let m = this_match(&a)?;
        let i = match_group_arg(vm, m, a.pos.get(1))?;
        Ok(Value::Int(m.spans[i].map(|s| s.1 as i64).unwrap_or(-1)))
    });
    method(&c, "Match", "span", |vm, a| {
        let m = this_match(&a)?;
        let i = match_group_arg(vm, m, a.pos.get(1))?;
        Ok(span_value(m.spans[i]))
    });
    method(&c, "Match", "expand", |vm, a| {
        let m = this_match(&a)?;
        let tv = a.pos.get(1).cloned().unwrap_or(Value::None);
        let Some(t) = template_text(m.pat().bytes, &tv) else {
            return Err(type_error(format!("expected str instance, {} found", type_name(&tv))));
        };
        let pieces = parse_template(vm, m.pat(), &tv, &t)?;
        let mut buf = String::new();
        expand_into(&mut buf, &pieces, m.hay.text(), &m.bspans);
        Ok(match m.hay {
            Hay::Str(_) => Value::string(buf),
            Hay::Bytes(..) => Value::Bytes(Rc::new(PyBytes { b: latin1_encode(&buf).into_boxed_slice() })),
        })
    });
    method(&c, "Match", "__copy__", |_vm, a| Ok(a.pos[0].clone()));
    method(&c, "Match", "__deepcopy__", |_vm, a| Ok(a.pos[0].clone()));
    c.dict.set_str("__class_getitem__", native_fn("__class_getitem__", |_vm, a| Ok(a.pos[0].clone())));
    c
}

// ------------------------------------------------------------ module level

fn flags_arg(vm: &mut Vm, v: Option<Value>) -> PyResult<u32> {
    match v {
        None => Ok(0),
        Some(v) => Ok(vm.index_value(&v)? as u32),
    }
}

/// `re.compile(pattern, flags)`, through a cache as CPython keeps one.
fn compile_cached(vm: &mut Vm, pattern: &Value, flags: u32) -> PyResult<Value> {
    if let Some(p) = pattern.downcast::<Pattern>() {
        if flags != 0 {
            return Err(value_error("cannot process flags argument with a compiled pattern"));
        }
        let _ = p;
        return Ok(pattern.clone());
    }
    let key = match pattern {
        Value::Str(s) => (false, s.as_str().to_string(), flags),
        Value::Bytes(b) => (true, latin1_decode(&b.b), flags),
        _ => {
            let p = Pattern::compile(vm, pattern, flags)?;
            return Ok(Value::object(p));
        }
    };
    if let Some(v) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(v);
    }
    let p = Value::object(Pattern::compile(vm, pattern, flags)?);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 512 {
            c.clear();
        }
        c.insert(key, p.clone());
    });
    Ok(p)
}

fn bind(qual: &str, names: &[&str], required: usize, a: Args) -> PyResult<Vec<Option<Value>>> {
    Sig { qual, has_self: false, names, required, kwonly: &[] }.bind(a)
}

fn with_pattern<R>(vm: &mut Vm, pattern: &Value, flags: u32, f: impl FnOnce(&mut Vm, &Value, &Pattern) -> PyResult<R>) -> PyResult<R> {
    let pv = compile_cached(vm, pattern, flags)?;
    let p = pv.downcast::<Pattern>().expect("compiled");
    f(vm, &pv, p)
}

fn mod_search_like(vm: &mut Vm, a: Args, mode: Mode, qual: &str) -> PyResult {
    let b = bind(qual, &["pattern", "string", "flags"], 2, a)?;
    let flags = flags_arg(vm, b[2].clone())?;
    let subject = b[1].clone().unwrap_or(Value::None);
    with_pattern(vm, b[0].as_ref().unwrap_or(&Value::None), flags, |vm, pv, p| do_match(vm, pv, p, &subject, None, None, mode))
}

fn mod_compile(vm: &mut Vm, a: Args) -> PyResult {
    let b = bind("compile", &["pattern", "flags"], 1, a)?;
    let flags = flags_arg(vm, b[1].clone())?;
    compile_cached(vm, b[0].as_ref().unwrap_or(&Value::None), flags)
}

fn mod_findall(vm: &mut Vm, a: Args) -> PyResult {
    let b = bind("findall", &["pattern", "string", "flags"], 2, a)?;
    let flags = flags_arg(vm, b[2].clone())?;
    let subject = b[1].clone().unwrap_or(Value::None);
    with_pattern(vm, b[0].as_ref().unwrap_or(&Value::None), flags, |vm, _pv, p| findall_impl(vm, p, &subject, None, None))
}

fn mod_finditer(vm: &mut Vm, a: Args) -> PyResult {
    let b = bind("finditer", &["pattern", "string", "flags"], 2, a)?;
    let flags = flags_arg(vm, b[2].clone())?;
    let subject = b[1].clone().unwrap_or(Value::None);
    with_pattern(vm, b[0].as_ref().unwrap_or(&Value::None), flags, |vm, pv, p| finditer_impl(vm, pv, p, &subject, None, None))
}

fn mod_split(vm: &mut Vm, a: Args) -> PyResult {
    let b = bind("split", &["pattern", "string", "maxsplit", "flags"], 2, a)?;
    let flags = flags_arg(vm, b[3].clone())?;
    let maxsplit = match &b[2] {
        Some(v) => vm.index_value(v)?,
        None => 0,
    };
    let subject = b[1].clone().unwrap_or(Value::None);
    with_pattern(vm, b[0].as_ref().unwrap_or(&Value::None), flags, |vm, _pv, p| split_impl(vm, p, &subject, maxsplit))
}

fn mod_sub(vm: &mut Vm, a: Args, with_count: bool) -> PyResult {
    let b = bind(if with_count { "subn" } else { "sub" }, &["pattern", "repl", "string", "count", "flags"], 3, a)?;
    let flags = flags_arg(vm, b[4].clone())?;
    let count = match &b[3] {
        Some(v) => vm.index_value(v)?,
        None => 0,
    };
    let repl = b[1].clone().unwrap_or(Value::None);
    let subject = b[2].clone().unwrap_or(Value::None);
    let (s, n) = with_pattern(vm, b[0].as_ref().unwrap_or(&Value::None), flags, |vm, pv, p| sub_impl(vm, pv, p, &repl, &subject, count))?;
    Ok(if with_count { Value::tuple(vec![s, Value::Int(n as i64)]) } else { s })
}

const SPECIAL: &str = "()[]{}?*+-|^$\\.&~# \t\n\r\x0b\x0c";

fn mod_escape(_vm: &mut Vm, a: Args) -> PyResult {
    let b = bind("escape", &["pattern"], 1, a)?;
    match b[0].as_ref() {
        Some(Value::Str(s)) => {
            let mut out = String::with_capacity(s.as_str().len());
            for ch in s.as_str().chars() {
                if SPECIAL.contains(ch) {
                    out.push('\\');
                }
                out.push(ch);
            }
            Ok(Value::string(out))
        }
        Some(Value::Bytes(bs)) => {
            let mut out = Vec::with_capacity(bs.b.len());
            for &ch in bs.b.iter() {
                if ch < 128 && SPECIAL.contains(ch as char) {
                    out.push(b'\\');
                }
                out.push(ch);
            }
            Ok(Value::Bytes(Rc::new(PyBytes { b: out.into_boxed_slice() })))
        }
        Some(other) => Err(type_error(format!("expected str or bytes-like object, got '{}'", type_name(other)))),
        None => Err(type_error("escape() missing required argument")),
    }
}

/// The `_re` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let pattern_class = PATTERN_CLASS.with(|c| c.clone());
    let match_class = MATCH_CLASS.with(|c| c.clone());
    Ok(vm.make_native_module(
        "_re",
        vec![
            ("Pattern", Value::Class(pattern_class)),
            ("Match", Value::Class(match_class)),
            (
                "_set_error",
                native_fn("_set_error", |_vm, a| {
                    ERROR.with(|e| *e.borrow_mut() = a.pos.first().cloned());
                    Ok(Value::None)
                }),
            ),
            ("compile", native_fn("compile", mod_compile)),
            ("search", native_fn("search", |vm, a| mod_search_like(vm, a, Mode::Search, "search"))),
            ("match", native_fn("match", |vm, a| mod_search_like(vm, a, Mode::Match, "match"))),
            ("fullmatch", native_fn("fullmatch", |vm, a| mod_search_like(vm, a, Mode::Full, "fullmatch"))),
            ("findall", native_fn("findall", mod_findall)),
            ("finditer", native_fn("finditer", mod_finditer)),
            ("split", native_fn("split", mod_split)),
            ("sub", native_fn("sub", |vm, a| mod_sub(vm, a, false))),
            ("subn", native_fn("subn", |vm, a| mod_sub(vm, a, true))),
            ("escape", native_fn("escape", mod_escape)),
            (
                "purge",
                native_fn("purge", |_vm, _a| {
                    CACHE.with(|c| c.borrow_mut().clear());
                    Ok(Value::None)
                }),
            ),
        ],
    ))
}
