//! `--replay OUT.html`: the page tells the same events as `--trace`, in
//! order; in headless Chromium its keys, buttons and slider step through
//! the run, and what it shows at chosen events (the ready queue, the
//! lock's holder and waiters, each task's state, the output so far)
//! matches the run. Under `--virtual-time` two runs write the same page,
//! and bad arguments are refused before anything runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[path = "common/browser.rs"]
mod browser;
use browser::{chromium, dump_dom};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aio-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir.join(name)
}

/// Run `program` (from its folder) under `--virtual-time` with `args` before it.
fn aio(program: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aio"))
        .arg("--virtual-time")
        .args(args)
        .arg(program.file_name().expect("file name"))
        .current_dir(program.parent().expect("folder"))
        .stdin(Stdio::null())
        .output()
        .expect("run aio")
}

/// The replay of `program`, written to `out`; and how the run went.
fn replay_of(program: &Path, out: &Path) -> (String, Output) {
    let run = aio(program, &["--replay", out.to_str().expect("a path")]);
    let page = std::fs::read_to_string(out).unwrap_or_else(|e| panic!("no replay written to {}: {e}", out.display()));
    (page, run)
}

/// The sentences of `--trace` for `program`, without their times, up to the summary.
fn trace_of(program: &Path) -> Vec<String> {
    let run = aio(program, &["--trace"]);
    let err = String::from_utf8_lossy(&run.stderr).into_owned();
    err.lines()
        .take_while(|l| !l.contains("── summary"))
        .filter(|l| l.len() > 9 && l.is_char_boundary(7) && l[..7].trim().parse::<f64>().is_ok())
        .map(|l| l[7..].trim_start().to_string())
        .collect()
}

fn two_workers() -> PathBuf {
    repo().join("tests").join("replay").join("two_workers.aio")
}

/// `%41` → `A`: the page reports its findings percent-encoded.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("hex");
            out.push(u8::from_str_radix(hex, 16).expect("a percent escape"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

/// What the page showed, by name (`target.ready`, `log`).
struct Seen(Vec<(String, String)>);

impl Seen {
    fn get(&self, key: &str) -> &str {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("the page did not report {key}"))
    }
    fn list(&self, key: &str) -> Vec<&str> {
        let v = self.get(key);
        if v.is_empty() {
            Vec::new()
        } else {
            v.split('\n').collect()
        }
    }
}

/// Drive the page in the browser: step with the keys, the buttons and the
/// slider, and report what it shows after each move.
const SCENARIO: &str = r#"<script>
(function () {
  const q = s => document.querySelector(s);
  const all = s => [...document.querySelectorAll(s)];
  const key = k => document.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));
  const found = [];
  const put = (k, v) => found.push(k + '=' + encodeURIComponent(Array.isArray(v) ? v.join('\n') : String(v)));
  const log = all('#log div').map(d => d.textContent);
  put('log', log);
  const look = name => {
    put(name + '.event', q('#event').textContent);
    put(name + '.where', q('#where').textContent);
    put(name + '.ready', all('#ready li:not(.empty)').map(li => li.textContent));
    put(name + '.timers', all('#timers tr').filter(tr => !tr.querySelector('.empty')).map(tr => tr.textContent));
    put(name + '.running', q('#running').dataset.task);
    put(name + '.output', q('#output').textContent);
    put(name + '.tasks', all('#tasks tbody tr').map(tr => tr.dataset.task + ': ' + tr.querySelector('.state').textContent + ' ' + tr.querySelector('.what').textContent));
    put(name + '.syncs', all('#syncs tbody tr').filter(tr => tr.dataset.name).map(tr =>
      tr.dataset.name + ' | ' + tr.querySelector('.holder').textContent + ' | ' + tr.querySelector('.waiters').textContent + ' | ' + tr.querySelector('.detail').textContent));
    put(name + '.marks', all('#source .line').filter(l => l.querySelector('.badge')).map(l =>
      l.dataset.line + ': ' + [...l.querySelectorAll('.badge')].map(b => b.textContent).join(' ')));
  };
  look('first');
  key('End'); look('end');
  key('Home'); look('home');
  const target = log.findIndex(t => t.startsWith('w2 (worker) waits for'));
  for (let i = 0; i < target; i++) key('ArrowRight');
  look('target');
  key('ArrowLeft'); look('back');
  q('#next').click(); look('next');
  q('#next').click(); q('#prev').click(); look('prev');
  const it2 = log.indexOf('── iteration 2 ──');
  q('#slider').value = String(it2);
  q('#slider').dispatchEvent(new Event('input'));
  look('slider');
  q('#last').click(); q('#next').click(); look('past');
  document.body.setAttribute('data-found', found.join(';'));
})();
</script>"#;

