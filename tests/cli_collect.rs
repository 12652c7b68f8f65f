//! The built binary's `--collect-only` on real pages: JSON and human reports, exit codes,
//! and errors that say what and where.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn objgraph_doctest(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn fixtures() -> std::path::PathBuf {
    common::repo_root().join("tests").join("pages")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn json_report_of_a_clean_page() {
    let output = objgraph_doctest(
        &["--collect-only", "--format", "json", "cli/simple.txt"],
        &fixtures(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    insta::assert_json_snapshot!("collect_simple_json", report);
}

#[test]
fn broken_page_exits_1_with_cpythons_message() {
    let output = objgraph_doctest(&["--collect-only", "cli/broken.txt"], &fixtures());
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("collect_broken_human", stdout(&output));
}

#[test]
fn directories_are_walked_in_a_stable_order() {
    let output = objgraph_doctest(&["--collect-only", "--format", "json", "cli"], &fixtures());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let paths: Vec<&str> = report["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .map(|page| page["path"].as_str().expect("path"))
        .collect();
    assert_eq!(paths, ["cli/broken.txt", "cli/simple.txt"]);
}

#[test]
fn missing_path_is_a_usage_error() {
    let output = objgraph_doctest(&["--collect-only", "no/such/dir"], &fixtures());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no/such/dir: no such file or directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unknown_option_flag_is_a_usage_error() {
    let output = objgraph_doctest(&["--collect-only", "-o", "ELIPSIS", "cli"], &fixtures());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("unknown option flag \"ELIPSIS\""),
        "{}",
        stderr(&output)
    );
}

#[test]
fn configuration_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("docs")).expect("docs");
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = 'x'\n\n[tool.objgraph-doctest]\noptionflags = ['ELLIPSIS']\njobs = 0\n",
    )
    .expect("config");
    let output = objgraph_doctest(&["--collect-only"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("pyproject.toml:6:8: jobs must be at least 1"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn configured_flags_are_accepted_in_directives() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("docs")).expect("docs");
    std::fs::write(
        dir.path().join("objgraph-doctest.toml"),
        "[flags.ADDRESSES_VARY]\nreplace = [{ pattern = '0x[0-9a-f]+', with = '0x?' }]\n",
    )
    .expect("config");
    std::fs::write(
        dir.path().join("docs/a.txt"),
        ">>> object()  # doctest: +ADDRESSES_VARY\n<object object at 0x7f>\n",
    )
    .expect("page");
    let output = objgraph_doctest(&["--collect-only", "--format", "json"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        report["pages"][0]["examples"][0]["options"]["ADDRESSES_VARY"],
        true
    );
}

#[test]
fn invalid_utf8_is_located_by_byte_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("latin1.txt"), b">>> 'caf\xe9'\n").expect("page");
    let output = objgraph_doctest(&["--collect-only", "latin1.txt"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        out.contains("latin1.txt:1:9: error: latin1.txt is not valid UTF-8"),
        "{out}"
    );
    assert!(out.contains("byte offset 8"), "{out}");
}

#[test]
fn a_closed_stdout_is_a_quiet_exit() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(["--collect-only", "--format", "json", "cli"])
        .current_dir(fixtures())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

#[test]
fn sphinx_examples_say_their_group_and_role() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("conf.py"),
        "extensions = ['sphinx.ext.doctest']\n",
    )
    .expect("conf.py");
    std::fs::write(
        dir.path().join("index.rst"),
        ".. testsetup:: g\n\n   x = 1\n\n.. doctest:: g\n\n   >>> x\n   1\n\n\
         .. testcleanup:: g\n\n   del x\n\n>>> 1 + 1\n2\n",
    )
    .expect("page");
    let output = objgraph_doctest(
        &["--collect-only", "--format", "json", "index.rst"],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let examples: Vec<(u64, &str, &str)> = report["pages"][0]["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .map(|example| {
            (
                example["line"].as_u64().unwrap_or(0),
                example["group"].as_str().unwrap_or("-"),
                example["role"].as_str().unwrap_or("test"),
            )
        })
        .collect();
    assert_eq!(
        examples,
        [
            (3, "g", "setup"),
            (7, "g", "test"),
            (12, "g", "cleanup"),
            (14, "default", "test")
        ]
    );
}
