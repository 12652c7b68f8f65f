//! GitHub Actions workflow commands: an annotation at the file and line of each failure.

use std::fmt::Write as _;

use crate::engine::diff;
use crate::runner::figures::FigureVerdict;
use crate::runner::run::{Outcome, PageRun, Summary};

use super::human::figures::figure_line;

/// One `::error` line per failing example or page error, one `::warning` (or `::error`,
/// with `stale-figures = "error"`) per figure out of date or not written, then a `::notice`
/// with the counts.
pub fn render(
    runs: &[PageRun],
    summary: &Summary,
    warnings: &[String],
    figures: &FigureVerdict,
) -> String {
    let mut out = String::new();
    for warning in warnings {
        let _ = writeln!(
            out,
            "::warning title=objgraph-doctest::{}",
            escape_data(warning)
        );
    }
    for run in runs {
        let page = &run.page;
        for error in &page.errors {
            annotate(
                &mut out,
                &page.path,
                error.line,
                Some(error.column),
                "doctest cannot read this page",
                &error.message,
            );
        }
        if let Some(error) = &run.error {
            annotate(&mut out, &page.path, 1, None, "page could not run", error);
        }
        for (example, result) in page.examples.iter().zip(&run.examples) {
            let (title, message) = match result.outcome {
                Outcome::Failed => {
                    let got = result.got.as_deref().unwrap_or("");
                    (
                        "example failed",
                        diff::output_difference(&example.want, got, result.flags),
                    )
                }
                Outcome::Timeout => (
                    "example timed out",
                    result.fault.clone().unwrap_or_default(),
                ),
                Outcome::Crashed => (
                    "interpreter crashed",
                    result.fault.clone().unwrap_or_default(),
                ),
                _ => continue,
            };
            annotate(
                &mut out,
                &page.path,
                example.span.line,
                None,
                title,
                &message,
            );
        }
        annotate_figures(&mut out, run, figures);
    }
    let errors = out
        .lines()
        .filter(|line| line.starts_with("::error "))
        .count();
    let mut notice = super::human::summary_line(summary);
    if errors > ANNOTATIONS_SHOWN {
        let _ = write!(
            notice,
            " ({errors} problems; GitHub shows {ANNOTATIONS_SHOWN} annotations per step: \
             --summary-markdown or the log lists them all)"
        );
    }
    let _ = writeln!(
        out,
        "::notice title=objgraph-doctest::{}",
        escape_data(&notice)
    );
    out
}

/// Error annotations GitHub shows per step (it drops the rest; 50 per job).
const ANNOTATIONS_SHOWN: usize = 10;

/// At each figure's line: one out of date (as `stale-figures` says), or one
/// `--update-figures` could not write (an error: it fails the run).
fn annotate_figures(out: &mut String, run: &PageRun, verdict: &FigureVerdict) {
    for check in &run.figures.figures {
        let Some(((level, title), message)) = verdict
            .problem(check)
            .zip(figure_line(check, run.figures.updated))
        else {
            continue;
        };
        annotate_as(
            out,
            level,
            (&run.page.path, check.line, None),
            title,
            &message,
        );
    }
}

fn annotate(
    out: &mut String,
    file: &str,
    line: usize,
    column: Option<usize>,
    title: &str,
    message: &str,
) {
    annotate_as(out, "error", (file, line, column), title, message);
}

fn annotate_as(
    out: &mut String,
    level: &str,
    (file, line, column): (&str, usize, Option<usize>),
    title: &str,
    message: &str,
) {
    let column = column
        .map(|column| format!(",col={column}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "::{level} file={},line={line}{column},title={}::{}",
        escape_property(file),
        escape_property(title),
        escape_data(message.trim_end())
    );
}

/// Workflow-command escaping of a message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Workflow-command escaping of a property value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_newlines_and_separators() {
        assert_eq!(escape_data("a\nb%"), "a%0Ab%25");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
