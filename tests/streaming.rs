//! A page's examples are streamed to its process: faults in the middle of a stream are
//! contained, and nothing runs that must not. Each example of the generated pages appends
//! its number to a log file outside the page's working directory, so the log says which
//! examples ran (a marker, not a duration).

#[path = "common/cli.rs"]
mod cli;
mod common;

use std::path::Path;
use std::process::Output;

use cli::{both, json};

/// The pytest the pytest oracles install (tests/oracle_pytest_runner.rs).
const PYTEST: &str = "8.3.5";

/// A page of `count` examples: example 0 opens the log, example `i` (1..count) appends `i`,
/// except those `special` replaces (source, expected output).
fn page(log: &Path, count: usize, special: &[(usize, &str, &str)]) -> String {
    let mut text = format!(
        ">>> import os, signal, time; LOG = {:?}\n\n",
        log.display().to_string()
    );
    for index in 1..count {
        match special.iter().find(|(at, _, _)| *at == index) {
            Some((_, source, want)) => text.push_str(&format!(">>> {source}\n{want}")),
            None => text.push_str(&format!(">>> _ = open(LOG, 'a').write('{index}\\n')\n")),
        }
        text.push('\n');
    }
    text
}

fn run(dir: &Path, args: &[&str]) -> Output {
    let tmp = tempfile::tempdir().expect("private TMPDIR");
    cli::objgraph_doctest(dir, tmp.path())
        .args(["--format", "json"])
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The outcomes of the page's examples, in order.
fn outcomes(report: &serde_json::Value, page: usize) -> Vec<String> {
    report["pages"][page]["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .map(|example| example["outcome"].as_str().expect("outcome").to_owned())
        .collect()
}

/// `passed` for examples `0..fault`, `fault_outcome` at `fault`, `then` for the rest.
fn expected(count: usize, fault: usize, fault_outcome: &str, then: &str) -> Vec<String> {
    (0..count)
        .map(|index| match index.cmp(&fault) {
            std::cmp::Ordering::Less => "passed",
            std::cmp::Ordering::Equal => fault_outcome,
            std::cmp::Ordering::Greater => then,
        })
        .map(str::to_owned)
        .collect()
}

/// The example numbers the log holds.
fn logged(log: &Path) -> Vec<usize> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|line| line.parse().expect("a number"))
        .collect()
}

