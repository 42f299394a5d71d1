//! `--timeline`: the SVG is well-formed XML with one lane per task, grows
//! with the number of tasks, and no two pieces of its text overlap, for real
//! runs (3 and 40 tasks) and for made-up timelines from 2 to 50 tasks and
//! from milliseconds to hours. With Chromium (CI installs it), the browser
//! lays the pictures out and reports no overlapping text, and a screenshot
//! of each must not be blank.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use aio_stdlib::timeline::{render, At, Lane, Outcome, Span, SpanKind, TextBox, Timeline};

#[path = "common/browser.rs"]
mod browser;
use browser::{chromium, dump_dom, headless};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("timeline").join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aio-timeline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir.join(name)
}

/// Run a program with `--timeline OUT` and return the file written.
fn timeline_of(program: &Path, out: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_aio"))
        .arg("--virtual-time")
        .arg("--timeline")
        .arg(out)
        .arg(program.file_name().expect("file name"))
        .current_dir(program.parent().expect("folder"))
        .stdin(Stdio::null())
        .output()
        .expect("run aio");
    let _ = o;
    std::fs::read_to_string(out).unwrap_or_else(|e| panic!("no timeline written to {}: {e}", out.display()))
}

/// The boxes of every `<text>` of an SVG, measured as the renderer measures them.
fn text_boxes(doc: &roxmltree::Document) -> Vec<TextBox> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let num = |a: &str| n.attribute(a).and_then(|v| v.parse::<f64>().ok()).expect("numeric attribute");
            let (x, y, size) = (num("x"), num("y"), num("font-size"));
            let text: String = n.descendants().filter(|d| d.is_text()).filter_map(|d| d.text()).collect();
            let w = text.chars().count() as f64 * size * 0.62;
            let left = match n.attribute("text-anchor") {
                Some("middle") => x - w / 2.0,
                Some("end") => x - w,
                _ => x,
            };
            TextBox { x: left, y: y - size * 0.8, w, h: size, text }
        })
        .collect()
}

fn assert_no_overlaps(what: &str, boxes: &[TextBox], width: f64, height: f64) {
    for (i, a) in boxes.iter().enumerate() {
        assert!(
            a.x >= -0.5 && a.x + a.w <= width + 0.5 && a.y >= -0.5 && a.y + a.h <= height + 0.5,
            "{what}: `{}` leaves the picture: {a:?}",
            a.text
        );
        for b in &boxes[i + 1..] {
            assert!(!a.overlaps(b), "{what}: `{}` overlaps `{}`: {a:?} {b:?}", a.text, b.text);
        }
    }
}

fn size_of(doc: &roxmltree::Document) -> (f64, f64) {
    let root = doc.root_element();
    let num = |a: &str| root.attribute(a).and_then(|v| v.parse::<f64>().ok()).expect("svg size");
    (num("width"), num("height"))
}

/// Check one SVG produced by a real run; its height.
fn check_svg(what: &str, svg: &str, tasks: usize) -> f64 {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{what}: not well-formed XML: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let lanes: Vec<&str> =
        doc.descendants().filter(|n| n.attribute("class") == Some("lane")).filter_map(|n| n.attribute("data-task")).collect();
    assert_eq!(lanes.len(), tasks, "{what}: one lane per task");
    let expected: Vec<String> = (1..=tasks).map(|i| format!("Task-{i}")).collect();
    assert_eq!(lanes, expected, "{what}: lanes in creation order");
    let (w, h) = size_of(&doc);
    let boxes = text_boxes(&doc);
    assert!(boxes.iter().any(|b| b.text.contains(" ms") || b.text.contains(':') || b.text.ends_with(" s")), "{what}: tick labels");
    assert_no_overlaps(what, &boxes, w, h);
    h
}