/// Load the replay page with [`SCENARIO`] at its end; what it reported.
fn drive(chromium: &Path, page: &str, name: &str) -> Seen {
    let at = page.rfind("</body>").expect("the page ends");
    let driven = scratch(&format!("{name}-driven.html"));
    std::fs::write(&driven, format!("{}{SCENARIO}{}", &page[..at], &page[at..])).expect("write the page");
    let dom = dump_dom(chromium, &scratch(&format!("chromium-{name}")), &driven);
    let key = "data-found=\"";
    let start = dom.find(key).unwrap_or_else(|| panic!("the page reported nothing:\n{}", &dom[..dom.len().min(2000)])) + key.len();
    let raw = dom[start..].split('"').next().unwrap_or("");
    Seen(raw.split(';').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), percent_decode(v))).collect())
}

#[test]
fn the_page_tells_the_events_of_the_trace() {
    let (page, run) = replay_of(&two_workers(), &scratch("events.html"));
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
    // One file: no script, style or font from elsewhere.
    for outside in ["src=", "href=", "http://", "https://", "@import"] {
        assert!(!page.contains(outside), "the page reaches outside itself: {outside}");
    }
    let trace = trace_of(&two_workers());
    assert!(trace.len() > 20, "{trace:?}");
    for line in &trace {
        let json = line.replace('\\', "\\\\").replace('"', "\\\"").replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
        assert!(page.contains(&format!("\"d\":\"{json}\"")), "the page lacks the event {line:?}");
    }
}

#[test]
fn in_the_browser_stepping_shows_the_loop_at_each_event() {
    let Some(chromium) = chromium() else { return };
    let (page, run) = replay_of(&two_workers(), &scratch("two_workers.html"));
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    let seen = drive(chromium, &page, "two_workers");

    // The events are the trace's, in its order, and the program's end.
    let mut expected = trace_of(&two_workers());
    expected.push("the program ends".into());
    assert_eq!(seen.list("log"), expected);
    let n = expected.len();

    // The page opens at the first event; End and Home go to the ends.
    assert_eq!(seen.get("first.event"), expected[0]);
    assert_eq!(seen.get("end.event"), "the program ends");
    assert!(seen.get("end.where").starts_with(&format!("event {n} of {n}")), "{}", seen.get("end.where"));
    assert_eq!(seen.get("end.output"), stdout, "at the end, all the output");
    assert_eq!(seen.get("home.event"), expected[0]);
    assert_eq!(seen.get("home.output"), "");
    assert_eq!(seen.list("home.ready"), Vec::<&str>::new());
    assert_eq!(seen.list("home.tasks"), ["Task-1: new not started yet"]);

    // Stepped there with →: w2 waits for the lock w1 holds.
    let target = expected.iter().position(|l| l.starts_with("w2 (worker) waits for")).expect("w2 waits");
    assert_eq!(seen.get("target.event"), expected[target]);
    assert!(
        seen.get("target.where").starts_with(&format!("event {} of {n} · 0.000 s · iteration 2", target + 1)),
        "{}",
        seen.get("target.where")
    );
    assert_eq!(seen.list("target.syncs")[0], "Lock 'lock' | w1 | w2 | locked");
    assert_eq!(seen.list("target.syncs")[1], "Queue 'results' |  |  | empty");
    assert_eq!(seen.get("target.output"), "worker 1 has the lock\n", "the output printed so far");
    assert_eq!(seen.list("target.timers"), ["at 0.500 s(in 0.500 s)sleep(0.5) of w1 (worker)"]);
    let tasks = seen.list("target.tasks");
    assert_eq!(tasks[0], "Task-1: waiting waits on gather(w1, w2)");
    assert_eq!(tasks[1], "w1: waiting waits on sleep(0.5)");
    assert_eq!(tasks[2], "w2: waiting waits for Lock 'lock' held by w1");
    // Each task marked at its line: the top level at 16, w1 at 10, w2 at 8.
    assert_eq!(seen.list("target.marks"), ["8: w2", "10: w1", "16: Task-1"]);

    // ← goes back one event, the buttons step too.
    assert_eq!(seen.get("back.event"), expected[target - 1]);
    assert_eq!(seen.get("back.running"), "w2", "w2 runs as it starts");
    assert_eq!(seen.list("back.syncs")[0], "Lock 'lock' | w1 |  | locked", "before w2 waits, nobody does");
    assert_eq!(seen.get("next.event"), expected[target]);
    assert_eq!(seen.get("prev.event"), expected[target]);

    // The slider: as iteration 2 begins, both workers' first steps are ready, in creation order.
    assert_eq!(seen.get("slider.event"), "── iteration 2 ──");
    assert_eq!(seen.list("slider.ready"), ["step: w1 (worker)", "step: w2 (worker)"]);
    assert_eq!(seen.list("slider.syncs")[0], "Lock 'lock' |  |  | unlocked");

    // Past the end, the page stays at the last event.
    assert_eq!(seen.get("past.event"), "the program ends");
    assert!(seen.list("past.tasks").iter().all(|t| t.contains(": done finished")), "{:?}", seen.list("past.tasks"));
}

