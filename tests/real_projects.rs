//! Five real projects' documentation, each judged by the project's own runner as the oracle:
//! per-example verdicts must be identical to ours.
//!
//! Each project's sdist is fetched from PyPI (pinned, cached under `target/test-cache/`, never
//! committed) and copied into a fresh directory. Its runner runs there as the project runs it
//! (objgraph's `tests.py` DocFileSuite, `pytest` with the project's configuration, pytest with
//! pytest-doctestplus, `sphinx-build -b doctest`), in a pinned venv under `target/`, with
//! `tests/oracle/record/` on `PYTHONPATH`: its `sitecustomize.py` loads
//! `tests/oracle/record_verdicts.py`, which records every example the `doctest.DocTestRunner`
//! reports (file, line, source, outcome). Then the built `objgraph-doctest --format json` runs
//! at the copy's root on the pages the runner collects, with no configuration of ours
//! (detection picks each page's profile) except where the project's runner is Python code
//! (objgraph's `tests.py`: its profile and flags are written into the copy). Verdicts are compared per example as pass, fail, or
//! not run (skipped or never started); the test prints a table and fails on any difference or
//! on a page whose profile is not the project's runner.
//!
//! Examples are matched by (page, line) for the runners that number them as the page does,
//! and by (page, source, occurrence) for Sphinx, whose numbers are the directive's (a
//! `testcode` block's example carries its directive's line, a `doctest` block's examples
//! count from the directive) rather than the `>>>` line.

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

const PYTEST: &str = "pytest==8.3.5";

/// The project's runner and how it is started at the project's root.
enum Runner {
    /// `python ARGS`: a test script of the project's own (a DocFileSuite).
    Script(&'static [&'static str]),
    /// `python -m pytest -p no:cacheprovider ARGS`: pytest reads the project's configuration.
    Pytest(&'static [&'static str]),
    /// `python -m sphinx -b doctest SOURCE OUT`: Sphinx's doctest builder on the source dir.
    Sphinx { source: &'static str },
}

/// The pages in `dir` (relative to the project's root, not recursive) ending with one of
/// `suffixes`, except those named in `except`.
struct Pages {
    dir: &'static str,
    suffixes: &'static [&'static str],
    except: &'static [&'static str],
}

