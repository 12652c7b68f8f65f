//! CPython's `DocTestParser`, line for line in behaviour: examples, their fields and the
//! parser's errors, with CPython's wording.
//!
//! CPython runs `_EXAMPLE_RE` over the whole docstring after `expandtabs()` and after removing
//! the indentation common to all lines. Every part of that regex is anchored to line starts
//! and ends, so this port walks lines instead of running a regex (Rust's `regex` has no
//! look-ahead, and walking lines keeps each example's page coordinates at hand). The order of
//! checks is CPython's: prompt blanks, then the `...` prefixes, then the expected output's
//! prefixes, then option directives. CPython stops at the first error; we record it and go on
//! with the next example, so the first error is CPython's and an editor still sees the rest.
//!
//! Line numbers in messages are CPython's, including its quirks (the `...` prefix check names
//! the line before the offending one; a directive on a line with no example names the 0-based
//! line). The structured `line`/`column` of each error always point at the offending text.
//!
//! `tests/oracle_parser.rs` compares this port with CPython's parser, every field of every
//! example and the first error's message, on this repository's pages, on the doctested
//! documentation of several projects and on generated pages aimed at the corners above.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::flags::{Flag, FlagRegistry};
use super::page::{Example, ExampleSpan, ParseError, ParseErrorKind, RunSpec};
use super::pystr;

/// One line of the text handed to the parser, with where it sits in the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctestLine<'a> {
    /// The line's text without its line end.
    pub text: &'a str,
    /// 1-based line in the page.
    pub line: usize,
    /// Byte offset in the page where the text starts.
    pub start: usize,
    /// Byte offset in the page just past the line end (equal to `start + text.len()` for a
    /// last line without one).
    pub next: usize,
}

/// The text CPython would see as one docstring, as lines (split at `\r\n`, `\r` and `\n`, as
/// universal newlines read it). The docstring is the lines joined with `\n`; a text that ends
/// with a line end therefore has a last, empty line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctestText<'a> {
    pub lines: Vec<DoctestLine<'a>>,
}

impl<'a> DoctestText<'a> {
    /// A whole page as one docstring, as `DocFileSuite` reads a file.
    pub fn whole(text: &'a str) -> Self {
        DoctestText {
            lines: split_universal_lines(text, 0, 1),
        }
    }
}

/// Splits `text` (found at `base_offset` of the page, starting on page line `first_line`) at
/// universal newlines.
pub fn split_universal_lines(
    text: &str,
    base_offset: usize,
    first_line: usize,
) -> Vec<DoctestLine<'_>> {
    let bytes = text.as_bytes();
    // Sized for the common case (`\n` line ends) so that pushing never reallocates.
    let mut lines = Vec::with_capacity(bytes.iter().filter(|&&b| b == b'\n').count() + 1);
    let mut start = 0;
    let mut index = 0;
    while index < bytes.len() {
        let terminator = match bytes[index] {
            b'\n' => 1,
            b'\r' if bytes.get(index + 1) == Some(&b'\n') => 2,
            b'\r' => 1,
            _ => {
                index += 1;
                continue;
            }
        };
        lines.push(DoctestLine {
            text: &text[start..index],
            line: first_line + lines.len(),
            start: base_offset + start,
            next: base_offset + index + terminator,
        });
        index += terminator;
        start = index;
    }
    lines.push(DoctestLine {
        text: &text[start..],
        line: first_line + lines.len(),
        start: base_offset + start,
        next: base_offset + text.len(),
    });
    lines
}

/// What the parser found: examples in order, and errors (the first is CPython's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub examples: Vec<Example>,
    pub errors: Vec<ParseError>,
}

/// `_EXCEPTION_RE`, with Python's `\s` and `\w` spelled out (see [`pystr`]).
static EXCEPTION_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ms)\ATraceback \((?:most recent call last|innermost last)\):[\s\x1c-\x1f]*$.*?^([\p{L}\p{N}_]+.*)",
    )
    .expect("exception regex compiles")
});

/// `_EXCEPTION_RE.match(want).group('msg')` with the newline `Example` adds: the exception
/// message an expected output ending in a traceback expects.
pub fn exception_message(want: &str) -> Option<String> {
    want.starts_with("Traceback (")
        .then(|| EXCEPTION_RE.captures(want))
        .flatten()
        .map(|captures| with_newline(captures[1].to_owned()))
}

