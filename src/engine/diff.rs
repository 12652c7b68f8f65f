//! Diffs of expected and actual output, as data for front ends, and the failure text that
//! CPython's doctest prints.
//!
//! This module owns three answers to "how does got differ from want":
//!
//! - [`unified_diff`]: hunks as data ([`Diff`]), computed with `similar`, for editors and the
//!   human report, with [`Diff::render_unified`] for the usual `--- / +++ / @@` text. Lines
//!   are split at `\n` only, as editors number them, and kept as written.
//! - [`first_difference`]: the first line that differs, for a one-line diagnostic.
//! - [`output_difference`]: byte-identical to CPython 3.11's
//!   `OutputChecker.output_difference`, for every flag combination: the plain
//!   `Expected:`/`Got:` form, and REPORT_UDIFF, REPORT_CDIFF and REPORT_NDIFF.
//!
//! Why two diff algorithms: `similar` finds a shortest edit script (Myers), while difflib's
//! `SequenceMatcher` anchors on the longest matching block and recurses on both sides of it,
//! and in sequences of 200 items or more ignores items that make up more than 1% of the
//! second one. On the same input the two sometimes choose different, equally valid hunks
//! (for lines `x a y a` against `a x a`, Myers keeps `a`, `a` and difflib keeps `x`, `a`; on
//! the differential tests' inputs they agree about 96% of the time), so the REPORT_*
//! renderers use a port of `SequenceMatcher`, `get_grouped_opcodes`, `context_diff` and
//! `Differ` instead (in `diff/difflib.rs`; [`difflib_unified_diff`] gives that diff as data
//! too). They also split lines as `str.splitlines` does, which ends a line at `\r`, `\v`, `\f`,
//! `\x1c`..`\x1e`, `\x85`, `\u2028` and `\u2029` as well as `\n`.
//!
//! The only difference between [`Diff::render_unified`] and `difflib.unified_diff` on the
//! same hunks: a last line without a line break is followed by `\ No newline at end of file`,
//! as diff and git write it, where difflib runs the next line on.

mod difflib;

use serde::Serialize;

use super::check::BLANKLINE_MARKER;
use super::flags::{Flag, FlagSet};
use super::pystr;
use difflib::{Opcode, Tag, group_opcodes};

/// What a line of a hunk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineKind {
    /// In both want and got.
    Context,
    /// In want only.
    Removed,
    /// In got only.
    Added,
}

impl LineKind {
    fn prefix(self) -> char {
        match self {
            LineKind::Context => ' ',
            LineKind::Removed => '-',
            LineKind::Added => '+',
        }
    }
}

/// One line of a hunk, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    pub kind: LineKind,
    /// The line without its line break.
    pub text: String,
    /// The line break as written (`"\n"`, `"\r\n"`, ...), empty on a last line without one.
    pub ending: String,
}

/// A run of changes with its context lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    /// Index (0-based) of the hunk's first line in want; for an empty range, the index the
    /// lines would be inserted before.
    pub old_start: usize,
    pub old_len: usize,
    /// Index (0-based) of the hunk's first line in got, likewise.
    pub new_start: usize,
    pub new_len: usize,
    pub lines: Vec<DiffLine>,
}

impl Hunk {
    /// `@@ -a,b +c,d @@`, with difflib's (and diff's) conventions for ranges.
    pub fn header(&self) -> String {
        format!(
            "@@ -{} +{} @@",
            unified_range(self.old_start, self.old_len),
            unified_range(self.new_start, self.new_len)
        )
    }
}

/// Differences between want and got, as hunks; no hunks when they are equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub hunks: Vec<Hunk>,
}

impl Diff {
    /// The diff as `--- from_label`, `+++ to_label` and hunks; empty when there are no hunks.
    pub fn render_unified(&self, from_label: &str, to_label: &str) -> String {
        if self.hunks.is_empty() {
            return String::new();
        }
        let mut out = format!("--- {from_label}\n+++ {to_label}\n");
        self.write_hunks(&mut out, true);
        out
    }

