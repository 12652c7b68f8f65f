//! The HTML report (`--html FILE`) of the built binary on real pages (`tests/pages/html/`):
//! a passing, a failing and a skipped example, graphs objgraph draws (PNG and SVG, with their
//! DOT files) and a `.. figure::` of the PNG with a committed image.
//!
//! Its structure is an insta snapshot (images, styles, script, durations and temporary paths
//! redacted); it loads nothing from outside (checked in the text); and headless Chromium
//! (Debian's `chromium`, installed by scripts/setup) renders it: a script added to the page
//! checks that every example of the JSON report is in the DOM, that every image decodes,
//! that the filter works and that a phone-wide page needs no sideways scrolling, and writes
//! its verdict into the DOM that Chromium dumps.

mod common;

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary run in `dir` with `args` (stdin closed), to its end.
fn objgraph_doctest(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

/// One run of the fixture pages with `--format json --html report.html`.
struct Run {
    dir: tempfile::TempDir,
    json: serde_json::Value,
    html: String,
}

impl Run {
    /// The pages of `tests/pages/html/`.
    fn new() -> Run {
        let dir = tempfile::tempdir().expect("tempdir");
        common::copy_tree(&pages(), dir.path());
        Run::in_dir(dir)
    }

    fn in_dir(dir: tempfile::TempDir) -> Run {
        let python = common::python_with_objgraph();
        let output = objgraph_doctest(
            dir.path(),
            &[
                "--python",
                &python,
                "--color",
                "never",
                "--timeout",
                "2",
                "--jobs",
                "2",
                "--artifacts-dir",
                "artifacts",
                "--format",
                "json",
                "--html",
                "report.html",
                ".",
            ],
        );
        assert_eq!(
            output.status.code(),
            Some(1),
            "examples fail on purpose; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json = serde_json::from_slice(&output.stdout).expect("the JSON report");
        let html = std::fs::read_to_string(dir.path().join("report.html")).expect("report.html");
        Run { dir, json, html }
    }

    /// `page:line:outcome` of every example the JSON report has.
    fn examples(&self) -> BTreeSet<String> {
        let mut examples = BTreeSet::new();
        for page in self.json["pages"].as_array().expect("pages") {
            for example in page["examples"].as_array().expect("examples") {
                examples.insert(format!(
                    "{}:{}:{}",
                    page["path"].as_str().expect("path"),
                    example["line"],
                    example["outcome"].as_str().expect("outcome")
                ));
            }
        }
        examples
    }

    /// The images examples wrote, by the JSON report.
    fn generated_images(&self) -> usize {
        self.json["pages"]
            .as_array()
            .expect("pages")
            .iter()
            .flat_map(|page| page["examples"].as_array().expect("examples"))
            .flat_map(|example| example["artifacts"].as_array().expect("artifacts"))
            .filter(|artifact| artifact["kind"] == "image")
            .count()
    }
}

fn pages() -> PathBuf {
    common::repo_root().join("tests/pages/html")
}

/// The report with what varies run to run replaced: images, the (long, often edited)
/// styles and script, durations, DOT text (object addresses), the interpreter, temp paths.
fn redacted(run: &Run) -> String {
    let text = run
        .html
        .replace(&common::python_with_objgraph(), "[PYTHON]");
    common::redact(
        &text,
        run.dir.path(),
        &[
            (r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "[DATA]"),
            (r"(?s)<style>.*?</style>", "<style>[CSS]</style>"),
            (r"(?s)<script>.*?</script>", "<script>[JS]</script>"),
            (
                r#"<span class="duration">[^<]*</span>"#,
                r#"<span class="duration">[duration]</span>"#,
            ),
            (
                r#"(?s)<pre class="dot-text">.*?</pre>"#,
                r#"<pre class="dot-text">[DOT]</pre>"#,
            ),
        ],
    )
}

#[test]
fn html_report_structure() {
    let run = Run::new();
    insta::assert_snapshot!("html", redacted(&run));
}

/// Every outcome, exceptions, a page doctest cannot load, a page without examples, Markdown
/// and a crash: the fixed pages of the other reports' snapshots (`tests/pages/reports/`).
#[test]
fn html_report_of_every_outcome() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::copy_report_pages(dir.path());
    let run = Run::in_dir(dir);
    insta::assert_snapshot!("html_outcomes", redacted(&run));
}

/// `merge --html`: the report of a sharded run, from the shards' JSON reports, holds every
/// example and, on the machine that ran them, the images.
#[test]
fn merge_writes_the_html_report_of_the_whole_run() {
    let whole = Run::new();
    let dir = whole.dir.path();
    let mut reports = Vec::new();
    for shard in ["1/2", "2/2"] {
        let python = common::python_with_objgraph();
        let output = objgraph_doctest(
            dir,
            &[
                "--python",
                &python,
                "--artifacts-dir",
                "artifacts",
                "--format",
                "json",
                "--shard",
                shard,
                ".",
            ],
        );
        let report = dir.join(format!("shard-{}.json", &shard[..1]));
        std::fs::write(&report, &output.stdout).expect("shard report");
        reports.push(report);
    }
    let mut args = vec!["merge", "--format", "json", "--html", "merged.html"];
    args.extend(
        reports
            .iter()
            .map(|report| report.to_str().expect("UTF-8 path")),
    );
    let output = objgraph_doctest(dir, &args);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let merged = std::fs::read_to_string(dir.join("merged.html")).expect("merged.html");
    let examples = |html: &str| -> BTreeSet<String> {
        regex::Regex::new(r#"data-page="([^"]*)" data-line="(\d+)" data-outcome="([^"]*)""#)
            .expect("pattern")
            .captures_iter(html)
            .map(|found| format!("{}:{}:{}", &found[1], &found[2], &found[3]))
            .collect()
    };
    assert_eq!(examples(&merged), whole.examples());
    assert_eq!(
        merged.matches("<img src=\"data:image/").count(),
        whole.generated_images(),
        "the shards' images are inlined"
    );
}

/// A report that cannot be written is said before anything runs, with the fix.
#[test]
fn an_unwritable_report_path_is_refused_before_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Examples run in a temporary folder: the marker's path is absolute.
    let marker = dir.path().join("ran");
    std::fs::write(
        dir.path().join("page.txt"),
        format!(
            ">>> open({:?}, 'w').close()\n",
            marker.display().to_string()
        ),
    )
    .expect("page");
    let python = common::python_with_objgraph();
    for (target, says) in [
        (
            "missing/report.html",
            "missing is not a directory; create it",
        ),
        (".", "it is a directory; give --html a file name"),
    ] {
        let output = objgraph_doctest(
            dir.path(),
            &["--python", &python, "--html", target, "page.txt"],
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("cannot write the HTML report to {target}: "))
                && stderr.contains(says),
            "{stderr}"
        );
    }
    assert!(!marker.exists(), "the page ran before the refusal");
    // The same page with a writable report runs (the marker is a real check).
    let output = objgraph_doctest(
        dir.path(),
        &["--python", &python, "--html", "ok.html", "page.txt"],
    );
    assert_eq!(output.status.code(), Some(0));
    assert!(marker.exists() && dir.path().join("ok.html").is_file());
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join("ok.html"))
            .expect("ok.html")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o644, "a report is readable by others");
}

