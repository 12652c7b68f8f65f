//! Per-example differential test of the `doctestplus` profile against pytest-doctestplus
//! itself, on the fixture pages of `tests/pages/doctestplus/` (every directive and flag the
//! profile supports, in `.rst`, `.md` and `.txt` pages).
//!
//! The pages are copied to a temporary project (a `pytest.ini` and an `objgraph-doctest.toml`
//! with `profile = "doctestplus"`, both with doctestplus's default `doctest_optionflags`, so
//! no configuration of this repository applies), then
//! run twice: by `pytest --doctest-plus --doctest-rst --doctest-glob='*.md'
//! --doctest-glob='*.txt'` (pinned versions, in the cached venv) with a plugin that records
//! each example doctest reports (`tests/oracle/doctestplus_recorder.py`: file, line, passed or
//! failed; skipped examples are not reported), and by our binary with `--format json` using
//! the same interpreter. pytest stops a file at its first failure (doctestplus's default), so
//! each file is compared up to its first failure. The verdicts must be identical, example by
//! example, and every skipped example of ours must be one pytest did not report. The same
//! comparison runs on generated pages (seeded): directives with right and wrong comment
//! characters, spacing, `::` or not, arguments (`win32`, modules present and missing), before
//! examples alone, one after the other, indented, comment-only or marked REMOTE_DATA.

#[path = "common/cli.rs"]
mod cli;
mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use serde_json::Value;

const PYTEST: &str = "8.3.5";
const DOCTESTPLUS: &str = "1.7.1";

fn python_with_doctestplus() -> String {
    common::cached_venv(
        "test-venv-doctestplus",
        &[
            &format!("pytest=={PYTEST}"),
            &format!("pytest-doctestplus=={DOCTESTPLUS}"),
        ],
    )
}

/// Verdicts by file name: `(line, outcome)` in the order run, up to the first failure.
type Verdicts = BTreeMap<String, Vec<(u64, String)>>;

fn up_to_first_failure(verdicts: &mut Verdicts) {
    for examples in verdicts.values_mut() {
        if let Some(first) = examples.iter().position(|(_, outcome)| outcome == "failed") {
            examples.truncate(first + 1);
        }
    }
}

fn copy_pages(into: &Path) {
    let pages = common::repo_root()
        .join("tests")
        .join("pages")
        .join("doctestplus");
    for entry in std::fs::read_dir(&pages).expect("fixture pages") {
        let path = entry.expect("fixture entry").path();
        let name = path.file_name().expect("file name");
        std::fs::copy(&path, into.join(name)).expect("copy a fixture page");
    }
    write_project_config(into);
}

fn write_project_config(into: &Path) {
    // doctestplus's default doctest_optionflags, written out on both sides.
    std::fs::write(
        into.join("pytest.ini"),
        "[pytest]\ndoctest_optionflags = ELLIPSIS NORMALIZE_WHITESPACE\n",
    )
    .expect("pytest.ini");
    std::fs::write(
        into.join("objgraph-doctest.toml"),
        "profile = \"doctestplus\"\noptionflags = [\"ELLIPSIS\", \"NORMALIZE_WHITESPACE\"]\n",
    )
    .expect("objgraph-doctest.toml");
}

fn pytest_verdicts(python: &str, project: &Path) -> Verdicts {
    let record = project.join("record.jsonl");
    let output = Command::new(python)
        .args([
            "-m",
            "pytest",
            "-p",
            "doctestplus_recorder",
            "-p",
            "no:cacheprovider",
            "--doctest-plus",
            "--doctest-rst",
            "--doctest-glob=*.md",
            "--doctest-glob=*.txt",
            "-q",
        ])
        .current_dir(project)
        .env(
            "PYTHONPATH",
            common::repo_root().join("tests").join("oracle"),
        )
        .env("DOCTESTPLUS_RECORD", &record)
        .output()
        .expect("pytest runs");
    // 0: all passed, 1: some failed; anything else is a collection or usage error.
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "pytest failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut verdicts = Verdicts::new();
    let text = std::fs::read_to_string(&record).expect("the recorder wrote its file");
    for line in text.lines() {
        let entry: Value = serde_json::from_str(line).expect("a JSON line");
        verdicts
            .entry(entry["file"].as_str().expect("file").to_owned())
            .or_default()
            .push((
                entry["line"].as_u64().expect("line"),
                entry["outcome"].as_str().expect("outcome").to_owned(),
            ));
    }
    up_to_first_failure(&mut verdicts);
    verdicts
}

/// Our verdicts, and the examples we skipped.
fn our_verdicts(python: &str, project: &Path) -> (Verdicts, Vec<(String, u64)>) {
    let tmpdir = tempfile::tempdir().expect("tmpdir");
    let output = cli::objgraph_doctest_with(python, project, tmpdir.path())
        .args(["--format", "json", "."])
        .output()
        .expect("objgraph-doctest runs");
    let report = cli::json(&output);
    let mut verdicts = Verdicts::new();
    let mut skipped = Vec::new();
    for page in report["pages"].as_array().expect("pages") {
        let path = page["path"].as_str().expect("path");
        let file = Path::new(path)
            .file_name()
            .map_or(path.to_owned(), |name| name.to_string_lossy().into_owned());
        assert!(
            page["errors"].as_array().is_none_or(Vec::is_empty),
            "{file}: {}",
            page["errors"]
        );
        for example in page["examples"].as_array().expect("examples") {
            let line = example["line"].as_u64().expect("line");
            match example["outcome"].as_str().expect("outcome") {
                "skipped" => skipped.push((file.clone(), line)),
                outcome => verdicts
                    .entry(file.clone())
                    .or_default()
                    .push((line, outcome.to_owned())),
            }
        }
    }
    up_to_first_failure(&mut verdicts);
    (verdicts, skipped)
}

