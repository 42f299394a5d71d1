//! The interpreter's own code may stop the process only where an invariant
//! says it cannot happen, and the place must say which invariant.
//!
//! A program's input reaches almost all of the runtime, so a bare
//! `.unwrap()`, a message-less `unreachable!()` or `panic!()`, or a `todo!`
//! left in it is a crash waiting for the input that finds it. This test
//! reads every Rust file of the grammar, the interpreter, the standard
//! library and the command line (their `#[cfg(test)]` modules excepted) and
//! fails on each such place: replace it with a Python exception, or with
//! `.expect("...")`/`unreachable!("...")` whose message states the
//! invariant it relies on.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("a source folder").flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The lines of `text` outside its test modules, numbered from 1. A test
/// module is a `#[cfg(test)]` attribute followed (past other attributes and
/// comments) by `mod`; it runs to the brace that closes it.
fn non_test_lines(text: &str) -> Vec<(usize, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        let next = lines[i + 1..].iter().map(|l| l.trim_start()).find(|l| !l.starts_with("#[") && !l.starts_with("//")).unwrap_or("");
        if line.starts_with("#[cfg(test)]") && (next.starts_with("mod ") || next.starts_with("pub mod ")) {
            let mut depth = 0i32;
            let mut opened = false;
            i += 1;
            while i < lines.len() {
                for c in lines[i].chars() {
                    match c {
                        '{' => {
                            depth += 1;
                            opened = true;
                        }
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
                i += 1;
                if opened && depth <= 0 {
                    break;
                }
            }
            continue;
        }
        out.push((i + 1, lines[i]));
        i += 1;
    }
    out
}

/// What is wrong with one line, if anything.
fn fault(line: &str) -> Option<&'static str> {
    let code = line.split("//").next().unwrap_or("");
    if code.contains(".unwrap()") {
        return Some("`.unwrap()`: handle the error, or `.expect(\"the invariant\")`");
    }
    if code.contains("unreachable!()") || code.contains("panic!()") {
        return Some("a message-less stop: say the invariant in its message");
    }
    if code.contains("todo!(") || code.contains("unimplemented!(") {
        return Some("unfinished code");
    }
    None
}

#[test]
fn every_stop_in_the_runtime_names_its_invariant() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["grammar/src", "interp/src", "stdlib/src", "src"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "the sources were not found under {}", root.display());
    let mut faults = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("a readable source file");
        for (n, line) in non_test_lines(&text) {
            if let Some(why) = fault(line) {
                faults.push(format!("{}:{n}: {why}\n    {}", f.strip_prefix(root).unwrap_or(f).display(), line.trim()));
            }
        }
    }
    assert!(faults.is_empty(), "{} place(s) can stop the process without saying why:\n{}", faults.len(), faults.join("\n"));
}

#[test]
fn the_audit_sees_what_it_looks_for() {
    assert!(fault("    let x = y.unwrap();").is_some());
    assert!(fault("    _ => unreachable!(),").is_some());
    assert!(fault("    todo!(\"later\")").is_some());
    assert!(fault("    let x = y.expect(\"a checked index\");").is_none());
    assert!(fault("    // y.unwrap() would be wrong here").is_none());
    let text =
        "fn a() {}\n#[cfg(test)]\n// tables\n#[allow(dead_code)]\nmod tests {\n    fn b() { x.unwrap(); }\n}\nfn c() { y.unwrap(); }\n";
    let kept: Vec<usize> = non_test_lines(text).iter().map(|(n, _)| *n).collect();
    assert_eq!(kept, vec![1, 8]);
}
