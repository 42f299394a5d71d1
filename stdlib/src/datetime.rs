//! `_datetime`: the hot core of `datetime` (`lib/datetime.aio`),
//! natively: day ordinals, and arithmetic and comparison of `datetime`
//! and `timedelta` objects of exactly those classes, read and made through
//! their `__slots__`. Each function answers `None` when it does not apply
//! (a subclass, a time zone, an int that is not small), and the module
//! then does the same in .aio, so behaviour and messages are the module's.

use std::cell::RefCell;
use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::native_fn;
use aio_interp::{Value, Vm};

/// The classes the module made, `timedelta` and `datetime`, and where
/// their fields are among their slots.
struct Classes {
    timedelta: Rc<Class>,
    date: Rc<Class>,
    datetime: Rc<Class>,
    /// `_days`, `_seconds`, `_microseconds`, `_hashcode`.
    td: [usize; 4],
    /// `_year`, `_month`, `_day`, `_hashcode`, `_hour`, `_minute`,
    /// `_second`, `_microsecond`, `_tzinfo`, `_fold`.
    dt: [usize; 10],
}

/// The positions of `names` among the slots of `cls`.
fn slot_indices<const N: usize>(cls: &Class, names: [&str; N]) -> Option<[usize; N]> {
    let layout = cls.slots.as_ref()?;
    let mut out = [0; N];
    for (o, n) in out.iter_mut().zip(names) {
        *o = layout.names.iter().position(|s| s.as_str() == n)?;
    }
    Some(out)
}

thread_local! {
    static CLASSES: RefCell<Option<Classes>> = const { RefCell::new(None) };
}

// Fields, as indices into `Classes::dt` and `Classes::td`.
const DT_TZ: usize = 8;

const MAXORDINAL: i64 = 3_652_059;
pub(crate) const DAYS_BEFORE_MONTH: [i64; 13] = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
const DAYS_IN_MONTH: [i64; 13] = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const US_PER_DAY: i128 = 86_400_000_000;

pub(crate) fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_before_year(y: i64) -> i64 {
    let y = y - 1;
    y * 365 + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400)
}

/// The ordinal of a valid date (0001-01-01 is 1).
pub(crate) fn ymd2ord(y: i64, m: i64, d: i64) -> i64 {
    days_before_year(y) + DAYS_BEFORE_MONTH[m as usize] + (m > 2 && is_leap(y)) as i64 + d
}

/// The date of an ordinal in 1..=MAXORDINAL.
fn ord2ymd(n: i64) -> (i64, i64, i64) {
    let (di400, di100, di4) = (days_before_year(401), days_before_year(101), days_before_year(5));
    let n = n - 1;
    let (n400, n) = (n.div_euclid(di400), n.rem_euclid(di400));
    let (n100, n) = (n / di100, n % di100);
    let (n4, n) = (n / di4, n % di4);
    let (n1, n) = (n / 365, n % 365);
    let year = n400 * 400 + 1 + n100 * 100 + n4 * 4 + n1;
    if n1 == 4 || n100 == 4 {
        return (year - 1, 12, 31);
    }
    let leap = n1 == 3 && (n4 != 24 || n100 == 3);
    let mut month = (n + 50) >> 5;
    let mut preceding = DAYS_BEFORE_MONTH[month as usize] + (month > 2 && leap) as i64;
    if preceding > n {
        month -= 1;
        preceding -= DAYS_IN_MONTH[month as usize] + (month == 2 && leap) as i64;
    }
    (year, month, n - preceding + 1)
}

/// The small ints of `args`, or `None`.
fn ints<const N: usize>(args: &Args) -> Option<[i64; N]> {
    if args.pos.len() != N {
        return None;
    }
    let mut out = [0; N];
    for (o, v) in out.iter_mut().zip(&args.pos) {
        *o = match v {
            Value::Int(i) => *i,
            _ => return None,
        };
    }
    Some(out)
}

/// `ymd2ord(year, month, day)` of a valid date.
fn ymd2ord_fn(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(match ints::<3>(&args) {
        Some([y, m, d]) if (1..=12).contains(&m) => Value::Int(ymd2ord(y, m, d)),
        _ => Value::None,
    })
}

/// `ord2ymd(n)`: `(year, month, day)` of an ordinal in range.
fn ord2ymd_fn(_vm: &mut Vm, args: Args) -> PyResult {
    Ok(match ints::<1>(&args) {
        Some([n]) if (1..=MAXORDINAL).contains(&n) => {
            let (y, m, d) = ord2ymd(n);
            Value::tuple(vec![Value::Int(y), Value::Int(m), Value::Int(d)])
        }
        _ => Value::None,
    })
}

