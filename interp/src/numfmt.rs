//! Numbers to text and text to numbers, exactly as CPython 3.11 does it.
//!
//! This module covers everything where a Python program can observe the
//! precise text or value CPython produces for numbers:
//!
//! * `repr(float)` / `str(float)` ([`float_repr`]);
//! * the format-spec mini-language used by `format()`, `str.format` and
//!   f-strings ([`parse_format_spec`], [`format_float`], [`format_int`],
//!   [`format_str`]);
//! * `round()` ([`round_float`], [`round_half_even_to_bigint`]);
//! * `float(str)` and `int(str, base)` ([`parse_float`], [`parse_int`],
//!   [`parse_int_checked`]) with their error messages;
//! * `repr(str)` and `repr(bytes)` ([`str_repr`], [`bytes_repr`]);
//! * int/float arithmetic whose results must be bit-identical to CPython
//!   ([`int_true_div`], [`int_to_f64`], [`f64_to_bigint`], [`float_floordiv`],
//!   [`float_mod`], [`float_divmod`], [`float_pow`]);
//! * the numeric and tuple hashes ([`hash_int`], [`hash_i64`], [`hash_float`],
//!   [`hash_tuple`]).
//!
//! Errors are reported as [`NumError`], whose variant names the Python
//! exception class and whose payload is CPython's exact message.
//!
//! Only `std`, `num-bigint`, `num-traits` and `num-integer` are used.

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::fmt;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// An error raised by one of the functions of this module: the variant is the
/// Python exception class, the payload CPython's exact message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumError {
    /// Raise `ValueError(msg)`.
    Value(String),
    /// Raise `OverflowError(msg)`.
    Overflow(String),
    /// Raise `ZeroDivisionError(msg)`.
    ZeroDivision(String),
    /// Raise `MemoryError()`: the result would not fit in memory.
    Memory,
}

impl NumError {
    /// The message CPython attaches to the exception.
    pub fn message(&self) -> &str {
        match self {
            NumError::Value(m) | NumError::Overflow(m) | NumError::ZeroDivision(m) => m,
            NumError::Memory => "",
        }
    }

    /// The name of the Python exception class (`"ValueError"`, ...).
    pub fn exception_name(&self) -> &'static str {
        match self {
            NumError::Value(_) => "ValueError",
            NumError::Overflow(_) => "OverflowError",
            NumError::ZeroDivision(_) => "ZeroDivisionError",
            NumError::Memory => "MemoryError",
        }
    }
}

impl fmt::Display for NumError {
    /// Formats as Python prints an uncaught exception's last line,
    /// e.g. `ValueError: precision too big`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.exception_name(), self.message())
    }
}

impl std::error::Error for NumError {}

fn value_err<T>(msg: impl Into<String>) -> Result<T, NumError> {
    Err(NumError::Value(msg.into()))
}

// ---------------------------------------------------------------------------
// Low-level float helpers
// ---------------------------------------------------------------------------

/// `2**k` as an f64, for `-1074 <= k <= 1023` (exact, possibly subnormal).
fn pow2(k: i64) -> f64 {
    debug_assert!((-1074..=1023).contains(&k));
    if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (k + 1074))
    }
}

/// Splits a finite, non-zero `|x|` into `(m, e)` with `|x| == m * 2**e`,
/// `m < 2**53`.
fn decompose(x: f64) -> (u64, i64) {
    let bits = x.abs().to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), biased - 1075)
    }
}

/// Correctly rounds (half-even) the non-negative value `(m + t) * 2**e` to an
/// f64, where `t` is 0 when `sticky` is false and some number strictly between
/// 0 and 1 otherwise.  Returns `None` when the result overflows.
fn compose_f64(m: u64, sticky: bool, e: i64) -> Option<f64> {
    if m == 0 {
        return Some(0.0);
    }
    let len = 64 - i64::from(m.leading_zeros());
    let top = len - 1 + e;
    if top > 1023 {
        return None;
    }
    // Exponent of the last bit the result can hold.
    let lsb = (top - 52).max(-1074);
    let drop = lsb - e;
    if drop <= 0 {
        // m has at most 53 bits and the scale is representable: exact.
        return Some(m as f64 * pow2(e));
    }
    if drop > 65 {
        // Less than a quarter of the smallest step: rounds to zero.
        return Some(0.0);
    }
    let wide = u128::from(m);
    let kept = wide >> drop;
    let rem = wide & ((1u128 << drop) - 1);
    let half = 1u128 << (drop - 1);
    let round_up = rem > half || (rem == half && (sticky || kept & 1 == 1));
    let kept = kept + u128::from(round_up);
    let r = kept as f64 * pow2(lsb);
    if r.is_infinite() {
        None
    } else {
        Some(r)
    }
}

// ---------------------------------------------------------------------------
// Decimal digit generation
// ---------------------------------------------------------------------------

/// A non-negative decimal number `0.d1 d2 d3 ... * 10**decpt`: `digits` holds
/// ASCII digits without leading or trailing zeros.  Zero is `"0"`, `decpt` 1.
struct Decimal {
    digits: Vec<u8>,
    decpt: i64,
}

impl Decimal {
    /// Builds from a run of ASCII digits whose decimal point sits after
    /// `int_len` of them, stripping leading and trailing zeros.
    fn from_digits(all: &[u8], int_len: i64) -> Decimal {
        let lead = all.iter().take_while(|&&c| c == b'0').count();
        let rest = &all[lead..];
        let end = rest.len() - rest.iter().rev().take_while(|&&c| c == b'0').count();
        if end == 0 {
            return Decimal { digits: vec![b'0'], decpt: 1 };
        }
        Decimal { digits: rest[..end].to_vec(), decpt: int_len - lead as i64 }
    }

    /// Parses Rust's `{:e}` output for a non-negative finite number.
    fn from_rust_exp(s: &str) -> Decimal {
        let (mant, exp) = s.split_once('e').expect("exponent in {:e} output");
        let exp: i64 = exp.parse().expect("exponent is an integer");
        let digits: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
        Decimal::from_digits(&digits, exp + 1)
    }

    /// The value as the nearest f64.
    fn to_f64(&self) -> f64 {
        let digits = std::str::from_utf8(&self.digits).expect("ASCII digits");
        format!("{}e{}", digits, self.decpt - self.digits.len() as i64).parse().expect("decimal text parses")
    }

    fn is_zero(&self) -> bool {
        self.digits == b"0"
    }

    /// The digit at virtual position `pos` (0 is the first digit).
    fn digit_at(&self, pos: i64) -> u8 {
        if pos >= 0 && (pos as usize) < self.digits.len() {
            self.digits[pos as usize]
        } else {
            b'0'
        }
    }
}

/// Shortest digits that round-trip to `x` (finite, `x >= 0`); among equally
/// short candidates the nearest, ties to even (as David Gay's `dtoa` mode 0).
fn shortest_digits(x: f64) -> Decimal {
    let d = Decimal::from_rust_exp(&format!("{:e}", x));
    // Rust breaks an exact tie between two shortest candidates upwards.  A
    // tie needs the exact value of `x` to have one more digit than the
    // shortest form; then the correctly rounded (half-even) candidate is the
    // one CPython prints, provided it round-trips.
    let n = d.digits.len();
    if n >= 1 && exact_significant_digits(x) == Some(n + 1) {
        let candidate = significant_digits(x, n);
        if candidate.to_f64() == x {
            return candidate;
        }
    }
    d
}

/// The number of significant digits of the exact decimal expansion of a
/// finite non-integral `x > 0`, when it is at most 18; `None` otherwise.
fn exact_significant_digits(x: f64) -> Option<usize> {
    if x == 0.0 {
        return None;
    }
    let (m, e) = decompose(x);
    let tz = m.trailing_zeros();
    let (m, e) = (m >> tz, e + i64::from(tz));
    // x = m / 2**k = m * 5**k / 10**k: the digits are those of m * 5**k.
    if !(-25..0).contains(&e) {
        return None;
    }
    let scaled = u128::from(m) * 5u128.pow((-e) as u32);
    let len = scaled.ilog10() as usize + 1;
    (len <= 18).then_some(len)
}

/// `x` (finite, `>= 0`) correctly rounded to `n >= 1` significant digits.
fn significant_digits(x: f64, n: usize) -> Decimal {
    // An f64's exact decimal expansion has at most 767 significant digits,
    // so asking for more gives the same digits (and Rust's formatter takes
    // at most 65535).
    let n = n.min(800);
    Decimal::from_rust_exp(&format!("{:.*e}", n - 1, x))
}

/// `x` (finite, `>= 0`) correctly rounded to `n` digits after the point.
fn fixed_digits(x: f64, n: usize) -> Decimal {
    // An f64's exact expansion ends within 1074 digits after the point.
    let n = n.min(1100);
    let s = format!("{:.*}", n, x);
    let (int_part, frac_part) = s.split_once('.').unwrap_or((&s, ""));
    let mut all = Vec::with_capacity(s.len());
    all.extend_from_slice(int_part.as_bytes());
    all.extend_from_slice(frac_part.as_bytes());
    Decimal::from_digits(&all, int_part.len() as i64)
}

/// Options of [`double_to_string`].
#[derive(Clone, Copy, Default)]
struct FloatFlags {
    /// `#`: keep the decimal point and (for `g`) trailing zeros.
    alt: bool,
    /// Keep at least one digit after the point in fixed notation.
    add_dot_0: bool,
    /// `z`: turn a negative zero result into a positive one.
    no_neg_0: bool,
}

/// Renders `x` as CPython's `PyOS_double_to_string` does: `code` is one of
/// `e E f F g G r` (`r` is the repr mode, `precision` unused).  A leading
/// `-` marks negative values; the sign of NaN is ignored.
fn double_to_string(x: f64, code: char, precision: usize, flags: FloatFlags) -> String {
    let upper = code.is_ascii_uppercase();
    let code = code.to_ascii_lowercase();
    if x.is_nan() {
        return if upper { "NAN" } else { "nan" }.to_string();
    }
    let mut negative = x.is_sign_negative();
    if x.is_infinite() {
        let body = if upper { "INF" } else { "inf" };
        return if negative { format!("-{body}") } else { body.to_string() };
    }
    let a = x.abs();
    let (dec, use_exp, vend) = match code {
        'e' => {
            let d = significant_digits(a, precision + 1);
            (d, true, precision as i64 + 1)
        }
        'f' => {
            let d = fixed_digits(a, precision);
            let vend = d.decpt + precision as i64;
            (d, false, vend)
        }
        'g' => {
            let p = precision.max(1);
            let d = significant_digits(a, p);
            let limit = if flags.add_dot_0 { p as i64 - 1 } else { p as i64 };
            let use_exp = d.decpt <= -4 || d.decpt > limit;
            let vend = if flags.alt { p as i64 } else { d.digits.len() as i64 };
            (d, use_exp, vend)
        }
        _ => {
            let d = shortest_digits(a);
            let use_exp = d.decpt <= -4 || d.decpt > 16;
            let vend = d.digits.len() as i64;
            (d, use_exp, vend)
        }
    };
    if flags.no_neg_0 && dec.is_zero() {
        negative = false;
    }
    let (decpt, exp) = if use_exp { (1, dec.decpt - 1) } else { (dec.decpt, 0) };
    let vstart = (decpt - 1).min(0);
    let mut vend = vend.max(decpt).max(dec.digits.len() as i64);
    if flags.add_dot_0 && !use_exp {
        vend = vend.max(decpt + 1);
    }
    let mut out = String::with_capacity((vend - vstart) as usize + 8);
    if negative {
        out.push('-');
    }
    for pos in vstart..vend {
        if pos == decpt {
            out.push('.');
        }
        out.push(dec.digit_at(pos) as char);
    }
    if decpt == vend {
        out.push('.');
    }
    if out.ends_with('.') && !flags.alt {
        out.pop();
    }
    if use_exp {
        out.push(if upper { 'E' } else { 'e' });
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    }
    out
}

/// `repr(x)` (and `str(x)`) for a float, as CPython 3.11 prints it.
///
/// Shortest digits that round-trip; fixed notation when the decimal exponent
/// is in `-4 <= exp < 16` (always with a digit after the point: `1.0`,
/// `100.0`), scientific otherwise (`1e+16`, `1.5e-05`); `inf`, `-inf`,
/// `nan` (never `-nan`), `-0.0`.
pub fn float_repr(x: f64) -> String {
    let flags = FloatFlags { add_dot_0: true, ..FloatFlags::default() };
    double_to_string(x, 'r', 0, flags)
}

// ---------------------------------------------------------------------------
// Format-spec mini-language
// ---------------------------------------------------------------------------

/// A parsed format specification
/// `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`.
///
/// Fields hold what the spec says; the type-specific defaults (alignment,
/// the effect of the `0` flag) are applied when formatting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatSpec {
    /// The fill character: as written, `'0'` when the `0` flag was given, else `' '`.
    pub fill: char,
    /// `<`, `>`, `^` or `=`, when given.
    pub align: Option<char>,
    /// `+`, `-` or `' '`, when given.
    pub sign: Option<char>,
    /// `z`: coerce negative zero results to positive zero (floats only).
    pub no_neg_0: bool,
    /// `#`: alternate form.
    pub alternate: bool,
    /// The `0` flag was given (only possible when no fill was written): the
    /// fill is `'0'` and, for numbers without an explicit alignment, `=`.
    pub zero: bool,
    /// Minimum field width in characters.
    pub width: Option<usize>,
    /// `,` or `_`.
    pub grouping: Option<char>,
    /// Digits after `.`.
    pub precision: Option<usize>,
    /// The presentation type, or the caller's default type when none was
    /// written (`None` only when that default is `None`, as for float).
    pub ty: Option<char>,
}

impl Default for FormatSpec {
    fn default() -> Self {
        FormatSpec {
            fill: ' ',
            align: None,
            sign: None,
            no_neg_0: false,
            alternate: false,
            zero: false,
            width: None,
            grouping: None,
            precision: None,
            ty: None,
        }
    }
}

impl FormatSpec {
    /// Fill and alignment in effect for a value whose default alignment is
    /// `default_align` (`'>'` for numbers, `'<'` for strings).
    fn fill_align(&self, default_align: char) -> (char, char) {
        let align = match self.align {
            Some(a) => a,
            None if self.zero && default_align == '>' => '=',
            None => default_align,
        };
        (self.fill, align)
    }
}

/// Text for a presentation type in error messages: `'x'` for printable
/// ASCII, `'\x1'` style (CPython's `\x%x`) otherwise.
fn type_char_text(c: char) -> String {
    let v = c as u32;
    if v > 32 && v < 128 {
        c.to_string()
    } else {
        format!("\\x{:x}", v)
    }
}

/// CPython's error for a presentation type the object does not support.
fn unknown_format_code(ty: char, type_name: &str) -> NumError {
    NumError::Value(format!("Unknown format code '{}' for object of type '{}'", type_char_text(ty), type_name))
}

/// Reads a run of (Unicode) decimal digits starting at `*pos`; `None` when
/// there is none.
fn parse_spec_integer(chars: &[char], pos: &mut usize) -> Result<Option<usize>, NumError> {
    let mut value: i64 = 0;
    let mut any = false;
    while let Some(d) = chars.get(*pos).and_then(|&c| decimal_value(c)) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(d)))
            .ok_or_else(|| NumError::Value("Too many decimal digits in format string".into()))?;
        any = true;
        *pos += 1;
    }
    Ok(if any { Some(value as usize) } else { None })
}

/// Parses a format spec as CPython 3.11 does.
///
/// `type_name` is the object's type name used in error messages (`"float"`,
/// `"int"`, `"bool"`, `"str"`); `default_type` is the presentation type when
/// the spec has none (`Some('d')` for int, `Some('s')` for str, `None` for
/// float).  Errors (all `ValueError`) carry CPython's messages, e.g.
/// `Invalid format specifier 'abc' for object of type 'float'`,
/// `Cannot specify ',' with 's'.`, `Format specifier missing precision`.
pub fn parse_format_spec(spec: &str, type_name: &str, default_type: Option<char>) -> Result<FormatSpec, NumError> {
    let chars: Vec<char> = spec.chars().collect();
    let n = chars.len();
    let mut pos = 0;
    let mut fs = FormatSpec { ty: default_type, ..FormatSpec::default() };
    let is_align = |c: char| matches!(c, '<' | '>' | '=' | '^');
    let mut fill_given = false;
    if n >= 2 && is_align(chars[1]) {
        fs.fill = chars[0];
        fs.align = Some(chars[1]);
        fill_given = true;
        pos = 2;
    } else if n >= 1 && is_align(chars[0]) {
        fs.align = Some(chars[0]);
        pos = 1;
    }
    if pos < n && matches!(chars[pos], '+' | '-' | ' ') {
        fs.sign = Some(chars[pos]);
        pos += 1;
    }
    if pos < n && chars[pos] == 'z' {
        fs.no_neg_0 = true;
        pos += 1;
    }
    if pos < n && chars[pos] == '#' {
        fs.alternate = true;
        pos += 1;
    }
    if !fill_given && pos < n && chars[pos] == '0' {
        fs.fill = '0';
        fs.zero = true;
        pos += 1;
    }
    fs.width = parse_spec_integer(&chars, &mut pos)?;
    // The padded result is built without a fallible path: ask for its room
    // first, so a huge width is a MemoryError rather than an abort.
    if let Some(w) = fs.width.filter(|&w| w >= 1 << 26) {
        let mut room: Vec<u8> = Vec::new();
        room.try_reserve_exact(w).map_err(|_| NumError::Memory)?;
        // Seen, so the compiler cannot drop the unused block and assume
        // the allocation succeeded.
        std::hint::black_box(&room);
    }
    if pos < n && chars[pos] == ',' {
        fs.grouping = Some(',');
        pos += 1;
    }
    if pos < n && chars[pos] == '_' {
        if fs.grouping.is_some() {
            return value_err("Cannot specify both ',' and '_'.");
        }
        fs.grouping = Some('_');
        pos += 1;
    }
    if pos < n && chars[pos] == ',' && fs.grouping == Some('_') {
        return value_err("Cannot specify both ',' and '_'.");
    }
    if pos < n && chars[pos] == '.' {
        pos += 1;
        fs.precision = parse_spec_integer(&chars, &mut pos)?;
        if fs.precision.is_none() {
            return value_err("Format specifier missing precision");
        }
    }
    if n - pos > 1 {
        return value_err(format!("Invalid format specifier '{}' for object of type '{}'", spec, type_name));
    }
    if n - pos == 1 {
        fs.ty = Some(chars[pos]);
    }
    if let Some(g) = fs.grouping {
        match fs.ty.unwrap_or('\0') {
            'd' | 'e' | 'f' | 'g' | 'E' | 'G' | '%' | 'F' | '\0' => {}
            'b' | 'o' | 'x' | 'X' if g == '_' => {}
            t => return value_err(format!("Cannot specify '{}' with '{}'.", g, type_char_text(t))),
        }
    }
    Ok(fs)
}

/// Inserts `sep` every `size` digits from the right, padding with leading
/// zeros so that the result is at least `min_width` characters long (the
/// padding zeros are grouped too).  `size == 0` means no grouping.
fn group_digits(digits: &str, size: usize, sep: char, min_width: i64) -> String {
    let bytes = digits.as_bytes();
    let mut remaining = bytes.len() as i64;
    if size == 0 {
        let zeros = (min_width - remaining).max(0) as usize;
        return "0".repeat(zeros) + digits;
    }
    let mut min_w = min_width;
    let mut end = bytes.len();
    let mut groups: Vec<String> = Vec::new();
    loop {
        let l = (size as i64).min(remaining.max(min_w).max(1));
        let n_zeros = (l - remaining).max(0) as usize;
        let n_chars = remaining.min(l).max(0) as usize;
        let mut g = "0".repeat(n_zeros);
        g.push_str(&digits[end - n_chars..end]);
        groups.push(g);
        end -= n_chars;
        remaining -= n_chars as i64;
        min_w -= l;
        if remaining <= 0 && min_w <= 0 {
            break;
        }
        min_w -= 1;
    }
    groups.reverse();
    groups.join(&sep.to_string())
}

/// The pieces of a formatted number, laid out as
/// `<lpad><sign><prefix><spad><grouped digits><remainder><rpad>`.
struct NumberParts<'a> {
    negative: bool,
    prefix: &'a str,
    /// Integer-part digits (grouped); may be empty (`inf`, `%c`).
    digits: &'a str,
    /// Everything after the integer digits: `.`, fraction, exponent, `%`.
    remainder: &'a str,
    /// Group size (0: none) and separator.
    grouping: (usize, char),
}

/// Applies sign, fill, alignment, grouping and zero padding.
fn layout_number(p: &NumberParts<'_>, spec: &FormatSpec) -> String {
    let sign = match spec.sign {
        Some('+') => Some(if p.negative { '-' } else { '+' }),
        Some(' ') => Some(if p.negative { '-' } else { ' ' }),
        _ if p.negative => Some('-'),
        _ => None,
    };
    let (fill, align) = spec.fill_align('>');
    let width = spec.width.unwrap_or(0) as i64;
    let fixed = i64::from(sign.is_some()) + p.prefix.len() as i64 + p.remainder.chars().count() as i64;
    let min_width = if fill == '0' && align == '=' { width - fixed } else { 0 };
    let grouped = if p.digits.is_empty() { String::new() } else { group_digits(p.digits, p.grouping.0, p.grouping.1, min_width) };
    let used = fixed + grouped.len() as i64;
    let pad = (width - used).max(0) as usize;
    let (lpad, spad, rpad) = match align {
        '<' => (0, 0, pad),
        '^' => (pad / 2, 0, pad - pad / 2),
        '=' => (0, pad, 0),
        _ => (pad, 0, 0),
    };
    let mut out = String::with_capacity(used as usize + pad * fill.len_utf8());
    out.extend(std::iter::repeat_n(fill, lpad));
    if let Some(s) = sign {
        out.push(s);
    }
    out.push_str(p.prefix);
    out.extend(std::iter::repeat_n(fill, spad));
    out.push_str(&grouped);
    out.push_str(p.remainder);
    out.extend(std::iter::repeat_n(fill, rpad));
    out
}

/// Group size and separator for a parsed grouping option and numeric base.
fn grouping_for(spec: &FormatSpec, base: u32) -> (usize, char) {
    match spec.grouping {
        Some(',') => (3, ','),
        Some(_) if base == 10 => (3, '_'),
        Some(_) => (4, '_'),
        None => (0, ','),
    }
}

/// Formats a float with an already parsed spec whose type is one of
/// `e E f F g G n %` or none (CPython's `format_float_internal`).
fn format_float_spec(x: f64, spec: &FormatSpec) -> Result<String, NumError> {
    if spec.precision.is_some_and(|p| p > i32::MAX as usize) {
        return value_err("precision too big");
    }
    let mut ty = spec.ty.unwrap_or('\0');
    let mut flags = FloatFlags { alt: spec.alternate, no_neg_0: spec.no_neg_0, add_dot_0: false };
    let mut default_precision = 6;
    if ty == '\0' {
        flags.add_dot_0 = true;
        ty = 'r';
        default_precision = 0;
    }
    if ty == 'n' {
        ty = 'g';
    }
    let mut val = x;
    let percent = ty == '%';
    if percent {
        ty = 'f';
        val *= 100.0;
    }
    let precision = match spec.precision {
        None => default_precision,
        Some(p) => {
            if ty == 'r' {
                ty = 'g';
            }
            p
        }
    };
    let mut body = double_to_string(val, ty, precision, flags);
    if percent {
        body.push('%');
    }
    let (negative, rest) = match body.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, body.as_str()),
    };
    let ndigits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let parts =
        NumberParts { negative, prefix: "", digits: &rest[..ndigits], remainder: &rest[ndigits..], grouping: grouping_for(spec, 10) };
    Ok(layout_number(&parts, spec))
}

/// `format(x, spec)` for a float (also `f"{x:spec}"`, `"{:spec}".format(x)`).
///
/// Supports types `e E f F g G n %` and none, width, fill/alignment
/// (including `=`), sign (`+ - ' '`), `z`, `#`, `0`, `,`/`_` grouping and
/// precision, with correct (round-half-even on the exact binary value)
/// rounding.  All errors are `ValueError`.
pub fn format_float(x: f64, spec: &str) -> Result<String, NumError> {
    format_float_typed(x, spec, "float")
}

