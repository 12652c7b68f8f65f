//! Accepting actual output: the text edit that replaces an example's expected output with
//! what it really printed, written the way the page writes it (indentation, line ends,
//! `<BLANKLINE>`), and keeping the expected lines that already match (a node count under
//! NODES_VARY, a line with `...` under ELLIPSIS). Used by `--update` and by the editor's
//! quick fix; pure, so both get the same edit.
//!
//! An edit is only offered when the page can hold it: the updated text is parsed again and
//! must have the same examples, the accepted one now expecting exactly what was accepted and
//! passing against what it printed, the others untouched. Output that a page cannot hold as
//! expected output (a `>>>` line would start a new example, a carriage return is a line end
//! to doctest, a tab is expanded when doctest reads the page, a fence line would close a
//! Markdown block...) is refused with a [`Refusal`] that says why.

use std::ops::Range;

use super::check;
use super::flags::{Flag, FlagBehavior, FlagRegistry, FlagSet};
use super::judge::judge;
use super::page::{Example, Page, PageFormat, parse_page};

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

/// Why an actual output cannot be written as the example's expected output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "its output has a carriage return, which a page cannot hold (doctest reads it as a \
         line end); print repr() of the text instead"
    )]
    CarriageReturn,
    #[error("its output has a line starting with `>>>`, which doctest would read as a new example")]
    PromptLine,
    #[error(
        "its output starts with `...`, which doctest would read as more of the example's source"
    )]
    ContinuationLine,
    #[error(
        "its output has a blank line, which would end the expected output (DONT_ACCEPT_BLANKLINE \
         is on, so <BLANKLINE> cannot stand for it)"
    )]
    BlankLine,
    #[error(
        "its output has a tab, which doctest expands to spaces when it reads the page, so the \
         expected output would never match; turn on NORMALIZE_WHITESPACE or print without tabs"
    )]
    Tab,
    #[error("its output has a line that would close the Markdown code block")]
    FenceLine,
    #[error(
        "its output has a line `<BLANKLINE>`, which doctest reads as an empty line, so the \
         expected output would never match"
    )]
    BlanklineMarker,
    #[error("its output has trailing whitespace that the page would not keep")]
    TrailingWhitespace,
    #[error(
        "its output is not compared (SKIP, RANDOM_OUTPUT or an any-output flag), so there is \
         nothing to accept; fix the example by hand"
    )]
    Protected,
    #[error("each line of its expected output already matches on its own; edit it by hand")]
    NothingToChange,
    #[error(
        "pages read in the sphinx profile are not edited yet (a testoutput is written apart \
         from its testcode); edit the expected output by hand"
    )]
    SphinxPage,
    #[error(
        "the page would not read this output back as written (the updated page was parsed \
         again and the example did not expect what it printed)"
    )]
    NotReadBack,
}

/// The edit that makes `example` expect `actual`, or `None` when nothing would change, the
/// example is protected, or the page cannot hold the output ([`try_accept_actual`] says why).
pub fn accept_actual(
    page: &Page,
    example: &Example,
    actual: Actual<'_>,
    flags: FlagSet,
    registry: &FlagRegistry,
) -> Option<TextEdit> {
    try_accept_actual(page, example, actual, flags, registry)
        .ok()
        .flatten()
}

/// The edit that makes `example` expect `actual`, checked by parsing the edited page again;
/// `Ok(None)` when nothing would change or the example is protected.
pub fn try_accept_actual(
    page: &Page,
    example: &Example,
    actual: Actual<'_>,
    flags: FlagSet,
    registry: &FlagRegistry,
) -> Result<Option<TextEdit>, Refusal> {
    Ok(checked_edit(page, example, actual, flags, registry)?.map(|(edit, _)| edit))
}

