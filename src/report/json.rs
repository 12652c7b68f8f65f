//! The JSON run report: the `--collect-only` schema (docs/json-report.md) plus, per example,
//! what happened, and a summary. A stable interface: fields are only ever added.

use serde::Serialize;

use crate::engine::{FlagRegistry, PageFormat, Profile};
use crate::runner::artifacts::Artifact;
use crate::runner::figures::{FigureVerdict, PageFigures, StaleFigures};
use crate::runner::profile::Profiles;
use crate::runner::run::{ExampleRun, Outcome, PageRun, Summary};
use crate::runner::shard::Shard;

use super::collect::{ErrorReport, ExampleReport, SCHEMA_VERSION};

#[derive(Serialize)]
struct RunReport<'a> {
    version: u32,
    /// The configuration file used, if any.
    configfile: Option<&'a str>,
    /// The interpreter the examples ran with, and where that choice came from.
    python: &'a PythonReport,
    warnings: &'a [String],
    pages: Vec<PageReport<'a>>,
    summary: SummaryReport,
    /// Which shard of a `--shard K/N` run this is (absent when not sharded), so that
    /// `merge` can tell that a shard is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<Shard>,
    /// What the run was told about figures: `stale-figures` (`warn`, `error`, `ignore`) and
    /// whether `--update-figures` wrote them, so that `merge` judges figures as the run did.
    stale_figures: StaleFigures,
    update_figures: bool,
}

/// The report's `python` object: `{"path": ..., "origin": ...}`.
#[derive(Serialize)]
pub struct PythonReport {
    pub path: String,
    /// `--python`, `configuration`, `$VIRTUAL_ENV`, `./.venv`, `the project's .venv`, `the
    /// environment objgraph-doctest is installed in` or `PATH`.
    pub origin: String,
}

impl PythonReport {
    pub fn new(path: &std::path::Path, origin: &str) -> PythonReport {
        PythonReport {
            path: path.display().to_string(),
            origin: origin.to_owned(),
        }
    }
}

#[derive(Serialize)]
struct PageReport<'a> {
    path: &'a str,
    format: PageFormat,
    /// Whose rules the page was read and run by.
    profile: Profile,
    /// The files that decided its profile and settings, and what they said.
    profile_sources: Vec<SourceReport>,
    errors: Vec<ErrorReport<'a>>,
    /// A problem that stopped the whole page (setup code failed, Python lost).
    error: Option<&'a str>,
    duration_ms: u128,
    examples: Vec<ExampleRunReport<'a>>,
    /// The page's figures against what its examples drew, and its graphs' diffs
    /// (docs/figures.md); absent when there is nothing to say.
    #[serde(skip_serializing_if = "PageFigures::is_empty")]
    figures: &'a PageFigures,
}

#[derive(Serialize)]
struct ExampleRunReport<'a> {
    #[serde(flatten)]
    example: ExampleReport<'a>,
    outcome: Outcome,
    got: Option<&'a str>,
    exception: Option<ExceptionReport<'a>>,
    /// Why the interpreter stopped, for timeouts and crashes.
    fault: Option<&'a str>,
    duration_ms: f64,
    artifacts: &'a [Artifact],
    /// The flags in effect (defaults merged with the directives), by name: what the other
    /// formats need to re-render this example from the report (`merge`).
    flags: Vec<&'a str>,
    /// Whether `got` was cut at the output cap.
    truncated: bool,
    /// Why it was skipped, when something other than SKIP skipped it (a doctestplus
    /// directive, a missing module, `pytest.skip()`).
    skip_reason: Option<&'a str>,
}

#[derive(Serialize)]
struct SourceReport {
    /// Relative to the current directory when under it.
    path: String,
    what: String,
}

#[derive(Serialize)]
struct ExceptionReport<'a> {
    #[serde(rename = "type")]
    type_name: &'a str,
    message: &'a str,
    /// What doctest compares with the expected exception (`format_exception_only`).
    exc_msg: &'a str,
    traceback: &'a str,
}

#[derive(Serialize)]
struct SummaryReport {
    #[serde(flatten)]
    counts: Summary,
    duration_ms: u128,
}

/// What the report says about the run as a whole, besides its pages and counts.
pub struct RunFacts<'a> {
    /// The configuration file used, if any.
    pub config_file: Option<&'a str>,
    pub duration: std::time::Duration,
    /// The shard this run is, with `--shard K/N`.
    pub shard: Option<Shard>,
    /// The interpreter the examples ran with.
    pub python: PythonReport,
    /// The run's figures, and what it was told about them.
    pub figures: FigureVerdict,
}

/// The whole run as pretty JSON, ending with a newline.
pub fn render(
    runs: &[PageRun],
    summary: &Summary,
    warnings: &[String],
    facts: &RunFacts,
    registry: &FlagRegistry,
    profiles: &Profiles,
) -> String {
    let report = RunReport {
        version: SCHEMA_VERSION,
        configfile: facts.config_file,
        python: &facts.python,
        warnings,
        pages: runs
            .iter()
            .map(|run| page_report(run, registry, profiles))
            .collect(),
        summary: SummaryReport {
            counts: *summary,
            duration_ms: facts.duration.as_millis(),
        },
        shard: facts.shard,
        stale_figures: facts.figures.stale,
        update_figures: facts.figures.updated,
    };
    let mut json = serde_json::to_string_pretty(&report).unwrap_or_else(|error| {
        format!(
            "{{\"version\":{SCHEMA_VERSION},\"error\":\"cannot serialise the report: {error}\"}}"
        )
    });
    json.push('\n');
    json
}

fn page_report<'a>(
    run: &'a PageRun,
    registry: &'a FlagRegistry,
    profiles: &Profiles,
) -> PageReport<'a> {
    let profile = profiles.for_page(std::path::Path::new(&run.page.path));
    PageReport {
        profile_sources: profile
            .sources
            .iter()
            .map(|source| SourceReport {
                path: crate::runner::display_path(&source.path),
                what: source.what.clone(),
            })
            .collect(),
        path: &run.page.path,
        format: run.page.format,
        profile: run.page.profile,
        errors: run.page.errors.iter().map(ErrorReport::new).collect(),
        error: run.error.as_deref(),
        duration_ms: run.duration.as_millis(),
        examples: run
            .page
            .examples
            .iter()
            .zip(&run.examples)
            .map(|(example, result)| {
                example_report(ExampleReport::new(example, registry), result, registry)
            })
            .collect(),
        figures: &run.figures,
    }
}

fn example_report<'a>(
    example: ExampleReport<'a>,
    result: &'a ExampleRun,
    registry: &'a FlagRegistry,
) -> ExampleRunReport<'a> {
    ExampleRunReport {
        example,
        outcome: result.outcome,
        got: result.got.as_deref(),
        exception: result.exception.as_ref().map(|exception| ExceptionReport {
            type_name: &exception.type_name,
            message: &exception.message,
            exc_msg: &exception.exc_msg,
            traceback: &exception.traceback,
        }),
        fault: result.fault.as_deref(),
        duration_ms: result.duration.as_secs_f64() * 1000.0,
        artifacts: &result.artifacts,
        flags: result
            .flags
            .iter()
            .map(|flag| registry.name(flag))
            .collect(),
        truncated: result.truncated,
        skip_reason: result.skip_reason.as_deref(),
    }
}