#[test]
fn svg_of_three_and_of_forty_tasks() {
    let small = timeline_of(&case("three_tasks.aio"), &scratch("three.svg"));
    let h3 = check_svg("three_tasks", &small, 3);
    assert!(small.contains("Queue &apos;q&apos;.get") && small.contains("sleep(0.25)"), "waits are labelled");
    let big = timeline_of(&case("forty_tasks.aio"), &scratch("forty.svg"));
    let h40 = check_svg("forty_tasks", &big, 40);
    assert!(h40 > h3 * 2.0, "the picture grows with the tasks: {h3} -> {h40}");
    assert!(big.contains("failed at") && big.contains("was cancelled at"), "failures and cancellations are marked");
    assert!(big.contains("0:30"), "ninety minutes are ticked in h:mm");
}

#[test]
fn html_page_embeds_the_chart_with_a_legend() {
    let page = timeline_of(&case("three_tasks.aio"), &scratch("three.html"));
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<h2>Legend</h2>") && page.contains("<h2>Tasks</h2>"));
    let start = page.find("<svg").expect("an embedded svg");
    let end = page.find("</svg>").expect("end of svg") + "</svg>".len();
    check_svg("three_tasks.html", &page[start..end], 3);
}

#[test]
fn written_after_an_uncaught_exception_and_names_escaped() {
    let dir = scratch("esc");
    std::fs::create_dir_all(&dir).unwrap();
    let prog = dir.join("fails.aio");
    std::fs::write(
        &prog,
        "async def f():\n    await sleep(1)\n    raise ValueError('<&>')\n\nt = create_task(f(), name='<b>&\"\\'')\nawait t\n",
    )
    .unwrap();
    let out = dir.join("fails.svg");
    let svg = timeline_of(&prog, &out);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed despite the name");
    assert!(doc.descendants().any(|n| n.attribute("data-task") == Some("<b>&\"'")));
    assert!(svg.contains("failed at 1 s: ValueError: &lt;&amp;&gt;"), "{svg}");
}

// ------------------------------------------------------------ made-up timelines

fn at(t: f64) -> At {
    At { t, it: 0.0 }
}

/// `n` tasks over `secs` seconds, each alternating running slices, sleeps and
/// waits with labels long and short, some failing or cancelled.
fn made_up(n: usize, secs: f64) -> Timeline {
    let labels =
        ["Queue.get", "sleep(0.25)", "Event.wait", "gather(Task-2, Task-3, Task-4, … 12 more)", "Lock.acquire", "x", "Condition.wait"];
    let lanes = (0..n)
        .map(|i| {
            let mut spans = Vec::new();
            let pieces = 3 + i % 7;
            let step = secs / pieces as f64;
            for k in 0..pieces {
                let s = k as f64 * step;
                spans.push(Span { start: at(s), end: at(s + step * 0.05), kind: SpanKind::Run, label: String::new(), line: None });
                let kind = [SpanKind::Sleep, SpanKind::Wait, SpanKind::AwaitTask][(i + k) % 3].clone();
                spans.push(Span {
                    start: at(s + step * 0.05),
                    end: at(s + step),
                    kind,
                    label: labels[(i * 3 + k) % labels.len()].to_string(),
                    line: Some(k + 1),
                });
            }
            if i % 5 == 4 {
                spans.push(Span {
                    start: at(step),
                    end: at(step * 1.5),
                    kind: SpanKind::Block,
                    label: "time.sleep(12.5)".into(),
                    line: Some(9),
                });
            }
            let end = match i % 3 {
                0 => Outcome::Done,
                1 => Outcome::Failed("ValueError: a rather long message about what went wrong".into()),
                _ => Outcome::Cancelled,
            };
            Lane {
                name: format!("Task-{}", i + 1),
                func: if i == 0 { "<module>".into() } else { "a_coroutine_with_a_very_long_name_indeed".into() },
                created: at(0.0),
                created_by: if i == 0 { None } else { Some(0) },
                created_line: Some(3),
                spans,
                cancel_requests: if i % 3 == 2 { vec![at(secs * 0.9)] } else { vec![] },
                end: Some((at(secs), end)),
            }
        })
        .collect();
    Timeline { title: "made_up.aio".into(), virtual_time: true, end: At { t: secs, it: 1.0 }, lanes, ..Timeline::default() }
}

