//! MyST colon fences: `:::{doctest}` … `:::`, which MyST reads with its `colon_fence`
//! extension and we read always. CommonMark knows nothing of them (to pulldown-cmark they are
//! paragraphs, and their `>>>` lines blockquotes), so they are found line by line:
//!
//! - an opening line is three or more `:` then a `{directive}` info string, indented by
//!   blanks only (top level or in a list item; not inside a blockquote), on a line that is
//!   not inside a code block, an HTML block or front matter;
//! - the block ends at the next line holding only `:` characters, at least as many as opened
//!   it (so `::::{note}` can hold a `:::{doctest}`), or else at the end of the page;
//! - content lines lose up to the opening fence's indentation, as fenced code does.
//!
//! A block that holds examples is content only; any other (`:::{note}`) is Markdown, so the
//! search goes on inside it.

use super::{FencedBlock, Info, PageLines};
use crate::engine::doctest::DoctestLine;

/// The colon fences of the page, in order; `taken` says whether a byte offset is inside a
/// block where a `:::` line is text.
pub(super) fn blocks<'t>(
    text: &'t str,
    page: &PageLines<'t>,
    taken: impl Fn(usize) -> bool,
) -> Vec<FencedBlock<'t>> {
    let mut blocks = Vec::new();
    let mut index = 0;
    while let Some(line) = page.get(index) {
        let opening = (!taken(line.start))
            .then(|| Opening::parse(line.text))
            .flatten();
        let Some(opening) = opening else {
            index += 1;
            continue;
        };
        let block = read_block(text, page, index, &opening);
        let reads_content = Info::parse(&block.info).holds_examples();
        let closing = index + block.content.len() + 1;
        blocks.push(block);
        index = if reads_content {
            closing + 1
        } else {
            index + 1
        };
    }
    blocks
}

/// An opening colon fence's line.
struct Opening<'l> {
    /// Blanks before the colons.
    indent: usize,
    /// How many colons.
    colons: usize,
    /// What follows the colons (`{doctest}` and its argument).
    info: &'l str,
}

impl<'l> Opening<'l> {
    fn parse(line: &'l str) -> Option<Self> {
        let rest = line.trim_start_matches(' ');
        let indent = line.len() - rest.len();
        let after = rest.trim_start_matches(':');
        let colons = rest.len() - after.len();
        let info = after.trim();
        (colons >= 3 && info.starts_with('{')).then_some(Opening {
            indent,
            colons,
            info,
        })
    }
}

/// Whether `line` closes a fence opened with `colons` colons.
fn closes(line: &str, colons: usize) -> bool {
    let rest = line.trim();
    !rest.is_empty() && rest.len() >= colons && rest.chars().all(|c| c == ':')
}

fn read_block<'t>(
    text: &'t str,
    page: &PageLines<'t>,
    opening_line: usize,
    opening: &Opening<'_>,
) -> FencedBlock<'t> {
    let mut content = Vec::new();
    let mut index = opening_line + 1;
    let mut closed = false;
    while let Some(line) = page.get(index) {
        if closes(line.text, opening.colons) {
            closed = true;
            break;
        }
        let stripped = line
            .text
            .char_indices()
            .take(opening.indent)
            .take_while(|&(_, c)| c == ' ')
            .count();
        let start = line.start + stripped;
        content.push(DoctestLine {
            text: text.get(start..line.start + line.text.len()).unwrap_or(""),
            line: line.line,
            start,
            next: line.next,
        });
        index += 1;
    }
    let fence_at = page.get(opening_line).map_or(0, |line| line.start) + opening.indent;
    let end = page
        .get(index)
        .or_else(|| page.get(index.saturating_sub(1)))
        .map_or(text.len(), |line| line.next);
    FencedBlock {
        info: opening.info.to_owned(),
        fence_at,
        opening_line,
        content,
        closed,
        reaches_page_end: true,
        end,
        fence: (':', opening.colons),
    }
}
