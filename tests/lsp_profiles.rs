//! The editor resolves a document's profile as the CLI does: a Markdown page that the
//! project's pytest configuration collects (`--doctest-glob=*.md`) is read as pytest reads
//! it (one docstring, fences ignored), with pytest's default flags and its stop at the first
//! failure, and the diagnostics are the CLI's verdicts.

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::time::Duration;

use lsp_client::LspClient;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

/// Outside a fence: a pytest example, not one for DocFileSuite's Markdown reading. NUMBER is
/// on (doctest_optionflags); the failure at line 7 stops the page, so line 10 does not run.
const PAGE: &str =
    "# Guide\n\n>>> 22 / 7\n3.14\n\n```python\n>>> 1 + 1\n3\n\n>>> print('after')\nafter\n```\n";

#[test]
fn a_pytest_page_has_the_clis_verdicts_in_the_editor() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pytest.ini"),
        "[pytest]\naddopts = --doctest-glob=*.md\ndoctest_optionflags = NUMBER\n",
    )
    .expect("pytest.ini");
    let path = dir.path().join("guide.md");
    std::fs::write(&path, PAGE).expect("page");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args([
            "--format",
            "json",
            "--python",
            &common::python(),
            "guide.md",
        ])
        .current_dir(dir.path())
        .env_remove("PYTEST_ADDOPTS")
        .output()
        .expect("the CLI runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let page = &report["pages"][0];
    assert_eq!(page["profile"], "pytest", "{report}");
    let outcomes: Vec<(u64, &str)> = page["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .map(|example| {
            (
                example["line"].as_u64().unwrap_or(0),
                example["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(outcomes, [(3, "passed"), (7, "failed"), (10, "not-run")]);

    let settings =
        json!({"runOn": "change", "execute": true, "python": common::python(), "debounceMs": 0});
    let mut client = LspClient::start(dir.path(), settings);
    client.initialize(dir.path());
    let uri = format!("file://{}", path.display());
    client.open(&uri, "markdown", PAGE);
    let diagnostics = client
        .diagnostics_where(&uri, WAIT, |found| !found.is_empty())
        .expect("diagnostics");
    let failed: Vec<u64> = diagnostics
        .iter()
        .filter(|diagnostic| diagnostic["code"] == "failed")
        .map(|diagnostic| diagnostic["range"]["start"]["line"].as_u64().unwrap_or(0) + 1)
        .collect();
    // The editor marks a failure on its expected output: line 8, under the `>>>` of line 7.
    // The example outside the fence passed (NUMBER); the one after the failure never ran.
    assert_eq!(failed, [8], "{diagnostics:?}");
    assert!(client.shutdown().success());
}

/// A Sphinx page: its `testsetup` runs before its group's tests, in the CLI and the editor.
const SPHINX_PAGE: &str = ".. testsetup::\n\n   x = 41\n\n.. doctest::\n\n   >>> x + 1\n   42\n\n\
                           .. doctest::\n\n   >>> x\n   40\n";

#[test]
fn a_sphinx_page_with_a_testsetup_has_the_clis_verdicts_in_the_editor() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("conf.py"),
        "extensions = ['sphinx.ext.doctest']\n",
    )
    .expect("conf.py");
    let path = dir.path().join("index.rst");
    std::fs::write(&path, SPHINX_PAGE).expect("page");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args([
            "--format",
            "json",
            "--python",
            &common::python(),
            "index.rst",
        ])
        .current_dir(dir.path())
        .output()
        .expect("the CLI runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let page = &report["pages"][0];
    assert_eq!(page["profile"], "sphinx", "{report}");
    let lines_with = |outcome: &str| -> Vec<u64> {
        page["examples"]
            .as_array()
            .expect("examples")
            .iter()
            .filter(|example| example["outcome"] == outcome)
            .map(|example| example["line"].as_u64().unwrap_or(0))
            .collect()
    };
    // Without the setup, line 7 would raise NameError: it passes, line 12 fails.
    assert!(lines_with("passed").contains(&7), "{report}");
    assert_eq!(lines_with("failed"), [12], "{report}");

    let settings =
        json!({"runOn": "change", "execute": true, "python": common::python(), "debounceMs": 0});
    let mut client = LspClient::start(dir.path(), settings);
    client.initialize(dir.path());
    let uri = format!("file://{}", path.display());
    client.open(&uri, "restructuredtext", SPHINX_PAGE);
    let diagnostics = client
        .diagnostics_where(&uri, WAIT, |found| !found.is_empty())
        .expect("diagnostics");
    let failed: Vec<u64> = diagnostics
        .iter()
        .filter(|diagnostic| diagnostic["code"] == "failed")
        .map(|diagnostic| diagnostic["range"]["start"]["line"].as_u64().unwrap_or(0) + 1)
        .collect();
    // On its expected output, line 13, as for the CLI's failure of the example at line 12.
    assert_eq!(failed, [13], "{diagnostics:?}");
    assert!(client.shutdown().success());
}