    /// Hunks only, each line followed by its own line break (difflib's way), with or without
    /// a marker after a last line that has none.
    fn write_hunks(&self, out: &mut String, mark_missing_newline: bool) {
        for hunk in &self.hunks {
            out.push_str(&hunk.header());
            out.push('\n');
            for line in &hunk.lines {
                out.push(line.kind.prefix());
                out.push_str(&line.text);
                out.push_str(&line.ending);
                if mark_missing_newline && line.ending.is_empty() {
                    out.push_str("\n\\ No newline at end of file\n");
                }
            }
        }
    }
}

/// `_format_range_unified`: `start+1,len`, `start+1` alone for one line, `start,0` for none.
fn unified_range(start: usize, len: usize) -> String {
    match len {
        1 => format!("{}", start + 1),
        0 => format!("{start},0"),
        _ => format!("{},{len}", start + 1),
    }
}

// ---------------------------------------------------------------------------------------------
// Lines.

/// A line and its line break, compared as a whole (a missing final newline is a difference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Line<'a> {
    whole: &'a str,
    text_len: usize,
}

impl<'a> Line<'a> {
    fn text(self) -> &'a str {
        &self.whole[..self.text_len]
    }

    fn ending(self) -> &'a str {
        &self.whole[self.text_len..]
    }
}

/// Lines as an editor numbers them: ended by `\n` (the break kept as `\n` or `\r\n`).
fn editor_lines(text: &str) -> Vec<Line<'_>> {
    text.split_inclusive('\n')
        .map(|whole| {
            let text_len = whole
                .strip_suffix("\r\n")
                .or_else(|| whole.strip_suffix('\n'))
                .unwrap_or(whole)
                .len();
            Line { whole, text_len }
        })
        .collect()
}

/// `text.splitlines(keepends=True)`.
fn python_lines(text: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let is_break = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if !is_break {
            continue;
        }
        let mut end = at + c.len_utf8();
        if c == '\r' && chars.next_if(|&(_, next)| next == '\n').is_some() {
            end += 1;
        }
        lines.push(Line {
            whole: &text[start..end],
            text_len: at - start,
        });
        start = end;
    }
    if start < text.len() {
        lines.push(Line {
            whole: &text[start..],
            text_len: text.len() - start,
        });
    }
    lines
}

// ---------------------------------------------------------------------------------------------
// Opcodes and hunks, shared by both algorithms.

fn diff_from_groups(groups: &[Vec<Opcode>], a: &[Line], b: &[Line]) -> Diff {
    let hunks = groups
        .iter()
        .filter_map(|group| {
            let (first, last) = (group.first()?, group.last()?);
            let mut lines = Vec::new();
            for code in group {
                let (old, new) = (&a[code.i1..code.i2], &b[code.j1..code.j2]);
                if code.tag == Tag::Equal {
                    lines.extend(diff_lines(LineKind::Context, old));
                } else {
                    lines.extend(diff_lines(LineKind::Removed, old));
                    lines.extend(diff_lines(LineKind::Added, new));
                }
            }
            Some(Hunk {
                old_start: first.i1,
                old_len: last.i2 - first.i1,
                new_start: first.j1,
                new_len: last.j2 - first.j1,
                lines,
            })
        })
        .collect();
    Diff { hunks }
}

fn diff_lines<'a>(kind: LineKind, lines: &'a [Line]) -> impl Iterator<Item = DiffLine> + 'a {
    lines.iter().map(move |line| DiffLine {
        kind,
        text: line.text().to_owned(),
        ending: line.ending().to_owned(),
    })
}

