//! A stable, time-bounded fuzzer that runs with every `cargo test`: a few
//! thousand programs, mutated from the `.aio` cases under `tests/` and
//! `examples/` and generated from a small grammar, all from a fixed seed
//! (`AIO_FUZZ_SEED` picks another). Every program goes through the parser
//! and the compiler in-process; then as many as the time allows
//! (`AIO_FUZZ_SECONDS`, 30 by default) run in the `aio` binary, closed in
//! `--sandbox`, on a virtual clock, under `--max-instructions`, `--timeout`
//! and `--max-memory`. An exception is the program's business; a panic, an
//! abort, a stack overflow or a hang is a bug. The programs that found one
//! are written to `target/fuzz-failures/`. (`fuzz/` holds the cargo-fuzz
//! targets for longer campaigns on nightly.)

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use aio_interp::bytecode::check_stack_tree;
use aio_interp::compiler::Mode;
use aio_interp::import::{compile_source, new_module};

/// splitmix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Pieces of code that tend to reach the edges: boundary numbers, deep
/// nesting, odd syntax, big sizes, async constructs.
#[rustfmt::skip]
const SNIPPETS: &[&str] = &[
    "2**63", "-2**63", "2**64-1", "10**20", "-1", "0", "1e308", "float('nan')", "-0.0", "float('inf')", "''", "'é'", "b''",
    "None", "[]", "{}", "()", "(1,)", "*", "**", "await ", "async ", "yield ", "lambda: ", "not ", "(", ")", "[", "]", "{", "}",
    ":", ",", ".", ";", "=", "==", ":=", "->", "@", "\\", "\n", "\n    ", "\t", "#", "'", "\"", "\"\"\"", "f'{", "}'", "{x!r:>{w}}",
    "[0] * 10**6", "'ab' * 1000", "x[::-1]", "x[2**63:]", "range(-2**63, 2**63 - 1)", "sorted(x, key=repr)", "repr(x)",
    "del x", "global x", "nonlocal x", "return", "break", "continue", "raise", "raise ValueError from None", "pass",
    "try:\n    pass\nfinally:\n    pass\n", "async def f():\n    await f()\n", "def g():\n    yield from g()\n",
    "class C:\n    def __eq__(self, o): return self == o\n", "import asyncio\n", "asyncio.run(main())", "await asyncio.sleep(0)",
    "asyncio.create_task(", "asyncio.gather(", "match x:\n    case [a, *b]: pass\n", "with open('f') as f: pass",
    "x.__class__", "super()", "__import__('os')", "exec('x = 1')", "eval('1+1')", "compile('', '', 'exec')", "type('T', (), {})",
    "((((((((((", "))))))))))", "[[[[[[[[[[", "]]]]]]]]]]", "-" , "~", "not not not ", "if x else ", "for i in range(3):\n    ",
    "while i < 3:\n    i += 1\n", "x = []\nx.append(x)\n", "d = {}\nd[d] = 1\n", "print(*x, sep='', end='')",
];

/// The boundary numbers put in place of a number of the program.
#[rustfmt::skip]
const NUMBERS: &[&str] = &["0", "-1", "1", "255", "256", "2**31", "2**63-1", "2**63", "2**64", "10**100", "-10**100", "0.5", "1e-320", "99999999999999999999"];

/// Replace a random byte range with `with`, at character boundaries.
fn splice(text: &str, rng: &mut Rng, max_len: usize, with: &str) -> String {
    if text.is_empty() {
        return with.to_string();
    }
    let mut start = rng.below(text.len() + 1);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + rng.below(max_len + 1)).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{}{}{}", &text[..start], with, &text[end..])
}

