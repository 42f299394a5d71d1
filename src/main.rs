//! The `aio` command: run a script, a `-c` string or a module, disassemble,
//! or start the REPL.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use aio_interp::compiler::Mode;
use aio_interp::import::{compile_source, new_module};
use aio_interp::object::PyErr;
use aio_interp::types::types;
use aio_interp::{Value, Vm};

const USAGE: &str = "usage: aio [options] [FILE.aio | -c CODE | -m MODULE] [ARGS...]

Run an .aio program, or start the REPL when no program is given.

options:
  -c CODE          run CODE as a program
  -m MODULE        run a standard or sibling module as a program
                   (-m asyncio opens the REPL, as python -m asyncio does)
  --dis            print the bytecode of the program instead of running it
  --virtual-time   run on a virtual clock: sleeps take no real time
  --trace          print every scheduling event on stderr, and at the end
                   each task's time running, waiting and blocked
  --trace=NAME,... the same for the tasks named NAME and their children
  --timeline OUT   write a timeline of the run to OUT (.svg or .html; in the
                   REPL, when the session ends)
  --replay OUT.html
                   write a page to step through the run event by event: the
                   source, the ready queue, the timers, each task, lock and
                   queue, the output so far (in the REPL, the whole session;
                   `await replay(aw, 'out.html')` records one awaited expression)
  --debug          warn about tasks that block the event loop
  --timeout SECONDS
                   stop the program after SECONDS of real time (also under
                   --virtual-time), with the place it stopped and status 1
  --max-instructions N
                   stop the program after about N steps of the VM (loop
                   iterations and calls), the same way
  --max-memory SIZE
                   MemoryError once the program holds more than SIZE
                   (bytes, or with K, M, G: --max-memory 100M)
  --sandbox        refuse files, the network, child processes, signals to
                   other processes and the environment (PermissionError);
                   each --allow-* flag grants what it names (and sandboxes)
  --allow-read[=DIR,...]   read files under DIR (anywhere without DIR)
  --allow-write[=DIR,...]  create, write and remove files under DIR
  --allow-net[=HOST[:PORT],...]
                   connect to and listen on HOST (PORT only, if given)
  --allow-run      start child processes and signal other processes
  --allow-env      read and change the environment
  --version        print the version and exit
  -h, --help       print this help and exit
";

/// What the command line asks for.
struct Options {
    program: Program,
    args: Vec<String>,
    dis: bool,
    virtual_time: bool,
    /// `--trace`: the names of the tasks followed (none: every task).
    trace: Option<Vec<String>>,
    timeline: Option<String>,
    replay: Option<String>,
    debug: bool,
    timeout: Option<f64>,
    max_instructions: Option<u64>,
    /// `--max-memory`: the bytes, and the value as written.
    max_memory: Option<(usize, String)>,
    /// `--sandbox` and the `--allow-*` flags.
    sandbox: Option<aio_stdlib::sandbox::Sandbox>,
}

enum Program {
    File(String),
    Code(String),
    Module(String),
    Repl,
}

fn parse_args(argv: Vec<String>) -> Result<Options, String> {
    let mut opts = Options {
        program: Program::Repl,
        args: Vec::new(),
        dis: false,
        virtual_time: false,
        trace: None,
        timeline: None,
        replay: None,
        debug: false,
        timeout: None,
        max_instructions: None,
        max_memory: None,
        sandbox: None,
    };
    let mut it = argv.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" => {
                let code = it.next().ok_or("argument expected for the -c option")?;
                opts.program = Program::Code(code);
                opts.args = std::iter::once("-c".to_string()).chain(it.by_ref()).collect();
                break;
            }
            "-m" => {
                let m = it.next().ok_or("argument expected for the -m option")?;
                opts.args = std::iter::once(m.clone()).chain(it.by_ref()).collect();
                opts.program = Program::Module(m);
                break;
            }
            "--dis" => opts.dis = true,
            "--virtual-time" => opts.virtual_time = true,
            "--trace" => opts.trace = Some(Vec::new()),
            s if s.starts_with("--trace=") => {
                let names: Vec<String> = s["--trace=".len()..].split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect();
                if names.is_empty() {
                    return Err("--trace= needs the names of tasks to follow: --trace=NAME,...".into());
                }
                opts.trace = Some(names);
            }
            "--debug" => opts.debug = true,
            "--timeout" => {
                let v = it.next().ok_or("argument expected for the --timeout option")?;
                opts.timeout = Some(parse_seconds(&v)?);
            }
            "--max-instructions" => {
                let v = it.next().ok_or("argument expected for the --max-instructions option")?;
                let n = v.parse::<u64>().ok().filter(|&n| n > 0);
                opts.max_instructions = Some(n.ok_or(format!("--max-instructions needs a positive whole number, not '{v}'"))?);
            }
            "--max-memory" => {
                let v = it.next().ok_or("argument expected for the --max-memory option")?;
                let n = aio_interp::limits::parse_size(&v);
                opts.max_memory = Some((n.ok_or(format!("--max-memory needs a size such as 100M or 2G, not '{v}'"))?, v));
            }
            "--sandbox" => {
                opts.sandbox.get_or_insert_with(aio_stdlib::sandbox::Sandbox::new);
            }
            s if s.starts_with("--allow-") => {
                opts.sandbox.get_or_insert_with(aio_stdlib::sandbox::Sandbox::new).allow(s)?;
            }
            "--timeline" => opts.timeline = Some(it.next().ok_or("argument expected for the --timeline option")?),
            "--replay" => opts.replay = Some(it.next().ok_or("argument expected for the --replay option: the page to write, OUT.html")?),
            "--version" | "-V" => {
                println!("aio {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(0);
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            "-" => {
                opts.program = Program::Repl;
                opts.args = it.by_ref().collect();
                break;
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ => {
                opts.args = std::iter::once(a.clone()).chain(it.by_ref()).collect();
                opts.program = Program::File(a);
                break;
            }
        }
    }
    if let Some(path) = &opts.timeline {
        check_timeline_path(path)?;
    }
    if let Some(path) = &opts.replay {
        check_replay_path(path)?;
    }
    Ok(opts)
}

