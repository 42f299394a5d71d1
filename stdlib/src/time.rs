//! The `time` module. Under `--virtual-time` every clock of the wall or
//! the loop reads the loop's virtual clock (`time()` is 2000-01-01 UTC plus
//! loop time), local time is UTC, and `time.sleep` advances the clock while
//! blocking every task; in a worker thread it parks only that worker. The
//! CPU clocks (`process_time`, `thread_time`) count the CPU time used,
//! which a virtual clock does not stand for.

use std::rc::Rc;

use aio_interp::exceptions::*;
use aio_interp::object::*;
use aio_interp::types::{method, native_fn, new_class, type_name, types};
use aio_interp::{Value, Vm};

/// 2000-01-01T00:00:00Z, the virtual epoch.
const EPOCH: f64 = 946684800.0;

fn wall_time(vm: &Vm) -> f64 {
    if vm.host.virtual_time() {
        return EPOCH + vm.host.now();
    }
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

fn mono(vm: &Vm) -> f64 {
    aio_interp::event_loop::now(vm)
}

fn time(vm: &mut Vm, _a: Args) -> PyResult {
    Ok(Value::float(wall_time(vm)))
}
fn time_ns(vm: &mut Vm, _a: Args) -> PyResult {
    Ok(Value::Int((wall_time(vm) * 1e9) as i64))
}
fn monotonic(vm: &mut Vm, _a: Args) -> PyResult {
    Ok(Value::float(mono(vm)))
}
fn monotonic_ns(vm: &mut Vm, _a: Args) -> PyResult {
    Ok(Value::Int((mono(vm) * 1e9) as i64))
}
/// CPU time of the process (`clock`) or of the running thread, in
/// nanoseconds.
fn cpu_ns(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec to write; the clocks are always there.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}
fn process_time(_vm: &mut Vm, _a: Args) -> PyResult {
    Ok(Value::float(cpu_ns(libc::CLOCK_PROCESS_CPUTIME_ID) as f64 / 1e9))
}
fn process_time_ns(_vm: &mut Vm, _a: Args) -> PyResult {
    Ok(Value::Int(cpu_ns(libc::CLOCK_PROCESS_CPUTIME_ID)))
}
fn thread_time(_vm: &mut Vm, _a: Args) -> PyResult {
    Ok(Value::float(cpu_ns(libc::CLOCK_THREAD_CPUTIME_ID) as f64 / 1e9))
}
fn thread_time_ns(_vm: &mut Vm, _a: Args) -> PyResult {
    Ok(Value::Int(cpu_ns(libc::CLOCK_THREAD_CPUTIME_ID)))
}

fn sleep(vm: &mut Vm, args: Args) -> PyResult {
    let s = match args.pos.first() {
        Some(v @ (Value::Int(_) | Value::Float(_) | Value::Bool(_))) => aio_interp::types::float::to_float(vm, v)?,
        Some(other) => return Err(type_error(format!("'{}' object cannot be interpreted as an integer", type_name(other)))),
        None => return Err(type_error("time.sleep() takes exactly one argument (0 given)")),
    };
    if s.is_nan() {
        return Err(value_error("Invalid value NaN (not a number)"));
    }
    if s < 0.0 {
        return Err(value_error("sleep length must be non-negative"));
    }
    // In a worker thread at its own level: park only the worker.
    if vm.block_worker(s) {
        return Ok(Value::None);
    }
    aio_interp::trace::trace_blocking(vm, s, "time.sleep");
    if vm.host.virtual_time() {
        vm.host.advance_clock(s);
        return Ok(Value::None);
    }
    vm.host.flush();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(s.min(1e9));
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(std::time::Duration::from_millis(50)));
        vm.check_interrupt()?;
    }
    Ok(Value::None)
}

/// A broken-down time, as `time.struct_time`.
pub struct StructTime {
    tm: libc::tm,
    zone: String,
}

const FIELDS: [&str; 9] = ["tm_year", "tm_mon", "tm_mday", "tm_hour", "tm_min", "tm_sec", "tm_wday", "tm_yday", "tm_isdst"];

impl StructTime {
    fn values(&self) -> [i64; 9] {
        let t = &self.tm;
        [
            t.tm_year as i64 + 1900,
            t.tm_mon as i64 + 1,
            t.tm_mday as i64,
            t.tm_hour as i64,
            t.tm_min as i64,
            t.tm_sec as i64,
            (t.tm_wday as i64 + 6) % 7,
            t.tm_yday as i64 + 1,
            t.tm_isdst as i64,
        ]
    }
}