/// The checked edit and the expected output it writes.
fn checked_edit(
    page: &Page,
    example: &Example,
    actual: Actual<'_>,
    flags: FlagSet,
    registry: &FlagRegistry,
) -> Result<Option<(TextEdit, String)>, Refusal> {
    if is_protected(flags, registry) {
        return Ok(None);
    }
    if page.profile == super::profile::Profile::Sphinx {
        return Err(Refusal::SphinxPage);
    }
    let mut new_want = new_expected_output(example, actual, flags, registry);
    if new_want == example.want {
        return Ok(None);
    }
    if flags.contains(Flag::NORMALIZE_WHITESPACE) && new_want.contains('\r') {
        // A page's carriage returns are line ends to doctest, and under NORMALIZE_WHITESPACE a
        // line end matches the carriage return that was printed.
        new_want = new_want.replace("\r\n", "\n").replace('\r', "\n");
        if !flags.contains(Flag::DONT_ACCEPT_BLANKLINE) {
            new_want = mark_blank_lines(&new_want);
        }
    }
    refuse_unwritable(&new_want, flags)?;
    if new_want.contains('\t') {
        // doctest expands the page's tabs before it parses; write what it will read.
        new_want = expanded_as_written(&new_want, &Layout::of(page, example).prefix);
    }
    let edit = edit_for(page, example, &new_want);
    let Some(index) = page
        .examples
        .iter()
        .position(|other| other.span == example.span)
    else {
        return Err(Refusal::NotReadBack);
    };
    let accepted = [AcceptedEdit {
        index,
        want: new_want,
        actual,
        flags,
    }];
    let text = apply_edits(&page.text, std::slice::from_ref(&edit));
    match read_back(page, &text, &accepted, registry) {
        Ok(()) => {
            let [accepted] = accepted;
            Ok(Some((edit, accepted.want)))
        }
        Err(()) => Err(explain_unread(actual.got, page.format)),
    }
}

/// `want`'s lines with tabs expanded as they will be once written after `prefix` (the
/// page's indentation, itself whitespace) and read back by doctest.
fn expanded_as_written(want: &str, prefix: &str) -> String {
    let prefix_width = super::pystr::expand_tabs(prefix).chars().count();
    let mut out = String::with_capacity(want.len());
    for line in want.lines() {
        let expanded = super::pystr::expand_tabs(&format!("{prefix}{line}")).into_owned();
        out.extend(expanded.chars().skip(prefix_width));
        out.push('\n');
    }
    out
}

/// One example's accepted output, as [`update_page`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The example's index on the page.
    pub index: usize,
    pub actual: Actual<'a>,
    pub flags: FlagSet,
}

/// The page with every acceptable output accepted, and why the others were not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageUpdate {
    /// The updated text; `None` when nothing changes.
    pub text: Option<String>,
    /// Indices of the examples whose expected output was replaced.
    pub accepted: Vec<usize>,
    /// Indices of the examples left as they were, and why.
    pub refused: Vec<(usize, Refusal)>,
}

/// Accepts the actual output of each candidate (a failing example) the page can hold, all
/// in one text, and checks the whole by parsing it again (each edit was already checked on
/// its own). A candidate that needs no edit or is protected is refused too: it still fails.
pub fn update_page(
    page: &Page,
    candidates: &[Candidate<'_>],
    registry: &FlagRegistry,
) -> PageUpdate {
    let mut update = PageUpdate::default();
    let mut edits = Vec::new();
    let mut accepted = Vec::new();
    for candidate in candidates {
        let Some(example) = page.examples.get(candidate.index) else {
            continue;
        };
        match checked_edit(page, example, candidate.actual, candidate.flags, registry) {
            Ok(Some((edit, want))) => {
                accepted.push(AcceptedEdit {
                    index: candidate.index,
                    want,
                    actual: candidate.actual,
                    flags: candidate.flags,
                });
                edits.push(edit);
            }
            Ok(None) if is_protected(candidate.flags, registry) => {
                update.refused.push((candidate.index, Refusal::Protected));
            }
            Ok(None) => update
                .refused
                .push((candidate.index, Refusal::NothingToChange)),
            Err(refusal) => update.refused.push((candidate.index, refusal)),
        }
    }
    if edits.is_empty() {
        return update;
    }
    let text = apply_edits(&page.text, &edits);
    if read_back(page, &text, &accepted, registry).is_err() {
        // Edits touch disjoint lines, so this should not happen; if it does, write nothing.
        update.refused.extend(
            accepted
                .iter()
                .map(|edit| (edit.index, Refusal::NotReadBack)),
        );
        update.refused.sort_by_key(|(index, _)| *index);
        return update;
    }
    update.accepted = accepted.iter().map(|edit| edit.index).collect();
    update.text = Some(text);
    update
}

/// An accepted output, for checking the edited page.
struct AcceptedEdit<'a> {
    index: usize,
    want: String,
    actual: Actual<'a>,
    flags: FlagSet,
}