/// The value of `--timeout`: a positive, finite number of seconds.
fn parse_seconds(v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 1e9 => Ok(s),
        _ => Err(format!("--timeout needs a positive number of seconds, not '{v}'")),
    }
}

/// The kinds of file `--timeline` writes, by extension.
const TIMELINE_EXTENSIONS: &[&str] = &["svg", "html", "htm"];

/// Refuse a timeline file the recorder cannot write, before anything runs:
/// the run may be long, and its timeline would be lost at the end.
fn check_timeline_path(path: &str) -> Result<(), String> {
    let ext = Path::new(path).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext {
        Some(e) if TIMELINE_EXTENSIONS.contains(&e.as_str()) => Ok(()),
        _ => Err(format!("--timeline writes .svg or .html files, not '{path}'")),
    }
}

/// Refuse a replay page that cannot be written, before anything runs.
fn check_replay_path(path: &str) -> Result<(), String> {
    aio_stdlib::replay::check_path(path).map_err(|e| format!("--replay: {e}"))?;
    // Made now (and filled at the end): a folder that is missing or not
    // writable is said before the run, not after it.
    std::fs::File::create(path).map(drop).map_err(|e| {
        let why = e.to_string();
        let why = why.split(" (os error").next().unwrap_or(&why).to_string();
        format!("--replay: cannot write '{path}': {why}")
    })
}
/// Counts what the process holds, for `--max-memory`.
#[global_allocator]
static ALLOC: aio_interp::limits::CountingAlloc = aio_interp::limits::CountingAlloc;

fn main() -> ExitCode {
    aio_interp::limits::setup_allocator();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = match parse_args(argv) {
        Ok(o) => o,
        Err(e) => return ExitCode::from(usage_error(&e)),
    };
    if let Some(sandbox) = opts.sandbox.take() {
        aio_stdlib::sandbox::install(sandbox);
    }
    // .aio recursion never grows the Rust stack, but native code calling
    // back into .aio code does; give it room.
    let child = std::thread::Builder::new().stack_size(512 << 20).spawn(move || {
        let code = run(opts);
        // A child made by os.fork has no main thread to return to.
        if aio_stdlib::os::in_forked_child() {
            std::process::exit(i32::from(code));
        }
        code
    });
    aio_interp::runtime::signals::block_interrupt_here();
    match child.map(|h| h.join()) {
        Ok(Ok(_)) if INTERRUPTED_EXIT.load(Ordering::SeqCst) => aio_interp::runtime::signals::exit_by_interrupt(),
        Ok(Ok(code)) => ExitCode::from(code),
        _ => ExitCode::from(70),
    }
}

fn new_vm(opts: &Options, dir: Option<PathBuf>) -> Vm {
    let mut vm = Vm::new();
    aio_stdlib::install(&mut vm);
    vm.host.set_search_dir(dir);
    vm.host.set_virtual_time(opts.virtual_time);
    let argv: Vec<Value> = opts.args.iter().map(|a| Value::str(a)).collect();
    vm.host.set_argv(Value::list(if argv.is_empty() { vec![Value::str("")] } else { argv }));
    aio_stdlib::configure(&mut vm, opts.trace.clone(), opts.debug, opts.timeline.clone(), opts.replay.clone());
    vm
}

