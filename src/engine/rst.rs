//! reST structure read without executing anything: section titles, include/figure/image
//! targets and toctree entries.
//!
//! This is a line reader, not docutils: it knows enough of reST's block structure to avoid
//! false finds. Section titles are only looked for at the start of an unindented block, as
//! docutils only accepts them there (an indented `====` under a doctest's output is not a
//! title); a title's level is the order in which its adornment style (underline only, or
//! overline and underline, and the character) first appears. As in docutils, an underline
//! shorter than its title still makes a title when it is at least four characters long.
//!
//! Directives are found at any indentation, except inside literal blocks (after `::`),
//! comments, doctest blocks and the bodies of directives whose content is not reST
//! (`code-block`, `doctest`, `raw`, ...). Toctree entries are the directive's content lines
//! that are not options; `Title <target>` lists `target`, and `self` (which names the page
//! itself) is left out.

use std::ops::Range;

use super::doctest::{DoctestLine, split_universal_lines};
use super::page::{Reference, ReferenceKind, Section, Structure};

/// Directives whose content is code or data rather than reST: nothing inside them is read.
const LITERAL_DIRECTIVES: &[&str] = &[
    "code",
    "code-block",
    "sourcecode",
    "literalinclude",
    "doctest",
    "testcode",
    "testoutput",
    "testsetup",
    "testcleanup",
    "parsed-literal",
    "math",
    "raw",
    "productionlist",
    "graphviz",
    "graph",
    "digraph",
    "csv-table",
    "ipython",
    "jupyter-execute",
];

/// The structure of a reST page.
pub fn structure(text: &str) -> Structure {
    let lines = split_universal_lines(text, 0, 1);
    Structure {
        sections: sections(&lines),
        references: references(&lines),
    }
}

/// The byte range, within a toctree content line, of the page the entry lists: the whole
/// entry, or `target` in `Title <target>`. `None` for blank lines and `self`.
pub fn toctree_entry(line: &str) -> Option<Range<usize>> {
    let entry = line.trim();
    if entry.is_empty() {
        return None;
    }
    let entry_start = line.len() - line.trim_start().len();
    let explicit_target = entry
        .strip_suffix('>')
        .and_then(|without_close| {
            let open = without_close.rfind('<')?;
            let title = without_close.get(..open)?;
            (!title.trim().is_empty()).then_some(open + 1..without_close.len())
        })
        .and_then(|range| {
            let target = entry.get(range.clone())?;
            let leading = target.len() - target.trim_start().len();
            let trimmed = target.trim();
            (!trimmed.is_empty())
                .then_some(range.start + leading..range.start + leading + trimmed.len())
        });
    let target = explicit_target.unwrap_or(0..entry.len());
    (entry.get(target.clone())? != "self")
        .then_some(entry_start + target.start..entry_start + target.end)
}

/// How a section title is adorned; each distinct style gets the next level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TitleStyle {
    Underline(char),
    OverAndUnder(char),
}

/// Section titles, in order, with levels in order of first appearance of their style.
fn sections(lines: &[DoctestLine<'_>]) -> Vec<Section> {
    let mut styles: Vec<TitleStyle> = Vec::new();
    let mut sections = Vec::new();
    let mut at_block_start = true;
    let mut index = 0;
    while let Some(line) = lines.get(index) {
        if is_blank(line.text) {
            at_block_start = true;
            index += 1;
            continue;
        }
        let found = if at_block_start && !starts_indented(line.text) {
            title_at(lines, index)
        } else {
            None
        };
        match found {
            Some(title) => {
                let level = match styles.iter().position(|&style| style == title.style) {
                    Some(position) => position + 1,
                    None => {
                        styles.push(title.style);
                        styles.len()
                    }
                };
                sections.push(Section {
                    title: title.text.to_owned(),
                    line: title.line,
                    level,
                });
                index += title.lines_taken;
                at_block_start = true;
            }
            None => {
                // Running text (a paragraph, a doctest block, a list item's first line)
                // continues on the next line; anything indented or explicit markup ends
                // before an unindented line, which then starts a block, as docutils reads it
                // (with a warning).
                at_block_start = starts_indented(line.text) || is_explicit_markup(line.text);
                index += 1;
            }
        }
    }
    sections
}

/// A section title found at a block start.
struct Title<'t> {
    text: &'t str,
    line: usize,
    style: TitleStyle,
    lines_taken: usize,
}

