//! The terminal side of the REPL: rustyline reads lines on a thread of its
//! own, and whatever the program prints while the prompt is up (stdout and
//! stderr) goes above the prompt through rustyline's external printer.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aio_interp::Vm;
use rustyline::completion::{Completer, Pair};
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, ExternalPrinter};

use super::complete::Names;

/// What the editor hands back for a prompt.
pub enum Reply {
    /// What the user entered, without the final newline: one typed line, or
    /// several at once (a paste, or a block recalled from history).
    Line(String),
    /// Ctrl-C at the prompt.
    Interrupted,
    /// Ctrl-D on an empty line, or the end of input.
    Eof,
}

/// A message for the editor thread.
enum Request {
    /// Read a line after this prompt.
    Prompt(String),
    /// Add a whole input to the history (and its file).
    Remember(String),
}

/// A message for the printer thread.
enum Print {
    Text(String),
    /// Answer once everything sent before has been printed.
    Sync(Sender<()>),
}

/// rustyline's view of the session: completion from the names snapshot.
struct Helper {
    names: Arc<Mutex<Names>>,
}

impl Completer for Helper {
    type Candidate = Pair;
    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = match self.names.lock() {
            Ok(n) => n.complete(line, pos),
            Err(_) => (pos, vec![]),
        };
        Ok((start, words.into_iter().map(|w| Pair { display: w.clone(), replacement: w }).collect()))
    }
}
impl Hinter for Helper {
    type Hint = String;
}
impl Highlighter for Helper {}
impl Validator for Helper {}
impl rustyline::Helper for Helper {}

/// The terminal: the editor thread, the printer thread, and the switch that
/// routes the program's output above the prompt while the prompt is shown.
pub struct Terminal {
    requests: Option<Sender<Request>>,
    replies: Receiver<Reply>,
    printer: Sender<Print>,
    /// stdout text after the last newline, held until the line is complete
    /// (the external printer prints whole lines).
    partial: Rc<RefCell<String>>,
    stderr: Option<StderrPipe>,
    saved_mode: Option<libc::termios>,
    editor: Option<std::thread::JoinHandle<()>>,
    prompting: bool,
}

impl Terminal {
    /// Start the editor; completion reads `names`, history lives in `history`.
    pub fn start(names: Arc<Mutex<Names>>, history: Option<PathBuf>) -> Terminal {
        let (request_tx, request_rx) = mpsc::channel::<Request>();
        let (reply_tx, reply_rx) = mpsc::channel();
        let (print_tx, print_rx) = mpsc::channel();
        let saved_mode = terminal_mode();
        let editor = std::thread::Builder::new()
            .name("aio-editor".into())
            .spawn(move || editor_thread(names, history, request_rx, reply_tx, print_rx))
            .ok();
        let stderr = StderrPipe::new(print_tx.clone());
        Terminal {
            requests: Some(request_tx),
            replies: reply_rx,
            printer: print_tx,
            partial: Rc::new(RefCell::new(String::new())),
            stderr,
            saved_mode,
            editor,
            prompting: false,
        }
    }

    /// Show `prompt`; until [`Terminal::end_prompt`], output goes above it.
    pub fn begin_prompt(&mut self, vm: &mut Vm, prompt: &str) {
        vm.host.flush();
        let tx = self.printer.clone();
        let partial = self.partial.clone();
        vm.host.set_print_hook(Some(Box::new(move |s: &str| {
            let mut p = partial.borrow_mut();
            p.push_str(s);
            if let Some(i) = p.rfind('\n') {
                let rest = p.split_off(i + 1);
                let text = std::mem::replace(&mut *p, rest);
                let _ = tx.send(Print::Text(text));
            }
        })));
        if let Some(e) = &self.stderr {
            e.redirect();
        }
        self.prompting = true;
        if let Some(r) = &self.requests {
            let _ = r.send(Request::Prompt(prompt.to_string()));
        }
    }

    /// Keep `input` (all its lines) as one history entry, recalled whole.
    pub fn remember(&self, input: &str) {
        if let Some(r) = &self.requests {
            let _ = r.send(Request::Remember(input.to_string()));
        }
    }

    /// The editor's reply, if it comes within `timeout`.
    pub fn reply(&self, timeout: Duration) -> Option<Reply> {
        match self.replies.recv_timeout(timeout) {
            Ok(r) => Some(r),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Reply::Eof),
        }
    }

    /// The prompt is gone: output goes straight to the terminal again.
    pub fn end_prompt(&mut self, vm: &mut Vm) {
        vm.host.set_print_hook(None);
        if let Some(e) = &self.stderr {
            e.restore();
        }
        self.prompting = false;
        // What the printer still holds comes before what the input prints.
        let (ack_tx, ack_rx) = mpsc::channel();
        if self.printer.send(Print::Sync(ack_tx)).is_ok() {
            let _ = ack_rx.recv_timeout(Duration::from_millis(300));
        }
        let rest = std::mem::take(&mut *self.partial.borrow_mut());
        if !rest.is_empty() {
            vm.write_out_raw(&rest);
        }
    }

    /// Leave the terminal as it was found, even with the prompt still up
    /// (a background task called `sys.exit()`), and let the editor finish.
    pub fn close(&mut self, vm: &mut Vm) {
        if self.prompting {
            self.end_prompt(vm);
            if let Some(m) = &self.saved_mode {
                // SAFETY: restores attributes read from the same descriptor by tcgetattr.
                unsafe { libc::tcsetattr(0, libc::TCSANOW, m) };
            }
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(b"\n");
            let _ = out.flush();
            return;
        }
        // The editor thread ends when it gets no more requests (saving
        // nothing more: each input was added to the history file as it came).
        self.requests = None;
        if let Some(h) = self.editor.take() {
            let _ = h.join();
        }
    }
}