/// [`format_float`] for an object whose type name (in error messages) is
/// `type_name`, e.g. a float subclass.
pub fn format_float_typed(x: f64, spec: &str, type_name: &str) -> Result<String, NumError> {
    if spec.is_empty() {
        return Ok(float_repr(x));
    }
    let fs = parse_format_spec(spec, type_name, None)?;
    match fs.ty {
        None | Some('\0' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n' | '%') => format_float_spec(x, &fs),
        Some(t) => Err(unknown_format_code(t, type_name)),
    }
}

/// `format(z, spec)` for a complex number with a non-empty spec (CPython's
/// `format_complex_internal`): each part laid out as a float (the imaginary
/// one always signed unless the real part is left out), then `j`, the
/// parentheses when no type is given, and the padding around the whole.
pub fn format_complex(re: f64, im: f64, spec: &str) -> Result<String, NumError> {
    let fs = parse_format_spec(spec, "complex", None)?;
    let mut ty = match fs.ty {
        None => '\0',
        Some(t @ ('\0' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n')) => t,
        Some(t) => return Err(unknown_format_code(t, "complex")),
    };
    if fs.fill == '0' {
        return value_err("Zero padding is not allowed in complex format specifier");
    }
    if fs.align == Some('=') {
        return value_err("'=' alignment flag is not allowed in complex format specifier");
    }
    let flags = FloatFlags { alt: fs.alternate, no_neg_0: fs.no_neg_0, add_dot_0: false };
    let (mut skip_re, mut parens, mut default_precision) = (false, false, 6);
    if ty == '\0' {
        ty = 'r';
        default_precision = 0;
        if re == 0.0 && re.is_sign_positive() {
            skip_re = true;
        } else {
            parens = true;
        }
    }
    if ty == 'n' {
        ty = 'g';
    }
    let precision = match fs.precision {
        None => default_precision,
        Some(p) => {
            if ty == 'r' {
                ty = 'g';
            }
            p
        }
    };
    let part = |x: f64, sign: Option<char>| {
        let body = double_to_string(x, ty, precision, flags);
        let (negative, rest) = match body.strip_prefix('-') {
            Some(r) => (true, r.to_string()),
            None => (false, body.clone()),
        };
        let ndigits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let part_spec = FormatSpec { sign, grouping: fs.grouping, ..FormatSpec::default() };
        let parts =
            NumberParts { negative, prefix: "", digits: &rest[..ndigits], remainder: &rest[ndigits..], grouping: grouping_for(&fs, 10) };
        layout_number(&parts, &part_spec)
    };
    let mut body = String::new();
    if parens {
        body.push('(');
    }
    if !skip_re {
        body.push_str(&part(re, fs.sign));
    }
    body.push_str(&part(im, if skip_re { fs.sign } else { Some('+') }));
    body.push('j');
    if parens {
        body.push(')');
    }
    let (fill, align) = fs.fill_align('>');
    let pad = fs.width.unwrap_or(0).saturating_sub(body.chars().count());
    let (l, r) = match align {
        '<' => (0, pad),
        '^' => (pad / 2, pad - pad / 2),
        _ => (pad, 0),
    };
    let mut out = String::new();
    out.extend(std::iter::repeat_n(fill, l));
    out.push_str(&body);
    out.extend(std::iter::repeat_n(fill, r));
    Ok(out)
}

/// The largest number of decimal digits CPython 3.11 converts between int
/// and str by default (`sys.get_int_max_str_digits()`).
pub const INT_MAX_STR_DIGITS: usize = 4300;

fn int_str_limit_error() -> NumError {
    NumError::Value(format!(
        "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion; \
         use sys.set_int_max_str_digits() to increase the limit"
    ))
}

/// Decimal digits of `|x|`, refusing (like CPython) more than
/// [`INT_MAX_STR_DIGITS`] digits.
fn decimal_magnitude(x: &BigInt) -> Result<String, NumError> {
    // 2**14290 already has more than 4300 decimal digits: fail before the
    // (quadratic) conversion.
    if x.bits() >= 14290 {
        return Err(int_str_limit_error());
    }
    let s = x.magnitude().to_str_radix(10);
    if s.len() > INT_MAX_STR_DIGITS {
        return Err(int_str_limit_error());
    }
    Ok(s)
}

/// `str(x)` / `repr(x)` for an int: decimal digits with a leading `-` for
/// negative values.  Like CPython 3.11, values with more than
/// [`INT_MAX_STR_DIGITS`] digits raise `ValueError` ("Exceeds the limit (4300
/// digits) for integer string conversion; use sys.set_int_max_str_digits() to
/// increase the limit").
pub fn int_to_str(x: &BigInt) -> Result<String, NumError> {
    if let Some(v) = x.to_i64() {
        return Ok(v.to_string());
    }
    let digits = decimal_magnitude(x)?;
    Ok(if x.is_negative() { format!("-{digits}") } else { digits })
}

/// Formats an int with an already parsed spec of type `b c d o x X n`
/// (CPython's `format_long_internal`).
fn format_int_spec(x: &BigInt, spec: &FormatSpec) -> Result<String, NumError> {
    if spec.precision.is_some() {
        return value_err("Precision not allowed in integer format specifier");
    }
    if spec.no_neg_0 {
        return value_err("Negative zero coercion (z) not allowed in integer format specifier");
    }
    let ty = spec.ty.unwrap_or('d');
    if ty == 'c' {
        if spec.sign.is_some() {
            return value_err("Sign not allowed with integer format specifier 'c'");
        }
        if spec.alternate {
            return value_err("Alternate form (#) not allowed with integer format specifier 'c'");
        }
        let v = x.to_i64().ok_or_else(|| NumError::Overflow("Python int too large to convert to C long".into()))?;
        if !(0..=0x10ffff).contains(&v) {
            return Err(NumError::Overflow("%c arg not in range(0x110000)".into()));
        }
        let ch = char::from_u32(v as u32).ok_or_else(|| NumError::Value("surrogates not allowed".into()))?;
        let text = ch.to_string();
        let parts = NumberParts { negative: false, prefix: "", digits: "", remainder: &text, grouping: (0, ',') };
        return Ok(layout_number(&parts, spec));
    }
    let (base, prefix) = match ty {
        'b' => (2, "0b"),
        'o' => (8, "0o"),
        'x' => (16, "0x"),
        'X' => (16, "0X"),
        _ => (10, ""),
    };
    let digits = if base == 10 {
        decimal_magnitude(x)?
    } else if ty == 'X' {
        x.magnitude().to_str_radix(base).to_ascii_uppercase()
    } else {
        x.magnitude().to_str_radix(base)
    };
    let parts = NumberParts {
        negative: x.is_negative(),
        prefix: if spec.alternate { prefix } else { "" },
        digits: &digits,
        remainder: "",
        grouping: if ty == 'n' { (0, ',') } else { grouping_for(spec, base) },
    };
    Ok(layout_number(&parts, spec))
}

/// `format(x, spec)` for an int.
///
/// Types `b c d o x X n` and none format the integer; `e E f F g G %`
/// convert it to float first (`OverflowError` "int too large to convert to
/// float").  `#` adds `0b`/`0o`/`0x`/`0X`; `_` groups hex/octal/binary digits
/// by four.  `c` raises `OverflowError` "%c arg not in range(0x110000)" (or
/// "Python int too large to convert to C long"); other errors are
/// `ValueError` with CPython's messages.
pub fn format_int(x: &BigInt, spec: &str) -> Result<String, NumError> {
    format_int_typed(x, spec, "int")
}

/// [`format_int`] for an object whose type name in error messages is
/// `type_name` (`"bool"` for `True`/`False`; note that `format(True, '')`
/// is `'True'`, which the caller handles).
pub fn format_int_typed(x: &BigInt, spec: &str, type_name: &str) -> Result<String, NumError> {
    if spec.is_empty() {
        return int_to_str(x);
    }
    let fs = parse_format_spec(spec, type_name, Some('d'))?;
    match fs.ty {
        Some('b' | 'c' | 'd' | 'o' | 'x' | 'X' | 'n') => format_int_spec(x, &fs),
        Some('e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%') => format_float_spec(int_to_f64(x)?, &fs),
        Some(t) => Err(unknown_format_code(t, type_name)),
        None => Err(unknown_format_code('\0', type_name)),
    }
}

/// `format(x, spec)` for an int that fits in an `i64` (same results as
/// [`format_int`]).
pub fn format_int_i64(x: i64, spec: &str) -> Result<String, NumError> {
    if spec.is_empty() {
        return Ok(x.to_string());
    }
    format_int(&BigInt::from(x), spec)
}

/// `format(s, spec)` for a str: type `s` or none, precision truncates (in
/// characters), default alignment left, width counted in characters.
/// Errors are `ValueError` with CPython's messages ("Sign not allowed in
/// string format specifier", "'=' alignment not allowed in string format
/// specifier", ...).
pub fn format_str(s: &str, spec: &str) -> Result<String, NumError> {
    format_str_typed(s, spec, "str")
}

/// [`format_str`] for an object whose type name in error messages is
/// `type_name` (a str subclass).
pub fn format_str_typed(s: &str, spec: &str, type_name: &str) -> Result<String, NumError> {
    if spec.is_empty() {
        return Ok(s.to_string());
    }
    let fs = parse_format_spec(spec, type_name, Some('s'))?;
    match fs.ty {
        Some('s') => {}
        other => return Err(unknown_format_code(other.unwrap_or('\0'), type_name)),
    }
    match fs.sign {
        Some(' ') => return value_err("Space not allowed in string format specifier"),
        Some(_) => return value_err("Sign not allowed in string format specifier"),
        None => {}
    }
    if fs.no_neg_0 {
        return value_err("Negative zero coercion (z) not allowed in string format specifier");
    }
    if fs.alternate {
        return value_err("Alternate form (#) not allowed in string format specifier");
    }
    if fs.align == Some('=') {
        return value_err("'=' alignment not allowed in string format specifier");
    }
    let (fill, align) = fs.fill_align('<');
    let text: &str = match fs.precision {
        Some(p) => match s.char_indices().nth(p) {
            Some((i, _)) => &s[..i],
            None => s,
        },
        None => s,
    };
    let len = text.chars().count();
    let pad = fs.width.unwrap_or(0).saturating_sub(len);
    let (left, right) = match align {
        '>' => (pad, 0),
        '^' => (pad / 2, pad - pad / 2),
        _ => (0, pad),
    };
    let mut out = String::with_capacity(text.len() + pad * fill.len_utf8());
    out.extend(std::iter::repeat_n(fill, left));
    out.push_str(text);
    out.extend(std::iter::repeat_n(fill, right));
    Ok(out)
}

// ---------------------------------------------------------------------------
// round()
// ---------------------------------------------------------------------------

/// `num / den` rounded to the nearest integer, ties to even (`den > 0`).
fn div_round_half_even(num: &BigUint, den: &BigUint) -> BigUint {
    let (q, r) = num.div_rem(den);
    let twice = &r << 1u32;
    if twice > *den || (twice == *den && q.is_odd()) {
        q + 1u32
    } else {
        q
    }
}

/// `round(x, ndigits)` for a float, exactly as CPython: the exact binary
/// value is rounded half-to-even to a multiple of `10**-ndigits` and the
/// decimal result converted back correctly rounded (`round(2.675, 2) ==
/// 2.67`, `round(1234.5, -1) == 1230.0`, `round(-0.4, 0) == -0.0`).
///
/// NaN and infinities round to themselves.  `ndigits` is CPython's
/// `Py_ssize_t`: a huge Python int should be clamped to `i64` by the caller.
/// Errors: `OverflowError` "rounded value too large to represent" (e.g.
/// `round(1.7e308, -308)`).
pub fn round_float(x: f64, ndigits: i64) -> Result<f64, NumError> {
    // Beyond these limits every finite double rounds to itself / to zero.
    const NDIGITS_MAX: i64 = 323;
    const NDIGITS_MIN: i64 = -308;
    if !x.is_finite() || ndigits > NDIGITS_MAX || x == 0.0 {
        return Ok(x);
    }
    if ndigits < NDIGITS_MIN {
        return Ok(0.0 * x);
    }
    if ndigits >= 0 {
        let text = format!("{:.*}", ndigits as usize, x);
        return Ok(text.parse().expect("Rust float text parses"));
    }
    let (m, e) = decompose(x);
    let scale = BigUint::from(10u32).pow((-ndigits) as u32);
    let m = BigUint::from(m);
    let q = if e >= 0 { div_round_half_even(&(m << e as u64), &scale) } else { div_round_half_even(&m, &(scale << (-e) as u64)) };
    let r: f64 = format!("{}e{}", q, -ndigits).parse().expect("decimal text parses");
    if r.is_infinite() {
        return Err(NumError::Overflow("rounded value too large to represent".into()));
    }
    Ok(r.copysign(x))
}

/// `round(x)` with no `ndigits`: the nearest integer, ties to even
/// (`round(0.5) == 0`, `round(1.5) == 2`).  Errors: `OverflowError` "cannot
/// convert float infinity to integer", `ValueError` "cannot convert float NaN
/// to integer".
pub fn round_half_even_to_bigint(x: f64) -> Result<BigInt, NumError> {
    f64_to_bigint(x.round_ties_even())
}

// ---------------------------------------------------------------------------
// Unicode helpers shared by the parsers and repr
// ---------------------------------------------------------------------------

/// The value of a Unicode decimal digit (category Nd), as CPython's
/// `Py_UNICODE_TODECIMAL`.
pub fn decimal_value(c: char) -> Option<u32> {
    let v = c as u32;
    if c.is_ascii_digit() {
        return Some(v - '0' as u32);
    }
    if v < 0x660 {
        return None;
    }
    let i = DECIMAL_ZEROS.partition_point(|&z| z <= v);
    let zero = DECIMAL_ZEROS[i.checked_sub(1)?];
    (v - zero < 10).then_some(v - zero)
}

/// Python's `str.isspace()` for one character.
pub fn is_python_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ') || (!c.is_ascii() && c.is_whitespace())
}

/// Python's `str.isprintable()` for one character.
pub fn is_printable(c: char) -> bool {
    let v = c as u32;
    if v < 0x7f {
        return v >= 0x20;
    }
    let i = NON_PRINTABLE.partition_point(|&(lo, _)| lo <= v);
    i == 0 || NON_PRINTABLE[i - 1].1 < v
}

/// CPython's `_PyUnicode_TransformDecimalAndSpaceToASCII`, the first step of
/// `int(str)` and `float(str)`: ASCII stays, other whitespace becomes a
/// space, other decimal digits become ASCII digits, anything else becomes
/// `?` (which no parser accepts).
fn to_ascii_number_text(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| {
            if c.is_ascii() {
                c as u8
            } else if is_python_space(c) {
                b' '
            } else if let Some(d) = decimal_value(c) {
                b'0' + d as u8
            } else {
                b'?'
            }
        })
        .collect()
}

/// C's `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn trim_c_space(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if !is_c_space(*first) {
            break;
        }
        b = rest;
    }
    while let [rest @ .., last] = b {
        if !is_c_space(*last) {
            break;
        }
        b = rest;
    }
    b
}

// ---------------------------------------------------------------------------
// repr of str and bytes
// ---------------------------------------------------------------------------

/// `repr(s)` for a str, exactly as CPython: single quotes unless the text
/// contains `'` and no `"`; escapes `\\`, the quote, `\t`, `\n`, `\r`; other
/// non-printable characters as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`; printable
/// non-ASCII characters kept as they are.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let v = c as u32;
                if v <= 0xff {
                    out.push_str(&format!("\\x{v:02x}"));
                } else if v <= 0xffff {
                    out.push_str(&format!("\\u{v:04x}"));
                } else {
                    out.push_str(&format!("\\U{v:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

/// `repr(b)` for bytes: `b'...'` (double quotes when the data contains `'`
/// and no `"`), escapes `\\`, the quote, `\t`, `\n`, `\r`, and `\xhh` for
/// bytes outside `0x20..=0x7e`.
pub fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') { b'"' } else { b'\'' };
    let mut out = String::with_capacity(b.len() + 3);
    out.push('b');
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote as char);
    out
}

// ---------------------------------------------------------------------------
// float(str)
// ---------------------------------------------------------------------------

/// Removes underscores that sit between two ASCII digits; `None` when an
/// underscore sits anywhere else (CPython's rule for numeric strings).
fn strip_underscores(b: &[u8]) -> Option<Vec<u8>> {
    if !b.contains(&b'_') {
        return Some(b.to_vec());
    }
    let mut out = Vec::with_capacity(b.len());
    let mut prev = 0u8;
    for &c in b {
        if c == b'_' {
            if !prev.is_ascii_digit() {
                return None;
            }
        } else {
            if prev == b'_' && !c.is_ascii_digit() {
                return None;
            }
            out.push(c);
        }
        prev = c;
    }
    (prev != b'_').then_some(out)
}

/// Whether `b` is `[sign] (digits [. [digits]] | . digits) [(e|E) [sign] digits]`.
fn is_decimal_float_syntax(b: &[u8]) -> bool {
    let mut i = 0;
    let skip_digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let mut mantissa_digits = skip_digits(&mut i);
    if i < b.len() && b[i] == b'.' {
        i += 1;
        mantissa_digits += skip_digits(&mut i);
    }
    if mantissa_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if skip_digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `float(s)` for a str: surrounding whitespace, a sign, `inf`, `infinity`
/// and `nan` in any case, decimal digits (Unicode decimal digits count),
/// underscores only between digits (`1_000.5`, `1e1_0`); no hex.  Overflow
/// gives an infinity, as in CPython.  `None` means the caller raises
/// `ValueError(float_parse_error(s))`.
pub fn parse_float(s: &str) -> Option<f64> {
    let ascii = to_ascii_number_text(s);
    let text = strip_underscores(trim_c_space(&ascii))?;
    let (negative, body) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, &text[..]),
    };
    let special = if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        Some(f64::INFINITY)
    } else if body.eq_ignore_ascii_case(b"nan") {
        Some(f64::NAN)
    } else {
        None
    };
    if let Some(v) = special {
        return Some(if negative { -v } else { v });
    }
    if !is_decimal_float_syntax(&text) {
        return None;
    }
    std::str::from_utf8(&text).ok()?.parse().ok()
}

/// CPython's message for a failed `float(s)`:
/// `could not convert string to float: 'abc'` (the string's repr, in full).
pub fn float_parse_error(s: &str) -> String {
    format!("could not convert string to float: {}", str_repr(s))
}

// ---------------------------------------------------------------------------
// int(str, base)
// ---------------------------------------------------------------------------

/// Why [`scan_int`] failed.
enum IntScanError {
    /// Not a valid literal: "invalid literal for int() ...".
    Invalid,
    /// More than [`INT_MAX_STR_DIGITS`] digits in a non-power-of-two base.
    TooManyDigits(usize),
}

/// Parses `int(s, base)` text; `check_limit` applies CPython 3.11's limit on
/// the number of digits.
fn scan_int(s: &str, base: u32, check_limit: bool) -> Result<BigInt, IntScanError> {
    use IntScanError::Invalid;
    let t = to_ascii_number_text(s);
    let n = t.len();
    let at = |i: usize| t.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while i < n && is_c_space(t[i]) {
        i += 1;
    }
    let negative = at(i) == b'-';
    if matches!(at(i), b'+' | b'-') {
        i += 1;
    }
    let mut base = base;
    let mut zero_only = false;
    let prefix_base = match at(i + 1).to_ascii_lowercase() {
        b'x' => 16,
        b'o' => 8,
        b'b' => 2,
        _ => 0,
    };
    if at(i) == b'0' {
        if base == 0 {
            if prefix_base == 0 {
                base = 10;
                zero_only = true;
            } else {
                base = prefix_base;
            }
        }
        if !zero_only && prefix_base == base {
            i += 2;
            if at(i) == b'_' {
                i += 1;
            }
        }
    } else if base == 0 {
        base = 10;
    }
    if at(i) == b'_' {
        return Err(Invalid);
    }
    let mut digits = Vec::with_capacity(n - i);
    let mut prev_underscore = false;
    while i < n {
        let c = t[i];
        if c == b'_' {
            if prev_underscore {
                return Err(Invalid);
            }
            prev_underscore = true;
        } else if (c as char).to_digit(36).is_some_and(|d| d < base) {
            digits.push(c);
            prev_underscore = false;
        } else {
            break;
        }
        i += 1;
    }
    if prev_underscore || digits.is_empty() {
        return Err(Invalid);
    }
    if check_limit && !base.is_power_of_two() && digits.len() > INT_MAX_STR_DIGITS {
        return Err(IntScanError::TooManyDigits(digits.len()));
    }
    while i < n && is_c_space(t[i]) {
        i += 1;
    }
    if i != n {
        return Err(Invalid);
    }
    let magnitude = BigUint::parse_bytes(&digits, base).ok_or(Invalid)?;
    if zero_only && !magnitude.is_zero() {
        return Err(Invalid);
    }
    let sign = if negative { Sign::Minus } else { Sign::Plus };
    Ok(BigInt::from_biguint(sign, magnitude))
}

/// `int(s, base)` for a str, syntax only: surrounding whitespace, a sign,
/// underscores between digits (and one right after a prefix), Unicode decimal
/// digits; base 0 infers the base from a `0x`/`0o`/`0b` prefix (and then
/// rejects leading zeros such as `010`); bases 16, 8 and 2 accept their
/// prefix.  `base` must be 0 or in `2..=36`.  `None` means the caller raises
/// `ValueError(int_parse_error(s, base))`.  See [`parse_int_checked`] for the
/// full behaviour including the 4300-digit limit.
pub fn parse_int(s: &str, base: u32) -> Option<BigInt> {
    if base == 1 || base > 36 {
        return None;
    }
    scan_int(s, base, false).ok()
}

/// `int(s, base)` exactly as CPython 3.11, errors included (all
/// `ValueError`): "int() base must be >= 2 and <= 36, or 0", the
/// invalid-literal message of [`int_parse_error`], and "Exceeds the limit
/// (4300 digits) for integer string conversion: value has N digits; use
/// sys.set_int_max_str_digits() to increase the limit" for long decimal (or
/// any non-power-of-two base) input.
pub fn parse_int_checked(s: &str, base: u32) -> Result<BigInt, NumError> {
    if base == 1 || base > 36 {
        return value_err("int() base must be >= 2 and <= 36, or 0");
    }
    scan_int(s, base, true).map_err(|e| match e {
        IntScanError::Invalid => NumError::Value(int_parse_error(s, base)),
        IntScanError::TooManyDigits(n) => NumError::Value(format!(
            "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion: \
             value has {n} digits; use sys.set_int_max_str_digits() to increase the limit"
        )),
    })
}

/// CPython's message for a failed `int(s, base)`:
/// `invalid literal for int() with base 10: 'twelve'` (the repr is cut to
/// 200 characters, as CPython's `%.200R` does).
pub fn int_parse_error(s: &str, base: u32) -> String {
    let r = str_repr(s);
    let shown: String = r.chars().take(200).collect();
    format!("invalid literal for int() with base {base}: {shown}")
}

// ---------------------------------------------------------------------------
// int <-> float
// ---------------------------------------------------------------------------

/// `float(a)` for an int, correctly rounded (half-even).  Error:
/// `OverflowError` "int too large to convert to float".
pub fn int_to_f64(a: &BigInt) -> Result<f64, NumError> {
    if let Some(v) = a.to_i64() {
        return Ok(v as f64);
    }
    let overflow = || NumError::Overflow("int too large to convert to float".into());
    let mag = a.magnitude();
    let bits = mag.bits();
    if bits > 1024 {
        return Err(overflow());
    }
    let shift = bits - 64;
    let top = (mag >> shift).to_u64().expect("64 bits");
    let sticky = mag.trailing_zeros().is_some_and(|z| z < shift);
    let v = compose_f64(top, sticky, shift as i64).ok_or_else(overflow)?;
    Ok(if a.is_negative() { -v } else { v })
}

/// `int(x)` for a float: truncates toward zero, exactly (`int(1e20) ==
/// 100000000000000000000`).  Errors: `OverflowError` "cannot convert float
/// infinity to integer", `ValueError` "cannot convert float NaN to integer".
pub fn f64_to_bigint(x: f64) -> Result<BigInt, NumError> {
    if x.is_nan() {
        return value_err("cannot convert float NaN to integer");
    }
    if x.is_infinite() {
        return Err(NumError::Overflow("cannot convert float infinity to integer".into()));
    }
    let t = x.trunc();
    if t.abs() < 9.0e18 {
        return Ok(BigInt::from(t as i64));
    }
    let (m, e) = decompose(t);
    let v = BigInt::from(m) << e as u64;
    Ok(if t < 0.0 { -v } else { v })
}

/// `a / b` for ints, correctly rounded like CPython's long true division
/// (`(10**400) / (10**399) == 10.0`).  Results too small for a float give a
/// (signed) zero.  Errors: `OverflowError` "integer division result too
/// large for a float"; `ZeroDivisionError` "division by zero" when `b == 0`
/// (callers usually check first).
pub fn int_true_div(a: &BigInt, b: &BigInt) -> Result<f64, NumError> {
    if b.is_zero() {
        return Err(NumError::ZeroDivision("division by zero".into()));
    }
    const EXACT: i64 = 1 << 53;
    if let (Some(x), Some(y)) = (a.to_i64(), b.to_i64()) {
        if (-EXACT..=EXACT).contains(&x) && (-EXACT..=EXACT).contains(&y) {
            return Ok(x as f64 / y as f64);
        }
    }
    let negative = a.is_negative() != b.is_negative();
    let signed = |v: f64| if negative { -v } else { v };
    if a.is_zero() {
        return Ok(signed(0.0));
    }
    let overflow = || NumError::Overflow("integer division result too large for a float".into());
    let (na, nb) = (a.magnitude(), b.magnitude());
    let diff = na.bits() as i64 - nb.bits() as i64;
    if diff > 1025 {
        return Err(overflow());
    }
    if diff < -1078 {
        return Ok(signed(0.0));
    }
    // Scale so that the integer quotient has 63 or 64 bits.
    let s = 63 - diff;
    let (q, r) = if s >= 0 { (na << s as u64).div_rem(nb) } else { na.div_rem(&(nb << (-s) as u64)) };
    let q = q.to_u64().expect("quotient fits in 64 bits");
    let v = compose_f64(q, !r.is_zero(), -s).ok_or_else(overflow)?;
    Ok(signed(v))
}

// ---------------------------------------------------------------------------
// Float arithmetic with Python semantics
// ---------------------------------------------------------------------------

/// `divmod(a, b)` for floats (`b != 0`, checked by the caller): the quotient
/// is `floor(a / b)` computed from the exact remainder and the remainder has
/// the sign of `b`, zeros included (`divmod(-0.0, 5.0) == (-0.0, 0.0)`).
pub fn float_divmod(a: f64, b: f64) -> (f64, f64) {
    let mut m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m += b;
            div -= 1.0;
        }
    } else {
        m = 0.0f64.copysign(b);
    }
    let floordiv = if div != 0.0 {
        let mut f = div.floor();
        if div - f > 0.5 {
            f += 1.0;
        }
        f
    } else {
        0.0f64.copysign(a / b)
    };
    (floordiv, m)
}

/// `a // b` for floats (`b != 0`): the first item of [`float_divmod`].
pub fn float_floordiv(a: f64, b: f64) -> f64 {
    float_divmod(a, b).0
}

/// `a % b` for floats (`b != 0`): the remainder has the sign of `b`
/// (`5.0 % -3.0 == -1.0`, `-0.0 % 5.0 == 0.0`, `-5.0 % inf == inf`).
pub fn float_mod(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m + b
        } else {
            m
        }
    } else {
        0.0f64.copysign(b)
    }
}

/// Whether `x` is an odd integer (any magnitude).
fn is_odd_integer(x: f64) -> bool {
    x.abs() % 2.0 == 1.0
}

/// `a ** b` for floats, as CPython's `float_pow`: IEEE special cases decided
/// explicitly, the rest by the platform `pow`.  Errors: `ZeroDivisionError`
/// "0.0 cannot be raised to a negative power"; `OverflowError` "(34,
/// 'Numerical result out of range')"; and, where CPython would return a
/// complex number (negative base, non-integral exponent), `ValueError`
/// "negative number cannot be raised to a fractional power".
pub fn float_pow(a: f64, b: f64) -> Result<f64, NumError> {
    if b == 0.0 {
        return Ok(1.0);
    }
    if a.is_nan() {
        return Ok(a);
    }
    if b.is_nan() {
        return Ok(if a == 1.0 { 1.0 } else { b });
    }
    if b.is_infinite() {
        let m = a.abs();
        return Ok(if m == 1.0 {
            1.0
        } else if (b > 0.0) == (m > 1.0) {
            f64::INFINITY
        } else {
            0.0
        });
    }
    if a.is_infinite() {
        let odd = is_odd_integer(b);
        return Ok(if b > 0.0 {
            if odd {
                a
            } else {
                a.abs()
            }
        } else if odd {
            0.0f64.copysign(a)
        } else {
            0.0
        });
    }
    if a == 0.0 {
        if b < 0.0 {
            return Err(NumError::ZeroDivision("0.0 cannot be raised to a negative power".into()));
        }
        return Ok(if is_odd_integer(b) { a } else { 0.0 });
    }
    let mut base = a;
    let mut negate = false;
    if a < 0.0 {
        if b != b.floor() {
            // CPython computes a complex result here; we only match its
            // overflow error.
            if (-a).powf(b).is_infinite() {
                return Err(NumError::Overflow("complex exponentiation".into()));
            }
            return value_err("negative number cannot be raised to a fractional power");
        }
        base = -a;
        negate = is_odd_integer(b);
    }
    if base == 1.0 {
        return Ok(if negate { -1.0 } else { 1.0 });
    }
    let r = base.powf(b);
    if r.is_infinite() {
        return Err(NumError::Overflow("(34, 'Numerical result out of range')".into()));
    }
    Ok(if negate { -r } else { r })
}

/// `x.is_integer()`: finite and without a fractional part.
pub fn float_is_integer(x: f64) -> bool {
    x.is_finite() && x == x.trunc()
}

/// `x.as_integer_ratio()`: the exact value as a reduced fraction with a
/// positive denominator.  Errors: `OverflowError` "cannot convert Infinity to
/// integer ratio", `ValueError` "cannot convert NaN to integer ratio".
pub fn float_as_integer_ratio(x: f64) -> Result<(BigInt, BigInt), NumError> {
    if x.is_nan() {
        return value_err("cannot convert NaN to integer ratio");
    }
    if x.is_infinite() {
        return Err(NumError::Overflow("cannot convert Infinity to integer ratio".into()));
    }
    if x == 0.0 {
        return Ok((BigInt::zero(), BigInt::one()));
    }
    let (mut m, mut e) = decompose(x);
    let tz = i64::from(m.trailing_zeros());
    m >>= tz;
    e += tz;
    let num = BigInt::from(m);
    let (num, den) = if e >= 0 { (num << e as u64, BigInt::one()) } else { (num, BigInt::one() << (-e) as u64) };
    Ok((if x < 0.0 { -num } else { num }, den))
}

// ---------------------------------------------------------------------------
// Hashes
// ---------------------------------------------------------------------------

/// The modulus of CPython's numeric hash: the Mersenne prime `2**61 - 1`.
pub const HASH_MODULUS: u64 = (1 << 61) - 1;

/// `hash(inf)`; `hash(-inf)` is its negation.
pub const HASH_INF: i64 = 314_159;

/// Applies the sign and CPython's "-1 is reserved" rule to `|value| mod P`.
fn finish_numeric_hash(reduced: u64, negative: bool) -> i64 {
    let h = if negative { -(reduced as i64) } else { reduced as i64 };
    if h == -1 {
        -2
    } else {
        h
    }
}

/// `hash(a)` for an int in `i64` (64-bit CPython 3.11): `|a| mod (2**61 - 1)`
/// with the sign of `a`, and -1 mapped to -2.
pub fn hash_i64(a: i64) -> i64 {
    let m = a.unsigned_abs();
    // Below the modulus (all but the largest ints) the remainder is the
    // number itself: no division for a dict or set keyed by ints.
    let reduced = if m < HASH_MODULUS { m } else { m % HASH_MODULUS };
    finish_numeric_hash(reduced, a < 0)
}

/// `hash(a)` for an int of any size (same rule as [`hash_i64`]).
pub fn hash_int(a: &BigInt) -> i64 {
    if let Some(v) = a.to_i64() {
        return hash_i64(v);
    }
    let r = (a.magnitude() % HASH_MODULUS).to_u64().expect("reduced below modulus");
    finish_numeric_hash(r, a.is_negative())
}

/// `hash(x)` for a float (64-bit CPython 3.11).  Equal numbers hash equal
/// across types: an integral float hashes like the int, and in general
/// `x = m * 2**e` hashes as `m * 2**e mod (2**61 - 1)` with the sign of `x`.
/// `inf` is 314159, `-inf` -314159.  A NaN hashes by identity in 3.11:
/// `id` is the object's identity (`id(x)`), rotated as CPython's
/// `_Py_HashPointer` does; it is ignored for other values.
pub fn hash_float(x: f64, id: usize) -> i64 {
    if x.is_nan() {
        return hash_pointer(id);
    }
    if x.is_infinite() {
        return if x > 0.0 { HASH_INF } else { -HASH_INF };
    }
    if x == 0.0 {
        return 0;
    }
    let (m, e) = decompose(x);
    // 2**61 == 1 (mod P), so 2**e == 2**(e mod 61).
    let scale = 1u128 << e.rem_euclid(61);
    let r = (u128::from(m % HASH_MODULUS) * scale % u128::from(HASH_MODULUS)) as u64;
    finish_numeric_hash(r, x < 0.0)
}