/// The line after tab expansion and common-indent removal, with what is needed to map its
/// columns back to the page.
struct Line<'t, 'a> {
    /// The line after tab expansion.
    expanded: Cow<'t, str>,
    /// Bytes of `expanded` removed as common indentation.
    strip_bytes: usize,
    original: &'t DoctestLine<'a>,
    /// Characters of the expanded line removed as common indentation.
    stripped: usize,
}

impl Line<'_, '_> {
    /// The text CPython's regex sees.
    fn text(&self) -> &str {
        &self.expanded[self.strip_bytes..]
    }

    fn leading_spaces(&self) -> usize {
        let text = self.text();
        text.len() - text.trim_start_matches(' ').len()
    }

    fn is_blank(&self) -> bool {
        self.leading_spaces() == self.text().len()
    }

    fn starts_with_after_spaces(&self, prompt: &str) -> bool {
        self.text()[self.leading_spaces()..].starts_with(prompt)
    }

    /// 1-based column in the page's line of this line's character `column` (0-based).
    fn page_column(&self, column: usize) -> usize {
        pystr::unexpanded_column(self.original.text, self.stripped + column) + 1
    }
}

/// Parses a docstring into examples, as `DocTestParser().get_examples(text, name)` would.
pub fn parse(text: &DoctestText<'_>, name: &str, flags: &FlagRegistry) -> Parsed {
    let mut lines: Vec<Line<'_, '_>> = text
        .lines
        .iter()
        .map(|original| Line {
            expanded: pystr::expand_tabs(original.text),
            strip_bytes: 0,
            original,
            stripped: 0,
        })
        .collect();
    let min_indent = min_indent(lines.iter().map(|line| &*line.expanded));
    if min_indent > 0 {
        for line in &mut lines {
            line.strip_bytes = line.expanded.len() - chars_from(&line.expanded, min_indent).len();
            line.stripped = min_indent;
        }
    }

    let mut parsed = Parsed::default();
    let mut index = 0;
    while index < lines.len() {
        if !lines[index].starts_with_after_spaces(">>>") {
            index += 1;
            continue;
        }
        let source_end = (index + 1..lines.len())
            .find(|&i| !lines[i].starts_with_after_spaces("..."))
            .unwrap_or(lines.len());
        let want_end = (source_end..lines.len())
            .find(|&i| lines[i].is_blank() || lines[i].starts_with_after_spaces(">>>"))
            .unwrap_or(lines.len());
        let found = ExampleLines {
            lines: &lines,
            source: index..source_end,
            want: source_end..want_end,
            min_indent,
        };
        match found.parse(name, flags) {
            Ok(Some(example)) => parsed.examples.push(example),
            Ok(None) => {}
            Err(error) => parsed.errors.push(error),
        }
        index = want_end.max(index + 1);
    }
    parsed
}

/// `_min_indent`: the smallest indentation of the lines that have a non-space character.
fn min_indent<'l>(lines: impl Iterator<Item = &'l str>) -> usize {
    lines
        .filter_map(|line| {
            let spaces = line.len() - line.trim_start_matches(' ').len();
            let next = line[spaces..].chars().next()?;
            (!pystr::is_space(next)).then_some(spaces)
        })
        .min()
        .unwrap_or(0)
}

/// `s[n:]` in characters.
fn chars_from(s: &str, n: usize) -> &str {
    if n == 0 {
        return s;
    }
    // Indentation is ASCII almost always: then characters are bytes.
    if let Some(prefix) = s.as_bytes().get(..n)
        && prefix.is_ascii()
    {
        return &s[n..];
    }
    match s.char_indices().nth(n) {
        Some((byte, _)) => &s[byte..],
        None => "",
    }
}

/// `s[start:end]` in characters.
fn chars_between(s: &str, start: usize, end: usize) -> &str {
    let from = chars_from(s, start);
    let length = from
        .char_indices()
        .nth(end.saturating_sub(start))
        .map_or(from.len(), |(byte, _)| byte);
    &from[..length]
}

/// The lines of one `_EXAMPLE_RE` match.
struct ExampleLines<'l, 't, 'a> {
    lines: &'l [Line<'t, 'a>],
    source: std::ops::Range<usize>,
    want: std::ops::Range<usize>,
    min_indent: usize,
}

