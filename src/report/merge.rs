//! `objgraph-doctest merge`: the JSON reports of a sharded run (`--shard K/N`) read back and
//! combined into the report an unsharded run prints. The pages are taken verbatim from the
//! shards (so JSON fields this module does not know survive), put back in discovery order;
//! warnings are taken once each; the summary is counted again from the pages. For the other
//! formats each page is read back into a [`PageRun`] and given to the usual renderers.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::backend::RaisedException;
use crate::engine::page::{ExampleSpan, ParseErrorKind, RunSpec, Structure};
use crate::engine::{Example, FlagRegistry, FlagSet, Page, PageFormat, ParseError, Profile};
use crate::runner::artifacts::Artifact;
use crate::runner::figures::{FigureVerdict, PageFigures, StaleFigures};
use crate::runner::run::{ExampleRun, Outcome, PageRun, Summary};
use crate::runner::shard::Shard;

use super::collect::SCHEMA_VERSION;

/// Why the reports cannot be merged; each names the file (and place) and what to do.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: cannot be read: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path}:{line}:{column}: not valid JSON: {message}")]
    NotJson {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {why}; give the output of `objgraph-doctest --format json [--shard K/N]`")]
    NotARunReport { path: String, why: String },
    #[error(
        "{path}: report version {found}, but this objgraph-doctest reads version {SCHEMA_VERSION}; \
         run every shard with the same objgraph-doctest as merges them"
    )]
    OtherVersion { path: String, found: String },
    #[error("{problem}; give the reports of all the shards of one run (`--shard K/N`, K = 1..N)")]
    Shards { problem: String },
    #[error(
        "{page}: in both {first} and {second}; every page must come from one shard (was a \
         shard's report given twice, or were the shards run with different --shard counts?)"
    )]
    DuplicatePage {
        page: String,
        first: String,
        second: String,
    },
}

/// The merged run: the pages (verbatim JSON and read back), warnings and counts.
pub struct Merged {
    /// The first report's top-level fields, in order, with `warnings`, `pages` and `summary`
    /// replaced by the merged ones when rendered.
    top: Vec<(String, Box<RawValue>)>,
    pages: Vec<Box<RawValue>>,
    pub configfile: Option<String>,
    /// The first report's interpreter (`path`, `origin`), for the human header.
    pub python: Option<(String, String)>,
    pub warnings: Vec<String>,
    pub runs: Vec<PageRun>,
    pub summary: Summary,
    /// The shards' run times added up (the machine time of the whole run).
    pub duration: Duration,
    /// The figures of all the shards' pages, judged by the first report's rules.
    pub figures: FigureVerdict,
}

/// Reads and merges the reports at `paths`.
pub fn merge_files(paths: &[PathBuf]) -> Result<Merged, MergeError> {
    let mut inputs = Vec::with_capacity(paths.len());
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|error| MergeError::Unreadable {
            path: shown(path),
            message: error.to_string(),
        })?;
        inputs.push((shown(path), text));
    }
    merge_texts(&inputs)
}

/// Merges reports given as `(name, JSON text)`.
pub fn merge_texts(inputs: &[(String, String)]) -> Result<Merged, MergeError> {
    let registry = FlagRegistry::new();
    let mut top = None;
    let mut configfile = None;
    let mut python = None;
    let mut warnings: Vec<String> = Vec::new();
    let mut seen_warnings = HashSet::new();
    let mut pages: Vec<(Box<RawValue>, PageRun)> = Vec::new();
    let mut origin: BTreeMap<String, String> = BTreeMap::new();
    let mut duration = Duration::ZERO;
    let mut shards: Vec<(Option<Shard>, &str)> = Vec::new();
    let mut rules = (StaleFigures::default(), false);
    for (name, text) in inputs {
        let report = read_report(name, text)?;
        shards.push((report.view.shard, name));
        for warning in report.view.warnings {
            if seen_warnings.insert(warning.clone()) {
                warnings.push(warning);
            }
        }
        duration += Duration::from_millis(report.view.summary.duration_ms);
        for raw in report.view.pages {
            let page: PageView =
                serde_json::from_str(raw.get()).map_err(|error| MergeError::NotARunReport {
                    path: name.clone(),
                    why: format!("a page is not a run report's page ({error})"),
                })?;
            if let Some(first) = origin.insert(page.path.clone(), name.clone()) {
                return Err(MergeError::DuplicatePage {
                    page: page.path,
                    first,
                    second: name.clone(),
                });
            }
            pages.push((raw, page.into_run(&registry)));
        }
        if top.is_none() {
            rules = (report.view.stale_figures, report.view.update_figures);
            configfile = report.view.configfile;
            python = report
                .view
                .python
                .map(|python| (python.path, python.origin));
            top = Some(report.top.0);
        }
    }
    check_shards(&shards)?;
    // Discovery sorts pages by path; shards keep that order, so sorting restores it.
    pages.sort_by(|(_, a), (_, b)| Path::new(&a.page.path).cmp(Path::new(&b.page.path)));
    let mut summary = Summary::default();
    for (_, run) in &pages {
        summary.add(run);
    }
    let (pages, runs): (Vec<_>, Vec<PageRun>) = pages.into_iter().unzip();
    let figures = FigureVerdict::of(&runs, rules.0, rules.1);
    Ok(Merged {
        figures,
        top: top.unwrap_or_default(),
        pages,
        configfile,
        python,
        warnings,
        runs,
        summary,
        duration,
    })
}