#[test]
fn no_text_overlaps_from_2_to_50_tasks_and_ms_to_hours() {
    let mut heights = Vec::new();
    for n in [2, 3, 7, 13, 25, 40, 50] {
        for secs in [0.0042, 0.8, 7.5, 95.0, 1500.0, 4.0 * 3600.0, 80.0 * 3600.0] {
            let tl = made_up(n, secs);
            let r = render(&tl);
            let what = format!("{n} tasks over {secs} s");
            // AIO_TIMELINE_DUMP=DIR keeps the pictures, to look at them.
            if let Some(dir) = std::env::var_os("AIO_TIMELINE_DUMP") {
                std::fs::write(Path::new(&dir).join(format!("made_up_{n}_{secs}.svg")), &r.svg).expect("dump");
            }
            assert_eq!(r.layout.lanes.len(), n, "{what}");
            assert!(r.layout.ticks.len() >= 3, "{what}: too few ticks: {:?}", r.layout.ticks);
            assert_no_overlaps(&what, &r.layout.texts, r.layout.width, r.layout.height);
            // The layout is what the SVG says.
            let doc = roxmltree::Document::parse(&r.svg).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(text_boxes(&doc).len(), r.layout.texts.len(), "{what}");
            // Lanes keep a readable height and do not overlap.
            for w in r.layout.lanes.windows(2) {
                assert!(w[1].0 >= w[0].0 + w[0].1 - 0.01, "{what}: lanes overlap");
            }
            assert!(r.layout.lanes.iter().all(|l| l.1 >= 18.0), "{what}: lanes too thin");
            if secs == 7.5 {
                heights.push(r.layout.height);
            }
        }
    }
    assert!(heights.windows(2).all(|w| w[1] >= w[0]), "height grows with the task count: {heights:?}");
}

#[test]
fn a_run_where_no_time_passes_is_drawn_by_iteration() {
    let mut tl = made_up(3, 0.0);
    for (i, lane) in tl.lanes.iter_mut().enumerate() {
        for (k, sp) in lane.spans.iter_mut().enumerate() {
            sp.start.it = (k + i) as f64;
            sp.end.it = (k + i + 1) as f64;
        }
    }
    tl.end = At { t: 0.0, it: 12.0 };
    let r = render(&tl);
    assert!(r.svg.contains("loop iteration"));
    assert_no_overlaps("iterations", &r.layout.texts, r.layout.width, r.layout.height);
}

/// A real run in which no time passes: within each iteration the tasks'
/// steps come one after another, so no two running slices overlap.
#[test]
fn steps_of_one_iteration_are_drawn_one_after_another() {
    let svg = timeline_of(&case("no_time.aio"), &scratch("no_time.svg"));
    let doc = roxmltree::Document::parse(&svg).expect("well-formed");
    assert!(svg.contains("no time passed: the axis counts iterations"), "drawn by iteration");
    let mut runs: Vec<(f64, f64, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect"))
        .filter_map(|n| {
            let title = n.children().find(|c| c.has_tag_name("title"))?.text()?.to_string();
            if !title.contains(" runs from ") {
                return None;
            }
            let num = |a: &str| n.attribute(a).and_then(|v| v.parse::<f64>().ok()).expect("a number");
            Some((num("x"), num("x") + num("width"), title))
        })
        .collect();
    assert!(runs.len() >= 12, "each worker's four steps and the top level's: {}", runs.len());
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    for w in runs.windows(2) {
        assert!(w[1].0 >= w[0].1 - 0.05, "running slices side by side: {:?} and {:?}", w[0], w[1]);
    }
}

/// A queue's length and a semaphore's value are drawn as counter tracks,
/// with each change in order.
#[test]
fn counter_tracks_follow_a_queue_and_a_semaphore() {
    let svg = timeline_of(&case("counters.aio"), &scratch("counters.svg"));
    let doc = roxmltree::Document::parse(&svg).expect("well-formed");
    let track = |name: &str| -> Vec<i64> {
        let g = doc
            .descendants()
            .find(|n| n.attribute("class") == Some("counter") && n.attribute("data-name") == Some(name))
            .unwrap_or_else(|| panic!("no track {name}"));
        g.attribute("data-values").unwrap_or("").split(' ').map(|v| v.parse().expect("a number")).collect()
    };
    assert_eq!(track("Queue 'q' length"), [0, 1, 2, 3, 2, 1, 0]);
    let sem = track("Semaphore 'sem' value");
    assert_eq!(&sem[..3], [2, 1, 0], "two users take the semaphore: {sem:?}");
    assert_eq!(sem.last(), Some(&2), "all give it back: {sem:?}");
    assert!(svg.contains("queue length, semaphore value"), "the legend names the tracks");
    let (w, h) = size_of(&doc);
    assert_no_overlaps("counters", &text_boxes(&doc), w, h);
}

/// A wait is labelled in the program's words: the end of `async with
/// TaskGroup()` waits for `the TaskGroup`, not for a library method.
#[test]
fn labels_use_the_words_of_the_program() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join("11_taskgroup.aio");
    let svg = timeline_of(&example, &scratch("taskgroup.svg"));
    assert!(svg.contains("waits for the TaskGroup"), "the top level's wait is the TaskGroup's");
    assert!(!svg.contains("__aexit__") && !svg.contains("__aenter__"), "a dunder method in the labels");
}

