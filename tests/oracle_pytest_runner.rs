//! Differential test of the pytest profile against pytest itself: each fixture project under
//! `tests/pages/pytest/` (pytest.ini, pyproject.toml, setup.cfg and tox.ini configurations,
//! `--doctest-glob='*.md'`, `doctest_optionflags`, `pythonpath`, a page importing a project
//! module, `pytest.skip()`, a failure followed by more examples, continue-on-failure, and a
//! project nested under a parent's pytest.ini) is copied to a fresh directory and run twice:
//! by pytest (pinned, [`PYTEST`], in a venv cached under `target/`) with the recording plugin
//! `tests/oracle/pytest_recorder.py`, which writes each example's verdict, and by our
//! `--format json` with no configuration of ours. Per-example verdicts (file, line, outcome,
//! skip reason) must be identical, and every page pytest tests must be in our `pytest`
//! profile; the pages pytest does not collect stay in the `doctest` profile.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const PYTEST: &str = "8.3.5";

/// (file relative to the project, line of the `>>>`) -> (outcome, skip reason).
type Verdicts = BTreeMap<(String, u64), (String, Option<String>)>;

fn pytest_python() -> String {
    common::cached_venv("test-venv-pytest", &[&format!("pytest=={PYTEST}")])
}

/// A copy of fixture `name` in a fresh directory (nothing of the runs lands in the tree).
fn project(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = common::repo_root().join("tests/pages/pytest").join(name);
    let target = dir.path().join(name);
    copy_tree(&source, &target);
    (dir, target)
}

fn copy_tree(source: &Path, target: &Path) {
    std::fs::create_dir_all(target).expect("mkdir");
    for entry in std::fs::read_dir(source).expect("fixture dir") {
        let entry = entry.expect("entry");
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &target.join(entry.file_name()));
        } else {
            std::fs::copy(&path, target.join(entry.file_name())).expect("copy");
        }
    }
}

/// pytest's verdicts for the project at `root`, run from `root` as `pytest` (the console
/// script: the project is not on `sys.path` unless its configuration says so).
fn pytest_verdicts(root: &Path) -> Verdicts {
    let python = pytest_python();
    let pytest = Path::new(&python).with_file_name("pytest");
    let record = root.parent().expect("parent").join("recorded.jsonl");
    let output = Command::new(&pytest)
        .args(["-q", "-p", "pytest_recorder"])
        .current_dir(root)
        .env("PYTHONPATH", common::repo_root().join("tests/oracle"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTEST_RECORDER_OUT", &record)
        .env_remove("PYTEST_ADDOPTS")
        .output()
        .expect("pytest runs");
    // Exit status 1 is "tests failed", which some fixtures mean to do.
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "pytest failed in {}: {}{}",
        root.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&record).unwrap_or_default();
    text.lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line).expect("recorder writes JSON");
            (
                (
                    record["file"].as_str().expect("file").to_owned(),
                    record["line"].as_u64().expect("line"),
                ),
                (
                    record["outcome"].as_str().expect("outcome").to_owned(),
                    record["reason"].as_str().map(str::to_owned),
                ),
            )
        })
        .collect()
}

/// Our JSON report for the project at `root`, run from `root` with pytest's Python.
fn our_report(root: &Path) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(["--format", "json", "--python", &pytest_python(), "."])
        .current_dir(root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PYTEST_ADDOPTS")
        .env_remove("VIRTUAL_ENV")
        .output()
        .expect("objgraph-doctest runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "objgraph-doctest failed in {}: {}",
        root.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON report")
}

/// Our verdicts for the pages in the `pytest` profile, and the profile of every page.
fn our_verdicts(report: &Value) -> (Verdicts, BTreeMap<String, String>) {
    let mut verdicts = Verdicts::new();
    let mut profiles = BTreeMap::new();
    for page in report["pages"].as_array().expect("pages") {
        let path = page["path"].as_str().expect("path").to_owned();
        let profile = page["profile"].as_str().expect("profile").to_owned();
        profiles.insert(path.clone(), profile.clone());
        if profile != "pytest" {
            continue;
        }
        for example in page["examples"].as_array().expect("examples") {
            verdicts.insert(
                (path.clone(), example["line"].as_u64().expect("line")),
                (
                    example["outcome"].as_str().expect("outcome").to_owned(),
                    example["skip_reason"].as_str().map(str::to_owned),
                ),
            );
        }
    }
    (verdicts, profiles)
}

fn compare(name: &str) -> BTreeMap<String, String> {
    let (_dir, root) = project(name);
    let theirs = pytest_verdicts(&root);
    assert!(!theirs.is_empty(), "pytest tested nothing in {name}");
    let report = our_report(&root);
    let (ours, profiles) = our_verdicts(&report);
    assert_eq!(
        ours, theirs,
        "{name}: our verdicts (left) differ from pytest's (right)"
    );
    profiles
}

#[test]
fn pytest_ini_with_markdown_glob_and_optionflags() {
    let profiles = compare("ini_md");
    assert_eq!(profiles["docs/guide.md"], "pytest");
}

#[test]
fn pyproject_with_pythonpath_and_continue_on_failure() {
    compare("pyproject_continue");
}

#[test]
fn setup_cfg_and_pytest_skip() {
    compare("setup_cfg_skip");
}

#[test]
fn tox_ini_with_the_default_glob() {
    let profiles = compare("tox_default");
    // pytest does not collect other.txt: it is read as DocFileSuite reads it.
    assert_eq!(profiles["other.txt"], "doctest");
    assert_eq!(profiles["test_default.txt"], "pytest");
}

#[test]
fn a_parent_pytest_ini_above_a_configured_project_is_not_used() {
    let (_dir, outer) = project("nested");
    let root = outer.join("inner");
    let theirs = pytest_verdicts(&root);
    let report = our_report(&root);
    let (ours, profiles) = our_verdicts(&report);
    assert_eq!(
        ours, theirs,
        "our verdicts (left) differ from pytest's (right)"
    );
    // The inner pyproject.toml decides: *.txt only, and no --doctest-continue-on-failure.
    assert_eq!(profiles["docs/notes.md"], "doctest");
    assert_eq!(
        theirs[&("docs/page.txt".to_owned(), 6)].0,
        "not-run",
        "pytest stops at the first failure"
    );
}