/// The merged run as the JSON report an unsharded run prints.
pub fn render_json(merged: &Merged) -> String {
    let report = MergedReport(merged);
    let mut json = serde_json::to_string_pretty(&report).unwrap_or_else(|error| {
        format!(
            "{{\"version\":{SCHEMA_VERSION},\"error\":\"cannot serialise the report: {error}\"}}"
        )
    });
    json.push('\n');
    json
}

struct MergedReport<'a>(&'a Merged);

#[derive(Serialize)]
struct SummaryReport {
    #[serde(flatten)]
    counts: Summary,
    duration_ms: u128,
}

impl Serialize for MergedReport<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let merged = self.0;
        let mut map = serializer.serialize_map(Some(merged.top.len()))?;
        for (key, value) in &merged.top {
            match key.as_str() {
                "warnings" => map.serialize_entry(key, &merged.warnings)?,
                "pages" => map.serialize_entry(key, &merged.pages)?,
                "summary" => map.serialize_entry(
                    key,
                    &SummaryReport {
                        counts: merged.summary,
                        duration_ms: merged.duration.as_millis(),
                    },
                )?,
                // The merged run is not a shard.
                "shard" => {}
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

/// The reports of a sharded run must be its N shards, each once; reports of unsharded runs
/// (of different page sets, say) are merged without this check, but not mixed with shards.
fn check_shards(shards: &[(Option<Shard>, &str)]) -> Result<(), MergeError> {
    let problem = |problem: String| Err(MergeError::Shards { problem });
    let Some(&(Some(first), first_name)) = shards.iter().find(|(shard, _)| shard.is_some()) else {
        return Ok(());
    };
    let mut given: BTreeMap<usize, &str> = BTreeMap::new();
    for &(shard, name) in shards {
        let Some(shard) = shard else {
            return problem(format!(
                "{name} is not a shard's report but {first_name} is shard {first}"
            ));
        };
        if shard.count != first.count {
            return problem(format!(
                "{name} is shard {shard} but {first_name} is shard {first}"
            ));
        }
        if let Some(other) = given.insert(shard.index, name) {
            return problem(format!("{other} and {name} are both shard {shard}"));
        }
    }
    let missing: Vec<String> = (1..=first.count)
        .filter(|index| !given.contains_key(index))
        .map(|index| format!("{index}/{}", first.count))
        .collect();
    if !missing.is_empty() {
        let (noun, verb) = if missing.len() == 1 {
            ("shard", "is")
        } else {
            ("shards", "are")
        };
        return problem(format!("{noun} {} {verb} missing", missing.join(", ")));
    }
    Ok(())
}

/// One report: its top level verbatim and in order, and the fields merging reads.
struct ReadReport {
    top: OrderedFields,
    view: ReportView,
}

#[derive(Deserialize)]
struct ReportView {
    configfile: Option<String>,
    warnings: Vec<String>,
    pages: Vec<Box<RawValue>>,
    summary: SummaryView,
    #[serde(default)]
    shard: Option<Shard>,
    /// Absent in reports from before the header named the interpreter.
    #[serde(default)]
    python: Option<PythonView>,
    /// Absent in reports from before figures were checked: the defaults.
    #[serde(default)]
    stale_figures: StaleFigures,
    #[serde(default)]
    update_figures: bool,
}

#[derive(Deserialize)]
struct PythonView {
    path: String,
    origin: String,
}

#[derive(Deserialize)]
struct SummaryView {
    duration_ms: u64,
}

fn read_report(name: &str, text: &str) -> Result<ReadReport, MergeError> {
    let not_json = |error: serde_json::Error| MergeError::NotJson {
        path: name.to_owned(),
        line: error.line(),
        column: error.column(),
        message: error.to_string(),
    };
    let not_report = |why: String| MergeError::NotARunReport {
        path: name.to_owned(),
        why,
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(not_json)?;
    let Some(object) = value.as_object() else {
        return Err(not_report("not a JSON object".to_owned()));
    };
    match object.get("version") {
        None => return Err(not_report("no \"version\": not a report".to_owned())),
        Some(version) if version.as_u64() != Some(u64::from(SCHEMA_VERSION)) => {
            return Err(MergeError::OtherVersion {
                path: name.to_owned(),
                found: version.to_string(),
            });
        }
        Some(_) => {}
    }
    if !object.contains_key("summary") {
        return Err(not_report(
            "a --collect-only report (it has no \"summary\"), not a run report".to_owned(),
        ));
    }
    let top: OrderedFields = serde_json::from_str(text).map_err(not_json)?;
    let view: ReportView = serde_json::from_str(text)
        .map_err(|error| not_report(format!("not a run report ({error})")))?;
    Ok(ReadReport { top, view })
}

/// A JSON object's fields, in the order written, each verbatim.
struct OrderedFields(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for OrderedFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = OrderedFields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedFields, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    fields.push(entry);
                }
                Ok(OrderedFields(fields))
            }
        }
        deserializer.deserialize_map(FieldsVisitor)
    }
}