/// `add(year, month, day, hour, minute, second, us, delta)`: the fields
/// of the valid date and time `delta` microseconds later; `False` when
/// that is out of range, `None` when an argument is not a small int.
fn add_fn(_vm: &mut Vm, args: Args) -> PyResult {
    let Some([y, mo, d, hh, mi, ss, us, delta]) = ints::<8>(&args) else { return Ok(Value::None) };
    if !(1..=12).contains(&mo) {
        return Ok(Value::None);
    }
    let day_us = (((hh * 60 + mi) * 60 + ss) * 1_000_000 + us) as i128;
    let total = ymd2ord(y, mo, d) as i128 * US_PER_DAY + day_us + delta as i128;
    let days = total.div_euclid(US_PER_DAY);
    if !(1..=MAXORDINAL as i128).contains(&days) {
        return Ok(Value::bool(false));
    }
    let rest = total.rem_euclid(US_PER_DAY) as i64;
    let (secs, us) = (rest / 1_000_000, rest % 1_000_000);
    let (y, mo, d) = ord2ymd(days as i64);
    let fields = [y, mo, d, secs / 3600, secs % 3600 / 60, secs % 60, us];
    Ok(Value::tuple(fields.iter().map(|&i| Value::Int(i)).collect::<Vec<_>>()))
}

/// `setup(timedelta, date, datetime)`: the classes whose objects the
/// other functions work on.
fn setup_fn(_vm: &mut Vm, args: Args) -> PyResult {
    match &args.pos[..] {
        [Value::Class(td), Value::Class(date), Value::Class(dt)] => {
            let tdi = slot_indices(td, ["_days", "_seconds", "_microseconds", "_hashcode"]);
            let dti = slot_indices(
                dt,
                ["_year", "_month", "_day", "_hashcode", "_hour", "_minute", "_second", "_microsecond", "_tzinfo", "_fold"],
            );
            let (Some(tdi), Some(dti)) = (tdi, dti) else { return Err(type_error("setup(): classes without the fields")) };
            let classes = Classes { timedelta: td.clone(), date: date.clone(), datetime: dt.clone(), td: tdi, dt: dti };
            CLASSES.with(|c| *c.borrow_mut() = Some(classes));
            Ok(Value::None)
        }
        _ => Err(type_error("setup(timedelta, date, datetime)")),
    }
}

/// `v` when it is an instance of exactly the class `pick` chooses.
fn exact(v: &Value, pick: fn(&Classes) -> &Rc<Class>) -> Option<&Rc<Instance>> {
    let Value::Instance(i) = v else { return None };
    let same = CLASSES.with(|c| c.borrow().as_ref().is_some_and(|c| Rc::ptr_eq(&i.class.borrow(), pick(c))));
    same.then_some(i)
}

/// The slots at `at` of `i`, when they are small ints.
fn slot_ints<const N: usize>(i: &Instance, at: &[usize]) -> Option<[i64; N]> {
    let mut out = [0; N];
    for (o, &k) in out.iter_mut().zip(at) {
        *o = match i.slot(k) {
            Value::Int(n) => n,
            _ => return None,
        };
    }
    Some(out)
}

/// The slot positions of `datetime`'s fields (or `timedelta`'s, `td`).
fn dt_slots() -> [usize; 10] {
    CLASSES.with(|c| c.borrow().as_ref().map_or([0; 10], |c| c.dt))
}

fn td_slots() -> [usize; 4] {
    CLASSES.with(|c| c.borrow().as_ref().map_or([0; 4], |c| c.td))
}

/// A naive `datetime` (exact class, no tzinfo) as microseconds since
/// 0001-01-01 less a day.
fn naive_us(i: &Instance) -> Option<i128> {
    if !i.slot(dt_slots()[DT_TZ]).is_none() {
        return None;
    }
    datetime_us(i)
}

/// A `datetime`'s wall time as microseconds (whatever its tzinfo).
fn datetime_us(i: &Instance) -> Option<i128> {
    let at = dt_slots();
    let [y, mo, d] = slot_ints::<3>(i, &at[0..3])?;
    let [hh, mi, ss, us] = slot_ints::<4>(i, &at[4..8])?;
    if !(1..=12).contains(&mo) {
        return None;
    }
    let day_us = (((hh * 60 + mi) * 60 + ss) * 1_000_000 + us) as i128;
    Some(ymd2ord(y, mo, d) as i128 * US_PER_DAY + day_us)
}

/// A `timedelta` (exact class) in microseconds.
fn timedelta_us(i: &Instance) -> Option<i128> {
    let [d, s, us] = slot_ints::<3>(i, &td_slots()[0..3])?;
    Some((d as i128 * 86_400 + s as i128) * 1_000_000 + us as i128)
}

