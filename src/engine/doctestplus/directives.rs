//! pytest-doctestplus's skip directives, read as `DocTestParserPlus.parse` (1.7) reads them.
//!
//! doctestplus parses a text file with CPython's parser and walks the result: the texts
//! between examples and the examples. A non-empty text resets "skip the next chunk" and "the
//! modules the next chunk needs", then, in this order (each `continue`s past the rest):
//! - on any of its lines, `CC\s+doctest-requires-all\s*::\s+(.*)` (the first such line's
//!   modules; if one is missing every later example is skipped),
//! - on any stripped line, unless remote data is on, `CC\s+doctest-remote-data-all\s*::`
//!   (every later example is skipped),
//! - on any stripped line, `CC doctest-skip-all` (one space; every later example is skipped),
//! - on its last two lines, `CC\s+doctest-skip\s*::(\s+.*)?`: without text after `::` (or
//!   with `win32` on Windows) the next chunk is skipped,
//! - on its last two lines, unless remote data is on, `CC\s+doctest-remote-data\s*::`,
//! - on its last two lines, `CC\s+doctest-requires\s*::\s+(.*)`: modules the next chunk needs.
//!
//! `CC` is the file's comment characters by extension: `#` for `.txt`, `%` for `.tex`,
//! `<!--` for `.md`, `..` for `.rst` and every other extension. The text is stripped and split
//! into lines first, so only the first line loses its indentation. "The next chunk" is every
//! example up to the next non-empty text: examples written one after the other (no line
//! between them) are one chunk. An example whose own directives say `+REMOTE_DATA` is
//! skipped unless remote data is on; otherwise `+IGNORE_WARNINGS` or (else) `+SHOW_WARNINGS`
//! make the driver catch its warnings. Whether a module is importable is the interpreter's to
//! say: those examples carry the modules ([`RunSpec::requires`]) and the run loop asks.

use crate::engine::doctest::DoctestText;
use crate::engine::flags::{FlagBehavior, FlagRegistry};
use crate::engine::page::{Example, RunSpec, WarningCapture};
use crate::engine::pystr;

/// The comment characters doctestplus expects directives after, by the file name's
/// extension (`os.path.splitext`: a leading dot does not start an extension).
fn comment_characters(name: &str) -> &'static str {
    let stem_start = name.len() - name.trim_start_matches('.').len();
    let extension = name[stem_start..]
        .rfind('.')
        .map_or("", |dot| &name[stem_start + dot..]);
    match extension {
        ".txt" => "#",
        ".tex" => "%",
        ".md" => "<!--",
        // `.rst`, and every extension doctestplus does not know (it warns and uses `.rst`'s).
        _ => "..",
    }
}

/// One item of `DocTestParser.parse`'s result: a text between examples, or an example
/// (by its first line in the page; a block CPython drops, blank or only a comment, is none).
enum Entry {
    Text(String),
    Example(usize),
}

/// The texts and examples of a page, as `DocTestParser.parse` alternates them.
fn entries(text: &str) -> Vec<Entry> {
    let doctest_text = DoctestText::whole(text);
    let expanded: Vec<String> = doctest_text
        .lines
        .iter()
        .map(|line| pystr::expand_tabs(line.text).into_owned())
        .collect();
    let min_indent = expanded
        .iter()
        .filter_map(|line| {
            let spaces = line.len() - line.trim_start_matches(' ').len();
            let next = line[spaces..].chars().next()?;
            (!pystr::is_space(next)).then_some(spaces)
        })
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = expanded
        .iter()
        .map(|line| match line.char_indices().nth(min_indent) {
            Some((byte, _)) => &line[byte..],
            None if min_indent > 0 => "",
            None => line.as_str(),
        })
        .collect();
    let after_spaces = |line: &str, prompt: &str| line.trim_start_matches(' ').starts_with(prompt);
    let is_blank = |line: &str| line.trim_start_matches(' ').is_empty();
    let mut entries = Vec::new();
    let mut text_start = 0;
    let mut index = 0;
    while index < lines.len() {
        if !after_spaces(lines[index], ">>>") {
            index += 1;
            continue;
        }
        let source_end = (index + 1..lines.len())
            .find(|&i| !after_spaces(lines[i], "..."))
            .unwrap_or(lines.len());
        let want_end = (source_end..lines.len())
            .find(|&i| is_blank(lines[i]) || after_spaces(lines[i], ">>>"))
            .unwrap_or(lines.len());
        let chunk: String = lines[text_start..index]
            .iter()
            .flat_map(|line| [*line, "\n"])
            .collect();
        entries.push(Entry::Text(chunk));
        entries.push(Entry::Example(doctest_text.lines[index].line));
        index = want_end.max(index + 1);
        text_start = index;
    }
    entries
}