thread_local! {
    static STRUCT_TIME: Rc<Class> = {
        let c = new_class("struct_time", &[types().object.clone()], Layout::Builtin, None);
        c.dict.set_str("__module__", Value::str("time"));
        method(&c, "struct_time", "__getitem__", |vm, a| {
            let st = a.pos[0].downcast::<StructTime>().ok_or_else(|| type_error("struct_time expected"))?;
            let items: Vec<Value> = st.values().iter().map(|&v| Value::Int(v)).collect();
            let t = Value::tuple(items);
            vm.getitem(&t, a.pos.get(1).unwrap_or(&Value::None))
        });
        method(&c, "struct_time", "__len__", |_vm, _a| Ok(Value::Int(9)));
        c.dict.set_str("__new__", aio_interp::attr::StaticMethod::wrap(native_fn("__new__", struct_time_new)));
        method(&c, "struct_time", "__iter__", |vm, a| {
            let st = a.pos[0].downcast::<StructTime>().ok_or_else(|| type_error("struct_time expected"))?;
            let t = Value::tuple(st.values().iter().map(|&v| Value::Int(v)).collect::<Vec<_>>());
            vm.iter(&t)
        });
        c
    };
}

impl NativeObject for StructTime {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn class(&self) -> Rc<Class> {
        STRUCT_TIME.with(|c| c.clone())
    }
    fn getattr(&self, _vm: &mut Vm, _this: &Value, name: &str) -> PyResult<Option<Value>> {
        if let Some(i) = FIELDS.iter().position(|f| *f == name) {
            return Ok(Some(Value::Int(self.values()[i])));
        }
        Ok(match name {
            "tm_zone" => Some(Value::str(&self.zone)),
            "tm_gmtoff" => Some(Value::Int(self.tm.tm_gmtoff)),
            _ => None,
        })
    }
    fn repr(&self, _vm: &mut Vm) -> PyResult<String> {
        let parts: Vec<String> = FIELDS.iter().zip(self.values()).map(|(f, v)| format!("{f}={v}")).collect();
        Ok(format!("time.struct_time({})", parts.join(", ")))
    }
}

fn broken_down(vm: &Vm, secs: f64, utc: bool) -> PyResult<StructTime> {
    if secs.is_nan() {
        return Err(value_error("Invalid value NaN (not a number)"));
    }
    let t = secs.floor();
    // i64::MAX as f64 rounds up to 2**63, itself out of range.
    if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t) {
        return Err(overflow_error("timestamp out of range for platform time_t"));
    }
    let t = t as libc::time_t;
    // SAFETY: gmtime_r/localtime_r fill the tm we own; a null result means
    // the year does not fit in an int.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe {
        if utc || vm.host.virtual_time() {
            !libc::gmtime_r(&t, &mut tm).is_null()
        } else {
            !libc::localtime_r(&t, &mut tm).is_null()
        }
    };
    if !ok {
        return Err(aio_interp::exceptions::os_error(libc::EOVERFLOW));
    }
    let zone = if tm.tm_zone.is_null() {
        "UTC".to_string()
    } else {
        // SAFETY: tm_zone points to a NUL-terminated static string.
        unsafe { std::ffi::CStr::from_ptr(tm.tm_zone).to_string_lossy().into_owned() }
    };
    Ok(StructTime { tm, zone })
}

fn secs_arg(vm: &mut Vm, args: &Args) -> PyResult<f64> {
    match args.pos.first() {
        None | Some(Value::None) => Ok(wall_time(vm)),
        Some(v) => aio_interp::types::float::to_float(vm, v),
    }
}

fn localtime(vm: &mut Vm, args: Args) -> PyResult {
    let s = secs_arg(vm, &args)?;
    Ok(Value::object(broken_down(vm, s, false)?))
}
fn gmtime(vm: &mut Vm, args: Args) -> PyResult {
    let s = secs_arg(vm, &args)?;
    Ok(Value::object(broken_down(vm, s, true)?))
}

fn tm_of(vm: &mut Vm, v: Option<&Value>) -> PyResult<libc::tm> {
    match v {
        None => {
            let s = wall_time(vm);
            Ok(broken_down(vm, s, false)?.tm)
        }
        Some(v) => {
            if let Some(st) = v.downcast::<StructTime>() {
                return Ok(st.tm);
            }
            let items = vm.collect(v)?;
            if items.len() != 9 {
                return Err(type_error("time tuple must have exactly 9 elements"));
            }
            let mut n = [0i64; 9];
            for (i, it) in items.iter().enumerate() {
                n[i] = vm.index_value(it)?;
            }
            // SAFETY: an all-zero tm is valid.
            let mut tm: libc::tm = unsafe { std::mem::zeroed() };
            tm.tm_year = (n[0] - 1900) as i32;
            tm.tm_mon = (n[1] - 1) as i32;
            tm.tm_mday = n[2] as i32;
            tm.tm_hour = n[3] as i32;
            tm.tm_min = n[4] as i32;
            tm.tm_sec = n[5] as i32;
            tm.tm_wday = ((n[6] + 1) % 7) as i32;
            tm.tm_yday = (n[7] - 1) as i32;
            tm.tm_isdst = n[8] as i32;
            Ok(tm)
        }
    }
}