/// One program from `seed`, changed in one to four ways.
fn mutate(seed: &str, seeds: &[String], rng: &mut Rng) -> String {
    let mut text = seed.to_string();
    for _ in 0..1 + rng.below(4) {
        text = match rng.below(9) {
            0 => splice(&text, rng, 24, ""),
            1 | 2 => {
                let snippet = *rng.pick(SNIPPETS);
                let replace = if rng.chance(50) { 0 } else { 4 };
                splice(&text, rng, replace, snippet)
            }
            3 | 4 => {
                let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                if lines.is_empty() {
                    continue;
                }
                let i = rng.below(lines.len());
                match rng.below(5) {
                    0 => {
                        let l = lines[i].clone();
                        lines.insert(i, l);
                    }
                    1 => {
                        let j = rng.below(lines.len());
                        lines.swap(i, j);
                    }
                    2 => lines[i] = format!("    {}", lines[i]),
                    3 => lines[i] = lines[i].trim_start().to_string(),
                    _ => {
                        // A line from another case.
                        let other = rng.pick(seeds);
                        let others: Vec<&str> = other.lines().collect();
                        if !others.is_empty() {
                            lines[i] = rng.pick(&others).to_string();
                        }
                    }
                }
                lines.join("\n") + "\n"
            }
            5 => {
                // A number becomes a boundary value.
                let digits: Vec<usize> = text.char_indices().filter(|(_, c)| c.is_ascii_digit()).map(|(i, _)| i).collect();
                if digits.is_empty() {
                    continue;
                }
                let at = *rng.pick(&digits);
                let end = text[at..].find(|c: char| !c.is_ascii_digit()).map_or(text.len(), |n| at + n);
                format!("{}{}{}", &text[..at], rng.pick(NUMBERS), &text[end..])
            }
            6 => {
                let mut cut = rng.below(text.len() + 1);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text[..cut].to_string()
            }
            7 => {
                // Nest a line's expression deeply.
                let depth = 1 + rng.below(200);
                let open = if rng.chance(50) { "(" } else { "[" };
                let close = if open == "(" { ")" } else { "]" };
                splice(&text, rng, 0, &format!("{}0{}", open.repeat(depth), close.repeat(depth)))
            }
            _ => {
                // Two cases joined.
                format!("{text}\n{}", rng.pick(seeds))
            }
        };
    }
    text
}

/// A program from a small grammar of the language: statements of every
/// kind around expressions of builtins, operators and containers, each
/// top-level statement in its own `try` so that the run goes on.
struct Gen<'a> {
    rng: &'a mut Rng,
    names: Vec<String>,
}

