//! The reactor: each event loop's window on the operating system. It keeps
//! which file descriptors the loop watches for reading and writing, waits
//! on them (epoll, through the `polling` crate, level-triggered like
//! CPython's selectors) with the next timer as the timeout, and hands back
//! the handles whose descriptors are ready, which the loop appends to its
//! ready queue as CPython's `_process_events` does.
//!
//! What plugs into it, and how:
//!
//! - **Sockets and pipes**: [`Reactor::add_reader`] / [`Reactor::add_writer`]
//!   register a callback for a descriptor and return its [`IoHandle`]; a new
//!   registration replaces (cancels) the previous one for the same
//!   descriptor and direction, and [`Reactor::remove_reader`] /
//!   [`Reactor::remove_writer`] cancel it, so a callback already queued for
//!   this iteration does not run (as in CPython). A callback is native (an
//!   [`IoWatcher`], which transports implement) or an .aio callable with
//!   arguments (`loop.add_reader(fd, f, *args)`). While a descriptor is
//!   registered, I/O is in flight: the loop waits for it instead of
//!   reporting a deadlock, and a virtual clock runs at real speed.
//! - **Child processes**: `pidfd_open(pid)` gives a descriptor that becomes
//!   readable when the child exits: it is registered as a reader, and the
//!   callback reaps the child with `waitpid` (`stdlib/src/asyncio/subprocess.rs`;
//!   where the kernel has no pidfd, a thread waits for the child without
//!   reaping it and closes a pipe the reactor watches instead). A running
//!   child is I/O in flight. Its pipes are descriptors like sockets.
//! - **Signals**: the action of a hooked signal (see `runtime::signals`)
//!   calls [`signal_wakeup`], which is async-signal-safe: it marks the
//!   signal pending and writes to the process's wake pipe, whose read end
//!   every reactor watches, so a loop waiting in `select` wakes at once. At
//!   each iteration the loop takes the pending set with [`take_signals`] and
//!   schedules the handlers of `loop.add_signal_handler` with `call_soon`
//!   (CPython's `_read_from_self`, then `_handle_signal`). SIGINT goes the
//!   same way: Ctrl-C wakes a loop waiting on I/O, and the loop raises
//!   `KeyboardInterrupt`.
//! - **Other threads** (the REPL's terminal reader) call [`wake`] to end a
//!   wait early.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;
use std::os::fd::{BorrowedFd, RawFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use polling::{Event, Events, PollMode, Poller};

use crate::object::PyResult;
use crate::value::Value;
use crate::vm::Vm;

/// A native reader or writer: a transport, a listening socket.
pub trait IoWatcher {
    /// The descriptor is ready for reading (`write` false) or writing.
    fn ready(self: Rc<Self>, vm: &mut Vm, write: bool) -> PyResult<()>;
    /// What a task waiting on this descriptor waits for, for reports
    /// (`read from 127.0.0.1:40812`).
    fn describe(&self, write: bool) -> String;
}

/// What runs when a descriptor is ready.
pub enum IoCallback {
    /// A native watcher.
    Native(Rc<dyn IoWatcher>),
    /// An .aio callable and its arguments (`loop.add_reader(fd, f, *args)`).
    Call(Value, Vec<Value>),
}

/// One registration: a descriptor, a direction and a callback (CPython
/// makes a `Handle` for each `add_reader`).
pub struct IoHandle {
    pub fd: RawFd,
    /// Watching for writability (else readability).
    pub write: bool,
    cancelled: Cell<bool>,
    pub cb: IoCallback,
}

impl IoHandle {
    pub fn cancelled(&self) -> bool {
        self.cancelled.get()
    }
    pub fn cancel(&self) {
        self.cancelled.set(true);
    }
}

#[derive(Default)]
struct Entry {
    reader: Option<Rc<IoHandle>>,
    writer: Option<Rc<IoHandle>>,
}

/// The key under which every poller watches the wake pipe (polling keeps
/// `usize::MAX` for itself).
const WAKE_KEY: usize = usize::MAX - 1;

/// A loop's reactor. The poller is made on first use: a program that does
/// no I/O and never waits pays nothing for it.
#[derive(Default)]
pub struct Reactor {
    poller: OnceCell<Poller>,
    entries: RefCell<HashMap<RawFd, Entry>>,
    events: RefCell<Option<Events>>,
}

fn to_py(e: std::io::Error) -> crate::object::PyErr {
    crate::exceptions::os_error_from_io(&e)
}

impl Reactor {
    fn poller(&self) -> PyResult<&Poller> {
        if let Some(p) = self.poller.get() {
            return Ok(p);
        }
        let p = Poller::new().map_err(to_py)?;
        if let Some(r) = wake_pipe() {
            // SAFETY: the wake pipe lives as long as the process.
            unsafe { p.add_with_mode(r, Event::readable(WAKE_KEY), PollMode::Level).map_err(to_py)? };
        }
        Ok(self.poller.get_or_init(|| p))
    }

    /// How many descriptors are watched: I/O in flight.
    pub fn in_flight(&self) -> usize {
        self.entries.borrow().len()
    }

    /// Is `fd` watched for reading (`write` false) or writing?
    pub fn is_watching(&self, fd: RawFd, write: bool) -> bool {
        self.entries.borrow().get(&fd).is_some_and(|e| if write { e.writer.is_some() } else { e.reader.is_some() })
    }

    /// The handle watching `fd` in one direction, if any.
    pub fn handle(&self, fd: RawFd, write: bool) -> Option<Rc<IoHandle>> {
        self.entries.borrow().get(&fd).and_then(|e| if write { e.writer.clone() } else { e.reader.clone() })
    }

    /// Every handle registered, readers first (for reports).
    pub fn handles(&self) -> Vec<Rc<IoHandle>> {
        let entries = self.entries.borrow();
        let mut v: Vec<Rc<IoHandle>> = entries.values().filter_map(|e| e.reader.clone()).collect();
        v.extend(entries.values().filter_map(|e| e.writer.clone()));
        v.sort_by_key(|h| (h.write, h.fd));
        v
    }

    fn register(&self, fd: RawFd, write: bool, cb: IoCallback) -> PyResult<Rc<IoHandle>> {
        if fd < 0 {
            return Err(crate::exceptions::value_error(format!("Invalid file descriptor: {fd}")));
        }
        let poller = self.poller()?;
        let handle = Rc::new(IoHandle { fd, write, cancelled: Cell::new(false), cb });
        let mut entries = self.entries.borrow_mut();
        let fresh = !entries.contains_key(&fd);
        let entry = entries.entry(fd).or_default();
        let old = if write { entry.writer.replace(handle.clone()) } else { entry.reader.replace(handle.clone()) };
        let ev = Event::new(fd as usize, entry.reader.is_some(), entry.writer.is_some());
        let r = if fresh {
            // SAFETY: the descriptor stays open while registered: its owner
            // removes it before closing it.
            unsafe { poller.add_with_mode(fd, ev, PollMode::Level) }
        } else {
            poller.modify_with_mode(unsafe { BorrowedFd::borrow_raw(fd) }, ev, PollMode::Level)
        };
        if let Err(e) = r {
            if fresh {
                entries.remove(&fd);
            } else {
                entry_restore(&mut entries, fd, old, write);
            }
            return Err(to_py(e));
        }
        if let Some(o) = old {
            o.cancel();
        }
        Ok(handle)
    }

    fn unregister(&self, fd: RawFd, write: bool) -> bool {
        let mut entries = self.entries.borrow_mut();
        let Some(entry) = entries.get_mut(&fd) else { return false };
        let old = if write { entry.writer.take() } else { entry.reader.take() };
        let (r, w) = (entry.reader.is_some(), entry.writer.is_some());
        if let Some(p) = self.poller.get() {
            // SAFETY: the descriptor is still open (see `register`).
            let fdb = unsafe { BorrowedFd::borrow_raw(fd) };
            // A descriptor closed behind our back is already gone from epoll.
            let _ = if r || w { p.modify_with_mode(fdb, Event::new(fd as usize, r, w), PollMode::Level) } else { p.delete(fdb) };
        }
        if !r && !w {
            entries.remove(&fd);
        }
        match old {
            Some(h) => {
                h.cancel();
                true
            }
            None => false,
        }
    }

    /// Watch `fd` for reading; replaces an earlier reader of `fd`.
    pub fn add_reader(&self, fd: RawFd, cb: IoCallback) -> PyResult<Rc<IoHandle>> {
        self.register(fd, false, cb)
    }
    /// Watch `fd` for writing; replaces an earlier writer of `fd`.
    pub fn add_writer(&self, fd: RawFd, cb: IoCallback) -> PyResult<Rc<IoHandle>> {
        self.register(fd, true, cb)
    }
    /// Stop watching `fd` for reading; whether it was watched.
    pub fn remove_reader(&self, fd: RawFd) -> bool {
        self.unregister(fd, false)
    }
    /// Stop watching `fd` for writing; whether it was watched.
    pub fn remove_writer(&self, fd: RawFd) -> bool {
        self.unregister(fd, true)
    }
    /// Forget every registration (the loop closes).
    pub fn clear(&self) {
        let fds: Vec<RawFd> = self.entries.borrow().keys().copied().collect();
        for fd in fds {
            self.unregister(fd, false);
            self.unregister(fd, true);
        }
    }

    /// Wait until a watched descriptor is ready, a signal or [`wake`] comes,
    /// or `timeout` passes (`None`: no limit; zero: just look), and give
    /// the ready handles to `push`, readers before writers for each
    /// descriptor, in the order the system reported them.
    pub fn select(&self, timeout: Option<Duration>, mut push: impl FnMut(Rc<IoHandle>)) -> PyResult<()> {
        let poller = self.poller()?;
        let mut slot = self.events.borrow_mut();
        let events = slot.get_or_insert_with(Events::new);
        events.clear();
        poller.wait(events, timeout).map_err(to_py)?;
        let entries = self.entries.borrow();
        for ev in events.iter() {
            if ev.key == WAKE_KEY {
                drain_wake_pipe();
                continue;
            }
            let Some(entry) = entries.get(&(ev.key as RawFd)) else { continue };
            if ev.readable {
                if let Some(h) = &entry.reader {
                    push(h.clone());
                }
            }
            if ev.writable {
                if let Some(h) = &entry.writer {
                    push(h.clone());
                }
            }
        }
        Ok(())
    }
}

fn entry_restore(entries: &mut HashMap<RawFd, Entry>, fd: RawFd, old: Option<Rc<IoHandle>>, write: bool) {
    if let Some(e) = entries.get_mut(&fd) {
        if write {
            e.writer = old;
        } else {
            e.reader = old;
        }
    }
}

// ------------------------------------------------------------ waking from signals and threads

/// The write end of the wake pipe, once made (-1 before).
static WAKE_W: AtomicI32 = AtomicI32::new(-1);
/// Signals received and not yet taken by a loop (bit `n - 1` for signal `n`).
static PENDING_SIGNALS: AtomicU64 = AtomicU64::new(0);

/// The read end of the process's wake pipe, made on first use.
fn wake_pipe() -> Option<RawFd> {
    static PIPE: OnceLock<Option<RawFd>> = OnceLock::new();
    *PIPE.get_or_init(|| {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors.
        let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
        if r != 0 {
            return None;
        }
        WAKE_W.store(fds[1], Ordering::SeqCst);
        Some(fds[0])
    })
}

fn drain_wake_pipe() {
    if let Some(r) = wake_pipe() {
        let mut buf = [0u8; 64];
        // SAFETY: reading into a local buffer from a non-blocking pipe.
        while unsafe { libc::read(r, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    }
}

/// Wake a loop waiting in `select`, from any thread.
pub fn wake() {
    let _ = wake_pipe();
    write_wake_byte();
}

fn write_wake_byte() {
    let w = WAKE_W.load(Ordering::Relaxed);
    if w >= 0 {
        let b = 1u8;
        // SAFETY: write(2) on a non-blocking pipe is async-signal-safe; a
        // full pipe already guarantees a wake-up, so the result is ignored.
        unsafe {
            libc::write(w, (&b as *const u8).cast(), 1);
        }
    }
}

/// Called from a signal handler: mark `signum` pending and wake the loop.
/// Only async-signal-safe operations (an atomic and `write`).
pub fn signal_wakeup(signum: libc::c_int) {
    if (1..=64).contains(&signum) {
        PENDING_SIGNALS.fetch_or(1 << (signum - 1), Ordering::SeqCst);
    }
    write_wake_byte();
}

/// Make the wake pipe now, so that a signal handler installed later can
/// write to it (the handler itself must not allocate).
pub fn prepare() {
    let _ = wake_pipe();
}

/// The signals received since the last call (bit `n - 1` for signal `n`).
pub fn take_signals() -> u64 {
    if PENDING_SIGNALS.load(Ordering::Relaxed) == 0 {
        return 0;
    }
    PENDING_SIGNALS.swap(0, Ordering::SeqCst)
}