/// Runs both and compares; returns (examples run, failed, skipped).
fn compare_runs(python: &str, project: &Path) -> (usize, usize, usize) {
    let started = std::time::Instant::now();
    let theirs = pytest_verdicts(python, project);
    let pytest_done = started.elapsed();
    let (ours, skipped) = our_verdicts(python, project);
    eprintln!(
        "pytest-doctestplus took {pytest_done:.1?}, objgraph-doctest {:.1?}",
        started.elapsed() - pytest_done
    );
    for (file, line) in &skipped {
        let reported = theirs
            .get(file)
            .is_some_and(|examples| examples.iter().any(|(at, _)| at == line));
        assert!(
            !reported,
            "{file}:{line}: we skipped it, pytest-doctestplus ran it"
        );
    }
    for (file, examples) in &theirs {
        assert_eq!(
            ours.get(file),
            Some(examples),
            "{file}: (line, outcome) of the examples run, ours then pytest-doctestplus's"
        );
    }
    assert_eq!(ours.len(), theirs.len(), "the same files ran examples");
    let ran: usize = theirs.values().map(Vec::len).sum();
    let failed = theirs
        .values()
        .flatten()
        .filter(|(_, outcome)| outcome == "failed")
        .count();
    (ran, failed, skipped.len())
}

#[test]
fn verdicts_are_doctestplus_verdicts() {
    let python = python_with_doctestplus();
    let project = tempfile::tempdir().expect("project dir");
    copy_pages(project.path());
    let (ran, failed, skipped) = compare_runs(&python, project.path());
    eprintln!("{ran} examples ran ({failed} failed), {skipped} skipped");
    assert!(
        ran >= 30 && failed >= 2 && skipped >= 15,
        "the fixtures exercise little: {ran} ran, {failed} failed, {skipped} skipped"
    );
}

// ---------------------------------------------------------------------------------------------
// Generated pages: directives in every spelling, against doctestplus's skips.

const SEED: u64 = 0xd1_5c1e;
const GENERATED_PAGES: usize = 120;

fn pick(rng: &mut rand_chacha::ChaCha8Rng, pool: &[&'static str]) -> &'static str {
    pool.choose(rng).copied().unwrap_or("")
}

/// One page of prose, blank lines, directives (right and wrong comment characters, spacing,
/// arguments) and passing examples (alone or one after the other, indented, comment-only,
/// REMOTE_DATA), each example's output followed by a blank line so that none fails.
fn generated_page(rng: &mut rand_chacha::ChaCha8Rng, extension: &str) -> String {
    let own = match extension {
        "txt" => "#",
        "md" => "<!--",
        _ => "..",
    };
    let mut page = String::new();
    let mut value = 0;
    for _ in 0..rng.random_range(4..16) {
        match rng.random_range(0..10) {
            0 => page.push_str(pick(rng, &["Some prose.\n", "\n", "```python\n", "```\n"])),
            1..=4 => {
                let comment = if rng.random_bool(0.85) {
                    own
                } else {
                    pick(rng, &["..", "#", "<!--", "%"])
                };
                let space = pick(rng, &[" ", " ", " ", "  ", "\t", ""]);
                let name = pick(
                    rng,
                    &[
                        "doctest-skip",
                        "doctest-skip",
                        "doctest-skip-all",
                        "doctest-requires",
                        "doctest-requires",
                        "doctest-requires-all",
                        "doctest-remote-data",
                        "doctest-remote-data-all",
                    ],
                );
                let colons = pick(rng, &["::", "::", "::", " ::", ""]);
                let argument = match name {
                    "doctest-requires" | "doctest-requires-all" => pick(
                        rng,
                        &[
                            " os",
                            " os, sys",
                            " no_such_module_x",
                            " sys no_such_module_x",
                            "os",
                        ],
                    ),
                    _ => pick(rng, &["", "", " win32", " foo", "foo"]),
                };
                let close = if comment == "<!--" && rng.random_bool(0.7) {
                    pick(rng, &[" -->", "-->"])
                } else {
                    ""
                };
                let indent = pick(rng, &["", "", "", "   "]);
                page.push_str(&format!(
                    "{indent}{comment}{space}{name}{colons}{argument}{close}\n"
                ));
                if rng.random_bool(0.6) {
                    page.push('\n');
                }
            }
            _ => {
                let indent = pick(rng, &["", "", "    "]);
                for _ in 0..rng.random_range(1..4) {
                    value += 1;
                    match rng.random_range(0..8) {
                        0 => page.push_str(&format!("{indent}>>> # a comment only\n")),
                        1 => page.push_str(&format!(
                            "{indent}>>> {value}  # doctest: +REMOTE_DATA\n{indent}{value}\n"
                        )),
                        _ => page.push_str(&format!("{indent}>>> {value}\n{indent}{value}\n")),
                    }
                }
                page.push('\n');
            }
        }
    }
    page
}

#[test]
fn generated_directives_skip_what_doctestplus_skips() {
    let python = python_with_doctestplus();
    let project = tempfile::tempdir().expect("project dir");
    write_project_config(project.path());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(SEED);
    for index in 0..GENERATED_PAGES {
        let extension = pick(&mut rng, &["rst", "md", "txt"]);
        let page = generated_page(&mut rng, extension);
        std::fs::write(
            project.path().join(format!("g{index:03}.{extension}")),
            page,
        )
        .expect("write a generated page");
    }
    let (ran, failed, skipped) = compare_runs(&python, project.path());
    eprintln!("{ran} examples ran ({failed} failed), {skipped} skipped");
    assert!(ran > 250 && skipped > 250, "{ran} ran, {skipped} skipped");
}
