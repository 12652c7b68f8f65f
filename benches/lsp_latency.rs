//! Language server latency: from an edit (`didChange`) to the diagnostics that reflect it.
//!
//! `cargo bench --bench lsp_latency` starts the built server over stdio (the test client in
//! tests/common/lsp_client.rs), with `debounceMs: 0` so that the figures are the server's own
//! work (the default 300 ms debounce is added on top, by design), opens a generated page of
//! 200 examples and times, over `OBJGRAPH_DOCTEST_BENCH_REPS` repetitions (20):
//!
//! - (a) an edit to one example's expected output (fail and pass alternately);
//! - (b) an edit to the last example's source, on the 200-example page and on a 50-example
//!   page (its latency should not depend on the page's length);
//! - (c) an edit to the first example's source (the whole page runs again);
//! - (d) opening a fresh copy of the page (a full run), the reference for (c), interleaved
//!   with (c).
//!
//! The diagnostics that reflect an edit are recognised by the document version the server
//! publishes with and by their content: the last example prints the values the first and
//! last examples set, and always fails, so its message names the run that produced it.
//! p50/p95 are printed beside the targets; results are recorded in docs/benchmarks.md.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/lsp_client.rs"]
mod lsp_client;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use lsp_client::LspClient;
use serde_json::{Value, json};

/// The work the heavier examples do: about 10 ms of CPython.
const WORK: &str = "sum(k * k for k in range(400_000))";
/// Longest wait for any one publication.
const WAIT: Duration = Duration::from_secs(60);
/// Repetitions not counted, before each case.
const WARMUP: usize = 2;
/// Quiet time after closing a copy.
const SETTLE: Duration = Duration::from_millis(300);

fn main() {
    let reps = std::env::var("OBJGRAPH_DOCTEST_BENCH_REPS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(20);
    let python = common::python_with_objgraph();
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = json!({"runOn": "change", "execute": true, "python": python, "debounceMs": 0});
    let mut client = LspClient::start(dir.path(), settings);
    client.initialize(dir.path());

    let mut big = Doc::open(&mut client, dir.path(), "page-200.txt", 200);
    let mut small = Doc::open(&mut client, dir.path(), "page-50.txt", 50);
    let work = python_run_time(&python, WORK, reps);

    let mut rows = Vec::new();
    let a = repeat(reps, |rep| {
        big.edit_expected_output(&mut client, rep % 2 == 0)
    });
    rows.push(Row::new(
        "(a) expected output, 200 examples",
        a,
        Some(Bound::p95(20.0)),
        "p95 < 20 ms".to_owned(),
    ));
    let work_ms = ms(work);
    let b_big = repeat(reps, |_| big.edit_last_source(&mut client));
    let b_small = repeat(reps, |_| small.edit_last_source(&mut client));
    let b_target = format!("p95 < {work_ms:.1} (run) + 50 ms");
    rows.push(Row::new(
        "(b) last source, 200 examples",
        b_big,
        Some(Bound::p95(work_ms + 50.0)),
        b_target.clone(),
    ));
    rows.push(Row::new(
        "(b) last source, 50 examples",
        b_small,
        Some(Bound::p95(work_ms + 50.0)),
        b_target,
    ));
    let (c, d) = repeat_pair(reps, |rep| {
        let c = big.edit_first_source(&mut client);
        // The edit's stale checkpoints end after it has published: not during (d).
        std::thread::sleep(SETTLE);
        (c, fresh_full_run(&mut client, dir.path(), 200, rep))
    });
    let reference = Bound {
        p50: Some(percentile(&d, 0.5)),
        p95: percentile(&d, 0.95),
    };
    rows.push(Row::new(
        "(c) first source, 200 examples",
        c,
        Some(reference),
        "p50, p95 <= (d)'s".to_owned(),
    ));
    rows.push(Row::new(
        "(d) fresh full run, 200 examples",
        d,
        None,
        "reference for (c)".to_owned(),
    ));

    println!(
        "didChange -> publishDiagnostics, {reps} repetitions each (debounceMs 0); \
         the last example's own run time: {work_ms:.1} ms (median, CPython alone)"
    );
    println!(
        "{:<36} {:>8} {:>8}  {:<30} verdict",
        "case", "p50 ms", "p95 ms", "target"
    );
    for row in &rows {
        println!("{row}");
    }
    client.shutdown();
}

/// One open page and what the bench knows of its layout.
struct Doc {
    uri: String,
    lines: Vec<String>,
    version: i32,
    first_line: usize,
    last_line: usize,
    /// The expected output of an example near the middle, and the value it should be.
    middle_want_line: usize,
    middle_value: usize,
    /// The values the first and the last example print now.
    first_value: i32,
    last_value: i32,
}

impl Doc {
    /// Writes a page of `examples` examples, opens it and waits for its first full run.
    fn open(client: &mut LspClient, dir: &Path, name: &str, examples: usize) -> Doc {
        let mut doc = generate(examples);
        let path = dir.join(name);
        std::fs::write(&path, doc.text()).expect("page");
        doc.uri = format!("file://{}", path.display());
        client.open(&doc.uri, "plaintext", &doc.text());
        wait_published(client, &doc.uri, Some(1), &doc.last_got());
        doc
    }

    fn text(&self) -> String {
        self.lines.join("\n") + "\n"
    }

    /// What the last example prints now.
    fn last_got(&self) -> String {
        format!("{} {}", self.first_value, self.last_value)
    }

    /// Replaces line `line` with `text` (one ranged change) and returns when it was sent.
    fn replace_line(&mut self, client: &mut LspClient, line: usize, text: String) -> Instant {
        self.version += 1;
        let end = self.lines[line].len();
        let change = json!({
            "textDocument": {"uri": self.uri, "version": self.version},
            "contentChanges": [{
                "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": end}},
                "text": text,
            }],
        });
        self.lines[line] = text;
        client.backlog.clear();
        let sent = Instant::now();
        client.notify("textDocument/didChange", change);
        sent
    }

    /// (a): the middle example's expected output, wrong (`fail`) or right again.
    fn edit_expected_output(&mut self, client: &mut LspClient, fail: bool) -> Duration {
        let value = self.middle_value + usize::from(fail);
        let sent = self.replace_line(client, self.middle_want_line, format!("    {value}"));
        let (line, version) = (self.middle_want_line, self.version);
        client
            .wait_for(WAIT, |message| {
                is_publication(message, &self.uri, Some(version))
                    && diagnostics(message)
                        .iter()
                        .any(|d| d["range"]["start"]["line"] == line)
                        == fail
            })
            .unwrap_or_else(|| panic!("(a): no diagnostics for version {version}"));
        sent.elapsed()
    }

    /// (b): the last example's source (the value it prints).
    fn edit_last_source(&mut self, client: &mut LspClient) -> Duration {
        self.last_value = self.version + 1;
        let text = last_example(self.last_value);
        let sent = self.replace_line(client, self.last_line, text);
        wait_published(client, &self.uri, Some(self.version), &self.last_got());
        sent.elapsed()
    }

    /// (c): the first example's source (the value every later example sees).
    fn edit_first_source(&mut self, client: &mut LspClient) -> Duration {
        self.first_value = self.version + 1;
        let text = format!("    >>> first = {}", self.first_value);
        let sent = self.replace_line(client, self.first_line, text);
        wait_published(client, &self.uri, Some(self.version), &self.last_got());
        sent.elapsed()
    }
}

