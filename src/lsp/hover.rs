//! Hovers: on a `# doctest:` directive, what each flag does; on an include, figure or image
//! target, where it points (and the image itself); on an example, what it really printed,
//! the diff when it failed, the flags in effect and the graphs it drew.

use std::fmt::Write as _;
use std::path::Path;

use tower_lsp_server::ls_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position, Uri};

use crate::engine::diff;
use crate::engine::page::ReferenceKind;
use crate::engine::{FlagRegistry, FlagSet};
use crate::runner::artifacts::ArtifactKind;
use crate::runner::run::{ExampleRun, Outcome};

use super::directive::directive_in_line;
use super::document::Document;

/// The hover at `position`, if there is something to say there.
pub fn hover(
    document: &Document,
    results: &[Option<ExampleRun>],
    position: Position,
    registry: &FlagRegistry,
) -> Option<Hover> {
    let offset = document.index.offset(&document.text, position);
    directive_hover(document, offset, position, registry)
        .or_else(|| reference_hover(document, offset))
        .or_else(|| example_hover(document, results, position, registry))
}

/// On an example: outcome, actual output, diff, duration, flags, and what it drew.
fn example_hover(
    document: &Document,
    results: &[Option<ExampleRun>],
    position: Position,
    registry: &FlagRegistry,
) -> Option<Hover> {
    let index = document.example_at_line(position.line as usize)?;
    let example = &document.page.examples[index];
    let mut value = String::new();
    match results.get(index).and_then(Option::as_ref) {
        None => value.push_str("**not run yet**\n"),
        Some(result) => {
            let outcome = serde_json::to_value(result.outcome)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default();
            match result.outcome {
                Outcome::NotRun => {
                    let _ = writeln!(value, "**{outcome}**: an earlier example stopped the page");
                }
                Outcome::Skipped => {
                    let _ = writeln!(value, "**{outcome}** (SKIP)");
                }
                _ => {
                    let _ = writeln!(
                        value,
                        "**{outcome}** in {}",
                        crate::runner::run::format_duration(result.duration)
                    );
                }
            }
            if let Some(fault) = &result.fault {
                let _ = writeln!(value, "\n{fault}");
            }
            if let Some(excuse) = result
                .judgement
                .as_ref()
                .and_then(|judgement| judgement.verdict.as_ref())
                .and_then(|verdict| verdict.excuse(registry))
            {
                let _ = writeln!(value, "\n{excuse}");
            }
            if let Some(got) = &result.got {
                let shown = if got.is_empty() {
                    "(no output)"
                } else {
                    got.as_str()
                };
                let _ = write!(
                    value,
                    "\nActual output:\n```text\n{}\n```\n",
                    shown.trim_end_matches('\n')
                );
            }
            if result.outcome == Outcome::Failed {
                let got = result.got.as_deref().unwrap_or("");
                let diff =
                    diff::unified_diff(&example.want, got, 3).render_unified("expected", "actual");
                if !diff.is_empty() {
                    let _ = write!(value, "\nDiff:\n```diff\n{}```\n", diff);
                }
            }
            let flags = describe_flags(result.flags, registry);
            if !flags.is_empty() {
                let _ = write!(value, "\nFlags in effect:\n{flags}");
            }
            for artifact in &result.artifacts {
                let path = artifact.path.display();
                let _ = write!(value, "\n`{}` → {path}", artifact.name);
                if let Some(summary) = &artifact.dot {
                    let _ = write!(value, " ({})", summary.describe());
                }
                value.push('\n');
                if artifact.copied
                    && artifact.kind == ArtifactKind::Image
                    && let Some(uri) = Uri::from_file_path(&artifact.path)
                {
                    let _ = write!(value, "\n![{}]({})\n", artifact.name, uri.as_str());
                }
            }
            render_graph_diffs(&mut value, index, result);
        }
    }
    let start = document
        .index
        .line_range(&document.text, example.span.line - 1)
        .start;
    let end = document
        .index
        .line_range(&document.text, example.span.end_line() - 1)
        .end;
    Some(markdown(
        value,
        Some(document.index.range(&document.text, start..end)),
    ))
}

