//! The report for people: doctest's familiar layout for each failure (`File "...", line N,
//! in NAME` / `Failed example:` / `Expected:` / `Got:`), then a unified diff, the artifacts
//! an example wrote, and one closing line of counts.

use std::fmt::Write as _;

use crate::engine::diff;
use crate::engine::{Flag, FlagRegistry};
use crate::runner::artifacts::ArtifactKind;
use crate::runner::run::{ExampleRun, Outcome, PageRun, Summary};

use super::style::Palette;

pub(crate) mod figures;

/// The line doctest prints between failures.
const SEPARATOR: &str = "**********************************************************************";

/// The report of one finished page: nothing for a page that passed.
pub fn render_page(run: &PageRun, registry: &FlagRegistry, palette: &Palette) -> String {
    let mut out = String::new();
    let page = &run.page;
    let name = page_name(&page.path);
    for error in &page.errors {
        let _ = writeln!(out, "{}", palette.dim(SEPARATOR));
        let _ = writeln!(
            out,
            "File \"{}\", line {}, column {}, in {name}",
            page.path, error.line, error.column
        );
        let _ = writeln!(
            out,
            "{} {}",
            palette.error("Page cannot be read:"),
            error.message
        );
    }
    if let Some(error) = &run.error {
        let _ = writeln!(out, "{}", palette.dim(SEPARATOR));
        let _ = writeln!(out, "File \"{}\", in {name}", page.path);
        let _ = writeln!(
            out,
            "{} {}",
            palette.error("Page could not run:"),
            error.trim_end()
        );
    }
    let mut reported_failure = false;
    for (index, (example, result)) in page.examples.iter().zip(&run.examples).enumerate() {
        let figures = figures::example_lines(&run.figures, index, palette);
        let quiet = reported_failure && result.flags.contains(Flag::REPORT_ONLY_FIRST_FAILURE);
        let problem = is_problem(result.outcome) && !quiet;
        if !problem && figures.is_empty() {
            continue;
        }
        reported_failure |= problem;
        let _ = writeln!(out, "{}", palette.dim(SEPARATOR));
        let _ = writeln!(
            out,
            "File \"{}\", line {}, in {name}",
            page.path, example.span.line
        );
        if !problem {
            out.push_str(&figures);
            continue;
        }
        match result.outcome {
            Outcome::Failed => render_failure(&mut out, example, result, palette),
            Outcome::Timeout | Outcome::Crashed => {
                let fault = result.fault.as_deref().unwrap_or("the interpreter stopped");
                let _ = writeln!(
                    out,
                    "{}",
                    palette.error(&format!("{}:", capitalized(fault)))
                );
                out.push_str(&indent(&example.source));
                let later = run
                    .examples
                    .iter()
                    .filter(|e| e.outcome == Outcome::NotRun)
                    .count();
                if later > 0 {
                    let _ = writeln!(out, "({} not run)", count(later, "later example"));
                }
            }
            _ => {}
        }
        render_artifacts(&mut out, result, palette);
        out.push_str(&figures);
        let _ = registry;
    }
    out.push_str(&figures::undrawn_lines(run, palette));
    out
}

fn render_failure(
    out: &mut String,
    example: &crate::engine::Example,
    result: &ExampleRun,
    palette: &Palette,
) {
    let got = result.got.as_deref().unwrap_or("");
    let _ = writeln!(out, "{}", palette.error("Failed example:"));
    out.push_str(&indent(&example.source));
    let unexpected = result.exception.is_some() && example.exc_msg.is_none();
    if unexpected {
        let _ = writeln!(out, "Exception raised:");
        out.push_str(&indent(got));
    } else {
        out.push_str(&diff::output_difference(&example.want, got, result.flags));
        let compared_got = match (&result.exception, &example.exc_msg) {
            (Some(exception), Some(_)) => exception.exc_msg.as_str(),
            _ => got,
        };
        let compared_want = example
            .exc_msg
            .as_deref()
            .filter(|_| result.exception.is_some())
            .unwrap_or(&example.want);
        let unified = diff::unified_diff(compared_want, compared_got, 3);
        // With a REPORT_* flag, doctest's own difference above is already a diff.
        let reported = [Flag::REPORT_UDIFF, Flag::REPORT_CDIFF, Flag::REPORT_NDIFF]
            .iter()
            .any(|&flag| result.flags.contains(flag));
        if !unified.hunks.is_empty() && !reported {
            let _ = writeln!(out, "Diff (-expected +actual):");
            for line in unified.render_unified("expected", "actual").lines().skip(2) {
                let styled = if line.starts_with('+') {
                    palette.added(line)
                } else if line.starts_with('-') {
                    palette.removed(line)
                } else if line.starts_with("@@") {
                    palette.dim(line)
                } else {
                    line.to_owned()
                };
                let _ = writeln!(out, "    {styled}");
            }
        }
    }
    if result.truncated {
        let _ = writeln!(
            out,
            "(output cut: the example printed more than the output cap)"
        );
    }
    if result.lossy {
        let _ = writeln!(
            out,
            "(the lone surrogates the example printed are shown as U+FFFD)"
        );
    }
}

