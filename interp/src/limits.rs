//! Limits on a run, for programs that are not trusted to end or to stay
//! small. `--timeout` (seconds of real time, even under `--virtual-time`)
//! and `--max-instructions` (steps of the VM) stop the program at the VM's
//! next periodic check (`Vm::check_interrupt`), the same safe point that
//! turns Ctrl-C into `KeyboardInterrupt`, so a spinning loop, a sleep and a
//! wait in the event loop all stop; the report names the place and the exit
//! status is 1. That stop cannot be caught: a program that catches
//! everything must still end. `--max-memory` is a `MemoryError`, as when
//! the system runs out, which the program may catch (see `CountingAlloc`).

use std::alloc::{GlobalAlloc, Layout, System};

use libmimalloc_sys as mi;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use crate::vm::{Vm, INTERRUPTED};

/// Which limit was reached: 0 none, 1 the timeout, 2 the instruction count.
static HIT: AtomicU8 = AtomicU8::new(0);
/// The timeout, in milliseconds, for the report (0: none).
static TIMEOUT_MS: AtomicU64 = AtomicU64::new(0);
/// The instruction limit (0: none) and the steps still allowed.
static MAX_STEPS: AtomicU64 = AtomicU64::new(0);
static STEPS_LEFT: AtomicU64 = AtomicU64::new(0);
/// The steps handed out at the last check (0: the VM's first budget).
static GIVEN: AtomicU64 = AtomicU64::new(0);

/// How long a stop may wait for the VM's next check before the process ends
/// without it (a native call that blocks and never checks, as `input()`).
const GRACE: Duration = Duration::from_secs(2);

/// Stop the program after `secs` seconds of real time.
pub fn set_timeout(secs: f64) {
    let after = Duration::from_secs_f64(secs.clamp(0.0, 1e9));
    TIMEOUT_MS.store((after.as_millis() as u64).max(1), Ordering::Relaxed);
    let spawned = std::thread::Builder::new().name("aio-timeout".into()).spawn(move || {
        std::thread::sleep(after);
        HIT.store(1, Ordering::SeqCst);
        INTERRUPTED.store(true, Ordering::SeqCst);
        crate::runtime::reactor::wake();
        std::thread::sleep(GRACE);
        // The VM did not reach a check: end here, with what can be said.
        eprintln!("TimeoutError: {} reached (stopped inside a blocking call)", describe(1));
        std::process::exit(1);
    });
    if spawned.is_err() {
        eprintln!("aio: cannot start the --timeout watchdog");
        std::process::exit(2);
    }
}

/// Stop the program after about `n` steps of the VM.
pub fn set_max_instructions(n: u64) {
    MAX_STEPS.store(n.max(1), Ordering::Relaxed);
    STEPS_LEFT.store(n.max(1), Ordering::Relaxed);
}

/// At a periodic check, with `left` of the steps handed out last time still
/// unspent (`budget` at first): the steps to run before the next check, at
/// most `budget`, or `None` when a limit has been reached.
pub fn spend(left: u32, budget: u32) -> Option<u32> {
    if HIT.load(Ordering::Relaxed) != 0 {
        return None;
    }
    if MAX_STEPS.load(Ordering::Relaxed) == 0 {
        return Some(budget);
    }
    let given = match GIVEN.load(Ordering::Relaxed) {
        0 => budget,
        g => g as u32,
    };
    let used = given.saturating_sub(left) as u64;
    let remaining = STEPS_LEFT.load(Ordering::Relaxed).saturating_sub(used);
    STEPS_LEFT.store(remaining, Ordering::Relaxed);
    if remaining == 0 {
        HIT.store(2, Ordering::SeqCst);
        return None;
    }
    let next = remaining.min(budget as u64) as u32;
    GIVEN.store(next as u64, Ordering::Relaxed);
    Some(next)
}

/// Has a limit been reached (the program is to stop at the next check)?
pub fn reached() -> bool {
    HIT.load(Ordering::Relaxed) != 0
}

/// The limit that was reached, as the command line spelled it.
fn describe(which: u8) -> String {
    if which == 1 {
        let ms = TIMEOUT_MS.load(Ordering::Relaxed);
        format!("--timeout {}", ms as f64 / 1000.0)
    } else {
        format!("--max-instructions {}", MAX_STEPS.load(Ordering::Relaxed))
    }
}

/// Report the limit reached and where the program was, flush its output and
/// end the process with status 1.
pub fn stop(vm: &mut Vm) -> ! {
    let which = HIT.load(Ordering::SeqCst);
    vm.host.flush();
    let mut text = String::from("Traceback (most recent call last):\n");
    for f in &vm.frames {
        // A frame's ip is past the instruction it stopped in.
        let line = f.code.line_at(f.ip.saturating_sub(1));
        text.push_str(&format!(
            "  File \"{}\", line {}, in {}\n    {}\n",
            f.code.source.name,
            line,
            f.code.name.as_str(),
            f.code.source.line_text(line).trim()
        ));
    }
    text.push_str(&format!("TimeoutError: {} reached: aio stopped the program\n", describe(which)));
    vm.write_err(&text);
    vm.host.flush();
    std::process::exit(1);
}