fn run(opts: Options) -> u8 {
    aio_interp::vm::install_sigint_handler();
    if let Some(secs) = opts.timeout {
        aio_interp::limits::set_timeout(secs);
    }
    if let Some(n) = opts.max_instructions {
        aio_interp::limits::set_max_instructions(n);
    }
    if let Some((bytes, spelled)) = &opts.max_memory {
        aio_interp::limits::set_max_memory(*bytes, spelled);
    }
    let (name, text, dir) = match &opts.program {
        Program::File(path) => {
            let bytes = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) => {
                    let why = match e.kind() {
                        std::io::ErrorKind::NotFound => "[Errno 2] No such file or directory".to_string(),
                        std::io::ErrorKind::PermissionDenied => "[Errno 13] Permission denied".to_string(),
                        _ if Path::new(path).is_dir() => "[Errno 21] Is a directory".to_string(),
                        _ => e.to_string(),
                    };
                    eprintln!("aio: can't open file '{path}': {why}");
                    return 2;
                }
            };
            let text = match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    let pos = e.utf8_error().valid_up_to();
                    let bytes = e.into_bytes();
                    let line = bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1;
                    eprintln!("  File \"{path}\", line {line}\nSyntaxError: Non-UTF-8 code starting with '\\x{:02x}' in file {path} on line {line}, but no encoding declared", bytes[pos]);
                    return 1;
                }
            };
            let dir = Path::new(path).parent().map(|p| if p.as_os_str().is_empty() { PathBuf::from(".") } else { p.to_path_buf() });
            (path.clone(), text, dir)
        }
        Program::Code(code) => ("<string>".to_string(), code.clone(), Some(PathBuf::from("."))),
        Program::Module(m) => {
            let path = PathBuf::from(format!("{m}.aio"));
            match std::fs::read_to_string(&path) {
                Ok(t) => (path.display().to_string(), t, Some(PathBuf::from("."))),
                // `python -m asyncio` is a REPL with top-level await, and so is ours.
                Err(_) if m == "asyncio" && std::io::stdin().is_terminal() => return repl(&opts, true),
                Err(_) if m == "asyncio" => match read_stdin() {
                    Ok(t) => ("<stdin>".to_string(), t, Some(PathBuf::from("."))),
                    Err(status) => return status,
                },
                Err(_) => {
                    let mut vm = new_vm(&opts, Some(PathBuf::from(".")));
                    return match vm.import_module(m) {
                        Ok(_) => 0,
                        Err(e) => report(&mut vm, e),
                    };
                }
            }
        }
        // `aio < prog.aio`: with no terminal to talk to, stdin is the program.
        Program::Repl if !std::io::stdin().is_terminal() => match read_stdin() {
            Ok(t) => ("<stdin>".to_string(), t, Some(PathBuf::from("."))),
            Err(status) => return status,
        },
        Program::Repl => return repl(&opts, false),
    };
    let mut vm = new_vm(&opts, dir);
    let module = new_module("__main__", Some(&name));
    match vm.import_module("builtins") {
        Ok(b) => module.set("__builtins__", b),
        Err(e) => return report(&mut vm, e),
    }
    vm.host.add_module("__main__", Value::Module(module.clone()));
    let code = match compile_source(&name, &text, &module, Mode::Module) {
        Ok(c) => c,
        Err((d, src)) => {
            vm.write_err(&d.render(&src));
            return 1;
        }
    };
    if opts.dis {
        print!("{}", code.disassemble(Some(&module)));
        return 0;
    }
    let result = aio_stdlib::run_main(&mut vm, code, module);
    let status = match result {
        Ok(()) => 0,
        Err(e) => report(&mut vm, e),
    };
    aio_stdlib::finish(&mut vm);
    vm.host.flush();
    status
}

/// Say what is wrong with the command line; the exit status for it.
fn usage_error(why: &str) -> u8 {
    eprintln!("aio: {why}\nTry 'aio --help' for more information.");
    2
}

/// The whole of standard input, as the program to run; or the exit status
/// of the failure to read it.
fn read_stdin() -> Result<String, u8> {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("aio: can't read standard input: {e}");
        return Err(2);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Start the REPL; `asyncio`: as `aio -m asyncio`, which greets as
/// `python -m asyncio` does.
fn repl(opts: &Options, asyncio: bool) -> u8 {
    if opts.dis {
        return usage_error("--dis needs a program to disassemble (FILE.aio, -c CODE or -m MODULE)");
    }
    let mut vm = new_vm(opts, Some(PathBuf::from(".")));
    let start =
        aio_stdlib::repl::Start { virtual_time: opts.virtual_time, asyncio, timeline: opts.timeline.clone(), replay: opts.replay.clone() };
    aio_stdlib::repl::run(&mut vm, &start)
}

/// Set when the program ended with an uncaught `KeyboardInterrupt`: the
/// process then ends by SIGINT, as CPython's does.
static INTERRUPTED_EXIT: AtomicBool = AtomicBool::new(false);

/// Report an uncaught exception; the exit status.
fn report(vm: &mut Vm, e: PyErr) -> u8 {
    let t = types();
    if e.is(&t.exc.system_exit) {
        let code = e.first_arg();
        return match code {
            Value::None => 0,
            Value::Int(i) => (i & 0xff) as u8,
            Value::Bool(b) => b.get() as u8,
            other => {
                let s = vm.str_of(&other).unwrap_or_default();
                vm.write_err(&format!("{s}\n"));
                1
            }
        };
    }
    if let Some(Value::Str(r)) = e.0.dict_get_str("_aio_report") {
        vm.write_err(r.as_str());
        return 1;
    }
    if e.is(&t.exc.keyboard_interrupt) {
        INTERRUPTED_EXIT.store(true, Ordering::SeqCst);
    }
    let text = aio_interp::diagnostic::format_exception(vm, &e);
    vm.write_err(&text);
    1
}