/// The deadlock example: each diner's lock held from when it took it, the
/// waits that never end drawn up to the mark that says deadlock, the cycle
/// written out under the lanes, and the legend naming the new marks.
#[test]
fn the_deadlock_example_draws_its_cycle() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join("14_deadlock.aio");
    let svg = timeline_of(&example, &scratch("deadlock.svg"));
    let doc = roxmltree::Document::parse(&svg).expect("well-formed");
    let (w, h) = size_of(&doc);
    assert_no_overlaps("deadlock", &text_boxes(&doc), w, h);
    let texts: Vec<String> =
        doc.descendants().filter(|n| n.has_tag_name("text")).map(|n| n.descendants().filter_map(|d| d.text()).collect()).collect();
    let cycle = "deadlock: alice holds locks['fork'], waits for locks['knife'] held by bob, who waits for locks['fork'] held by alice";
    for want in ["deadlock", cycle, "holds a lock", "a deadlock after 1 s of virtual loop time"] {
        assert!(texts.iter().any(|t| t.contains(want)), "no text `{want}` in {texts:?}");
    }
    let title_of =
        |n: roxmltree::Node| -> String { n.children().find(|c| c.has_tag_name("title")).and_then(|t| t.text()).unwrap_or("").to_string() };
    let holds: Vec<String> = doc.descendants().filter(|n| n.attribute("class") == Some("hold")).map(title_of).collect();
    assert!(holds.iter().any(|t| t.starts_with("alice holds Lock locks['fork'] from 0 s")), "{holds:?}");
    assert!(holds.iter().any(|t| t.starts_with("bob holds Lock locks['knife'] from 0 s")), "{holds:?}");
    // The endless waits reach the deadlock mark, at the right end of the axis.
    let mark_x: f64 = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("deadlock"))
        .and_then(|g| g.children().find(|c| c.has_tag_name("line")))
        .and_then(|l| l.attribute("x1"))
        .and_then(|x| x.parse().ok())
        .expect("a deadlock mark");
    for who in ["alice", "bob"] {
        let wait = doc
            .descendants()
            .filter(|n| n.has_tag_name("rect"))
            .find(|n| title_of(*n).starts_with(&format!("{who} (diner) waits on Lock locks[")))
            .unwrap_or_else(|| panic!("no lock wait drawn for {who}"));
        let num = |a: &str| wait.attribute(a).and_then(|v| v.parse::<f64>().ok()).expect("a number");
        let (x, width) = (num("x"), num("width"));
        assert!(width > 50.0 && (x + width - mark_x).abs() < 1.0, "{who}'s wait ends at {} , the mark is at {mark_x}", x + width);
    }
    let page = timeline_of(&example, &scratch("deadlock.html"));
    assert!(page.contains("<h2>Deadlock</h2>") && page.contains(&xml_text(&cycle["deadlock: ".len()..])), "the page names the cycle");
    assert!(page.contains("cancelled by the loop at the deadlock"), "the table tells how the diners ended");
}

