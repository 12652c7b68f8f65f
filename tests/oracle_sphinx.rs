//! Differential test of the sphinx profile against Sphinx's doctest builder.
//!
//! Sphinx ([`SPHINX`]) and myst-parser ([`MYST`]) are installed into a venv cached under
//! `target/`; `tests/oracle/sphinx_verdicts.py` runs `sphinx-build -b doctest` on the
//! fixture projects under `tests/pages/sphinx/` and records the verdict of every example
//! the builder runs, in the order it runs them (group, role, source, pass/fail). We read the
//! same projects as the sphinx profile does (conf.py read by `runner::sphinx_conf` in a
//! separate interpreter, each page parsed with `parse_page_as`) and run them with the page
//! loop; the examples we ran (neither skipped nor held back after a failed setup) must be
//! exactly the builder's, in the same order, with the same verdicts, page by page.
//!
//! The built binary is compared too: a project without global setup (so that what the CLI
//! reads from its own configuration, `profile = "sphinx"` and Sphinx's default flags as
//! `optionflags`, is all there is to conf.py) run with `--format json`, and its report of a
//! page whose group setup fails (lines and outcomes, in run order).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use objgraph_doctest::backend::{Backend, BackendOptions};
use objgraph_doctest::engine::page::ExampleRole;
use objgraph_doctest::engine::{FlagRegistry, PageFormat, Profile, Reading, parse_page_as};
use objgraph_doctest::runner::profile::Profiles;
use objgraph_doctest::runner::run::{Outcome, RunOptions, run_page};
use objgraph_doctest::runner::sphinx_conf::read_sphinx_conf;
use serde_json::{Value, json};

const SPHINX: &str = "8.2.3";
const MYST: &str = "4.0.1";

/// The fixture projects, each a Sphinx source directory with a conf.py.
const PROJECTS: [&str; 2] = ["project", "plain"];

fn python_with_sphinx() -> String {
    common::cached_venv(
        "test-venv-sphinx",
        &[
            &format!("sphinx=={SPHINX}"),
            &format!("myst-parser=={MYST}"),
        ],
    )
}

fn project_dir(name: &str) -> PathBuf {
    common::repo_root()
        .join("tests")
        .join("pages")
        .join("sphinx")
        .join(name)
}

/// One example's verdict: (page, group, role, source, verdict).
type Record = (String, String, String, String, String);

/// What sphinx-build says, per example it ran, on the fixture projects.
fn sphinx_records() -> Vec<Record> {
    let projects: Vec<PathBuf> = PROJECTS.iter().map(|name| project_dir(name)).collect();
    sphinx_records_of(&projects)
}

/// What sphinx-build says, per example it ran, on `projects` (pages named
/// `PROJECT/DOCNAME`, PROJECT the directory's name).
fn sphinx_records_of(projects: &[PathBuf]) -> Vec<Record> {
    let python = python_with_sphinx();
    let script = common::repo_root()
        .join("tests")
        .join("oracle")
        .join("sphinx_verdicts.py");
    let projects: Vec<String> = projects
        .iter()
        .map(|dir| dir.to_string_lossy().into_owned())
        .collect();
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {python}: {error}"));
    let payload = serde_json::to_vec(&json!({ "projects": projects })).expect("request");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &payload));
    let output = child.wait_with_output().expect("oracle runs");
    writer.join().expect("writer").expect("request written");
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "the oracle printed no JSON ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_eq!(answer["sphinx"], SPHINX, "the venv has the pinned Sphinx");
    let text = |record: &Value, key: &str| record[key].as_str().unwrap_or_default().to_owned();
    answer["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|record| {
            let project = Path::new(record["project"].as_str().unwrap_or_default())
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            (
                format!("{project}/{}", text(record, "doc")),
                text(record, "group"),
                text(record, "role"),
                text(record, "source"),
                text(record, "verdict"),
            )
        })
        .collect()
}

fn role_name(role: ExampleRole) -> &'static str {
    match role {
        ExampleRole::Setup => "setup",
        ExampleRole::Test => "test",
        ExampleRole::Cleanup => "cleanup",
    }
}