/// Nothing in the file can reach the network or another file: every `src` is a `data:`
/// URI, every link an anchor in the page, no `<link>`, `url()`, `@import` or scheme, and
/// the Content-Security-Policy says so to the browser.
#[test]
fn html_report_loads_nothing_from_outside() {
    let run = Run::new();
    let html = &run.html;
    let attributes = regex::Regex::new(r#"\s(src|href|srcset|action|poster|xlink:href)="([^"]*)""#)
        .expect("pattern");
    let mut seen = 0;
    for found in attributes.captures_iter(html) {
        let (name, value) = (&found[1], &found[2]);
        seen += 1;
        match name {
            "src" => assert!(value.starts_with("data:image/"), "src={value:.80}"),
            "href" => assert!(value.starts_with('#'), "href={value}"),
            other => panic!("{other}={value:.80} in the report"),
        }
    }
    assert!(seen > 5, "the report has images and links");
    for forbidden in ["http://", "https://", "<link", "url(", "@import", "file:"] {
        assert!(!html.contains(forbidden), "{forbidden} in the report");
    }
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:;"
    ));
}

/// What the script added to the report finds; read back from the DOM Chromium dumps.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Verdict {
    examples: Vec<String>,
    images: Vec<ImageVerdict>,
    filter_shown: bool,
    failed_filter_shows: Vec<String>,
    images_filter_shows: Vec<String>,
    phone_scroll_width: u32,
    phone_width: u32,
    mobile_layout: bool,
}

#[derive(serde::Deserialize, Debug)]
struct ImageVerdict {
    alt: String,
    width: u32,
    complete: bool,
}

/// Runs in the report once it has loaded (every `data:` image included): writes
/// `<pre id="verdict">JSON</pre>`. An image decoded when it is complete with a natural
/// width; awaiting `img.decode()` for each is too slow for Chromium's virtual time on a
/// report with dozens of images. The phone check narrows the body to 360 CSS pixels (the
/// narrowest headless window is 500) and asks whether its content then scrolls sideways.
const CHECK_SCRIPT: &str = r#"<script>
function checkReport() {
  const titles = () => Array.from(document.querySelectorAll("section.page"))
    .filter((section) => !section.hidden)
    .map((section) => section.querySelector("h2").textContent);
  const verdict = { examples: [], images: [] };
  document.querySelectorAll("[data-example]").forEach((example) => {
    verdict.examples.push(`${example.dataset.page}:${example.dataset.line}:${example.dataset.outcome}`);
  });
  for (const image of Array.from(document.images)) {
    verdict.images.push({ alt: image.alt, width: image.naturalWidth, complete: image.complete });
  }
  verdict.filterShown = !document.querySelector(".filter").hidden;
  document.querySelector('input[name="filter"][value="failed"]').click();
  verdict.failedFilterShows = titles();
  document.querySelector('input[name="filter"][value="images"]').click();
  verdict.imagesFilterShows = titles();
  document.querySelector('input[name="filter"][value="all"]').click();
  const body = document.body.style;
  body.width = body.maxWidth = "360px";
  body.overflowX = "auto";
  verdict.phoneScrollWidth = document.body.scrollWidth;
  verdict.phoneWidth = document.body.clientWidth;
  verdict.mobileLayout = window.matchMedia("(max-width: 40rem)").matches;
  const out = document.createElement("pre");
  out.id = "verdict";
  out.textContent = JSON.stringify(verdict);
  document.documentElement.appendChild(out);
}
if (document.readyState === "complete") checkReport();
else window.addEventListener("load", checkReport);
</script>
"#;

