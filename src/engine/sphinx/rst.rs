//! reST pages as docutils reads them for Sphinx's doctest builder: the test directives
//! (`.. doctest::` and friends, with docutils' split of arguments, options and content)
//! and doctest blocks (paragraphs starting with `>>> `), found by walking the page's
//! indented blocks as docutils' state machine does.
//!
//! What is walked into: block quotes, definitions, list items, and the content of
//! directives whose content is reST (admonitions, `only`, `versionadded` and friends,
//! containers and tabs, domain and autodoc directives: see [`BODY_DIRECTIVES`]). What is not:
//! literal blocks (after a paragraph ending with `::`, indented or quoted), comments and
//! targets, and every other directive (`code-block`, `literalinclude`, `ipython`, unknown
//! ones), whose content is not reST. Lines are read as docutils reads them: trailing
//! whitespace removed; a tab in indentation counts as one column.

use std::sync::LazyLock;

use regex::Regex;

use super::{
    Found, NodeKind, OptionValue, TestNode, groups_of, read_flag_options, read_python_versions,
};
use crate::engine::doctest::{DoctestLine, split_universal_lines};
use crate::engine::flags::FlagRegistry;
use crate::engine::pystr;

/// Directives whose content docutils parses as reST, so that doctest blocks and test
/// directives inside them are found (besides domain object and `auto*` directives).
const BODY_DIRECTIVES: &[&str] = &[
    "admonition",
    "attention",
    "caution",
    "danger",
    "error",
    "hint",
    "important",
    "note",
    "tip",
    "warning",
    "seealso",
    "todo",
    "versionadded",
    "versionchanged",
    "deprecated",
    "versionremoved",
    "topic",
    "sidebar",
    "container",
    "compound",
    "epigraph",
    "highlights",
    "pull-quote",
    "only",
    "ifconfig",
    "rst-class",
    "class",
    "cssclass",
    "figure",
    "table",
    "list-table",
    "hlist",
    "tab",
    "tabs",
    "group-tab",
    "tab-set",
    "tab-item",
    "dropdown",
    "card",
    "grid",
    "grid-item",
    "grid-item-card",
    "describe",
    "object",
    "envvar",
];

/// Domain object directives (`py:function`, `function`, `c:member`, ...) whose content is
/// a description in reST.
const OBJECT_DIRECTIVES: &[&str] = &[
    "function",
    "class",
    "method",
    "classmethod",
    "staticmethod",
    "attribute",
    "data",
    "exception",
    "module",
    "decorator",
    "decoratormethod",
    "property",
    "type",
    "member",
    "macro",
    "struct",
    "union",
    "enum",
    "enumerator",
    "var",
    "option",
    "program",
];

/// Nesting (block quotes in block quotes...) walked at most; deeper text is not read, so
/// that a hostile page cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\.\. +([A-Za-z0-9]+(?:[-_+:.][A-Za-z0-9]+)*) ?::(?: +|$)")
        .expect("directive regex compiles")
});

static LIST_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+*\u{2022}\u{2023}\u{2043}]|(?:\d+|#|[A-Za-z])[.)]|\((?:\d+|#|[A-Za-z])\))(?: +|$)",
    )
    .expect("list regex compiles")
});

/// Finds the page's test nodes (and doctest blocks when `doctest_blocks`).
pub(super) fn read<'t>(
    text: &'t str,
    flags: &FlagRegistry,
    doctest_blocks: bool,
    found: &mut Found<'t>,
) {
    let page: Vec<DoctestLine<'t>> = split_universal_lines(text, 0, 1)
        .into_iter()
        .map(rstripped)
        .collect();
    let mut walker = Walker {
        page: &page,
        flags,
        doctest_blocks,
        found,
        depth: 0,
    };
    walker.walk(&page);
}