/// `str.strip()` then `str.splitlines()`.
fn stripped_lines(text: &str) -> Vec<&str> {
    let stripped = text.trim_matches(pystr::is_space);
    let mut lines = Vec::new();
    let mut rest = stripped;
    while !rest.is_empty() {
        match rest.find(is_line_boundary) {
            Some(at) => {
                lines.push(&rest[..at]);
                let boundary = rest[at..].chars().next().map_or(1, char::len_utf8);
                let skip = if rest[at..].starts_with("\r\n") {
                    2
                } else {
                    boundary
                };
                rest = &rest[at + skip..];
            }
            None => {
                lines.push(rest);
                rest = "";
            }
        }
    }
    lines
}

/// What `str.splitlines` splits at.
fn is_line_boundary(c: char) -> bool {
    matches!(
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
    )
}

/// `re.match(CC + r"\s+" + keyword + r"\s*::", line)`: what follows the `::`.
fn directive<'l>(line: &'l str, comment: &str, keyword: &str) -> Option<&'l str> {
    let rest = line.strip_prefix(comment)?;
    let after_space = rest.trim_start_matches(pystr::is_space);
    if after_space.len() == rest.len() {
        return None;
    }
    let rest = after_space.strip_prefix(keyword)?;
    rest.trim_start_matches(pystr::is_space).strip_prefix("::")
}

/// `\s+(.*)` after the `::`: the text after the whitespace, if there is whitespace.
fn after_whitespace(rest: &str) -> Option<&str> {
    let trimmed = rest.trim_start_matches(pystr::is_space);
    (trimmed.len() < rest.len()).then_some(trimmed)
}

/// `re.split(r'\s*[,\s]\s*', text)`.
fn split_modules(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let is_space = |i: usize| chars.get(i).is_some_and(|c| pystr::is_space(*c));
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        if is_space(i) || chars[i] == ',' {
            let mut j = i;
            while is_space(j) {
                j += 1;
            }
            let end = if chars.get(j) == Some(&',') {
                let mut k = j + 1;
                while is_space(k) {
                    k += 1;
                }
                k
            } else {
                j
            };
            pieces.push(std::mem::take(&mut current));
            i = end;
        } else {
            current.push(chars[i]);
            i += 1;
        }
    }
    pieces.push(current);
    pieces
}

/// The first of the last two lines (the second to last first, as doctestplus prefers it) for
/// which `find` answers.
fn in_last_two<'l, T>(lines: &[&'l str], find: impl Fn(&'l str) -> Option<T>) -> Option<T> {
    let last_two = &lines[lines.len().saturating_sub(2)..];
    last_two.iter().find_map(|line| find(line))
}

