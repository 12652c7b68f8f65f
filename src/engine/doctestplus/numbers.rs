//! pytest-doctestplus's number patterns (`OutputChecker.num_got_rgx` and `num_want_rgx`),
//! matched by hand with Python's backtracking order, and the float comparison they feed.
//!
//! doctestplus (1.7) finds a number as `\s*` followed by one of `[+-]?\d+\.\d*(e[+-]?\d+)?`,
//! `[+-]?\.\d+(e[+-]?\d+)?`, `[+-]?\d+e[+-]?\d+`, `nan` or `[+-]?inf` (in want also followed
//! by an optional `...`), at the start of the text or after a front separator (`\s` or one of
//! `*+,<=([`: its class `[*+-,<=(\[]` is a range `+-,`, so `-` is not one), and before a back
//! separator (the front ones and `>j)]}`) or `$`. Only a lower-case `e` starts an exponent; a
//! plain integer is not a number. The alternatives cannot both start at one position, and
//! giving back digits never helps (a digit is never a separator), so each position has at
//! most two candidate ends (with and without the exponent), each tried with and without the
//! ellipsis, in Python's order.

use std::ops::Range;

use crate::engine::pystr;
use crate::engine::pytest_flags::{decimal_value, is_decimal};

/// `\s|[*+-,<=(\[]` for one character.
fn is_front_separator(c: char) -> bool {
    pystr::is_space(c) || matches!(c, '*' | '+' | ',' | '<' | '=' | '(' | '[')
}

/// The front separators, `>`, `j`, `)`, `]` and `}`.
fn is_back_separator(c: char) -> bool {
    is_front_separator(c) || matches!(c, '>' | 'j' | ')' | ']' | '}')
}

/// Which of doctestplus's two patterns: `num_got_rgx`, or `num_want_rgx` (numbers may be
/// followed by `...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    Got,
    Want,
}

/// The byte ranges of every match of the pattern in `text`, leftmost first, not overlapping
/// (`finditer`); each range includes the leading whitespace the pattern's `\s*` took.
pub fn find(text: &str, pattern: Pattern) -> Vec<Range<usize>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |(byte, _)| *byte);
    let mut found = Vec::new();
    let mut position = 0;
    while position < chars.len() {
        match match_at(&chars, position, pattern) {
            Some(end) => {
                found.push(byte_at(position)..byte_at(end));
                position = end;
            }
            None => position += 1,
        }
    }
    found
}

/// `pattern.sub(replacement, text)`.
pub fn substitute(text: &str, pattern: Pattern, replacement: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for range in find(text, pattern) {
        out.push_str(&text[last..range.start]);
        out.push_str(replacement);
        last = range.end;
    }
    out.push_str(&text[last..]);
    out
}

/// `[m.group(1) for m in pattern.finditer(text)]`.
pub fn numbers(text: &str, pattern: Pattern) -> Vec<&str> {
    find(text, pattern)
        .into_iter()
        .map(|range| &text[range])
        .collect()
}

/// The end (in chars) of the match starting at `position`, if there is one.
fn match_at(chars: &[(usize, char)], position: usize, pattern: Pattern) -> Option<usize> {
    let at = |i: usize| chars.get(i).map(|(_, c)| *c);
    // `^` (only at the very start: the pattern is not multi-line) or the look-behind.
    if position > 0 && !at(position - 1).is_some_and(is_front_separator) {
        return None;
    }
    let start = position
        + chars[position..]
            .iter()
            .take_while(|(_, c)| pystr::is_space(*c))
            .count();
    let followed_well = |end: usize| match at(end) {
        None => true,
        // `$` also matches before a newline that ends the text.
        Some('\n') if end + 1 == chars.len() => true,
        Some(c) => is_back_separator(c),
    };
    for end in candidate_ends(chars, start) {
        if pattern == Pattern::Want && is_ellipsis_at(chars, end) && followed_well(end + 3) {
            return Some(end + 3);
        }
        if followed_well(end) {
            return Some(end);
        }
    }
    None
}

fn is_ellipsis_at(chars: &[(usize, char)], at: usize) -> bool {
    (0..3).all(|offset| chars.get(at + offset).is_some_and(|(_, c)| *c == '.'))
}

