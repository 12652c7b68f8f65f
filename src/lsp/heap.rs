//! The live heap in the editor: hovering a name in an example's source shows its value at
//! that point of the page (a capped `repr`, its type and `sys.getrefcount`), and the code
//! actions "Show references of NAME" / "Show back-references of NAME" draw
//! `objgraph.show_refs` / `show_backrefs` of it into the artifacts folder, shown as an image
//! in the hover afterwards (and opened with `window/showDocument` when the client can).
//!
//! **Which point.** The value is the one the page holds *after the example containing the
//! name ran*, as the next example sees it: hovering `x` in `>>> x = [1, 2]` shows the list
//! just made, and in `>>> x.append(3)` the list with 3 appended. Showing the value before the
//! example would show nothing at all for every name the example itself defines, which is
//! what users hover most; after it, a name only read there is shown as that example left it.
//!
//! **Nothing on the page changes.** The value is read in a throwaway fork: the nearest
//! checkpoint at or before that point is resumed into a new runner, which runs the examples
//! from there up to the hovered one (the page loop, without artifacts or checkpoints),
//! answers, and is dropped (`LiveState::fork_after`). Whatever a `__repr__` or a property
//! does is forgotten with it. Each step is bounded by the example timeout; the repr by
//! [`REPR_CAP`] characters.
//!
//! **Only when execution is allowed** (the `execute` setting, off in VS Code's Restricted
//! Mode): otherwise nothing is looked at and the actions are not offered. A hover that races
//! an edit is answered without the value, marked as such; a newer edit cancels the fork.
//!
//! This module holds the pure parts (which name is under the cursor, what the hover says,
//! where an image goes); the document's actor does the work (`server/actor.rs`).

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::oneshot;
use tower_lsp_server::ls_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position, Uri};

use crate::backend::protocol::Inspection;

use super::document::Document;

/// Longest repr shown in a hover, in characters.
pub const REPR_CAP: usize = 200;
/// How deep the drawn graphs go (objgraph's default).
pub const DRAW_DEPTH: u32 = 3;
/// The command behind "Show references of NAME": arguments `[uri, line, character, kind]`
/// (an LSP position; kind `refs` or `backrefs`).
pub const SHOW_REFS: &str = "objgraph-doctest.showRefs";
/// Longest a request waits for the value before it answers without it (each step in the
/// fork is bounded by the example timeout besides).
pub const HEAP_WAIT: Duration = Duration::from_secs(20);

/// A name (or dotted name) in an example's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAt {
    /// The example it is in.
    pub index: usize,
    /// `x`, or `obj.attr` up to the part under the cursor.
    pub expression: String,
    /// Where it is written in the page (bytes).
    pub bytes: Range<usize>,
}

/// Which graph the action draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefsKind {
    /// `objgraph.show_refs`: what the object refers to.
    Refs,
    /// `objgraph.show_backrefs`: what refers to it.
    Backrefs,
}

impl RefsKind {
    /// The word the driver and the command's arguments use.
    pub fn as_str(self) -> &'static str {
        match self {
            RefsKind::Refs => "refs",
            RefsKind::Backrefs => "backrefs",
        }
    }

    pub fn parse(text: &str) -> Option<RefsKind> {
        match text {
            "refs" => Some(RefsKind::Refs),
            "backrefs" => Some(RefsKind::Backrefs),
            _ => None,
        }
    }

    /// "references" / "back-references", for titles and alt text.
    pub fn noun(self) -> &'static str {
        match self {
            RefsKind::Refs => "references",
            RefsKind::Backrefs => "back-references",
        }
    }
}

/// What a request asks of the document's actor.
#[derive(Debug)]
pub struct Inquiry {
    /// The edit count of the text the request saw: answered only for that very text.
    pub revision: u64,
    pub name: NameAt,
    /// Draw this graph into this file too.
    pub draw: Option<(RefsKind, PathBuf)>,
    pub reply: oneshot::Sender<Answer>,
}

/// The actor's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Found(Inspection),
    /// No value to show, and why (execution is off, an earlier example stopped the page).
    Unavailable(String),
    /// The text changed before the value was read: it would describe another page.
    Stale,
}

/// A graph drawn for a document, shown in later hovers on the same name while the text is
/// the one it was drawn for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawing {
    pub revision: u64,
    pub index: usize,
    pub expression: String,
    pub kind: RefsKind,
    pub path: PathBuf,
}