fn render_artifacts(out: &mut String, result: &ExampleRun, palette: &Palette) {
    if result.artifacts.is_empty() {
        return;
    }
    let _ = writeln!(out, "Artifacts:");
    for artifact in &result.artifacts {
        let mut line = format!(
            "    {} ({})",
            artifact.path.display(),
            kind_name(artifact.kind)
        );
        if let Some(summary) = &artifact.dot {
            let _ = write!(line, ": {}", summary.describe());
        }
        if let Some(note) = &artifact.note {
            let _ = write!(line, " [{note}]");
        }
        let _ = writeln!(out, "{}", palette.dim(&line));
    }
}

fn kind_name(kind: ArtifactKind) -> &'static str {
    match kind {
        ArtifactKind::Image => "image",
        ArtifactKind::Dot => "graph",
        ArtifactKind::Other => "file",
    }
}

fn is_problem(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Failed | Outcome::Timeout | Outcome::Crashed
    )
}

/// The closing line: `N passed, N failed`, then other counts when non-zero.
pub fn summary_line(summary: &Summary) -> String {
    let mut line = format!("{} passed, {} failed", summary.passed, summary.failed);
    for (n, what) in [
        (summary.skipped, "skipped"),
        (summary.timeout, "timed out"),
        (summary.crashed, "crashed"),
        (summary.not_run, "not run"),
    ] {
        if n > 0 {
            let _ = write!(line, ", {n} {what}");
        }
    }
    if summary.page_errors > 0 {
        let _ = write!(line, ", {}", count(summary.page_errors, "page error"));
    }
    line
}

/// The report's first line: which configuration file was used, as pytest's `configfile:`.
pub fn render_header(config_file: Option<&str>) -> String {
    match config_file {
        Some(path) => format!("configfile: {path}\n"),
        None => "configfile: none (defaults)\n".to_owned(),
    }
}

/// The header line naming the interpreter the examples run with and why it was chosen.
pub fn render_python_header(path: &str, origin: &str) -> String {
    format!("python: {path} (from {origin})\n")
}

/// The header's profile lines: which pages follow which runner, and the file that decided
/// it. Nothing when every page is read as `DocFileSuite` reads it with nothing deciding
/// (today's report, unchanged).
pub fn render_profiles(
    pages: &[crate::engine::Page],
    profiles: &crate::runner::profile::Profiles,
) -> String {
    // (profile, what decided it) -> pages, in page order of first appearance.
    type Decided = (crate::engine::Profile, Option<String>);
    let mut groups: Vec<(Decided, Vec<&str>)> = Vec::new();
    for page in pages {
        let profile = profiles.for_page(std::path::Path::new(&page.path));
        let decided_by = profile.sources.first().map(|source| {
            format!(
                "{}: {}",
                crate::runner::display_path(&source.path),
                source.what
            )
        });
        let key = (profile.profile(), decided_by);
        match groups.iter_mut().find(|(group, _)| *group == key) {
            Some((_, members)) => members.push(&page.path),
            None => groups.push((key, vec![&page.path])),
        }
    }
    if groups.iter().all(|((profile, decided_by), _)| {
        *profile == crate::engine::Profile::Doctest && decided_by.is_none()
    }) {
        return String::new();
    }
    const SHOWN: usize = 5;
    let mut out = String::new();
    for ((profile, decided_by), members) in &groups {
        let mut listed = members
            .iter()
            .take(SHOWN)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if members.len() > SHOWN {
            let _ = write!(listed, " and {} more", members.len() - SHOWN);
        }
        let _ = writeln!(out, "profile {profile}: {listed}");
        match decided_by {
            Some(source) => {
                let _ = writeln!(out, "  from {source}");
            }
            None => {
                let _ = writeln!(
                    out,
                    "  from the defaults (no configuration decides these pages)"
                );
            }
        }
    }
    out
}

/// A warning printed once at the top of the report.
pub fn render_warning(message: &str, palette: &Palette) -> String {
    format!("{} {message}\n", palette.warning("warning:"))
}

/// doctest's `_indent`, ending with a line end.
fn indent(text: &str) -> String {
    let mut out = diff::indent(text);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn page_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