/// The unified diff of want and got with `context` lines around each change, as data.
/// Lines end at `\n`; both sides are taken as written (not normalized by any flag).
pub fn unified_diff(want: &str, got: &str, context: usize) -> Diff {
    let a = editor_lines(want);
    let b = editor_lines(got);
    let codes = similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b)
        .iter()
        .map(|op| {
            let (tag, old, new) = op.as_tag_tuple();
            let tag = match tag {
                similar::DiffTag::Equal => Tag::Equal,
                similar::DiffTag::Delete => Tag::Delete,
                similar::DiffTag::Insert => Tag::Insert,
                similar::DiffTag::Replace => Tag::Replace,
            };
            Opcode {
                tag,
                i1: old.start,
                i2: old.end,
                j1: new.start,
                j2: new.end,
            }
        })
        .collect();
    diff_from_groups(&group_opcodes(codes, context), &a, &b)
}

/// The unified diff `difflib.unified_diff(want.splitlines(True), got.splitlines(True),
/// n=context)` computes, as data: what REPORT_UDIFF shows.
pub fn difflib_unified_diff(want: &str, got: &str, context: usize) -> Diff {
    let a = python_lines(want);
    let b = python_lines(got);
    diff_from_groups(&group_opcodes(difflib::opcodes(&a, &b), context), &a, &b)
}

// ---------------------------------------------------------------------------------------------
// The first difference.

/// The first line where want and got differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirstDifference {
    /// 0-based line index, lines ending at `\n`.
    pub line: usize,
    /// The expected line without its line break; `None` when want has fewer lines.
    pub expected: Option<String>,
    /// The actual line without its line break; `None` when got has fewer lines.
    pub actual: Option<String>,
}

impl FirstDifference {
    /// One sentence for a diagnostic, lines quoted as Python would.
    pub fn message(&self) -> String {
        let line = self.line + 1;
        match (&self.expected, &self.actual) {
            (Some(expected), Some(actual)) if expected == actual => {
                format!("line {line}: only the line break at the end differs")
            }
            (Some(expected), Some(actual)) => format!(
                "line {line}: expected {}, got {}",
                pystr::repr(expected),
                pystr::repr(actual)
            ),
            (Some(expected), None) => {
                format!(
                    "line {line}: expected {}, got no more output",
                    pystr::repr(expected)
                )
            }
            (None, Some(actual)) => {
                format!(
                    "line {line}: expected no more output, got {}",
                    pystr::repr(actual)
                )
            }
            (None, None) => format!("line {line}: no difference"),
        }
    }
}

/// The first line (ending at `\n`, compared with its line break) where want and got differ;
/// `None` when they are equal.
pub fn first_difference(want: &str, got: &str) -> Option<FirstDifference> {
    let a = editor_lines(want);
    let b = editor_lines(got);
    let line = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))?;
    Some(FirstDifference {
        line,
        expected: a.get(line).map(|l| l.text().to_owned()),
        actual: b.get(line).map(|l| l.text().to_owned()),
    })
}

// ---------------------------------------------------------------------------------------------
// CPython's failure text.

/// What doctest prints after `Failed example:` when the output differs: exactly
/// `OutputChecker().output_difference(example, got, optionflags)` for an example whose
/// `want` is `want`.
pub fn output_difference(want: &str, got: &str, flags: FlagSet) -> String {
    let got = if flags.contains(Flag::DONT_ACCEPT_BLANKLINE) {
        got.to_owned()
    } else {
        mark_blank_lines(got)
    };
    if let Some(kind) = fancy_diff_kind(want, &got, flags) {
        let whole_lines =
            |text| -> Vec<&str> { python_lines(text).iter().map(|l| l.whole).collect() };
        let (title, body) = match kind {
            Flag::REPORT_UDIFF => {
                let mut body = String::new();
                difflib_unified_diff(want, &got, 2).write_hunks(&mut body, false);
                ("unified diff with -expected +actual", body)
            }
            Flag::REPORT_CDIFF => (
                "context diff with expected followed by actual",
                difflib::context_diff_body(&whole_lines(want), &whole_lines(&got), 2),
            ),
            _ => (
                "ndiff with -expected +actual",
                difflib::ndiff(&whole_lines(want), &whole_lines(&got)),
            ),
        };
        return format!("Differences ({title}):\n{}", indent(&body));
    }
    match (want.is_empty(), got.is_empty()) {
        (false, false) => format!("Expected:\n{}Got:\n{}", indent(want), indent(&got)),
        (false, true) => format!("Expected:\n{}Got nothing\n", indent(want)),
        (true, false) => format!("Expected nothing\nGot:\n{}", indent(&got)),
        (true, true) => "Expected nothing\nGot nothing\n".to_owned(),
    }
}