// ------------------------------------------------------------ --max-memory

/// The memory limit in bytes (0: none), as given, and the bytes the
/// process holds through the allocator since it was set.
static MEM_LIMIT: AtomicUsize = AtomicUsize::new(0);
static MEM_SPELLED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
static IN_USE: AtomicIsize = AtomicIsize::new(0);
/// Set by the allocator when the bytes held went past the limit; the VM
/// raises `MemoryError` at its next check.
static MEM_OVER: AtomicBool = AtomicBool::new(false);

/// Raise `MemoryError` once the program holds more than `bytes` (`spelled`
/// as the command line gave it, for the message). Set it before the
/// program starts: memory held before is not counted.
pub fn set_max_memory(bytes: usize, spelled: &str) {
    let _ = MEM_SPELLED.set(spelled.to_string());
    MEM_LIMIT.store(bytes.max(1), Ordering::SeqCst);
}

/// A `--max-memory` value: a number of bytes with an optional K, M, G or T
/// (powers of 1024; a trailing B or iB is allowed).
pub fn parse_size(v: &str) -> Option<usize> {
    let t = v.trim();
    let t = t.strip_suffix("iB").or_else(|| t.strip_suffix('B')).unwrap_or(t);
    let (digits, shift) = match t.chars().last()?.to_ascii_uppercase() {
        'K' => (&t[..t.len() - 1], 10),
        'M' => (&t[..t.len() - 1], 20),
        'G' => (&t[..t.len() - 1], 30),
        'T' => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let n: f64 = digits.trim().parse().ok()?;
    let bytes = n * (1u64 << shift) as f64;
    (bytes.is_finite() && bytes >= 1.0 && bytes < usize::MAX as f64).then_some(bytes as usize)
}

fn memory_limit_error() -> crate::object::PyErr {
    let spelled = MEM_SPELLED.get().map(String::as_str).unwrap_or("");
    crate::exceptions::err(&crate::types::types().exc.memory_error, format!("--max-memory {spelled} reached"))
}

/// `MemoryError` unless `n` more bytes fit under `--max-memory`: asked by
/// the allocations whose size a program chooses (`[0] * n`), before they
/// are made.
pub fn memory_room(n: usize) -> crate::object::PyResult<()> {
    let limit = MEM_LIMIT.load(Ordering::Relaxed);
    if limit != 0 && (IN_USE.load(Ordering::Relaxed).max(0) as usize).saturating_add(n) > limit {
        return Err(memory_limit_error());
    }
    Ok(())
}

/// Has the allocator seen the program go past `--max-memory` since the
/// last check? (One load; the check itself is `take_memory_over`.)
#[inline]
pub fn memory_over_pending() -> bool {
    MEM_OVER.load(Ordering::Relaxed)
}

/// The `MemoryError` for going past `--max-memory`, if the allocator saw
/// that happen and the program still holds too much.
pub fn take_memory_over() -> Option<crate::object::PyErr> {
    if !MEM_OVER.swap(false, Ordering::Relaxed) {
        return None;
    }
    let limit = MEM_LIMIT.load(Ordering::Relaxed);
    (IN_USE.load(Ordering::Relaxed).max(0) as usize > limit).then(memory_limit_error)
}

/// `blocks`: how the number of blocks held changed (1 for a new one, 0 for
/// a block that grew in place).
#[inline]
fn grew(n: usize, blocks: isize) {
    let limit = MEM_LIMIT.load(Ordering::Relaxed);
    if limit == 0 {
        return;
    }
    let now = IN_USE.fetch_add(n as isize, Ordering::Relaxed) + n as isize;
    if now > limit as isize && !MEM_OVER.load(Ordering::Relaxed) {
        MEM_OVER.store(true, Ordering::Relaxed);
        INTERRUPTED.store(true, Ordering::Relaxed);
    }
    if TRACING.load(Ordering::Relaxed) {
        TRACE_PEAK.fetch_max(now, Ordering::Relaxed);
        TRACE_BLOCKS.fetch_add(blocks, Ordering::Relaxed);
    }
}

#[inline]
fn shrank(n: usize, blocks: isize) {
    if MEM_LIMIT.load(Ordering::Relaxed) != 0 {
        IN_USE.fetch_sub(n as isize, Ordering::Relaxed);
        if TRACING.load(Ordering::Relaxed) {
            TRACE_BLOCKS.fetch_sub(blocks, Ordering::Relaxed);
        }
    }
}

// ------------------------------------------------------------ tracemalloc

/// Whether `tracemalloc` is tracing; what the process held when it
/// started; the most held since; the blocks allocated since, less those freed.
static TRACING: AtomicBool = AtomicBool::new(false);
static TRACE_BASE: AtomicIsize = AtomicIsize::new(0);
static TRACE_PEAK: AtomicIsize = AtomicIsize::new(0);
static TRACE_BLOCKS: AtomicIsize = AtomicIsize::new(0);
/// The allocator counts only under a limit: tracing without
/// `--max-memory` sets one nothing reaches, taken away again on stop.
static LIMIT_FOR_TRACING: AtomicBool = AtomicBool::new(false);

/// `tracemalloc.start()`: count from now on (nothing if already tracing).
pub fn trace_start() {
    if TRACING.load(Ordering::SeqCst) {
        return;
    }
    if MEM_LIMIT.load(Ordering::SeqCst) == 0 {
        LIMIT_FOR_TRACING.store(true, Ordering::SeqCst);
        MEM_LIMIT.store(isize::MAX as usize, Ordering::SeqCst);
    }
    let now = IN_USE.load(Ordering::SeqCst);
    TRACE_BASE.store(now, Ordering::SeqCst);
    TRACE_PEAK.store(now, Ordering::SeqCst);
    TRACE_BLOCKS.store(0, Ordering::SeqCst);
    TRACING.store(true, Ordering::SeqCst);
}

/// `tracemalloc.stop()`.
pub fn trace_stop() {
    TRACING.store(false, Ordering::SeqCst);
    if LIMIT_FOR_TRACING.swap(false, Ordering::SeqCst) {
        MEM_LIMIT.store(0, Ordering::SeqCst);
    }
}

/// Is `tracemalloc` tracing?
pub fn tracing() -> bool {
    TRACING.load(Ordering::SeqCst)
}

/// While tracing: the bytes allocated since it started and still held,
/// the most of them held at once, and the blocks they are in.
pub fn traced() -> Option<(usize, usize, usize)> {
    if !tracing() {
        return None;
    }
    let base = TRACE_BASE.load(Ordering::SeqCst);
    let now = (IN_USE.load(Ordering::SeqCst) - base).max(0);
    let peak = (TRACE_PEAK.load(Ordering::SeqCst) - base).max(now);
    Some((now as usize, peak as usize, TRACE_BLOCKS.load(Ordering::SeqCst).max(0) as usize))
}

/// `tracemalloc.reset_peak()`: the peak becomes what is held now.
pub fn trace_reset_peak() {
    TRACE_PEAK.store(IN_USE.load(Ordering::SeqCst), Ordering::SeqCst);
}

/// `tracemalloc.clear_traces()`: count again from what is held now.
pub fn trace_clear() {
    let now = IN_USE.load(Ordering::SeqCst);
    TRACE_BASE.store(now, Ordering::SeqCst);
    TRACE_PEAK.store(now, Ordering::SeqCst);
    TRACE_BLOCKS.store(0, Ordering::SeqCst);
}

/// mimalloc's `mi_option_purge_delay` (its number in the mimalloc 3 header
/// that libmimalloc-sys builds).
const MI_OPTION_PURGE_DELAY: mi::mi_option_t = 15;

/// Set the allocator up, first thing in `main`. An interpreter allocates
/// and frees small objects all the time, which mimalloc does in far fewer
/// instructions than glibc's malloc (a BPE tokeniser: 7,538 M -> 7,028 M,
/// 14% less CPU time). By default it keeps freed pages for a second before
/// returning them, which keeps a program's peak high; after 10 ms they go
/// back (mem_tasks: 462 bytes per task with 1 s, 458 with 10 ms), and
/// unlike returning them at once (460) a program whose blocks come and go
/// does not fault them back in: pidigits made 9,251 `madvise` calls and
/// spent 0.04 s in the kernel with no delay, none with 10 ms.
/// (Transparent huge pages are turned off when it is built:
/// .cargo/config.toml.)
pub fn setup_allocator() {
    // SAFETY: a plain option setter, valid at any time.
    unsafe { mi::mi_option_set(MI_OPTION_PURGE_DELAY, 10) }
}

/// The allocator, counting what the process holds for `--max-memory`.
/// Small blocks (the objects of a program) come from mimalloc; blocks of
/// `LARGE` bytes and more from the system's malloc, which maps them on
/// their own, gives them back when freed and grows them in place
/// (`mremap`), and refuses a size the machine cannot back (`[0] * 10**12`
/// is a `MemoryError`, as in CPython; mimalloc would reserve it and the
/// program would be killed filling it). A block's size says which
/// allocator holds it.
///
/// It never refuses on its own: an allocation that cannot fail (growing a
/// list) would abort the process and lose its output; the VM raises
/// `MemoryError` at its next check instead, and the sizes a program
/// chooses are refused before they are asked for (`memory_room`). Without
/// a limit the count is not kept.
pub struct CountingAlloc;

/// Blocks from this size up come from the system allocator.
const LARGE: usize = 256 << 10;

/// mimalloc gives every block at least this alignment (its sizes are
/// whole words): up to it, no need for its slower aligned entry. (Not 16:
/// a 24-byte block is only 8-aligned.)
const MI_MIN_ALIGN: usize = 8;

impl CountingAlloc {
    #[inline(always)]
    fn plain(layout: Layout) -> bool {
        layout.align() <= MI_MIN_ALIGN
    }

    /// Give `ptr` back to the allocator its size says holds it.
    #[inline(always)]
    unsafe fn free(ptr: *mut u8, layout: Layout) {
        if layout.size() >= LARGE {
            System.dealloc(ptr, layout);
        } else {
            mi::mi_free(ptr as *mut std::ffi::c_void);
        }
    }

    #[inline(always)]
    unsafe fn small_alloc(layout: Layout, zeroed: bool) -> *mut u8 {
        let (size, align) = (layout.size(), layout.align());
        (match (Self::plain(layout), zeroed) {
            (true, false) => mi::mi_malloc(size),
            (true, true) => mi::mi_zalloc(size),
            (false, false) => mi::mi_malloc_aligned(size, align),
            (false, true) => mi::mi_zalloc_aligned(size, align),
        }) as *mut u8
    }
}

// SAFETY: each block is handed out by one allocator, chosen by its size
// (which `dealloc` and `realloc` are given back), and freed by the same;
// only counters are updated besides.
unsafe impl GlobalAlloc for CountingAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = if layout.size() >= LARGE { System.alloc(layout) } else { Self::small_alloc(layout, false) };
        if !p.is_null() {
            grew(layout.size(), 1);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = if layout.size() >= LARGE { System.alloc_zeroed(layout) } else { Self::small_alloc(layout, true) };
        if !p.is_null() {
            grew(layout.size(), 1);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        Self::free(ptr, layout);
        shrank(layout.size(), 1);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = match (layout.size() >= LARGE, new_size >= LARGE) {
            (true, true) => System.realloc(ptr, layout, new_size),
            (false, false) if Self::plain(layout) => mi::mi_realloc(ptr as *mut std::ffi::c_void, new_size) as *mut u8,
            (false, false) => mi::mi_realloc_aligned(ptr as *mut std::ffi::c_void, new_size, layout.align()) as *mut u8,
            // From one allocator to the other: a new block, the contents
            // copied, the old block freed (counted as one change of size).
            (_, big) => {
                let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                let q = if big { System.alloc(new_layout) } else { Self::small_alloc(new_layout, false) };
                if !q.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, q, layout.size().min(new_size));
                    Self::free(ptr, layout);
                }
                q
            }
        };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size(), 0);
            } else {
                shrank(layout.size() - new_size, 0);
            }
        }
        p
    }
}