/// The line without trailing whitespace, as docutils' `string2lines` keeps it.
fn rstripped(line: DoctestLine<'_>) -> DoctestLine<'_> {
    let text = line.text.trim_end_matches(pystr::is_space);
    DoctestLine { text, ..line }
}

/// Whether the line starts with indentation (cheaper than measuring it).
fn is_indented(text: &str) -> bool {
    text.starts_with([' ', '\t'])
}

/// The line's indentation, counted up to `limit` at most: blocks measure indentation
/// against the smallest seen so far, so deep indentation costs nothing per level.
fn indent_up_to(text: &str, limit: usize) -> usize {
    text.bytes()
        .take(limit)
        .take_while(|&byte| byte == b' ' || byte == b'\t')
        .count()
}

/// The line with its first `columns` bytes (of indentation) removed.
fn dedented<'t>(line: &DoctestLine<'t>, columns: usize) -> DoctestLine<'t> {
    let skip = indent_up_to(line.text, columns);
    DoctestLine {
        text: &line.text[skip..],
        start: line.start + skip,
        ..line.clone()
    }
}

/// An indented block (docutils' `get_first_known_indented`): the rest of the first line
/// from byte `first_at`, then the following lines while blank or indented, dedented by
/// their smallest indentation; trailing blank lines are not part of it.
struct Indented<'t> {
    lines: Vec<DoctestLine<'t>>,
    /// Indentation removed from the lines after the first.
    indent: usize,
    /// Index of the first line after the block.
    end: usize,
}

fn first_known_indented<'t>(lines: &[DoctestLine<'t>], at: usize, first_at: usize) -> Indented<'t> {
    let mut end = at + 1;
    while end < lines.len() && (lines[end].text.is_empty() || is_indented(lines[end].text)) {
        end += 1;
    }
    let mut last = end;
    while last > at + 1 && lines[last - 1].text.is_empty() {
        last -= 1;
    }
    let indent = lines[at + 1..last]
        .iter()
        .filter(|line| !line.text.is_empty())
        .fold(None, |smallest: Option<usize>, line| {
            let limit = smallest.unwrap_or(usize::MAX);
            Some(indent_up_to(line.text, limit).min(limit))
        })
        .unwrap_or(0);
    let first = &lines[at];
    let first_at = first_at.min(first.text.len());
    let mut block = vec![DoctestLine {
        text: &first.text[first_at..],
        start: first.start + first_at,
        ..first.clone()
    }];
    block.extend(
        lines[at + 1..last]
            .iter()
            .map(|line| dedented(line, indent)),
    );
    Indented {
        lines: block,
        indent,
        end,
    }
}

struct Walker<'w, 't> {
    page: &'w [DoctestLine<'t>],
    flags: &'w FlagRegistry,
    doctest_blocks: bool,
    found: &'w mut Found<'t>,
    depth: usize,
}