/// The name under `position`, when it is in an example's source (not its expected output,
/// a prompt, a string or a comment).
pub fn name_at(document: &Document, position: Position) -> Option<NameAt> {
    let index = document.example_at_line(position.line as usize)?;
    let example = &document.page.examples[index];
    let line = position.line as usize + 1;
    if line >= example.span.line + example.span.source_lines {
        return None;
    }
    let range = document
        .index
        .line_range(&document.text, position.line as usize);
    let text = &document.text[range.clone()];
    let offset = document.index.offset(&document.text, position);
    let source_start = source_column(text);
    let column = offset.checked_sub(range.start)?;
    if column < source_start {
        return None;
    }
    let (found, expression) = dotted_name_at(&text[source_start..], column - source_start)?;
    Some(NameAt {
        index,
        expression,
        bytes: range.start + source_start + found.start..range.start + source_start + found.end,
    })
}

/// Where the source starts on an example's line: after `>>> ` or `... ` (or the
/// indentation, for Sphinx's `testcode` blocks, which have no prompts).
fn source_column(line: &str) -> usize {
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    match rest.get(..3) {
        Some(">>>" | "...") => indent + 3 + usize::from(rest[3..].starts_with(' ')),
        _ => indent,
    }
}

/// Python's keywords, which are not names to look up.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// The dotted name whose last part holds byte `column` of `source` (one line of Python):
/// its byte range and text; `None` on anything else (a number, a keyword, an attribute of
/// a call's result, inside a string or after `#`).
pub fn dotted_name_at(source: &str, column: usize) -> Option<(Range<usize>, String)> {
    if column > source.len() || !source.is_char_boundary(column) {
        return None;
    }
    let before = &source[..column];
    let after = &source[column..];
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_name_char(c))
        .last()
        .map_or(column, |(at, _)| at);
    let end = column
        + after
            .char_indices()
            .find(|&(_, c)| !is_name_char(c))
            .map_or(after.len(), |(at, _)| at);
    if start == end || in_string_or_comment(&source[..start]) {
        return None;
    }
    // Earlier parts of a dotted name: `a.b` when hovering `b`.
    let mut first = start;
    while let Some(dot) = source[..first].strip_suffix('.') {
        let part = dot
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_name_char(c))
            .last()
            .map(|(at, _)| at)?;
        first = part;
    }
    let expression = &source[first..end];
    let parts_are_names = expression.split('.').all(|part| {
        part.chars().next().is_some_and(|c| !c.is_numeric()) && !KEYWORDS.contains(&part)
    });
    parts_are_names.then(|| (first..end, expression.to_owned()))
}

/// Whether the end of `prefix` (one line of Python) is inside a string literal or a
/// comment, as far as one line tells.
fn in_string_or_comment(prefix: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in prefix.chars() {
        match quote {
            Some(open) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == open {
                    quote = None;
                }
            }
            None if c == '#' => return true,
            None if c == '\'' || c == '"' => quote = Some(c),
            None => {}
        }
    }
    quote.is_some()
}

/// What the hover says about the name's value (Markdown), before the example's own hover.
pub fn value_markdown(name: &NameAt, answer: &Answer) -> String {
    let label = format!("`{}`", name.expression);
    match answer {
        Answer::Found(found) => match &found.error {
            Some(error) => format!("**{label}** after this example: {error}\n"),
            None => {
                let mut value = format!(
                    "**{label}** after this example: `{}`, refcount {}\n\n{}",
                    found.type_name,
                    found.refcount,
                    fenced("python", &found.repr)
                );
                if found.repr_truncated {
                    let _ = writeln!(value, "\n(repr cut at {REPR_CAP} characters)");
                }
                value
            }
        },
        Answer::Unavailable(why) => format!("**{label}**: no value shown: {why}\n"),
        Answer::Stale => format!(
            "**{label}**: no value shown: the page changed while it was evaluated (hover \
             again)\n"
        ),
    }
}

/// `text` in a code fence longer than any run of backticks in it.
fn fenced(language: &str, text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{language}\n{text}\n{fence}\n")
}

/// Adds `drawing` to a document's list, which keeps only the latest text's drawings, one
/// per name, point and kind (a new one replaces the one it redrew): the list stays small.
pub fn remember_drawing(drawings: &mut Vec<Drawing>, drawing: Drawing) {
    drawings.retain(|kept| {
        kept.revision == drawing.revision
            && (kept.index, &kept.expression, kept.kind)
                != (drawing.index, &drawing.expression, drawing.kind)
    });
    drawings.push(drawing);
}