struct Project {
    requirement: &'static str,
    /// The venv's name under `target/` and what it holds (pinned).
    venv: (&'static str, &'static [&'static str]),
    runner: Runner,
    /// The pages the runner collects.
    pages: &'static [Pages],
    /// The profile detection must give every page.
    profile: &'static str,
    /// Settings the project gives its runner outside any configuration file, for both runs.
    env: &'static [(&'static str, &'static str)],
    /// An `objgraph-doctest.toml` written into the copy, saying what the project says only in
    /// Python code (none when its configuration files say everything).
    our_config: Option<&'static str>,
}

const SPHINX_VENV: (&str, &[&str]) = (
    "test-venv-real-sphinx",
    &[
        "sphinx==8.2.3",
        "docutils==0.21.2",
        "myst-parser==4.0.1",
        "sphinx-notfound-page==1.1.0",
        "sphinxcontrib-towncrier==0.5.0a0",
        "towncrier==26.9.0",
        "sphinxcontrib-mermaid==2.1.1",
        "sphinxext-opengraph==0.13.0",
        "attrs==25.3.0",
        "structlog==25.4.0",
    ],
);

const PROJECTS: [Project; 5] = [
    // tests.py: `DocFileSuite(*find_doctests(), optionflags=ELLIPSIS, checker=...)`, where
    // find_doctests is docs/*.txt without uncollectable.txt. That runner and its flags are
    // Python code, and docs/conf.py enables sphinx.ext.doctest (so detection would say
    // `sphinx`, which is not how objgraph tests these pages): our configuration says both.
    Project {
        requirement: "objgraph==3.7.0",
        venv: ("test-venv", &["objgraph==3.7.0"]),
        runner: Runner::Script(&["tests.py"]),
        pages: &[Pages {
            dir: "docs",
            suffixes: &["txt"],
            except: &["uncollectable.txt"],
        }],
        profile: "doctest",
        env: &[],
        our_config: Some("profile = \"doctest\"\noptionflags = [\"ELLIPSIS\"]\n"),
    },
    // setup.cfg: `[tool:pytest] addopts = --doctest-glob='*.rst'`; the Makefile runs `pytest`.
    Project {
        requirement: "pyvcd==0.4.1",
        venv: ("test-venv-real-pyvcd", &[PYTEST, "pyvcd==0.4.1"]),
        runner: Runner::Pytest(&[]),
        pages: &[
            Pages {
                dir: ".",
                suffixes: &["rst"],
                except: &[],
            },
            Pages {
                dir: "docs",
                suffixes: &["rst"],
                except: &[],
            },
        ],
        profile: "pytest",
        env: &[],
        our_config: None,
    },
    // tox.ini: `pytest tests --doctest-plus --doctest-rst`; its doc pages are tests/docs/.
    // The options are on tox's command line, so both runs get them as $PYTEST_ADDOPTS, which
    // pytest and our pytest configuration reader both honour. tests/conftest.py imports numpy.
    Project {
        requirement: "pytest-doctestplus==1.7.1",
        venv: (
            "test-venv-real-doctestplus",
            &[PYTEST, "pytest-doctestplus==1.7.1", "numpy==2.2.6"],
        ),
        runner: Runner::Pytest(&["tests/docs"]),
        pages: &[Pages {
            dir: "tests/docs",
            suffixes: &["rst"],
            except: &[],
        }],
        profile: "doctestplus",
        env: &[("PYTEST_ADDOPTS", "--doctest-plus --doctest-rst")],
        our_config: None,
    },
    // tox.ini docs-doctests: `sphinx-build -n -T -W -b doctest docs ...`; MyST and reST pages.
    Project {
        requirement: "attrs==25.3.0",
        venv: SPHINX_VENV,
        runner: Runner::Sphinx { source: "docs" },
        pages: &[Pages {
            dir: "docs",
            suffixes: &["md", "rst"],
            except: &[],
        }],
        profile: "sphinx",
        env: &[],
        our_config: None,
    },
    // tox.ini docs-doctests: `sphinx-build -n -T -W -b doctest docs ...`.
    Project {
        requirement: "structlog==25.4.0",
        venv: SPHINX_VENV,
        runner: Runner::Sphinx { source: "docs" },
        pages: &[Pages {
            dir: "docs",
            suffixes: &["md", "rst"],
            except: &[],
        }],
        profile: "sphinx",
        env: &[],
        our_config: None,
    },
];

/// An example's verdict, as both sides can say it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    Passed,
    Failed,
    /// Skipped, or never started (after a failure that ends the page, in a group whose setup
    /// failed, ...).
    NotRun,
}

impl fmt::Display for Verdict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::NotRun => "not run",
        })
    }
}

/// One example as one side saw it.
struct Seen {
    page: PathBuf,
    line: u64,
    source: String,
    verdict: Verdict,
}

/// How examples are matched: the page, then the line or the source, then which occurrence.
type Key = (PathBuf, String, usize);