/// Refuses outputs that no layout can hold, with the reason, before anything is parsed.
fn refuse_unwritable(want: &str, flags: FlagSet) -> Result<(), Refusal> {
    if want.contains('\r') {
        return Err(Refusal::CarriageReturn);
    }
    if want
        .lines()
        .any(|line| line.trim_start_matches(' ').starts_with(">>>"))
    {
        return Err(Refusal::PromptLine);
    }
    if want
        .lines()
        .next()
        .is_some_and(|line| line.trim_start_matches(' ').starts_with("..."))
    {
        return Err(Refusal::ContinuationLine);
    }
    if flags.contains(Flag::DONT_ACCEPT_BLANKLINE)
        && want.lines().any(|line| line.trim_matches(' ').is_empty())
    {
        return Err(Refusal::BlankLine);
    }
    Ok(())
}

/// Why an output that passed [`refuse_unwritable`] still did not read back.
fn explain_unread(want: &str, format: PageFormat) -> Refusal {
    if want.contains('\t') {
        Refusal::Tab
    } else if format == PageFormat::Markdown
        && want.lines().any(|line| {
            let line = line.trim_start_matches(' ');
            line.starts_with("```") || line.starts_with("~~~")
        })
    {
        Refusal::FenceLine
    } else if want
        .lines()
        .any(|line| line.starts_with(check::BLANKLINE_MARKER))
    {
        Refusal::BlanklineMarker
    } else if want.lines().any(|line| line.ends_with([' ', '\t'])) {
        Refusal::TrailingWhitespace
    } else {
        Refusal::NotReadBack
    }
}

