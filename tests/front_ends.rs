//! The CLI and the language server run a page the same way: a table of pages (faults, flags,
//! setup errors, configuration) goes through the built binary (`--format json`) and through
//! the language server (a real client; the outcome of each example read from its hover), and
//! the outcomes are compared example by example. Both read the same objgraph-doctest.toml.
//! Also: a failing setup is a visible page diagnostic with its traceback; options the CLI
//! refuses are errors in the editor too; a page that makes a FIFO in its working directory
//! or deletes it does not stall a checkpoint; a stream of live edits keeps resumes short;
//! and the checkpoint chain behaves as the checkpoint policy assumes.

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use lsp_client::{LspClient, processes_tagged};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

struct Case {
    name: &'static str,
    /// objgraph-doctest.toml, after the `python = ...` line every case gets.
    config: &'static str,
    page: &'static str,
    /// What both front ends must report, example by example.
    outcomes: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "timeout",
        config: "timeout = 1\n",
        page: ">>> import time\n>>> time.sleep(30)\n>>> 1 + 1\n2\n",
        outcomes: &["passed", "timeout", "not-run"],
    },
    Case {
        name: "os._exit",
        config: "",
        page: ">>> import os\n>>> os._exit(3)\n>>> 1 + 1\n2\n",
        outcomes: &["passed", "crashed", "not-run"],
    },
    Case {
        name: "SIGSEGV",
        config: "",
        page: ">>> import ctypes\n>>> ctypes.string_at(0)\n>>> 1 + 1\n2\n",
        outcomes: &["passed", "crashed", "not-run"],
    },
    Case {
        name: "abort",
        config: "",
        page: ">>> import os\n>>> os.abort()\n>>> 1 + 1\n2\n",
        outcomes: &["passed", "crashed", "not-run"],
    },
    Case {
        name: "raise in setup",
        config: "setup = \"import nowhere_to_be_found\"\n",
        page: ">>> 1 + 1\n2\n>>> 2 + 2\n4\n",
        outcomes: &["not-run", "not-run"],
    },
    Case {
        name: "a page doctest cannot read",
        config: "",
        page: ">>> 1 + 1\n2\n>>>x = 1\n>>> 2 + 2\n4\n",
        outcomes: &["not-run", "not-run"],
    },
    Case {
        name: "FAIL_FAST",
        config: "",
        page: ">>> 1  # doctest: +FAIL_FAST\n2\n>>> 3\n3\n",
        outcomes: &["failed", "not-run"],
    },
    Case {
        name: "FAIL_FAST from optionflags",
        config: "optionflags = ['FAIL_FAST']\n",
        page: ">>> 1\n1\n>>> 1\n2\n>>> 3\n3\n",
        outcomes: &["passed", "failed", "not-run"],
    },
    Case {
        name: "SKIP",
        config: "",
        page: ">>> 1/0  # doctest: +SKIP\n>>> 2\n2\n>>> 1/0\n3\n",
        outcomes: &["skipped", "passed", "failed"],
    },
    Case {
        name: "NODES_VARY",
        config: "",
        page: ">>> import objgraph\n\
               >>> objgraph.show_refs([[]], filename='g.dot')  # doctest: +NODES_VARY\n\
               Graph written to g.dot (99 nodes)\n\
               >>> objgraph.show_refs([[]], filename='h.dot')\n\
               Graph written to h.dot (99 nodes)\n",
        outcomes: &["passed", "passed", "failed"],
    },
    Case {
        name: "memory-limit",
        config: "memory-limit = 256\n",
        page: ">>> x = bytearray(2 * 1024 ** 3)\n\
               Traceback (most recent call last):\n\
               MemoryError\n\
               >>> 1 + 1\n2\n",
        outcomes: &["passed", "passed"],
    },
    Case {
        name: "artifacts-dir",
        config: "artifacts-dir = \"custom-artifacts\"\n",
        page: ">>> with open('out.txt', 'w') as f: n = f.write('hi')\n>>> n\n2\n",
        outcomes: &["passed", "passed"],
    },
];