/// A page of a run report, as the renderers need it.
#[derive(Deserialize)]
struct PageView {
    path: String,
    format: PageFormat,
    errors: Vec<ErrorView>,
    error: Option<String>,
    duration_ms: u64,
    examples: Vec<ExampleView>,
    /// Absent when the page had nothing to say about figures (or in older reports).
    #[serde(default)]
    figures: PageFigures,
}

#[derive(Deserialize)]
struct ErrorView {
    line: usize,
    column: usize,
    kind: ParseErrorKind,
    message: String,
}

#[derive(Deserialize)]
struct ExampleView {
    line: usize,
    end_line: usize,
    source: String,
    want: String,
    exc_msg: Option<String>,
    indent: usize,
    outcome: Outcome,
    got: Option<String>,
    exception: Option<ExceptionView>,
    fault: Option<String>,
    duration_ms: f64,
    #[serde(default)]
    artifacts: Vec<Artifact>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    truncated: bool,
    #[serde(default)]
    skip_reason: Option<String>,
}

#[derive(Deserialize)]
struct ExceptionView {
    #[serde(rename = "type")]
    type_name: String,
    message: String,
    #[serde(default)]
    exc_msg: String,
    traceback: String,
}

impl PageView {
    fn into_run(self, registry: &FlagRegistry) -> PageRun {
        let (examples, results) = self
            .examples
            .into_iter()
            .map(|example| example.into_parts(registry))
            .unzip();
        PageRun {
            page: Page {
                path: self.path,
                format: self.format,
                profile: Profile::default(),
                text: String::new(),
                examples,
                errors: self
                    .errors
                    .into_iter()
                    .map(|error| ParseError {
                        line: error.line,
                        column: error.column,
                        kind: error.kind,
                        message: error.message,
                    })
                    .collect(),
                warnings: Vec::new(),
                structure: Structure::default(),
            },
            examples: results,
            error: self.error,
            duration: Duration::from_millis(self.duration_ms),
            figures: self.figures,
        }
    }
}