/// The title starting at line `index`, if the block there is one.
fn title_at<'t>(lines: &[DoctestLine<'t>], index: usize) -> Option<Title<'t>> {
    let first = lines.get(index)?;
    let second = lines.get(index + 1)?;
    if let Some(over) = adornment(first.text) {
        let under = adornment(lines.get(index + 2)?.text)?;
        let text = second.text.trim();
        let fits = text.chars().count() <= over.1 || over.1 >= 4;
        let is_title = over == under && !text.is_empty() && adornment(text).is_none() && fits;
        return is_title.then_some(Title {
            text,
            line: second.line,
            style: TitleStyle::OverAndUnder(over.0),
            lines_taken: 3,
        });
    }
    let (character, length) = adornment(second.text)?;
    let text = first.text.trim_end();
    let fits = text.chars().count() <= length || length >= 4;
    (fits && can_be_title(text)).then_some(Title {
        text,
        line: first.line,
        style: TitleStyle::Underline(character),
        lines_taken: 2,
    })
}

/// Whether an unindented line of text may be a title rather than the start of another
/// construct (a doctest block, explicit markup, a list item, a line block).
fn can_be_title(text: &str) -> bool {
    let is_marker = |marker: &str| text == marker || text.starts_with(&format!("{marker} "));
    !(text.starts_with(">>>")
        || is_explicit_markup(text)
        || ["-", "*", "+", "•", "|"].into_iter().any(is_marker))
}

/// A line of one repeated non-alphanumeric ASCII character (trailing blanks allowed): its
/// character and length.
fn adornment(text: &str) -> Option<(char, usize)> {
    let text = text.trim_end();
    let character = text.chars().next()?;
    let is_punctuation = character.is_ascii_punctuation();
    (is_punctuation && text.chars().all(|c| c == character)).then_some((character, text.len()))
}

fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

fn starts_indented(text: &str) -> bool {
    text.starts_with([' ', '\t'])
}

/// Columns of leading whitespace (tabs to multiples of eight, as docutils expands them).
fn indentation(text: &str) -> usize {
    let mut columns = 0;
    for c in text.chars() {
        match c {
            ' ' => columns += 1,
            '\t' => columns += 8 - columns % 8,
            _ => break,
        }
    }
    columns
}

/// `..` followed by a blank or the end of the line (after any indentation).
fn is_explicit_markup(text: &str) -> bool {
    text.trim_start()
        .strip_prefix("..")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// What an explicit markup line is.
enum Markup<'t> {
    /// `.. name:: argument` (or `.. |substitution| name:: argument`); the argument's range is
    /// relative to the line.
    Directive {
        name: &'t str,
        argument: Range<usize>,
    },
    /// A comment: its indented body is not read.
    Comment,
    /// A hyperlink target, footnote, citation or other substitution: its body is reST.
    Other,
}

fn explicit_markup(text: &str) -> Option<Markup<'_>> {
    if !is_explicit_markup(text) {
        return None;
    }
    let after_dots = text.len() - text.trim_start().len() + 2;
    let rest = text.get(after_dots..)?;
    let body_at = after_dots + rest.len() - rest.trim_start().len();
    let body = text.get(body_at..)?;
    if body.trim().is_empty() {
        return Some(Markup::Comment);
    }
    if body.starts_with(['[', '_']) {
        return Some(Markup::Other);
    }
    let (directive_at, directive) = match body.strip_prefix('|') {
        Some(substitution) => {
            let close = substitution.find('|')?;
            let after = substitution.get(close + 1..)?;
            let skipped = after.len() - after.trim_start().len();
            (body_at + 1 + close + 1 + skipped, after.trim_start())
        }
        None => (body_at, body),
    };
    Some(
        directive_parts(directive, directive_at).unwrap_or(if body.starts_with('|') {
            Markup::Other
        } else {
            Markup::Comment
        }),
    )
}

/// `name:: argument` at byte `at` of its line (docutils allows one space before the `::`).
fn directive_parts(text: &str, at: usize) -> Option<Markup<'_>> {
    let (colons, _) = text.match_indices("::").find(|(colons, _)| {
        text.get(colons + 2..)
            .is_some_and(|after| after.is_empty() || after.starts_with([' ', '\t']))
    })?;
    let name = text.get(..colons)?;
    let name = name.strip_suffix(' ').unwrap_or(name);
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '+'));
    if !is_name {
        return None;
    }
    let after = text.get(colons + 2..)?;
    let leading = after.len() - after.trim_start().len();
    let argument_start = at + colons + 2 + leading;
    Some(Markup::Directive {
        name,
        argument: argument_start..argument_start + after.trim().len(),
    })
}