/// `_do_a_fancy_diff` and the choice among the diff flags: UDIFF wins over CDIFF over NDIFF;
/// NDIFF is used even for one line, the others only when both sides have 3 newlines or more
/// (a request for NDIFF alone is enough to let UDIFF or CDIFF through on short outputs).
fn fancy_diff_kind(want: &str, got: &str, flags: FlagSet) -> Option<Flag> {
    let requested = [Flag::REPORT_UDIFF, Flag::REPORT_CDIFF, Flag::REPORT_NDIFF]
        .into_iter()
        .find(|flag| flags.contains(*flag))?;
    let long_enough = want.matches('\n').count() > 2 && got.matches('\n').count() > 2;
    (flags.contains(Flag::REPORT_NDIFF) || long_enough).then_some(requested)
}

/// `re.sub('(?m)^[ ]*(?=\n)', '<BLANKLINE>', got)`: lines of spaces (or none) before a
/// newline become `<BLANKLINE>`.
fn mark_blank_lines(got: &str) -> String {
    let mut out = String::with_capacity(got.len());
    let mut lines = got.split('\n').peekable();
    while let Some(line) = lines.next() {
        let followed_by_newline = lines.peek().is_some();
        if followed_by_newline && line.bytes().all(|b| b == b' ') {
            out.push_str(BLANKLINE_MARKER);
        } else {
            out.push_str(line);
        }
        if followed_by_newline {
            out.push('\n');
        }
    }
    out
}