/// Applies doctestplus's directives to a page's examples (parsed from `text`, the whole
/// page, named `name`): sets `run.skip_reason`, `run.requires` and `run.warnings`.
pub fn apply(
    text: &str,
    name: &str,
    examples: &mut [Example],
    registry: &FlagRegistry,
    remote_data: bool,
) {
    let comment = comment_characters(name);
    let mut required: Vec<String> = Vec::new();
    let mut required_by_all: Vec<String> = Vec::new();
    let mut skip_next: Option<String> = None;
    let mut skip_all: Option<String> = None;
    let mut next_example = 0;
    for entry in entries(text) {
        match entry {
            Entry::Text(chunk) if !chunk.is_empty() => {
                required.clear();
                skip_next = None;
                let lines = stripped_lines(&chunk);
                let requires_all = lines.iter().find_map(|line| {
                    directive(line, comment, "doctest-requires-all").and_then(after_whitespace)
                });
                if let Some(modules) = requires_all {
                    // Missing modules skip everything after (`skip_all`); the interpreter
                    // says, so every later example carries them.
                    required_by_all.extend(split_modules(modules));
                }
                let remote_all = !remote_data
                    && lines.iter().any(|line| {
                        directive(
                            line.trim_matches(pystr::is_space),
                            comment,
                            "doctest-remote-data-all",
                        )
                        .is_some()
                    });
                if remote_all {
                    skip_all.get_or_insert_with(|| {
                        "doctest-remote-data-all: remote data is not enabled".to_owned()
                    });
                    continue;
                }
                let skip_everything = lines.iter().any(|line| {
                    line.trim_matches(pystr::is_space)
                        .strip_prefix(comment)
                        .is_some_and(|rest| rest.starts_with(" doctest-skip-all"))
                });
                if skip_everything {
                    skip_all.get_or_insert_with(|| "doctest-skip-all".to_owned());
                    continue;
                }
                if lines.is_empty() {
                    continue;
                }
                let skip = in_last_two(&lines, |line| directive(line, comment, "doctest-skip"));
                // No text after `::` (or `win32`, on Windows only: never here).
                if skip.is_some_and(|rest| after_whitespace(rest).is_none()) {
                    skip_next = Some("doctest-skip".to_owned());
                    continue;
                }
                let remote = !remote_data
                    && in_last_two(&lines, |line| {
                        directive(line, comment, "doctest-remote-data")
                    })
                    .is_some();
                if remote {
                    skip_next = Some("doctest-remote-data: remote data is not enabled".to_owned());
                    continue;
                }
                if let Some(modules) = in_last_two(&lines, |line| {
                    directive(line, comment, "doctest-requires").and_then(after_whitespace)
                }) {
                    required = split_modules(modules);
                }
            }
            Entry::Text(_) => {}
            Entry::Example(line) => {
                // Both are in page order: the examples CPython kept are found in one pass.
                while next_example < examples.len() && examples[next_example].span.line < line {
                    next_example += 1;
                }
                let Some(example) = examples
                    .get_mut(next_example)
                    .filter(|example| example.span.line == line)
                else {
                    continue;
                };
                let option = |behavior: FlagBehavior| {
                    example
                        .options
                        .iter()
                        .rev()
                        .find(|(flag, _)| registry.info(*flag).behavior == behavior)
                        .is_some_and(|(_, on)| *on)
                };
                let mut run = RunSpec {
                    requires: required_by_all.iter().chain(&required).cloned().collect(),
                    ..example.run.clone()
                };
                if let Some(reason) = skip_all.as_ref().or(skip_next.as_ref()) {
                    run.skip_reason = Some(reason.clone());
                } else if !remote_data && option(FlagBehavior::RemoteData) {
                    run.skip_reason = Some("REMOTE_DATA: remote data is not enabled".to_owned());
                } else if option(FlagBehavior::IgnoreWarnings) {
                    run.warnings = WarningCapture::Ignore;
                } else if option(FlagBehavior::ShowWarnings) {
                    run.warnings = WarningCapture::Show;
                }
                example.run = run;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_choose_the_comment_characters() {
        assert_eq!(comment_characters("a.txt"), "#");
        assert_eq!(comment_characters("a.b.md"), "<!--");
        assert_eq!(comment_characters("a.tex"), "%");
        assert_eq!(comment_characters("a.rst"), "..");
        assert_eq!(comment_characters(".md"), "..");
        assert_eq!(comment_characters("a.TXT"), "..");
    }

    #[test]
    fn modules_split_at_commas_and_spaces() {
        assert_eq!(split_modules("a, b c"), ["a", "b", "c"]);
        assert_eq!(split_modules("a,,b"), ["a", "", "b"]);
        assert_eq!(split_modules("a "), ["a", ""]);
        assert_eq!(split_modules("numpy>=1.15"), ["numpy>=1.15"]);
    }

    #[test]
    fn directives_need_their_spacing() {
        assert_eq!(
            directive(".. doctest-skip::", "..", "doctest-skip"),
            Some("")
        );
        assert_eq!(
            directive("..  doctest-skip ::x", "..", "doctest-skip"),
            Some("x")
        );
        assert_eq!(directive("..doctest-skip::", "..", "doctest-skip"), None);
        assert_eq!(directive(".. doctest-skip-all", "..", "doctest-skip"), None);
    }

    fn reasons(name: &str, text: &str, remote_data: bool) -> Vec<(usize, Option<String>)> {
        use crate::engine::{PageFormat, Profile, Reading, parse_page_as};
        let reading = Reading {
            remote_data,
            ..Reading::of(Profile::Doctestplus)
        };
        let format = PageFormat::from_path(name).unwrap_or(PageFormat::Text);
        let page = parse_page_as(
            name,
            format,
            text.as_bytes(),
            &FlagRegistry::new(),
            &reading,
        );
        assert!(page.errors.is_empty(), "{:?}", page.errors);
        page.examples
            .iter()
            .map(|example| (example.span.line, example.run.skip_reason.clone()))
            .collect()
    }

    #[test]
    fn a_skip_covers_the_examples_up_to_the_next_text() {
        let text = ".. doctest-skip::\n\n>>> 1\n>>> 2\n\n>>> 3\n3\n";
        let skip = Some("doctest-skip".to_owned());
        assert_eq!(
            reasons("a.rst", text, false),
            [(3, skip.clone()), (4, skip), (6, None)]
        );
        // `.txt` pages write `#`, so `..` is nothing there.
        assert_eq!(reasons("a.txt", text, false)[0].1, None);
    }

    #[test]
    fn remote_data_skips_only_without_remote_data() {
        let text = ">>> 1  # doctest: +REMOTE_DATA\n1\n\n.. doctest-remote-data::\n\n>>> 2\n";
        assert!(
            reasons("a.rst", text, false)
                .iter()
                .all(|(_, r)| r.is_some())
        );
        assert!(
            reasons("a.rst", text, true)
                .iter()
                .all(|(_, r)| r.is_none())
        );
    }

    #[test]
    fn requires_are_left_to_the_interpreter() {
        use crate::engine::{PageFormat, Profile, Reading, parse_page_as};
        let text = "<!-- doctest-requires:: numpy, scipy>=1 -->\n>>> 1\n";
        let page = parse_page_as(
            "a.md",
            PageFormat::Markdown,
            text.as_bytes(),
            &FlagRegistry::new(),
            &Reading::of(Profile::Doctestplus),
        );
        assert_eq!(page.examples[0].run.requires, ["numpy", "scipy>=1", "-->"]);
    }

    #[test]
    fn entries_alternate_texts_and_examples() {
        let text = "a\n>>> 1\n1\n>>> 2\n\n>>> # c\n>>> 3\n";
        let kinds: Vec<String> = entries(text)
            .iter()
            .map(|entry| match entry {
                Entry::Text(text) => format!("{text:?}"),
                Entry::Example(line) => format!("@{line}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "\"a\\n\"", "@2", "\"\"", "@4", "\"\\n\"", "@6", "\"\"", "@7"
            ]
        );
    }
}
