//! Diagnostics: parse errors where they are; failing examples over their expected output (or
//! their source when they expect nothing); unexpected exceptions, timeouts and crashes at
//! the example; passes that NODES_VARY (or a user flag) excused, as hints; problems with the
//! environment as one warning at the top; a problem that stopped the whole page (failing
//! setup code with its traceback, unusable options) as an error at the top.

use tower_lsp_server::ls_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    Position, Range,
};

use std::path::Path;

use crate::engine::page::ReferenceKind;
use crate::engine::{Example, FlagRegistry, diff, graph};
use crate::runner::run::{ExampleRun, Outcome};

use super::document::Document;

const SOURCE: &str = "objgraph-doctest";

/// All diagnostics of a document: parse errors, results, references that point nowhere,
/// and `warnings` at the top. `root` resolves `/`-rooted targets.
pub fn diagnostics(
    document: &Document,
    results: &[Option<ExampleRun>],
    warnings: &[String],
    registry: &FlagRegistry,
    root: &Path,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for warning in warnings {
        out.push(diagnostic(
            Range::new(Position::new(0, 0), Position::new(0, 0)),
            DiagnosticSeverity::WARNING,
            "environment",
            warning.clone(),
        ));
    }
    for error in &document.page.errors {
        let range = document
            .index
            .range_at_column(&document.text, error.line, error.column);
        let code = serde_json::to_value(error.kind)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_else(|| "parse-error".to_owned());
        out.push(diagnostic(
            range,
            DiagnosticSeverity::ERROR,
            &code,
            error.message.clone(),
        ));
    }
    for warning in &document.page.warnings {
        let range = document
            .index
            .range_at_column(&document.text, warning.line, warning.column);
        out.push(diagnostic(
            range,
            DiagnosticSeverity::WARNING,
            "untested-example",
            warning.message.clone(),
        ));
    }
    for (example, result) in document.page.examples.iter().zip(results) {
        if let Some(result) = result
            && let Some(found) = example_diagnostic(document, example, result, registry)
        {
            out.push(found);
        }
    }
    out.extend(missing_targets(document, root));
    out
}

/// A problem that stopped the whole page (its setup code failed, its options are bad), as an
/// error at the top of the page carrying the whole message (a traceback included), as the
/// CLI reports it for the page.
pub fn page_error(message: Option<&str>) -> Option<Diagnostic> {
    message.map(|message| {
        diagnostic(
            Range::new(Position::new(0, 0), Position::new(0, 0)),
            DiagnosticSeverity::ERROR,
            "page-error",
            message.to_owned(),
        )
    })
}

/// Includes and toctree entries whose files do not exist, as warnings at the target.
fn missing_targets(document: &Document, root: &Path) -> Vec<Diagnostic> {
    let page = Path::new(&document.path);
    document
        .page
        .structure
        .references
        .iter()
        .filter_map(|reference| {
            let exists = match reference.kind {
                ReferenceKind::Include => {
                    graph::resolve(page, &reference.target, root).is_none_or(|path| path.exists())
                }
                ReferenceKind::Toctree => {
                    let candidates = graph::toctree_candidates(page, &reference.target, root);
                    candidates.is_empty() || candidates.iter().any(|path| path.exists())
                }
                // Figures and images are often drawn by the page's own examples.
                ReferenceKind::Figure | ReferenceKind::Image => true,
            };
            (!exists).then(|| {
                diagnostic(
                    document
                        .index
                        .range(&document.text, reference.bytes.clone()),
                    DiagnosticSeverity::WARNING,
                    "missing-target",
                    format!(
                        "{} does not exist (relative to this page's directory)",
                        reference.target
                    ),
                )
            })
        })
        .collect()
}

fn diagnostic(
    range: Range,
    severity: DiagnosticSeverity,
    code: &str,
    message: String,
) -> Diagnostic {
    Diagnostic {
        range,
        severity: Some(severity),
        code: Some(NumberOrString::String(code.to_owned())),
        source: Some(SOURCE.to_owned()),
        message,
        ..Diagnostic::default()
    }
}

/// Where an example's verdict is shown: its expected output, else its first source line.
pub fn verdict_range(document: &Document, example: &Example) -> Range {
    let span = &example.span;
    if span.want_lines > 0 {
        // From the first character of the output, past its indentation.
        let first_line = &document.text[span.want_bytes.clone()];
        let indentation = first_line.len() - first_line.trim_start_matches([' ', '\t']).len();
        let start = span.want_bytes.start + indentation;
        let last_line = document
            .index
            .line_range(&document.text, span.end_line() - 1);
        return document
            .index
            .range(&document.text, start..last_line.end.max(start));
    }
    source_range(document, example)
}

/// The example's first source line, from its `>>>` (not the indentation before it).
pub fn source_range(document: &Document, example: &Example) -> Range {
    let line = document
        .index
        .line_range(&document.text, example.span.line - 1);
    let start = document.text[line.clone()]
        .find(">>>")
        .map_or(line.start, |offset| line.start + offset);
    document.index.range(&document.text, start..line.end)
}

fn example_diagnostic(
    document: &Document,
    example: &Example,
    result: &ExampleRun,
    registry: &FlagRegistry,
) -> Option<Diagnostic> {
    let got = result.got.as_deref().unwrap_or("");
    match result.outcome {
        Outcome::Failed if result.exception.is_some() && example.exc_msg.is_none() => {
            let exception = result.exception.as_ref()?;
            let line = exception
                .exc_msg
                .trim_end()
                .lines()
                .last()
                .unwrap_or("")
                .to_owned();
            Some(diagnostic(
                source_range(document, example),
                DiagnosticSeverity::ERROR,
                "exception",
                format!("unexpected exception: {line}"),
            ))
        }
        Outcome::Failed => {
            let (want, actual) = match (&result.exception, &example.exc_msg) {
                (Some(exception), Some(expected)) => {
                    (expected.as_str(), exception.exc_msg.as_str())
                }
                _ => (example.want.as_str(), got),
            };
            let message = diff::first_difference(want, actual)
                .map_or_else(|| "output differs".to_owned(), |first| first.message());
            let mut found = diagnostic(
                verdict_range(document, example),
                DiagnosticSeverity::ERROR,
                "failed",
                message,
            );
            let full = diff::unified_diff(want, actual, 3).render_unified("expected", "actual");
            if !full.is_empty() {
                found.related_information = Some(vec![DiagnosticRelatedInformation {
                    location: Location::new(document.uri.clone(), verdict_range(document, example)),
                    message: full,
                }]);
            }
            Some(found)
        }
        Outcome::Timeout | Outcome::Crashed => {
            let code = if result.outcome == Outcome::Timeout {
                "timeout"
            } else {
                "crashed"
            };
            let message = result
                .fault
                .clone()
                .unwrap_or_else(|| "the interpreter stopped".to_owned());
            Some(diagnostic(
                source_range(document, example),
                DiagnosticSeverity::ERROR,
                code,
                message,
            ))
        }
        Outcome::Passed => {
            let verdict = result.judgement.as_ref()?.verdict.as_ref()?;
            let excuse = verdict.excuse(registry)?;
            Some(diagnostic(
                verdict_range(document, example),
                DiagnosticSeverity::HINT,
                "excused",
                excuse,
            ))
        }
        Outcome::Skipped | Outcome::NotRun => None,
    }
}