/// `_indent`: four spaces before every line that is not empty (lines end at `\n`).
pub fn indent(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        if line != "\n" {
            out.push_str("    ");
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udiff() -> FlagSet {
        FlagSet::EMPTY.with(Flag::REPORT_UDIFF)
    }

    #[test]
    fn lines_split_as_python_splitlines() {
        let wholes = |text| -> Vec<&str> { python_lines(text).iter().map(|l| l.whole).collect() };
        assert_eq!(
            wholes("a\r\nb\rc\x0cd\x1fe\u{2028}f"),
            ["a\r\n", "b\r", "c\x0c", "d\x1fe\u{2028}", "f"]
        );
        assert!(wholes("").is_empty());
        assert_eq!(wholes("\n\n"), ["\n", "\n"]);
        let editor: Vec<(&str, &str)> = editor_lines("a\r\nb\rc")
            .iter()
            .map(|l| (l.text(), l.ending()))
            .collect();
        assert_eq!(editor, [("a", "\r\n"), ("b\rc", "")]);
    }

    #[test]
    fn plain_difference_marks_blank_lines_in_got() {
        assert_eq!(
            output_difference("a\n", "b\n  \n\nc", FlagSet::EMPTY),
            "Expected:\n    a\nGot:\n    b\n    <BLANKLINE>\n    <BLANKLINE>\n    c"
        );
        let literal = FlagSet::EMPTY.with(Flag::DONT_ACCEPT_BLANKLINE);
        assert_eq!(
            output_difference("a\n", "\n", literal),
            "Expected:\n    a\nGot:\n\n"
        );
        assert_eq!(
            output_difference("", "", FlagSet::EMPTY),
            "Expected nothing\nGot nothing\n"
        );
        assert_eq!(
            output_difference("a\n", "", FlagSet::EMPTY),
            "Expected:\n    a\nGot nothing\n"
        );
        assert_eq!(
            output_difference("", "b\n", FlagSet::EMPTY),
            "Expected nothing\nGot:\n    b\n"
        );
    }

    #[test]
    fn short_outputs_get_no_unified_diff() {
        assert!(output_difference("a\nb\n", "a\nc\n", udiff()).starts_with("Expected:"));
        let both = udiff().with(Flag::REPORT_NDIFF);
        assert_eq!(
            output_difference("a\n", "b\n", both),
            "Differences (unified diff with -expected +actual):\n    @@ -1 +1 @@\n    -a\n    +b\n"
        );
    }

    #[test]
    fn unified_difference_has_two_lines_of_context() {
        let want = "1\n2\n3\n4\n5\n6\n7\n";
        let got = "1\n2\n3\nfour\n5\n6\n7\n";
        assert_eq!(
            output_difference(want, got, udiff()),
            concat!(
                "Differences (unified diff with -expected +actual):\n",
                "    @@ -2,5 +2,5 @@\n     2\n     3\n    -4\n    +four\n     5\n     6\n",
            )
        );
    }

    #[test]
    fn context_difference_matches_difflib() {
        let cdiff = FlagSet::EMPTY.with(Flag::REPORT_CDIFF);
        assert_eq!(
            output_difference("one\ntwo\nthree\nfour\n", "zero\none\ntree\nfour\n", cdiff),
            concat!(
                "Differences (context diff with expected followed by actual):\n",
                "    ***************\n",
                "    *** 1,4 ****\n      one\n    ! two\n    ! three\n      four\n",
                "    --- 1,4 ----\n    + zero\n      one\n    ! tree\n      four\n",
            )
        );
    }

    #[test]
    fn rendered_diff_marks_a_missing_newline() {
        let diff = unified_diff("a\nb", "a\nc\n", 3);
        assert_eq!(
            diff.render_unified("expected", "actual"),
            "--- expected\n+++ actual\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n"
        );
        assert!(unified_diff("same\n", "same\n", 3).hunks.is_empty());
        assert_eq!(
            unified_diff("", "x\n", 3).hunks[0].header(),
            "@@ -0,0 +1 @@"
        );
    }

    #[test]
    fn myers_and_difflib_may_choose_different_hunks() {
        let (want, got) = ("x\na\ny\na\n", "a\nx\na\n");
        let kinds = |diff: Diff| -> String {
            diff.hunks[0]
                .lines
                .iter()
                .map(|line| line.kind.prefix())
                .collect()
        };
        assert_eq!(kinds(unified_diff(want, got, 3)), "- -+ ");
        assert_eq!(kinds(difflib_unified_diff(want, got, 3)), "+  --");
    }

    #[test]
    fn first_difference_names_the_line() {
        let first = first_difference("a\nb\nc\n", "a\nB\nc\n").expect("differs");
        assert_eq!(first.line, 1);
        assert_eq!(first.message(), "line 2: expected 'b', got 'B'");
        assert_eq!(first_difference("a\n", "a\n"), None);
        let shorter = first_difference("a\nb\n", "a\n").expect("differs");
        assert_eq!(
            shorter.message(),
            "line 2: expected 'b', got no more output"
        );
        let newline = first_difference("a\n", "a").expect("differs");
        assert_eq!(
            newline.message(),
            "line 1: only the line break at the end differs"
        );
    }

    #[test]
    fn popular_lines_are_not_anchors_in_long_outputs() {
        // 200 lines or more: a line making up over 1% of got is ignored when anchoring, as
        // difflib's autojunk does; the diff then pairs the unique lines.
        let want: String = (0..210)
            .map(|i| {
                if i % 2 == 0 {
                    "x\n".to_owned()
                } else {
                    format!("{i}\n")
                }
            })
            .collect();
        let got = want.replacen("1\n", "one\n", 1);
        let diff = difflib_unified_diff(&want, &got, 0);
        assert_eq!(diff.hunks.len(), 1);
    }
}