/// A new `datetime` at `total` microseconds with time zone `tz`.
fn make_datetime(total: i128, tz: Value) -> PyResult {
    let days = total.div_euclid(US_PER_DAY);
    if !(1..=MAXORDINAL as i128).contains(&days) {
        return Err(overflow_error("date value out of range"));
    }
    let rest = total.rem_euclid(US_PER_DAY) as i64;
    let (secs, us) = (rest / 1_000_000, rest % 1_000_000);
    let (y, mo, d) = ord2ymd(days as i64);
    let cls = CLASSES.with(|c| c.borrow().as_ref().map(|c| c.datetime.clone()));
    let Some(cls) = cls else { return Ok(Value::None) };
    let inst = Instance::new(cls, Payload::None);
    // The hash (-1) is made when first asked for.
    let fields = [y, mo, d, -1, secs / 3600, secs % 3600 / 60, secs % 60, us, 0, 0];
    let at = dt_slots();
    for (&k, f) in at.iter().zip(fields) {
        inst.set_slot(k, Value::Int(f));
    }
    inst.set_slot(at[DT_TZ], tz);
    Ok(Value::Instance(inst))
}

/// A new `timedelta` of `total` microseconds (`None` past its range: the
/// module raises).
fn make_timedelta(total: i128) -> Value {
    let d = total.div_euclid(US_PER_DAY);
    if d.abs() > 999_999_999 {
        return Value::None;
    }
    let rest = total.rem_euclid(US_PER_DAY) as i64;
    let cls = CLASSES.with(|c| c.borrow().as_ref().map(|c| c.timedelta.clone()));
    let Some(cls) = cls else { return Value::None };
    let inst = Instance::new(cls, Payload::None);
    // The hash (-1) is made when first asked for.
    for (&k, f) in td_slots().iter().zip([d as i64, rest / 1_000_000, rest % 1_000_000, -1]) {
        inst.set_slot(k, Value::Int(f));
    }
    Value::Instance(inst)
}

/// `dt_add(dt, td)`: `dt + td` for a `datetime` and a `timedelta` of
/// exactly those classes; `sign` -1 subtracts.
fn shift(args: &Args, sign: i128) -> PyResult {
    let [a, b] = &args.pos[..] else { return Ok(Value::None) };
    let (Some(dt), Some(td)) = (exact(a, |c| &c.datetime), exact(b, |c| &c.timedelta)) else { return Ok(Value::None) };
    let (Some(t), Some(delta)) = (datetime_us(dt), timedelta_us(td)) else { return Ok(Value::None) };
    make_datetime(t + sign * delta, dt.slot(dt_slots()[DT_TZ]))
}

fn dt_add_fn(_vm: &mut Vm, args: Args) -> PyResult {
    shift(&args, 1)
}

/// `dt_sub(a, b)`: `a - b` for a `datetime` less a `timedelta`, or two
/// naive `datetime`s, of exactly those classes.
fn dt_sub_fn(_vm: &mut Vm, args: Args) -> PyResult {
    let [a, b] = &args.pos[..] else { return Ok(Value::None) };
    if exact(b, |c| &c.timedelta).is_some() {
        return shift(&args, -1);
    }
    let (Some(x), Some(y)) = (exact(a, |c| &c.datetime), exact(b, |c| &c.datetime)) else { return Ok(Value::None) };
    match (naive_us(x), naive_us(y)) {
        (Some(p), Some(q)) => Ok(make_timedelta(p - q)),
        _ => Ok(Value::None),
    }
}

/// `dt_cmp(a, b)`: -1, 0 or 1 for two naive `datetime`s of exactly that
/// class, else `None`.
fn dt_cmp_fn(_vm: &mut Vm, args: Args) -> PyResult {
    let [a, b] = &args.pos[..] else { return Ok(Value::None) };
    let (Some(x), Some(y)) = (exact(a, |c| &c.datetime), exact(b, |c| &c.datetime)) else { return Ok(Value::None) };
    Ok(match (naive_us(x), naive_us(y)) {
        (Some(p), Some(q)) => Value::Int(p.cmp(&q) as i64),
        _ => Value::None,
    })
}

/// `weekday(d)`: Monday 0 for a date or datetime whose fields are small ints.
fn weekday_fn(_vm: &mut Vm, args: Args) -> PyResult {
    let [Value::Instance(i)] = &args.pos[..] else { return Ok(Value::None) };
    Ok(match slot_ints::<3>(i, &dt_slots()[0..3]) {
        Some([y, m, d]) if (1..=12).contains(&m) => Value::Int((ymd2ord(y, m, d) + 6) % 7),
        _ => Value::None,
    })
}

