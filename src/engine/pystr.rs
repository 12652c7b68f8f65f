//! Python's string semantics that doctest's behaviour depends on.
//!
//! CPython's `str.isspace`, the `\w` class of `re`, `str.expandtabs` and `repr(str)` differ
//! from Rust's nearest equivalents in small ways (`\x1c`..`\x1f` are whitespace to Python,
//! combining marks are not word characters); doctest's answers depend on those details, so
//! they live here, one function each. `tests/oracle_parser.rs` checks the classes against
//! CPython's for every code point. Unicode data comes from `unicode-general-category` (Unicode
//! 16); CPython 3.11 uses Unicode 14, so characters assigned since then are the one known
//! difference (they are printable and may be word characters to us, not to CPython).

use unicode_general_category::{GeneralCategory, get_general_category};

/// `str.isspace()` for one character (also what `\s` matches in a `str` pattern).
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// What `\w` matches in a `str` pattern: `str.isalnum()` or `_`.
pub fn is_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    use GeneralCategory::*;
    matches!(
        get_general_category(c),
        UppercaseLetter
            | LowercaseLetter
            | TitlecaseLetter
            | ModifierLetter
            | OtherLetter
            | DecimalNumber
            | LetterNumber
            | OtherNumber
    )
}

/// `str.isprintable()` for one character.
pub fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_ascii() {
        return c.is_ascii_graphic();
    }
    use GeneralCategory::*;
    !matches!(
        get_general_category(c),
        Control
            | Format
            | Surrogate
            | PrivateUse
            | Unassigned
            | LineSeparator
            | ParagraphSeparator
            | SpaceSeparator
    )
}

/// `line.expandtabs()` for a string without line breaks (tab size 8, columns in characters).
pub fn expand_tabs(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('\t') {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut expanded = String::with_capacity(line.len() + 8);
    let mut column = 0usize;
    for c in line.chars() {
        if c == '\t' {
            let spaces = 8 - column % 8;
            expanded.extend(std::iter::repeat_n(' ', spaces));
            column += spaces;
        } else {
            expanded.push(c);
            column += 1;
        }
    }
    std::borrow::Cow::Owned(expanded)
}

/// Maps a 0-based character column of `expand_tabs(line)` back to the 0-based character
/// column of `line` it came from (a column inside a tab's spaces maps to the tab).
pub fn unexpanded_column(line: &str, expanded_column: usize) -> usize {
    let mut column = 0usize;
    for (index, c) in line.chars().enumerate() {
        let width = if c == '\t' { 8 - column % 8 } else { 1 };
        if expanded_column < column + width {
            return index;
        }
        column += width;
    }
    line.chars().count() + expanded_column.saturating_sub(column)
}

/// `repr(s)` as CPython prints a `str`.
pub fn repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_ascii() || is_printable(c) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// `s.split()` with no arguments: runs of whitespace separate, none at the ends.
pub fn split_whitespace(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_space).filter(|part| !part.is_empty())
}

/// `str(s.encode('ASCII', 'backslashreplace'), 'ASCII')`, as the output checker folds text.
pub fn to_ascii_backslashreplace(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        let code = c as u32;
        if c.is_ascii() {
            out.push(c);
        } else if code <= 0xff {
            out.push_str(&format!("\\x{code:02x}"));
        } else if code <= 0xffff {
            out.push_str(&format!("\\u{code:04x}"));
        } else {
            out.push_str(&format!("\\U{code:08x}"));
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_includes_information_separators() {
        assert!(is_space('\x1c'));
        assert!(is_space('\u{3000}'));
        assert!(!is_space('\u{200b}'));
    }

    #[test]
    fn word_excludes_combining_marks() {
        assert!(is_word('é'));
        assert!(is_word('½'));
        assert!(!is_word('\u{0345}'));
    }

    #[test]
    fn repr_matches_cpython() {
        assert_eq!(repr("a'b"), "\"a'b\"");
        assert_eq!(repr("a'b\""), "'a\\'b\"'");
        assert_eq!(repr("\x00\t\u{85}é\u{200b}😀"), "'\\x00\\t\\x85é\\u200b😀'");
    }

    #[test]
    fn tabs_expand_to_columns_of_eight() {
        assert_eq!(expand_tabs("a\tb"), "a       b");
        assert_eq!(expand_tabs("\t\tx"), " ".repeat(16) + "x");
        assert_eq!(unexpanded_column("a\tb", 8), 2);
        assert_eq!(unexpanded_column("a\tb", 3), 1);
    }

    #[test]
    fn ascii_folding() {
        assert_eq!(to_ascii_backslashreplace("é€😀"), "\\xe9\\u20ac\\U0001f600");
    }
}