#[rustfmt::skip]
const BUILTINS: &[&str] = &[
    "len", "repr", "str", "int", "float", "sorted", "list", "tuple", "set", "dict", "abs", "hash", "bool", "min", "max", "sum",
    "reversed", "enumerate", "zip", "chr", "ord", "bytes", "bytearray", "round", "divmod", "pow", "format", "iter", "next", "any",
    "all", "range", "hex", "bin", "oct", "ascii", "frozenset", "complex", "type", "id", "callable", "vars", "dir", "memoryview",
];
#[rustfmt::skip]
const METHODS: &[&str] = &[
    "append(1)", "pop()", "split()", "join(['a', 'b'])", "upper()", "format(1, 2)", "items()", "keys()", "count(0)", "index(0)",
    "insert(2**63, 0)", "sort()", "copy()", "strip()", "replace('a', 'bb')", "encode()", "decode()", "add(1)", "get(0)",
    "setdefault(1, [])", "extend(range(3))", "center(10**3)", "zfill(5)", "find('')", "partition(',')", "__len__()",
];
#[rustfmt::skip]
const BINOPS: &[&str] = &["+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "and", "or", "@"];

impl Gen<'_> {
    fn name(&mut self) -> String {
        if self.names.is_empty() || self.rng.chance(10) {
            let n = format!("v{}", self.names.len());
            self.names.push(n.clone());
            return n;
        }
        self.rng.pick(&self.names).clone()
    }

    fn atom(&mut self) -> String {
        match self.rng.below(8) {
            0 => self.rng.pick(NUMBERS).to_string(),
            1 => self.rng.pick(&["''", "'abc'", "'é' * 3", "'{}'", "b'xy'", "'%s' % 1"]).to_string(),
            2 => self.rng.pick(&["None", "True", "False", "...", "1.5", "-0.0", "float('inf')", "3j"]).to_string(),
            3 if !self.names.is_empty() => self.rng.pick(&self.names).clone(),
            _ => self.rng.below(10).to_string(),
        }
    }

    fn expr(&mut self, depth: usize) -> String {
        if depth == 0 {
            return self.atom();
        }
        let d = depth - 1;
        match self.rng.below(14) {
            0 => format!("({} {} {})", self.expr(d), self.rng.pick(BINOPS), self.expr(d)),
            1 => format!("{}({})", self.rng.pick(BUILTINS), self.expr(d)),
            2 => format!("{}({}, {})", self.rng.pick(BUILTINS), self.expr(d), self.expr(d)),
            3 => format!("[{}, {}]", self.expr(d), self.expr(d)),
            4 => format!("({}, {})", self.expr(d), self.expr(d)),
            5 => format!("{{{}: {}}}", self.expr(d), self.expr(d)),
            6 => format!("{}[{}]", self.expr(d), self.expr(d)),
            7 => format!("{}[{}:{}:{}]", self.expr(d), self.expr(d), self.expr(d), self.atom()),
            8 => format!("{}.{}", self.expr(d), self.rng.pick(METHODS)),
            9 => format!("[{} for {} in {}]", self.expr(d), "i", self.expr(d)),
            10 => format!("(lambda a: {})({})", self.expr(d), self.expr(d)),
            11 => format!("f'{{{}!r:>{}}}'", self.expr(d), self.rng.below(12)),
            12 => format!("({} if {} else {})", self.expr(d), self.expr(d), self.expr(d)),
            _ => format!("{}{}", self.rng.pick(&["-", "~", "not ", "+"]), self.expr(d)),
        }
    }

    fn block(&mut self, indent: usize, depth: usize, in_async: bool, in_loop: bool) -> String {
        let mut out = String::new();
        for _ in 0..1 + self.rng.below(3) {
            out.push_str(&self.stmt(indent, depth, in_async, in_loop));
        }
        out
    }

    fn stmt(&mut self, indent: usize, depth: usize, in_async: bool, in_loop: bool) -> String {
        let pad = " ".repeat(indent);
        let e = 1 + self.rng.below(3);
        let simple = |g: &mut Gen| -> String {
            match g.rng.below(8) {
                0 | 1 => format!("{} = {}", g.name(), g.expr(e)),
                2 => format!("{} {}= {}", g.name(), g.rng.pick(&["+", "-", "*", "//", "|", "<<"]), g.expr(e)),
                3 => format!("print({})", g.expr(e)),
                4 => format!("assert {}", g.expr(e)),
                5 => format!("del {}", g.name()),
                6 if in_async => g
                    .rng
                    .pick(&[
                        "await asyncio.sleep(0)",
                        "await asyncio.gather(asyncio.sleep(0), asyncio.sleep(0.1))",
                        "t = asyncio.create_task(asyncio.sleep(0)); t.cancel()",
                    ])
                    .to_string(),
                _ => g.expr(e),
            }
        };
        if depth == 0 {
            return format!("{pad}{}\n", simple(self));
        }
        let d = depth - 1;
        let inner = indent + 4;
        match self.rng.below(12) {
            0 => format!(
                "{pad}if {}:\n{}{pad}else:\n{}",
                self.expr(e),
                self.block(inner, d, in_async, in_loop),
                self.block(inner, d, in_async, in_loop)
            ),
            1 => format!("{pad}for {} in {}:\n{}", self.name(), self.expr(e), self.block(inner, d, in_async, true)),
            2 => {
                let n = self.name();
                format!("{pad}{n} = 0\n{pad}while {n} < 5:\n{pad}    {n} += 1\n{}", self.block(inner, d, in_async, true))
            }
            3 => format!(
                "{pad}try:\n{}{pad}except {} as exc:\n{}{pad}finally:\n{}",
                self.block(inner, d, in_async, in_loop),
                self.rng.pick(&["Exception", "ValueError", "(TypeError, KeyError)", "BaseException"]),
                self.block(inner, d, in_async, in_loop),
                self.block(inner, d, in_async, in_loop)
            ),
            4 => {
                let f = self.name();
                format!("{pad}def {f}(a=1, *args, **kw):\n{}{pad}    return {}\n", self.block(inner, d, false, false), self.expr(e))
            }
            5 => {
                let f = self.name();
                format!("{pad}async def {f}():\n{}{pad}{f}_task = asyncio.run({f}())\n", self.block(inner, d, true, false))
            }
            6 => format!(
                "{pad}class {}:\n{pad}    x = {}\n{pad}    def __repr__(self):\n{pad}        return {}\n",
                self.name(),
                self.expr(e),
                self.expr(e)
            ),
            7 if in_loop => format!("{pad}{}\n", self.rng.pick(&["break", "continue"])),
            8 => format!("{pad}with open({}) as fh:\n{}", self.expr(e), self.block(inner, d, in_async, in_loop)),
            9 => format!(
                "{pad}def gen():\n{pad}    yield {}\n{pad}    yield from {}\n{pad}{} = list(gen())\n",
                self.expr(e),
                self.expr(e),
                self.name()
            ),
            _ => format!("{pad}{}\n", simple(self)),
        }
    }

    fn program(&mut self) -> String {
        let mut out = String::from("import asyncio\n");
        for _ in 0..2 + self.rng.below(6) {
            let s = self.stmt(4, 2, false, false);
            out.push_str(&format!("try:\n{s}except Exception as exc:\n    print(type(exc).__name__)\n"));
        }
        out
    }
}