fn keyed(seen: Vec<Seen>, by_source: bool) -> BTreeMap<Key, (u64, Verdict)> {
    let mut seen = seen;
    seen.sort_by(|a, b| (&a.page, a.line).cmp(&(&b.page, b.line)));
    let mut keyed = BTreeMap::new();
    let mut occurrences: BTreeMap<(PathBuf, String), usize> = BTreeMap::new();
    for example in seen {
        let ident = if by_source {
            example.source.trim_end().to_owned()
        } else {
            example.line.to_string()
        };
        let count = occurrences
            .entry((example.page.clone(), ident.clone()))
            .or_default();
        keyed.insert(
            (example.page, ident, *count),
            (example.line, example.verdict),
        );
        *count += 1;
    }
    keyed
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn list_pages(root: &Path, pages: &[Pages]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for set in pages {
        let dir = root.join(set.dir);
        let entries =
            std::fs::read_dir(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            let suffix_matches = path
                .extension()
                .is_some_and(|ext| set.suffixes.iter().any(|suffix| ext == *suffix));
            if path.is_file() && suffix_matches && !set.except.contains(&name.as_str()) {
                found.push(canonical(&path));
            }
        }
    }
    found.sort();
    found
}

/// Runs the project's runner at `root` with the recorder; returns what it recorded and its
/// output (for messages).
fn run_theirs(project: &Project, python: &str, root: &Path, scratch: &Path) -> (Vec<Seen>, String) {
    let verdicts = scratch.join("verdicts.jsonl");
    let mut command = Command::new(python);
    let base = match &project.runner {
        Runner::Script(args) => {
            command.args(*args);
            root.to_path_buf()
        }
        Runner::Pytest(args) => {
            command
                .args(["-m", "pytest", "-p", "no:cacheprovider"])
                .args(*args);
            root.to_path_buf()
        }
        Runner::Sphinx { source } => {
            command
                .args(["-m", "sphinx", "-b", "doctest", "-q", "-d"])
                .arg(scratch.join("doctrees"))
                .arg(source)
                .arg(scratch.join("out"));
            root.join(source)
        }
    };
    command
        .current_dir(root)
        .env(
            "PYTHONPATH",
            common::repo_root()
                .join("tests")
                .join("oracle")
                .join("record"),
        )
        .env("OBJGRAPH_DOCTEST_VERDICTS", &verdicts)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PYTEST_ADDOPTS")
        .envs(project.env.iter().copied())
        .stdin(Stdio::null());
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{}: cannot start {python}: {error}", project.requirement));
    let transcript = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // A failing example is a verdict, not an error: pytest and Sphinx exit with 1 then. What
    // must not happen is a runner that could not start its run.
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}: the project's runner failed ({}):\n{transcript}",
        project.requirement,
        output.status
    );
    let records = std::fs::read_to_string(&verdicts).unwrap_or_default();
    let mut seen: Vec<(Option<String>, Seen)> = records
        .lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("recorder wrote {line:?}: {error}"));
            let file = record["file"].as_str().unwrap_or_default();
            let verdict = match record["outcome"].as_str() {
                Some("passed") => Verdict::Passed,
                Some("failed") => Verdict::Failed,
                _ => Verdict::NotRun,
            };
            let global = file.starts_with("<global_").then(|| file.to_owned());
            let example = Seen {
                page: canonical(&base.join(file)),
                line: record["line"].as_u64().unwrap_or(0),
                source: record["source"].as_str().unwrap_or_default().to_owned(),
                verdict,
            };
            (global, example)
        })
        .collect();
    attribute_global_code(&mut seen);
    (
        seen.into_iter().map(|(_, example)| example).collect(),
        transcript,
    )
}

/// Sphinx runs `conf.py`'s `doctest_global_setup` before each group of a page (and
/// `doctest_global_cleanup` after it) under the file name `<global_setup>`
/// (`<global_cleanup>`); we report it as an example of the page. A group's setup is recorded
/// just before the group's first test and its cleanup just after its last, so each is the
/// page of the next (previous) record with a real file.
fn attribute_global_code(seen: &mut [(Option<String>, Seen)]) {
    let real_page =
        |entry: &(Option<String>, Seen)| entry.0.is_none().then(|| entry.1.page.clone());
    for index in 0..seen.len() {
        let page = match seen[index].0.as_deref() {
            Some("<global_setup>") => seen[index + 1..].iter().find_map(real_page),
            Some(_) => seen[..index].iter().rev().find_map(real_page),
            None => continue,
        };
        if let Some(page) = page {
            seen[index].1.page = page;
        }
    }
}