/// (d): opens a new copy of a page (a value of its own in the first example) and waits for
/// its full run; closes it again.
fn fresh_full_run(client: &mut LspClient, dir: &Path, examples: usize, rep: usize) -> Duration {
    let mut doc = generate(examples);
    doc.first_value = 1_000_000 + rep as i32;
    doc.lines[doc.first_line] = format!("    >>> first = {}", doc.first_value);
    let path = dir.join(format!("copy-{rep}.txt"));
    std::fs::write(&path, doc.text()).expect("page copy");
    doc.uri = format!("file://{}", path.display());
    client.backlog.clear();
    let sent = Instant::now();
    client.open(&doc.uri, "plaintext", &doc.text());
    wait_published(client, &doc.uri, Some(1), &doc.last_got());
    let elapsed = sent.elapsed();
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": doc.uri}}),
    );
    // Closing ends the copy's processes in the background: let that finish before the next
    // measurement, which it would otherwise slow down.
    std::thread::sleep(SETTLE);
    elapsed
}

/// Waits for diagnostics of `uri` at `version` in which the last example failed having
/// printed `got`.
fn wait_published(client: &mut LspClient, uri: &str, version: Option<i32>, got: &str) {
    let needle = format!("got '{got}'");
    client
        .wait_for(WAIT, |message| {
            is_publication(message, uri, version)
                && diagnostics(message).iter().any(|d| {
                    d["code"] == "failed" && d["message"].as_str().unwrap_or("").contains(&needle)
                })
        })
        .unwrap_or_else(|| panic!("no diagnostics for {uri} version {version:?} with {needle}"));
}

