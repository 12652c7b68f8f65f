//! Every report format, as users see it, on one fixed set of pages (`tests/pages/reports/`):
//! passing and failing examples, an exception, objgraph's flags, a timeout, a crash, a page
//! doctest cannot load, a page without examples, Markdown, and a graph drawn by objgraph.
//!
//! The pages are copied into a temporary directory and run there, so the reports name them
//! by relative path; what varies run to run (durations, timestamps, temporary paths,
//! objgraph's `.dot` file names) is redacted before the snapshot is compared.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The fixed pages, copied into a fresh directory.
fn pages_in_temp_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    common::copy_report_pages(dir.path());
    dir
}

fn run_format(dir: &Path, format: &str) -> Output {
    run_with(dir, format, &[], &[])
}

fn run_with(dir: &Path, format: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(extra)
        .args([
            "--python",
            &common::python_with_objgraph(),
            "--color",
            "never",
            "--timeout",
            "2",
            "--jobs",
            "2",
            "--artifacts-dir",
            "artifacts",
            "--format",
            format,
            ".",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("NO_COLOR")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

/// What varies from run to run, replaced by stable placeholders.
fn redact(text: &str, dir: &Path) -> String {
    // The interpreter's path depends on the machine; its origin (`--python`) does not.
    let text = text.replace(&common::python_with_objgraph(), "[PYTHON]");
    common::redact(
        &text,
        dir,
        &[
            // Sizes of files graphviz and objgraph write vary with object addresses.
            (r#""size": [0-9]+"#, r#""size": "[bytes]""#),
            (r#""duration_ms": [0-9.e-]+"#, r#""duration_ms": "[ms]""#),
            (r#"time="[0-9.]+""#, r#"time="[s]""#),
            (r#"timestamp="[^"]+""#, r#"timestamp="[when]""#),
        ],
    )
}

fn snapshot_of(format: &str) -> String {
    let dir = pages_in_temp_dir();
    let output = run_format(dir.path(), format);
    assert_eq!(
        output.status.code(),
        Some(1),
        "some examples fail on purpose; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    redact(&String::from_utf8_lossy(&output.stdout), dir.path())
}

#[test]
fn human_report() {
    insta::assert_snapshot!("human", snapshot_of("human"));
}

#[test]
fn json_report() {
    let text = snapshot_of("json");
    serde_json::from_str::<serde_json::Value>(&text).expect("the redacted report is still JSON");
    insta::assert_snapshot!("json", text);
}

#[test]
fn junit_report() {
    insta::assert_snapshot!("junit", snapshot_of("junit"));
}

#[test]
fn github_report() {
    insta::assert_snapshot!("github", snapshot_of("github"));
}

/// The Markdown job summary, as GitHub Actions would run it: links to the pages' lines in the
/// repository (the checkout is the parent of the current directory, so links carry the
/// subfolder), appended after what an earlier step wrote.
#[test]
fn markdown_summary() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("docs");
    std::fs::create_dir(&dir).expect("docs");
    common::copy_report_pages(&dir);
    let summary = root.path().join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").expect("summary file");
    let summary_arg = summary.to_string_lossy().into_owned();
    let workspace = root.path().to_string_lossy().into_owned();
    let output = run_with(
        &dir,
        "github",
        &["--summary-markdown", &summary_arg],
        &[
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "octo/docs"),
            ("GITHUB_SHA", "0123abc"),
            ("GITHUB_WORKSPACE", &workspace),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = std::fs::read_to_string(&summary).expect("the summary was written");
    assert!(text.starts_with("earlier step\n## objgraph-doctest: failed\n"));
    insta::assert_snapshot!("summary", redact(&text, &dir));
}
