//! Headless Chromium for the tests that look at pages in a browser
//! (tests/timeline.rs, tests/replay.rs). CI (`.ci/run`) installs Debian's
//! package and sets `AIO_REQUIRE_CHROMIUM`; elsewhere a missing browser
//! skips the browser checks.

use std::path::Path;
use std::process::{Command, Stdio};

/// Chromium, if installed. CI installs it and sets `AIO_REQUIRE_CHROMIUM`,
/// so there a missing browser fails the browser checks instead of skipping them.
pub fn chromium() -> Option<&'static Path> {
    let chromium = Path::new("/usr/bin/chromium");
    if chromium.exists() {
        return Some(chromium);
    }
    assert!(std::env::var_os("AIO_REQUIRE_CHROMIUM").is_none(), "AIO_REQUIRE_CHROMIUM is set but /usr/bin/chromium is missing");
    eprintln!("chromium is not installed: browser check skipped");
    None
}

/// A headless Chromium with a profile of its own in `profile` (two
/// browsers sharing one profile hand their work to each other).
pub fn headless(chromium: &Path, profile: &Path) -> Command {
    let mut c = Command::new(chromium);
    c.args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--hide-scrollbars"])
        .args(["--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Load the page at `page` (a file) and return its DOM once its scripts ran.
pub fn dump_dom(chromium: &Path, profile: &Path, page: &Path) -> String {
    let out = headless(chromium, profile)
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stderr(Stdio::null())
        .output()
        .expect("run chromium");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
