//! The examples in `docs/*.md` and the README run as they say. A ```python
//! block followed by an ```output block is an example: run with
//! `--virtual-time` (plus the flags of an `<!-- aio-run: FLAGS -->` line
//! just before it), its stdout must be the output block exactly; a ```stderr
//! block after that lists lines that must appear, in order, in its stderr.
//! `<!-- aio-run: ..., exit N -->` gives a non-zero exit status.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One checked example, with the place it was written.
struct Example {
    place: String,
    flags: Vec<String>,
    exit: i32,
    program: String,
    stdout: String,
    stderr: Vec<String>,
}

/// The fenced blocks of a Markdown text: (info string, body, line of the fence),
/// and for each the `aio-run:` comment that stands right before it, if any.
fn blocks(text: &str) -> Vec<(String, String, usize, Option<String>)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    let mut comment: Option<String> = None;
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim();
        if let Some(info) = trimmed.strip_prefix("```") {
            // A block inside a list item is indented with its fence.
            let indent = line.len() - line.trim_start().len();
            let mut body = String::new();
            for (_, l) in lines.by_ref() {
                if l.trim() == "```" {
                    break;
                }
                let cut = l.len() - l.trim_start().len();
                body.push_str(&l[cut.min(indent)..]);
                body.push('\n');
            }
            out.push((info.trim().to_string(), body, n + 1, comment.take()));
        } else if let Some(rest) = trimmed.strip_prefix("<!-- aio-run:") {
            comment = Some(rest.trim_end_matches("-->").trim().to_string());
        } else if !trimmed.is_empty() {
            comment = None;
        }
    }
    out
}

fn examples(file: &Path) -> Vec<Example> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
    let bs = blocks(&text);
    let mut out = Vec::new();
    for (i, (info, body, line, comment)) in bs.iter().enumerate() {
        let Some((next_info, next_body, _, _)) = bs.get(i + 1) else { continue };
        if info != "python" || next_info != "output" {
            continue;
        }
        let (mut flags, mut exit) = (Vec::new(), 0);
        for part in comment.iter().flat_map(|c| c.split(',')) {
            let part = part.trim();
            match part.strip_prefix("exit ") {
                Some(code) => exit = code.trim().parse().expect("exit status in aio-run"),
                None => flags.extend(part.split_whitespace().map(String::from)),
            }
        }
        let stderr = match bs.get(i + 2) {
            Some((info, body, _, _)) if info == "stderr" => body.lines().map(|l| l.trim().to_string()).collect(),
            _ => Vec::new(),
        };
        out.push(Example {
            place: format!("{}:{line}", file.display()),
            flags,
            exit,
            program: body.clone(),
            stdout: next_body.clone(),
            stderr,
        });
    }
    out
}

fn check(ex: &Example, dir: &Path) -> Result<(), String> {
    let file = dir.join("example.aio");
    std::fs::write(&file, &ex.program).map_err(|e| e.to_string())?;
    let out = Command::new(env!("CARGO_BIN_EXE_aio"))
        .arg("--virtual-time")
        .args(&ex.flags)
        .arg("example.aio")
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if stdout != ex.stdout {
        problems.push(format!("stdout was:\n{stdout}--- the document says:\n{}", ex.stdout));
    }
    if out.status.code() != Some(ex.exit) {
        problems.push(format!("exit status {:?}, the document says {}", out.status.code(), ex.exit));
    }
    let mut said = stderr.lines().map(str::trim);
    for want in &ex.stderr {
        if !said.any(|l| l == want) {
            problems.push(format!("stderr lacks (in this order) the line `{want}`; it was:\n{stderr}"));
            break;
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}:\n{}", ex.place, problems.join("\n")))
    }
}

fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    docs.push(root.join("README.md"));
    docs
}

#[test]
fn documented_examples_run_as_documented() {
    let dir = std::env::temp_dir().join(format!("aio-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let all: Vec<Example> = documents().iter().flat_map(|d| examples(d)).collect();
    let failures: Vec<String> = all.iter().filter_map(|ex| check(ex, &dir).err()).collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(all.len() >= 20, "only {} checked examples in docs/ and the README", all.len());
    assert!(failures.is_empty(), "{} of {} documented examples differ\n\n{}", failures.len(), all.len(), failures.join("\n\n"));
}