/// What we say, per example we ran, reading each project as the sphinx profile does.
fn our_records() -> (Vec<Record>, Vec<String>) {
    let python = PathBuf::from(common::python());
    let backend = Backend::start(BackendOptions {
        python: python.clone(),
        preload: vec![],
        fork: true,
        directory: None,
    })
    .expect("backend starts");
    let registry = FlagRegistry::new();
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    for project in PROJECTS {
        let dir = project_dir(project);
        let conf = read_sphinx_conf(&dir.join("conf.py"), &python, Duration::from_secs(30))
            .expect("conf.py reads");
        assert!(conf.has_doctest_extension());
        let mut reading = Reading::of(Profile::Sphinx);
        conf.apply(&mut reading);
        // The pages are parsed with conf.py's reading above; running them needs only its
        // default flags (exactly conf.py's, not added to Sphinx's own defaults).
        let options = RunOptions {
            jobs: 1,
            timeout: Duration::from_secs(30),
            profiles: Arc::new(Profiles::doctest(conf.default_flags)),
            output_cap: 1 << 20,
            memory_limit: None,
            setup_code: None,
            artifacts_dir: None,
            project_root: dir.clone(),
        };
        let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("project dir")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| PageFormat::from_path(&path.to_string_lossy()).is_some())
            .collect();
        pages.sort();
        for path in pages {
            let shown = path.to_string_lossy().into_owned();
            let format = PageFormat::from_path(&shown).expect("a page");
            let bytes = std::fs::read(&path).expect("page reads");
            let page = parse_page_as(&shown, format, &bytes, &registry, &reading);
            assert!(page.errors.is_empty(), "{shown}: {:?}", page.errors);
            let doc = format!(
                "{project}/{}",
                path.file_stem().expect("stem").to_string_lossy()
            );
            warnings.extend(
                page.warnings
                    .iter()
                    .map(|warning| format!("{doc}:{}: {}", warning.line, warning.message)),
            );
            let run = run_page(page, &backend, &registry, &options, |_, _| {});
            assert!(run.error.is_none(), "{shown}: {:?}", run.error);
            for (example, result) in run.page.examples.iter().zip(&run.examples) {
                let verdict = match result.outcome {
                    Outcome::Passed => "pass",
                    Outcome::Failed => "fail",
                    Outcome::Skipped | Outcome::NotRun => continue,
                    other => panic!("{doc}: {:?} {other:?}: {:?}", example.source, result.fault),
                };
                records.push((
                    doc.clone(),
                    example.run.group.clone().unwrap_or_default(),
                    role_name(example.run.role).to_owned(),
                    example.source.clone(),
                    verdict.to_owned(),
                ));
            }
        }
    }
    (records, warnings)
}

#[test]
fn verdicts_are_sphinx_builders() {
    let theirs = sphinx_records();
    let (ours, warnings) = our_records();
    let mut docs: Vec<&String> = theirs.iter().chain(&ours).map(|record| &record.0).collect();
    docs.sort();
    docs.dedup();
    for doc in docs {
        let of = |records: &[Record]| -> Vec<Record> {
            records
                .iter()
                .filter(|record| &record.0 == doc)
                .cloned()
                .collect()
        };
        let (theirs, ours) = (of(&theirs), of(&ours));
        if let Some(at) = (0..theirs.len().max(ours.len())).find(|&i| theirs.get(i) != ours.get(i))
        {
            panic!(
                "{doc}: example {at} differs\n  sphinx: {:?}\n  ours:   {:?}\n\
                 sphinx's run: {theirs:#?}\nours: {ours:#?}",
                theirs.get(at),
                ours.get(at)
            );
        }
    }
    assert!(theirs.len() > 60, "the fixtures exercise the builder");
    // What Sphinx warns about and ignores, we say too.
    for expected in ["'BOGUS' is not a valid option", "lacks blank after >>>"] {
        assert!(
            warnings.iter().any(|warning| warning.contains(expected)),
            "no warning with {expected:?}: {warnings:#?}"
        );
    }
}

/// The pages of the fixture project that do not depend on its global setup.
const CLI_PAGES: [&str; 6] = [
    "options.rst",
    "blocks.rst",
    "setup_fails.rst",
    "edges.rst",
    "myst.md",
    "myst_edges.md",
];