/// CPython's `_Py_HashPointer`: the address rotated right by 4 bits, with -1
/// mapped to -2.  This is the default `hash()` of objects (and of NaN).
pub fn hash_pointer(id: usize) -> i64 {
    let h = (id as u64).rotate_right(4) as i64;
    if h == -1 {
        -2
    } else {
        h
    }
}

/// `hash(t)` for a tuple given its items' hashes: CPython 3.11's
/// xxHash-based `tuplehash` (64-bit).
pub fn hash_tuple(item_hashes: &[i64]) -> i64 {
    let mut acc = TupleHash::new();
    for &h in item_hashes {
        acc.add(h);
    }
    acc.finish(item_hashes.len())
}

/// CPython's tuple hash (xxHash-based), fed one item hash at a time.
pub struct TupleHash(u64);

impl Default for TupleHash {
    fn default() -> TupleHash {
        TupleHash::new()
    }
}

impl TupleHash {
    const PRIME_1: u64 = 11_400_714_785_074_694_791;
    const PRIME_2: u64 = 14_029_467_366_897_019_727;
    const PRIME_5: u64 = 2_870_177_450_012_600_261;

    pub fn new() -> TupleHash {
        TupleHash(Self::PRIME_5)
    }

    pub fn add(&mut self, h: i64) {
        self.0 = self.0.wrapping_add((h as u64).wrapping_mul(Self::PRIME_2)).rotate_left(31).wrapping_mul(Self::PRIME_1);
    }

    /// The hash of the `len` items added.
    pub fn finish(self, len: usize) -> i64 {
        let acc = self.0.wrapping_add((len as u64) ^ (Self::PRIME_5 ^ 3_527_539));
        if acc == u64::MAX {
            1_546_275_796
        } else {
            acc as i64
        }
    }
}

// ---------------------------------------------------------------------------
// Unicode tables
// ---------------------------------------------------------------------------

/// Inclusive ranges of code points that `str.isprintable()` rejects in CPython 3.11
/// (Unicode 14.0 categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than U+0020).
/// Generated with python3.11 from `chr(c).isprintable()` over all code points.
#[rustfmt::skip]
static NON_PRINTABLE: [(u32, u32); 701] = [
    (0x0, 0x1F), (0x7F, 0xA0), (0xAD, 0xAD), (0x378, 0x379), (0x380, 0x383), (0x38B, 0x38B),
    (0x38D, 0x38D), (0x3A2, 0x3A2), (0x530, 0x530), (0x557, 0x558), (0x58B, 0x58C), (0x590, 0x590),
    (0x5C8, 0x5CF), (0x5EB, 0x5EE), (0x5F5, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70E, 0x70F),
    (0x74B, 0x74C), (0x7B2, 0x7BF), (0x7FB, 0x7FC), (0x82E, 0x82F), (0x83F, 0x83F), (0x85C, 0x85D),
    (0x85F, 0x85F), (0x86B, 0x86F), (0x88F, 0x897), (0x8E2, 0x8E2), (0x984, 0x984), (0x98D, 0x98E),
    (0x991, 0x992), (0x9A9, 0x9A9), (0x9B1, 0x9B1), (0x9B3, 0x9B5), (0x9BA, 0x9BB), (0x9C5, 0x9C6),
    (0x9C9, 0x9CA), (0x9CF, 0x9D6), (0x9D8, 0x9DB), (0x9DE, 0x9DE), (0x9E4, 0x9E5), (0x9FF, 0xA00),
    (0xA04, 0xA04), (0xA0B, 0xA0E), (0xA11, 0xA12), (0xA29, 0xA29), (0xA31, 0xA31), (0xA34, 0xA34),
    (0xA37, 0xA37), (0xA3A, 0xA3B), (0xA3D, 0xA3D), (0xA43, 0xA46), (0xA49, 0xA4A), (0xA4E, 0xA50),
    (0xA52, 0xA58), (0xA5D, 0xA5D), (0xA5F, 0xA65), (0xA77, 0xA80), (0xA84, 0xA84), (0xA8E, 0xA8E),
    (0xA92, 0xA92), (0xAA9, 0xAA9), (0xAB1, 0xAB1), (0xAB4, 0xAB4), (0xABA, 0xABB), (0xAC6, 0xAC6),
    (0xACA, 0xACA), (0xACE, 0xACF), (0xAD1, 0xADF), (0xAE4, 0xAE5), (0xAF2, 0xAF8), (0xB00, 0xB00),
    (0xB04, 0xB04), (0xB0D, 0xB0E), (0xB11, 0xB12), (0xB29, 0xB29), (0xB31, 0xB31), (0xB34, 0xB34),
    (0xB3A, 0xB3B), (0xB45, 0xB46), (0xB49, 0xB4A), (0xB4E, 0xB54), (0xB58, 0xB5B), (0xB5E, 0xB5E),
    (0xB64, 0xB65), (0xB78, 0xB81), (0xB84, 0xB84), (0xB8B, 0xB8D), (0xB91, 0xB91), (0xB96, 0xB98),
    (0xB9B, 0xB9B), (0xB9D, 0xB9D), (0xBA0, 0xBA2), (0xBA5, 0xBA7), (0xBAB, 0xBAD), (0xBBA, 0xBBD),
    (0xBC3, 0xBC5), (0xBC9, 0xBC9), (0xBCE, 0xBCF), (0xBD1, 0xBD6), (0xBD8, 0xBE5), (0xBFB, 0xBFF),
    (0xC0D, 0xC0D), (0xC11, 0xC11), (0xC29, 0xC29), (0xC3A, 0xC3B), (0xC45, 0xC45), (0xC49, 0xC49),
    (0xC4E, 0xC54), (0xC57, 0xC57), (0xC5B, 0xC5C), (0xC5E, 0xC5F), (0xC64, 0xC65), (0xC70, 0xC76),
    (0xC8D, 0xC8D), (0xC91, 0xC91), (0xCA9, 0xCA9), (0xCB4, 0xCB4), (0xCBA, 0xCBB), (0xCC5, 0xCC5),
    (0xCC9, 0xCC9), (0xCCE, 0xCD4), (0xCD7, 0xCDC), (0xCDF, 0xCDF), (0xCE4, 0xCE5), (0xCF0, 0xCF0),
    (0xCF3, 0xCFF), (0xD0D, 0xD0D), (0xD11, 0xD11), (0xD45, 0xD45), (0xD49, 0xD49), (0xD50, 0xD53),
    (0xD64, 0xD65), (0xD80, 0xD80), (0xD84, 0xD84), (0xD97, 0xD99), (0xDB2, 0xDB2), (0xDBC, 0xDBC),
    (0xDBE, 0xDBF), (0xDC7, 0xDC9), (0xDCB, 0xDCE), (0xDD5, 0xDD5), (0xDD7, 0xDD7), (0xDE0, 0xDE5),
    (0xDF0, 0xDF1), (0xDF5, 0xE00), (0xE3B, 0xE3E), (0xE5C, 0xE80), (0xE83, 0xE83), (0xE85, 0xE85),
    (0xE8B, 0xE8B), (0xEA4, 0xEA4), (0xEA6, 0xEA6), (0xEBE, 0xEBF), (0xEC5, 0xEC5), (0xEC7, 0xEC7),
    (0xECE, 0xECF), (0xEDA, 0xEDB), (0xEE0, 0xEFF), (0xF48, 0xF48), (0xF6D, 0xF70), (0xF98, 0xF98),
    (0xFBD, 0xFBD), (0xFCD, 0xFCD), (0xFDB, 0xFFF), (0x10C6, 0x10C6), (0x10C8, 0x10CC),
    (0x10CE, 0x10CF), (0x1249, 0x1249), (0x124E, 0x124F), (0x1257, 0x1257), (0x1259, 0x1259),
    (0x125E, 0x125F), (0x1289, 0x1289), (0x128E, 0x128F), (0x12B1, 0x12B1), (0x12B6, 0x12B7),
    (0x12BF, 0x12BF), (0x12C1, 0x12C1), (0x12C6, 0x12C7), (0x12D7, 0x12D7), (0x1311, 0x1311),
    (0x1316, 0x1317), (0x135B, 0x135C), (0x137D, 0x137F), (0x139A, 0x139F), (0x13F6, 0x13F7),
    (0x13FE, 0x13FF), (0x1680, 0x1680), (0x169D, 0x169F), (0x16F9, 0x16FF), (0x1716, 0x171E),
    (0x1737, 0x173F), (0x1754, 0x175F), (0x176D, 0x176D), (0x1771, 0x1771), (0x1774, 0x177F),
    (0x17DE, 0x17DF), (0x17EA, 0x17EF), (0x17FA, 0x17FF), (0x180E, 0x180E), (0x181A, 0x181F),
    (0x1879, 0x187F), (0x18AB, 0x18AF), (0x18F6, 0x18FF), (0x191F, 0x191F), (0x192C, 0x192F),
    (0x193C, 0x193F), (0x1941, 0x1943), (0x196E, 0x196F), (0x1975, 0x197F), (0x19AC, 0x19AF),
    (0x19CA, 0x19CF), (0x19DB, 0x19DD), (0x1A1C, 0x1A1D), (0x1A5F, 0x1A5F), (0x1A7D, 0x1A7E),
    (0x1A8A, 0x1A8F), (0x1A9A, 0x1A9F), (0x1AAE, 0x1AAF), (0x1ACF, 0x1AFF), (0x1B4D, 0x1B4F),
    (0x1B7F, 0x1B7F), (0x1BF4, 0x1BFB), (0x1C38, 0x1C3A), (0x1C4A, 0x1C4C), (0x1C89, 0x1C8F),
    (0x1CBB, 0x1CBC), (0x1CC8, 0x1CCF), (0x1CFB, 0x1CFF), (0x1F16, 0x1F17), (0x1F1E, 0x1F1F),
    (0x1F46, 0x1F47), (0x1F4E, 0x1F4F), (0x1F58, 0x1F58), (0x1F5A, 0x1F5A), (0x1F5C, 0x1F5C),
    (0x1F5E, 0x1F5E), (0x1F7E, 0x1F7F), (0x1FB5, 0x1FB5), (0x1FC5, 0x1FC5), (0x1FD4, 0x1FD5),
    (0x1FDC, 0x1FDC), (0x1FF0, 0x1FF1), (0x1FF5, 0x1FF5), (0x1FFF, 0x200F), (0x2028, 0x202F),
    (0x205F, 0x206F), (0x2072, 0x2073), (0x208F, 0x208F), (0x209D, 0x209F), (0x20C1, 0x20CF),
    (0x20F1, 0x20FF), (0x218C, 0x218F), (0x2427, 0x243F), (0x244B, 0x245F), (0x2B74, 0x2B75),
    (0x2B96, 0x2B96), (0x2CF4, 0x2CF8), (0x2D26, 0x2D26), (0x2D28, 0x2D2C), (0x2D2E, 0x2D2F),
    (0x2D68, 0x2D6E), (0x2D71, 0x2D7E), (0x2D97, 0x2D9F), (0x2DA7, 0x2DA7), (0x2DAF, 0x2DAF),
    (0x2DB7, 0x2DB7), (0x2DBF, 0x2DBF), (0x2DC7, 0x2DC7), (0x2DCF, 0x2DCF), (0x2DD7, 0x2DD7),
    (0x2DDF, 0x2DDF), (0x2E5E, 0x2E7F), (0x2E9A, 0x2E9A), (0x2EF4, 0x2EFF), (0x2FD6, 0x2FEF),
    (0x2FFC, 0x3000), (0x3040, 0x3040), (0x3097, 0x3098), (0x3100, 0x3104), (0x3130, 0x3130),
    (0x318F, 0x318F), (0x31E4, 0x31EF), (0x321F, 0x321F), (0xA48D, 0xA48F), (0xA4C7, 0xA4CF),
    (0xA62C, 0xA63F), (0xA6F8, 0xA6FF), (0xA7CB, 0xA7CF), (0xA7D2, 0xA7D2), (0xA7D4, 0xA7D4),
    (0xA7DA, 0xA7F1), (0xA82D, 0xA82F), (0xA83A, 0xA83F), (0xA878, 0xA87F), (0xA8C6, 0xA8CD),
    (0xA8DA, 0xA8DF), (0xA954, 0xA95E), (0xA97D, 0xA97F), (0xA9CE, 0xA9CE), (0xA9DA, 0xA9DD),
    (0xA9FF, 0xA9FF), (0xAA37, 0xAA3F), (0xAA4E, 0xAA4F), (0xAA5A, 0xAA5B), (0xAAC3, 0xAADA),
    (0xAAF7, 0xAB00), (0xAB07, 0xAB08), (0xAB0F, 0xAB10), (0xAB17, 0xAB1F), (0xAB27, 0xAB27),
    (0xAB2F, 0xAB2F), (0xAB6C, 0xAB6F), (0xABEE, 0xABEF), (0xABFA, 0xABFF), (0xD7A4, 0xD7AF),
    (0xD7C7, 0xD7CA), (0xD7FC, 0xF8FF), (0xFA6E, 0xFA6F), (0xFADA, 0xFAFF), (0xFB07, 0xFB12),
    (0xFB18, 0xFB1C), (0xFB37, 0xFB37), (0xFB3D, 0xFB3D), (0xFB3F, 0xFB3F), (0xFB42, 0xFB42),
    (0xFB45, 0xFB45), (0xFBC3, 0xFBD2), (0xFD90, 0xFD91), (0xFDC8, 0xFDCE), (0xFDD0, 0xFDEF),
    (0xFE1A, 0xFE1F), (0xFE53, 0xFE53), (0xFE67, 0xFE67), (0xFE6C, 0xFE6F), (0xFE75, 0xFE75),
    (0xFEFD, 0xFF00), (0xFFBF, 0xFFC1), (0xFFC8, 0xFFC9), (0xFFD0, 0xFFD1), (0xFFD8, 0xFFD9),
    (0xFFDD, 0xFFDF), (0xFFE7, 0xFFE7), (0xFFEF, 0xFFFB), (0xFFFE, 0xFFFF), (0x1000C, 0x1000C),
    (0x10027, 0x10027), (0x1003B, 0x1003B), (0x1003E, 0x1003E), (0x1004E, 0x1004F),
    (0x1005E, 0x1007F), (0x100FB, 0x100FF), (0x10103, 0x10106), (0x10134, 0x10136),
    (0x1018F, 0x1018F), (0x1019D, 0x1019F), (0x101A1, 0x101CF), (0x101FE, 0x1027F),
    (0x1029D, 0x1029F), (0x102D1, 0x102DF), (0x102FC, 0x102FF), (0x10324, 0x1032C),
    (0x1034B, 0x1034F), (0x1037B, 0x1037F), (0x1039E, 0x1039E), (0x103C4, 0x103C7),
    (0x103D6, 0x103FF), (0x1049E, 0x1049F), (0x104AA, 0x104AF), (0x104D4, 0x104D7),
    (0x104FC, 0x104FF), (0x10528, 0x1052F), (0x10564, 0x1056E), (0x1057B, 0x1057B),
    (0x1058B, 0x1058B), (0x10593, 0x10593), (0x10596, 0x10596), (0x105A2, 0x105A2),
    (0x105B2, 0x105B2), (0x105BA, 0x105BA), (0x105BD, 0x105FF), (0x10737, 0x1073F),
    (0x10756, 0x1075F), (0x10768, 0x1077F), (0x10786, 0x10786), (0x107B1, 0x107B1),
    (0x107BB, 0x107FF), (0x10806, 0x10807), (0x10809, 0x10809), (0x10836, 0x10836),
    (0x10839, 0x1083B), (0x1083D, 0x1083E), (0x10856, 0x10856), (0x1089F, 0x108A6),
    (0x108B0, 0x108DF), (0x108F3, 0x108F3), (0x108F6, 0x108FA), (0x1091C, 0x1091E),
    (0x1093A, 0x1093E), (0x10940, 0x1097F), (0x109B8, 0x109BB), (0x109D0, 0x109D1),
    (0x10A04, 0x10A04), (0x10A07, 0x10A0B), (0x10A14, 0x10A14), (0x10A18, 0x10A18),
    (0x10A36, 0x10A37), (0x10A3B, 0x10A3E), (0x10A49, 0x10A4F), (0x10A59, 0x10A5F),
    (0x10AA0, 0x10ABF), (0x10AE7, 0x10AEA), (0x10AF7, 0x10AFF), (0x10B36, 0x10B38),
    (0x10B56, 0x10B57), (0x10B73, 0x10B77), (0x10B92, 0x10B98), (0x10B9D, 0x10BA8),
    (0x10BB0, 0x10BFF), (0x10C49, 0x10C7F), (0x10CB3, 0x10CBF), (0x10CF3, 0x10CF9),
    (0x10D28, 0x10D2F), (0x10D3A, 0x10E5F), (0x10E7F, 0x10E7F), (0x10EAA, 0x10EAA),
    (0x10EAE, 0x10EAF), (0x10EB2, 0x10EFF), (0x10F28, 0x10F2F), (0x10F5A, 0x10F6F),
    (0x10F8A, 0x10FAF), (0x10FCC, 0x10FDF), (0x10FF7, 0x10FFF), (0x1104E, 0x11051),
    (0x11076, 0x1107E), (0x110BD, 0x110BD), (0x110C3, 0x110CF), (0x110E9, 0x110EF),
    (0x110FA, 0x110FF), (0x11135, 0x11135), (0x11148, 0x1114F), (0x11177, 0x1117F),
    (0x111E0, 0x111E0), (0x111F5, 0x111FF), (0x11212, 0x11212), (0x1123F, 0x1127F),
    (0x11287, 0x11287), (0x11289, 0x11289), (0x1128E, 0x1128E), (0x1129E, 0x1129E),
    (0x112AA, 0x112AF), (0x112EB, 0x112EF), (0x112FA, 0x112FF), (0x11304, 0x11304),
    (0x1130D, 0x1130E), (0x11311, 0x11312), (0x11329, 0x11329), (0x11331, 0x11331),
    (0x11334, 0x11334), (0x1133A, 0x1133A), (0x11345, 0x11346), (0x11349, 0x1134A),
    (0x1134E, 0x1134F), (0x11351, 0x11356), (0x11358, 0x1135C), (0x11364, 0x11365),
    (0x1136D, 0x1136F), (0x11375, 0x113FF), (0x1145C, 0x1145C), (0x11462, 0x1147F),
    (0x114C8, 0x114CF), (0x114DA, 0x1157F), (0x115B6, 0x115B7), (0x115DE, 0x115FF),
    (0x11645, 0x1164F), (0x1165A, 0x1165F), (0x1166D, 0x1167F), (0x116BA, 0x116BF),
    (0x116CA, 0x116FF), (0x1171B, 0x1171C), (0x1172C, 0x1172F), (0x11747, 0x117FF),
    (0x1183C, 0x1189F), (0x118F3, 0x118FE), (0x11907, 0x11908), (0x1190A, 0x1190B),
    (0x11914, 0x11914), (0x11917, 0x11917), (0x11936, 0x11936), (0x11939, 0x1193A),
    (0x11947, 0x1194F), (0x1195A, 0x1199F), (0x119A8, 0x119A9), (0x119D8, 0x119D9),
    (0x119E5, 0x119FF), (0x11A48, 0x11A4F), (0x11AA3, 0x11AAF), (0x11AF9, 0x11BFF),
    (0x11C09, 0x11C09), (0x11C37, 0x11C37), (0x11C46, 0x11C4F), (0x11C6D, 0x11C6F),
    (0x11C90, 0x11C91), (0x11CA8, 0x11CA8), (0x11CB7, 0x11CFF), (0x11D07, 0x11D07),
    (0x11D0A, 0x11D0A), (0x11D37, 0x11D39), (0x11D3B, 0x11D3B), (0x11D3E, 0x11D3E),
    (0x11D48, 0x11D4F), (0x11D5A, 0x11D5F), (0x11D66, 0x11D66), (0x11D69, 0x11D69),
    (0x11D8F, 0x11D8F), (0x11D92, 0x11D92), (0x11D99, 0x11D9F), (0x11DAA, 0x11EDF),
    (0x11EF9, 0x11FAF), (0x11FB1, 0x11FBF), (0x11FF2, 0x11FFE), (0x1239A, 0x123FF),
    (0x1246F, 0x1246F), (0x12475, 0x1247F), (0x12544, 0x12F8F), (0x12FF3, 0x12FFF),
    (0x1342F, 0x143FF), (0x14647, 0x167FF), (0x16A39, 0x16A3F), (0x16A5F, 0x16A5F),
    (0x16A6A, 0x16A6D), (0x16ABF, 0x16ABF), (0x16ACA, 0x16ACF), (0x16AEE, 0x16AEF),
    (0x16AF6, 0x16AFF), (0x16B46, 0x16B4F), (0x16B5A, 0x16B5A), (0x16B62, 0x16B62),
    (0x16B78, 0x16B7C), (0x16B90, 0x16E3F), (0x16E9B, 0x16EFF), (0x16F4B, 0x16F4E),
    (0x16F88, 0x16F8E), (0x16FA0, 0x16FDF), (0x16FE5, 0x16FEF), (0x16FF2, 0x16FFF),
    (0x187F8, 0x187FF), (0x18CD6, 0x18CFF), (0x18D09, 0x1AFEF), (0x1AFF4, 0x1AFF4),
    (0x1AFFC, 0x1AFFC), (0x1AFFF, 0x1AFFF), (0x1B123, 0x1B14F), (0x1B153, 0x1B163),
    (0x1B168, 0x1B16F), (0x1B2FC, 0x1BBFF), (0x1BC6B, 0x1BC6F), (0x1BC7D, 0x1BC7F),
    (0x1BC89, 0x1BC8F), (0x1BC9A, 0x1BC9B), (0x1BCA0, 0x1CEFF), (0x1CF2E, 0x1CF2F),
    (0x1CF47, 0x1CF4F), (0x1CFC4, 0x1CFFF), (0x1D0F6, 0x1D0FF), (0x1D127, 0x1D128),
    (0x1D173, 0x1D17A), (0x1D1EB, 0x1D1FF), (0x1D246, 0x1D2DF), (0x1D2F4, 0x1D2FF),
    (0x1D357, 0x1D35F), (0x1D379, 0x1D3FF), (0x1D455, 0x1D455), (0x1D49D, 0x1D49D),
    (0x1D4A0, 0x1D4A1), (0x1D4A3, 0x1D4A4), (0x1D4A7, 0x1D4A8), (0x1D4AD, 0x1D4AD),
    (0x1D4BA, 0x1D4BA), (0x1D4BC, 0x1D4BC), (0x1D4C4, 0x1D4C4), (0x1D506, 0x1D506),
    (0x1D50B, 0x1D50C), (0x1D515, 0x1D515), (0x1D51D, 0x1D51D), (0x1D53A, 0x1D53A),
    (0x1D53F, 0x1D53F), (0x1D545, 0x1D545), (0x1D547, 0x1D549), (0x1D551, 0x1D551),
    (0x1D6A6, 0x1D6A7), (0x1D7CC, 0x1D7CD), (0x1DA8C, 0x1DA9A), (0x1DAA0, 0x1DAA0),
    (0x1DAB0, 0x1DEFF), (0x1DF1F, 0x1DFFF), (0x1E007, 0x1E007), (0x1E019, 0x1E01A),
    (0x1E022, 0x1E022), (0x1E025, 0x1E025), (0x1E02B, 0x1E0FF), (0x1E12D, 0x1E12F),
    (0x1E13E, 0x1E13F), (0x1E14A, 0x1E14D), (0x1E150, 0x1E28F), (0x1E2AF, 0x1E2BF),
    (0x1E2FA, 0x1E2FE), (0x1E300, 0x1E7DF), (0x1E7E7, 0x1E7E7), (0x1E7EC, 0x1E7EC),
    (0x1E7EF, 0x1E7EF), (0x1E7FF, 0x1E7FF), (0x1E8C5, 0x1E8C6), (0x1E8D7, 0x1E8FF),
    (0x1E94C, 0x1E94F), (0x1E95A, 0x1E95D), (0x1E960, 0x1EC70), (0x1ECB5, 0x1ED00),
    (0x1ED3E, 0x1EDFF), (0x1EE04, 0x1EE04), (0x1EE20, 0x1EE20), (0x1EE23, 0x1EE23),
    (0x1EE25, 0x1EE26), (0x1EE28, 0x1EE28), (0x1EE33, 0x1EE33), (0x1EE38, 0x1EE38),
    (0x1EE3A, 0x1EE3A), (0x1EE3C, 0x1EE41), (0x1EE43, 0x1EE46), (0x1EE48, 0x1EE48),
    (0x1EE4A, 0x1EE4A), (0x1EE4C, 0x1EE4C), (0x1EE50, 0x1EE50), (0x1EE53, 0x1EE53),
    (0x1EE55, 0x1EE56), (0x1EE58, 0x1EE58), (0x1EE5A, 0x1EE5A), (0x1EE5C, 0x1EE5C),
    (0x1EE5E, 0x1EE5E), (0x1EE60, 0x1EE60), (0x1EE63, 0x1EE63), (0x1EE65, 0x1EE66),
    (0x1EE6B, 0x1EE6B), (0x1EE73, 0x1EE73), (0x1EE78, 0x1EE78), (0x1EE7D, 0x1EE7D),
    (0x1EE7F, 0x1EE7F), (0x1EE8A, 0x1EE8A), (0x1EE9C, 0x1EEA0), (0x1EEA4, 0x1EEA4),
    (0x1EEAA, 0x1EEAA), (0x1EEBC, 0x1EEEF), (0x1EEF2, 0x1EFFF), (0x1F02C, 0x1F02F),
    (0x1F094, 0x1F09F), (0x1F0AF, 0x1F0B0), (0x1F0C0, 0x1F0C0), (0x1F0D0, 0x1F0D0),
    (0x1F0F6, 0x1F0FF), (0x1F1AE, 0x1F1E5), (0x1F203, 0x1F20F), (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F24F), (0x1F252, 0x1F25F), (0x1F266, 0x1F2FF), (0x1F6D8, 0x1F6DC),
    (0x1F6ED, 0x1F6EF), (0x1F6FD, 0x1F6FF), (0x1F774, 0x1F77F), (0x1F7D9, 0x1F7DF),
    (0x1F7EC, 0x1F7EF), (0x1F7F1, 0x1F7FF), (0x1F80C, 0x1F80F), (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F), (0x1F888, 0x1F88F), (0x1F8AE, 0x1F8AF), (0x1F8B2, 0x1F8FF),
    (0x1FA54, 0x1FA5F), (0x1FA6E, 0x1FA6F), (0x1FA75, 0x1FA77), (0x1FA7D, 0x1FA7F),
    (0x1FA87, 0x1FA8F), (0x1FAAD, 0x1FAAF), (0x1FABB, 0x1FABF), (0x1FAC6, 0x1FACF),
    (0x1FADA, 0x1FADF), (0x1FAE8, 0x1FAEF), (0x1FAF7, 0x1FAFF), (0x1FB93, 0x1FB93),
    (0x1FBCB, 0x1FBEF), (0x1FBFA, 0x1FFFF), (0x2A6E0, 0x2A6FF), (0x2B739, 0x2B73F),
    (0x2B81E, 0x2B81F), (0x2CEA2, 0x2CEAF), (0x2EBE1, 0x2F7FF), (0x2FA1E, 0x2FFFF),
    (0x3134B, 0xE00FF), (0xE01F0, 0x10FFFF),
];

/// First code point (the digit zero) of every run of ten Unicode decimal digits
/// (category Nd) in Unicode 14.0, as CPython 3.11 accepts them in `int()` and `float()`.
#[rustfmt::skip]
static DECIMAL_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

#[cfg(test)]
// The tables are generated data: literals such as 3.141592653589793 are inputs.
#[allow(clippy::approx_constant, clippy::type_complexity)]
mod tests {
    //! Expected values were produced by CPython 3.11.7; big ints are written
    //! as sums of `c*B^E` terms.
    use super::*;

    /// Parses `"12"`, `"2^1024"`, `"-35*10^47-2^153+97"`, ...
    fn big(s: &str) -> BigInt {
        let mut total = BigInt::zero();
        let mut term = String::new();
        let mut sign = 1;
        let flush = |term: &str, sign: i32, total: &mut BigInt| {
            if term.is_empty() {
                return;
            }
            let (coef, power) = match term.split_once('*') {
                Some((c, p)) => (c.parse::<BigInt>().unwrap(), p),
                None if term.contains('^') => (BigInt::one(), term),
                None => (BigInt::one(), ""),
            };
            let value = if power.is_empty() {
                term.parse::<BigInt>().unwrap()
            } else {
                let (b, e) = power.split_once('^').unwrap();
                coef * num_traits::pow(b.parse::<BigInt>().unwrap(), e.parse().unwrap())
            };
            *total += if sign < 0 { -value } else { value };
        };
        for c in s.chars() {
            if (c == '+' || c == '-') && !term.is_empty() {
                flush(&term, sign, &mut total);
                term.clear();
                sign = if c == '-' { -1 } else { 1 };
            } else if c == '-' {
                sign = -sign;
            } else if c != '+' {
                term.push(c);
            }
        }
        flush(&term, sign, &mut total);
        total
    }

