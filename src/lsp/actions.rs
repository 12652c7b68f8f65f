//! Code actions: accept an example's actual output (quick fix), accept all in the page
//! (source action), add `+NODES_VARY` when only node counts differ, skip an example.
//! The edits come from the engine (`engine::update`), as `--update`'s do.

use std::collections::HashMap;

use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Command, Diagnostic, Range, TextEdit,
    WorkspaceEdit,
};

use crate::engine::check::check_output;
use crate::engine::update::{TextEdit as EngineEdit, accept_actual};
use crate::engine::{Example, Flag, FlagRegistry};
use crate::runner::run::{ExampleRun, Outcome};

use super::directive::directive_in_line;
use super::document::Document;
use super::heap::{self, RefsKind};

/// The actions for `range` (and the whole page) given the latest results.
pub fn code_actions(
    document: &Document,
    results: &[Option<ExampleRun>],
    range: Range,
    diagnostics: &[Diagnostic],
    registry: &FlagRegistry,
) -> Vec<CodeActionOrCommand> {
    let mut actions = Vec::new();
    let first = range.start.line as usize;
    let last = range.end.line as usize;
    for (index, result) in failing(results) {
        let example = &document.page.examples[index];
        let lines = example.span.line - 1..example.span.end_line();
        if lines.end <= first || lines.start > last {
            continue;
        }
        if let Some(edit) = accept_edit(document, example, result, registry) {
            actions.push(action(
                document,
                "Accept actual output",
                CodeActionKind::QUICKFIX,
                vec![edit],
                diagnostics,
                true,
            ));
        }
        if only_node_counts_differ(example, result, registry) {
            let edit = add_directive(document, example, "NODES_VARY");
            actions.push(action(
                document,
                "Add +NODES_VARY",
                CodeActionKind::QUICKFIX,
                vec![edit],
                diagnostics,
                false,
            ));
        }
        let edit = add_directive(document, example, "SKIP");
        actions.push(action(
            document,
            "Skip this example (+SKIP)",
            CodeActionKind::QUICKFIX,
            vec![edit],
            &[],
            false,
        ));
    }
    let all: Vec<EngineEdit> = failing(results)
        .filter_map(|(index, result)| {
            accept_edit(document, &document.page.examples[index], result, registry)
        })
        .collect();
    if !all.is_empty() {
        actions.push(action(
            document,
            &format!("Accept all actual output in this page ({})", all.len()),
            CodeActionKind::SOURCE.clone(),
            all,
            &[],
            false,
        ));
    }
    actions
}

/// On a name in an example's source: "Show references of NAME" and "Show back-references
/// of NAME", which draw objgraph's graphs of its value at that point (`lsp::heap`). The
/// caller offers them only when examples may be executed.
pub fn heap_actions(document: &Document, range: Range) -> Vec<CodeActionOrCommand> {
    let Some(name) = heap::name_at(document, range.start) else {
        return Vec::new();
    };
    [RefsKind::Refs, RefsKind::Backrefs]
        .into_iter()
        .map(|kind| {
            let title = format!("Show {} of {}", kind.noun(), name.expression);
            CodeActionOrCommand::CodeAction(CodeAction {
                title: title.clone(),
                command: Some(Command {
                    title,
                    command: heap::SHOW_REFS.to_owned(),
                    arguments: Some(vec![
                        serde_json::json!(document.uri.as_str()),
                        serde_json::json!(range.start.line),
                        serde_json::json!(range.start.character),
                        serde_json::json!(kind.as_str()),
                    ]),
                }),
                ..CodeAction::default()
            })
        })
        .collect()
}

/// The failing examples, with their indices.
fn failing(results: &[Option<ExampleRun>]) -> impl Iterator<Item = (usize, &ExampleRun)> {
    results.iter().enumerate().filter_map(|(index, result)| {
        result
            .as_ref()
            .filter(|result| result.outcome == Outcome::Failed)
            .map(|result| (index, result))
    })
}

fn accept_edit(
    document: &Document,
    example: &Example,
    result: &ExampleRun,
    registry: &FlagRegistry,
) -> Option<EngineEdit> {
    accept_actual(
        &document.page,
        example,
        result.actual()?,
        result.flags,
        registry,
    )
}

/// The output would pass if NODES_VARY were on (and it is not).
fn only_node_counts_differ(
    example: &Example,
    result: &ExampleRun,
    registry: &FlagRegistry,
) -> bool {
    if result.flags.contains(Flag::NODES_VARY) || result.exception.is_some() {
        return false;
    }
    let got = result.got.as_deref().unwrap_or("");
    check_output(
        &example.want,
        got,
        result.flags.with(Flag::NODES_VARY),
        registry,
    )
    .passed
}

/// Adds `+FLAG` to the directive on the example's first line, or a new directive at its end.
/// Only a directive CPython would see counts (`lsp::directive`): `doctest:` in a string is
/// code, and appending there would change what the example does.
fn add_directive(document: &Document, example: &Example, flag: &str) -> EngineEdit {
    let line = document
        .index
        .line_range(&document.text, example.span.line - 1);
    let replacement = match directive_in_line(&document.text[line.clone()]) {
        Some(directive) if directive.options().next().is_none() => format!(" +{flag}"),
        Some(_) => format!(", +{flag}"),
        None => format!("  # doctest: +{flag}"),
    };
    EngineEdit {
        range: line.end..line.end,
        replacement,
    }
}

fn action(
    document: &Document,
    title: &str,
    kind: CodeActionKind,
    edits: Vec<EngineEdit>,
    diagnostics: &[Diagnostic],
    preferred: bool,
) -> CodeActionOrCommand {
    let edits = edits
        .into_iter()
        .map(|edit| {
            TextEdit::new(
                document.index.range(&document.text, edit.range),
                edit.replacement,
            )
        })
        .collect();
    CodeActionOrCommand::CodeAction(CodeAction {
        title: title.to_owned(),
        kind: Some(kind),
        diagnostics: (!diagnostics.is_empty()).then(|| diagnostics.to_vec()),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(document.uri.clone(), edits)])),
            ..WorkspaceEdit::default()
        }),
        is_preferred: preferred.then_some(true),
        ..CodeAction::default()
    })
}
