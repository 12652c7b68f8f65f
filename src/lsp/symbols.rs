//! documentSymbol: the page's outline, sections nested by level, examples under the
//! section they are written in.

use tower_lsp_server::ls_types::{DocumentSymbol, SymbolKind};

use super::document::Document;

/// The outline of a document.
#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be given.
pub fn document_symbols(document: &Document) -> Vec<DocumentSymbol> {
    let text = &document.text;
    let index = &document.index;
    let sections = &document.page.structure.sections;
    let last_line = index.line_count().saturating_sub(1);
    // Each section runs to the next section of the same or a higher level.
    let mut nodes: Vec<(usize, DocumentSymbol)> = Vec::new();
    let mut roots: Vec<DocumentSymbol> = Vec::new();
    let section_end = |position: usize| {
        let level = sections[position].level;
        sections[position + 1..]
            .iter()
            .find(|later| later.level <= level)
            .map_or(last_line, |later| later.line.saturating_sub(2))
    };
    let example_symbol = |example: &crate::engine::Example| {
        let span = &example.span;
        let first = example.source.lines().next().unwrap_or("");
        let start = index.line_range(text, span.line - 1).start;
        let end = index.line_range(text, span.end_line() - 1).end;
        let selection = index.range(
            text,
            span.source_bytes.start..span.source_bytes.start.max(start),
        );
        DocumentSymbol {
            name: format!(">>> {first}"),
            detail: Some(format!("line {}", span.line)),
            kind: SymbolKind::EVENT,
            tags: None,
            deprecated: None,
            range: index.range(text, start..end),
            selection_range: selection,
            children: None,
        }
    };
    let mut examples = document.page.examples.iter().peekable();
    for (position, section) in sections.iter().enumerate() {
        while let Some(example) = examples.next_if(|example| example.span.line < section.line) {
            push_child(&mut nodes, &mut roots, example_symbol(example));
        }
        let start = index.line_range(text, section.line - 1);
        let end = index.line_range(text, section_end(position));
        let symbol = DocumentSymbol {
            name: section.title.clone(),
            detail: None,
            kind: SymbolKind::STRING,
            tags: None,
            deprecated: None,
            range: index.range(text, start.start..end.end.max(start.end)),
            selection_range: index.range(text, start),
            children: Some(Vec::new()),
        };
        attach(&mut nodes, &mut roots, section.level, symbol);
    }
    for example in examples {
        push_child(&mut nodes, &mut roots, example_symbol(example));
    }
    while let Some((_, done)) = nodes.pop() {
        push_child(&mut nodes, &mut roots, done);
    }
    roots
}

/// Opens section `symbol` at `level`, closing the open sections at the same or a deeper level.
fn attach(
    nodes: &mut Vec<(usize, DocumentSymbol)>,
    roots: &mut Vec<DocumentSymbol>,
    level: usize,
    symbol: DocumentSymbol,
) {
    while nodes.last().is_some_and(|(open, _)| *open >= level) {
        if let Some((_, done)) = nodes.pop() {
            push_child(nodes, roots, done);
        }
    }
    nodes.push((level, symbol));
}

fn push_child(
    nodes: &mut [(usize, DocumentSymbol)],
    roots: &mut Vec<DocumentSymbol>,
    symbol: DocumentSymbol,
) {
    match nodes.last_mut() {
        Some((_, parent)) => parent.children.get_or_insert_with(Vec::new).push(symbol),
        None => roots.push(symbol),
    }
}