/// The terminal's attributes, to restore them if the session ends while
/// the editor has the terminal in raw mode.
fn terminal_mode() -> Option<libc::termios> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    // SAFETY: tcgetattr fills the zeroed struct; checked for failure.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        (libc::tcgetattr(0, &mut t) == 0).then_some(t)
    }
}

fn editor_thread(
    names: Arc<Mutex<Names>>,
    history: Option<PathBuf>,
    requests: Receiver<Request>,
    replies: Sender<Reply>,
    prints: Receiver<Print>,
) {
    // A bracketed paste arrives as one piece, blank lines and all, so a
    // pasted function whose body has blank lines stays whole.
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .history_ignore_space(true)
        .bracketed_paste(true)
        .build();
    let mut ed: Editor<Helper, DefaultHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("aio: cannot start the line editor: {e}");
            drop(requests);
            let _ = replies.send(Reply::Eof);
            aio_interp::runtime::reactor::wake();
            return;
        }
    };
    ed.set_helper(Some(Helper { names }));
    if let Some(h) = &history {
        // An older file (one line per entry, no `#V2` header) loads line by
        // line, and is rewritten in the multi-line format on the next save.
        let _ = ed.load_history(h);
    }
    let printer = ed.create_external_printer().ok();
    let _ = std::thread::Builder::new().name("aio-printer".into()).spawn(move || printer_thread(printer, prints));
    for request in requests {
        let prompt = match request {
            Request::Prompt(p) => p,
            Request::Remember(input) => {
                // rustyline's file format keeps an entry on one line, its
                // newlines escaped, so a block comes back as one entry.
                if ed.add_history_entry(input.as_str()).unwrap_or(false) {
                    if let Some(h) = &history {
                        let _ = ed.append_history(h);
                    }
                }
                continue;
            }
        };
        let reply = match ed.readline(&prompt) {
            Ok(line) => Reply::Line(line),
            Err(ReadlineError::Interrupted) => {
                // A task running meanwhile (never awaiting) is interrupted.
                super::interrupt::prompt_key();
                Reply::Interrupted
            }
            Err(_) => Reply::Eof,
        };
        if replies.send(reply).is_err() {
            break;
        }
        // The session may be waiting on sockets rather than on us.
        aio_interp::runtime::reactor::wake();
    }
}

fn printer_thread<P: ExternalPrinter>(mut printer: Option<P>, prints: Receiver<Print>) {
    for p in prints {
        match p {
            Print::Text(t) => {
                let printed = printer.as_mut().is_some_and(|p| p.print(t.clone()).is_ok());
                if !printed {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(t.as_bytes());
                    let _ = out.flush();
                }
            }
            Print::Sync(ack) => {
                let _ = ack.send(());
            }
        }
    }
}

/// While the prompt is up, file descriptor 2 is a pipe whose lines go to
/// the printer: error reports and `sys.stderr` writes of background tasks
/// then appear above the prompt as well.
struct StderrPipe {
    saved: RawFd,
    write_end: RawFd,
}

impl StderrPipe {
    fn new(printer: Sender<Print>) -> Option<StderrPipe> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let mut fds = [0 as RawFd; 2];
        // SAFETY: plain descriptor calls, each checked for failure.
        let saved = unsafe {
            if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
                return None;
            }
            libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 3)
        };
        if saved < 0 {
            return None;
        }
        let read_end = fds[0];
        std::thread::Builder::new().name("aio-stderr".into()).spawn(move || forward(read_end, printer)).ok()?;
        Some(StderrPipe { saved, write_end: fds[1] })
    }
    fn redirect(&self) {
        // SAFETY: both descriptors are open for the life of the session.
        unsafe { libc::dup2(self.write_end, 2) };
    }
    fn restore(&self) {
        // SAFETY: as above.
        unsafe { libc::dup2(self.saved, 2) };
    }
}

/// Send what arrives on `fd` to the printer, line by line; a partial line
/// goes on its own after a short quiet spell.
fn forward(fd: RawFd, printer: Sender<Print>) {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        let timeout = if pending.is_empty() { -1 } else { 50 };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, timeout) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        if n == 0 {
            let text = String::from_utf8_lossy(&pending).into_owned();
            pending.clear();
            let _ = printer.send(Print::Text(text));
            continue;
        }
        // SAFETY: reads into a buffer of the given length.
        let got = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if got <= 0 {
            if got < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        pending.extend_from_slice(&buf[..got as usize]);
        if let Some(i) = pending.iter().rposition(|&b| b == b'\n') {
            let rest = pending.split_off(i + 1);
            let text = String::from_utf8_lossy(&pending).into_owned();
            pending = rest;
            if printer.send(Print::Text(text)).is_err() {
                return;
            }
        }
    }
}
