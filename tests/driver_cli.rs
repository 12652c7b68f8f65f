//! The built binary on pages that attack the tool's own Python code, judged against
//! CPython's `python -m doctest` (the same examples fail in both); files libraries put in
//! the temp directory are the page's artifacts; a zygote that keeps being stopped ends
//! the run with exit code 2 and one message.

#[path = "common/cli.rs"]
mod cli;
mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

fn ours(dir: &Path, python: &str, args: &[&str]) -> Output {
    cli::objgraph_doctest_with(python, dir, dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(output: &Output) -> String {
    cli::both(output)
}

/// The `File "page.txt", line N` lines of a doctest-style report: the failing examples.
fn failing_lines(report: &str) -> BTreeSet<String> {
    report
        .lines()
        .filter(|line| line.starts_with("File \"page.txt\", line "))
        .map(|line| line.split(',').take(2).collect::<String>())
        .collect()
}

/// Examples that replace what a driver would use, print lone surrogates and rebind
/// sys.stdout; CPython's doctest decides which fail.
const HOSTILE: &str = r#"
>>> import json, io, sys, socket
>>> json.dumps = json.loads = None
>>> json.JSONEncoder.encode = None
>>> socket.socket.sendall = None
>>> print('after json')
after json
>>> print('lone \ud800 surrogate')
lone ? surrogate
>>> print('lone \udc80 surrogate')  # doctest: +ELLIPSIS
lone ... surrogate
>>> '\udcff'
'\udcff'
>>> sys.stdout = io.StringIO()
>>> print('captured elsewhere')
captured elsewhere
>>> print('nothing')
>>> 1 + 1
2
"#;

#[test]
fn hostile_examples_get_cpythons_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("page.txt"), HOSTILE).unwrap();
    let python = common::python();
    let oracle = Command::new(&python)
        .args(["-m", "doctest", "page.txt"])
        // CPython's own report cannot print a lone surrogate to a strict UTF-8 stdout.
        .env("PYTHONIOENCODING", "utf-8:backslashreplace")
        .current_dir(dir.path())
        .output()
        .expect("python -m doctest runs");
    let expected = failing_lines(&text(&oracle));
    assert!(
        !expected.is_empty(),
        "the oracle found no failure: {}",
        text(&oracle)
    );
    for extra in [&[][..], &["--no-fork"][..]] {
        let mut args = extra.to_vec();
        args.push("page.txt");
        let output = ours(dir.path(), &python, &args);
        let report = text(&output);
        assert_eq!(failing_lines(&report), expected, "{extra:?}\n{report}");
        assert!(!report.contains("protocol error"), "{report}");
        assert_eq!(output.status.code(), Some(1), "{report}");
    }
}

#[test]
fn closing_sys_stdout_stops_the_page_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("page.txt"),
        ">>> import sys\n>>> sys.stdout.close()\n>>> 1 + 1\n2\n",
    )
    .unwrap();
    let output = ours(dir.path(), &common::python(), &["page.txt"]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("closed sys.stdout"), "{report}");
    assert!(report.contains("I/O operation on closed file"), "{report}");
    assert!(
        report.contains("1 passed, 0 failed, 1 crashed, 1 not run"),
        "{report}"
    );
}

#[test]
fn files_in_the_temp_directory_are_artifacts_of_the_page() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("page.txt"),
        ">>> import objgraph\n\
         >>> objgraph.show_refs([[]])  # doctest: +ELLIPSIS\nGraph written to ...\n\
         >>> import tempfile\n\
         >>> _ = tempfile.NamedTemporaryFile(suffix='.txt', delete=False).write(b'hi')\n",
    )
    .unwrap();
    let output = ours(
        dir.path(),
        &common::python_with_objgraph(),
        &[
            "--format",
            "json",
            "--artifacts-dir",
            "artifacts",
            "page.txt",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", text(&output)));
    let names: Vec<String> = report["pages"][0]["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .flat_map(|example| example["artifacts"].as_array().cloned().unwrap_or_default())
        .map(|artifact| artifact["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        names
            .iter()
            .any(|name| name.starts_with(".tmp/") && name.ends_with(".dot")),
        "{names:?}\n{}",
        text(&output)
    );
    assert!(
        names
            .iter()
            .any(|name| name.starts_with(".tmp/") && name.ends_with(".txt")),
        "{names:?}"
    );
    let copies: Vec<String> = std::fs::read_dir(dir.path().join("artifacts/page.txt"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        copies
            .iter()
            .any(|name| name.starts_with("L2-") && name.ends_with(".dot")),
        "{copies:?}"
    );
}

#[test]
fn a_zygote_that_keeps_being_stopped_ends_the_run_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["-j".to_owned(), "1".to_owned()];
    for index in 0..6 {
        let name = format!("p{index}.txt");
        std::fs::write(
            dir.path().join(&name),
            // The page ends only once the zygote is stopped: the next page then surely
            // finds it stopped, instead of running in a page forked ahead just before.
            ">>> import os, signal, time; os.kill(os.getppid(), signal.SIGSTOP)\n\
             >>> while open('/proc/%d/stat' % os.getppid()).read().rsplit(')', 1)[1].split()[0] != 'T': time.sleep(0.001)\n",
        )
        .unwrap();
        args.push(name);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = std::time::Instant::now();
    let output = ours(dir.path(), &common::python(), &args);
    let report = text(&output);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{report}"
    );
    assert_eq!(output.status.code(), Some(2), "{report}");
    assert!(
        report.contains("error: the Python zygote was lost: it was stopped"),
        "{report}"
    );
    assert_eq!(
        report.matches("objgraph-doctest: error:").count(),
        1,
        "{report}"
    );
}

#[test]
fn a_page_process_that_dies_before_it_connects_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // A preloaded module that makes every fork of the zygote die before it connects.
    std::fs::write(
        dir.path().join("killer.py"),
        "import os, sys\n\
         def die():\n    sys.stderr.write('killer: no page for you\\n'); sys.stderr.flush(); os._exit(9)\n\
         os.register_at_fork(after_in_child=die)\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("objgraph-doctest.toml"),
        "preload = [\"killer\"]\n",
    )
    .unwrap();
    // Three pages on one job: the second and third start in pages forked ahead, which died
    // long before their set-up is written to them.
    for name in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(dir.path().join(name), ">>> 1 + 1\n2\n").unwrap();
    }
    let started = std::time::Instant::now();
    let output = ours(
        dir.path(),
        &common::python(),
        &["-j", "1", "a.txt", "b.txt", "c.txt"],
    );
    let report = text(&output);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{report}"
    );
    assert_eq!(
        report
            .matches("the page process exited with status 9 before it connected")
            .count(),
        3,
        "{report}"
    );
    assert!(report.contains("killer: no page for you"), "{report}");
    assert!(!report.contains("Broken pipe"), "{report}");
}