/// The drawings of `name` made for this very text, as Markdown images.
pub fn drawings_markdown(name: &NameAt, revision: u64, drawings: &[Drawing]) -> String {
    let mut value = String::new();
    for drawing in drawings.iter().filter(|drawing| {
        drawing.revision == revision
            && drawing.index == name.index
            && drawing.expression == name.expression
            && drawing.path.is_file()
    }) {
        if let Some(uri) = Uri::from_file_path(&drawing.path) {
            let _ = write!(
                value,
                "\n{} of `{}` → {}\n\n![{} of {}]({})\n",
                capitalised(drawing.kind.noun()),
                drawing.expression,
                drawing.path.display(),
                drawing.kind.noun(),
                drawing.expression,
                uri.as_str()
            );
        }
    }
    value
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The hover on a name: its value first, then what the example's own hover says.
pub fn hover_on_name(
    value: String,
    example: Option<Hover>,
    range: tower_lsp_server::ls_types::Range,
) -> Hover {
    let mut text = value;
    if let Some(HoverContents::Markup(markup)) = example.map(|hover| hover.contents) {
        let _ = write!(text, "\n---\n\n{}", markup.value);
    }
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(range),
    }
}

/// Where the graph of `name` is drawn: `<artifacts>/heap/<page file>-L<line>-<name>-<kind>.png`
/// (the page loop's collector clears each page's own folder before a run; this one is kept).
pub fn drawing_path(
    artifacts_dir: &Path,
    page_path: &str,
    line: usize,
    name: &NameAt,
    kind: RefsKind,
) -> PathBuf {
    let page = Path::new(page_path).file_name().map_or_else(
        || "page".to_owned(),
        |name| name.to_string_lossy().into_owned(),
    );
    artifacts_dir.join("heap").join(format!(
        "{page}-L{line}-{}-{}.png",
        name.expression,
        kind.as_str()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(source: &str, column: usize) -> Option<String> {
        dotted_name_at(source, column).map(|(_, name)| name)
    }

    #[test]
    fn the_name_under_the_cursor_is_found_with_its_dotted_prefix() {
        assert_eq!(name("x = [1, 2]", 0).as_deref(), Some("x"));
        assert_eq!(name("x = [1, 2]", 1).as_deref(), Some("x"));
        assert_eq!(name("len(items)", 6).as_deref(), Some("items"));
        assert_eq!(name("obj.attr.deep", 1).as_deref(), Some("obj"));
        assert_eq!(name("obj.attr.deep", 5).as_deref(), Some("obj.attr"));
        assert_eq!(name("obj.attr.deep", 11).as_deref(), Some("obj.attr.deep"));
        assert_eq!(name("données = 1", 2).as_deref(), Some("données"));
    }

    #[test]
    fn numbers_keywords_strings_comments_and_call_results_are_not_names() {
        assert_eq!(name("x = 12", 5), None);
        assert_eq!(name("for i in x:", 1), None);
        assert_eq!(name("print('x y')", 8), None);
        assert_eq!(name("print('a', b)", 11).as_deref(), Some("b"));
        assert_eq!(name("x  # a comment", 6), None);
        assert_eq!(name("f().attr", 5), None);
        assert_eq!(name("x = 1", 2), None);
        assert_eq!(name("", 0), None);
        assert_eq!(name("é", 1), None);
    }

    #[test]
    fn prompts_are_not_part_of_the_source() {
        assert_eq!(source_column("    >>> x = 1"), 8);
        assert_eq!(source_column("... y"), 4);
        assert_eq!(source_column(">>>"), 3);
        assert_eq!(source_column("  total = 0"), 2);
    }

    #[test]
    fn only_the_latest_texts_drawings_are_kept_one_per_name_point_and_kind() {
        let drawing = |revision, expression: &str, kind| Drawing {
            revision,
            index: 1,
            expression: expression.to_owned(),
            kind,
            path: PathBuf::from(format!("/a/{revision}-{expression}.png")),
        };
        let mut kept = Vec::new();
        remember_drawing(&mut kept, drawing(1, "x", RefsKind::Refs));
        remember_drawing(&mut kept, drawing(2, "x", RefsKind::Refs));
        remember_drawing(&mut kept, drawing(2, "x", RefsKind::Backrefs));
        remember_drawing(&mut kept, drawing(2, "y", RefsKind::Refs));
        remember_drawing(&mut kept, drawing(2, "x", RefsKind::Refs));
        let names: Vec<(u64, &str, RefsKind)> = kept
            .iter()
            .map(|d| (d.revision, d.expression.as_str(), d.kind))
            .collect();
        assert_eq!(
            names,
            [
                (2, "x", RefsKind::Backrefs),
                (2, "y", RefsKind::Refs),
                (2, "x", RefsKind::Refs)
            ]
        );
    }

    #[test]
    fn the_value_is_fenced_whatever_backticks_it_holds() {
        assert_eq!(fenced("python", "'a'"), "```python\n'a'\n```\n");
        assert_eq!(fenced("python", "'````'"), "`````python\n'````'\n`````\n");
    }
}