    fn same(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
    }

    fn text<T>(r: Result<T, NumError>) -> Result<T, String> {
        r.map_err(|e| e.to_string())
    }

    fn check_f(what: &str, got: Result<f64, NumError>, want: Result<f64, &str>) {
        match (got, want) {
            (Ok(g), Ok(w)) if same(g, w) => {}
            (Err(g), Err(w)) if g.to_string() == w => {}
            (g, w) => panic!("{what}: got {g:?}, want {w:?}"),
        }
    }

    fn check_i(what: &str, got: Result<BigInt, NumError>, want: Result<&str, &str>) {
        match (got, want) {
            (Ok(g), Ok(w)) if g == big(w) => {}
            (Err(g), Err(w)) if g.to_string() == w => {}
            (g, w) => panic!("{what}: got {g:?}, want {w:?}"),
        }
    }

    #[test]
    fn big_helper() {
        assert_eq!(big("-35*10^2-2^3+1"), BigInt::from(-3507));
        assert_eq!(big("4*2^3-1"), BigInt::from(31));
    }

    #[test]
    fn repr_table() {
        for &(x, want) in REPR {
            assert_eq!(float_repr(x), want, "repr({x:e})");
            assert_eq!(text(format_float(x, "")).unwrap(), want);
        }
    }

    #[test]
    fn float_format_table() {
        for &(x, spec, want) in FLOAT_FORMAT {
            let got = text(format_float(x, spec));
            assert_eq!(got.as_deref(), want.map_err(String::from).as_deref(), "format({x:e}, {spec:?})");
        }
    }

    #[test]
    fn int_format_table() {
        for &(x, spec, want) in INT_FORMAT {
            let v = big(x);
            let got = text(format_int(&v, spec));
            assert_eq!(got.as_deref(), want.map_err(String::from).as_deref(), "format({x}, {spec:?})");
            if let Some(small) = v.to_i64() {
                assert_eq!(text(format_int_i64(small, spec)), got);
            }
        }
    }

    #[test]
    fn str_format_table() {
        for &(s, spec, want) in STR_FORMAT {
            let got = text(format_str(s, spec));
            assert_eq!(got.as_deref(), want.map_err(String::from).as_deref(), "format({s:?}, {spec:?})");
        }
    }

    #[test]
    fn round_table() {
        for &(x, n, want) in ROUND {
            check_f(&format!("round({x:e}, {n})"), round_float(x, n), want);
        }
    }

    #[test]
    fn to_int_table() {
        for &(x, rounded, truncated) in TO_INT {
            check_i(&format!("round({x:e})"), round_half_even_to_bigint(x), rounded);
            check_i(&format!("int({x:e})"), f64_to_bigint(x), truncated);
        }
    }

    #[test]
    fn parse_float_table() {
        for &(s, want) in PARSE_FLOAT {
            let got = parse_float(s).ok_or_else(|| NumError::Value(float_parse_error(s)));
            check_f(&format!("float({s:?})"), got, want);
        }
    }

    #[test]
    fn parse_int_table() {
        for &(s, base, want) in PARSE_INT {
            check_i(&format!("int({s:?}, {base})"), parse_int_checked(s, base), want);
            // Without the digit limit, parse_int agrees on every short input.
            assert_eq!(parse_int(s, base), want.ok().map(big), "int({s:?}, {base})");
        }
    }

    #[test]
    fn str_repr_table() {
        for &(s, want) in STR_REPR {
            assert_eq!(str_repr(s), want, "repr({s:?})");
        }
    }

    #[test]
    fn bytes_repr_table() {
        for &(b, want) in BYTES_REPR {
            assert_eq!(bytes_repr(b), want, "repr({b:?})");
        }
    }

    #[test]
    fn true_div_table() {
        for &(a, b, want) in TRUE_DIV {
            check_f(&format!("{a} / {b}"), int_true_div(&big(a), &big(b)), want);
        }
    }

    #[test]
    fn int_to_float_table() {
        for &(a, want) in INT_TO_FLOAT {
            check_f(&format!("float({a})"), int_to_f64(&big(a)), want);
        }
    }

    #[test]
    fn divmod_table() {
        for &(a, b, q, m, rem, fdiv) in DIVMOD {
            let (gq, gm) = float_divmod(a, b);
            assert!(same(gq, q) && same(gm, m), "divmod({a:e}, {b:e}) = ({gq}, {gm})");
            assert!(same(float_mod(a, b), rem), "{a:e} % {b:e}");
            assert!(same(float_floordiv(a, b), fdiv), "{a:e} // {b:e}");
        }
    }

    #[test]
    fn pow_table() {
        for &(a, b, want) in POW {
            check_f(&format!("{a:e} ** {b:e}"), float_pow(a, b), want);
        }
    }

    #[test]
    fn ratio_table() {
        for &(x, want, is_int) in RATIO {
            let got = text(float_as_integer_ratio(x));
            let want = want.map(|(n, d)| (big(n), big(d))).map_err(String::from);
            assert_eq!(got, want, "({x:e}).as_integer_ratio()");
            assert_eq!(float_is_integer(x), is_int, "({x:e}).is_integer()");
        }
    }

    #[test]
    fn hash_tables() {
        for &(x, want) in HASH_INT {
            let v = big(x);
            assert_eq!(hash_int(&v), want, "hash({x})");
            if let Some(small) = v.to_i64() {
                assert_eq!(hash_i64(small), want, "hash({x})");
            }
        }
        for &(x, want) in HASH_FLOAT {
            assert_eq!(hash_float(x, 0), want, "hash({x:e})");
        }
        for &(items, want) in HASH_TUPLE {
            assert_eq!(hash_tuple(items), want, "hash of tuple {items:?}");
        }
    }

    #[test]
    fn nan_hash_uses_identity() {
        // CPython 3.11: hash(nan) == _Py_HashPointer(nan), the address
        // rotated right by four bits.
        assert_eq!(hash_float(f64::NAN, 139_809_588_743_312), 8_738_099_296_457);
        assert_eq!(hash_pointer(0x1234_5670), 0x0123_4567);
        assert_eq!(hash_pointer(0xf), -1_152_921_504_606_846_976);
        assert_eq!(hash_pointer(usize::MAX), -2);
    }

    #[test]
    fn parse_format_spec_fields() {
        let fs = parse_format_spec("*^+z#012,.3f", "float", None).unwrap();
        assert_eq!(
            fs,
            FormatSpec {
                fill: '*',
                align: Some('^'),
                sign: Some('+'),
                no_neg_0: true,
                alternate: true,
                zero: false,
                width: Some(12),
                grouping: Some(','),
                precision: Some(3),
                ty: Some('f'),
            }
        );
        let fs = parse_format_spec("010_", "int", Some('d')).unwrap();
        assert_eq!((fs.fill, fs.zero, fs.width, fs.grouping), ('0', true, Some(10), Some('_')));
        assert_eq!((fs.align, fs.ty), (None, Some('d')));
        assert_eq!(parse_format_spec("", "float", None).unwrap(), FormatSpec::default());
        let fs = parse_format_spec("x<05", "str", Some('s')).unwrap();
        assert_eq!((fs.fill, fs.zero, fs.width), ('x', false, Some(5)));
        assert_eq!(
            parse_format_spec("abc", "float", None).unwrap_err().message(),
            "Invalid format specifier 'abc' for object of type 'float'"
        );
        assert_eq!(parse_format_spec(",", "str", Some('s')).unwrap_err().message(), "Cannot specify ',' with 's'.");
        assert_eq!(parse_format_spec("_x", "int", Some('d')).unwrap().grouping, Some('_'));
        assert_eq!(parse_format_spec("5", "float", None).unwrap().width, Some(5));
    }

    #[test]
    fn long_literals() {
        let ones = "1".repeat(4300);
        assert_eq!(parse_int_checked(&ones, 10).unwrap(), ones.parse::<BigInt>().unwrap());
        let limit = |n: usize| {
            format!(
                "ValueError: Exceeds the limit (4300 digits) for integer string conversion: \
                 value has {n} digits; use sys.set_int_max_str_digits() to increase the limit"
            )
        };
        // (text, base, error, whether parse_int (no limit) accepts it)
        for (s, base, want, syntax_ok) in [
            (format!(" {}", "1".repeat(4301)), 10, limit(4301), true),
            (format!("{}x", "1".repeat(5000)), 10, limit(5000), false),
            (format!("-{}", "1".repeat(4301)), 36, limit(4301), true),
            (format!("{}7", "0".repeat(4300)), 0, limit(4301), false),
            (format!("{}_", "1".repeat(5000)), 10, String::new(), false),
            ("1_".repeat(3000), 10, String::new(), false),
        ] {
            let got = parse_int_checked(&s, base).unwrap_err().to_string();
            if want.is_empty() {
                let shown: String = str_repr(&s).chars().take(200).collect();
                assert_eq!(got, format!("ValueError: invalid literal for int() with base 10: {shown}"));
            } else {
                assert_eq!(got, want);
            }
            assert_eq!(parse_int(&s, base).is_some(), syntax_ok);
        }
        // Power-of-two bases have no limit.
        let hex = format!("0x{}", "f".repeat(5000));
        assert_eq!(parse_int_checked(&hex, 0).unwrap().bits(), 20000);
        assert_eq!(parse_int_checked(&"1".repeat(5000), 16).unwrap().bits(), 19997);
        // The invalid-literal message shows at most 200 characters of the repr.
        let msg = int_parse_error(&"x".repeat(300), 10);
        assert_eq!(msg, format!("invalid literal for int() with base 10: '{}", "x".repeat(199)));
        // float() shows the whole repr.
        let msg = float_parse_error(&"x".repeat(300));
        assert!(msg.ends_with(&format!("{}'", "x".repeat(300))));
        // Long float literals are correctly rounded.
        assert_eq!(parse_float(&"1".repeat(300)), Some(1.1111111111111112e+299));
        assert_eq!(parse_float(&"1".repeat(400)), Some(f64::INFINITY));
        let tiny = format!("0.{}1", "0".repeat(400));
        assert_eq!(parse_float(&tiny), Some(0.0));
        assert_eq!(parse_float(&format!("{}e-390", "1".repeat(400))), Some(1111111111.1111112));
        // str(int) limit
        let big10 = num_traits::pow(BigInt::from(10), 4299);
        assert_eq!(int_to_str(&big10).unwrap().len(), 4300);
        assert_eq!(int_to_str(&-big10.clone()).unwrap().len(), 4301);
        assert!(int_to_str(&(big10 * 10)).is_err());
    }

    #[test]
    fn huge_precision() {
        let s = format_float(5e-324, ".1100f").unwrap();
        assert_eq!(s.len(), 1102);
        assert!(s.starts_with(&format!("0.{}49406564584124654417656879286822137236505980", "0".repeat(323))));
        assert!(s.ends_with("0000"));
    }

    #[test]
    fn errors_and_messages() {
        assert_eq!(NumError::Value("x".into()).exception_name(), "ValueError");
        assert_eq!(NumError::Overflow("y".into()).to_string(), "OverflowError: y");
        assert_eq!(NumError::ZeroDivision("z".into()).message(), "z");
        assert_eq!(float_parse_error("abc"), "could not convert string to float: 'abc'");
        assert_eq!(int_parse_error("twelve", 10), "invalid literal for int() with base 10: 'twelve'");
        assert_eq!(text(parse_int_checked("12", 37)), Err("ValueError: int() base must be >= 2 and <= 36, or 0".to_string()));
        assert_eq!(parse_int("12", 1), None);
        assert_eq!(text(int_true_div(&BigInt::one(), &BigInt::zero())), Err("ZeroDivisionError: division by zero".to_string()));
        assert_eq!(text(format_int(&BigInt::from(0xd800), "c")), Err("ValueError: surrogates not allowed".to_string()));
        assert_eq!(
            text(format_int_typed(&BigInt::one(), "q", "bool")),
            Err("ValueError: Unknown format code 'q' for object of type 'bool'".to_string())
        );
        assert_eq!(
            text(format_float_typed(1.0, "q", "MyFloat")),
            Err("ValueError: Unknown format code 'q' for object of type 'MyFloat'".to_string())
        );
        assert_eq!(text(format_str_typed("a", "d", "S")), Err("ValueError: Unknown format code 'd' for object of type 'S'".to_string()));
    }

    #[test]
    fn python_whitespace() {
        // chr(c).isspace() over all code points in CPython 3.11.
        let expected: Vec<u32> = vec![
            0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
            0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
        ];
        let got: Vec<u32> = (0..=0x10ffffu32).filter_map(char::from_u32).filter(|&c| is_python_space(c)).map(|c| c as u32).collect();
        assert_eq!(got, expected);
        // Every Unicode decimal digit run holds ten digits.
        for &z in DECIMAL_ZEROS.iter() {
            for d in 0..10 {
                assert_eq!(decimal_value(char::from_u32(z + d).unwrap()), Some(d));
            }
        }
        assert_eq!(decimal_value('a'), None);
        assert_eq!(decimal_value('\u{b2}'), None);
    }