/// The events of a run with a queue of items, at the moment each item is in it.
#[test]
fn queue_contents_are_shown_as_reprs() {
    let Some(chromium) = chromium() else { return };
    let example = repo().join("examples").join("08_queues.aio");
    let (page, _) = replay_of(&example, &scratch("queues.html"));
    // The page is driven only to load it: its data must parse and show.
    let seen = drive(chromium, &page, "queues");
    assert!(seen.list("log").len() > 30);
    assert!(page.contains("\"2 items: 'a0', 'a1' (at most 2); 2 not yet task_done()\""), "the queue's items as reprs");
}

#[test]
fn virtual_time_gives_the_same_page_every_run() {
    for program in [two_workers(), repo().join("examples").join("14_deadlock.aio")] {
        let name = program.file_stem().unwrap().to_string_lossy().into_owned();
        let (a, _) = replay_of(&program, &scratch(&format!("{name}-a.html")));
        let (b, _) = replay_of(&program, &scratch(&format!("{name}-b.html")));
        assert!(a == b, "{name}: two runs wrote different pages");
        assert!(!a.contains(" at 0x") || a.contains(" at 0x…"), "{name}: an address");
    }
}

#[test]
fn the_deadlock_example_shows_who_holds_what() {
    let example = repo().join("examples").join("14_deadlock.aio");
    let (page, run) = replay_of(&example, &scratch("deadlock.html"));
    assert_eq!(run.status.code(), Some(1), "the deadlock still ends the run with status 1");
    assert!(page
        .contains("deadlock: alice holds locks['fork'], waits for locks['knife'] held by bob, who waits for locks['fork'] held by alice"));
    assert!(page.contains("[\"Lock locks['fork']\",[\"alice\"],[\"bob\"],\"locked\"]"), "the fork held by alice, bob waiting");
}

#[test]
fn bad_arguments_are_refused_before_the_run() {
    let prog = two_workers();
    let refused = |args: &[&str], says: &str| {
        let o = aio(&prog, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?} should say {says:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}: the program ran");
    };
    refused(
        &["--replay", "/nonexistent-folder/out.html"],
        "--replay: cannot write '/nonexistent-folder/out.html': No such file or directory",
    );
    refused(&["--replay", "out.svg"], "the replay is an .html page: 'out.svg' does not end in .html");
    let o = Command::new(env!("CARGO_BIN_EXE_aio")).arg("--replay").output().expect("run aio");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("argument expected for the --replay option"));
}