thread_local! {
    /// The address below which this thread's stack is too near its end for
    /// native recursion to go one level deeper (0: not yet found).
    static STACK_FLOOR: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Is this thread's stack nearly used up? Native code whose recursion
/// follows the depth of a value (hashing a nested tuple, comparing nested
/// lists) asks before each level, and raises `RecursionError` instead of
/// overflowing the stack.
pub fn stack_nearly_full() -> bool {
    let probe = 0u8;
    let here = std::ptr::addr_of!(probe) as usize;
    let floor = STACK_FLOOR.with(|f| {
        if f.get() == 0 {
            f.set(stack_floor(here));
        }
        f.get()
    });
    here < floor
}

/// The floor for the thread whose stack holds `here`: an eighth of the
/// stack (at least 256 KiB) above its lowest address, left for the levels
/// that do not ask and for raising the error.
fn stack_floor(here: usize) -> usize {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: pthread_getattr_np fills `attr` for the calling thread;
        // it is read by pthread_attr_getstack and then destroyed once.
        unsafe {
            let mut attr: libc::pthread_attr_t = std::mem::zeroed();
            if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) == 0 {
                let mut low: *mut libc::c_void = std::ptr::null_mut();
                let mut size: libc::size_t = 0;
                let found = libc::pthread_attr_getstack(&attr, &mut low, &mut size) == 0;
                libc::pthread_attr_destroy(&mut attr);
                if found && size > 0 {
                    return low as usize + (size / 8).max(256 << 10);
                }
            }
        }
    }
    // Unknown bounds: assume the smallest stack a thread is given (2 MiB).
    here.saturating_sub(3 << 19)
}