fn xml_text(s: &str) -> String {
    aio_stdlib::timeline::xml_escape(s)
}

// ------------------------------------------------------------ looking at it

/// Fraction of pixels that are not (nearly) white, and how many colours there are.
fn ink(png_path: &Path) -> (f64, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(png_path).expect("open png"));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let channels = info.color_type.samples();
    let px = &buf[..info.buffer_size()];
    let mut inked = 0usize;
    let mut colours = std::collections::HashSet::new();
    let total = px.len() / channels;
    for p in px.chunks(channels) {
        if p[..3.min(channels)].iter().any(|&c| c < 235) {
            inked += 1;
        }
        colours.insert((p[0] >> 4, p.get(1).copied().unwrap_or(0) >> 4, p.get(2).copied().unwrap_or(0) >> 4));
    }
    (inked as f64 / total as f64, colours.len())
}

/// Lay the SVG out in the browser, with its fonts, and ask it where every
/// piece of text landed: the page reports each pair of text boxes that
/// overlap, as a person looking at the picture would see them.
#[test]
fn in_the_browser_no_text_overlaps() {
    let Some(chromium) = chromium() else { return };
    for prog in ["three_tasks.aio", "forty_tasks.aio"] {
        let svg_path = scratch(&prog.replace(".aio", "-dom.svg"));
        let svg = timeline_of(&case(prog), &svg_path);
        let page = scratch(&prog.replace(".aio", "-dom.html"));
        let script = r#"<script>
const boxes = [...document.querySelectorAll('svg text')]
  .filter(t => t.textContent.trim() !== '')
  .map(t => ({ r: t.getBoundingClientRect(), s: t.textContent }));
const bad = [];
for (let i = 0; i < boxes.length; i++)
  for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i].r, b = boxes[j].r;
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (w > 1 && h > 1) bad.push(JSON.stringify(boxes[i].s) + ' / ' + JSON.stringify(boxes[j].s));
  }
document.body.setAttribute('data-texts', String(boxes.length));
document.body.setAttribute('data-overlaps', bad.length ? bad.join(' | ') : 'none');
</script>"#;
        std::fs::write(&page, format!("<!DOCTYPE html><html><body style=\"margin:0\">{svg}{script}</body></html>")).expect("write page");
        let dom = dump_dom(chromium, &scratch(&format!("chromium-dom-{prog}")), &page);
        let attr = |name: &str| -> String {
            let key = format!("{name}=\"");
            let start = dom.find(&key).unwrap_or_else(|| panic!("{prog}: the page did not report {name}:\n{}", &dom[..dom.len().min(400)]))
                + key.len();
            dom[start..].split('"').next().unwrap_or("").to_string()
        };
        let texts: usize = attr("data-texts").parse().expect("a count");
        assert!(texts >= 10, "{prog}: only {texts} pieces of text were laid out");
        assert_eq!(attr("data-overlaps"), "none", "{prog}: text overlaps in the browser");
    }
}

#[test]
fn chromium_screenshot_is_not_blank() {
    let Some(chromium) = chromium() else { return };
    for (prog, h) in [("three_tasks.aio", 260), ("forty_tasks.aio", 940)] {
        let svg = scratch(&prog.replace(".aio", "-shot.svg"));
        timeline_of(&case(prog), &svg);
        let png_path = svg.with_extension("png");
        let _ = std::fs::remove_file(&png_path);
        let status = headless(chromium, &scratch(&format!("chromium-shot-{prog}")))
            .arg(format!("--screenshot={}", png_path.display()))
            .arg(format!("--window-size=1220,{h}"))
            .arg(format!("file://{}", svg.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run chromium");
        assert!(status.success() && png_path.exists(), "chromium made no screenshot of {prog}");
        let (inked, colours) = ink(&png_path);
        assert!(inked > 0.03, "{prog}: the screenshot is nearly blank ({inked:.3} inked)");
        assert!(colours >= 8, "{prog}: only {colours} colours");
    }
}