/// Runs our binary at `root` on `pages`; returns each example's verdict and each page's
/// profile as the report gives it.
fn run_ours(
    project: &Project,
    python: &str,
    root: &Path,
    pages: &[PathBuf],
    scratch: &Path,
) -> (Vec<Seen>, BTreeMap<PathBuf, String>) {
    let tmpdir = scratch.join("ours-tmp");
    std::fs::create_dir_all(&tmpdir).expect("our TMPDIR");
    let output = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(["--python", python, "--color", "never", "--format", "json"])
        .args(pages)
        .current_dir(root)
        .env("TMPDIR", &tmpdir)
        .env_remove("PYTEST_ADDOPTS")
        .envs(project.env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{}: our report is not JSON ({error}): {}",
            project.requirement,
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut seen = Vec::new();
    let mut profiles = BTreeMap::new();
    for page in report["pages"].as_array().expect("pages") {
        let path = canonical(&root.join(page["path"].as_str().expect("path")));
        let profile = page["profile"].as_str().unwrap_or("(not reported)");
        profiles.insert(path.clone(), profile.to_owned());
        for example in page["examples"].as_array().expect("examples") {
            let verdict = match example["outcome"].as_str() {
                Some("passed") => Verdict::Passed,
                Some("failed" | "timeout" | "crashed") => Verdict::Failed,
                _ => Verdict::NotRun,
            };
            seen.push(Seen {
                page: path.clone(),
                line: example["line"].as_u64().expect("line"),
                source: example["source"].as_str().unwrap_or_default().to_owned(),
                verdict,
            });
        }
    }
    (seen, profiles)
}

/// What one project gave.
struct Figures {
    project: &'static str,
    profile: &'static str,
    pages: usize,
    examples: usize,
    identical: usize,
    /// Examples whose verdicts differ.
    differences: Vec<String>,
    /// Pages whose profile is not the project's runner's.
    wrong_profiles: Vec<String>,
}

fn compare(project: &Project) -> Figures {
    let python = common::cached_venv(project.venv.0, project.venv.1);
    let unpacked = common::sdist(project.requirement);
    let scratch = tempfile::Builder::new()
        .prefix("real-project-")
        .tempdir()
        .expect("scratch dir");
    let root = scratch.path().join("project");
    common::copy_tree(&unpacked, &root);
    let root = canonical(&root);
    if let Some(config) = project.our_config {
        std::fs::write(root.join("objgraph-doctest.toml"), config).expect("our configuration");
    }
    let pages = list_pages(&root, project.pages);
    assert!(!pages.is_empty(), "{}: no pages", project.requirement);

    let (theirs, transcript) = run_theirs(project, &python, &root, scratch.path());
    let (ours, profiles) = run_ours(project, &python, &root, &pages, scratch.path());

    let on_pages = |seen: Vec<Seen>| -> Vec<Seen> {
        seen.into_iter()
            .filter(|example| pages.contains(&example.page))
            .collect()
    };
    let by_source = matches!(project.runner, Runner::Sphinx { .. });
    let theirs = keyed(on_pages(theirs), by_source);
    let ours = keyed(on_pages(ours), by_source);
    assert!(
        !theirs.is_empty(),
        "{}: the project's runner recorded no example on its pages:\n{transcript}",
        project.requirement
    );

    let relative = |page: &Path| {
        page.strip_prefix(&root)
            .unwrap_or(page)
            .display()
            .to_string()
    };
    let mut wrong_profiles = Vec::new();
    for page in &pages {
        let profile = profiles
            .get(page)
            .map(String::as_str)
            .unwrap_or("(no page)");
        if profile != project.profile {
            wrong_profiles.push(format!(
                "{}: profile {profile}, expected {}",
                relative(page),
                project.profile
            ));
        }
    }
    let mut differences = Vec::new();
    let mut identical = 0;
    for (key, (line, verdict)) in &ours {
        let their = theirs
            .get(key)
            .map_or(Verdict::NotRun, |(_, verdict)| *verdict);
        if their == *verdict {
            identical += 1;
        } else {
            differences.push(format!(
                "{}:{line}: ours {verdict}, theirs {their}: {:?}",
                relative(&key.0),
                key.1
            ));
        }
    }
    for (key, (line, verdict)) in &theirs {
        if !ours.contains_key(key) {
            differences.push(format!(
                "{}:{line}: theirs {verdict}, not an example of ours: {:?}",
                relative(&key.0),
                key.1
            ));
        }
    }
    let examples = ours.len() + theirs.keys().filter(|key| !ours.contains_key(*key)).count();
    Figures {
        project: project.requirement,
        profile: project.profile,
        pages: pages.len(),
        examples,
        identical,
        differences,
        wrong_profiles,
    }
}

#[test]
fn real_projects_match_their_own_runners() {
    let figures: Vec<Figures> = PROJECTS.iter().map(compare).collect();
    println!(
        "\n{:<28} {:<12} {:>6} {:>9} {:>10} {:>10} {:>14}",
        "project", "profile", "pages", "examples", "identical", "differing", "wrong profile"
    );
    for figure in &figures {
        println!(
            "{:<28} {:<12} {:>6} {:>9} {:>10} {:>10} {:>14}",
            figure.project,
            figure.profile,
            figure.pages,
            figure.examples,
            figure.identical,
            figure.differences.len(),
            figure.wrong_profiles.len()
        );
    }
    let mut failures = String::new();
    for figure in &figures {
        for page in &figure.wrong_profiles {
            failures.push_str(&format!("{}: {page}\n", figure.project));
        }
        for difference in figure.differences.iter().take(40) {
            failures.push_str(&format!("{}: {difference}\n", figure.project));
        }
        if figure.differences.len() > 40 {
            failures.push_str(&format!(
                "{}: ... and {} more\n",
                figure.project,
                figure.differences.len() - 40
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "verdicts differ from the projects' own runners:\n{failures}"
    );
}
