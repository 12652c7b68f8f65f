//! Warnings for `>>>` lines that a reader takes for examples but that are not tested, each
//! saying what would include it:
//!
//! - in a fence tagged with another language (```` ```console ````, ```` ```bash ````, a MyST
//!   directive other than `{doctest}`), or in a fence with no tag whose content does not
//!   start with `>>>`: one warning per block, at its first `>>>` line;
//! - in an indented code block: one per block;
//! - in prose (where CommonMark reads `>>>` as three nested blockquotes): one per paragraph.
//!
//! Fences tagged as plain text ([`PLAIN_TEXT`]: ```` ```text ```` and the like) say "this is
//! not an example" and are not warned about, nor are HTML blocks (comments) and front matter.

use std::ops::Range;

use super::{Blocks, FencedBlock, Info, PageLines};
use crate::engine::doctest::DoctestLine;
use crate::engine::page::PageWarning;

/// Info-string languages that mark a block as text on purpose.
pub const PLAIN_TEXT: &[&str] = &["text", "txt", "plain", "plaintext", "none", "output"];

const HOW_TO_TEST: &str = "put it in a fence tagged ```pycon to test it";

pub(super) fn warnings(page: &PageLines<'_>, blocks: &Blocks<'_>) -> Vec<PageWarning> {
    let mut warnings = Vec::new();
    let mut not_prose: Vec<Range<usize>> = Vec::new();
    for block in blocks.fenced.iter().chain(&blocks.colon) {
        let info = Info::parse(&block.info);
        let is_markdown = block.fence_at_colon() && !block.holds_examples(&info);
        if !is_markdown {
            not_prose.push(block.bytes());
        }
        if block.holds_examples(&info) || is_markdown || is_plain_text(&info) {
            continue;
        }
        let prompts: Vec<&DoctestLine<'_>> = block
            .content
            .iter()
            .filter(|line| prompt_at(line.text).is_some())
            .collect();
        if let Some(first) = prompts.first() {
            warnings.push(warning(
                page,
                first,
                &fence_message(block, &info, prompts.len()),
            ));
        }
    }
    for range in &blocks.indented {
        not_prose.push(range.clone());
        let lines = lines_in(page, range);
        let count = lines
            .iter()
            .filter(|line| prompt_at(line.text).is_some())
            .count();
        if let Some(first) = lines.iter().find(|line| prompt_at(line.text).is_some()) {
            warnings.push(warning(
                page,
                first,
                &format!(
                    "{} in an indented code block, which is not tested; {HOW_TO_TEST}",
                    prompt_count(count)
                ),
            ));
        }
    }
    not_prose.extend(blocks.opaque.iter().cloned());
    warnings.extend(prose_warnings(page, &not_prose));
    warnings.sort_by_key(|warning| (warning.line, warning.column));
    warnings
}

/// One warning per paragraph of prose (lines up to a blank one) holding `>>>` lines.
fn prose_warnings(page: &PageLines<'_>, not_prose: &[Range<usize>]) -> Vec<PageWarning> {
    let mut warnings = Vec::new();
    let mut warned_paragraph = false;
    for line in &page.lines {
        if line.text.trim().is_empty() {
            warned_paragraph = false;
            continue;
        }
        let in_block = not_prose.iter().any(|range| overlaps(line, range));
        if in_block || warned_paragraph || prompt_at(line.text).is_none() {
            continue;
        }
        warned_paragraph = true;
        warnings.push(warning(
            page,
            line,
            &format!(
                "`>>>` line in prose is not tested (Markdown reads it as a blockquote); \
                 {HOW_TO_TEST}"
            ),
        ));
    }
    warnings
}

fn fence_message(block: &FencedBlock<'_>, info: &Info<'_>, count: usize) -> String {
    let lines = prompt_count(count);
    let fence = block.fence_text();
    match (info.directive, info.word) {
        (Some(directive), language) if super::CODE_DIRECTIVES.contains(&directive) => format!(
            "{lines} in a {fence}{{{directive}}} {language} block, which is not tested; \
             write {fence}{{{directive}}} pycon or {fence}{{doctest}} to test it"
        ),
        (Some(directive), _) => format!(
            "{lines} in a {fence}{{{directive}}} block, which is not tested; \
             write {fence}{{doctest}} to test it"
        ),
        (None, "") => format!(
            "{lines} in a fence with no language whose content does not start with `>>>`, \
             which is not tested; tag the fence {fence}pycon to test it"
        ),
        (None, language) => format!(
            "{lines} in a {fence}{language} block, which is not tested; tag the fence \
             {fence}pycon to test it, or {fence}text to mark it as not an example"
        ),
    }
}

fn prompt_count(count: usize) -> String {
    if count == 1 {
        "`>>>` line".to_owned()
    } else {
        format!("{count} `>>>` lines")
    }
}

fn is_plain_text(info: &Info<'_>) -> bool {
    info.directive.is_none()
        && PLAIN_TEXT
            .iter()
            .any(|plain| plain.eq_ignore_ascii_case(info.word))
}

/// Byte offset in `text` of a `>>>` that starts it, after blanks and blockquote markers.
fn prompt_at(text: &str) -> Option<usize> {
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.starts_with(">>>") {
            return Some(text.len() - rest.len());
        }
        rest = rest.strip_prefix('>')?;
    }
}

/// The page lines with text inside `range`.
fn lines_in<'p, 't>(page: &'p PageLines<'t>, range: &Range<usize>) -> Vec<&'p DoctestLine<'t>> {
    page.lines
        .iter()
        .filter(|line| overlaps(line, range))
        .collect()
}

/// Whether some of the line's text is inside `range` (blocks' ranges start past their first
/// line's indentation).
fn overlaps(line: &DoctestLine<'_>, range: &Range<usize>) -> bool {
    line.start < range.end && range.start < line.start + line.text.len()
}

fn warning(page: &PageLines<'_>, line: &DoctestLine<'_>, message: &str) -> PageWarning {
    let at = line.start + prompt_at(line.text).unwrap_or(0);
    PageWarning {
        line: line.line,
        column: page.column_of(at),
        message: message.to_owned(),
    }
}