fn strftime(vm: &mut Vm, args: Args) -> PyResult {
    let fmt = match args.pos.first() {
        Some(Value::Str(s)) => s.as_str().to_string(),
        _ => return Err(type_error("strftime() argument 1 must be str")),
    };
    let tm = tm_of(vm, args.pos.get(1))?;
    Ok(Value::string(format_tm(&fmt, &tm)))
}

fn format_tm(fmt: &str, tm: &libc::tm) -> String {
    if fmt.is_empty() {
        return String::new();
    }
    let cfmt = match std::ffi::CString::new(fmt) {
        Ok(c) => c,
        Err(_) => return String::new(),
    };
    let mut size = 256;
    loop {
        let mut buf = vec![0u8; size];
        // SAFETY: buf has `size` bytes; strftime writes at most that many.
        let n = unsafe { libc::strftime(buf.as_mut_ptr() as *mut libc::c_char, size, cfmt.as_ptr(), tm) };
        if n > 0 || size > 1 << 16 {
            buf.truncate(n);
            return String::from_utf8_lossy(&buf).into_owned();
        }
        size *= 4;
    }
}

/// `time.strptime(string, format)`: parsed by the `_strptime` module.
fn strptime(vm: &mut Vm, args: Args) -> PyResult {
    let m = vm.import_module("_strptime")?;
    let f = vm.getattr(&m, &aio_interp::intern::intern("_strptime_time"))?;
    let t = vm.call(f, args)?;
    let tm = tm_of(vm, Some(&t))?;
    Ok(Value::object(StructTime { tm, zone: String::new() }))
}

/// `time.struct_time(seq)`: a struct_time from nine numbers.
fn struct_time_new(vm: &mut Vm, args: Args) -> PyResult {
    let Some(seq) = args.pos.get(1) else {
        return Err(type_error("time.struct_time() missing required argument 'sequence' (pos 1)"));
    };
    let items = vm.collect(seq)?;
    if items.len() < 9 {
        return Err(type_error(format!("time.struct_time() takes an at least 9-sequence ({}-sequence given)", items.len())));
    }
    let tm = tm_of(vm, Some(&Value::tuple(items[..9].to_vec())))?;
    Ok(Value::object(StructTime { tm, zone: String::new() }))
}

fn asctime_of(tm: &libc::tm) -> String {
    format_tm("%a %b %e %H:%M:%S %Y", tm)
}

fn ctime(vm: &mut Vm, args: Args) -> PyResult {
    let s = secs_arg(vm, &args)?;
    Ok(Value::string(asctime_of(&broken_down(vm, s, false)?.tm)))
}

fn asctime(vm: &mut Vm, args: Args) -> PyResult {
    let tm = tm_of(vm, args.pos.first())?;
    Ok(Value::string(asctime_of(&tm)))
}

fn mktime(vm: &mut Vm, args: Args) -> PyResult {
    let mut tm = tm_of(vm, args.pos.first())?;
    let t = if vm.host.virtual_time() {
        // SAFETY: timegm reads the tm we own.
        unsafe { libc::timegm(&mut tm) }
    } else {
        // SAFETY: mktime reads the tm we own.
        unsafe { libc::mktime(&mut tm) }
    };
    Ok(Value::float(t as f64))
}

/// Build the `time` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    if vm.host.virtual_time() {
        std::env::set_var("TZ", "UTC");
    }
    let fns: &[(&str, NativeFnPtr)] = &[
        ("time", time),
        ("time_ns", time_ns),
        ("monotonic", monotonic),
        ("monotonic_ns", monotonic_ns),
        ("perf_counter", monotonic),
        ("perf_counter_ns", monotonic_ns),
        ("process_time", process_time),
        ("process_time_ns", process_time_ns),
        ("thread_time", thread_time),
        ("thread_time_ns", thread_time_ns),
        ("sleep", sleep),
        ("localtime", localtime),
        ("gmtime", gmtime),
        ("strftime", strftime),
        ("ctime", ctime),
        ("asctime", asctime),
        ("mktime", mktime),
        ("strptime", strptime),
    ];
    let mut entries: Vec<(&str, Value)> = fns.iter().map(|(n, f)| (*n, native_fn(n, *f))).collect();
    entries.push(("struct_time", Value::Class(STRUCT_TIME.with(|c| c.clone()))));
    entries.push(("timezone", Value::Int(0)));
    Ok(vm.make_native_module("time", entries))
}
