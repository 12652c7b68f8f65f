//! The editor resolves a document's profile as the CLI does: a Markdown page that the
//! project's pytest configuration collects (`--doctest-glob=*.md`) is read as pytest reads
//! it (one docstring, fences ignored), with pytest's default flags and its stop at the first
//! failure, and the diagnostics are the CLI's verdicts.

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::path::Path;
use std::time::Duration;

use lsp_client::LspClient;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

/// A project of one page and its configuration files, judged by the CLI and the editor.
struct Project {
    dir: tempfile::TempDir,
    page: &'static str,
    text: &'static str,
}

impl Project {
    fn new(files: &[(&str, &str)], page: &'static str, text: &'static str) -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, contents) in files {
            std::fs::write(dir.path().join(name), contents).expect("configuration file");
        }
        std::fs::write(dir.path().join(page), text).expect("page");
        Project { dir, page, text }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The CLI's JSON report of the page's run.
    fn cli_page_report(&self) -> Value {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
            .args(["--format", "json", "--python", &common::python(), self.page])
            .current_dir(self.path())
            .env_remove("PYTEST_ADDOPTS")
            .output()
            .expect("the CLI runs");
        let report: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
        report["pages"][0].clone()
    }

    /// The 1-based lines of the editor's `failed` diagnostics for the page.
    fn editor_failed_lines(&self, language: &str) -> Vec<u64> {
        let settings = json!({
            "runOn": "change", "execute": true, "python": common::python(), "debounceMs": 0
        });
        let mut client = LspClient::start(self.path(), settings);
        client.initialize(self.path());
        let uri = format!("file://{}", self.path().join(self.page).display());
        client.open(&uri, language, self.text);
        let diagnostics = client
            .diagnostics_where(&uri, WAIT, |found| !found.is_empty())
            .expect("diagnostics");
        let failed = diagnostics
            .iter()
            .filter(|diagnostic| diagnostic["code"] == "failed")
            .map(|diagnostic| diagnostic["range"]["start"]["line"].as_u64().unwrap_or(0) + 1)
            .collect();
        assert!(client.shutdown().success());
        failed
    }
}

/// Outside a fence: a pytest example, not one for DocFileSuite's Markdown reading. NUMBER is
/// on (doctest_optionflags); the failure at line 7 stops the page, so line 10 does not run.
const PAGE: &str =
    "# Guide\n\n>>> 22 / 7\n3.14\n\n```python\n>>> 1 + 1\n3\n\n>>> print('after')\nafter\n```\n";

#[test]
fn a_pytest_page_has_the_clis_verdicts_in_the_editor() {
    let project = Project::new(
        &[(
            "pytest.ini",
            "[pytest]\naddopts = --doctest-glob=*.md\ndoctest_optionflags = NUMBER\n",
        )],
        "guide.md",
        PAGE,
    );
    let page = project.cli_page_report();
    assert_eq!(page["profile"], "pytest", "{page}");
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

    // The editor marks a failure on its expected output: line 8, under the `>>>` of line 7.
    // The example outside the fence passed (NUMBER); the one after the failure never ran.
    assert_eq!(project.editor_failed_lines("markdown"), [8]);
}

/// A Sphinx page: its `testsetup` runs before its group's tests, in the CLI and the editor.
const SPHINX_PAGE: &str = ".. testsetup::\n\n   x = 41\n\n.. doctest::\n\n   >>> x + 1\n   42\n\n\
                           .. doctest::\n\n   >>> x\n   40\n";

#[test]
fn a_sphinx_page_with_a_testsetup_has_the_clis_verdicts_in_the_editor() {
    let project = Project::new(
        &[("conf.py", "extensions = ['sphinx.ext.doctest']\n")],
        "index.rst",
        SPHINX_PAGE,
    );
    let page = project.cli_page_report();
    assert_eq!(page["profile"], "sphinx", "{page}");
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
    assert!(lines_with("passed").contains(&7), "{page}");
    assert_eq!(lines_with("failed"), [12], "{page}");

    // On its expected output, line 13, as for the CLI's failure of the example at line 12.
    assert_eq!(project.editor_failed_lines("restructuredtext"), [13]);
}

/// pytest-doctestplus with a wide FLOAT_CMP tolerance from pytest.ini: 3.2 is close enough
/// to 3.0 (rtol 0.1) in the CLI and the editor; 4.0 is not.
const FLOAT_PAGE: &str =
    ">>> 3.2  # doctest: +FLOAT_CMP\n3.0\n\n>>> 4.0  # doctest: +FLOAT_CMP\n3.0\n";

#[test]
fn the_editor_compares_float_cmp_with_the_projects_tolerance() {
    let project = Project::new(
        &[(
            "pytest.ini",
            "[pytest]\ndoctest_plus = enabled\ndoctest_plus_rtol = 0.1\n\
             addopts = --doctest-glob=*.txt --doctest-continue-on-failure\n",
        )],
        "page.txt",
        FLOAT_PAGE,
    );
    let page = project.cli_page_report();
    assert_eq!(page["profile"], "doctestplus", "{page}");
    let outcomes: Vec<&str> = page["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .map(|example| example["outcome"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(outcomes, ["passed", "failed"], "{page}");
    // The failure of line 4 is marked on its expected output, line 5.
    assert_eq!(project.editor_failed_lines("plaintext"), [5]);
}