/// Is `(y, m, d)` a date in range?
fn valid_date(y: i64, m: i64, d: i64) -> bool {
    (1..=9999).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= DAYS_IN_MONTH[m as usize] + (m == 2 && is_leap(y)) as i64
}

/// Is `cls` exactly the class `pick` chooses?
fn is_class(cls: &Value, pick: fn(&Classes) -> &Rc<Class>) -> bool {
    let Value::Class(c) = cls else { return false };
    CLASSES.with(|k| k.borrow().as_ref().is_some_and(|k| Rc::ptr_eq(c, pick(k))))
}

/// `new_date(cls, year, month, day)`: a `date` when `cls` is exactly
/// `date` and the fields are small ints of a valid date; else `None`.
fn new_date_fn(_vm: &mut Vm, args: Args) -> PyResult {
    let Some(cls) = args.pos.first().filter(|c| is_class(c, |k| &k.date)) else { return Ok(Value::None) };
    let Value::Class(cls) = cls.clone() else { return Ok(Value::None) };
    let rest = Args::new(args.pos[1..].iter().cloned());
    match ints::<3>(&rest) {
        Some([y, m, d]) if valid_date(y, m, d) => {
            let inst = Instance::new(cls, Payload::None);
            let at = dt_slots();
            for (&k, f) in at[..4].iter().zip([y, m, d, -1]) {
                inst.set_slot(k, Value::Int(f));
            }
            Ok(Value::Instance(inst))
        }
        _ => Ok(Value::None),
    }
}

/// `new_datetime(cls, year, month, day, hour, minute, second, us, tz,
/// fold)`: a naive `datetime` when `cls` is exactly `datetime` and the
/// fields are small ints in range; else `None`.
fn new_datetime_fn(_vm: &mut Vm, args: Args) -> PyResult {
    let Some(cls) = args.pos.first().filter(|c| is_class(c, |k| &k.datetime)) else { return Ok(Value::None) };
    let Value::Class(cls) = cls.clone() else { return Ok(Value::None) };
    if args.pos.len() != 10 || !args.pos[8].is_none() {
        return Ok(Value::None);
    }
    let mut fields = Args::new(args.pos[1..8].iter().cloned());
    fields.pos.push(args.pos[9].clone());
    let Some([y, mo, d, hh, mi, ss, us, fold]) = ints::<8>(&fields) else { return Ok(Value::None) };
    let time_ok = (0..24).contains(&hh) && (0..60).contains(&mi) && (0..60).contains(&ss) && (0..1_000_000).contains(&us);
    if !valid_date(y, mo, d) || !time_ok || !(0..=1).contains(&fold) {
        return Ok(Value::None);
    }
    let inst = Instance::new(cls, Payload::None);
    let at = dt_slots();
    for (&k, f) in at.iter().zip([y, mo, d, -1, hh, mi, ss, us, 0, fold]) {
        inst.set_slot(k, Value::Int(f));
    }
    inst.set_slot(at[DT_TZ], Value::None);
    Ok(Value::Instance(inst))
}

/// `new_timedelta(cls, days, seconds, microseconds, milliseconds,
/// minutes, hours, weeks)`: a `timedelta` when `cls` is exactly
/// `timedelta`, the arguments are small ints and the result is in range;
/// else `None`.
fn new_timedelta_fn(_vm: &mut Vm, args: Args) -> PyResult {
    if !args.pos.first().is_some_and(|c| is_class(c, |k| &k.timedelta)) {
        return Ok(Value::None);
    }
    let rest = Args::new(args.pos[1..].iter().cloned());
    let Some(parts) = ints::<7>(&rest) else { return Ok(Value::None) };
    const SCALE: [i128; 7] = [86_400_000_000, 1_000_000, 1, 1000, 60_000_000, 3_600_000_000, 604_800_000_000];
    let total: i128 = parts.iter().zip(SCALE).map(|(&v, s)| v as i128 * s).sum();
    Ok(make_timedelta(total))
}

/// The `_datetime` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let fns: [(&str, NativeFnPtr); 12] = [
        ("new_date", new_date_fn),
        ("new_datetime", new_datetime_fn),
        ("new_timedelta", new_timedelta_fn),
        ("ymd2ord", ymd2ord_fn),
        ("ord2ymd", ord2ymd_fn),
        ("add", add_fn),
        ("setup", setup_fn),
        ("dt_add", dt_add_fn),
        ("dt_sub", dt_sub_fn),
        ("dt_cmp", dt_cmp_fn),
        ("weekday", weekday_fn),
        ("strftime", crate::datetime_format::strftime_fn),
    ];
    let entries = fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect();
    Ok(vm.make_native_module("_datetime", entries))
}