/// The `.aio` cases, in a fixed order.
fn seeds(root: &Path) -> Vec<String> {
    let mut paths = Vec::new();
    common::aio_files(&root.join("tests"), &mut paths);
    common::aio_files(&root.join("examples"), &mut paths);
    paths.sort();
    paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|t| t.len() < 16_000 && !t.contains("input(") && !t.contains("stdin"))
        .collect()
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// What went wrong with a program, if anything.
fn run_in_binary(file: &Path) -> Option<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aio"))
        .args(["--sandbox", "--virtual-time", "--max-instructions", "300000", "--timeout", "4", "--max-memory", "1G"])
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start aio");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if start.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let err = reader.join().unwrap_or_default();
    let Some(status) = status else { return Some("hang: still running after 15 s despite --timeout 4".into()) };
    if let Some(sig) = status.signal() {
        // A program may send itself a signal (signal.raise_signal, os.kill)
        // and die of it as python3 does; only the signals of a crash count.
        let crash = [libc::SIGSEGV, libc::SIGABRT, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGSYS, libc::SIGTRAP];
        if crash.contains(&sig) {
            return Some(format!("killed by signal {sig}\n{err}"));
        }
    }
    for sign in ["panicked at", "has overflowed its stack", "memory allocation of", "RUST_BACKTRACE"] {
        if err.contains(sign) {
            return Some(format!("{sign} (status {:?})\n{err}", status.code()));
        }
    }
    None
}

#[test]
fn fuzzed_programs_never_crash_or_hang() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed = env_number("AIO_FUZZ_SEED", 17);
    let seconds = env_number("AIO_FUZZ_SECONDS", 30);
    let started = Instant::now();
    let cases = seeds(root);
    assert!(cases.len() > 100, "the .aio cases were not found");
    let mut rng = Rng(seed);
    let mut programs = Vec::new();
    for _ in 0..3000 {
        let base = rng.pick(&cases).clone();
        programs.push(mutate(&base, &cases, &mut rng));
    }
    for _ in 0..1500 {
        let mut g = Gen { rng: &mut rng, names: Vec::new() };
        programs.push(g.program());
    }

    // Stage 1, in-process: parse and compile every program, on a thread
    // with the binary's stack.
    let batch = programs.clone();
    let stage1 = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || {
            let mut failures = Vec::new();
            let mut compiled = Vec::new();
            for (i, text) in batch.iter().enumerate() {
                let module = new_module("__main__", Some("<fuzz>"));
                let r = std::panic::catch_unwind(AssertUnwindSafe(|| compile_source("<fuzz>", text, &module, Mode::Module).ok()));
                match r {
                    Ok(Some(code)) => {
                        if let Err(e) = check_stack_tree(&code) {
                            failures.push((i, format!("the compiler unbalanced the stack: {e}")));
                        }
                        compiled.push((i, true))
                    }
                    Ok(None) => compiled.push((i, false)),
                    Err(_) => failures.push((i, "panic in the parser or the compiler".to_string())),
                }
            }
            (failures, compiled)
        })
        .expect("stage 1");
    let (mut failures, compiled) = stage1.join().expect("stage 1 crashed");
    let ok = compiled.iter().filter(|(_, ok)| *ok).count();
    eprintln!("fuzz: {} programs parsed and compiled in {:?} ({ok} compiled)", programs.len(), started.elapsed());

    // Stage 2: run in the binary what compiled (and some that did not), in
    // a seeded order, while the time lasts.
    let dir = std::env::temp_dir().join(format!("aio-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut order: Vec<usize> = compiled.iter().filter(|(_, ok)| *ok || rng.chance(5)).map(|(i, _)| *i).collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    let mut ran = 0;
    for &i in &order {
        if started.elapsed() > Duration::from_secs(seconds) {
            break;
        }
        let file = dir.join(format!("p{i}.aio"));
        std::fs::write(&file, &programs[i]).expect("write program");
        if let Some(why) = run_in_binary(&file) {
            failures.push((i, why));
        }
        ran += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("fuzz: {ran} programs run in the binary; {:?} in all (seed {seed})", started.elapsed());

    if !failures.is_empty() {
        let out = root.join("target/fuzz-failures");
        let _ = std::fs::create_dir_all(&out);
        let mut report = String::new();
        for (i, why) in &failures {
            let _ = std::fs::write(out.join(format!("seed{seed}-p{i}.aio")), &programs[*i]);
            report.push_str(&format!("program {i}: {}\n", why.lines().take(6).collect::<Vec<_>>().join("\n    ")));
        }
        panic!("{} of the fuzzed programs crashed or hung (written to {}):\n{report}", failures.len(), out.display());
    }
}
