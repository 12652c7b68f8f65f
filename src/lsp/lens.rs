//! Code lenses and links: a summary and "Run page" on the first line, "Run from here" on each
//! example; links from include/figure targets and from examples to the files they wrote.

use tower_lsp_server::ls_types::{CodeLens, Command, DocumentLink, Position, Range, Uri};

use crate::runner::run::{ExampleRun, Outcome};

use super::document::Document;

pub const RUN_PAGE: &str = "objgraph-doctest.runPage";
pub const RUN_FROM: &str = "objgraph-doctest.runFrom";

/// The lenses of a document.
pub fn code_lenses(document: &Document, results: &[Option<ExampleRun>]) -> Vec<CodeLens> {
    if document.page.examples.is_empty() {
        return Vec::new();
    }
    let top = Range::new(Position::new(0, 0), Position::new(0, 0));
    let uri = serde_json::Value::String(document.uri.as_str().to_owned());
    let mut lenses = vec![
        CodeLens {
            range: top,
            command: Some(Command::new(
                summary(results),
                RUN_PAGE.to_owned(),
                Some(vec![uri.clone()]),
            )),
            data: None,
        },
        CodeLens {
            range: top,
            command: Some(Command::new(
                "Run page".to_owned(),
                RUN_PAGE.to_owned(),
                Some(vec![uri.clone()]),
            )),
            data: None,
        },
    ];
    for (index, example) in document.page.examples.iter().enumerate() {
        let line = (example.span.line - 1) as u32;
        lenses.push(CodeLens {
            range: Range::new(Position::new(line, 0), Position::new(line, 0)),
            command: Some(Command::new(
                "Run from here".to_owned(),
                RUN_FROM.to_owned(),
                Some(vec![uri.clone(), serde_json::Value::from(index)]),
            )),
            data: None,
        });
    }
    lenses
}

/// "16 passed, 1 failed" (and other counts when there are any).
pub fn summary(results: &[Option<ExampleRun>]) -> String {
    let count = |outcome: Outcome| {
        results
            .iter()
            .flatten()
            .filter(|run| run.outcome == outcome)
            .count()
    };
    let mut text = format!(
        "{} passed, {} failed",
        count(Outcome::Passed),
        count(Outcome::Failed)
    );
    for (outcome, label) in [
        (Outcome::Skipped, "skipped"),
        (Outcome::Timeout, "timed out"),
        (Outcome::Crashed, "crashed"),
        (Outcome::NotRun, "not run"),
    ] {
        let n = count(outcome);
        if n > 0 {
            text.push_str(&format!(", {n} {label}"));
        }
    }
    let pending = results.iter().filter(|result| result.is_none()).count();
    if pending > 0 {
        text.push_str(&format!(", {pending} pending"));
    }
    text
}

/// Links: include and figure targets to their files (or, for a figure an example draws, to
/// the copy of what it drew), and each example that wrote files to the first of them.
pub fn document_links(document: &Document, results: &[Option<ExampleRun>]) -> Vec<DocumentLink> {
    let base = std::path::Path::new(&document.path)
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let artifacts: Vec<_> = results
        .iter()
        .flatten()
        .flat_map(|run| run.artifacts.iter())
        .filter(|a| a.copied)
        .collect();
    let mut links = Vec::new();
    for reference in &document.page.structure.references {
        let resolved = base.join(&reference.target);
        let target = if resolved.exists() {
            Some(resolved)
        } else {
            artifacts
                .iter()
                .find(|artifact| artifact.name == reference.target)
                .map(|artifact| artifact.path.clone())
        };
        if let Some(uri) = target.and_then(Uri::from_file_path) {
            links.push(DocumentLink {
                range: document
                    .index
                    .range(&document.text, reference.bytes.clone()),
                target: Some(uri),
                tooltip: Some(reference.target.clone()),
                data: None,
            });
        }
    }
    for (example, result) in document.page.examples.iter().zip(results) {
        let Some(artifact) = result
            .as_ref()
            .and_then(|run| run.artifacts.iter().find(|a| a.copied))
        else {
            continue;
        };
        let line = document
            .index
            .line_range(&document.text, example.span.line - 1);
        let source = &document.text[line.clone()];
        let Some(at) = source.find(&artifact.name) else {
            continue;
        };
        if let Some(uri) = Uri::from_file_path(&artifact.path) {
            let start = line.start + at;
            links.push(DocumentLink {
                range: document
                    .index
                    .range(&document.text, start..start + artifact.name.len()),
                target: Some(uri),
                tooltip: Some(format!(
                    "what this example wrote: {}",
                    artifact.path.display()
                )),
                data: None,
            });
        }
    }
    links
}