/// The ends (in chars) of the number alternatives at `start`, in the order Python tries them.
fn candidate_ends(chars: &[(usize, char)], start: usize) -> Vec<usize> {
    let at = |i: usize| chars.get(i).map(|(_, c)| *c);
    let digits_from = |from: usize| {
        chars
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .take_while(|(_, c)| is_decimal(*c))
            .count()
    };
    let signed = at(start).is_some_and(|c| matches!(c, '+' | '-'));
    let after_sign = start + usize::from(signed);
    let with_optional_exponent = |end: usize| match exponent_end(chars, end) {
        Some(exponent) => vec![exponent, end],
        None => vec![end],
    };
    let integer = digits_from(after_sign);
    if integer > 0 {
        let after_integer = after_sign + integer;
        if at(after_integer) == Some('.') {
            // `\d+\.\d*` then the optional exponent.
            let end = after_integer + 1 + digits_from(after_integer + 1);
            return with_optional_exponent(end);
        }
        // `\d+e[+-]?\d+`: the exponent is required.
        return exponent_end(chars, after_integer).into_iter().collect();
    }
    if at(after_sign) == Some('.') {
        let fraction = digits_from(after_sign + 1);
        if fraction > 0 {
            return with_optional_exponent(after_sign + 1 + fraction);
        }
        return Vec::new();
    }
    let word = |text: &str, from: usize| {
        text.chars()
            .enumerate()
            .all(|(offset, expected)| at(from + offset) == Some(expected))
    };
    if !signed && word("nan", start) {
        return vec![start + 3];
    }
    if word("inf", after_sign) {
        return vec![after_sign + 3];
    }
    Vec::new()
}

/// `e[+-]?\d+` at `at`: where it ends.
fn exponent_end(chars: &[(usize, char)], at: usize) -> Option<usize> {
    if chars.get(at).map(|(_, c)| *c) != Some('e') {
        return None;
    }
    let signed = chars
        .get(at + 1)
        .is_some_and(|(_, c)| matches!(c, '+' | '-'));
    let digits_start = at + 1 + usize::from(signed);
    let digits = chars
        .get(digits_start..)
        .unwrap_or(&[])
        .iter()
        .take_while(|(_, c)| is_decimal(*c))
        .count();
    (digits > 0).then_some(digits_start + digits)
}

/// Python's `float(text)` for a text the patterns found: whitespace around it ignored, any
/// decimal digit read as its ASCII digit. `None` where Python raises `ValueError` (a number
/// of got followed by `...`, which the want pattern takes in).
pub fn to_float(text: &str) -> Option<f64> {
    let trimmed = text.trim_matches(pystr::is_space);
    let ascii: String = trimmed
        .chars()
        .map(|c| {
            if is_decimal(c) {
                char::from_digit(decimal_value(c), 10).unwrap_or('0')
            } else {
                c
            }
        })
        .collect();
    match ascii.as_str() {
        "nan" => Some(f64::NAN),
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        // What remains is digits, dots, signs and `e`: Rust reads exactly Python's literals
        // of that form (and refuses `1.5...`, as Python does).
        number
            if number
                .bytes()
                .all(|b| b.is_ascii_digit() || b"+-.e".contains(&b)) =>
        {
            number.parse().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_need_separators_around_them() {
        assert_eq!(numbers("1.1 foo abr 2.22", Pattern::Want), ["1.1", "2.22"]);
        assert_eq!(numbers("x1.5 (1.5) a-1.5", Pattern::Got), ["1.5"]);
        assert_eq!(
            numbers("[1., 2e5, -.5e-3]", Pattern::Got),
            ["1.", " 2e5", " -.5e-3"]
        );
        assert_eq!(
            numbers("3j 2.0j nan inf -inf 1E5 42", Pattern::Got),
            ["2.0", "nan", "inf", "-inf"]
        );
        assert_eq!(numbers("1.5...", Pattern::Want), ["1.5..."]);
        assert!(numbers("1.5...", Pattern::Got).is_empty());
        assert_eq!(numbers("1.5\n", Pattern::Got), ["1.5"]);
        assert_eq!(numbers("1.5\n\n", Pattern::Got), ["1.5"]);
        assert!(numbers("1.5x", Pattern::Got).is_empty());
    }

    #[test]
    fn substitution_takes_the_leading_whitespace() {
        assert_eq!(substitute("a = 1.5", Pattern::Got, "0.0"), "a =0.0");
        assert_eq!(substitute("1e5", Pattern::Got, "0.0"), "0.0");
    }

    #[test]
    fn floats_read_as_python_reads_them() {
        assert_eq!(to_float(" 1.5"), Some(1.5));
        assert_eq!(to_float("\u{663}.\u{665}"), Some(3.5));
        assert_eq!(to_float("1e999"), Some(f64::INFINITY));
        assert!(to_float("nan").is_some_and(f64::is_nan));
        assert_eq!(to_float("1.5..."), None);
    }
}
