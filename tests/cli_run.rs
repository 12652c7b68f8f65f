//! The built binary running real pages in a real Python: verdicts, reports in every format,
//! faults contained, `--update`, exit codes, and no process left behind.

#[path = "common/cli.rs"]
mod cli;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cli::{json, text};

fn run_in(cwd: &Path, args: &[&str]) -> Output {
    let tmp = tempfile::tempdir().expect("private TMPDIR");
    cli::objgraph_doctest(cwd, tmp.path())
        .args(args)
        .output()
        .expect("the binary runs")
}

fn pages() -> PathBuf {
    common::repo_root().join("tests").join("pages")
}

fn run(args: &[&str]) -> Output {
    run_in(&pages(), args)
}

fn outcomes(report: &serde_json::Value) -> Vec<(u64, String)> {
    report["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .flat_map(|page| page["examples"].as_array().expect("examples").iter())
        .map(|example| {
            (
                example["line"].as_u64().expect("line"),
                example["outcome"].as_str().expect("outcome").to_owned(),
            )
        })
        .collect()
}

fn outcome_list(pairs: &[(u64, &str)]) -> Vec<(u64, String)> {
    pairs
        .iter()
        .map(|(line, outcome)| (*line, (*outcome).to_owned()))
        .collect()
}

#[test]
fn passing_page_exits_0_with_counts() {
    let output = run(&["run/passing.txt"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let stdout = text(&output.stdout);
    assert_eq!(
        stdout.lines().last(),
        Some("4 passed, 0 failed, 1 skipped"),
        "{stdout}"
    );
}

#[test]
fn failures_are_reported_like_doctest() {
    let output = run(&["run/failing.txt"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("File \"run/failing.txt\", line 3, in failing.txt\nFailed example:\n    6 * 7\nExpected:\n    41\nGot:\n    42\n"), "{stdout}");
    assert!(
        stdout.contains("Exception raised:\n    Traceback (most recent call last):"),
        "{stdout}"
    );
    assert!(
        stdout.contains("NameError: name 'undefined_name' is not defined"),
        "{stdout}"
    );
    assert!(stdout.contains("-41\n    +42"), "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some("1 passed, 3 failed"),
        "{stdout}"
    );
}

#[test]
fn json_report_has_outcomes_and_exceptions() {
    let output = run(&["--format", "json", "run/failing.txt", "run/passing.txt"]);
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    assert_eq!(report["version"], 1);
    assert_eq!(
        outcomes(&report),
        outcome_list(&[
            (3, "failed"),
            (5, "failed"),
            (6, "failed"),
            (10, "passed"),
            (3, "passed"),
            (4, "passed"),
            (6, "passed"),
            (10, "passed"),
            (14, "skipped"),
        ])
    );
    let failing = &report["pages"][0]["examples"];
    assert_eq!(failing[0]["got"], "42\n");
    assert_eq!(failing[1]["exception"]["type"], "NameError");
    assert_eq!(failing[2]["exception"]["message"], "actual");
    assert_eq!(report["summary"]["passed"], 5);
    assert_eq!(report["summary"]["failed"], 3);
    assert_eq!(report["summary"]["skipped"], 1);
}

#[test]
fn faults_are_contained_and_the_run_goes_on() {
    let output = run(&[
        "--format",
        "json",
        "--timeout",
        "2",
        "run/faults.txt",
        "run/timeout.txt",
        "run/crash.txt",
        "run/passing.txt",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let report = json(&output);
    assert_eq!(
        outcomes(&report),
        outcome_list(&[
            (1, "passed"),
            (2, "crashed"),
            (3, "not-run"),
            (3, "passed"),
            (4, "passed"),
            (8, "passed"),
            (12, "passed"),
            (13, "passed"),
            (15, "passed"),
            (16, "passed"),
            (3, "passed"),
            (4, "passed"),
            (6, "passed"),
            (10, "passed"),
            (14, "skipped"),
            (1, "passed"),
            (3, "timeout"),
            (4, "not-run"),
        ])
    );
    let crash = &report["pages"][0]["examples"][1];
    assert_eq!(crash["fault"], "the interpreter was killed by SIGSEGV");
    let timeout = &report["pages"][3]["examples"][1];
    assert_eq!(timeout["fault"], "timed out after 2 s");
}

#[test]
fn fail_fast_stops_the_page() {
    let report = json(&run(&["--format", "json", "run/fail_fast.txt"]));
    assert_eq!(
        outcomes(&report),
        outcome_list(&[(1, "failed"), (3, "not-run")])
    );
}

#[test]
fn objgraph_sees_no_objects_of_ours() {
    let output = run(&["-o", "ELLIPSIS", "run/objgraph_growth.txt"]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
}

#[test]
fn junit_and_github_reports() {
    let output = run(&["--format", "junit", "run/failing.txt"]);
    let xml = text(&output.stdout);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains("<testsuite name=\"run/failing.txt\" tests=\"4\""),
        "{xml}"
    );
    assert!(xml.contains("<failure message=\"output differs\""), "{xml}");
    let output = run(&["--format", "github", "run/failing.txt"]);
    let annotations = text(&output.stdout);
    assert!(annotations.contains("::error file=run/failing.txt,line=3,title=example failed::Expected:%0A    41%0AGot:%0A    42"), "{annotations}");
    assert!(
        annotations
            .lines()
            .last()
            .unwrap_or("")
            .starts_with("::notice title=objgraph-doctest::1 passed, 3 failed"),
        "{annotations}"
    );
}

#[test]
fn update_rewrites_only_failing_output_and_then_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    for page in ["update.txt", "update_crlf.txt"] {
        std::fs::copy(pages().join("run").join(page), dir.path().join(page)).expect("copy");
    }
    let first = run_in(dir.path(), &["--update", "update.txt", "update_crlf.txt"]);
    // Every failure was accepted and the pages now pass: the update succeeded.
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(
        text(&first.stderr).contains("updated 6 examples in 2 pages; the pages now pass"),
        "{}",
        text(&first.stderr)
    );
    let updated = std::fs::read_to_string(dir.path().join("update.txt")).expect("read");
    insta::assert_snapshot!("update_txt", updated);
    let crlf = std::fs::read(dir.path().join("update_crlf.txt")).expect("read");
    assert_eq!(
        text(&crlf),
        "A page with CRLF line ends and a tab.\r\n\r\n\t>>> print(\"new\")\r\n\tnew\r\n\t>>> print(\"a\\n\\nb\")\r\n\ta\r\n\t<BLANKLINE>\r\n\tb\r\n\r\n"
    );
    let second = run_in(dir.path(), &["update.txt", "update_crlf.txt"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stdout));
}

#[test]
fn no_python_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(["--python", "/no/such/python", "run/passing.txt"])
        .current_dir(pages())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr)
            .contains("no Python interpreter found; tried: /no/such/python (--python: not found)"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn no_process_is_left_behind() {
    // A child the example spawned is in the page's process group and dies with it.
    let marker = "299.123";
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("page.txt"),
        format!(">>> import subprocess\n>>> p = subprocess.Popen(['sleep', '{marker}'])\n>>> while True: pass\n"),
    )
    .expect("page");
    let output = run_in(dir.path(), &["--timeout", "1", "page.txt"]);
    assert_eq!(output.status.code(), Some(1));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let left = Command::new("pgrep")
        .args(["-f", &format!("sleep {marker}")])
        .output()
        .expect("pgrep");
    assert!(
        text(&left.stdout).trim().is_empty(),
        "processes left: {}",
        text(&left.stdout)
    );
}

#[test]
fn memory_limit_turns_huge_allocations_into_memory_errors() {
    let output = run(&["--memory-limit", "512", "run/memory.txt"]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert_eq!(
        stdout.lines().last(),
        Some("2 passed, 0 failed"),
        "{stdout}"
    );
}

#[test]
fn our_own_docs_pass() {
    // The user's manual is a set of example pages: CI runs them as a user would.
    let output = run_in(&common::repo_root(), &[]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(
        stdout
            .lines()
            .last()
            .unwrap_or("")
            .contains(" passed, 0 failed"),
        "{stdout}"
    );
}

#[test]
fn configured_setup_code_runs_before_each_page_and_its_failure_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("docs")).expect("docs");
    std::fs::write(dir.path().join("docs/page.txt"), ">>> math.floor(2.5)\n2\n").expect("page");
    std::fs::write(
        dir.path().join("objgraph-doctest.toml"),
        "setup = 'import math'\n",
    )
    .expect("config");
    let output = run_in(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));

    std::fs::write(
        dir.path().join("objgraph-doctest.toml"),
        "setup = 'import no_such_module'\n",
    )
    .expect("config");
    let output = run_in(dir.path(), &[]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("Page could not run: the page's setup code failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ModuleNotFoundError: No module named 'no_such_module'"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("0 passed, 0 failed, 1 not run, 1 page error\n"),
        "{stdout}"
    );
}

#[test]
fn the_profile_key_decides_which_flags_pages_may_name() {
    let project = tempfile::tempdir().expect("project");
    std::fs::create_dir(project.path().join("docs")).expect("docs");
    std::fs::write(
        project.path().join("docs/pi.txt"),
        ">>> 3.14159  # doctest: +NUMBER\n3.14\n",
    )
    .expect("page");
    // To DocFileSuite, +NUMBER is an unknown option: the page cannot be read.
    let output = run_in(project.path(), &["--format", "json", "docs"]);
    assert_eq!(output.status.code(), Some(1), "{}", cli::both(&output));
    assert!(
        text(&output.stdout).contains("has an invalid option: '+NUMBER'"),
        "{}",
        cli::both(&output)
    );
    std::fs::write(
        project.path().join("objgraph-doctest.toml"),
        "profile = \"pytest\"\n",
    )
    .expect("config");
    let output = run_in(project.path(), &["--format", "json", "docs"]);
    assert_eq!(output.status.code(), Some(0), "{}", cli::both(&output));
    assert_eq!(outcomes(&json(&output)), outcome_list(&[(1, "passed")]));
}

#[test]
fn preload_modules_come_from_the_project_root_when_run_from_a_subdirectory() {
    let project = tempfile::tempdir().expect("project");
    let root = project.path();
    std::fs::write(root.join("pyproject.toml"), "[project]\nname = 'p'\n").expect("pyproject");
    std::fs::write(
        root.join("objgraph-doctest.toml"),
        "preload = [\"localmod\"]\n",
    )
    .expect("configuration");
    std::fs::write(root.join("localmod.py"), "WHERE = 'the project root'\n").expect("module");
    let docs = root.join("docs");
    std::fs::create_dir(&docs).expect("docs");
    std::fs::write(
        docs.join("page.txt"),
        ">>> import localmod\n>>> localmod.WHERE\n'the project root'\n",
    )
    .expect("page");
    let output = run_in(&docs, &["--format", "json", "page.txt"]);
    let report = json(&output);
    assert_eq!(
        outcomes(&report),
        outcome_list(&[(1, "passed"), (2, "passed")]),
        "{report}"
    );
    assert_eq!(report["warnings"], serde_json::json!([]), "{report}");
}

/// The output cap, in characters (runner/options.rs).
const OUTPUT_CAP: usize = 8 * 1024 * 1024;

/// CPython's verdict on the page `name` in `dir`: `doctest.testfile`'s failure count.
fn cpython_failures(dir: &Path, name: &str) -> u64 {
    let output = Command::new(common::python_with_objgraph())
        .args([
            "-c",
            "import doctest, sys\n\
             print(doctest.testfile(sys.argv[1], module_relative=False, report=False).failed)",
            name,
        ])
        .current_dir(dir)
        // CPython's report of a lone surrogate cannot be written as UTF-8 otherwise.
        .env("PYTHONIOENCODING", "utf-8:backslashreplace")
        .output()
        .expect("python runs");
    let stdout = text(&output.stdout);
    stdout
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count: {stdout}{}", text(&output.stderr)))
}

#[test]
fn output_that_is_not_sent_exactly_gets_cpythons_verdict_and_is_never_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prints_past_the_cap = format!(">>> print('x' * {OUTPUT_CAP} + 'THE-END')");
    let pages = [
        // Cut at the cap: what was cut matters unless the expected output ends in `...`.
        (
            "cut_exact.txt",
            format!("{prints_past_the_cap}\n{}\n", "x".repeat(OUTPUT_CAP)),
        ),
        (
            "cut_ellipsis.txt",
            format!("{prints_past_the_cap}  # doctest: +ELLIPSIS\nxxx...\n"),
        ),
        // A lone surrogate matches no character of a page, U+FFFD included.
        (
            "surrogate_fffd.txt",
            ">>> print('a\\udcffb')\na\u{FFFD}b\n".to_owned(),
        ),
        (
            "surrogate_ellipsis.txt",
            ">>> print('a\\udcffb')  # doctest: +ELLIPSIS\na...b\n".to_owned(),
        ),
        // An exception's message past the cap is cut too, and judged the same way.
        (
            "huge_exception.txt",
            format!(
                ">>> raise ValueError('x' * {OUTPUT_CAP} * 2)  # doctest: +ELLIPSIS\n\
                 Traceback (most recent call last):\nValueError: xxx...\n>>> 1\n1\n"
            ),
        ),
        // The clock the driver times examples with is its own, not the example's.
        (
            "monkeypatched_clock.txt",
            ">>> import time\n>>> time.perf_counter_ns = lambda: 0\n>>> 1 + 1\n2\n".to_owned(),
        ),
    ];
    for (name, page) in &pages {
        std::fs::write(dir.path().join(name), page).expect("page");
    }
    let output = run_in(dir.path(), &["--format", "json", "."]);
    let report = json(&output);
    for page in report["pages"].as_array().expect("pages") {
        let path = page["path"].as_str().expect("path");
        let name = Path::new(path).file_name().unwrap().to_string_lossy();
        let outcomes: Vec<&str> = page["examples"]
            .as_array()
            .expect("examples")
            .iter()
            .map(|example| example["outcome"].as_str().expect("outcome"))
            .collect();
        let ours = outcomes
            .iter()
            .filter(|outcome| **outcome != "passed")
            .count() as u64;
        assert_eq!(
            ours,
            cpython_failures(dir.path(), &name),
            "{name}: {outcomes:?}"
        );
    }
    assert_eq!(report["summary"]["failed"], 2, "{}", text(&output.stderr));

    // --update must not write what the example did not print.
    let output = run_in(
        dir.path(),
        &["--update", "cut_exact.txt", "surrogate_fffd.txt"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "cut_exact.txt:1:1: example not updated: its output was cut at the output cap"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("surrogate_fffd.txt:1:1: example not updated: it printed lone surrogates"),
        "{stderr}"
    );
    for (name, page) in &pages[..3] {
        if name.starts_with("cut_exact") || name.starts_with("surrogate_fffd") {
            assert_eq!(
                &std::fs::read_to_string(dir.path().join(name)).unwrap(),
                page
            );
        }
    }
}

#[test]
fn the_html_report_follows_the_umask_and_a_symlink() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("page.txt"), ">>> print('secret')\nsecret\n").expect("page");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).expect("tmp");
    std::fs::create_dir(dir.path().join("reports")).expect("reports");
    std::os::unix::fs::symlink("reports/latest.html", dir.path().join("report.html"))
        .expect("symlink");
    for (umask, mode) in [("077", 0o600), ("022", 0o644)] {
        let output = Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_objgraph-doctest"))
            .args(["--python", &common::python_with_objgraph()])
            .args(["--html", "report.html", "page.txt"])
            .current_dir(dir.path())
            .env("TMPDIR", &tmp)
            .output()
            .expect("the binary runs");
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let link = std::fs::symlink_metadata(dir.path().join("report.html")).expect("link");
        assert!(link.is_symlink(), "umask {umask}: the link was replaced");
        let report = dir.path().join("reports/latest.html");
        let written = std::fs::metadata(&report).expect("the link's target");
        assert_eq!(written.permissions().mode() & 0o777, mode, "umask {umask}");
        assert!(std::fs::read_to_string(&report).unwrap().contains("secret"));
    }
}

#[test]
fn the_junit_report_is_well_formed_whatever_the_examples_print() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("page.txt"),
        ">>> print('\\ufffe \\uffff \\x00 \\x1b ]]> </testcase> &amp;')\nsomething else\n",
    )
    .expect("page");
    let output = run_in(dir.path(), &["--format", "junit", "page.txt"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    // CPython's XML parser is the judge of well-formedness.
    let mut parse = Command::new(common::python_with_objgraph())
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as ET\n\
             root = ET.fromstring(sys.stdin.buffer.read())\n\
             print(len(root.iter('failure').__next__().text or ''))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    use std::io::Write as _;
    parse
        .stdin
        .take()
        .expect("stdin")
        .write_all(&output.stdout)
        .expect("write");
    let parsed = parse.wait_with_output().expect("python ends");
    assert!(
        parsed.status.success(),
        "not well-formed: {}\n{}",
        text(&parsed.stderr),
        text(&output.stdout)
    );
}

#[test]
fn an_example_that_closes_our_connection_is_told_what_it_did() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("page.txt"),
        ">>> import os\n>>> os.closerange(3, 65536)\n>>> 1\n1\n",
    )
    .expect("page");
    let output = run_in(dir.path(), &["page.txt"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout
            .contains("as when an example closes its connection (file descriptors it did not open"),
        "{stdout}"
    );
}