#[test]
fn the_cli_gives_sphinx_builders_verdicts() {
    let workspace = tempfile::tempdir().expect("temp dir");
    let dir = workspace.path().join("cli");
    std::fs::create_dir(&dir).expect("project dir");
    for page in CLI_PAGES {
        std::fs::copy(project_dir("project").join(page), dir.join(page)).expect("copy");
    }
    let toctree: String = CLI_PAGES
        .iter()
        .map(|page| {
            format!(
                "   {}\n",
                page.rsplit_once('.').map_or(*page, |(stem, _)| stem)
            )
        })
        .collect();
    std::fs::write(
        dir.join("index.rst"),
        format!("CLI\n===\n\n.. toctree::\n\n{toctree}"),
    )
    .expect("index");
    std::fs::write(
        dir.join("conf.py"),
        "extensions = ['sphinx.ext.doctest', 'myst_parser']\n\
         myst_enable_extensions = ['colon_fence']\n\
         source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}\n",
    )
    .expect("conf.py");
    std::fs::write(
        dir.join("objgraph-doctest.toml"),
        format!(
            "python = {:?}\nprofile = \"sphinx\"\n\
             optionflags = [\"ELLIPSIS\", \"IGNORE_EXCEPTION_DETAIL\", \"DONT_ACCEPT_TRUE_FOR_1\"]\n",
            common::python()
        ),
    )
    .expect("config");
    let theirs: Vec<(String, String, String)> = sphinx_records_of(std::slice::from_ref(&dir))
        .into_iter()
        .map(|(doc, _, _, source, verdict)| (doc, source, verdict))
        .collect();
    std::fs::create_dir(workspace.path().join("tmp")).expect("tmp");
    let output = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(["--format", "json", "."])
        .current_dir(&dir)
        .env("TMPDIR", workspace.path().join("tmp"))
        .output()
        .expect("the CLI runs");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "no JSON report ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut ours = Vec::new();
    for page in report["pages"].as_array().expect("pages") {
        let path = page["path"].as_str().unwrap_or_default();
        let stem = Path::new(path)
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(page["error"].is_null(), "{path}: {}", page["error"]);
        for example in page["examples"].as_array().expect("examples") {
            let verdict = match example["outcome"].as_str().unwrap_or_default() {
                "passed" => "pass",
                "failed" => "fail",
                "skipped" | "not-run" => continue,
                other => panic!("{path}: {other}: {example}"),
            };
            ours.push((
                format!("cli/{stem}"),
                example["source"].as_str().unwrap_or_default().to_owned(),
                verdict.to_owned(),
            ));
        }
    }
    ours.sort_by(|a, b| a.0.cmp(&b.0));
    let mut theirs_sorted = theirs.clone();
    theirs_sorted.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        theirs.len() > 30,
        "the pages exercise the builder: {theirs:#?}"
    );
    assert_eq!(
        ours, theirs_sorted,
        "CLI vs sphinx-build, page by page in run order"
    );
}

/// A page of groups: a failing setup holds its group's test back; the others run.
const EDITOR_PAGE: &str = "\
.. testsetup:: broken

   raise RuntimeError('x')

.. doctest:: broken

   >>> 1
   1

.. doctest::

   >>> 1 + 1
   2
   >>> 'a'
   'b'

.. testcode::

   print(3)

.. testoutput::

   3
";

#[test]
fn a_failing_group_setup_holds_back_its_tests_in_the_cli_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("objgraph-doctest.toml"),
        format!("python = {:?}\nprofile = \"sphinx\"\n", common::python()),
    )
    .expect("config");
    std::fs::write(dir.path().join("page.rst"), EDITOR_PAGE).expect("page");
    std::fs::create_dir(dir.path().join("tmp")).expect("tmp");
    let output = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(["--format", "json", "page.rst"])
        .current_dir(dir.path())
        .env("TMPDIR", dir.path().join("tmp"))
        .output()
        .expect("the CLI runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let cli: Vec<(u64, String)> = report["pages"][0]["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .map(|example| {
            (
                example["line"].as_u64().unwrap_or(0),
                example["outcome"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = [
        (3, "failed"),
        (7, "not-run"),
        (12, "passed"),
        (14, "failed"),
        (19, "passed"),
    ]
    .iter()
    .map(|(line, outcome)| (*line, outcome.to_string()))
    .collect();
    assert_eq!(cli, expected, "CLI");
}
