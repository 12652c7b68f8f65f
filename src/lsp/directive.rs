//! The `# doctest:` directive on one line of a page, found as CPython's doctest finds it:
//! `_OPTION_DIRECTIVE_RE = r'#\s*doctest:\s*([^\n\'"]*)$'`, a `#` comment that runs to the end
//! of the line without meeting a quote. Text that only looks like one (`print('doctest: x')`,
//! `s = "# doctest: +SKIP"`) is not one, so hovers explain only real directives and quick
//! fixes append only to them. The engine applies the same rule to whole example sources
//! (`engine::doctest`, private to it); editors work line by line, with byte offsets in the
//! line, which is what this module gives.

use crate::engine::pystr;

/// A directive found on a line; offsets are bytes from the line's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDirective<'line> {
    /// Where its `#` is.
    pub hash: usize,
    /// Where the option text starts (after `doctest:` and the whitespace after it).
    pub options_at: usize,
    /// The option text, to the end of the line.
    pub options: &'line str,
}

impl<'line> LineDirective<'line> {
    /// Its options as CPython splits them: `group(1).replace(',', ' ').split()`.
    pub fn options(&self) -> impl Iterator<Item = &'line str> + use<'line> {
        self.options
            .split(|c: char| c == ',' || pystr::is_space(c))
            .filter(|option| !option.is_empty())
    }
}

/// The directive on `line` (one line, without its line end), if CPython would see one there:
/// the first `#` where the pattern matches, as `re.finditer` finds it.
pub fn directive_in_line(line: &str) -> Option<LineDirective<'_>> {
    line.match_indices('#')
        .find_map(|(hash, _)| directive_at(line, hash))
}

fn directive_at(line: &str, hash: usize) -> Option<LineDirective<'_>> {
    let keyword_at = hash + 1 + whitespace_run(&line[hash + 1..]);
    let after_keyword = keyword_at + "doctest:".len();
    line[keyword_at..].strip_prefix("doctest:")?;
    let options_at = after_keyword + whitespace_run(&line[after_keyword..]);
    let options = &line[options_at..];
    // Within one line `\s*` gives nothing back that could help: a quote anywhere after
    // `doctest:` means no match at this `#`.
    (!options.contains(['\'', '"'])).then_some(LineDirective {
        hash,
        options_at,
        options,
    })
}

/// Byte length of the run of Python whitespace (`\s`) at the start of `text`.
fn whitespace_run(text: &str) -> usize {
    text.find(|c: char| !pystr::is_space(c))
        .unwrap_or(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(line: &str) -> Option<Vec<&str>> {
        directive_in_line(line).map(|directive| directive.options().collect())
    }

    #[test]
    fn only_a_comment_without_quotes_after_it_is_a_directive() {
        assert_eq!(options(">>> print('doctest: x')"), None);
        assert_eq!(options(">>> s = \"# doctest: +SKIP\""), None);
        assert_eq!(options(">>> x = 1  # doctest: +SKIP  # it's"), None);
        let directive = directive_in_line(">>> x = 1  # doctest: +ELLIPSIS").expect("found");
        assert_eq!((directive.hash, directive.options_at), (11, 22));
        assert_eq!(directive.options, "+ELLIPSIS");
        // The string's `#` fails; the comment's matches.
        assert_eq!(
            options(">>> s = '#'  #doctest:+SKIP,-ELLIPSIS"),
            Some(vec!["+SKIP", "-ELLIPSIS"])
        );
        assert_eq!(
            options(">>> s = \"# doctest: +SKIP\"  # doctest: +NODES_VARY"),
            Some(vec!["+NODES_VARY"])
        );
        assert_eq!(options(">>> 1  #   doctest:"), Some(vec![]));
    }

    #[test]
    fn options_split_on_python_whitespace_and_commas() {
        let line = ">>> 1  # doctest: +A\u{2028}\u{85}-B,\u{c9}LLIPSIS \u{200b}+C,\u{feff}";
        assert_eq!(
            options(line),
            Some(vec!["+A", "-B", "\u{c9}LLIPSIS", "\u{200b}+C", "\u{feff}"])
        );
    }
}