impl<'t> Walker<'_, 't> {
    /// Walks one block's lines (dedented to the block's indentation).
    fn walk(&mut self, lines: &[DoctestLine<'t>]) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.walk_block(lines);
        self.depth -= 1;
    }

    fn walk_block(&mut self, lines: &[DoctestLine<'t>]) {
        let mut index = 0;
        let mut literal_follows = false;
        while index < lines.len() {
            let text = lines[index].text;
            if text.is_empty() {
                index += 1;
                continue;
            }
            if is_indented(text) {
                let block = first_known_indented(lines, index, 0);
                let mut inner = block.lines;
                inner[0] = dedented(&inner[0], block.indent);
                let end = block.end.max(index + 1);
                if !literal_follows {
                    self.walk(&inner);
                }
                literal_follows = false;
                index = end;
                continue;
            }
            if literal_follows {
                literal_follows = false;
                if let Some(quote) = text.chars().next().filter(|c| c.is_ascii_punctuation()) {
                    while index < lines.len() && lines[index].text.starts_with(quote) {
                        index += 1;
                    }
                    continue;
                }
            }
            if text == ".." || text.starts_with(".. ") {
                index = self.explicit_markup(lines, index);
                continue;
            }
            if let Some(marker) = LIST_MARKER.find(text) {
                let block = first_known_indented(lines, index, marker.end());
                self.walk(&block.lines);
                index = block.end.max(index + 1);
                continue;
            }
            let end = (index..lines.len())
                .find(|&i| lines[i].text.is_empty() || (i > index && is_indented(lines[i].text)))
                .unwrap_or(lines.len());
            if is_doctest_start(text) {
                // A doctest block is every line up to the next blank one.
                let block_end = (index..lines.len())
                    .find(|&i| lines[i].text.is_empty())
                    .unwrap_or(lines.len());
                self.doctest_block(&lines[index..block_end]);
                index = block_end;
                continue;
            }
            literal_follows = lines[end - 1].text.ends_with("::");
            index = end;
        }
    }

    fn doctest_block(&mut self, lines: &[DoctestLine<'t>]) {
        if !self.doctest_blocks || lines.is_empty() {
            return;
        }
        let content: Vec<DoctestLine<'t>> = lines.iter().map(|line| self.page_line(line)).collect();
        self.found.nodes.push(TestNode {
            kind: NodeKind::DoctestBlock,
            groups: None,
            options: Vec::new(),
            skip_if: None,
            python_versions: None,
            content,
            dedent: 0,
            expand_tabs: true,
            line: lines[0].line,
        });
    }

    /// The whole page line (indentation included) of a block's line.
    fn page_line(&self, line: &DoctestLine<'t>) -> DoctestLine<'t> {
        self.page
            .get(line.line.saturating_sub(1))
            .cloned()
            .unwrap_or_else(|| line.clone())
    }

    /// A `..` construct at `index`; returns the index after it.
    fn explicit_markup(&mut self, lines: &[DoctestLine<'t>], index: usize) -> usize {
        let text = lines[index].text;
        let Some(captures) = DIRECTIVE.captures(text) else {
            // A comment, target, footnote or substitution: its block is not tested. An
            // empty comment followed by a blank line is just that line.
            if text == ".." && lines.get(index + 1).is_none_or(|line| line.text.is_empty()) {
                return index + 1;
            }
            return first_known_indented(lines, index, text.len())
                .end
                .max(index + 1);
        };
        let name = captures
            .get(1)
            .map_or("", |m| m.as_str())
            .to_ascii_lowercase();
        let block = first_known_indented(lines, index, captures.get(0).map_or(0, |m| m.end()));
        let end = block.end.max(index + 1);
        if let Some(kind) = NodeKind::from_directive(&name) {
            self.test_directive(kind, &lines[index], block);
        } else if is_body_directive(&name) {
            self.walk(block.lines.get(1..).unwrap_or_default());
        }
        end
    }

    /// docutils' `parse_directive_block` for a test directive, then `TestDirective.run`.
    fn test_directive(&mut self, kind: NodeKind, marker: &DoctestLine<'t>, block: Indented<'t>) {
        let line = marker.line;
        let column = marker.start - self.page_line(marker).start + 1;
        let mut indented = block.lines;
        if indented.first().is_some_and(|first| first.text.is_empty()) {
            indented.remove(0);
        }
        while indented.last().is_some_and(|last| last.text.is_empty()) {
            indented.pop();
        }
        let blank = indented
            .iter()
            .position(|line| line.text.is_empty())
            .unwrap_or(indented.len());
        let mut content: Vec<DoctestLine<'t>> =
            indented.get(blank + 1..).unwrap_or_default().to_vec();
        let arguments_and_options = &indented[..blank];
        let options_at = arguments_and_options
            .iter()
            .position(|line| field_marker(line.text).is_some())
            .unwrap_or(arguments_and_options.len());
        let argument_lines = &arguments_and_options[..options_at];
        let options = match read_options(kind, &arguments_and_options[options_at..]) {
            Ok(options) => options,
            Err(problem) => {
                self.found.warn(
                    line,
                    column,
                    format!(
                        "Sphinx does not test this {} directive: {problem}",
                        kind.directive_name()
                    ),
                );
                return;
            }
        };
        while content.first().is_some_and(|line| line.text.is_empty()) {
            content.remove(0);
        }
        let argument: Vec<&str> = argument_lines.iter().map(|line| line.text).collect();
        let mut node = TestNode {
            kind,
            groups: Some(groups_of(&argument.join("\n"))),
            options: Vec::new(),
            skip_if: None,
            python_versions: None,
            content: Vec::new(),
            dedent: 0,
            expand_tabs: true,
            line,
        };
        for (name, value) in options {
            match name.as_str() {
                "options" if matches!(kind, NodeKind::Doctest | NodeKind::Output) => {
                    node.options = read_flag_options(&value, line, self.flags, self.found);
                }
                "skipif" => node.skip_if = Some(value),
                "pyversion" => {
                    node.python_versions = read_python_versions(kind, &value, line, self.found);
                }
                _ => {}
            }
        }
        // Content lines are kept whole (indentation included) so that positions are the
        // page's; `dedent` is what docutils removes from each.
        node.dedent = content
            .iter()
            .find(|line| !line.text.is_empty())
            .map_or(0, |first| first.start - self.page_line(first).start);
        node.content = content.iter().map(|line| self.page_line(line)).collect();
        self.found.nodes.push(node);
    }
}

fn is_doctest_start(text: &str) -> bool {
    text.strip_prefix(">>>")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
}

fn is_body_directive(name: &str) -> bool {
    let bare = name.rsplit(':').next().unwrap_or(name);
    BODY_DIRECTIVES.contains(&name)
        || OBJECT_DIRECTIVES.contains(&bare)
        || (bare.starts_with("auto") && bare.len() > 4)
}

/// docutils' field marker (`:name: value`): the name and the value's byte offset.
fn field_marker(text: &str) -> Option<(&str, usize)> {
    let rest = text.strip_prefix(':')?;
    if rest.starts_with([':', ' ']) {
        return None;
    }
    let mut search = 0;
    while let Some(relative) = rest[search..].find(':') {
        let colon = search + relative;
        let after = &rest[colon + 1..];
        let name = &rest[..colon];
        if !name.is_empty()
            && !name.ends_with(' ')
            && !name.ends_with('\\')
            && (after.is_empty() || after.starts_with(' '))
        {
            let value_at = 1 + colon + 1 + (after.len() - after.trim_start_matches(' ').len());
            return Some((name, value_at));
        }
        search = colon + 1;
    }
    None
}

/// The directive's option block read as docutils does (`extract_extension_options`):
/// `(name, value)` pairs, or why docutils rejects the directive.
fn read_options(
    kind: NodeKind,
    lines: &[DoctestLine<'_>],
) -> Result<Vec<(String, String)>, String> {
    let mut fields: Vec<(String, Vec<String>)> = Vec::new();
    for line in lines {
        if let Some((name, value_at)) = field_marker(line.text) {
            let value = &line.text[value_at.min(line.text.len())..];
            fields.push((name.to_lowercase(), vec![value.to_owned()]));
        } else if is_indented(line.text)
            && let Some((_, value)) = fields.last_mut()
        {
            value.push(line.text.trim_start_matches([' ', '\t']).to_owned());
        } else {
            return Err(format!(
                "invalid option block at line {} (an option is `:name: value`; put a blank \
                 line between the options and the content)",
                line.line
            ));
        }
    }
    let spec = kind.option_spec();
    let mut options: Vec<(String, String)> = Vec::new();
    for (name, value) in fields {
        let value = value
            .iter()
            .map(String::as_str)
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let Some(&(_, accepts)) = spec.iter().find(|(known, _)| *known == name) else {
            let known: Vec<&str> = spec.iter().map(|(known, _)| *known).collect();
            return Err(format!(
                "unknown option: \"{name}\" (it accepts {})",
                known.join(", ")
            ));
        };
        if options.iter().any(|(known, _)| *known == name) {
            return Err(format!("duplicate option \"{name}\""));
        }
        match accepts {
            OptionValue::Flag if !value.is_empty() => {
                return Err(format!("option \"{name}\" takes no value"));
            }
            OptionValue::Required if value.is_empty() => {
                return Err(format!("option \"{name}\" needs a value"));
            }
            _ => {}
        }
        options.push((name, value));
    }
    Ok(options)
}