/// Chromium from `PATH`; `None` (the test is skipped, loudly) only outside CI.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = ["chromium", "chromium-browser"]
        .iter()
        .find_map(|name| objgraph_doctest::runner::artifacts::find_in_path(name, &path));
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not installed; scripts/setup installs it (Debian's `chromium`)"
        );
        eprintln!(
            "\n\n*** SKIPPED: chromium is not installed, so the HTML report was not rendered; \
             run scripts/setup (as root) to install it ***\n"
        );
    }
    found
}

/// Headless Chromium on `page` with a fresh profile and no network services; what
/// `extra` asks for (`--dump-dom`, `--screenshot=...`). Its stdout, within two minutes.
fn run_chromium(chromium: &Path, page: &Path, window: &str, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={window}"))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        // Whatever Chromium puts in the temp directory goes with the profile.
        .env("TMPDIR", profile.path())
        .env("HOME", profile.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("chromium starts");
    let group = nix::unistd::Pid::from_raw(-(child.id() as i32));
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            panic!("chromium did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Its helpers (zygote, renderer) end with it; anything left is ended here.
    let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
    reader.join().expect("reader")
}

/// The report with the check script added before `</body>`, written beside the original.
fn report_with_check(run: &Run) -> PathBuf {
    let page = run.dir.path().join("checked.html");
    let html = run
        .html
        .replacen("</body>", &format!("{CHECK_SCRIPT}</body>"), 1);
    std::fs::write(&page, html).expect("checked.html");
    page
}

fn verdict_in(dom: &str) -> Verdict {
    let found = regex::Regex::new(r#"(?s)<pre id="verdict">(.*?)</pre>"#)
        .expect("pattern")
        .captures(dom)
        .unwrap_or_else(|| panic!("no verdict in the DOM: {:.2000}", dom));
    let json = html_escape::decode_html_entities(&found[1]);
    serde_json::from_str(&json).expect("the verdict is JSON")
}

#[test]
fn chromium_renders_every_example_and_image() {
    let Some(chromium) = chromium() else {
        return;
    };
    let run = Run::new();
    let page = report_with_check(&run);
    // Chromium's narrowest headless window; the script narrows the body to a phone's.
    let dom = run_chromium(&chromium, &page, "500,900", &["--dump-dom"]);
    let verdict = verdict_in(&dom);

    let shown: BTreeSet<String> = verdict.examples.iter().cloned().collect();
    assert_eq!(shown, run.examples(), "the DOM's examples against the JSON");
    assert_eq!(
        verdict.examples.len(),
        shown.len(),
        "an example shown twice"
    );

    // Every generated image, and the committed figure beside the one it stands for.
    assert_eq!(verdict.images.len(), run.generated_images() + 1);
    for image in &verdict.images {
        assert!(
            image.complete && image.width > 0,
            "an image did not decode: {image:?}"
        );
        assert!(!image.alt.is_empty(), "an image without alt text");
    }
    assert!(
        verdict
            .images
            .iter()
            .any(|image| image.alt == "the references of y: a list, a dict and x"),
        "the figure's :alt: is the committed image's alt text: {:?}",
        verdict.images
    );

    assert!(verdict.filter_shown, "the script shows the filter");
    assert_eq!(verdict.failed_filter_shows, ["index.rst"]);
    assert_eq!(verdict.images_filter_shows, ["index.rst", "svg.md"]);
    assert!(verdict.mobile_layout, "the narrow layout applies");
    assert_eq!(verdict.phone_width, 360);
    assert!(
        verdict.phone_scroll_width <= verdict.phone_width,
        "a phone-wide page scrolls sideways: {} > {}",
        verdict.phone_scroll_width,
        verdict.phone_width
    );
}

/// Regenerates the screenshot in docs/html-report.md (not a check: run by hand with
/// `cargo test --test html_report -- --ignored screenshot`).
#[test]
#[ignore = "writes docs/html-report.png; run by hand"]
fn screenshot_for_the_docs() {
    let Some(chromium) = chromium() else {
        return;
    };
    let run = Run::new();
    let shot = common::repo_root().join("docs/html-report.png");
    run_chromium(
        &chromium,
        &run.dir.path().join("report.html"),
        "1000,2700",
        &[&format!("--screenshot={}", shot.display())],
    );
    assert!(shot.is_file(), "no screenshot at {}", shot.display());
}
