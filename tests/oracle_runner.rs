//! Conformance: objgraph 3.7.0's own doc pages, run by our binary with `-o ELLIPSIS`, give
//! per-example verdicts identical to CPython's DocFileSuite with objgraph's tests.py checker
//! and setUp (the oracle), and our own run pages agree with it too.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

type Verdicts = BTreeMap<String, Vec<(u64, String)>>;

fn ours(pages: &[PathBuf], python: &str) -> Verdicts {
    let output = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(["--python", python, "--format", "json", "-o", "ELLIPSIS"])
        .args(pages)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "not JSON ({error}): {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    report["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .map(|page| {
            let path =
                std::fs::canonicalize(page["path"].as_str().expect("path")).expect("page exists");
            let verdicts = page["examples"]
                .as_array()
                .expect("examples")
                .iter()
                .map(|example| {
                    (
                        example["line"].as_u64().expect("line"),
                        example["outcome"].as_str().expect("outcome").to_owned(),
                    )
                })
                .collect();
            (path.to_string_lossy().into_owned(), verdicts)
        })
        .collect()
}

fn oracle(pages: &[PathBuf], python: &str) -> Verdicts {
    let request = serde_json::json!({
        "pages": pages.iter().map(|page| page.to_string_lossy().into_owned()).collect::<Vec<_>>(),
        "optionflags": ["ELLIPSIS"],
    });
    let mut child = Command::new(python)
        .arg(common::repo_root().join("tests/oracle/docfilesuite_oracle.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("oracle starts");
    serde_json::to_writer(child.stdin.take().expect("stdin"), &request).expect("request sent");
    let output = child.wait_with_output().expect("oracle runs");
    assert!(output.status.success(), "oracle failed");
    let results: BTreeMap<String, Vec<serde_json::Value>> =
        serde_json::from_slice(&output.stdout).expect("oracle JSON");
    results
        .into_iter()
        .map(|(path, examples)| {
            let verdicts = examples
                .iter()
                .map(|example| {
                    (
                        example["line"].as_u64().expect("line"),
                        example["verdict"].as_str().expect("verdict").to_owned(),
                    )
                })
                .collect();
            (path, verdicts)
        })
        .collect()
}

fn canonical_pages(dir: PathBuf, extension: &str) -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("pages dir")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .map(|path| std::fs::canonicalize(path).expect("canonical"))
        .collect();
    pages.sort();
    pages
}

#[test]
fn objgraph_docs_match_docfilesuite() {
    let python = common::python_with_objgraph();
    let pages = canonical_pages(common::sdist("objgraph==3.7.0").join("docs"), "txt");
    assert!(pages.len() >= 10, "objgraph's docs: {pages:?}");
    let expected = oracle(&pages, &python);
    let actual = ours(&pages, &python);
    assert_eq!(actual, expected);
    let failing: Vec<(String, u64)> = expected
        .iter()
        .flat_map(|(path, verdicts)| {
            verdicts
                .iter()
                .filter(|(_, verdict)| verdict != "passed")
                .map(move |(line, _)| (path.rsplit('/').next().unwrap_or(path).to_owned(), *line))
        })
        .collect();
    assert_eq!(failing, [("uncollectable.txt".to_owned(), 24)]);
}

#[test]
fn our_run_pages_match_docfilesuite() {
    let python = common::python_with_objgraph();
    let run_pages = common::repo_root().join("tests/pages/run");
    let pages: Vec<PathBuf> = [
        "passing.txt",
        "failing.txt",
        "fail_fast.txt",
        "objgraph_growth.txt",
    ]
    .iter()
    .map(|page| std::fs::canonicalize(run_pages.join(page)).expect("page"))
    .collect();
    assert_eq!(ours(&pages, &python), oracle(&pages, &python));
}