    #[rustfmt::skip]
    const REPR: &[(f64, &str)] = &[
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (-1.0, "-1.0"),
        (0.1, "0.1"),
        (0.2, "0.2"),
        (0.30000000000000004, "0.30000000000000004"),
        (0.3333333333333333, "0.3333333333333333"),
        (0.6666666666666666, "0.6666666666666666"),
        (1e+16, "1e+16"),
        (1000000000000000.0, "1000000000000000.0"),
        (9999999999999998.0, "9999999999999998.0"),
        (1e+17, "1e+17"),
        (1.2345678901234568e+17, "1.2345678901234568e+17"),
        (0.0001, "0.0001"),
        (1e-05, "1e-05"),
        (1.234e-05, "1.234e-05"),
        (1.5e-05, "1.5e-05"),
        (1e+22, "1e+22"),
        (1e+23, "1e+23"),
        (1e+100, "1e+100"),
        (1.7976931348623157e+308, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
        (2.2250738585072014e-308, "2.2250738585072014e-308"),
        (2.225073858507201e-308, "2.225073858507201e-308"),
        (f64::INFINITY, "inf"),
        (-f64::INFINITY, "-inf"),
        (f64::NAN, "nan"),
        (100.0, "100.0"),
        (1e-07, "1e-07"),
        (12345.678, "12345.678"),
        (-1.2345678901234567e+300, "-1.2345678901234567e+300"),
        (0.5094070434570312, "0.5094070434570312"),
        (861404126306374.2, "861404126306374.2"),
        (1.1, "1.1"),
        (2.675, "2.675"),
        (4.35, "4.35"),
        (3.141592653589793, "3.141592653589793"),
        (2.718281828459045, "2.718281828459045"),
        (1234567890123456.8, "1234567890123456.8"),
        (0.000123, "0.000123"),
        (1.23e-18, "1.23e-18"),
        (9007199254740992.0, "9007199254740992.0"),
        (9.223372036854776e+18, "9.223372036854776e+18"),
        (1.5e-323, "1.5e-323"),
        (4.080873629207599e+16, "4.080873629207599e+16"),
        (-19639.479175, "-19639.479175"),
        (-9640000.0, "-9640000.0"),
        (6779991485.496253, "6779991485.496253"),
        (4.2838578727739187e+133, "4.2838578727739187e+133"),
        (2994460961.436525, "2994460961.436525"),
        (-44598418683.65542, "-44598418683.65542"),
        (6.49922049270171e-06, "6.49922049270171e-06"),
        (4.708990998508996, "4.708990998508996"),
        (531.291, "531.291"),
        (-214.82, "-214.82"),
        (46586.5, "46586.5"),
        (57.142218394924285, "57.142218394924285"),
        (-2.4584707277313542e+22, "-2.4584707277313542e+22"),
        (-0.08733621908114483, "-0.08733621908114483"),
        (-837.3159574763849, "-837.3159574763849"),
        (51.881050621128644, "51.881050621128644"),
        (-21703.0, "-21703.0"),
        (2.5, "2.5"),
        (-8.657065403478308e+17, "-8.657065403478308e+17"),
        (-86582.878165, "-86582.878165"),
        (77.55398953440785, "77.55398953440785"),
        (2084471208.984392, "2084471208.984392"),
        (-978253.5383934616, "-978253.5383934616"),
        (1799616798.848877, "1799616798.848877"),
        (5.81e+25, "5.81e+25"),
        (0.8237368570710044, "0.8237368570710044"),
        (1e-249, "1e-249"),
        (25.284475736944646, "25.284475736944646"),
        (-4.308640425335931e-21, "-4.308640425335931e-21"),
        (3.85524481916201e-309, "3.85524481916201e-309"),
        (-2007204574.9084473, "-2007204574.9084473"),
        (2.1439521322200368e+46, "2.1439521322200368e+46"),
        (-59682037892.02688, "-59682037892.02688"),
        (3.9500010973450797e+17, "3.9500010973450797e+17"),
        (455.638, "455.638"),
        (-9344.491835, "-9344.491835"),
        (-170583.76822138065, "-170583.76822138065"),
        (28.771433236197286, "28.771433236197286"),
        (1.9317590569805032, "1.9317590569805032"),
        (-6.97e+18, "-6.97e+18"),
        (97614.782645, "97614.782645"),
        (2200000000000.0, "2200000000000.0"),
        (-0.019855499267578125, "-0.019855499267578125"),
        (-8.24982784503229e-219, "-8.24982784503229e-219"),
        (-1.3290541753578506e-308, "-1.3290541753578506e-308"),
        (32153.544065, "32153.544065"),
        (40759105.86733246, "40759105.86733246"),
        (24106539.305583198, "24106539.305583198"),
        (40400.0, "40400.0"),
        (-55527.872485, "-55527.872485"),
        (0.026091733920173055, "0.026091733920173055"),
        (0.3, "0.3"),
        (6.12, "6.12"),
        (229000000000000.0, "229000000000000.0"),
        (437414.35166191147, "437414.35166191147"),
        (-1e+111, "-1e+111"),
        (1e-263, "1e-263"),
        (94263.808075, "94263.808075"),
        (-1.39317570058787e-309, "-1.39317570058787e-309"),
        (4.217259197586953e+209, "4.217259197586953e+209"),
        (-403.754, "-403.754"),
        (41626897191.06717, "41626897191.06717"),
        (-615193.75, "-615193.75"),
        (-10858577089.90625, "-10858577089.90625"),
        (-6.954123671598304e+17, "-6.954123671598304e+17"),
        (-5.101481872237726e+109, "-5.101481872237726e+109"),
        (-69500000000.0, "-69500000000.0"),
        (1.5, "1.5"),
        (-24404946392.277588, "-24404946392.277588"),
        (33194.489385, "33194.489385"),
        (954145.125, "954145.125"),
        (1.0725464358633505e+18, "1.0725464358633505e+18"),
        (-1176470.4410045147, "-1176470.4410045147"),
        (96992.27232022399, "96992.27232022399"),
        (43.319169341382825, "43.319169341382825"),
        (648747.8060979305, "648747.8060979305"),
        (-6665.346254648556, "-6665.346254648556"),
        (-1721189.2386971712, "-1721189.2386971712"),
        (-282291.6012409115, "-282291.6012409115"),
        (-1358421.579404831, "-1358421.579404831"),
        (4012.5134657621384, "4012.5134657621384"),
        (-1e-317, "-1e-317"),
        (959502.9342483447, "959502.9342483447"),
        (-48129892.55993652, "-48129892.55993652"),
        (4.111458554404792e-26, "4.111458554404792e-26"),
        (-934494.625, "-934494.625"),
        (-3.384435773396045e-309, "-3.384435773396045e-309"),
        (-514719.625, "-514719.625"),
        (3.2211897582456864e+17, "3.2211897582456864e+17"),
        (7.887163281163988, "7.887163281163988"),
        (-844.223, "-844.223"),
        (1.30459402761193e-308, "1.30459402761193e-308"),
        (-53156.584035, "-53156.584035"),
        (-1e-249, "-1e-249"),
        (-65169.623155, "-65169.623155"),
        (-4.20394022823965e-309, "-4.20394022823965e-309"),
        (4.6209076399258714e+17, "4.6209076399258714e+17"),
        (-0.017675754153667896, "-0.017675754153667896"),
        (-2.8900000000000003e+25, "-2.8900000000000003e+25"),
        (80049.31090076896, "80049.31090076896"),
        (782118.375, "782118.375"),
        (-28132.875, "-28132.875"),
        (1e+130, "1e+130"),
    ];

    #[rustfmt::skip]
    const FLOAT_FORMAT: &[(f64, &str, Result<&str, &str>)] = &[
        (1.0, ".3", Ok("1.0")),
        (123456.0, ".3", Ok("1.23e+05")),
        (1e+20, "", Ok("1e+20")),
        (1.0, "", Ok("1.0")),
        (1.5, ".0", Ok("2e+00")),
        (1.5, "#.0", Ok("2.e+00")),
        (1e+20, "#", Ok("1.e+20")),
        (1.0, "#", Ok("1.0")),
        (15.0, ".0f", Ok("15")),
        (15.0, "#.0f", Ok("15.")),
        (0.5, ".0f", Ok("0")),
        (2.5, ".0f", Ok("2")),
        (1.5, ".0f", Ok("2")),
        (0.125, ".2f", Ok("0.12")),
        (0.375, ".2f", Ok("0.38")),
        (2.675, ".2f", Ok("2.67")),
        (1.005, ".2f", Ok("1.00")),
        (0.1, ".20f", Ok("0.10000000000000000555")),
        (0.1, ".60f", Ok("0.100000000000000005551115123125782702118158340454101562500000")),
        (1e+300, "f", Ok("1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160.000000")),
        (1e+300, ",f", Ok("1,000,000,000,000,000,052,504,760,255,204,420,248,704,468,581,108,159,154,915,854,115,511,802,457,988,908,195,786,371,375,080,447,864,043,704,443,832,883,878,176,942,523,235,360,430,575,644,792,184,786,706,982,848,387,200,926,575,803,737,830,233,794,788,090,059,368,953,234,970,799,945,081,119,038,967,640,880,074,652,742,780,142,494,579,258,788,820,056,842,838,115,669,472,196,386,865,459,400,540,160.000000")),
        (1234.5, "010,.1f", Ok("0,001,234.5")),
        (1234567.891, ",", Ok("1,234,567.891")),
        (1234567.891, "_", Ok("1_234_567.891")),
        (1234567.891, ",.2f", Ok("1,234,567.89")),
        (-1234567.891, "+,.2f", Ok("-1,234,567.89")),
        (1234567.891, "020,.2f", Ok("0,000,001,234,567.89")),
        (-1234567.891, "020,.2f", Ok("-0,000,001,234,567.89")),
        (1234567.891, "0=20,.2f", Ok("0,000,001,234,567.89")),
        (1234567.891, "*=20,.2f", Ok("********1,234,567.89")),
        (1234567.891, "*<20,.2f", Ok("1,234,567.89********")),
        (1234567.891, "*^20,.2f", Ok("****1,234,567.89****")),
        (f64::INFINITY, "010", Ok("0000000inf")),
        (f64::INFINITY, "010,", Ok("0000000inf")),
        (-f64::INFINITY, "+010", Ok("-000000inf")),
        (f64::NAN, "010", Ok("0000000nan")),
        (f64::NAN, "+", Ok("+nan")),
        (f64::NAN, "F", Ok("NAN")),
        (-f64::INFINITY, "E", Ok("-INF")),
        (f64::INFINITY, "%", Ok("inf%")),
        (f64::NAN, ".3e", Ok("nan")),
        (-0.0, "z", Ok("0.0")),
        (-0.0, "", Ok("-0.0")),
        (-0.0, "f", Ok("-0.000000")),
        (-0.0001, "z.1f", Ok("0.0")),
        (-0.0001, ".1f", Ok("-0.0")),
        (-0.0001, "z.1e", Ok("-1.0e-04")),
        (-1e-320, "z.3f", Ok("0.000")),
        (-0.0, "z%", Ok("0.000000%")),
        (-0.004, "z.2%", Ok("-0.40%")),
        (-0.5, "z.0f", Ok("0")),
        (0.0, "e", Ok("0.000000e+00")),
        (0.0, "g", Ok("0")),
        (0.0, "#g", Ok("0.00000")),
        (0.0, ".3", Ok("0.0")),
        (0.0, "#", Ok("0.0")),
        (0.0001, "#g", Ok("0.000100000")),
        (123.0, "#g", Ok("123.000")),
        (1e-05, "", Ok("1e-05")),
        (1e-05, "n", Ok("1e-05")),
        (123456.0, "n", Ok("123456")),
        (1234567.0, "n", Ok("1.23457e+06")),
        (1e+16, "n", Ok("1e+16")),
        (1.0, ",.0%", Ok("100%")),
        (0.5, "%", Ok("50.000000%")),
        (1e-07, "%", Ok("0.000010%")),
        (12345.678, "_e", Ok("1.234568e+04")),
        (12345.678, "E", Ok("1.234568E+04")),
        (12345.678, ".3G", Ok("1.23E+04")),
        (1.23e-10, "G", Ok("1.23E-10")),
        (1.5, "=+10", Ok("+      1.5")),
        (1.5, " ", Ok(" 1.5")),
        (-1.5, " ", Ok("-1.5")),
        (1.5, "=^10", Ok("===1.5====")),
        (-1.5, "*=10", Ok("-******1.5")),
        (1.5, "€^+9,.2f", Ok("€€+1.50€€")),
        (1.5, "\u{0}", Ok("1.5")),
        (1.5, "é<8", Ok("1.5ééééé")),
        (1.5, ">", Ok("1.5")),
        (1.5, "<10", Ok("1.5       ")),
        (1.5, "^11", Ok("    1.5    ")),
        (1.5, "011", Ok("000000001.5")),
        (-1.5, "011", Ok("-00000001.5")),
        (1.5, "<011", Ok("1.500000000")),
        (1.5, "x<011", Ok("1.5xxxxxxxx")),
        (1e+16, "", Ok("1e+16")),
        (1e+16, ".16", Ok("1e+16")),
        (1e+16, ".17", Ok("1e+16")),
        (9999999999999998.0, "", Ok("9999999999999998.0")),
        (123.456, ".2", Ok("1.2e+02")),
        (123.456, ".1", Ok("1e+02")),
        (0.000123456, ".2", Ok("0.00012")),
        (1.2345e-05, ".2", Ok("1.2e-05")),
        (0.0001, ".3", Ok("0.0001")),
        (100.0, ".3", Ok("1e+02")),
        (99.999, ".3", Ok("1e+02")),
        (99.95, ".3", Ok("1e+02")),
        (999999.5, "g", Ok("1e+06")),
        (999999.4, "g", Ok("999999")),
        (1000000.0, "g", Ok("1e+06")),
        (1000000.0, ".7g", Ok("1000000")),
        (1.5, ".2147483648f", Err("ValueError: precision too big")),
        (1.5, ".100", Ok("1.5")),
        (1.5, "d", Err("ValueError: Unknown format code 'd' for object of type 'float'")),
        (1.5, "abc", Err("ValueError: Invalid format specifier 'abc' for object of type 'float'")),
        (1.5, ".", Err("ValueError: Format specifier missing precision")),
        (1.5, ",_", Err("ValueError: Cannot specify both ',' and '_'.")),
        (1.5, "_,", Err("ValueError: Cannot specify both ',' and '_'.")),
        (1.5, ",,", Err("ValueError: Cannot specify ',' with ','.")),
        (1.5, ",n", Err("ValueError: Cannot specify ',' with 'n'.")),
        (1.5, "_n", Err("ValueError: Cannot specify '_' with 'n'.")),
        (1.5, "99999999999999999999", Err("ValueError: Too many decimal digits in format string")),
        (1.5, ".99999999999999999999", Err("ValueError: Too many decimal digits in format string")),
        (1.5, "é", Err("ValueError: Unknown format code '\\xe9' for object of type 'float'")),
        (1.5, "\u{1}", Err("ValueError: Unknown format code '\\x1' for object of type 'float'")),
        (1.5, "s", Err("ValueError: Unknown format code 's' for object of type 'float'")),
        (1.5, "c", Err("ValueError: Unknown format code 'c' for object of type 'float'")),
        (1.5, ",c", Err("ValueError: Cannot specify ',' with 'c'.")),
        (1.5, "==", Ok("1.5")),
        (1.5, "z#0.3f", Ok("1.500")),
        (1.5, "+z", Ok("+1.5")),
        (1.5, "z+", Err("ValueError: Unknown format code '+' for object of type 'float'")),
        (12.0, "١٠", Ok("      12.0")),
        (12.0, "0١٠", Ok("00000012.0")),
        (1.7976931348623157e+308, ",.0f", Ok("179,769,313,486,231,570,814,527,423,731,704,356,798,070,567,525,844,996,598,917,476,803,157,260,780,028,538,760,589,558,632,766,878,171,540,458,953,514,382,464,234,321,326,889,464,182,768,467,546,703,537,516,986,049,910,576,551,282,076,245,490,090,389,328,944,075,868,508,455,133,942,304,583,236,903,222,948,165,808,559,332,123,348,274,797,826,204,144,723,168,738,177,180,919,299,881,250,404,026,184,124,858,368")),
        (5e-324, "e", Ok("4.940656e-324")),
        (5e-324, ".20e", Ok("4.94065645841246544177e-324")),
        (5e-324, "g", Ok("4.94066e-324")),
        (2.2250738585072014e-308, ".17g", Ok("2.2250738585072014e-308")),
        (0.1, ".17g", Ok("0.10000000000000001")),
        (0.1, ".16g", Ok("0.1")),
        (0.1, ".100e", Ok("1.0000000000000000555111512312578270211815834045410156250000000000000000000000000000000000000000000000e-01")),
        (123456789.0, "_.3f", Ok("123_456_789.000")),
        (123456789.0, "_", Ok("123_456_789.0")),
        (1000000000000000.0, "_", Ok("1_000_000_000_000_000.0")),
        (1e+16, "_", Ok("1e+16")),
        (1e+16, ",.0f", Ok("10,000,000,000,000,000")),
        (-1e-10, "z.3g", Ok("-1e-10")),
        (1.0, ".0e", Ok("1e+00")),
        (9.5, ".0e", Ok("1e+01")),
        (8.5, ".0e", Ok("8e+00")),
        (0.95, ".1f", Ok("0.9")),
        (0.45, ".1f", Ok("0.5")),
        (1.25, ".1f", Ok("1.2")),
        (1.35, ".1f", Ok("1.4")),
        (2.5, ".0%", Ok("250%")),
        (0.015, ".0%", Ok("2%")),
        (0.025, ".1%", Ok("2.5%")),
        (-209.0, ",", Ok("-209.0")),
        (-1.4757031162656312e-19, "+12.8", Ok("-1.4757031e-19")),
        (-562.301, " ^_E", Ok("-5.623010E+02")),
        (-7.31471779928999e-18, " z010_.3e", Ok("-7.315e-18")),
        (-0.070648193359375, "+0", Ok("-0.070648193359375")),
        (577.552, "15,F", Ok("     577.552000")),
        (933.718, "+.8", Ok("+933.718")),
        (-5e-324, ".15g", Ok("-4.94065645841247e-324")),
        (309.117, "+.10G", Ok("+309.117")),
        (-3.02240341289564e-309, "0G", Ok("-3.0224E-309")),
        (7.42861597984504, "x<G", Ok("7.42862")),
        (-5.079418626769603e-309, "5_", Ok("-5.079418626769603e-309")),
        (-3.125395756006379e+22, "*=10", Ok("-3.125395756006379e+22")),
        (0.06703472137451172, "8_.5n", Err("ValueError: Cannot specify '_' with 'n'.")),
        (-66447.750705, "", Ok("-66447.750705")),
        (2.083526761650914e+76, "é<30.18", Ok("2.0835267616509141e+76éééééééé")),
        (-113202.625, "^-30_", Ok("         -113_202.625         ")),
        (896248.4238010177, "+#010.1", Ok("+0009.e+05")),
        (9.821902378013872e+117, "+z30G", Ok("                  +9.8219E+117")),
        (-1.29127088391634e-310, "#%%", Err("ValueError: Invalid format specifier '#%%' for object of type 'float'")),
        (5.5410381683333485e+17, "0>+#8.20", Ok("+554103816833334848.00")),
        (-4.941919082001758e-28, ">10.1", Ok("    -5e-28")),
        (-8.559728862113772e+17, "z1,.0f", Ok("-855,972,886,211,377,152")),
        (808081.125, "+12.4%", Ok("+80808112.5000%")),
        (44798.949094692274, "0_.4", Ok("4.48e+04")),
        (-9400.0, "é^-.2%", Ok("-940000.00%")),
        (1.5550977386891475e-104, "z25,.15", Ok("    1.55509773868915e-104")),
        (-1.8357073924625104e-308, "-15E", Ok(" -1.835707E-308")),
        (8.141610176296712e+238, ".3", Ok("8.14e+238")),
        (9.97e+18, " ^.5", Ok("9.97e+18")),
        (-6.89e-06, "0=8.2e", Ok("-6.89e-06")),
        (-905452.4682363061, "01.40", Ok("-905452.468236306100152432918548583984375")),
        (-3.141785862201773e+94, "#", Ok("-3.141785862201773e+94")),
        (861.485, "", Ok("861.485")),
        (-777495.9211221726, " 10%", Ok("-77749592.112217%")),
        (2.43e+18, "#.12n", Ok("2.43000000000e+18")),
        (-811009.875, "€^0_", Ok("-811_009.875")),
        (9.04032489509817e-309, ".15", Ok("9.04032489509817e-309")),
        (-943143.5235369507, "*>05.0F", Ok("-943144")),
        (590000000000.0, "-_F", Ok("590_000_000_000.000000")),
        (-8.172473461895429e+248, ">12_", Ok("-8.172473461895429e+248")),
        (94300000000.0, "0.16E", Ok("9.4300000000000000E+10")),
        (0.3, "30_", Ok("                           0.3")),
        (-1.7484971592944316e+222, "0>,.40g", Ok("-1.7484971592944315674316921014827240625e+222")),
        (1.5, "€<-00", Ok("1.5")),
        (880006.4882280924, " z.25n", Ok(" 880006.488228092435747385")),
        (-3.0000000000000004e-07, "+z#_.3E", Ok("-3.000E-07")),
        (9.418927448154067e+17, "+", Ok("+9.418927448154067e+17")),
        (-606171.5, ".15", Ok("-606171.5")),
        (6.073499700033165e+21, ".18f", Ok("6073499700033164935168.000000000000000000")),
        (174.0, "0.16n", Ok("174")),
        (499.218, "15_.0e", Ok("          5e+02")),
        (4.090168120828208, "0^+8.17%", Ok("+409.01681208282082025%")),
        (-4462340.724434632, "_.20f", Ok("-4_462_340.72443463187664747238")),
        (1e-162, "=,.12", Ok("1e-162")),
        (-1.0205822020498524e+93, "", Ok("-1.0205822020498524e+93")),
        (3.1613040807360986e+17, "é<20_.40g", Ok("316_130_408_073_609_856")),
        (-3.3979202220616203e-245, "0=20_.12", Ok("-03.39792022206e-245")),
        (9.634392439207871e+17, "F", Ok("963439243920787072.000000")),
        (35100000000000.0, "12g", Ok("    3.51e+13")),
        (-8.458998397307613e-309, "20.17f", Ok("-0.00000000000000000")),
        (-4.273347649633947e-12, "z0.1", Ok("-4e-12")),
        (937155.375, "€<", Ok("937155.375")),
        (-7.295829166465458e+19, "<10.1%", Ok("-7295829166465458634752.0%")),
        (-694769.5, "F", Ok("-694769.500000")),
        (458627.5356547511, "€<12", Ok("458627.5356547511")),
        (192142.2549388185, "15", Ok("192142.2549388185")),
        (4352396810.183112, "0g", Ok("4.3524e+09")),
        (802249.188593227, "_f", Ok("802_249.188593")),
        (9601378245.017965, "=,", Ok("9,601,378,245.017965")),
        (-4870467.733962066, "#12,.16", Ok("-4,870,467.733962066")),
        (f64::NAN, ">1e", Ok("nan")),
        (1.932413278677543e+17, "=-.2", Ok("1.9e+17")),
        (-5.0467003144593626e+17, " ^F", Ok("-504670031445936256.000000")),
        (1e-234, "*<F", Ok("0.000000")),
        (3800000000.0, "é> E", Ok(" 3.800000E+09")),
        (-1795.34375, "#_", Ok("-1_795.34375")),
        (5e-324, "=-_.2", Ok("4.9e-324")),
        (40103149224.59375, " #8.17", Ok(" 40103149224.593750")),
        (2.8517441435734083e+17, "+.18", Ok("+2.85174414357340832e+17")),
        (-44.89697265625, " < #E", Ok("-4.489697E+01")),
        (-797.774, "z0_.1", Ok("-8e+02")),
        (0.3021087646484375, "^1_", Ok("0.3021087646484375")),
        (31432.152735, "n", Ok("31432.2")),
        (791236.6203185411, "=#01.3%", Ok("79123662.032%")),
        (156086.48024704942, "+0F", Ok("+156086.480247")),
        (0.04260930063606594, " #015,", Ok(" 0.04260930063606594")),
        (-1.8555632699024595e+17, "01e", Ok("-1.855563e+17")),
        (-1.55376322131458e-308, "+_.1%", Ok("-0.0%")),
        (f64::INFINITY, "= 025,f", Ok(" 000000000000000000000inf")),
        (467.443, "25", Ok("                  467.443")),
        (3.411424586688345e+301, "0<#0.3zz", Err("ValueError: Invalid format specifier '0<#0.3zz' for object of type 'float'")),
        (7.724771696036855e+17, ">#.15F", Ok("772477169603685504.000000000000000")),
        (-5.1735485287785846e-11, "+8e", Ok("-5.173549e-11")),
        (-4.5877407822422944e+17, "^", Ok("-4.5877407822422944e+17")),
        (-43.01855782290592, "*=,.20%", Ok("-4,301.85578229059228760889%")),
        (9316737.482331574, "z02.17%", Ok("931673748.23315739631652832%")),
        (-0.25589752197265625, "-2_.15G", Ok("-0.255897521972656")),
        (-896.792, "<-#0", Ok("-896.792")),
        (682160.1786020554, ".15", Ok("682160.178602055")),
        (-5.9088537266334e-310, "#1_", Ok("-5.9088537266334e-310")),
        (2.0705895062389557, " >+#.5%", Ok("+207.05895%")),
        (-9.307282454546948e+17, " >.2", Ok("-9.3e+17")),
        (-6053.75, "0=#1", Ok("-6053.75")),
        (5.578524766137945e+26, "+0F", Ok("+557852476613794482937135104.000000")),
        (844.107, "#20_", Ok("             844.107")),
        (-1e+199, "z0%", Ok("-1000000000000000037718785293056550291741793714171007924670336578563554653884390444993619046236149589293075414109087389699655531583234914810756005630018925423128793192791080866922220799992003324610084864.000000%")),
        (f64::INFINITY, "8.2e", Ok("     inf")),
        (5.508656124094449e-16, "#1n", Ok("5.50866e-16")),
        (9947.895978744056, "<+020_.15f", Ok("+9_947.895978744056265")),
        (3.9370473798018325e+72, "+#01e", Ok("+3.937047e+72")),
        (-431.655, "f", Ok("-431.655000")),
        (-95280.610105, "-#", Ok("-95280.610105")),
        (-4.7508961268811836e-58, " =-#30,.1", Ok("-                       5.e-58")),
        (1e-121, "00e", Ok("1.000000e-121")),
        (0.6666666666666666, "", Ok("0.6666666666666666")),
        (-38661.435935, "0E", Ok("-3.866144E+04")),
        (-1e-74, " #e", Ok("-1.000000e-74")),
        (-7.975634964604124e+19, "z12,", Ok("-7.975634964604124e+19")),
        (526847.125, "20_.30n", Err("ValueError: Cannot specify '_' with 'n'.")),
        (8.028512574543912, "x>+30.10f", Ok("xxxxxxxxxxxxxxxxx+8.0285125745")),
        (-79910742032.75146, "z_.0", Ok("-8e+10")),
        (346452.75, "#30.16g", Ok("             346452.7500000000")),
        (792748.5357216044, ".2", Ok("7.9e+05")),
        (5617753831651.04, ".2", Ok("5.6e+12")),
        (1e-15, "zz", Err("ValueError: Unknown format code 'z' for object of type 'float'")),
        (1e+22, "x>-08n", Ok("xxx1e+22")),
        (4.068703146156343e+16, "#020", Ok("4.068703146156343e+16")),
        (604806.75, "_%", Ok("60_480_675.000000%")),
        (f64::NAN, "<25.3%", Ok("nan%                     ")),
        (-0.0, "030_.6e", Ok("-00_000_000_000_000.000000e+00")),
        (-1e+74, "< 8,", Ok("-1e+74  ")),
        (94958.06353149429, " 20F", Ok("        94958.063531")),
        (-88494.787695, "f", Ok("-88494.787695")),
        (-979865766140.25, "+30.2%", Ok("           -97986576614025.00%")),
        (1426.0625, " n", Ok(" 1426.06")),
        (-7.180107338148267e-178, "_.3g", Ok("-7.18e-178")),
        (0.787, "^z.15G", Ok("0.787")),
        (409.227, "8.1F", Ok("   409.2")),
        (892380.9242032145, " 1.6F", Ok(" 892380.924203")),
        (-918523.0, " #,n", Err("ValueError: Cannot specify ',' with 'n'.")),
        (-3.471951194608359e+17, "#", Ok("-3.471951194608359e+17")),
        (2.1345088288963035e-170, ">f", Ok("0.000000")),
        (-3.61e+20, ".1n", Ok("-4e+20")),
        (-91549.75, "2,f", Ok("-91,549.750000")),
        (0.1, "15", Ok("            0.1")),
        (-680741.0, "1", Ok("-680741.0")),
        (-645250.25, "€>#10E", Ok("-6.452502E+05")),
        (-8.17e+17, "-2,n", Err("ValueError: Cannot specify ',' with 'n'.")),
        (-1e-195, "0E", Ok("-1.000000E-195")),
        (136.9, "10", Ok("     136.9")),
        (9301.084365, " #015.3", Ok(" 0000009.30e+03")),
        (9045805672.343122, "#12_.1Eq", Err("ValueError: Invalid format specifier '#12_.1Eq' for object of type 'float'")),
        (-2.0780991565868916e+172, "F", Ok("-20780991565868916287815058061937889224143438567976252064343895084751702225549539544227413320096830501730932761142028348719137747405024332621782144553657129378748235780194304.000000")),
        (858435.125, "+0n", Ok("+858435")),
        (1.5023242276731573e-17, "x^01", Ok("1.5023242276731573e-17")),
        (-590.0, ">z#5.4n", Ok("-590.0")),
        (-2.1146240234375, "*= 0%%", Err("ValueError: Invalid format specifier '*= 0%%' for object of type 'float'")),
        (4.05e+27, "025,", Ok("00,000,000,000,004.05e+27")),
        (4.021937847503623e-24, "g", Ok("4.02194e-24")),
        (694342.125, "", Ok("694342.125")),
        (-7.656888095901313e+29, "é>", Ok("-7.656888095901313e+29")),
        (-5.172433408335589e+16, "0=.5F", Ok("-51724334083355888.00000")),
        (-468241.01975997223, "#0F", Ok("-468241.019760")),
        (46224.515355, "z01,.0E", Ok("5E+04")),
        (-1.0000000000000001e+23, "€^0,F", Ok("-100,000,000,000,000,008,388,608.000000")),
        (95414.9001053311, "-0.12", Ok("95414.9001053")),
        (45.07316595391821, ".12%", Ok("4507.316595391821%")),
        (320.359, " .15", Ok(" 320.359")),
        (17207.075715, "1g", Ok("17207.1")),
    ];

    #[rustfmt::skip]
    const INT_FORMAT: &[(&str, &str, Result<&str, &str>)] = &[
        ("5", "z", Err("ValueError: Negative zero coercion (z) not allowed in integer format specifier")),
        ("5", "zd", Err("ValueError: Negative zero coercion (z) not allowed in integer format specifier")),
        ("5", "#z", Err("ValueError: Unknown format code 'z' for object of type 'int'")),
        ("1114112", "c", Err("OverflowError: %c arg not in range(0x110000)")),
        ("-1", "c", Err("OverflowError: %c arg not in range(0x110000)")),
        ("1000000000000000000000000000000", "c", Err("OverflowError: Python int too large to convert to C long")),
        ("65", "+c", Err("ValueError: Sign not allowed with integer format specifier 'c'")),
        ("65", "#c", Err("ValueError: Alternate form (#) not allowed with integer format specifier 'c'")),
        ("65", ".2c", Err("ValueError: Precision not allowed in integer format specifier")),
        ("65", "z.2c", Err("ValueError: Precision not allowed in integer format specifier")),
        ("65", ",c", Err("ValueError: Cannot specify ',' with 'c'.")),
        ("65", "05c", Ok("0000A")),
        ("65", "<5c", Ok("A    ")),
        ("12", "c", Ok("\u{c}")),
        ("128512", "c", Ok("😀")),
        ("233", "c", Ok("é")),
        ("0", "c", Ok("\u{0}")),
        ("1", ",\u{0}", Err("ValueError: Unknown format code '\\x0' for object of type 'int'")),
        ("1", ", ", Err("ValueError: Cannot specify ',' with '\\x20'.")),
        ("1", "", Ok("1")),
        ("-1", "", Ok("-1")),
        ("10^5000", "d", Err("ValueError: Exceeds the limit (4300 digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit")),
        ("10^5000", "", Err("ValueError: Exceeds the limit (4300 digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit")),
        ("-10^5000", "d", Err("ValueError: Exceeds the limit (4300 digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit")),
        ("10^4299", ".3", Err("ValueError: Precision not allowed in integer format specifier")),
        ("10^4300", "n", Err("ValueError: Exceeds the limit (4300 digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit")),
        ("10^4300", ",", Err("ValueError: Exceeds the limit (4300 digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit")),
        ("10^400", "e", Err("OverflowError: int too large to convert to float")),
        ("2^1024", "e", Err("OverflowError: int too large to convert to float")),
        ("4*2^1022-2^970-1", "e", Ok("1.797693e+308")),
        ("-5", "=+#010_x", Ok("-0x00_0005")),
        ("255", "#_b", Ok("0b1111_1111")),
        ("100000000000000000000", "_o", Ok("126_5707_2742_6543_0400_0000")),
        ("123456789", ",%", Ok("12,345,678,900.000000%")),
        ("123456789", ",", Ok("123,456,789")),
        ("123456789", "_", Ok("123_456_789")),
        ("123456789", "_x", Ok("75b_cd15")),
        ("123456789", "_X", Ok("75B_CD15")),
        ("123456789", "#_X", Ok("0X75B_CD15")),
        ("123456789", ",x", Err("ValueError: Cannot specify ',' with 'x'.")),
        ("123456789", ",b", Err("ValueError: Cannot specify ',' with 'b'.")),
        ("123456789", "n", Ok("123456789")),
        ("123456789", ",n", Err("ValueError: Cannot specify ',' with 'n'.")),
        ("5", "=^5", Ok("==5==")),
        ("5", " 05", Ok(" 0005")),
        ("-5", " 05", Ok("-0005")),
        ("5", "<05", Ok("50000")),
        ("5", "x<05", Ok("5xxxx")),
        ("5", "0", Ok("5")),
        ("5", "00", Ok("5")),
        ("5", "=5", Ok("    5")),
        ("-5", "=5", Ok("-   5")),
        ("5", "#o", Ok("0o5")),
        ("5", "#b", Ok("0b101")),
        ("-255", "#x", Ok("-0xff")),
        ("-255", "#X", Ok("-0XFF")),
        ("-255", "#012x", Ok("-0x0000000ff")),
        ("-255", "#012_x", Ok("-0x0000_00ff")),
        ("-255", "012,", Ok("-000,000,255")),
        ("-255", "0=12,", Ok("-000,000,255")),
        ("255", "x=12,", Ok("xxxxxxxxx255")),
        ("1234", "x=10,", Ok("xxxxx1,234")),
        ("0", "#x", Ok("0x0")),
        ("0", "#o", Ok("0o0")),
        ("0", ",d", Ok("0")),
        ("0", "010,", Ok("00,000,000")),
        ("7", "q", Err("ValueError: Unknown format code 'q' for object of type 'int'")),
        ("7", "s", Err("ValueError: Unknown format code 's' for object of type 'int'")),
        ("7", ".2f", Ok("7.00")),
        ("7", ".2", Err("ValueError: Precision not allowed in integer format specifier")),
        ("7", "e", Ok("7.000000e+00")),
        ("7", "g", Ok("7")),
        ("7", "%", Ok("700.000000%")),
        ("7", ".0%", Ok("700%")),
        ("100000000000000000", "g", Ok("1e+17")),
        ("100000000000000000", "f", Ok("100000000000000000.000000")),
        ("9007199254740993", ".0f", Ok("9007199254740992")),
        ("-9223372036854775808", "d", Ok("-9223372036854775808")),
        ("18446744073709551616", "x", Ok("10000000000000000")),
        ("12", "١٠", Ok("        12")),
        ("12", "0١٠", Ok("0000000012")),
        ("1234567", "020,", Ok("0,000,000,001,234,567")),
        ("1234567", "020_", Ok("0_000_000_001_234_567")),
        ("1234567", "020_b", Ok("1_0010_1101_0110_1000_0111")),
        ("1234567", "#020_b", Ok("0b1_0010_1101_0110_1000_0111")),
        ("1234567", "+020_o", Ok("+0000_0000_0455_3207")),
        ("99", "é^9", Ok("ééé99éééé")),
        ("7", ",_", Err("ValueError: Cannot specify both ',' and '_'.")),
        ("7", "_,", Err("ValueError: Cannot specify both ',' and '_'.")),
        ("7", "abc", Err("ValueError: Invalid format specifier 'abc' for object of type 'int'")),
        ("7", ".", Err("ValueError: Format specifier missing precision")),
        ("7", ".5d", Err("ValueError: Precision not allowed in integer format specifier")),
        ("7", "zx", Err("ValueError: Negative zero coercion (z) not allowed in integer format specifier")),
        ("7", "+#c", Err("ValueError: Sign not allowed with integer format specifier 'c'")),
        ("-7", "n", Ok("-7")),
        ("1", "E", Ok("1.000000E+00")),
        ("1", "F", Ok("1.000000")),
        ("1", "G", Ok("1")),
        ("-852968157416", "^ #25_.17F", Ok("-852_968_157_416.00000000000000000")),
        ("-462876172521", "€= 8_%", Ok("-46_287_617_252_100.000000%")),
        ("-248650040579097596078160996020", "€<-25.5G", Ok("-2.4865E+29€€€€€€€€€€€€€€")),
        ("224991958921", "G", Ok("2.24992E+11")),
        ("-170867066255962235440253994580", "+_.15", Err("ValueError: Precision not allowed in integer format specifier")),
        ("580048837669952915473623017375", "=z10.0c", Err("ValueError: Precision not allowed in integer format specifier")),
        ("505738", "0o", Ok("1733612")),
        ("541967", "-20es", Err("ValueError: Invalid format specifier '-20es' for object of type 'int'")),
        ("419476095802070983826436264830", "0< ,.8e", Ok(" 4.19476096e+29")),
        ("1024809", "0G", Ok("1.02481E+06")),
        ("-665652550337203919468802879312", "x=-zx", Err("ValueError: Negative zero coercion (z) not allowed in integer format specifier")),
        ("1027980", "010.1", Err("ValueError: Precision not allowed in integer format specifier")),
        ("228110126655700958833242281639", " < #1.17F", Ok(" 228110126655700941520309846016.00000000000000000")),
        ("-961604363799177123693031263193", "< 5", Ok("-961604363799177123693031263193")),
        ("1079349", "-#1,.30b", Err("ValueError: Cannot specify ',' with 'b'.")),
        ("217088", "0<25e", Ok("2.170880e+050000000000000")),
        ("-395421051976", " 12.20", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-117633657339", "0.5b", Err("ValueError: Precision not allowed in integer format specifier")),
        ("748443077575", "0_.3G", Ok("7.48E+11")),
        ("78389", "-e", Ok("7.838900e+04")),
        ("-193210992802289825697919534777", "^0.2X", Err("ValueError: Precision not allowed in integer format specifier")),
        ("575914504110", "*<z30.1b", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-52165530729533645309870356688", "X", Ok("-A88E50CF4A7E0E5B72E438D0")),
        ("285329", " ^ #010.0o", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-731483375199", "*^02e", Ok("-7.314834e+11")),
        ("-534302698199239874552568026375", "é<z0f", Ok("-534302698199239866673627398144.000000")),
        ("-327781093192887737872570447459", ",E", Ok("-3.277811E+29")),
        ("-733859638650", "0^0", Ok("-733859638650")),
        ("25530", "z0,x", Err("ValueError: Cannot specify ',' with 'x'.")),
        ("425779", "10,n", Err("ValueError: Cannot specify ',' with 'n'.")),
        ("402459761604954467648629440817", "0.2g", Ok("4e+29")),
        ("895336", ">30_.10", Err("ValueError: Precision not allowed in integer format specifier")),
        ("42529173597450427090238570406", ".17e", Ok("4.25291735974504296e+28")),
        ("470646528694", "^-0c", Err("ValueError: Sign not allowed with integer format specifier 'c'")),
        ("685904", "+12,.4e", Ok(" +6.8590e+05")),
        ("159291", " #_", Ok(" 159_291")),
        ("457186", ",.0f", Ok("457,186")),
        ("739847", "G", Ok("739847")),
        ("809078281697", "^z#", Err("ValueError: Negative zero coercion (z) not allowed in integer format specifier")),
        ("490603", "x=+0.25g", Ok("+490603")),
        ("288040", "0g", Ok("288040")),
        ("-475349141627666896374876850592", "", Ok("-475349141627666896374876850592")),
        ("-505892659349522440055656413021", "+.0", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-854912442543772780643107257920", "é>_.16d", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-373687494120504839809416684223", "=z#5,n", Err("ValueError: Cannot specify ',' with 'n'.")),
        ("-900013427316", ",d", Ok("-900,013,427,316")),
        ("-688881476913", "#08.2f", Ok("-688881476913.00")),
        ("200776890159043849621536760288", ".10", Err("ValueError: Precision not allowed in integer format specifier")),
        ("3105615985533353468656854576", "#20d", Ok("3105615985533353468656854576")),
        ("-611971687924441311144985750571", "08.10", Err("ValueError: Precision not allowed in integer format specifier")),
        ("800896611854712791153006761725", "+20zz", Err("ValueError: Invalid format specifier '+20zz' for object of type 'int'")),
        ("313091", "_", Ok("313_091")),
        ("381467", "#10.0", Err("ValueError: Precision not allowed in integer format specifier")),
        ("558659", "x^030_.16e", Ok("xxxx5.5865900000000000e+05xxxx")),
        ("851545", "20F", Ok("       851545.000000")),
        ("164945872629", "é<15d", Ok("164945872629ééé")),
        ("690881935076", "0", Ok("690881935076")),
        ("-96274623116199821476336091700", "+,f", Ok("-96,274,623,116,199,817,418,024,943,616.000000")),
        ("390260054135", "8F", Ok("390260054135.000000")),
        ("732724830826675659341680955497", "+0.4", Err("ValueError: Precision not allowed in integer format specifier")),
        ("229056", "*=.12E", Ok("2.290560000000E+05")),
        ("1099436", "z15.5", Err("ValueError: Precision not allowed in integer format specifier")),
        ("197429418334", "0.2d", Err("ValueError: Precision not allowed in integer format specifier")),
        ("52551987694", ">-#12_", Ok("52_551_987_694")),
        ("4910037957", "30.30e", Ok("4.910037957000000000000000000000e+09")),
        ("-337954462388", "0", Ok("-337954462388")),
        ("-27734379822", "#0f", Ok("-27734379822.000000")),
        ("33136593808", "0^", Ok("33136593808")),
        ("764783", "-#.18o", Err("ValueError: Precision not allowed in integer format specifier")),
        ("761739", ".10", Err("ValueError: Precision not allowed in integer format specifier")),
        ("863316133022", "= 20.8n", Err("ValueError: Precision not allowed in integer format specifier")),
        ("674454687675064569223624437664", "10_.40g", Ok("674_454_687_675_064_563_902_032_379_904")),
        ("-604154087419857251689484785750", "+#0f", Ok("-604154087419857253001632677888.000000")),
        ("1003074", "g", Ok("1.00307e+06")),
        ("548740033771", "02", Ok("548740033771")),
        ("-489930883394406024124950257579", " 10_o", Ok("-6_1360_6524_0163_1247_3646_1345_5341_7653")),
        ("708037692594", "z8b", Err("ValueError: Negative zero coercion (z) not allowed in integer format specifier")),
        ("-336945212189034560858799869218", " 015.5", Err("ValueError: Precision not allowed in integer format specifier")),
        ("937222", "é^0x", Ok("e4d06")),
        ("-868905425908", "20_.25e", Ok("-8.6890542590800000000000000e+11")),
        ("468317862172090234260596232978", "0_o", Ok("5_7223_3564_6060_4620_5142_2614_2611_1422")),
        ("-441286885528", " 25_X", Ok("            -66_BEBF_8098")),
        ("591911", "<+#.8", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-838524171437528568281203189383", "-#.20n", Err("ValueError: Precision not allowed in integer format specifier")),
        ("807763", ",.18o", Err("ValueError: Cannot specify ',' with 'o'.")),
        ("155561628324", "z0,X", Err("ValueError: Cannot specify ',' with 'X'.")),
        ("134829332548010871505049257215", ">+10e", Ok("+1.348293e+29")),
        ("983056", "8.16", Err("ValueError: Precision not allowed in integer format specifier")),
        ("675408599375845028862412518023", "-z8.4", Err("ValueError: Precision not allowed in integer format specifier")),
        ("115514", "0.5x", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-941153346305", "-X", Ok("-DB211C6301")),
        ("-580625709982744886664116885251", "5F", Ok("-580625709982744866036188708864.000000")),
        ("210144", "#.6G", Ok("210144.")),
        ("281334658105", " .12%", Ok(" 28133465810500.000000000000%")),
        ("-405286659362749758463289804709", "G", Ok("-4.05287E+29")),
        ("569000379024", " .6", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-459452495023296372129171488953", " 012.3e", Ok("-004.595e+29")),
        ("857327370012708857972031093009", "015", Ok("857327370012708857972031093009")),
        ("368895082274", "é^2", Ok("368895082274")),
        ("-178045045790756107443405673275", "+#8.2b", Err("ValueError: Precision not allowed in integer format specifier")),
        ("270442", "<+15,.16c", Err("ValueError: Cannot specify ',' with 'c'.")),
        ("223216125104158164857212327461", "#20.6X", Err("ValueError: Precision not allowed in integer format specifier")),
        ("606726290143", ".8n", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-601909203899340765699460342686", "+0_.5", Err("ValueError: Precision not allowed in integer format specifier")),
        ("773113457505691587304591411864", ".15g", Ok("7.73113457505692e+29")),
        ("803194", ".18E", Ok("8.031940000000000000E+05")),
        ("-43673724081821195375055368496", "z0.0X", Err("ValueError: Precision not allowed in integer format specifier")),
        ("641769050386", "-#0", Ok("641769050386")),
        ("-782567491852", ">_G", Ok("-7.82567E+11")),
        ("678491", "#8,.30b", Err("ValueError: Cannot specify ',' with 'b'.")),
        ("432936882366742311110026951403", "*<_F", Ok("432_936_882_366_742_297_692_445_081_600.000000")),
        ("1104029", "#15.20X", Err("ValueError: Precision not allowed in integer format specifier")),
        ("171689", "€<#0d", Ok("171689")),
        ("283534", "20", Ok("              283534")),
        ("-393372596324238809574487765289", "+#.1f", Ok("-393372596324238775613319544832.0")),
        ("-574213152163879091033931909218", "-2", Ok("-574213152163879091033931909218")),
        ("88840", "0.6E", Ok("8.884000E+04")),
        ("-42129536372", "30.12", Err("ValueError: Precision not allowed in integer format specifier")),
        ("126473", "-010,", Ok("00,126,473")),
        ("779677", " 02,", Ok(" 779,677")),
        ("1053065", "30.0", Err("ValueError: Precision not allowed in integer format specifier")),
        ("280178", "08_E", Ok("2.801780E+05")),
        ("-268141032909702399582089802338", ",.0E", Ok("-3E+29")),
        ("704073889642715424361894319431", "^.12", Err("ValueError: Precision not allowed in integer format specifier")),
        ("192714836677685457024490613358", ".10", Err("ValueError: Precision not allowed in integer format specifier")),
        ("449177154912109507390944830518", "*>-2F", Ok("449177154912109489181171908608.000000")),
        ("554932", "25d", Ok("                   554932")),
        ("-496714703271730910723825195055", "<z.30c", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-223138838107317191684685056407", ".5E", Ok("-2.23139E+29")),
        ("751717", "#8_d", Ok(" 751_717")),
        ("810096", "=,.6", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-492874801256", " f", Ok("-492874801256.000000")),
        ("638772", " 0E", Ok(" 6.387720E+05")),
        ("-272376756321260882212608641064", ".1o", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-237790472332", "0b", Ok("-11011101011101011010101010100010001100")),
        ("-515165207593351746498436616580", "=10,F", Ok("-515,165,207,593,351,763,640,165,859,328.000000")),
        ("-328461597908523054472124869903", " 12b", Ok("-100001001010101000100010000110101011000011000100111110111001101111101110111111111101010110100001111")),
        ("16294645263027631113560844113", "<5.20", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-662092776554922532576094816136", "^z0,n", Err("ValueError: Cannot specify ',' with 'n'.")),
        ("-401600204920618849013393257590", "*<12E", Ok("-4.016002E+29")),
        ("-885012609876458571027763349930", "15.2b", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-161081458785549088328166763697", ".16", Err("ValueError: Precision not allowed in integer format specifier")),
        ("737133140868", "#10.10E", Ok("7.3713314087E+11")),
        ("-697272009462739647932858586990", " 0", Ok("-697272009462739647932858586990")),
        ("937365878834436784674546876011", "10.4d", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-490005748131424451981424450037", "0.10", Err("ValueError: Precision not allowed in integer format specifier")),
        ("-645350635965", "=1,E", Ok("-6.453506E+11")),
        ("450893379374851564632850164283", "<#20e", Ok("4.508934e+29        ")),
        ("437000986221264229011165482265", "#5F", Ok("437000986221264255340465094656.000000")),
        ("-999738197854", "1.40F", Ok("-999738197854.0000000000000000000000000000000000000000")),
    ];

    #[rustfmt::skip]
    const STR_FORMAT: &[(&str, &str, Result<&str, &str>)] = &[
        ("a", "z", Err("ValueError: Negative zero coercion (z) not allowed in string format specifier")),
        ("a", "+", Err("ValueError: Sign not allowed in string format specifier")),
        ("a", " ", Err("ValueError: Space not allowed in string format specifier")),
        ("a", "-", Err("ValueError: Sign not allowed in string format specifier")),
        ("a", "#", Err("ValueError: Alternate form (#) not allowed in string format specifier")),
        ("a", "=5", Err("ValueError: '=' alignment not allowed in string format specifier")),
        ("a", "+#=5", Err("ValueError: Invalid format specifier '+#=5' for object of type 'str'")),
        ("a", "=+5", Err("ValueError: Sign not allowed in string format specifier")),
        ("a", "=#5", Err("ValueError: Alternate form (#) not allowed in string format specifier")),
        ("a", "=z5", Err("ValueError: Negative zero coercion (z) not allowed in string format specifier")),
        ("a", "#z", Err("ValueError: Unknown format code 'z' for object of type 'str'")),
        ("a", ".2d", Err("ValueError: Unknown format code 'd' for object of type 'str'")),
        ("a", ",d", Err("ValueError: Unknown format code 'd' for object of type 'str'")),
        ("a", "5.2x", Err("ValueError: Unknown format code 'x' for object of type 'str'")),
        ("a", ",", Err("ValueError: Cannot specify ',' with 's'.")),
        ("a", "_", Err("ValueError: Cannot specify '_' with 's'.")),
        ("a", "\u{0}", Err("ValueError: Unknown format code '\\x0' for object of type 'str'")),
        ("ab", "05", Ok("ab000")),
        ("ab", ">05", Ok("000ab")),
        ("ab", "0=5", Err("ValueError: '=' alignment not allowed in string format specifier")),
        ("héllo", "10", Ok("héllo     ")),
        ("héllo", ">10", Ok("     héllo")),
        ("héllo", "^10", Ok("  héllo   ")),
        ("héllo", "*^11", Ok("***héllo***")),
        ("héllo", ".2", Ok("hé")),
        ("héllo", ".0", Ok("")),
        ("héllo", "10.3s", Ok("hél       ")),
        ("中文字", "€>6", Ok("€€€中文字")),
        ("", "5", Ok("     ")),
        ("", "", Ok("")),
        ("abc", "", Ok("abc")),
        ("abc", "s", Ok("abc")),
        ("abc", ".10", Ok("abc")),
        ("😀x", ".1", Ok("😀")),
        ("x", "١٠", Ok("x         ")),
        ("x", "99999999999999999999", Err("ValueError: Too many decimal digits in format string")),
        ("x", "ss", Err("ValueError: Invalid format specifier 'ss' for object of type 'str'")),
        ("x", ".", Err("ValueError: Format specifier missing precision")),
        ("x", "<", Ok("x")),
        ("x", "x<", Ok("x")),
        ("\n\u{e0001}\"\u{378}\u{378}", "+.17s", Err("ValueError: Sign not allowed in string format specifier")),
        ("", "5_s", Err("ValueError: Cannot specify '_' with 's'.")),
        ("''\u{3000}\u{7f}\u{ffff}\u{1b}_'", "", Ok("''\u{3000}\u{7f}\u{ffff}\u{1b}_'")),
        ("\u{3000}١\u{9f}90\u{200b}", "0", Ok("\u{3000}١\u{9f}90\u{200b}")),
        ("\u{9f}\u{10ffff}١Z\u{2028}\u{e000}\u{2fffe}", "^-0,", Err("ValueError: Cannot specify ',' with 's'.")),
        ("\u{10ffff}\u{2028}\u{7}\r", "^.2", Ok("\u{10ffff}\u{2028}")),
        ("\u{7f}+\u{378}", "10", Ok("\u{7f}+\u{378}       ")),
        ("", "0", Ok("")),
        ("e\t\u{e0001}Z\u{80}9中_", "#30s", Err("ValueError: Alternate form (#) not allowed in string format specifier")),
        ("_.\u{10ffff}中\u{7}١'", "-#_s", Err("ValueError: Cannot specify '_' with 's'.")),
        ("€\u{378}\t\u{e000}\u{a0}", "<-#0_.40s", Err("ValueError: Cannot specify '_' with 's'.")),
        ("\u{ad}\u{e000}\u{3000}", ".18s", Ok("\u{ad}\u{e000}\u{3000}")),
        ("", ">.4", Ok("")),
        ("😀\u{9f}\u{1b}", "€^-z#12", Err("ValueError: Sign not allowed in string format specifier")),
        ("e\u{7f}\r\u{7f}\u{a0}\u{378}\u{0}", "-.12s,", Err("ValueError: Invalid format specifier '-.12s,' for object of type 'str'")),
        ("€a", " 0,.15s", Err("ValueError: Cannot specify ',' with 's'.")),
        ("x\u{7}-\u{a0}\u{a0}", "+", Err("ValueError: Sign not allowed in string format specifier")),
        (" \u{ad}", "z1", Err("ValueError: Negative zero coercion (z) not allowed in string format specifier")),
        ("-9éZ\n\u{200b}\u{80}\\", "-5", Err("ValueError: Sign not allowed in string format specifier")),
        ("\t\u{10ffff}\u{200b} \u{2fffe}", "s", Ok("\t\u{10ffff}\u{200b} \u{2fffe}")),
        ("\u{ad} ", " 20.6", Err("ValueError: Space not allowed in string format specifier")),
        ("中\u{1b}e𝐀a\t ", "15.0s", Ok("               ")),
        ("\u{378}Z\u{ffff}\t\u{3000}\u{ad}", "#", Err("ValueError: Alternate form (#) not allowed in string format specifier")),
        ("\t\u{1b}\"\u{7f}中0", "-#08.12", Err("ValueError: Sign not allowed in string format specifier")),
        ("中😀\r+中\u{9f}\u{e0001}\n", "#.1", Err("ValueError: Alternate form (#) not allowed in string format specifier")),
        ("", "s", Ok("")),
        ("Z", "#10s", Err("ValueError: Alternate form (#) not allowed in string format specifier")),
        ("", " #0.4", Err("ValueError: Space not allowed in string format specifier")),
        ("\u{ad}", "^10.18s", Ok("    \u{ad}     ")),
        ("١x\u{2fffe}\u{e000}\r-中😀", "#5s", Err("ValueError: Alternate form (#) not allowed in string format specifier")),
        ("ße", ">#0.5", Err("ValueError: Alternate form (#) not allowed in string format specifier")),
        ("\u{10ffff}\u{3000}_\\", "+0.18", Err("ValueError: Sign not allowed in string format specifier")),
        ("€", "z2", Err("ValueError: Negative zero coercion (z) not allowed in string format specifier")),
        ("é\u{d7ff}", ".6", Ok("é\u{d7ff}")),
        ("\u{7}", "-_.8", Err("ValueError: Cannot specify '_' with 's'.")),
        ("中é.", "z.6", Err("ValueError: Negative zero coercion (z) not allowed in string format specifier")),
        ("\u{e0001}\u{10ffff}\u{e0001}\u{a0}", "20", Ok("\u{e0001}\u{10ffff}\u{e0001}\u{a0}                ")),
        ("𝐀\u{200b}\u{7}\u{10ffff}\u{0}\n", "x>030s", Ok("xxxxxxxxxxxxxxxxxxxxxxxx𝐀\u{200b}\u{7}\u{10ffff}\u{0}\n")),
        ("", "*=2s", Err("ValueError: '=' alignment not allowed in string format specifier")),
        ("a\u{0}e\n\t\u{0}", " ", Err("ValueError: Space not allowed in string format specifier")),
        ("\u{0}\u{7f}", "+_.2s", Err("ValueError: Cannot specify '_' with 's'.")),
        ("😀\u{2fffe}e\t9𝐀\u{7}_", "25.1s", Ok("😀                        ")),
        ("_'", "=+15", Err("ValueError: Sign not allowed in string format specifier")),
        ("\u{7}\\\\😀\t", "+1s", Err("ValueError: Sign not allowed in string format specifier")),
        ("x'\u{1b}\u{e0001}€\u{a0}", " 20", Err("ValueError: Space not allowed in string format specifier")),
        ("\u{a0}\n\u{d7ff}", ".12", Ok("\u{a0}\n\u{d7ff}")),
        (".Z", "*<+z#0.8", Err("ValueError: Sign not allowed in string format specifier")),
        ("", "^.0s", Ok("")),
        (".中", "+", Err("ValueError: Sign not allowed in string format specifier")),
        ("\\\"𝐀\\", "0<+#01.12", Err("ValueError: Sign not allowed in string format specifier")),
        ("\u{0}\u{e000}\u{7f}\n中\u{7} ", "#0,.5", Err("ValueError: Cannot specify ',' with 's'.")),
        ("_é", "10.1s", Ok("_         ")),
        ("\u{9f}\u{0}€e𝐀\u{200b}\u{378}中", "15.6s", Ok("\u{9f}\u{0}€e𝐀\u{200b}         ")),
        ("", "^-0.40s", Err("ValueError: Sign not allowed in string format specifier")),
        ("\u{200b}\"\n0١", "*=030.18", Err("ValueError: '=' alignment not allowed in string format specifier")),
        ("é\n\u{1b}", " 010.2", Err("ValueError: Space not allowed in string format specifier")),
        ("\t\u{80}e", "> 30", Err("ValueError: Space not allowed in string format specifier")),
        ("x\"\u{a0}\u{0}_", "+#0.25", Err("ValueError: Sign not allowed in string format specifier")),
        ("𝐀\n'\u{2fffe}\u{9f}\u{ffff}\n\u{7f}", "15.5s", Ok("𝐀\n'\u{2fffe}\u{9f}          ")),
        ("\u{d7ff}\"\"_\u{80}\u{e000}.", "-0.40s", Err("ValueError: Sign not allowed in string format specifier")),
    ];

    #[rustfmt::skip]
    const ROUND: &[(f64, i64, Result<f64, &str>)] = &[
        (2.675, 2, Ok(2.67)),
        (0.5, 0, Ok(0.0)),
        (1.5, 0, Ok(2.0)),
        (2.5, 0, Ok(2.0)),
        (-0.5, 0, Ok(-0.0)),
        (-0.4, 0, Ok(-0.0)),
        (1234.5, -1, Ok(1230.0)),
        (1235.0, -1, Ok(1240.0)),
        (1245.0, -1, Ok(1240.0)),
        (-1234.5, -1, Ok(-1230.0)),
        (1.7976931348623157e+308, -308, Err("OverflowError: rounded value too large to represent")),
        (1.7976931348623157e+308, -307, Err("OverflowError: rounded value too large to represent")),
        (5e-324, 323, Ok(0.0)),
        (5e-324, 324, Ok(5e-324)),
        (5e-324, 400, Ok(5e-324)),
        (-5e-324, 323, Ok(-0.0)),
        (-1.5, -400, Ok(-0.0)),
        (1.5, -308, Ok(0.0)),
        (1.5, -309, Ok(0.0)),
        (f64::INFINITY, 2, Ok(f64::INFINITY)),
        (-f64::INFINITY, -2, Ok(-f64::INFINITY)),
        (f64::NAN, 0, Ok(f64::NAN)),
        (0.0, 3, Ok(0.0)),
        (-0.0, -3, Ok(-0.0)),
        (0.125, 2, Ok(0.12)),
        (0.375, 2, Ok(0.38)),
        (1e+300, 2, Ok(1e+300)),
        (1e+300, -300, Ok(1e+300)),
        (1.5e+300, -300, Ok(2e+300)),
        (2.5e+300, -300, Ok(3e+300)),
        (123.456, 1, Ok(123.5)),
        (123.456, -2, Ok(100.0)),
        (123.456, -3, Ok(0.0)),
        (555.0, -1, Ok(560.0)),
        (565.0, -1, Ok(560.0)),
        (0.285, 2, Ok(0.28)),
        (1.0000000000000002, 15, Ok(1.0)),
        (1.0000000000000002, 16, Ok(1.0000000000000002)),
        (0.1, 17, Ok(0.1)),
        (0.1, 30, Ok(0.1)),
        (9.995, 2, Ok(9.99)),
        (4503599627370496.0, 0, Ok(4503599627370496.0)),
        (4503599627370497.0, -1, Ok(4503599627370500.0)),
        (1e+22, -22, Ok(1e+22)),
        (1e+22, -23, Ok(0.0)),
        (5e+22, -23, Ok(0.0)),
        (-2.5, 0, Ok(-2.0)),
        (1e-320, 320, Ok(1e-320)),
        (1e-320, 319, Ok(0.0)),
        (9.79341871170134e+17, -300, Ok(0.0)),
        (696833.375, 176, Ok(696833.375)),
        (-558676.2752387524, -300, Ok(-0.0)),
        (120048.9613052591, 10, Ok(120048.9613052591)),
        (9.93850473319087e-18, 0, Ok(0.0)),
        (842.556, 300, Ok(842.556)),
        (-2414644240.021253, 5, Ok(-2414644240.02125)),
        (-7.015188808935372e+17, 0, Ok(-7.015188808935372e+17)),
        (-3.981683420109189e+17, 5, Ok(-3.981683420109189e+17)),
        (6.239400857183612e+29, 3, Ok(6.239400857183612e+29)),
        (-51819.989145, 0, Ok(-51820.0)),
        (-9313.625, -10, Ok(-0.0)),
        (-649752.25, -1, Ok(-649750.0)),
        (4.083757941299932, 3, Ok(4.084)),
        (60.9091796875, 300, Ok(60.9091796875)),
        (-775718615112729.0, 3, Ok(-775718615112729.0)),
        (49520.170295, 61, Ok(49520.170295)),
        (-6.37354527796361, -2, Ok(-0.0)),
        (-44655.0, -2, Ok(-44700.0)),
        (27436676960.42731, -1, Ok(27436676960.0)),
        (-1e-299, 17, Ok(-0.0)),
        (0.9255043452413991, 3, Ok(0.926)),
        (-956032.9518918551, -300, Ok(-0.0)),
        (0.4889378585012716, 0, Ok(0.0)),
        (3.0243269115343234e-33, 17, Ok(0.0)),
        (-2765401325.163147, 300, Ok(-2765401325.163147)),
        (-9.917413860470623e-11, 300, Ok(-9.917413860470623e-11)),
        (0.0001, 15, Ok(0.0001)),
        (-602170.0, -2, Ok(-602200.0)),
        (1.493679708691474e-308, -305, Ok(0.0)),
        (-499203.0138845642, 5, Ok(-499203.01388)),
        (7.048479192223768e+16, 17, Ok(7.048479192223768e+16)),
        (-895000.0, -10, Ok(-0.0)),
        (3.2784287920981285e-68, -300, Ok(0.0)),
        (9797853805.778103, 162, Ok(9797853805.778103)),
        (51647638.052081235, 5, Ok(51647638.05208)),
        (751456.8544070595, 2, Ok(751456.85)),
        (4.306227505808156e-23, -300, Ok(0.0)),
        (9904736.859803235, 300, Ok(9904736.859803235)),
        (1013753697.505686, 5, Ok(1013753697.50569)),
        (18397.111731843557, 3, Ok(18397.112)),
        (1.2189004383888007e-308, 10, Ok(0.0)),
        (142532.43402616866, 1, Ok(142532.4)),
        (-15981.319765, -10, Ok(-0.0)),
        (2462910434.6773624, 2, Ok(2462910434.68)),
        (-78225800.77096878, 10, Ok(-78225800.77096878)),
        (8.267030608680313e-309, -10, Ok(0.0)),
        (5.91e+24, 310, Ok(5.91e+24)),
        (-0.37255859375, 17, Ok(-0.37255859375)),
        (-3.822260487803083e+17, 17, Ok(-3.822260487803083e+17)),
        (140506803861974.5, 1, Ok(140506803861974.5)),
        (61.6892031967396, -10, Ok(0.0)),
        (1.7976931348623157e+308, 1, Ok(1.7976931348623157e+308)),
        (12.37333377600267, 17, Ok(12.37333377600267)),
        (1.2779012236064918e-86, 300, Ok(1.2779012236064918e-86)),
        (9999999999999998.0, 300, Ok(9999999999999998.0)),
        (478.822, 300, Ok(478.822)),
        (-1e-158, -2, Ok(-0.0)),
        (-10699.052425, 17, Ok(-10699.052425)),
        (388705.72439086507, 5, Ok(388705.72439)),
        (-1e+292, 300, Ok(-1e+292)),
        (0.0008300000000000001, 17, Ok(0.00083)),
        (-0.3909439423992628, 5, Ok(-0.39094)),
        (8281992762.93185, 2, Ok(8281992762.93)),
        (932302.375, 1, Ok(932302.4)),
        (43630.219915, 3, Ok(43630.22)),
        (9.707, -2, Ok(0.0)),
        (215100.62796817557, 5, Ok(215100.62797)),
        (1075125311155.2969, 0, Ok(1075125311155.0)),
        (-949.81, -2, Ok(-900.0)),
        (97.6489988386303, -10, Ok(0.0)),
        (324199.25, -300, Ok(0.0)),
        (-184.994, -1, Ok(-180.0)),
        (2.0301143975007234e-308, 17, Ok(0.0)),
        (92430.378165, -2, Ok(92400.0)),
        (94690.47440565773, 15, Ok(94690.47440565773)),
        (-4.7, 17, Ok(-4.7)),
        (186954.57626874, 2, Ok(186954.58)),
        (-5e-324, 10, Ok(-0.0)),
        (-2.96e+23, 17, Ok(-2.96e+23)),
    ];

    #[rustfmt::skip]
    const TO_INT: &[(f64, Result<&str, &str>, Result<&str, &str>)] = &[
        (0.5, Ok("0"), Ok("0")),
        (1.5, Ok("2"), Ok("1")),
        (2.5, Ok("2"), Ok("2")),
        (-0.5, Ok("0"), Ok("0")),
        (-1.5, Ok("-2"), Ok("-1")),
        (-2.5, Ok("-2"), Ok("-2")),
        (0.49999999999999994, Ok("0"), Ok("0")),
        (1e+20, Ok("100000000000000000000"), Ok("100000000000000000000")),
        (-1e+20, Ok("-100000000000000000000"), Ok("-100000000000000000000")),
        (1e+300, Ok("1681218273811815*2^946"), Ok("1681218273811815*2^946")),
        (5e-324, Ok("0"), Ok("0")),
        (4503599627370496.0, Ok("4503599627370496"), Ok("4503599627370496")),
        (4503599627370497.0, Ok("4503599627370497"), Ok("4503599627370497")),
        (9.223372036854776e+18, Ok("9223372036854775808"), Ok("9223372036854775808")),
        (-9.223372036854776e+18, Ok("-9223372036854775808"), Ok("-9223372036854775808")),
        (9.2e+18, Ok("9200000000000000000"), Ok("9200000000000000000")),
        (1.7976931348623157e+308, Ok("9007199254740991*2^971"), Ok("9007199254740991*2^971")),
        (f64::INFINITY, Err("OverflowError: cannot convert float infinity to integer"), Err("OverflowError: cannot convert float infinity to integer")),
        (-f64::INFINITY, Err("OverflowError: cannot convert float infinity to integer"), Err("OverflowError: cannot convert float infinity to integer")),
        (f64::NAN, Err("ValueError: cannot convert float NaN to integer"), Err("ValueError: cannot convert float NaN to integer")),
        (-0.0, Ok("0"), Ok("0")),
        (123.999, Ok("124"), Ok("123")),
        (-123.999, Ok("-124"), Ok("-123")),
        (9007199254740994.0, Ok("9007199254740994"), Ok("9007199254740994")),
        (-1e+237, Ok("-5532904662818065*2^735"), Ok("-5532904662818065*2^735")),
        (8520236390.745804, Ok("8520236391"), Ok("8520236390")),
        (-8.792998594462794e+17, Ok("-879299859446279424"), Ok("-879299859446279424")),
        (-3.5e+20, Ok("-350000000000000000000"), Ok("-350000000000000000000")),
        (7.861635924888853e-12, Ok("0"), Ok("0")),
        (38807.25, Ok("38807"), Ok("38807")),
        (-158.580078125, Ok("-159"), Ok("-158")),
        (123456.0, Ok("123456"), Ok("123456")),
        (1.806740910109026e-308, Ok("0"), Ok("0")),
        (-1e-266, Ok("0"), Ok("0")),
        (8.719191110302877, Ok("9"), Ok("8")),
        (341217.75, Ok("341218"), Ok("341217")),
        (1390.0, Ok("1390"), Ok("1390")),
        (-986119.1396250508, Ok("-986119"), Ok("-986119")),
        (-1498459.0060987463, Ok("-1498459"), Ok("-1498459")),
        (-199020.625, Ok("-199021"), Ok("-199020")),
        (f64::NAN, Err("ValueError: cannot convert float NaN to integer"), Err("ValueError: cannot convert float NaN to integer")),
        (-588280501.5546265, Ok("-588280502"), Ok("-588280501")),
        (-89404.44158641063, Ok("-89404"), Ok("-89404")),
        (486.128, Ok("486"), Ok("486")),
        (-27.203865, Ok("-27"), Ok("-27")),
        (-48084.635282221716, Ok("-48085"), Ok("-48084")),
        (1.8556492620365336e-308, Ok("0"), Ok("0")),
        (5784308.821050694, Ok("5784309"), Ok("5784308")),
        (-726757.0186552203, Ok("-726757"), Ok("-726757")),
        (-4190000000000000.0, Ok("-4190000000000000"), Ok("-4190000000000000")),
        (-5.257611584096286e+265, Ok("-1835828493668223*2^832"), Ok("-1835828493668223*2^832")),
        (5054630181283406.0, Ok("5054630181283406"), Ok("5054630181283406")),
        (5.412339790356137e+17, Ok("541233979035613696"), Ok("541233979035613696")),
        (913905.2049590629, Ok("913905"), Ok("913905")),
    ];

    #[rustfmt::skip]
    const PARSE_FLOAT: &[(&str, Result<f64, &str>)] = &[
        ("1_000.5", Ok(1000.5)),
        ("1e1_0", Ok(10000000000.0)),
        ("1_e5", Err("ValueError: could not convert string to float: '1_e5'")),
        ("1.5_", Err("ValueError: could not convert string to float: '1.5_'")),
        ("١٢", Ok(12.0)),
        ("  1.5\u{2003}", Ok(1.5)),
        ("1\u{1c}", Err("ValueError: could not convert string to float: '1\\x1c'")),
        ("\u{1c}1", Err("ValueError: could not convert string to float: '\\x1c1'")),
        ("\u{85} 1", Ok(1.0)),
        ("infinity", Ok(f64::INFINITY)),
        ("-iNfInItY", Ok(-f64::INFINITY)),
        ("nan", Ok(f64::NAN)),
        ("+nan", Ok(f64::NAN)),
        ("-nan", Ok(f64::NAN)),
        ("infi", Err("ValueError: could not convert string to float: 'infi'")),
        ("1.e5", Ok(100000.0)),
        (".e5", Err("ValueError: could not convert string to float: '.e5'")),
        ("1e+5", Ok(100000.0)),
        ("1E-5", Ok(1e-05)),
        ("0x1p3", Err("ValueError: could not convert string to float: '0x1p3'")),
        ("1_000.000_1", Ok(1000.0001)),
        ("1._5", Err("ValueError: could not convert string to float: '1._5'")),
        ("1_.5", Err("ValueError: could not convert string to float: '1_.5'")),
        ("-_1", Err("ValueError: could not convert string to float: '-_1'")),
        ("1e_5", Err("ValueError: could not convert string to float: '1e_5'")),
        ("1e5_", Err("ValueError: could not convert string to float: '1e5_'")),
        ("", Err("ValueError: could not convert string to float: ''")),
        (" ", Err("ValueError: could not convert string to float: ' '")),
        (".", Err("ValueError: could not convert string to float: '.'")),
        ("1.", Ok(1.0)),
        (".5", Ok(0.5)),
        ("-.5", Ok(-0.5)),
        ("+1", Ok(1.0)),
        ("++1", Err("ValueError: could not convert string to float: '++1'")),
        ("1e", Err("ValueError: could not convert string to float: '1e'")),
        ("1e+", Err("ValueError: could not convert string to float: '1e+'")),
        ("e5", Err("ValueError: could not convert string to float: 'e5'")),
        ("1e500", Ok(f64::INFINITY)),
        ("-1e500", Ok(-f64::INFINITY)),
        ("1e-500", Ok(0.0)),
        ("-0", Ok(-0.0)),
        ("  -0.0  ", Ok(-0.0)),
        ("\t\n1\r\u{b}\u{c}", Ok(1.0)),
        ("abc", Err("ValueError: could not convert string to float: 'abc'")),
        ("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", Err("ValueError: could not convert string to float: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'")),
        ("it's", Err("ValueError: could not convert string to float: \"it's\"")),
        ("1\u{0}", Err("ValueError: could not convert string to float: '1\\x00'")),
        ("0001.2500", Ok(1.25)),
        ("2.2250738585072011e-308", Ok(2.225073858507201e-308)),
        ("4.9406564584124654e-324", Ok(5e-324)),
        ("2.4703282292062327e-324", Ok(0.0)),
        ("2.4703282292062328e-324", Ok(5e-324)),
        ("1.7976931348623158e308", Ok(1.7976931348623157e+308)),
        ("1.7976931348623159e308", Ok(f64::INFINITY)),
        ("9007199254740993", Ok(9007199254740992.0)),
        ("１.5", Ok(1.5)),
        ("in f", Err("ValueError: could not convert string to float: 'in f'")),
        ("i", Err("ValueError: could not convert string to float: 'i'")),
        ("1e1000000000000000000000", Ok(f64::INFINITY)),
        ("1e-1000000000000000000000", Ok(0.0)),
        ("-0e5", Ok(-0.0)),
        ("NaN_", Err("ValueError: could not convert string to float: 'NaN_'")),
        ("INFINITY", Ok(f64::INFINITY)),
        ("+inF", Ok(f64::INFINITY)),
        ("١.٥e٢", Ok(150.0)),
        ("1\u{a0}", Ok(1.0)),
        ("\u{3000} 2", Ok(2.0)),
        ("\u{a0}428752806\u{a0}", Ok(428752806.0)),
        ("758040\u{85}", Ok(758040.0)),
        ("\u{85}+01300.43411\u{85}", Ok(1300.43411)),
        (" 57363.708285\u{a0}", Ok(57363.708285)),
        (" +.68477", Ok(0.68477)),
        ("7.3\u{2003}", Ok(7.3)),
        ("\u{2003}+5747022288\n", Ok(5747022288.0)),
        ("\u{85}+651-6\u{1c}", Err("ValueError: could not convert string to float: '\\x85+651-6\\x1c'")),
        ("\n76.3\u{a0}", Ok(76.3)),
        ("\u{85}o96\u{a0}", Err("ValueError: could not convert string to float: '\\x85o96\\xa0'")),
        (" 4036.970\n", Ok(4036.97)),
        ("8_5e-54\u{1c}", Err("ValueError: could not convert string to float: '8_5e-54\\x1c'")),
        (" -8390\u{a0}", Ok(-8390.0)),
        ("\t+2805400327041\u{1c}", Err("ValueError: could not convert string to float: '\\t+2805400327041\\x1c'")),
        (".044\u{a0}", Ok(0.044)),
        ("\u{2003}73085E", Err("ValueError: could not convert string to float: '\\u200373085E'")),
        (" x.79_5_", Err("ValueError: could not convert string to float: ' x.79_5_'")),
        ("\t+b607-9o\t", Err("ValueError: could not convert string to float: '\\t+b607-9o\\t'")),
        ("\u{2003}6oa5a..3\u{1c}", Err("ValueError: could not convert string to float: '\\u20036oa5a..3\\x1c'")),
        ("\u{85}+-439.572\n", Err("ValueError: could not convert string to float: '\\x85+-439.572\\n'")),
        ("\u{a0}00", Ok(0.0)),
        ("\u{2003}0o17\t", Err("ValueError: could not convert string to float: '\\u20030o17\\t'")),
        ("0x10\u{2003}", Err("ValueError: could not convert string to float: '0x10\\u2003'")),
        ("\u{a0}96071387552\n", Ok(96071387552.0)),
        ("4291514346402058\t", Ok(4291514346402058.0)),
        ("\n0789.8023\t", Ok(789.8023)),
        ("-785589040.1328125", Ok(-785589040.1328125)),
        ("\u{a0}5049.17", Ok(5049.17)),
        ("\u{1c}1e+182\u{2003}", Err("ValueError: could not convert string to float: '\\x1c1e+182\\u2003'")),
        ("7692_2.13\t", Ok(76922.13)),
        ("\t-5968579833.580196\n", Ok(-5968579833.580196)),
        ("\n-71985E+0 ", Ok(-71985.0)),
        ("-00\u{2003}", Ok(-0.0)),
        ("\u{1c}+-1e+277", Err("ValueError: could not convert string to float: '\\x1c+-1e+277'")),
        ("\u{2003}.98\u{85}", Ok(0.98)),
        (" 389e692\u{85}", Ok(f64::INFINITY)),
        ("\u{1c}in_f\u{1c}", Err("ValueError: could not convert string to float: '\\x1cin_f\\x1c'")),
        ("\u{a0}+67791\u{a0}", Ok(67791.0)),
        ("\u{a0}-4.664062663720773e+248", Ok(-4.664062663720773e+248)),
        ("\t-3-_3o7+\u{1c}", Err("ValueError: could not convert string to float: '\\t-3-_3o7+\\x1c'")),
        ("\u{85}+inf\u{1c}", Err("ValueError: could not convert string to float: '\\x85+inf\\x1c'")),
        ("\t-8630209070\u{1c}", Err("ValueError: could not convert string to float: '\\t-8630209070\\x1c'")),
        ("\u{2003}+１\u{2003}", Ok(1.0)),
        ("b7771\u{85}", Err("ValueError: could not convert string to float: 'b7771\\x85'")),
        ("\u{1c}0x_1f\n", Err("ValueError: could not convert string to float: '\\x1c0x_1f\\n'")),
        ("\u{2003}75+56959\u{1c}", Err("ValueError: could not convert string to float: '\\u200375+56959\\x1c'")),
        ("\u{85}889E+5", Ok(88900000.0)),
        ("\u{85}413578.25\n", Ok(413578.25)),
        ("\u{2003}-25515E+\u{2003}", Err("ValueError: could not convert string to float: '\\u2003-25515E+\\u2003'")),
        ("\t--11868.035985", Err("ValueError: could not convert string to float: '\\t--11868.035985'")),
        ("\u{1c}-.\u{2003}", Err("ValueError: could not convert string to float: '\\x1c-.\\u2003'")),
        ("45ao2", Err("ValueError: could not convert string to float: '45ao2'")),
        ("\u{2003}644\t", Ok(644.0)),
        ("\n-9.1087\u{a0}", Ok(-9.1087)),
        ("+0_0\n", Ok(0.0)),
        ("\u{2003}628162573192440\u{a0}", Ok(628162573192440.0)),
        ("8", Ok(8.0)),
        ("\u{85}7020 ", Ok(7020.0)),
    ];

    #[rustfmt::skip]
    const PARSE_INT: &[(&str, u32, Result<&str, &str>)] = &[
        ("12", 10, Ok("12")),
        ("twelve", 10, Err("ValueError: invalid literal for int() with base 10: 'twelve'")),
        ("0x", 16, Err("ValueError: invalid literal for int() with base 16: '0x'")),
        ("0x_1", 16, Ok("1")),
        ("0x_1", 0, Ok("1")),
        ("0_0", 0, Ok("0")),
        ("00", 0, Ok("0")),
        ("07", 0, Err("ValueError: invalid literal for int() with base 0: '07'")),
        ("0b", 0, Err("ValueError: invalid literal for int() with base 0: '0b'")),
        ("0x", 0, Err("ValueError: invalid literal for int() with base 0: '0x'")),
        ("0o8", 0, Err("ValueError: invalid literal for int() with base 0: '0o8'")),
        ("12", 1, Err("ValueError: int() base must be >= 2 and <= 36, or 0")),
        ("12", 37, Err("ValueError: int() base must be >= 2 and <= 36, or 0")),
        ("0b101", 2, Ok("5")),
        ("0B101", 0, Ok("5")),
        ("0b101", 16, Ok("45313")),
        ("0o17", 8, Ok("15")),
        ("0x1g", 16, Err("ValueError: invalid literal for int() with base 16: '0x1g'")),
        ("Z", 36, Ok("35")),
        ("z", 35, Err("ValueError: invalid literal for int() with base 35: 'z'")),
        ("+ 1", 10, Err("ValueError: invalid literal for int() with base 10: '+ 1'")),
        ("- 1", 10, Err("ValueError: invalid literal for int() with base 10: '- 1'")),
        ("١", 10, Ok("1")),
        ("0١", 0, Err("ValueError: invalid literal for int() with base 0: '0١'")),
        ("１２", 10, Ok("12")),
        ("1\u{2003}", 10, Ok("1")),
        ("\u{1f}1\u{1c}", 10, Err("ValueError: invalid literal for int() with base 10: '\\x1f1\\x1c'")),
        ("  -42  ", 10, Ok("-42")),
        ("1_000_000", 10, Ok("1000000")),
        ("1__0", 10, Err("ValueError: invalid literal for int() with base 10: '1__0'")),
        ("_1", 10, Err("ValueError: invalid literal for int() with base 10: '_1'")),
        ("1_", 10, Err("ValueError: invalid literal for int() with base 10: '1_'")),
        ("0x__1", 16, Err("ValueError: invalid literal for int() with base 16: '0x__1'")),
        ("0x1_f", 0, Ok("31")),
        ("0X1F", 0, Ok("31")),
        ("0o_7", 0, Ok("7")),
        ("0_7", 0, Err("ValueError: invalid literal for int() with base 0: '0_7'")),
        ("0_0_0", 0, Ok("0")),
        ("-0", 0, Ok("0")),
        ("-0x10", 0, Ok("-16")),
        ("+0b11", 0, Ok("3")),
        ("ff", 16, Ok("255")),
        ("FF", 16, Ok("255")),
        ("0xff", 10, Err("ValueError: invalid literal for int() with base 10: '0xff'")),
        ("", 10, Err("ValueError: invalid literal for int() with base 10: ''")),
        (" ", 10, Err("ValueError: invalid literal for int() with base 10: ' '")),
        ("it's", 10, Err("ValueError: invalid literal for int() with base 10: \"it's\"")),
        ("9", 8, Err("ValueError: invalid literal for int() with base 8: '9'")),
        ("18446744073709551616", 10, Ok("18446744073709551616")),
        ("-9223372036854775809", 10, Ok("-9223372036854775809")),
        ("zz", 36, Ok("1295")),
        ("1.5", 10, Err("ValueError: invalid literal for int() with base 10: '1.5'")),
        ("1e5", 10, Err("ValueError: invalid literal for int() with base 10: '1e5'")),
        ("0b2", 0, Err("ValueError: invalid literal for int() with base 0: '0b2'")),
        ("0b1", 2, Ok("1")),
        ("0o1", 8, Ok("1")),
        ("0O1", 8, Ok("1")),
        ("0x", 2, Err("ValueError: invalid literal for int() with base 2: '0x'")),
        (" +1-0eo6\u{2003}", 16, Err("ValueError: invalid literal for int() with base 16: ' +1-0eo6\\u2003'")),
        (" +21350.0\u{1c}", 36, Err("ValueError: invalid literal for int() with base 36: ' +21350.0\\x1c'")),
        ("\u{a0}48.1_2286\u{1c}", 10, Err("ValueError: invalid literal for int() with base 10: '\\xa048.1_2286\\x1c'")),
        ("\n-a15\u{2003}", 10, Err("ValueError: invalid literal for int() with base 10: '\\n-a15\\u2003'")),
        ("\u{85}715404.188498362\u{2003}", 10, Err("ValueError: invalid literal for int() with base 10: '\\x85715404.188498362\\u2003'")),
        ("\n-7136e-257", 2, Err("ValueError: invalid literal for int() with base 2: '\\n-7136e-257'")),
        ("\u{2003}+0x", 10, Err("ValueError: invalid literal for int() with base 10: '\\u2003+0x'")),
        ("\u{2003}+8.194524961529556e-309", 36, Err("ValueError: invalid literal for int() with base 36: '\\u2003+8.194524961529556e-309'")),
        ("\u{2003}", 0, Err("ValueError: invalid literal for int() with base 0: '\\u2003'")),
        ("-804960.4578337669", 10, Err("ValueError: invalid literal for int() with base 10: '-804960.4578337669'")),
        ("\t3o ", 10, Err("ValueError: invalid literal for int() with base 10: '\\t3o '")),
        (" -748e+561\n", 0, Err("ValueError: invalid literal for int() with base 0: ' -748e+561\\n'")),
        ("\n9126266699841\u{1c}", 2, Err("ValueError: invalid literal for int() with base 2: '\\n9126266699841\\x1c'")),
        ("  ", 8, Err("ValueError: invalid literal for int() with base 8: '  '")),
        ("\u{2003}619.9073386754898 ", 2, Err("ValueError: invalid literal for int() with base 2: '\\u2003619.9073386754898 '")),
        ("e5\u{2003}", 0, Err("ValueError: invalid literal for int() with base 0: 'e5\\u2003'")),
        ("\t972_4e+\u{a0}", 7, Err("ValueError: invalid literal for int() with base 7: '\\t972_4e+\\xa0'")),
        (" .63 ", 10, Err("ValueError: invalid literal for int() with base 10: ' .63 '")),
        ("\t5.205\t", 0, Err("ValueError: invalid literal for int() with base 0: '\\t5.205\\t'")),
        ("\n2e-7\u{a0}", 36, Err("ValueError: invalid literal for int() with base 36: '\\n2e-7\\xa0'")),
        ("\u{2003}967972835551578521", 8, Err("ValueError: invalid literal for int() with base 8: '\\u2003967972835551578521'")),
        ("25.47984\u{2003}", 2, Err("ValueError: invalid literal for int() with base 2: '25.47984\\u2003'")),
        ("\n3_833E-9", 36, Err("ValueError: invalid literal for int() with base 36: '\\n3_833E-9'")),
        ("\u{85}-06.42 ", 3, Err("ValueError: invalid literal for int() with base 3: '\\x85-06.42 '")),
        ("\t１\u{2003}", 2, Ok("1")),
        ("0.8", 36, Err("ValueError: invalid literal for int() with base 36: '0.8'")),
        ("\u{1c}3507-E7b ", 10, Err("ValueError: invalid literal for int() with base 10: '\\x1c3507-E7b '")),
        (" -in_f\u{85}", 8, Err("ValueError: invalid literal for int() with base 8: ' -in_f\\x85'")),
        ("790218.25\n", 7, Err("ValueError: invalid literal for int() with base 7: '790218.25\\n'")),
        ("233579\t", 10, Ok("233579")),
        ("\u{1c}298.99090\n", 0, Err("ValueError: invalid literal for int() with base 0: '\\x1c298.99090\\n'")),
        ("\u{1c}9008828234306504\u{1c}", 36, Err("ValueError: invalid literal for int() with base 36: '\\x1c9008828234306504\\x1c'")),
        ("-98824E+5\u{85}", 10, Err("ValueError: invalid literal for int() with base 10: '-98824E+5\\x85'")),
        ("+6368E-\n", 10, Err("ValueError: invalid literal for int() with base 10: '+6368E-\\n'")),
        ("\u{1c}١٢ ", 10, Err("ValueError: invalid literal for int() with base 10: '\\x1c١٢ '")),
        ("+493226030021945\t", 0, Ok("493226030021945")),
        ("\u{2003}-476.2901 ", 0, Err("ValueError: invalid literal for int() with base 0: '\\u2003-476.2901 '")),
        ("\u{1c}x-_x8E27\u{2003}", 2, Err("ValueError: invalid literal for int() with base 2: '\\x1cx-_x8E27\\u2003'")),
        ("+53390018444\u{2003}", 7, Err("ValueError: invalid literal for int() with base 7: '+53390018444\\u2003'")),
        ("x0", 10, Err("ValueError: invalid literal for int() with base 10: 'x0'")),
        ("\t-inf\n", 8, Err("ValueError: invalid literal for int() with base 8: '\\t-inf\\n'")),
        ("\u{85}98.0991\n", 2, Err("ValueError: invalid literal for int() with base 2: '\\x8598.0991\\n'")),
        ("INF\t", 16, Err("ValueError: invalid literal for int() with base 16: 'INF\\t'")),
        ("\u{1c}.0E\t", 7, Err("ValueError: invalid literal for int() with base 7: '\\x1c.0E\\t'")),
        ("\u{2003}.73_271", 8, Err("ValueError: invalid literal for int() with base 8: '\\u2003.73_271'")),
        ("\u{85}-966E ", 10, Err("ValueError: invalid literal for int() with base 10: '\\x85-966E '")),
        ("\u{85}95189\n", 36, Ok("15351417")),
        ("+Z\u{a0}", 10, Err("ValueError: invalid literal for int() with base 10: '+Z\\xa0'")),
        ("\u{a0}31115E+", 0, Err("ValueError: invalid literal for int() with base 0: '\\xa031115E+'")),
        ("\n+165798\u{2003}", 16, Ok("1464216")),
        ("\n4047134460394875\n", 0, Ok("4047134460394875")),
        (" 81\u{a0}", 0, Ok("81")),
        ("7", 2, Err("ValueError: invalid literal for int() with base 2: '7'")),
        ("96068E-86\t", 36, Err("ValueError: invalid literal for int() with base 36: '96068E-86\\t'")),
        ("++b6b-321\u{85}", 2, Err("ValueError: invalid literal for int() with base 2: '++b6b-321\\x85'")),
        ("-82177365\n", 7, Err("ValueError: invalid literal for int() with base 7: '-82177365\\n'")),
        ("\u{2003}+30.7261\u{1c}", 7, Err("ValueError: invalid literal for int() with base 7: '\\u2003+30.7261\\x1c'")),
        ("\u{85}-7785\u{1c}", 36, Err("ValueError: invalid literal for int() with base 36: '\\x85-7785\\x1c'")),
        ("\u{2003}+5E+2\u{2003}", 36, Err("ValueError: invalid literal for int() with base 36: '\\u2003+5E+2\\u2003'")),
        (" +1.121225885488519e-308\u{a0}", 3, Err("ValueError: invalid literal for int() with base 3: ' +1.121225885488519e-308\\xa0'")),
    ];

    #[rustfmt::skip]
    const STR_REPR: &[(&str, &str)] = &[
        ("", "''"),
        ("a", "'a'"),
        ("it's", "\"it's\""),
        ("say \"hi\"", "'say \"hi\"'"),
        ("'\"", "'\\'\"'"),
        ("back\\slash", "'back\\\\slash'"),
        ("\n\t\r", "'\\n\\t\\r'"),
        ("\u{0}\u{7}\u{1b}\u{7f}", "'\\x00\\x07\\x1b\\x7f'"),
        ("\u{80}\u{9f}\u{a0}\u{ad}ÿ", "'\\x80\\x9f\\xa0\\xadÿ'"),
        ("é中€", "'é中€'"),
        ("\u{200b}\u{2028}\u{3000}\u{feff}", "'\\u200b\\u2028\\u3000\\ufeff'"),
        ("😀", "'😀'"),
        ("\u{e0001}\u{10ffff}\u{2fffe}", "'\\U000e0001\\U0010ffff\\U0002fffe'"),
        ("\u{378}", "'\\u0378'"),
        ("\u{e000}", "'\\ue000'"),
        ("a'b\"c", "'a\\'b\"c'"),
        (" ", "' '"),
        ("\u{a0}", "'\\xa0'"),
        ("\u{1680}", "'\\u1680'"),
        ("\u{600}", "'\\u0600'"),
        ("𝐀", "'𝐀'"),
        ("́", "'́'"),
        ("ٰ", "'ٰ'"),
        ("\u{f0000}", "'\\U000f0000'"),
        ("\u{2028}", "'\\u2028'"),
        ("\u{ad}١", "'\\xad١'"),
        ("\u{80}\\\u{a0}\u{0}中\r", "'\\x80\\\\\\xa0\\x00中\\r'"),
        ("\u{d7ff}.\u{7f}\u{10ffff}", "'\\ud7ff.\\x7f\\U0010ffff'"),
        ("\u{d7ff}-+", "'\\ud7ff-+'"),
        ("-\u{1b}\u{2028}\u{e0001}\u{e0001}", "'-\\x1b\\u2028\\U000e0001\\U000e0001'"),
        ("\u{ad}  \\\"", "'\\xad  \\\\\"'"),
        ("\u{200b}\u{ffff}\u{ffff}a_.\u{1b}0", "'\\u200b\\uffff\\uffffa_.\\x1b0'"),
        ("\u{378}\"\u{1b}١x\u{2028}x\u{0}", "'\\u0378\"\\x1b١x\\u2028x\\x00'"),
        ("\u{80}\u{ffff}\u{2028}", "'\\x80\\uffff\\u2028'"),
        ("_\u{3000}\r\"\u{a0}\u{2028}e", "'_\\u3000\\r\"\\xa0\\u2028e'"),
        ("\u{3000}\u{ad}e", "'\\u3000\\xade'"),
        ("\u{ad}", "'\\xad'"),
        ("\r-a", "'\\r-a'"),
        ("\"'x", "'\"\\'x'"),
        ("\u{7}eZ\u{e000}\u{7f}", "'\\x07eZ\\ue000\\x7f'"),
        (" \u{e000}١", "' \\ue000١'"),
        ("\n9", "'\\n9'"),
        ("\u{7}\u{a0}\n\u{d7ff}\u{80}9١\u{ffff}", "'\\x07\\xa0\\n\\ud7ff\\x809١\\uffff'"),
        ("\u{2028}\u{ad}\u{10ffff}𝐀\u{200b}0\u{0}", "'\\u2028\\xad\\U0010ffff𝐀\\u200b0\\x00'"),
        ("\u{ffff}\u{0}", "'\\uffff\\x00'"),
        ("\\x\u{3000}+\u{ad}\u{7}", "'\\\\x\\u3000+\\xad\\x07'"),
        ("\nZx", "'\\nZx'"),
        ("\r\u{2028}é\u{a0}aééß", "'\\r\\u2028é\\xa0aééß'"),
        ("\u{1b}+_\u{7}ß", "'\\x1b+_\\x07ß'"),
        ("\u{2028}0😀\t00_", "'\\u20280😀\\t00_'"),
        ("9𝐀", "'9𝐀'"),
        ("\u{2028}e\u{378}'", "\"\\u2028e\\u0378'\""),
        ("\u{ffff}", "'\\uffff'"),
        ("١\r\u{e000}\u{7f}\u{80}+_", "'١\\r\\ue000\\x7f\\x80+_'"),
        ("_\u{ad}\u{7f}9-\u{10ffff}\u{1b}", "'_\\xad\\x7f9-\\U0010ffff\\x1b'"),
        ("\u{e0001}\u{80}\u{e0001}", "'\\U000e0001\\x80\\U000e0001'"),
        ("\u{a0}\u{7}\u{200b}\u{3000}", "'\\xa0\\x07\\u200b\\u3000'"),
        ("١\u{1b}\"\t0+", "'١\\x1b\"\\t0+'"),
        ("€", "'€'"),
        ("\u{2fffe}._\u{80}\u{378}😀", "'\\U0002fffe._\\x80\\u0378😀'"),
        ("aZ\u{ffff}\"\\\u{7}😀\t", "'aZ\\uffff\"\\\\\\x07😀\\t'"),
    ];

    #[rustfmt::skip]
    const BYTES_REPR: &[(&[u8], &str)] = &[
        (b"", "b''"),
        (b"\x61\x62\x63", "b'abc'"),
        (b"\x69\x74\x27\x73", "b\"it's\""),
        (b"\x73\x61\x79\x20\x22\x68\x69\x22", "b'say \"hi\"'"),
        (b"\x27\x22", "b'\\'\"'"),
        (b"\x5c", "b'\\\\'"),
        (b"\x0a\x09\x0d", "b'\\n\\t\\r'"),
        (b"\x00\x07\x1f\x7f\x80\xff", "b'\\x00\\x07\\x1f\\x7f\\x80\\xff'"),
        (b"\x20\x7e", "b' ~'"),
        (b"\x00\x07\x0e\x15\x1c\x23\x2a\x31\x38\x3f\x46\x4d\x54\x5b\x62\x69\x70\x77\x7e\x85\x8c\x93\x9a\xa1\xa8\xaf\xb6\xbd\xc4\xcb\xd2\xd9\xe0\xe7\xee\xf5\xfc", "b'\\x00\\x07\\x0e\\x15\\x1c#*18?FMT[bipw~\\x85\\x8c\\x93\\x9a\\xa1\\xa8\\xaf\\xb6\\xbd\\xc4\\xcb\\xd2\\xd9\\xe0\\xe7\\xee\\xf5\\xfc'"),
        (b"\xc1\x45\x77\xcd\x79\x44\x8b\xf2\x59\xe4", "b'\\xc1Ew\\xcdyD\\x8b\\xf2Y\\xe4'"),
        (b"\xe1\x32", "b'\\xe12'"),
        (b"", "b''"),
        (b"\x9a\x84\x0d\xb9\x8d\x5d\xbe\x87", "b'\\x9a\\x84\\r\\xb9\\x8d]\\xbe\\x87'"),
        (b"\xc5\x8e\xd3\x5e", "b'\\xc5\\x8e\\xd3^'"),
        (b"\xd5\x44\x2a\x33\x93\x27\xc6\x8e", "b\"\\xd5D*3\\x93'\\xc6\\x8e\""),
        (b"\x49\xce\x99\x6b\x62\x49\x28", "b'I\\xce\\x99kbI('"),
        (b"\xd0\xee\x52\x1e", "b'\\xd0\\xeeR\\x1e'"),
        (b"\xca\x9a", "b'\\xca\\x9a'"),
        (b"\xb0\xa6\x63\xdc", "b'\\xb0\\xa6c\\xdc'"),
        (b"", "b''"),
        (b"\x4f\x61\x4d\x4c\xa2\x3b\xa0\x6c\xdb\xc0", "b'OaML\\xa2;\\xa0l\\xdb\\xc0'"),
        (b"\xaf\x88\x88\x6a\x0d\xbc\xed\x91", "b'\\xaf\\x88\\x88j\\r\\xbc\\xed\\x91'"),
        (b"\xa6\xca\x8d\xa1\x8e\x54\x3a\x4f\xf9\xaf", "b'\\xa6\\xca\\x8d\\xa1\\x8eT:O\\xf9\\xaf'"),
        (b"\x87", "b'\\x87'"),
    ];

    #[rustfmt::skip]
    const TRUE_DIV: &[(&str, &str, Result<f64, &str>)] = &[
        ("1267650600228229401496703205376", "316912650057057350374175801344", Ok(4.0)),
        ("10^400", "10^399", Ok(10.0)),
        ("1", "3", Ok(0.3333333333333333)),
        ("2", "3", Ok(0.6666666666666666)),
        ("-1", "3", Ok(-0.3333333333333333)),
        ("1", "-3", Ok(-0.3333333333333333)),
        ("0", "-5", Ok(-0.0)),
        ("0", "5", Ok(0.0)),
        ("10^400", "1", Err("OverflowError: integer division result too large for a float")),
        ("18014398509481983*2^970", "1", Err("OverflowError: integer division result too large for a float")),
        ("4*2^1022-2^970-1", "1", Ok(1.7976931348623157e+308)),
        ("1", "10^400", Ok(0.0)),
        ("-1", "10^400", Ok(-0.0)),
        ("9007199254740993", "1", Ok(9007199254740992.0)),
        ("9007199254740995", "2", Ok(4503599627370498.0)),
        ("18014398509481986", "4", Ok(4503599627370496.0)),
        ("1", "2^1074", Ok(5e-324)),
        ("1", "2^1075", Ok(0.0)),
        ("3", "2^1076", Ok(5e-324)),
        ("1", "4*2^1073-1", Ok(5e-324)),
        ("1", "2^1076", Ok(0.0)),
        ("2^2000", "2^1000", Ok(1.0715086071862673e+301)),
        ("-10^400", "3*10^399", Ok(-3.3333333333333335)),
        ("10^310", "100", Ok(1e+308)),
        ("7", "0", Err("ZeroDivisionError: division by zero")),
        ("3*2^1023", "2", Ok(1.348269851146737e+308)),
        ("2^1024", "2", Ok(8.98846567431158e+307)),
        ("1152921504606846977", "1152921504606846976", Ok(1.0)),
        ("12345678901234567890123", "1000", Ok(1.2345678901234567e+19)),
        ("38239000000000000000000000000000", "951324", Ok(4.019555903141306e+25)),
        ("107183100000000000000", "91372225854", Ok(1173038075.8291209)),
        ("1617660000000000000000000", "-116202579829", Ok(-13921033443323.691)),
        ("31659800000", "1025967", Ok(30858.49739806446)),
        ("60563000000000000000000", "771323360251930930957075264467", Ok(7.851830130001353e-08)),
        ("102821300000000000000000000000000000", "1013127", Ok(1.0148905319866118e+29)),
        ("15655200000000", "732796", Ok(21363653.731734343)),
        ("76840000000000", "743533972388097561015995949447", Ok(1.0334430282076248e-16)),
        ("8695350000000000000000000000", "298092", Ok(2.917002133569502e+22)),
        ("-35*10^47-2^153-97*10^42-28*10^40-4849257887877911473054404038908938027008", "-460045179506631692536144922966", Ok(7.632979156866235e+18)),
        ("-4979471884270000000000000000000000", "967223212431535678781428973240", Ok(-5148.2137941581595)),
        ("-4657575836060000000000000000000", "397615", Ok(-1.1713783021415188e+25)),
        ("-5939602643300000000000000000000000000", "901316747914618309961908695406", Ok(-6589917.093011411)),
        ("845743053362000000000000000000000", "664316314760", Ok(1.2731029399263584e+21)),
        ("34576300000000000000000000000000000", "359855086692", Ok(9.608395512161777e+22)),
        ("12996800000000000", "-37971368857", Ok(-342278.9430885647)),
        ("4013923674262742341842384347210000000", "1017886", Ok(3.943392162052275e+30)),
        ("56177450818700000000000", "307154", Ok(1.8289669292504736e+17)),
        ("980338000000000", "-326672380059817803681378527038", Ok(-3.0009822067616732e-15)),
        ("58184863695900000000000000000000", "71943156579142850904078972085", Ok(808.7616176792618)),
        ("5613210000", "174621691410368625549813493823", Ok(3.214497554492649e-20)),
        ("298638277792000000", "395882", Ok(754361849722.8972)),
        ("1831590000000000000000000000", "710813356373758810085726180917", Ok(0.002576752369066228)),
        ("9921093493840000000", "-332996879463", Ok(-29793352.74804686)),
        ("3200260000000000000", "602639647464050734092012382622", Ok(5.310404009206688e-12)),
        ("-264547369282718207786115289133000000", "-741459100771", Ok(3.567929357231314e+23)),
        ("9045010000000000000000000000", "730655", Ok(1.2379317188002545e+22)),
        ("874946000000000000000000000000000", "-733726047253", Ok(-1.1924695917171185e+21)),
        ("756899000000000000000000000000000", "-563780167735741745794957634444", Ok(-1342.5427911731333)),
        ("89796200000000000000", "947454", Ok(94776316317203.8)),
        ("31519200000000000000000000000", "558300883836", Ok(5.645557962121858e+16)),
        ("12241271953500000000000", "778963523571", Ok(15714820505.820831)),
        ("-10^46-3*2^151-2^143-67*10^41-1362119694881922497101166705000950530048", "824736168654", Ok(-2.253003881384292e+34)),
    ];

    #[rustfmt::skip]
    const INT_TO_FLOAT: &[(&str, Result<f64, &str>)] = &[
        ("0", Ok(0.0)),
        ("1", Ok(1.0)),
        ("-1", Ok(-1.0)),
        ("9007199254740992", Ok(9007199254740992.0)),
        ("9007199254740993", Ok(9007199254740992.0)),
        ("9007199254740994", Ok(9007199254740994.0)),
        ("9007199254740995", Ok(9007199254740996.0)),
        ("18014398509481986", Ok(1.8014398509481984e+16)),
        ("18014398509481990", Ok(1.801439850948199e+16)),
        ("9223372036854775807", Ok(9.223372036854776e+18)),
        ("-9223372036854775808", Ok(-9.223372036854776e+18)),
        ("18446744073709553664", Ok(1.8446744073709552e+19)),
        ("18446744073709553665", Ok(1.8446744073709556e+19)),
        ("2^1024", Err("OverflowError: int too large to convert to float")),
        ("18014398509481983*2^970", Err("OverflowError: int too large to convert to float")),
        ("4*2^1022-2^970-1", Ok(1.7976931348623157e+308)),
        ("-18014398509481983*2^970", Err("OverflowError: int too large to convert to float")),
        ("10^308", Ok(1e+308)),
        ("10^309", Err("OverflowError: int too large to convert to float")),
        ("10^400", Err("OverflowError: int too large to convert to float")),
        ("12345678901234567890123456789", Ok(1.2345678901234568e+28)),
        ("5043087718813931864", Ok(5.043087718813932e+18)),
        ("-77152405666", Ok(-77152405666.0)),
        ("-2^143-86*10^41+6029092417491551213797554075771349317128", Ok(-1.974434350684782e+43)),
        ("-3*2^148-56*10^42-24*10^40+615227847488233769459566164509698670609", Ok(-1.1266751543016224e+45)),
        ("-22779522537725531880665301480931778417", Ok(-2.277952253772553e+37)),
        ("63*10^42+89*10^40-439508412274328232642793993533208499404", Ok(6.388956049158772e+43)),
        ("47*10^40+6559346628880304233594746650801190184419", Ok(4.765593466288803e+41)),
        ("84266002643921945313579", Ok(8.426600264392195e+22)),
        ("94623842232694747", Ok(9.462384223269475e+16)),
        ("15753733433766283066110898979959085144", Ok(1.5753733433766283e+37)),
        ("301467998726769", Ok(301467998726769.0)),
        ("9312361719985896975695196702", Ok(9.312361719985897e+27)),
        ("23292529008135936087", Ok(2.329252900813594e+19)),
        ("3*2^150+27*10^43+4*2^140-5142901374945276624261327932971783661394", Ok(4.557313121516137e+45)),
        ("453220870493099141800010", Ok(4.532208704930991e+23)),
        ("6328642050575415852975591434715999408", Ok(6.328642050575415e+36)),
        ("2323931164319902185528767", Ok(2.3239311643199022e+24)),
        ("33*10^48+21*10^45+2^148+33*10^43+9985807573033526230772326511975437164923", Ok(3.3021686821908985e+49)),
        ("45755386489004192192603511814", Ok(4.575538648900419e+28)),
        ("2147759149110037622435368147703137381920", Ok(2.1477591491100377e+39)),
        ("1023008716206882009247504617", Ok(1.023008716206882e+27)),
        ("10313775591372792919277835", Ok(1.0313775591372792e+25)),
    ];

    #[rustfmt::skip]
    const DIVMOD: &[(f64, f64, f64, f64, f64, f64)] = &[
        (-0.0, 5.0, -0.0, 0.0, 0.0, -0.0),
        (0.0, -5.0, -0.0, -0.0, -0.0, -0.0),
        (5.0, -3.0, -2.0, -1.0, -1.0, -2.0),
        (-5.0, 3.0, -2.0, 1.0, 1.0, -2.0),
        (5.0, 3.0, 1.0, 2.0, 2.0, 1.0),
        (-5.0, -3.0, 1.0, -2.0, -2.0, 1.0),
        (1e-300, -1e+300, -1.0, -1e+300, -1e+300, -1.0),
        (f64::INFINITY, 3.0, f64::NAN, f64::NAN, f64::NAN, f64::NAN),
        (3.0, f64::INFINITY, 0.0, 3.0, 3.0, 0.0),
        (-3.0, f64::INFINITY, -1.0, f64::INFINITY, f64::INFINITY, -1.0),
        (3.0, -f64::INFINITY, -1.0, -f64::INFINITY, -f64::INFINITY, -1.0),
        (f64::NAN, 2.0, f64::NAN, f64::NAN, f64::NAN, f64::NAN),
        (2.0, f64::NAN, f64::NAN, f64::NAN, f64::NAN, f64::NAN),
        (7.5, 2.5, 3.0, 0.0, 0.0, 3.0),
        (-7.5, 2.5, -3.0, 0.0, 0.0, -3.0),
        (0.3, 0.1, 2.0, 0.09999999999999998, 0.09999999999999998, 2.0),
        (1.0, 0.1, 9.0, 0.09999999999999995, 0.09999999999999995, 9.0),
        (-1.0, 0.1, -10.0, 5.551115123125783e-17, 5.551115123125783e-17, -10.0),
        (1e+308, 1e-308, f64::INFINITY, 3.498445546245627e-309, 3.498445546245627e-309, f64::INFINITY),
        (5e-324, 1.0, 0.0, 5e-324, 5e-324, 0.0),
        (-5e-324, 1.0, -1.0, 1.0, 1.0, -1.0),
        (6.0, -2.0, -3.0, -0.0, -0.0, -3.0),
        (-6.0, 2.0, -3.0, 0.0, 0.0, -3.0),
        (1e+16, 3.0, 3333333333333333.0, 1.0, 1.0, 3333333333333333.0),
        (-1e+16, 7.0, -1428571428571429.0, 3.0, 3.0, -1428571428571429.0),
        (-4.10294253994702e+22, -4494.167974841781, 9.129481948416639e+18, -3666.590110497549, -3666.590110497549, 9.129481948416639e+18),
        (1e-34, 511705.8202881296, 0.0, 1e-34, 1e-34, 0.0),
        (-88491.46677249495, -675.708, 130.0, -649.426772494958, -649.426772494958, 130.0),
        (383621.89520127536, 4652581296.781068, 0.0, 383621.89520127536, 383621.89520127536, 0.0),
        (-330943.5, -22256656405.47583, 0.0, -330943.5, -330943.5, 0.0),
        (-2.0125130622056273e-22, -8.381379599351077e-168, 2.4011715951410255e+145, -3.41906770220421e-169, -3.41906770220421e-169, 2.4011715951410255e+145),
        (1.1260355475331493e-308, 11817.815225, 0.0, 1.1260355475331493e-308, 1.1260355475331493e-308, 0.0),
        (-1.1319389038632559e+18, -0.03273702446469646, 3.4576719245939306e+19, -0.014569108202498508, -0.014569108202498508, 3.4576719245939306e+19),
        (-4.038014570734992e+16, 4.440177535730443e+17, -1.0, 4.0363760786569434e+17, 4.0363760786569434e+17, -1.0),
        (-75559.751925, -2.369154382287175e-10, 318931313594071.0, -1.4050622809321202e-10, -1.4050622809321202e-10, 318931313594071.0),
        (822.266, 1e-181, 8.222659999999999e+183, 7.568472659926764e-182, 7.568472659926764e-182, 8.222659999999999e+183),
        (1234567.0, 7.209062420454378, 171252.0, 0.6423723468101414, 0.6423723468101414, 171252.0),
        (2.183733140308248e-308, -166028.53640361002, -1.0, -166028.53640361002, -166028.53640361002, -1.0),
        (-77263.577965, 885934.381120546, -1.0, 808670.8031555461, 808670.8031555461, -1.0),
        (111981993.4136438, 1e+23, 0.0, 111981993.4136438, 111981993.4136438, 0.0),
        (-7.228153710604468e+19, -674.34375, 1.0718796920123406e+17, -243.1875, -243.1875, 1.0718796920123406e+17),
        (9.42386717718331e+17, 8.914134555602172e+24, 0.0, 9.42386717718331e+17, 9.42386717718331e+17, 0.0),
        (3831461547294.498, -13892183.209428355, -275800.0, -2581865.84228909, -2581865.84228909, -275800.0),
        (0.852, -5.5608213458057634e-164, -1.5321477656221036e+163, -5.2020281144763436e-164, -5.2020281144763436e-164, -1.5321477656221036e+163),
        (3.3034387226301732e+94, -202476254000.35645, -1.6315190830349704e+83, -162221895834.99316, -162221895834.99316, -1.6315190830349704e+83),
        (8.308552433543109e+21, -8.6e+16, -96612.0, -7.956645689137562e+16, -7.956645689137562e+16, -96612.0),
        (0.7933560328660124, 0.12768173217773438, 6.0, 0.027265639799606167, 0.027265639799606167, 6.0),
        (112011.74851432443, -1.2913138178966445e-12, -8.674246876469941e+16, -7.937324045295888e-13, -7.937324045295888e-13, -8.674246876469941e+16),
        (-6.667952696603846e-78, -748.476, 0.0, -6.667952696603846e-78, -6.667952696603846e-78, 0.0),
        (-6788552295124.803, 0.8780928322187015, -7731018915133.0, 0.6862572441411142, 0.6862572441411142, -7731018915133.0),
        (1e+23, 572577.8383572162, 1.7464874345627856e+17, 40439.434222468175, 40439.434222468175, 1.7464874345627856e+17),
        (-18982.5, 7.036590953823764e-309, -f64::INFINITY, 1.376329074445033e-309, 1.376329074445033e-309, -f64::INFINITY),
        (1e+212, -198241.0, -5.04436519186243e+206, -118274.0, -118274.0, -5.04436519186243e+206),
        (818.919, 48557.0, 0.0, 818.919, 818.919, 0.0),
        (0.951385498046875, 0.5, 1.0, 0.451385498046875, 0.451385498046875, 1.0),
        (-803.257, 3.228390106742093e+33, -1.0, 3.228390106742093e+33, 3.228390106742093e+33, -1.0),
        (-24160.433215, -777.913, 31.0, -45.13021500000059, -45.13021500000059, 31.0),
        (-226021.2341801077, 565751.5490047995, -1.0, 339730.31482469174, 339730.31482469174, -1.0),
        (-87027397368750.5, -4368391192571638.0, 0.0, -87027397368750.5, -87027397368750.5, 0.0),
        (253943.5, -61504769610220.664, -1.0, -61504769356277.164, -61504769356277.164, -1.0),
        (12894785633.343079, -168771.15703562123, -76404.0, -5848.806526023429, -5848.806526023429, -76404.0),
        (690000.0, 572.485, 1205.0, 155.57499999998356, 155.57499999998356, 1205.0),
        (662479.5011556649, -1.471209816240149e-308, -f64::INFINITY, -7.6723279448024e-310, -7.6723279448024e-310, -f64::INFINITY),
        (f64::NAN, 0.5, f64::NAN, f64::NAN, f64::NAN, f64::NAN),
        (-3.81371983101481e-12, 994000000000.0, -1.0, 994000000000.0, 994000000000.0, -1.0),
    ];

    #[rustfmt::skip]
    const POW: &[(f64, f64, Result<f64, &str>)] = &[
        (0.0, -1.0, Err("ZeroDivisionError: 0.0 cannot be raised to a negative power")),
        (-0.0, -1.0, Err("ZeroDivisionError: 0.0 cannot be raised to a negative power")),
        (0.0, -0.5, Err("ZeroDivisionError: 0.0 cannot be raised to a negative power")),
        (0.0, 0.0, Ok(1.0)),
        (f64::NAN, 0.0, Ok(1.0)),
        (f64::NAN, 1.0, Ok(f64::NAN)),
        (1.0, f64::NAN, Ok(1.0)),
        (2.0, f64::NAN, Ok(f64::NAN)),
        (-1.0, f64::INFINITY, Ok(1.0)),
        (0.5, f64::INFINITY, Ok(0.0)),
        (0.5, -f64::INFINITY, Ok(f64::INFINITY)),
        (2.0, f64::INFINITY, Ok(f64::INFINITY)),
        (2.0, -f64::INFINITY, Ok(0.0)),
        (f64::INFINITY, 3.0, Ok(f64::INFINITY)),
        (-f64::INFINITY, 3.0, Ok(-f64::INFINITY)),
        (-f64::INFINITY, 2.0, Ok(f64::INFINITY)),
        (-f64::INFINITY, -3.0, Ok(-0.0)),
        (-f64::INFINITY, -2.0, Ok(0.0)),
        (-f64::INFINITY, 0.5, Ok(f64::INFINITY)),
        (-0.0, 3.0, Ok(-0.0)),
        (-0.0, 2.0, Ok(0.0)),
        (-0.0, 0.5, Ok(0.0)),
        (-8.0, 0.3333333333333333, Err("ValueError: negative number cannot be raised to a fractional power")),
        (-8.0, 3.0, Ok(-512.0)),
        (-8.0, -3.0, Ok(-0.001953125)),
        (-1.0, 1e+300, Ok(1.0)),
        (-2.0, 1e+300, Err("OverflowError: (34, 'Numerical result out of range')")),
        (10.0, 400.0, Err("OverflowError: (34, 'Numerical result out of range')")),
        (10.0, -400.0, Ok(0.0)),
        (10.0, 308.0, Ok(1e+308)),
        (-10.0, 309.0, Err("OverflowError: (34, 'Numerical result out of range')")),
        (2.0, 0.5, Ok(1.4142135623730951)),
        (2.0, -1074.0, Ok(5e-324)),
        (2.0, -1075.0, Ok(0.0)),
        (2.0, 1023.0, Ok(8.98846567431158e+307)),
        (2.0, 1024.0, Err("OverflowError: (34, 'Numerical result out of range')")),
        (-1.8871986690372573, 590231.4988037129, Err("OverflowError: complex exponentiation")),
        (-1e-99, -8.03, Err("OverflowError: complex exponentiation")),
        (1.0000001, 10000000000.0, Err("OverflowError: (34, 'Numerical result out of range')")),
        (0.9999999, 10000000000.0, Ok(0.0)),
        (7.0, 2.0, Ok(49.0)),
        (1.5, 2.5, Ok(2.7556759606310752)),
        (-8989.57221968536, 1.4947234362216708, Err("ValueError: negative number cannot be raised to a fractional power")),
        (40080.917225, -1.6716370173359496, Ok(2.0209661213605303e-08)),
        (-0.8523722251320933, -14.0, Ok(9.358148774382366)),
        (-9.675816222477176, 4.423081432416435, Err("ValueError: negative number cannot be raised to a fractional power")),
        (-288776.30957892956, -43.0, Ok(-1.5698307541330586e-235)),
        (1.2467633775747141e+17, 2.295572323246036, Ok(1.7563403509966795e+39)),
        (0.38425360416324783, 44.0, Ok(5.286762340181613e-19)),
        (-51287.071335, -1.3426703007955973, Err("ValueError: negative number cannot be raised to a fractional power")),
        (1e-106, -15.0, Err("OverflowError: (34, 'Numerical result out of range')")),
        (-0.033139146511123485, -2.231334184911992, Err("ValueError: negative number cannot be raised to a fractional power")),
        (-7.218754315606568, -4.8605015070610955, Err("ValueError: negative number cannot be raised to a fractional power")),
        (2.0674481568679307e+108, -23.302734375, Ok(0.0)),
        (-2.6613536807429288, 3.6962074244617913, Err("ValueError: negative number cannot be raised to a fractional power")),
        (8.710058084457408, -49.0, Ok(8.688973888239754e-47)),
        (4.929133968762349, 2.0, Ok(24.296361682006864)),
        (-7.39e+16, 2.6316080920008123e+26, Err("OverflowError: (34, 'Numerical result out of range')")),
        (6.0560748894721215, 2.916395397188647, Ok(191.06402539308797)),
        (0.4813385009765625, -10.0, Ok(1497.9385195442148)),
        (1.18707275390625, -33.0, Ok(0.0034853618894854117)),
        (-3.6598516632466893, -10.0, Ok(2.3193439922226683e-06)),
        (-1.7748449051417856e+17, -4.147821633551447, Err("ValueError: negative number cannot be raised to a fractional power")),
        (1.1988027246881021, 47.0, Ok(5025.079116047938)),
        (-326471.875, -7757.512495, Err("ValueError: negative number cannot be raised to a fractional power")),
        (8.848693277630048, 19.0, Ok(9.788219205765956e+17)),
        (46.688, -3.7380674936690395, Ok(5.759675807472009e-07)),
        (-8.946078049844038e+28, -200329.5, Err("ValueError: negative number cannot be raised to a fractional power")),
        (8.697795680357387, 2.0, Ok(75.65164969724363)),
        (-2.0902703427804914e-11, 3.7642973150247645, Err("ValueError: negative number cannot be raised to a fractional power")),
        (-2.13763427734375, 0.0, Ok(1.0)),
        (-1.51e+26, -87482.008325, Err("ValueError: negative number cannot be raised to a fractional power")),
        (-80600.682255, -10.0, Ok(8.641971313630919e-50)),
        (-5.0597167350461, -0.4775161011328519, Err("ValueError: negative number cannot be raised to a fractional power")),
        (-225000000.0, -3.6593898333648833, Err("ValueError: negative number cannot be raised to a fractional power")),
        (-0.0, 23888.125, Ok(0.0)),
        (14053036.392430805, -9.0, Ok(4.678088802542185e-65)),
        (-6.734921484202932, 1.06e+16, Err("OverflowError: (34, 'Numerical result out of range')")),
        (9.757449684916416, 4.088716008563734, Ok(11094.692029150376)),
        (-903248.9249753864, -4.483023222111394, Err("ValueError: negative number cannot be raised to a fractional power")),
        (3.431195622907739e+17, 6.984114628653347e+17, Err("OverflowError: (34, 'Numerical result out of range')")),
        (1.166110477932536, 3.0599256571077156, Ok(1.6003630412349616)),
    ];

    #[rustfmt::skip]
    const RATIO: &[(f64, Result<(&str, &str), &str>, bool)] = &[
        (0.0, Ok(("0", "1")), true),
        (-0.0, Ok(("0", "1")), true),
        (1.0, Ok(("1", "1")), true),
        (0.5, Ok(("1", "2")), false),
        (-0.75, Ok(("-3", "4")), false),
        (0.1, Ok(("3602879701896397", "36028797018963968")), false),
        (1e+20, Ok(("100000000000000000000", "1")), true),
        (1e+300, Ok(("1681218273811815*2^946", "1")), true),
        (5e-324, Ok(("1", "2^1074")), false),
        (f64::INFINITY, Err("OverflowError: cannot convert Infinity to integer ratio"), false),
        (-f64::INFINITY, Err("OverflowError: cannot convert Infinity to integer ratio"), false),
        (f64::NAN, Err("ValueError: cannot convert NaN to integer ratio"), false),
        (3.0, Ok(("3", "1")), true),
        (-2.5, Ok(("-5", "2")), false),
        (1e-320, Ok(("253", "2^1071")), false),
        (9.223372036854776e+18, Ok(("9223372036854775808", "1")), true),
        (2.528372491878572, Ok(("5693388706139075", "2251799813685248")), false),
        (-70757.748185, Ok(("-2431217715145427", "34359738368")), false),
        (-8.989796128011459e+18, Ok(("-8989796128011458560", "1")), true),
        (331.779, Ok(("729589736703787", "2199023255552")), false),
        (-0.0032873153686523438, Ok(("-3447", "1048576")), false),
        (6.550471239145264e-303, Ok(("5057640606032305", "2^1056")), false),
        (497604.35931682214, Ok(("133574653100799", "268435456")), false),
        (609.875, Ok(("4879", "8")), false),
        (6262061400.169627, Ok(("6566247294744267", "1048576")), false),
        (8.656531407705217e+18, Ok(("8656531407705217024", "1")), true),
    ];

    #[rustfmt::skip]
    const HASH_INT: &[(&str, i64)] = &[
        ("0", 0),
        ("1", 1),
        ("-1", -2),
        ("-2", -2),
        ("2305843009213693950", 2305843009213693950),
        ("2305843009213693951", 0),
        ("2305843009213693952", 1),
        ("-2305843009213693951", 0),
        ("-2305843009213693952", -2),
        ("4611686018427387904", 2),
        ("9223372036854775807", 3),
        ("-9223372036854775808", -4),
        ("18446744073709551616", 8),
        ("-18446744073709551616", -8),
        ("10^100", 910685213754167845),
        ("-10^100", -910685213754167845),
        ("5316911983139663491615228241121378303", 0),
        ("5316911983139663491615228241121378305", 2),
        ("2^1000", 16777216),
        ("12345678901234567890", 816463855166098135),
        ("61812965592", 61812965592),
        ("-109416958107527581542923103", -1094755998418619112),
        ("829742956918654356", 829742956918654356),
        ("344011793814193018778937", 769426592804535296),
        ("3242171251948340361094071311174907952629", 305892491245513049),
        ("58613448994511373", 58613448994511373),
        ("11891534162158172629546110", 2004051955144025480),
        ("-1877816099412655561348835516755443", -1962088538143271961),
        ("-2^133-124931748110045543433912651563632506343", -1789688039369964472),
        ("-726860543973030", -726860543973030),
        ("1146694138073263467", 1146694138073263467),
        ("21*10^40+7335637898709040727810180075595699464418", 392228532953106826),
        ("9*10^43+4*2^138-8558416013631798888634355030558108671006", 1272100946359521738),
        ("1009254288690", 1009254288690),
        ("-39947022870893929951831422063", -877448143467294071),
        ("-6411960772935591019314694437692947998", -647166043654816953),
    ];

    #[rustfmt::skip]
    const HASH_FLOAT: &[(f64, i64)] = &[
        (0.0, 0),
        (-0.0, 0),
        (1.0, 1),
        (-1.0, -2),
        (0.5, 1152921504606846976),
        (-0.5, -1152921504606846976),
        (1.5, 1152921504606846977),
        (0.1, 230584300921369408),
        (1e+20, 848750603811160107),
        (-1e+20, -848750603811160107),
        (2.305843009213694e+18, 1),
        (4.611686018427388e+18, 2),
        (1e+300, 1224995262755759164),
        (5e-324, 16777216),
        (-5e-324, -16777216),
        (f64::INFINITY, 314159),
        (-f64::INFINITY, -314159),
        (3.141592653589793, 326490430436040707),
        (4.336808689942018e-19, 1),
        (2.168404344971009e-19, 1152921504606846976),
        (1e-300, 482449582752280463),
        (123.456, 1051464412201451643),
        (168.423828125, 977281119139397800),
        (-1e-157, -56468512205165109),
        (-2526.855240066718, -1972049329041443294),
        (88700000.0, 88700000),
        (0.5276077963008906, 1216580748707051264),
        (982258.2969360547, 684687925946809586),
        (9435315120.772614, 1781525505781234608),
        (616.104, 239807672958321256),
        (0.3064063674184503, 706524980290396160),
        (78605.78509045615, 1810295339912082189),
        (1.198402350438998e-308, 1186318662169019632),
        (-1.2935791015625, -676947318989127681),
        (689.532, 1226708480901776049),
        (62.06616343828713, 152562501639913534),
        (439294635.6722412, 1550082697184877227),
        (-94444.366455, -844987699931738348),
        (-70800000000000.0, -70800000000000),
        (1e+115, 1435387566898611170),
        (5.518950372496706e+17, 551895037249670592),
        (-1.28755336889562e-308, -956878386691590673),
        (574208.6026031226, 1389508197559616256),
        (-3.0334184888284376e+225, -2126930203941932156),
        (6.405585616447024e-309, 726695386965615833),
        (132946.125, 288230376151844690),
        (-0.570526123046875, -1315543672401428480),
    ];

    #[rustfmt::skip]
    const HASH_TUPLE: &[(&[i64], i64)] = &[
        (&[], 5740354900026072187),
        (&[1], -6644214454873602895),
        (&[1, 2], -3550055125485641917),
        (&[1, 2, 3], 529344067295497451),
        (&[-2], 8078679518589016365),
        (&[-2], 8078679518589016365),
        (&[0], -8753497827991233192),
        (&[5740354900026072187], -5486347211504344842),
        (&[1152921504606846977, 0], 6660161741276059634),
        (&[-3550055125485641917, 1079245023883434373], -1467267874458550984),
        (&[0], -8753497827991233192),
        (&[1, 1152921504606846979, -7], -9077575333223574248),
        (&[-206317, 0, 1673168389209049337], -6693036963214932890),
        (&[-1125908553754743540, -1297036692682702989, 0, 0, -576460752304406224], 513479836898427259),
        (&[6909455589863252355], 8157882997754344921),
        (&[0, 133836956264711642], 4871433069664363425),
        (&[0], -8753497827991233192),
        (&[0, -1355719440353898178, 576460752303963202, 235, 1, -2089169967878880158], -63180502284512203),
        (&[], 5740354900026072187),
        (&[], 5740354900026072187),
        (&[-7584273899265469182, 1537228672809129216, -2, 5740354900026072187, -288230376151711746, 192131666677825860], -1678906460072767894),
        (&[5740354900026072187, -121602616596106627, 2021430137435862965, 0], -5579538581443894395),
        (&[-887291629503645312, -8753497827991233192, -2], -2284952856478206225),
        (&[], 5740354900026072187),
        (&[-607865643980193195, 5740354900026072187, 1152921504606846977, 0], -2540530664745759231),
        (&[10, 795683, -8888471952861876332, 1, 60, 5740354900026072187], -8502992224996759912),
        (&[-1784056583663755723, -1784639843989575417, -6880000, 1569288515719052813], -8068128597757513623),
    ];
}