impl ExampleView {
    fn into_parts(self, registry: &FlagRegistry) -> (Example, ExampleRun) {
        let source_lines = self.source.lines().count().max(1);
        let occupied = (self.end_line + 1).saturating_sub(self.line);
        let flags = self
            .flags
            .iter()
            .filter_map(|name| {
                registry
                    .iter()
                    .find(|(_, info)| &info.name == name)
                    .map(|(flag, _)| flag)
            })
            .fold(FlagSet::EMPTY, FlagSet::with);
        let example = Example {
            source: self.source,
            want: self.want,
            exc_msg: self.exc_msg,
            indent: self.indent,
            // The directives are already folded into `flags`; nothing re-renders them.
            options: Vec::new(),
            span: ExampleSpan {
                line: self.line,
                source_lines,
                want_lines: occupied.saturating_sub(source_lines),
                source_bytes: 0..0,
                want_bytes: 0..0,
            },
            run: RunSpec::default(),
        };
        let duration = if self.duration_ms.is_finite() && self.duration_ms >= 0.0 {
            Duration::from_secs_f64(self.duration_ms / 1000.0)
        } else {
            Duration::ZERO
        };
        let result = ExampleRun {
            outcome: self.outcome,
            flags,
            got: self.got,
            truncated: self.truncated,
            lossy: false,
            exception: self.exception.map(|exception| RaisedException {
                type_name: exception.type_name,
                message: exception.message,
                exc_msg: exception.exc_msg,
                traceback: exception.traceback,
            }),
            judgement: None,
            fault: self.fault,
            skip_reason: self.skip_reason,
            duration,
            artifacts: self.artifacts,
        };
        (example, result)
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(pages: &str) -> String {
        format!(
            "{{\n  \"version\": 1,\n  \"configfile\": null,\n  \"warnings\": [\"w\"],\n  \
             \"pages\": [{pages}],\n  \"summary\": {{\"passed\": 0, \"duration_ms\": 5}}\n}}\n"
        )
    }

    fn page(path: &str, outcome: &str) -> String {
        format!(
            "{{\"path\": \"{path}\", \"format\": \"text\", \"errors\": [], \"error\": null, \
             \"duration_ms\": 3, \"examples\": [{{\"line\": 1, \"end_line\": 2, \"source\": \
             \"1\\n\", \"want\": \"1\\n\", \"exc_msg\": null, \"indent\": 0, \"options\": {{}}, \
             \"outcome\": \"{outcome}\", \"got\": \"1\\n\", \"exception\": null, \"fault\": \
             null, \"duration_ms\": 1.5, \"artifacts\": [], \"flags\": [], \"truncated\": \
             false}}]}}"
        )
    }

    fn input(name: &str, text: String) -> (String, String) {
        (name.to_owned(), text)
    }

    #[test]
    fn merges_pages_in_path_order_and_counts_again() {
        let merged = merge_texts(&[
            input("b.json", report(&page("docs/b.txt", "failed"))),
            input("a.json", report(&page("docs/a.txt", "passed"))),
        ])
        .unwrap();
        let paths: Vec<&str> = merged.runs.iter().map(|r| r.page.path.as_str()).collect();
        assert_eq!(paths, ["docs/a.txt", "docs/b.txt"]);
        assert_eq!((merged.summary.passed, merged.summary.failed), (1, 1));
        assert_eq!(merged.warnings, ["w"]);
        assert_eq!(merged.duration, Duration::from_millis(10));
        let json = render_json(&merged);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["summary"]["failed"], 1);
        assert_eq!(value["pages"][0]["path"], "docs/a.txt");
    }

    #[test]
    fn the_shards_of_a_run_must_all_be_there_once() {
        let shard = |index, count| Some(Shard { index, count });
        let check = |shards: &[(Option<Shard>, &str)]| match check_shards(shards) {
            Ok(()) => String::new(),
            Err(error) => error.to_string(),
        };
        assert_eq!(check(&[(shard(2, 2), "b"), (shard(1, 2), "a")]), "");
        assert_eq!(check(&[(None, "a"), (None, "b")]), "");
        assert!(check(&[(shard(1, 3), "a")]).starts_with("shards 2/3, 3/3 are missing"));
        assert!(check(&[(shard(1, 2), "a")]).starts_with("shard 2/2 is missing"));
        assert!(check(&[(shard(1, 2), "a"), (shard(1, 2), "b")]).starts_with("a and b are both"));
        assert!(check(&[(shard(1, 2), "a"), (shard(2, 3), "b")]).starts_with("b is shard 2/3"));
        assert!(check(&[(shard(1, 1), "a"), (None, "b")]).starts_with("b is not a shard's"));
    }

    #[test]
    fn refuses_what_is_not_a_shard_report() {
        let error = |inputs: &[(String, String)]| match merge_texts(inputs) {
            Err(error) => error.to_string(),
            Ok(_) => panic!("merged"),
        };
        let broken = error(&[input("x.json", "{\n  \"version\": 1,\n  oops".to_owned())]);
        assert!(broken.starts_with("x.json:3:3: not valid JSON"), "{broken}");
        let other = error(&[input(
            "x.json",
            report("").replace("\"version\": 1", "\"version\": 2"),
        )]);
        assert!(other.contains("report version 2"), "{other}");
        let collect = error(&[input(
            "c.json",
            "{\"version\": 1, \"warnings\": [], \"pages\": []}".to_owned(),
        )]);
        assert!(collect.contains("--collect-only"), "{collect}");
        let twice = error(&[
            input("1.json", report(&page("docs/a.txt", "passed"))),
            input("2.json", report(&page("docs/a.txt", "passed"))),
        ]);
        assert!(
            twice.starts_with("docs/a.txt: in both 1.json and 2.json"),
            "{twice}"
        );
        let array = error(&[input("a.json", "[]".to_owned())]);
        assert!(array.contains("not a JSON object"), "{array}");
    }
}
