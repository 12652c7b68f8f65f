//! An open document: its text as the editor has it (kept in sync incrementally), the line
//! index for positions, and the page the engine parsed from it.

use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};

use crate::engine::{FlagRegistry, Page, PageFormat, parse_page_as};
use crate::runner::profile::Profiles;

use super::line_index::LineIndex;

/// A document the editor has open.
#[derive(Debug, Clone)]
pub struct Document {
    pub uri: Uri,
    /// The page's path as shown in messages (the file path when the URI is a file).
    pub path: String,
    pub format: PageFormat,
    pub version: i32,
    pub text: String,
    pub index: LineIndex,
    pub page: Page,
}

/// The page format for an LSP language id, falling back on the file's extension.
pub fn format_of(language_id: &str, path: &str) -> PageFormat {
    match language_id {
        "restructuredtext" | "rst" => PageFormat::Rst,
        "markdown" => PageFormat::Markdown,
        "plaintext" | "text" => PageFormat::from_path(path).unwrap_or(PageFormat::Text),
        _ => PageFormat::from_path(path).unwrap_or(PageFormat::Text),
    }
}

impl Document {
    pub fn open(
        uri: Uri,
        language_id: &str,
        version: i32,
        text: String,
        registry: &FlagRegistry,
        profiles: &Profiles,
    ) -> Document {
        let path = uri
            .to_file_path()
            .map(|path| path.to_string_lossy().into_owned())
            .unwrap_or_else(|| uri.as_str().to_owned());
        let format = format_of(language_id, &path);
        let page = parse_as_profiled(&path, format, &text, registry, profiles);
        Document {
            index: LineIndex::new(&text),
            uri,
            path,
            format,
            version,
            text,
            page,
        }
    }

    /// Applies the editor's changes in order (ranged or whole-text) and parses again.
    pub fn apply_changes(
        &mut self,
        changes: Vec<TextDocumentContentChangeEvent>,
        version: i32,
        registry: &FlagRegistry,
        profiles: &Profiles,
    ) {
        self.apply_edits(changes, version);
        self.reparse(registry, profiles);
    }

    /// Applies the editor's changes without parsing (the caller parses when it needs the page).
    pub fn apply_edits(&mut self, changes: Vec<TextDocumentContentChangeEvent>, version: i32) {
        for change in changes {
            match change.range {
                Some(range) => {
                    let start = self.index.offset(&self.text, range.start);
                    let end = self.index.offset(&self.text, range.end).max(start);
                    self.text.replace_range(start..end, &change.text);
                }
                None => self.text = change.text,
            }
            self.index = LineIndex::new(&self.text);
        }
        self.version = version;
    }

    pub fn reparse(&mut self, registry: &FlagRegistry, profiles: &Profiles) {
        self.page = parse_as_profiled(&self.path, self.format, &self.text, registry, profiles);
    }

    /// The index of the example whose lines include 0-based `line`.
    pub fn example_at_line(&self, line: usize) -> Option<usize> {
        let line = line + 1;
        self.page
            .examples
            .iter()
            .position(|example| example.span.line <= line && line <= example.span.end_line())
    }
}

/// The document's text read as its profile reads it (the CLI's `load_page` does the same).
fn parse_as_profiled(
    path: &str,
    format: PageFormat,
    text: &str,
    registry: &FlagRegistry,
    profiles: &Profiles,
) -> Page {
    let reading = &profiles.for_page(std::path::Path::new(path)).reading;
    parse_page_as(path, format, text.as_bytes(), registry, reading)
}

#[cfg(test)]
mod tests {
    use tower_lsp_server::ls_types::{Position, Range};

    use super::*;

    #[test]
    fn incremental_changes_reparse() {
        let registry = FlagRegistry::new();
        let uri: Uri = "file:///docs/a.txt".parse().unwrap();
        let mut document = Document::open(
            uri,
            "plaintext",
            1,
            ">>> 1 + 1\n3\n".into(),
            &registry,
            &Profiles::doctest(Default::default()),
        );
        assert_eq!(document.page.examples[0].want, "3\n");
        document.apply_changes(
            vec![TextDocumentContentChangeEvent {
                range: Some(Range::new(Position::new(1, 0), Position::new(1, 1))),
                range_length: None,
                text: "2".into(),
            }],
            2,
            &registry,
            &Profiles::doctest(Default::default()),
        );
        assert_eq!(document.page.examples[0].want, "2\n");
        assert_eq!(document.version, 2);
        assert_eq!(document.example_at_line(1), Some(0));
    }
}