fn workspace(config: &str, page: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let python = common::python_with_objgraph();
    std::fs::write(
        dir.path().join("objgraph-doctest.toml"),
        format!("python = {python:?}\n{config}"),
    )
    .expect("config");
    std::fs::write(dir.path().join("page.txt"), page).expect("page");
    // Each front end gets a temp directory of its own, inside the workspace.
    std::fs::create_dir(dir.path().join("tmp")).expect("tmp");
    dir
}

/// The CLI's JSON report (or its exit code and stderr when it printed none).
fn cli(dir: &Path) -> Result<Value, (Option<i32>, String)> {
    let output = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(["--format", "json", "page.txt"])
        .current_dir(dir)
        .env("TMPDIR", dir.join("tmp"))
        .output()
        .expect("the CLI runs");
    serde_json::from_slice(&output.stdout).map_err(|_| {
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
}

fn cli_outcomes(report: &Value) -> Vec<String> {
    report["pages"][0]["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .map(|example| example["outcome"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// A language server session on the workspace, with the page open.
fn editor(dir: &Path, page: &str) -> (LspClient, String) {
    let settings = json!({"runOn": "change", "execute": true, "debounceMs": 0});
    let mut client = LspClient::start(dir, settings);
    client.initialize(dir);
    let uri = format!("file://{}", dir.join("page.txt").display());
    client.open(&uri, "plaintext", page);
    (client, uri)
}

/// The 0-based lines of the page's `>>>` prompts that start an example.
fn example_lines(page: &str) -> Vec<u32> {
    page.lines()
        .enumerate()
        .filter(|(_, line)| {
            let line = line.trim_start();
            line == ">>>" || line.starts_with(">>> ")
        })
        .map(|(number, _)| number as u32)
        .collect()
}

/// Each example's outcome as its hover states it, once every example has one (polling
/// until the run is over).
fn editor_outcomes(client: &mut LspClient, uri: &str, lines: &[u32]) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let outcomes: Vec<String> = lines
            .iter()
            .map(|&line| {
                let text = client.hover_text(uri, line, 1);
                text.strip_prefix("**")
                    .and_then(|rest| rest.split("**").next())
                    .unwrap_or("?")
                    .to_owned()
            })
            .collect();
        if outcomes.iter().all(|outcome| outcome != "not run yet") {
            return outcomes;
        }
        assert!(
            Instant::now() < deadline,
            "the run never ended: {outcomes:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The codes of diagnostics about an example's run (the others are about the page's text).
const VERDICT_CODES: [&str; 5] = ["failed", "exception", "timeout", "crashed", "excused"];

/// True when `diagnostics` say per example what `outcomes` say: a failure, timeout or crash
/// has its diagnostic at that example (by the line it starts on), a pass at most an
/// "excused" hint, and the others none.
fn diagnostics_agree(diagnostics: &[Value], lines: &[u32], outcomes: &[&str]) -> bool {
    let example_of = |line: u64| lines.iter().rposition(|&start| u64::from(start) <= line);
    outcomes.iter().enumerate().all(|(index, outcome)| {
        let codes: Vec<&str> = diagnostics
            .iter()
            .filter(|d| d["range"]["start"]["line"].as_u64().and_then(example_of) == Some(index))
            .filter_map(|d| d["code"].as_str())
            .filter(|code| VERDICT_CODES.contains(code))
            .collect();
        match *outcome {
            "failed" => codes == ["failed"] || codes == ["exception"],
            "timeout" | "crashed" => codes == [*outcome],
            "passed" => codes.is_empty() || codes == ["excused"],
            _ => codes.is_empty(),
        }
    })
}

fn end(client: LspClient) {
    let tag = client.tag.clone();
    client.shutdown();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(processes_tagged(&tag), Vec::<u32>::new(), "processes left");
}

#[test]
fn the_cli_and_the_editor_agree_example_by_example() {
    for case in CASES {
        let dir = workspace(case.config, case.page);
        let report = cli(dir.path()).unwrap_or_else(|error| panic!("{}: {error:?}", case.name));
        assert_eq!(cli_outcomes(&report), case.outcomes, "CLI, {}", case.name);

        let (mut client, uri) = editor(dir.path(), case.page);
        let lines = example_lines(case.page);
        assert_eq!(lines.len(), case.outcomes.len(), "{}", case.name);
        let outcomes = editor_outcomes(&mut client, &uri, &lines);
        assert_eq!(outcomes, case.outcomes, "editor, {}", case.name);
        let agreeing = client.diagnostics_where(&uri, WAIT, |found| {
            diagnostics_agree(found, &lines, case.outcomes)
        });
        assert!(agreeing.is_some(), "editor diagnostics, {}", case.name);

        if case.name == "artifacts-dir" {
            let copied = report["pages"][0]["examples"][0]["artifacts"][0]["path"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            assert!(copied.contains("custom-artifacts"), "CLI copy: {copied}");
            let hover = client.hover_text(&uri, lines[0], 1);
            assert!(hover.contains("custom-artifacts"), "editor copy: {hover}");
        }
        if case.name == "raise in setup" {
            let error = report["pages"][0]["error"].as_str().unwrap_or("");
            assert!(error.contains("ModuleNotFoundError"), "{error}");
        }
        end(client);
    }
}

/// The editor's page-level error diagnostic (an error, not a warning), once published.
fn page_error(client: &mut LspClient, uri: &str) -> String {
    let found = client
        .diagnostics_where(uri, WAIT, |found| {
            found.iter().any(|d| d["code"] == "page-error")
        })
        .expect("a page error");
    let error = found.iter().find(|d| d["code"] == "page-error").unwrap();
    assert_eq!(error["severity"], 1, "an error, not a warning: {error}");
    error["message"].as_str().unwrap_or("").to_owned()
}

/// A configuration the CLI refuses (exit 2, a message with every one of `parts`) is the same
/// error in the editor, which runs nothing.
fn refused_by_both(config: &str, parts: &[&str]) {
    let page = ">>> 1 + 1\n2\n";
    let dir = workspace(config, page);
    let (code, stderr) = cli(dir.path()).expect_err("the CLI refuses to run");
    assert_eq!(code, Some(2), "{stderr}");
    let (mut client, uri) = editor(dir.path(), page);
    let message = page_error(&mut client, &uri);
    for part in parts {
        assert!(stderr.contains(part), "{part:?} missing from {stderr}");
        assert!(message.contains(part), "{part:?} missing from {message}");
    }
    let outcomes = editor_outcomes(&mut client, &uri, &example_lines(page));
    assert_eq!(outcomes, ["not-run"]);
    assert_eq!(client.python_processes(), Vec::<u32>::new(), "nothing ran");
    end(client);
}

#[test]
fn a_bad_optionflags_entry_is_an_error_in_both() {
    refused_by_both(
        "optionflags = ['ELIPSIS']\n",
        &["objgraph-doctest.toml:2:16: ", "ELIPSIS"],
    );
}

#[test]
fn a_failing_setup_is_a_page_diagnostic_with_its_traceback() {
    let page = "Setup fails.\n\n    >>> 1 + 1\n    2\n";
    let dir = workspace(
        "setup = \"\"\"\ndef broken():\n    return 1 / 0\nbroken()\n\"\"\"\n",
        page,
    );
    let (mut client, uri) = editor(dir.path(), page);
    let message = page_error(&mut client, &uri);
    for part in [
        "setup code failed",
        "Traceback (most recent call last):",
        "in broken",
        "ZeroDivisionError: division by zero",
    ] {
        assert!(message.contains(part), "{part:?} missing from {message}");
    }
    // The example is reported as not run, as the CLI reports it.
    let outcomes = editor_outcomes(&mut client, &uri, &example_lines(page));
    assert_eq!(outcomes, ["not-run"]);
    end(client);
}

#[test]
fn a_fifo_or_a_deleted_workdir_does_not_stall_a_checkpoint() {
    let pages = [
        ">>> import os\n>>> os.mkfifo('pipe')\n>>> 1 + 1\n2\n>>> 2 + 2\n4\n>>> 3 + 3\n6\n",
        ">>> import os, shutil\n>>> shutil.rmtree(os.getcwd())\n>>> 1 + 1\n2\n>>> 2 + 2\n4\n\
         >>> 3 + 3\n6\n",
    ];
    for page in pages {
        let dir = workspace("", page);
        let report = cli(dir.path()).expect("a report");
        let expected = cli_outcomes(&report);
        assert_eq!(expected, ["passed"; 5], "{page}");
        let (mut client, uri) = editor(dir.path(), page);
        let lines = example_lines(page);
        let started = Instant::now();
        assert_eq!(
            editor_outcomes(&mut client, &uri, &lines),
            expected,
            "{page}"
        );
        // Checkpoints were taken after the FIFO (or the deletion): the run did not wait on
        // them (a blocked checkpoint waits 30 s for its fork).
        assert!(started.elapsed() < Duration::from_secs(20), "{page}");
        // An edit to the last example resumes from a checkpoint: that works too.
        let last = *lines.last().unwrap();
        client.change(
            &uri,
            2,
            Some(json!({"start": {"line": last + 1, "character": 0},
                        "end": {"line": last + 1, "character": 1}})),
            "7",
        );
        client
            .diagnostics_where(&uri, WAIT, |found| {
                found.iter().any(|d| d["code"] == "failed")
            })
            .expect("the edited example fails");
        client.change(
            &uri,
            3,
            Some(json!({"start": {"line": last, "character": 4},
                        "end": {"line": last, "character": 9}})),
            "3 + 4",
        );
        client
            .diagnostics_where(&uri, WAIT, |found| found.is_empty())
            .expect("the re-run from a checkpoint passes");
        end(client);
    }
}

/// The CLI on `page.txt` with `args`: exit code and stderr.
fn cli_with(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(args)
        .arg("page.txt")
        .current_dir(dir)
        .env("TMPDIR", dir.join("tmp"))
        .output()
        .expect("the CLI runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn absurd_values_are_errors_in_both() {
    let dir = workspace("", ">>> 1 + 1\n2\n");
    for (args, wanted) in [
        (
            &["--timeout", "1e20"][..],
            "'--timeout <SECONDS>': the timeout must be more than 0",
        ),
        (
            &["--timeout", "0"],
            "'--timeout <SECONDS>': the timeout must be more than 0",
        ),
        (
            &["--memory-limit", "1"],
            "'--memory-limit <MIB>': 1 MiB is too small for Python to start; give at least 64",
        ),
        (
            &["--memory-limit", "0"],
            "'--memory-limit <MIB>': 0 MiB is too small",
        ),
        (&["-j", "0"], "'--jobs <N>': 0 jobs would run nothing"),
    ] {
        let (code, stderr) = cli_with(dir.path(), args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(wanted), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // A million jobs for one page: one thread per page, and the page passes.
    let (code, stderr) = cli_with(dir.path(), &["-j", "1000000"]);
    assert_eq!(code, Some(0), "{stderr}");

    // In the configuration: located, and the editor shows it instead of passing silently.
    refused_by_both(
        "timeout = 1e20\n",
        &[
            "objgraph-doctest.toml:2:11: the timeout must be",
            "at most 86400",
        ],
    );
}

/// Which examples the next live run executed: every example logs its number to a file
/// outside the page's working directory (setup code defines `run`). The client answers the
/// server's requests (progress) while it waits.
fn runs_logged(client: &mut LspClient, log: &Path, seen: &mut usize, last: usize) -> Vec<usize> {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let numbers: Vec<usize> = text.lines().filter_map(|l| l.parse().ok()).collect();
        let new = &numbers[(*seen).min(numbers.len())..];
        if new.last() == Some(&last) {
            *seen = numbers.len();
            return new.to_vec();
        }
        assert!(
            Instant::now() < deadline,
            "no complete run: {new:?} in {}",
            log.display()
        );
        client.wait_for(Duration::from_millis(50), |_| false);
        client.backlog.clear();
    }
}

#[test]
fn a_stream_of_edits_keeps_live_resumes_short() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("ran.log");
    let examples = 60;
    let page: String = (0..examples).map(|i| format!(">>> run({i})\n")).collect();
    let workspace_dir = workspace(
        &format!(
            "setup = \"\"\"\ndef run(i):\n    with open({:?}, 'a') as f:\n        f.write(f'{{i}}\\\\n')\n\"\"\"\n",
            log.display().to_string()
        ),
        &page,
    );
    let (mut client, uri) = editor(workspace_dir.path(), &page);
    let mut seen = 0;
    let first = runs_logged(&mut client, &log, &mut seen, examples - 1);
    assert_eq!(first, (0..examples).collect::<Vec<_>>());
    // Edit examples 11..17 one after the other, then 50 twice and 30: each edit puts
    // `0 or ` before the example's source (it still passes), and the run that follows is
    // logged.
    let mut resumes = Vec::new();
    let edits = [11, 12, 13, 14, 15, 16, 17, 50, 50, 30];
    for (version, edit) in (2..).zip(edits) {
        client.change(
            &uri,
            version,
            Some(json!({"start": {"line": edit, "character": 4},
                        "end": {"line": edit, "character": 4}})),
            "0 or ",
        );
        let ran = runs_logged(&mut client, &log, &mut seen, examples - 1);
        assert!(ran.contains(&edit), "edit at {edit} ran {ran:?}");
        resumes.push((edit, ran[0]));
    }
    // Before, the edits at 11..17 filled every checkpoint slot and each later edit re-ran
    // from 17. Now later edits resume within a few examples of the edit.
    for &(edit, resumed) in &resumes[7..] {
        assert!(edit - resumed <= 8, "{resumes:?}");
    }
    end(client);
}

#[test]
fn after_a_fail_fast_stop_is_fixed_the_editor_runs_the_rest_as_the_cli_does() {
    let page = ">>> 1  # doctest: +FAIL_FAST\n2\n>>> 3\n3\n>>> 4\n5\n";
    let dir = workspace("", page);
    let (mut client, uri) = editor(dir.path(), page);
    let lines = example_lines(page);
    assert_eq!(
        editor_outcomes(&mut client, &uri, &lines),
        ["failed", "not-run", "not-run"]
    );
    // Fix the expected output of the example that stopped the page: nothing before it has
    // to run again, and the examples after it run now.
    client.change(
        &uri,
        2,
        Some(json!({"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 1}})),
        "1",
    );
    let fixed = page.replacen("\n2\n", "\n1\n", 1);
    std::fs::write(dir.path().join("page.txt"), &fixed).expect("page");
    let report = cli(dir.path()).expect("a report");
    assert_eq!(cli_outcomes(&report), ["passed", "passed", "failed"]);
    let deadline = Instant::now() + WAIT;
    loop {
        let outcomes = editor_outcomes(&mut client, &uri, &lines);
        if outcomes == cli_outcomes(&report) {
            break;
        }
        assert!(Instant::now() < deadline, "{outcomes:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    end(client);
}

/// A backend that forks page processes from a zygote, for tests of the library itself.
fn forking_backend() -> objgraph_doctest::backend::Backend {
    objgraph_doctest::backend::Backend::start(objgraph_doctest::backend::BackendOptions {
        python: common::python().into(),
        preload: vec![],
        fork: true,
        directory: None,
    })
    .expect("backend starts")
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}

/// The constraint the checkpoint policy plans around (`runner::checkpoint_policy`):
/// checkpoints form a chain, and ending one in the middle ends every later one, while
/// ending the last leaves the earlier ones usable.
#[test]
fn ending_a_checkpoint_ends_the_later_ones_and_only_those() {
    use objgraph_doctest::backend::PageSetup;
    let second = Duration::from_secs(10);
    let backend = forking_backend();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut runner = backend
        .open_page(&PageSetup {
            path: "/docs/page.txt",
            name: "page.txt",
            workdir: dir.path(),
            setup_code: None,
            sys_path: &[],
            pytest_globals: false,
            output_cap: 1000,
            memory_limit: None,
        })
        .expect("page opens");
    let mut chain = Vec::new();
    for index in 0..4 {
        runner
            .run(index, &format!("x{index} = {index}\n"), second)
            .unwrap();
        chain.push(runner.checkpoint(&backend).expect("checkpoint"));
    }
    drop(runner);
    let pids: Vec<i32> = chain.iter().map(|checkpoint| checkpoint.pid()).collect();
    // The last one: the others live on and still resume.
    drop(chain.pop());
    std::thread::sleep(Duration::from_millis(300));
    assert!(!alive(pids[3]));
    assert!(pids[..3].iter().all(|&pid| alive(pid)), "{pids:?}");
    let again = tempfile::tempdir().expect("tempdir");
    let mut resumed = chain[2].resume(&backend, again.path()).expect("resume");
    assert_eq!(resumed.run(3, "x2\n", second).unwrap().got, "2\n");
    drop(resumed);
    // One in the middle (not the page's first process, which owns the process group): the
    // one after it goes with it, the one before it stays.
    drop(chain.remove(1));
    std::thread::sleep(Duration::from_millis(300));
    assert!(!alive(pids[1]) && !alive(pids[2]), "{pids:?}");
    assert!(alive(pids[0]), "{pids:?}");
    drop(chain);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!alive(pids[0]), "{pids:?}");
}

/// Checkpoints are bounded by the private memory they hold, measured on the real paused
/// interpreters: each example here replaces a 24 MiB object, so every checkpoint ends up
/// the only holder of the one it saw. With room for 64 MiB, the first run takes what the
/// estimate allows, and the measured total is brought within the budget.
#[test]
fn checkpoints_are_bounded_by_their_private_memory() {
    use objgraph_doctest::engine::{FlagRegistry, PageFormat, parse_page};
    use objgraph_doctest::lsp::live::{LiveState, RunEnd};
    use objgraph_doctest::runner::checkpoint_policy::CheckpointBudget;
    use objgraph_doctest::runner::options::{Overrides, RunSettings};
    use objgraph_doctest::runner::run::Cancel;

    const MIB: u64 = 1024 * 1024;
    let backend = forking_backend();
    let registry = FlagRegistry::new();
    let config = objgraph_doctest::runner::Config::default();
    let options = RunSettings::build(&config, &registry, &Overrides::default())
        .expect("options")
        .run;
    let text = |last: &str| {
        let mut text: String = (0..8)
            .map(|i| format!(">>> x = bytes([{i}]) * (24 << 20)\n"))
            .collect();
        text.push_str(&format!(">>> len(x)\n{last}\n"));
        text
    };
    let budget = CheckpointBudget {
        count: 8,
        memory: 64 * MIB,
    };
    let mut live = LiveState::with_budget(budget);
    let page = parse_page(
        "page.txt",
        PageFormat::Text,
        text("25165824").as_bytes(),
        &registry,
    );
    let end = live.update(
        &page,
        &backend,
        &registry,
        &options,
        None,
        &Cancel::default(),
    );
    assert!(matches!(end, RunEnd::Ran { .. }), "{end:?}");
    // Nothing measured yet: the first run counted each at the 32 MiB estimate.
    assert!(
        live.checkpoint_count() <= 2,
        "{:?}",
        live.checkpoint_positions()
    );
    let first = live.checkpoint_memory();
    assert!(first > 24 * MIB, "each holds its own object: {first}");
    // Edit the last example: the next run measures them and keeps within the budget.
    let page = parse_page(
        "page.txt",
        PageFormat::Text,
        text("0").as_bytes(),
        &registry,
    );
    let page = {
        let mut page = page;
        page.examples.last_mut().unwrap().source = "len(x) * 0\n".to_owned();
        page
    };
    live.update(
        &page,
        &backend,
        &registry,
        &options,
        None,
        &Cancel::default(),
    );
    live.release_retired();
    // Once the processes that shared their pages are gone, measured again, they fit.
    std::thread::sleep(Duration::from_millis(300));
    live.enforce_memory_budget();
    live.release_retired();
    assert!(live.checkpoint_count() >= 1, "one fits");
    let measured = live.checkpoint_memory();
    assert!(
        measured <= budget.memory,
        "{} MiB in {:?}",
        measured / MIB,
        live.checkpoint_positions()
    );
    let results = live.results(&page, &options.profile(&page), &registry);
    assert!(results.iter().all(|result| {
        result
            .as_ref()
            .is_some_and(|r| r.outcome == objgraph_doctest::runner::run::Outcome::Passed)
    }));
}