/// The index just past the indented block that belongs to line `index` (indented deeper
/// than `indent`); trailing blank lines are not part of it.
fn block_end(lines: &[DoctestLine<'_>], index: usize, indent: usize) -> usize {
    let mut end = index + 1;
    for (offset, line) in lines.iter().enumerate().skip(index + 1) {
        if is_blank(line.text) {
            continue;
        }
        if indentation(line.text) <= indent {
            break;
        }
        end = offset + 1;
    }
    end
}

/// Every include, figure, image and toctree reference, in order.
fn references(lines: &[DoctestLine<'_>]) -> Vec<Reference> {
    let mut references = Vec::new();
    let mut index = 0;
    while let Some(line) = lines.get(index) {
        let body = line.text.trim_start();
        let indent = indentation(line.text);
        if body.is_empty() {
            index += 1;
        } else if body.starts_with(">>>") {
            index = doctest_block_end(lines, index);
        } else if let Some(markup) = explicit_markup(line.text) {
            index = match markup {
                Markup::Directive { name, argument } => {
                    let end = block_end(lines, index, indent);
                    let block = lines.get(index..end).unwrap_or_default();
                    match reference_kind(name) {
                        Some(kind) => {
                            references.extend(directive_references(kind, block, argument));
                            end
                        }
                        None if is_literal_directive(name) => end,
                        None => index + 1,
                    }
                }
                Markup::Comment => block_end(lines, index, indent),
                Markup::Other => index + 1,
            };
        } else if body.trim_end().ends_with("::") {
            index = block_end(lines, index, indent);
        } else {
            index += 1;
        }
    }
    references
}

/// A doctest block runs from its `>>>` line to the next blank line.
fn doctest_block_end(lines: &[DoctestLine<'_>], index: usize) -> usize {
    lines
        .iter()
        .enumerate()
        .skip(index + 1)
        .find(|(_, line)| is_blank(line.text))
        .map_or(lines.len(), |(blank, _)| blank)
}

fn reference_kind(directive: &str) -> Option<ReferenceKind> {
    match directive.to_ascii_lowercase().as_str() {
        "include" => Some(ReferenceKind::Include),
        "figure" => Some(ReferenceKind::Figure),
        "image" => Some(ReferenceKind::Image),
        "toctree" => Some(ReferenceKind::Toctree),
        _ => None,
    }
}

fn is_literal_directive(name: &str) -> bool {
    LITERAL_DIRECTIVES
        .iter()
        .any(|literal| literal.eq_ignore_ascii_case(name))
}

/// A directive option line `:name: value`: the name and the value's range in the line.
fn option_line(text: &str) -> Option<(&str, Range<usize>)> {
    let leading = text.len() - text.trim_start().len();
    let rest = text.get(leading..)?.strip_prefix(':')?;
    let close = rest.find(':')?;
    let name = rest.get(..close)?;
    let value = rest.get(close + 1..)?;
    if name.is_empty() || name.starts_with(' ') || !(value.is_empty() || value.starts_with(' ')) {
        return None;
    }
    let value_start = leading + 1 + close + 1 + (value.len() - value.trim_start().len());
    Some((name, value_start..value_start + value.trim().len()))
}

/// The references one directive block makes: `block` is its lines, the directive line first.
fn directive_references(
    kind: ReferenceKind,
    block: &[DoctestLine<'_>],
    argument: Range<usize>,
) -> Vec<Reference> {
    let Some((directive_line, rest)) = block.split_first() else {
        return Vec::new();
    };
    // Docutils reads options from the lines before the first blank one; the content follows.
    let options_end = rest
        .iter()
        .position(|line| is_blank(line.text))
        .unwrap_or(rest.len());
    let (option_block, content) = rest.split_at(options_end);
    let options: Vec<(&str, &str)> = option_block
        .iter()
        .filter_map(|line| {
            let (name, value) = option_line(line.text)?;
            Some((name, line.text.get(value)?))
        })
        .collect();
    let option = |name: &str| {
        options
            .iter()
            .find(|(option, _)| *option == name)
            .map(|(_, value)| (*value).to_owned())
    };
    let reference = |line: &DoctestLine<'_>, range: Range<usize>| {
        Some(Reference {
            kind,
            target: line.text.get(range.clone())?.to_owned(),
            line: line.line,
            bytes: line.start + range.start..line.start + range.end,
            start_after: None,
            end_before: None,
            alt: None,
        })
    };
    if kind == ReferenceKind::Toctree {
        // Lines of the option block that are not options are entries too: Sphinx would
        // complain, but the page clearly means to list them.
        let entries = option_block
            .iter()
            .filter(|line| option_line(line.text).is_none())
            .chain(content);
        return entries
            .filter_map(|line| reference(line, toctree_entry(line.text)?))
            .collect();
    }
    if argument.is_empty() {
        return Vec::new();
    }
    let Some(mut found) = reference(directive_line, argument) else {
        return Vec::new();
    };
    if kind == ReferenceKind::Include {
        found.start_after = option("start-after");
        found.end_before = option("end-before");
    }
    if matches!(kind, ReferenceKind::Figure | ReferenceKind::Image) {
        found.alt = option("alt");
    }
    vec![found]
}