/// Parses `text` (the page with `accepted` applied) and checks that the page still has the
/// same examples with the same sources, that each accepted example expects exactly what was
/// accepted and passes against its actual output, and that the others expect what they did.
fn read_back(
    page: &Page,
    text: &str,
    accepted: &[AcceptedEdit<'_>],
    registry: &FlagRegistry,
) -> Result<(), ()> {
    let reparsed = parse_page(&page.path, page.format, text.as_bytes(), registry);
    if reparsed.errors.len() > page.errors.len() || reparsed.examples.len() != page.examples.len() {
        return Err(());
    }
    for (index, (before, after)) in page.examples.iter().zip(&reparsed.examples).enumerate() {
        if before.source != after.source || before.options != after.options {
            return Err(());
        }
        match accepted.iter().find(|edit| edit.index == index) {
            Some(edit) => {
                let passes = judge(
                    after,
                    edit.actual.got,
                    edit.actual.exc_msg,
                    edit.flags,
                    registry,
                )
                .passed;
                if after.want != edit.want || !passes {
                    return Err(());
                }
            }
            None if before.want != after.want || before.exc_msg != after.exc_msg => {
                return Err(());
            }
            None => {}
        }
    }
    Ok(())
}

/// The text edit that writes `new_want` in place of the example's expected output.
fn edit_for(page: &Page, example: &Example, new_want: &str) -> TextEdit {
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
    TextEdit {
        range: example.span.want_bytes.clone(),
        replacement,
    }
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

/// Lines of only whitespace (Python's, as doctest's `^[^\S\n]+$` sees it) become
/// `<BLANKLINE>`, as doctest needs them written.
fn mark_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.chars().all(super::pystr::is_space) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::flags::FlagSet;

    fn page(format: PageFormat, text: &str) -> Page {
        parse_page("page", format, text.as_bytes(), &FlagRegistry::new())
    }

    fn accept(page: &Page, got: &str, flags: FlagSet) -> Result<Option<String>, Refusal> {
        let registry = FlagRegistry::new();
        let actual = Actual { got, exc_msg: None };
        let edit = try_accept_actual(page, &page.examples[0], actual, flags, &registry)?;
        Ok(edit.map(|edit| apply_edits(&page.text, &[edit])))
    }

    const TEXT: &str = "    >>> print(x)\n    old\n    >>> 1\n    1\n";

    #[test]
    fn outputs_a_page_cannot_hold_are_refused_with_the_reason() {
        let text = page(PageFormat::Text, TEXT);
        let none = FlagSet::EMPTY;
        for (got, refusal) in [
            ("a\rb\n", Refusal::CarriageReturn),
            ("ok\n>>> 2\n", Refusal::PromptLine),
            ("  >>> 2\n", Refusal::PromptLine),
            ("... more\n", Refusal::ContinuationLine),
            ("a\tb\n", Refusal::Tab),
            ("<BLANKLINE>\n\n", Refusal::BlanklineMarker),
        ] {
            assert_eq!(accept(&text, got, none), Err(refusal), "{got:?}");
        }
        let strict = FlagSet::EMPTY.with(Flag::DONT_ACCEPT_BLANKLINE);
        assert_eq!(accept(&text, "a\n\nb\n", strict), Err(Refusal::BlankLine));
    }

    #[test]
    fn outputs_it_can_hold_are_written_so_they_read_back() {
        let text = page(PageFormat::Text, TEXT);
        let none = FlagSet::EMPTY;
        let written = accept(&text, "a\n...\n  \x0b\nend  \n", none)
            .unwrap()
            .unwrap();
        assert_eq!(
            written,
            "    >>> print(x)\n    a\n    ...\n    <BLANKLINE>\n    end  \n    >>> 1\n    1\n"
        );
        // Printed exactly, a literal marker reads back as itself.
        let marker = accept(&text, "<BLANKLINE>\n", none).unwrap().unwrap();
        assert!(marker.starts_with("    >>> print(x)\n    <BLANKLINE>\n    >>> 1"));
        // Under NORMALIZE_WHITESPACE a tab is written as the spaces doctest would read.
        let normalized = FlagSet::EMPTY.with(Flag::NORMALIZE_WHITESPACE);
        let tabbed = accept(&text, "a\tb\n", normalized).unwrap().unwrap();
        assert!(
            tabbed.starts_with("    >>> print(x)\n    a   b\n"),
            "{tabbed:?}"
        );
    }

    #[test]
    fn a_fence_line_in_markdown_is_refused() {
        let markdown = page(PageFormat::Markdown, "```python\n>>> print(x)\nold\n```\n");
        assert_eq!(
            accept(&markdown, "```\n", FlagSet::EMPTY),
            Err(Refusal::FenceLine)
        );
        // A shorter run of backticks does not close the block.
        let long = page(
            PageFormat::Markdown,
            "````python\n>>> print(x)\nold\n````\n",
        );
        assert!(accept(&long, "```\n", FlagSet::EMPTY).unwrap().is_some());
    }

    #[test]
    fn update_page_accepts_what_it_can_and_never_adds_an_example() {
        let text = page(PageFormat::Text, TEXT);
        let registry = FlagRegistry::new();
        let candidates = [
            Candidate {
                index: 0,
                actual: Actual {
                    got: "new\n",
                    exc_msg: None,
                },
                flags: FlagSet::EMPTY,
            },
            Candidate {
                index: 1,
                actual: Actual {
                    got: "2\n>>> evil()\n",
                    exc_msg: None,
                },
                flags: FlagSet::EMPTY,
            },
        ];
        let update = update_page(&text, &candidates, &registry);
        assert_eq!(update.accepted, [0]);
        assert_eq!(update.refused, [(1, Refusal::PromptLine)]);
        let updated = update.text.unwrap();
        assert_eq!(updated, "    >>> print(x)\n    new\n    >>> 1\n    1\n");
        assert_eq!(page(PageFormat::Text, &updated).examples.len(), 2);
    }
}