fn is_publication(message: &Value, uri: &str, version: Option<i32>) -> bool {
    message["method"] == "textDocument/publishDiagnostics"
        && message["params"]["uri"] == uri
        && message["params"]["version"].as_i64() == version.map(i64::from)
}

fn diagnostics(message: &Value) -> &[Value] {
    message["params"]["diagnostics"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A page of `examples` examples: `first = 0`, then pairs `x{i} = {i} * 2` / `x{i}` with
/// a heavier example every 20th step, then the last example, which does the same work and
/// prints `first` and a value of its own against an expected output that never matches.
fn generate(examples: usize) -> Doc {
    assert!(examples >= 4);
    let mut lines = vec![
        "A page generated by benches/lsp_latency.rs.".to_owned(),
        String::new(),
    ];
    let first_line = lines.len();
    lines.push("    >>> first = 0".to_owned());
    let mut count = 1;
    let mut step = 1;
    let mut middle = (0, 0);
    while count < examples - 1 {
        if step % 20 == 0 {
            lines.push(format!("    >>> w{step} = {WORK}"));
            count += 1;
        } else if count + 2 < examples {
            lines.push(format!("    >>> x{step} = {step} * 2"));
            lines.push(format!("    >>> x{step}"));
            lines.push(format!("    {}", step * 2));
            count += 2;
            if count <= examples / 2 {
                middle = (lines.len() - 1, step * 2);
            }
        } else {
            lines.push(format!("    >>> x{step} = {step}"));
            count += 1;
        }
        step += 1;
    }
    let last_line = lines.len();
    lines.push(last_example(0));
    lines.push("    pending".to_owned());
    Doc {
        uri: String::new(),
        lines,
        version: 1,
        first_line,
        last_line,
        middle_want_line: middle.0,
        middle_value: middle.1,
        first_value: 0,
        last_value: 0,
    }
}

fn last_example(value: i32) -> String {
    format!("    >>> _ = {WORK}; print(first, {value})")
}

/// The median time CPython alone takes to run `statement`, in a process of its own.
fn python_run_time(python: &str, statement: &str, reps: usize) -> Duration {
    let script = "import statistics, sys, timeit\n\
                  times = timeit.repeat(sys.argv[1], number=1, repeat=int(sys.argv[2]))\n\
                  print(statistics.median(times))";
    let output = Command::new(python)
        .args(["-c", script, statement, &reps.to_string()])
        .output()
        .expect("python runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    let seconds: f64 = printed.trim().parse().expect("python prints a median");
    Duration::from_secs_f64(seconds)
}

fn repeat(reps: usize, mut measure: impl FnMut(usize) -> Duration) -> Vec<f64> {
    for rep in 0..WARMUP {
        measure(rep);
    }
    (WARMUP..WARMUP + reps)
        .map(|rep| ms(measure(rep)))
        .collect()
}

fn repeat_pair(
    reps: usize,
    mut measure: impl FnMut(usize) -> (Duration, Duration),
) -> (Vec<f64>, Vec<f64>) {
    for rep in 0..WARMUP {
        measure(rep);
    }
    (WARMUP..WARMUP + reps)
        .map(|rep| {
            let (first, second) = measure(rep);
            (ms(first), ms(second))
        })
        .unzip()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The nearest-rank percentile of `samples` (milliseconds).
fn percentile(samples: &[f64], fraction: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((fraction * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// What a case's percentiles must stay at or under.
#[derive(Clone, Copy)]
struct Bound {
    p50: Option<f64>,
    p95: f64,
}

impl Bound {
    fn p95(p95: f64) -> Bound {
        Bound { p50: None, p95 }
    }
}

struct Row {
    name: &'static str,
    p50: f64,
    p95: f64,
    bound: Option<Bound>,
    target: String,
}

impl Row {
    fn new(name: &'static str, samples: Vec<f64>, bound: Option<Bound>, target: String) -> Row {
        Row {
            name,
            p50: percentile(&samples, 0.5),
            p95: percentile(&samples, 0.95),
            bound,
            target,
        }
    }

    /// "met", or "MISSED" with the largest excess, or nothing for a reference row.
    fn verdict(&self) -> String {
        let Some(bound) = self.bound else {
            return String::new();
        };
        let excess = [
            bound.p50.map_or(0.0, |p50| self.p50 - p50),
            self.p95 - bound.p95,
        ]
        .into_iter()
        .fold(0.0, f64::max);
        if excess > 0.0 {
            format!("MISSED by {excess:.1} ms")
        } else {
            "met".to_owned()
        }
    }
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<36} {:>8.1} {:>8.1}  {:<30} {}",
            self.name,
            self.p50,
            self.p95,
            self.target,
            self.verdict()
        )
    }
}