impl ExampleLines<'_, '_, '_> {
    fn first(&self) -> &Line<'_, '_> {
        &self.lines[self.source.start]
    }

    fn error(&self, at: usize, column: usize, kind: ParseErrorKind, message: String) -> ParseError {
        ParseError {
            line: self.lines[at].original.line,
            column: self.lines[at].page_column(column),
            kind,
            message,
        }
    }

    /// `'\n'.join(line[skip:] for line in lines)`, with room for the newline CPython's
    /// `Example` appends.
    fn joined(&self, lines: std::ops::Range<usize>, skip: usize) -> String {
        let parts = lines.map(|i| chars_from(self.lines[i].text(), skip));
        let mut joined =
            String::with_capacity(parts.clone().map(|part| part.len() + 1).sum::<usize>() + 1);
        for (position, part) in parts.enumerate() {
            if position > 0 {
                joined.push('\n');
            }
            joined.push_str(part);
        }
        joined
    }

    /// `_parse_example` followed by `parse`'s blank-or-comment filter.
    fn parse(&self, name: &str, flags: &FlagRegistry) -> Result<Option<Example>, ParseError> {
        let indent = self.first().leading_spaces();
        self.check_prompt_blank(indent, name)?;
        self.check_continuation_prefix(indent, name)?;
        self.check_want_prefix(indent, name)?;

        let source = self.joined(self.source.clone(), indent + 4);
        let want = self.joined(self.want.clone(), indent);
        // The regex is anchored at the start: most outputs can be ruled out without it.
        let exc_msg = exception_message(&want);
        let options = self.find_options(&source, indent, name, flags)?;
        if is_blank_or_comment(&source) {
            return Ok(None);
        }
        let first = self.first().original;
        let last_source = self.lines[self.source.end - 1].original;
        let want_bytes = match self.want.clone().last() {
            Some(last) => {
                self.lines[self.want.start].original.start..self.lines[last].original.next
            }
            None => last_source.next..last_source.next,
        };
        Ok(Some(Example {
            source: with_newline(source),
            want: if want.is_empty() {
                want
            } else {
                with_newline(want)
            },
            exc_msg,
            indent: self.min_indent + indent,
            options,
            span: ExampleSpan {
                line: first.line,
                source_lines: self.source.len(),
                want_lines: self.want.len(),
                source_bytes: first.start..last_source.start + last_source.text.len(),
                want_bytes,
            },
            run: RunSpec::default(),
        }))
    }

    /// `_check_prompt_blank` over every source line.
    fn check_prompt_blank(&self, indent: usize, name: &str) -> Result<(), ParseError> {
        for i in self.source.clone() {
            let line = self.lines[i].text();
            let blank = line.chars().nth(indent + 3);
            if blank.is_some_and(|c| c != ' ') {
                return Err(self.error(
                    i,
                    indent + 3,
                    ParseErrorKind::LacksBlank,
                    format!(
                        "line {} of the docstring for {name} lacks blank after {}: {}",
                        self.lines[i].original.line,
                        chars_between(line, indent, indent + 3),
                        pystr::repr(line)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `_check_prefix` over the `...` lines. CPython numbers them from the `>>>` line, so its
    /// message names the line before the offending one.
    fn check_continuation_prefix(&self, indent: usize, name: &str) -> Result<(), ParseError> {
        for i in self.source.start + 1..self.source.end {
            let message_line = self.lines[i - 1].original.line;
            self.check_prefix(i, indent, Some('.'), message_line, name)?;
        }
        Ok(())
    }

    /// `_check_prefix` over the expected-output lines.
    fn check_want_prefix(&self, indent: usize, name: &str) -> Result<(), ParseError> {
        for i in self.want.clone() {
            self.check_prefix(i, indent, None, self.lines[i].original.line, name)?;
        }
        Ok(())
    }

    /// `_check_prefix` with the prefix `' ' * spaces` followed by `then`, if given.
    fn check_prefix(
        &self,
        i: usize,
        spaces: usize,
        then: Option<char>,
        message_line: usize,
        name: &str,
    ) -> Result<(), ParseError> {
        let line = self.lines[i].text();
        let bytes = line.as_bytes();
        let leading = bytes
            .iter()
            .take(spaces)
            .take_while(|&&b| b == b' ')
            .count();
        let complete = leading == spaces && then.is_none_or(|c| line[spaces..].starts_with(c));
        if line.is_empty() || complete {
            return Ok(());
        }
        let differs_at = if leading < spaces { leading } else { spaces };
        Err(self.error(
            i,
            differs_at,
            ParseErrorKind::InconsistentWhitespace,
            format!(
                "line {message_line} of the docstring for {name} has inconsistent leading \
                 whitespace: {}",
                pystr::repr(line)
            ),
        ))
    }

    /// `_find_options`: every `# doctest:` directive in the source, in order.
    fn find_options(
        &self,
        source: &str,
        indent: usize,
        name: &str,
        flags: &FlagRegistry,
    ) -> Result<Vec<(Flag, bool)>, ParseError> {
        let mut options: Vec<(Flag, bool)> = Vec::new();
        let mut first_directive = None;
        for directive in option_directives(source) {
            first_directive.get_or_insert(directive.hash);
            for (offset, option) in directive.options() {
                let flag = option
                    .strip_prefix(['+', '-'])
                    .and_then(|flag_name| flags.lookup(flag_name));
                let Some(flag) = flag else {
                    let (line, column) = self.source_position(source, offset, indent);
                    return Err(self.error(
                        line,
                        column,
                        ParseErrorKind::InvalidOption,
                        format!(
                            "line {} of the doctest for {name} has an invalid option: {}",
                            self.first().original.line,
                            pystr::repr(option)
                        ),
                    ));
                };
                let on = option.starts_with('+');
                match options.iter_mut().find(|(known, _)| *known == flag) {
                    Some(entry) => entry.1 = on,
                    None => options.push((flag, on)),
                }
            }
        }
        if !options.is_empty() && is_blank_or_comment(source) {
            let hash = first_directive.unwrap_or(0);
            let (line, column) = self.source_position(source, hash, indent);
            return Err(self.error(
                line,
                column,
                ParseErrorKind::DirectiveWithoutExample,
                format!(
                    "line {} of the doctest for {name} has an option directive on a line with \
                     no example: {}",
                    self.first().original.line - 1,
                    pystr::repr(source)
                ),
            ));
        }
        Ok(options)
    }

    /// The line index and 0-based column (in the line's text) of byte `offset` of the source.
    fn source_position(&self, source: &str, offset: usize, indent: usize) -> (usize, usize) {
        let before = &source[..offset];
        let row = before.matches('\n').count();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = source[line_start..offset].chars().count();
        (self.source.start + row, indent + 4 + column)
    }
}

/// `Example.__init__`'s normalisation: a non-empty text ends with a newline.
fn with_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// `_IS_BLANK_OR_COMMENT`: `^[ ]*(#.*)?$` (`$` also before a final newline).
fn is_blank_or_comment(source: &str) -> bool {
    let line = source.strip_suffix('\n').unwrap_or(source);
    if line.contains('\n') {
        return false;
    }
    let rest = line.trim_start_matches(' ');
    rest.is_empty() || rest.starts_with('#')
}

/// One match of `_OPTION_DIRECTIVE_RE`: `#\s*doctest:\s*([^\n'"]*)$`.
struct Directive<'s> {
    /// Byte offset of the `#`.
    hash: usize,
    /// Byte offset of the option text (group 1) and the text itself.
    options_at: usize,
    options: &'s str,
}

impl<'s> Directive<'s> {
    /// `group(1).replace(',', ' ').split()`, with each option's byte offset in the source.
    fn options(&self) -> impl Iterator<Item = (usize, &'s str)> + '_ {
        let text = self.options;
        let mut start = None;
        let mut found = Vec::new();
        for (index, c) in text.char_indices() {
            let separator = c == ',' || pystr::is_space(c);
            match (separator, start) {
                (true, Some(begin)) => {
                    found.push((self.options_at + begin, &text[begin..index]));
                    start = None;
                }
                (false, None) => start = Some(index),
                _ => {}
            }
        }
        if let Some(begin) = start {
            found.push((self.options_at + begin, &text[begin..]));
        }
        found.into_iter()
    }
}

/// `_OPTION_DIRECTIVE_RE.finditer(source)`, reproducing its backtracking: the `\s*` after
/// `doctest:` may span line ends, and gives characters back until the option text runs to a
/// line end without meeting a quote.
fn option_directives(source: &str) -> Vec<Directive<'_>> {
    let mut found = Vec::new();
    let mut search_from = 0;
    while let Some(relative) = source[search_from..].find('#') {
        let hash = search_from + relative;
        match directive_at(source, hash) {
            Some(directive) => {
                search_from = directive.options_at + directive.options.len();
                found.push(directive);
            }
            None => search_from = hash + 1,
        }
    }
    found
}

fn directive_at(source: &str, hash: usize) -> Option<Directive<'_>> {
    let after_hash = hash + 1;
    let keyword_at = after_hash + whitespace_run(&source[after_hash..]);
    let after_keyword = keyword_at + source[keyword_at..].strip_prefix("doctest:").map(|_| 8)?;
    let run = whitespace_run(&source[after_keyword..]);
    let candidates = source[after_keyword..after_keyword + run]
        .char_indices()
        .map(|(i, _)| after_keyword + i)
        .chain(std::iter::once(after_keyword + run))
        .collect::<Vec<_>>();
    candidates.into_iter().rev().find_map(|options_at| {
        let rest = &source[options_at..];
        let end = rest.find(['\n', '\'', '"']).unwrap_or(rest.len());
        let at_line_end = end == rest.len() || rest.as_bytes()[end] == b'\n';
        at_line_end.then(|| Directive {
            hash,
            options_at,
            options: &rest[..end],
        })
    })
}

/// Byte length of the run of Python whitespace at the start of `s`.
fn whitespace_run(s: &str) -> usize {
    s.find(|c: char| !pystr::is_space(c)).unwrap_or(s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Parsed {
        parse(&DoctestText::whole(text), "t.txt", &FlagRegistry::new())
    }

    #[test]
    fn simple_example() {
        let parsed = parse_str("Text\n\n    >>> 1 + 1\n    2\n\nmore\n");
        assert_eq!(parsed.errors, vec![]);
        let example = &parsed.examples[0];
        assert_eq!(example.source, "1 + 1\n");
        assert_eq!(example.want, "2\n");
        assert_eq!(example.indent, 4);
        assert_eq!(example.span.line, 3);
        assert_eq!(example.span.end_line(), 4);
    }

    #[test]
    fn continuation_lines_and_exceptions() {
        let parsed = parse_str(
            ">>> def f():\n...     raise ValueError('x')\n>>> f()\nTraceback (most recent call last):\n  ...\nValueError: x\n",
        );
        assert_eq!(parsed.examples.len(), 2);
        assert_eq!(
            parsed.examples[0].source,
            "def f():\n    raise ValueError('x')\n"
        );
        assert_eq!(
            parsed.examples[1].exc_msg.as_deref(),
            Some("ValueError: x\n")
        );
    }

    #[test]
    fn lacks_blank_is_cpythons_message() {
        let parsed = parse_str("a\n>>>x\n");
        assert_eq!(
            parsed.errors[0].message,
            "line 2 of the docstring for t.txt lacks blank after >>>: '>>>x'"
        );
        assert_eq!((parsed.errors[0].line, parsed.errors[0].column), (2, 4));
    }

    #[test]
    fn directives_merge_and_validate() {
        let parsed = parse_str(">>> x = 1 # doctest: +ELLIPSIS, -NORMALIZE_WHITESPACE +ELLIPSIS\n");
        assert_eq!(
            parsed.examples[0].options,
            vec![(Flag::ELLIPSIS, true), (Flag::NORMALIZE_WHITESPACE, false)]
        );
        let parsed = parse_str(">>> x = 1 # doctest: +NOPE\n");
        assert_eq!(
            parsed.errors[0].message,
            "line 1 of the doctest for t.txt has an invalid option: '+NOPE'"
        );
        assert_eq!(parsed.errors[0].column, 22);
    }

    #[test]
    fn directive_on_comment_only_example() {
        let parsed = parse_str("\n>>> # doctest: +ELLIPSIS\n");
        assert_eq!(
            parsed.errors[0].message,
            "line 1 of the doctest for t.txt has an option directive on a line with no example: '# doctest: +ELLIPSIS'"
        );
    }

    #[test]
    fn directive_whitespace_backtracks_over_line_ends() {
        let directives = option_directives("x # doctest: \n'y'");
        assert_eq!(directives.len(), 1);
        assert_eq!(directives[0].options, "");
    }

    #[test]
    fn crlf_and_lone_cr_are_line_ends() {
        let parsed = parse_str(">>> 1\r\n1\r>>> 2\r\n2");
        assert_eq!(parsed.examples.len(), 2);
        assert_eq!(parsed.examples[1].span.line, 3);
        assert_eq!(parsed.examples[1].want, "2\n");
    }
}
