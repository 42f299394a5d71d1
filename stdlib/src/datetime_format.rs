//! `_datetime.strftime`: `date`, `time` and `datetime` formatting by a
//! `strftime` format, natively. It writes what glibc's `strftime` writes in
//! the C locale (the `datetime` module's behaviour on Linux), with `%f`,
//! `%z` and `%Z` from the object; `lib/datetime.aio` checks the format's
//! type and works out the offset and zone name first.

use std::fmt::Write;

use aio_interp::{Args, PyResult, Value, Vm};

use crate::datetime::{is_leap, ymd2ord, DAYS_BEFORE_MONTH};

const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/// The fields a format reads.
struct Fields<'a> {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    us: i64,
    /// `%z`: the offset as `+HHMM[SS[.ffffff]]`, empty for a naive value.
    offset: &'a str,
    /// `%Z`: the zone's name, empty for a naive value.
    zone: &'a str,
}

impl Fields<'_> {
    /// The ordinal of the date (0001-01-01 is 1).
    fn ordinal(&self) -> i64 {
        ymd2ord(self.year, self.month, self.day)
    }
    /// Monday is 0.
    fn weekday(&self) -> i64 {
        (self.ordinal() + 6) % 7
    }
    /// The day of the year, from 1.
    fn yday(&self) -> i64 {
        DAYS_BEFORE_MONTH[self.month as usize] + (self.month > 2 && is_leap(self.year)) as i64 + self.day
    }
    /// (ISO year, ISO week): week 1 holds the year's first Thursday.
    fn iso_week(&self) -> (i64, i64) {
        let week1_monday = |y: i64| {
            let first = ymd2ord(y, 1, 1);
            let wd = (first + 6) % 7;
            first - wd + if wd > 3 { 7 } else { 0 }
        };
        let today = self.ordinal();
        let mut y = self.year;
        let mut start = week1_monday(y);
        if today < start {
            y -= 1;
            start = week1_monday(y);
        } else if today >= week1_monday(y + 1) {
            y += 1;
            start = week1_monday(y);
        }
        (y, (today - start).div_euclid(7) + 1)
    }
}

/// `fmt` with its directives replaced. `%-d` and the like drop the
/// padding; an unknown directive, and a `%` at the end, stay as they are.
fn format(fmt: &str, f: &Fields) -> String {
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' || chars.peek().is_none() {
            out.push(c);
            continue;
        }
        let mut d = chars.next().unwrap_or('%');
        let mut pad = true;
        if d == '-' {
            if let Some(&next) = chars.peek() {
                pad = false;
                d = next;
                chars.next();
            }
        }
        let num = |out: &mut String, v: i64, width: usize| if pad { write!(out, "{v:0width$}") } else { write!(out, "{v}") };
        let am_pm = if f.hour < 12 { "AM" } else { "PM" };
        let hour12 = if f.hour % 12 == 0 { 12 } else { f.hour % 12 };
        let _ = match d {
            'Y' => write!(out, "{}", f.year),
            'y' => num(&mut out, f.year % 100, 2),
            // glibc gives the century unpadded: "0" for the year 5.
            'C' => write!(out, "{}", f.year / 100),
            'm' => num(&mut out, f.month, 2),
            'd' => num(&mut out, f.day, 2),
            'e' if pad => write!(out, "{:2}", f.day),
            'e' => write!(out, "{}", f.day),
            'H' => num(&mut out, f.hour, 2),
            'I' => num(&mut out, hour12, 2),
            'M' => num(&mut out, f.minute, 2),
            'S' => num(&mut out, f.second, 2),
            'f' => write!(out, "{:06}", f.us),
            'p' => out.write_str(am_pm),
            'a' => out.write_str(&DAYS[f.weekday() as usize][..3]),
            'A' => out.write_str(DAYS[f.weekday() as usize]),
            'b' | 'h' => out.write_str(&MONTHS[f.month as usize - 1][..3]),
            'B' => out.write_str(MONTHS[f.month as usize - 1]),
            'w' => write!(out, "{}", (f.weekday() + 1) % 7),
            'u' => write!(out, "{}", f.weekday() + 1),
            'j' => num(&mut out, f.yday(), 3),
            'U' => num(&mut out, (f.yday() + 6 - (f.weekday() + 1) % 7) / 7, 2),
            'W' => num(&mut out, (f.yday() + 6 - f.weekday()) / 7, 2),
            'G' => write!(out, "{}", f.iso_week().0),
            'V' => num(&mut out, f.iso_week().1, 2),
            'g' => num(&mut out, f.iso_week().0 % 100, 2),
            'z' => out.write_str(f.offset),
            'Z' => out.write_str(f.zone),
            'c' => write!(
                out,
                "{} {} {:2} {:02}:{:02}:{:02} {}",
                &DAYS[f.weekday() as usize][..3],
                &MONTHS[f.month as usize - 1][..3],
                f.day,
                f.hour,
                f.minute,
                f.second,
                f.year
            ),
            'x' | 'D' => write!(out, "{:02}/{:02}/{:02}", f.month, f.day, f.year % 100),
            'X' | 'T' => write!(out, "{:02}:{:02}:{:02}", f.hour, f.minute, f.second),
            'F' => write!(out, "{}-{:02}-{:02}", f.year, f.month, f.day),
            'R' => write!(out, "{:02}:{:02}", f.hour, f.minute),
            'r' => write!(out, "{hour12:02}:{:02}:{:02} {am_pm}", f.minute, f.second),
            'n' => out.write_char('\n'),
            't' => out.write_char('\t'),
            '%' => out.write_char('%'),
            other => {
                out.push('%');
                if !pad {
                    out.push('-');
                }
                out.write_char(other)
            }
        };
    }
    out
}

/// `strftime(fmt, year, month, day, hour, minute, second, us, offset, zone)`:
/// the formatted text; `offset` and `zone` are strings or None. `None`
/// when an argument is not of those types or a field is out of range (the
/// module's own checks come first, so that does not happen).
pub fn strftime_fn(_vm: &mut Vm, args: Args) -> PyResult {
    let [fmt, rest @ .., offset, zone] = &args.pos[..] else { return Ok(Value::None) };
    // A str subclass formats as its text.
    let Some(Value::Str(fmt)) = Some(fmt.clone()).map(|v| aio_interp::ops::builtin_payload(&v).unwrap_or(v)) else {
        return Ok(Value::None);
    };
    let mut n = [0i64; 7];
    if rest.len() != 7 {
        return Ok(Value::None);
    }
    for (o, v) in n.iter_mut().zip(rest) {
        let Value::Int(i) = v else { return Ok(Value::None) };
        *o = *i;
    }
    let text = |v: &Value| match aio_interp::ops::builtin_payload(v).unwrap_or_else(|| v.clone()) {
        Value::Str(s) => Some(s),
        _ => None,
    };
    let (offset, zone) = (text(offset), text(zone));
    let [year, month, day, hour, minute, second, us] = n;
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Ok(Value::None);
    }
    let f = Fields {
        year,
        month,
        day,
        hour,
        minute,
        second,
        us,
        offset: offset.as_ref().map_or("", |s| s.as_str()),
        zone: zone.as_ref().map_or("", |s| s.as_str()),
    };
    Ok(Value::str(&format(fmt.as_str(), &f)))
}