#[test]
fn a_crash_in_the_middle_of_a_streamed_page_ends_that_page_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("ran.log");
    let crash = (10, "os.kill(os.getpid(), signal.SIGKILL)", "");
    std::fs::write(dir.path().join("a.txt"), page(&log, 20, &[crash])).expect("page");
    std::fs::write(dir.path().join("b.txt"), ">>> 1 + 1\n2\n").expect("page");
    let output = run(dir.path(), &["-j", "1", "a.txt", "b.txt"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let report = json(&output);
    assert_eq!(outcomes(&report, 0), expected(20, 10, "crashed", "not-run"));
    let fault = report["pages"][0]["examples"][10]["fault"]
        .as_str()
        .expect("fault");
    assert!(fault.contains("SIGKILL"), "{fault}");
    assert_eq!(logged(&log), (1..10).collect::<Vec<_>>());
    // The next page runs in a process of its own.
    assert_eq!(outcomes(&report, 1), ["passed"]);
}

#[test]
fn a_timeout_on_the_10th_example_of_20_stops_the_page_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("ran.log");
    let spin = (9, "while True: pass", "");
    std::fs::write(dir.path().join("a.txt"), page(&log, 20, &[spin])).expect("page");
    let output = run(dir.path(), &["--timeout", "1", "a.txt"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let report = json(&output);
    assert_eq!(outcomes(&report, 0), expected(20, 9, "timeout", "not-run"));
    assert_eq!(
        report["pages"][0]["examples"][9]["fault"],
        "timed out after 1 s"
    );
    assert_eq!(logged(&log), (1..9).collect::<Vec<_>>());
}

#[test]
fn nothing_runs_after_a_fail_fast_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("ran.log");
    // A FAIL_FAST example that passes lets the stream go on; the one that fails stops it.
    let passes = (3, "1 + 1  # doctest: +FAIL_FAST", "2\n");
    let fails = (7, "1 + 1  # doctest: +FAIL_FAST", "3\n");
    std::fs::write(dir.path().join("a.txt"), page(&log, 20, &[passes, fails])).expect("page");
    let output = run(dir.path(), &["a.txt"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let report = json(&output);
    assert_eq!(outcomes(&report, 0), expected(20, 7, "failed", "not-run"));
    assert_eq!(logged(&log), [1, 2, 4, 5, 6]);
}

#[test]
fn nothing_runs_after_a_failure_under_fail_fast_for_every_example() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("ran.log");
    // Its output differs only in whitespace: the page process cannot tell it failed.
    let fails = (5, "print('a  b')", "a b\n");
    std::fs::write(dir.path().join("a.txt"), page(&log, 20, &[fails])).expect("page");
    let output = run(dir.path(), &["-o", "FAIL_FAST", "a.txt"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert_eq!(
        outcomes(&json(&output), 0),
        expected(20, 5, "failed", "not-run")
    );
    assert_eq!(logged(&log), [1, 2, 3, 4]);
}

#[test]
fn a_pytest_page_stops_at_its_first_failure_and_pytest_skip_skips_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("objgraph-doctest.toml"),
        "profile = \"pytest\"\n",
    )
    .expect("config");
    let log = dir.path().join("ran.log");
    let fails = (4, "1 + 1", "3\n");
    std::fs::write(dir.path().join("a.txt"), page(&log, 10, &[fails])).expect("page");
    let skip_log = dir.path().join("skip.log");
    let skips = (3, "import pytest; pytest.skip('not here')", "");
    std::fs::write(dir.path().join("b.txt"), page(&skip_log, 10, &[skips])).expect("page");
    // pytest.skip needs pytest where the examples run.
    let python = common::cached_venv("test-venv-pytest", &[&format!("pytest=={PYTEST}")]);
    let tmp = tempfile::tempdir().expect("private TMPDIR");
    let output = cli::objgraph_doctest_with(&python, dir.path(), tmp.path())
        .args(["--format", "json", "a.txt", "b.txt"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let report = json(&output);
    assert_eq!(outcomes(&report, 0), expected(10, 4, "failed", "not-run"));
    assert_eq!(logged(&log), [1, 2, 3]);
    assert_eq!(outcomes(&report, 1), expected(10, 3, "skipped", "skipped"));
    assert_eq!(logged(&skip_log), [1, 2]);
}

/// The artifacts' names per example.
fn artifacts(report: &serde_json::Value) -> Vec<Vec<String>> {
    report["pages"][0]["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .map(|example| {
            example["artifacts"]
                .as_array()
                .expect("artifacts")
                .iter()
                .map(|artifact| artifact["name"].as_str().expect("name").to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn files_written_into_a_subfolder_or_rewritten_in_place_are_found_while_streaming() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Each step is its own example; those that write nothing find nothing. The rewrite
    // waits past the file system's time stamp granularity, as a change must show there.
    let page = "\
>>> import os, subprocess, time
>>> os.makedirs('sub/deeper')
>>> _ = open('sub/deeper/f.txt', 'w').write('abc')
>>> 1 + 1
2
>>> time.sleep(0.05); f = open('sub/deeper/f.txt', 'r+'); _ = f.write('xyz'); f.close()
>>> 2 + 2
4
>>> _ = subprocess.run(['sh', '-c', 'echo hi > sub/g.txt'])
>>> 3 + 3
6
";
    std::fs::write(dir.path().join("a.txt"), page).expect("page");
    let output = run(dir.path(), &["a.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let found = artifacts(&json(&output));
    let expected: Vec<Vec<&str>> = vec![
        vec![],
        vec![],
        vec!["sub/deeper/f.txt"],
        vec![],
        vec!["sub/deeper/f.txt"],
        vec![],
        vec!["sub/g.txt"],
        vec![],
    ];
    assert_eq!(found, expected);
}

#[test]
fn a_crash_in_a_streamed_page_as_people_read_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("ran.log");
    let crash = (3, "os._exit(3)", "");
    std::fs::write(dir.path().join("a.txt"), page(&log, 6, &[crash])).expect("page");
    let tmp = tempfile::tempdir().expect("private TMPDIR");
    let output = cli::objgraph_doctest(dir.path(), tmp.path())
        .arg("a.txt")
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let python = common::python_with_objgraph();
    let text = cli::text(&output.stdout).replace(&python, "[PYTHON]");
    insta::assert_snapshot!(common::redact(&text, dir.path(), &[]));
}

/// A page far larger than a socket holds, both ways: 12,000 examples whose requests are
/// about 1 MiB in all and whose results are about 25 MiB (each prints 2 KiB). Requests go
/// ahead of the results only within a window, so neither side waits for the other for
/// good; a FAIL_FAST example that fails near the end holds the stream (the rest of the
/// requests then follow at once) and stops it there.
#[test]
fn a_page_larger_than_the_socket_both_ways_streams_to_its_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("ran.log");
    let count = 12_000;
    let prints = (5, "print('x' * 2048)", &*format!("{}\n", "x".repeat(2048)));
    let mut special: Vec<(usize, &str, &str)> = Vec::new();
    let many = "print('y' * 2048)";
    let many_want = format!("{}\n", "y".repeat(2048));
    for index in 10..count - 100 {
        if index % 2 == 0 {
            special.push((index, many, &many_want));
        }
    }
    special.push(prints);
    let fails = (count - 50, "1 + 1  # doctest: +FAIL_FAST", "3\n");
    special.push(fails);
    std::fs::write(dir.path().join("a.txt"), page(&log, count, &special)).expect("page");
    let output = run(dir.path(), &["--timeout", "60", "a.txt"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let report = json(&output);
    assert_eq!(
        outcomes(&report, 0),
        expected(count, count - 50, "failed", "not-run")
    );
    let ran = logged(&log);
    assert_eq!(
        ran.last(),
        Some(&(count - 51)),
        "{:?}",
        &ran[ran.len().saturating_sub(3)..]
    );
}