/// The nodes and edges the example's graphs gained or lost since the previous command-line
/// run of the page (docs/figures.md).
fn render_graph_diffs(value: &mut String, index: usize, result: &ExampleRun) {
    for changed in crate::runner::figures::previous_run_diffs(index, &result.artifacts) {
        let _ = write!(
            value,
            "\nGraph `{}` changed since the previous run:\n```diff\n{}\n```\n",
            changed.dot,
            changed.diff.lines(8).join("\n")
        );
    }
}

fn markdown(value: String, range: Option<tower_lsp_server::ls_types::Range>) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range,
    }
}

/// On a line with a `# doctest:` directive (as CPython finds one: `lsp::directive`), the
/// meaning of each option written there.
fn directive_hover(
    document: &Document,
    offset: usize,
    position: Position,
    registry: &FlagRegistry,
) -> Option<Hover> {
    let line = document
        .index
        .line_range(&document.text, position.line as usize);
    let directive = directive_in_line(&document.text[line.clone()])?;
    let hash = directive.hash;
    if offset < line.start + hash {
        return None;
    }
    let mut value = String::from("**doctest directive**\n\n");
    for option in directive.options() {
        // As the engine reads it: a sign, then a flag's name (any other first character,
        // ASCII or not, makes it unknown).
        let flag = option
            .strip_prefix(['+', '-'])
            .and_then(|name| registry.lookup(name));
        match flag {
            Some(flag) => {
                let info = registry.info(flag);
                let verb = if option.starts_with('+') { "on" } else { "off" };
                let _ = writeln!(value, "- `{option}` ({verb}): {}", info.summary);
            }
            None => {
                let _ = writeln!(
                    value,
                    "- `{option}`: not a known flag; write `+NAME` or `-NAME` with one of: {}",
                    registry
                        .iter()
                        .map(|(_, info)| info.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
    }
    let range = document
        .index
        .range(&document.text, line.start + hash..line.end);
    Some(markdown(value, Some(range)))
}

/// On an include, figure or image target: the resolved path, and the image for figures.
fn reference_hover(document: &Document, offset: usize) -> Option<Hover> {
    let reference = document
        .page
        .structure
        .references
        .iter()
        .find(|reference| reference.bytes.start <= offset && offset <= reference.bytes.end)?;
    let base = Path::new(&document.path).parent().unwrap_or(Path::new(""));
    let resolved = base.join(&reference.target);
    let exists = resolved.exists();
    let mut value = format!(
        "**{}** → `{}`{}\n",
        kind_name(reference.kind),
        resolved.display(),
        if exists { "" } else { " (not found)" }
    );
    if let Some(after) = &reference.start_after {
        let _ = writeln!(value, "\nfrom after `{after}`");
    }
    if let Some(before) = &reference.end_before {
        let _ = writeln!(value, "\nup to `{before}`");
    }
    if exists
        && matches!(reference.kind, ReferenceKind::Figure | ReferenceKind::Image)
        && let Some(uri) = Uri::from_file_path(&resolved)
    {
        let _ = write!(value, "\n![{}]({})\n", reference.target, uri.as_str());
    }
    let range = document
        .index
        .range(&document.text, reference.bytes.clone());
    Some(markdown(value, Some(range)))
}

fn kind_name(kind: ReferenceKind) -> &'static str {
    match kind {
        ReferenceKind::Include => "include",
        ReferenceKind::Figure => "figure",
        ReferenceKind::Image => "image",
        ReferenceKind::Toctree => "toctree entry",
    }
}

/// One line per flag in effect, with what it means.
pub fn describe_flags(flags: FlagSet, registry: &FlagRegistry) -> String {
    let mut value = String::new();
    for flag in flags.iter() {
        let info = registry.info(flag);
        let _ = writeln!(value, "- `{}`: {}", info.name, info.summary);
    }
    value
}
