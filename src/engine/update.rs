//! Accepting actual output: the text edit that replaces an example's expected output with
//! what it really printed, written the way the page writes it (indentation, line ends,
//! `<BLANKLINE>`), and keeping the expected lines that already match (a node count under
//! NODES_VARY, a line with `...` under ELLIPSIS). Used by `--update` and by the editor's
//! quick fix; pure, so both get the same edit.

use std::ops::Range;

use super::check;
use super::flags::{Flag, FlagBehavior, FlagRegistry, FlagSet};
use super::page::{Example, Page};

/// Replace `range` of the page's text with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub range: Range<usize>,
    pub replacement: String,
}

/// What the example did, as far as its expected output is concerned.
#[derive(Debug, Clone, Copy)]
pub struct Actual<'a> {
    /// What it printed; with a traceback appended when it raised.
    pub got: &'a str,
    /// The exception message as doctest compares it, when it raised.
    pub exc_msg: Option<&'a str>,
}

/// True when accepting output must not touch this example: its output is not meant to be
/// compared (SKIP, RANDOM_OUTPUT, or a configured any-output flag).
pub fn is_protected(flags: FlagSet, registry: &FlagRegistry) -> bool {
    flags.contains(Flag::SKIP)
        || flags.contains(Flag::RANDOM_OUTPUT)
        || registry.custom_flags().any(|(flag, info)| {
            info.behavior == FlagBehavior::AnyNonEmptyOutput && flags.contains(flag)
        })
}

/// The edit that makes `example` expect `actual`, or `None` when nothing would change or
/// the example is protected.
pub fn accept_actual(
    page: &Page,
    example: &Example,
    actual: Actual<'_>,
    flags: FlagSet,
    registry: &FlagRegistry,
) -> Option<TextEdit> {
    if is_protected(flags, registry) {
        return None;
    }
    let new_want = new_expected_output(example, actual, flags, registry);
    if new_want == example.want {
        return None;
    }
    let layout = Layout::of(page, example);
    let mut replacement = String::new();
    if example.span.want_lines == 0 && !layout.source_ends_line {
        replacement.push_str(layout.line_end);
    }
    for line in new_want.lines() {
        replacement.push_str(&layout.prefix);
        replacement.push_str(line);
        replacement.push_str(layout.line_end);
    }
    if example.span.want_lines > 0 && !layout.want_ends_line {
        // The page ended without a line end after the output; keep it that way.
        let trimmed = replacement.len() - layout.line_end.len();
        replacement.truncate(trimmed);
    }
    Some(TextEdit {
        range: example.span.want_bytes.clone(),
        replacement,
    })
}

/// The expected output the example should have, as doctest text (lines ending with `\n`).
fn new_expected_output(
    example: &Example,
    actual: Actual<'_>,
    flags: FlagSet,
    registry: &FlagRegistry,
) -> String {
    let blankline = !flags.contains(Flag::DONT_ACCEPT_BLANKLINE);
    let written = match (actual.exc_msg, &example.exc_msg) {
        (Some(raised), Some(expected)) => {
            // Keep the traceback header and stack lines as written; replace the message.
            let head = example.want.strip_suffix(expected.as_str()).unwrap_or("");
            format!("{head}{}", merge_lines(expected, raised, flags, registry))
        }
        (Some(raised), None) => {
            format!(
                "Traceback (most recent call last):\n  ...\n{}",
                ensure_newline(raised)
            )
        }
        (None, _) => merge_lines(&example.want, actual.got, flags, registry),
    };
    if blankline {
        mark_blank_lines(&written)
    } else {
        written
    }
}

/// The actual lines, except that an expected line which already matches the actual line in
/// its place (by the flags in effect) is kept as written.
fn merge_lines(want: &str, got: &str, flags: FlagSet, registry: &FlagRegistry) -> String {
    let want_lines: Vec<&str> = want.lines().collect();
    let got_lines: Vec<&str> = got.lines().collect();
    let mut merged = String::with_capacity(got.len());
    for (index, got_line) in got_lines.iter().enumerate() {
        let kept = want_lines
            .get(index)
            .filter(|want_line| {
                want_lines.len() == got_lines.len()
                    && check::check_output(
                        &format!("{want_line}\n"),
                        &format!("{got_line}\n"),
                        flags,
                        registry,
                    )
                    .passed
            })
            .copied();
        merged.push_str(kept.unwrap_or(got_line));
        merged.push('\n');
    }
    merged
}

/// Lines of only whitespace become `<BLANKLINE>`, as doctest needs them written.
fn mark_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.trim_matches([' ', '\t']).is_empty() {
            out.push_str("<BLANKLINE>");
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

fn ensure_newline(text: &str) -> String {
    if text.ends_with('\n') {
        text.to_owned()
    } else {
        format!("{text}\n")
    }
}

/// How the page writes this example: what comes before `>>>` on its line, and its line end.
struct Layout {
    prefix: String,
    line_end: &'static str,
    source_ends_line: bool,
    want_ends_line: bool,
}

impl Layout {
    fn of(page: &Page, example: &Example) -> Layout {
        let text = &page.text;
        let source = example.span.source_bytes.clone();
        let first_line_end = text[source.start..source.end]
            .find(['\n', '\r'])
            .map_or(source.end, |offset| source.start + offset);
        let first_line = &text[source.start..first_line_end];
        let prefix = first_line
            .find(">>>")
            .map_or("", |at| &first_line[..at])
            .to_owned();
        let after_source = &text[source.end..];
        let line_end = if after_source.starts_with("\r\n") {
            "\r\n"
        } else if after_source.starts_with('\r') {
            "\r"
        } else {
            "\n"
        };
        let want = example.span.want_bytes.clone();
        Layout {
            prefix,
            line_end,
            source_ends_line: !after_source.is_empty(),
            want_ends_line: text[want.clone()].ends_with(['\n', '\r']),
        }
    }
}

/// Applies non-overlapping edits to `text`.
pub fn apply_edits(text: &str, edits: &[TextEdit]) -> String {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|edit| edit.range.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in sorted {
        if edit.range.start < at {
            continue;
        }
        out.push_str(&text[at..edit.range.start]);
        out.push_str(&edit.replacement);
        at = edit.range.end;
    }
    out.push_str(&text[at..]);
    out
}
