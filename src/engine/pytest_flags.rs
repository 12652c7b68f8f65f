//! pytest's three doctest flags: `ALLOW_UNICODE`, `ALLOW_BYTES` and `NUMBER`.
//!
//! pytest's checker (`_pytest.doctest.LiteralsOutputChecker`, pytest 8.3) first asks CPython's
//! checker; only when that fails and one of these flags is on does it rewrite the texts and ask
//! again: `ALLOW_UNICODE` drops the `u` of `u'...'` literals on both sides, `ALLOW_BYTES` the
//! `b` of `b'...'`, and `NUMBER` replaces each number printed in got by the one written in want
//! when they agree to the precision written in want (`3.14` accepts `3.1416`, `1e3` accepts
//! `1004.2`). This module is those rewrites, ported exactly: the regular expressions are
//! matched by hand with Python's `\W` and `\d` (Unicode 14 decimal digits, which `float()`
//! reads too), and `pytest.approx`'s comparison is made with exact arithmetic where pytest
//! compares a float with a big integer tolerance (`10 ** 40`). Directives may name the flags
//! only in the pytest profiles ([`crate::engine::FlagRegistry::with_pytest_flags`]): to
//! CPython's `DocFileSuite`, `+NUMBER` is an unknown option.
//!
//! Where pytest raises instead of answering (`pytest.approx` cannot check an integer tolerance
//! of `10 ** 309` or more: `OverflowError`), the example errors out under pytest; here it
//! fails. Known differences: an exponent of more than 4300 digits (Python's `int()` refuses
//! it) is read here; characters assigned after Unicode 14 may be digits or word characters
//! to us.

use std::borrow::Cow;
use std::cmp::Ordering;

use unicode_general_category::{GeneralCategory, get_general_category};

use super::pystr;

/// Which of pytest's flags are on for one comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PytestFlags {
    pub allow_unicode: bool,
    pub allow_bytes: bool,
    pub number: bool,
}

impl PytestFlags {
    pub fn any(self) -> bool {
        self.allow_unicode || self.allow_bytes || self.number
    }
}

/// The texts pytest's checker compares a second time: want and got with the literal prefixes
/// the flags allow removed, and got's numbers replaced by want's where close enough.
pub fn relax<'a>(want: &'a str, got: &'a str, flags: PytestFlags) -> (Cow<'a, str>, Cow<'a, str>) {
    let mut want = Cow::Borrowed(want);
    let mut got = Cow::Borrowed(got);
    if flags.allow_unicode {
        want = Cow::Owned(remove_prefixes(&want, ['u', 'U']).into_owned());
        got = Cow::Owned(remove_prefixes(&got, ['u', 'U']).into_owned());
    }
    if flags.allow_bytes {
        want = Cow::Owned(remove_prefixes(&want, ['b', 'B']).into_owned());
        got = Cow::Owned(remove_prefixes(&got, ['b', 'B']).into_owned());
    }
    if flags.number {
        got = Cow::Owned(remove_unwanted_precision(&want, &got).into_owned());
    }
    (want, got)
}

/// `re.sub(r"(\W|^)[uU]([rR]?['\"])", r"\1\2", text)` for the given prefix letters: a prefix
/// letter at the start of the text, or after a non-word character, and before a quote (or `r`
/// and a quote), is dropped.
pub fn remove_prefixes(text: &str, letters: [char; 2]) -> Cow<'_, str> {
    let chars: Vec<char> = text.chars().collect();
    let quote_run = |at: usize| -> Option<usize> {
        let is_quote = |i: usize| matches!(chars.get(i), Some('\'' | '"'));
        if matches!(chars.get(at), Some('r' | 'R')) && is_quote(at + 1) {
            Some(2)
        } else if is_quote(at) {
            Some(1)
        } else {
            None
        }
    };
    let is_prefix = |i: usize| chars.get(i).is_some_and(|c| letters.contains(c));
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        if !pystr::is_word(chars[i])
            && is_prefix(i + 1)
            && let Some(run) = quote_run(i + 2)
        {
            out.push(chars[i]);
            out.extend(&chars[i + 2..i + 2 + run]);
            i += 2 + run;
            changed = true;
        } else if i == 0
            && is_prefix(0)
            && let Some(run) = quote_run(1)
        {
            out.extend(&chars[1..1 + run]);
            i = 1 + run;
            changed = true;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// One match of pytest's `_number_re`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Number {
    /// Byte range in the text.
    start: usize,
    end: usize,
    /// The digits of `fraction` (`None` for `12.` and `12e5`).
    fraction_digits: Option<usize>,
    /// The exponent, in ASCII (`exponent1` or `exponent2`).
    exponent: Option<String>,
}

/// `list(_number_re.finditer(text))`: `[+-]?\d*\.\d+` or `[+-]?\d+\.`, then an optional
/// exponent, or `[+-]?\d+` with a mandatory exponent, leftmost first, not overlapping. A
/// plain integer is not a number to pytest.
fn find_numbers(text: &str) -> Vec<Number> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |(byte, _)| *byte);
    let mut numbers = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match number_at(&chars, i) {
            Some((end, fraction_digits, exponent)) => {
                numbers.push(Number {
                    start: byte_at(i),
                    end: byte_at(end),
                    fraction_digits,
                    exponent: exponent.map(|(from, to)| ascii_digits(&chars[from..to])),
                });
                i = end;
            }
            None => i += 1,
        }
    }
    numbers
}

/// The end (in chars), fraction length and exponent range of a number starting at `i`, as
/// Python's backtracking tries the alternatives: a sign that leads nowhere cannot be skipped
/// to a better match, since what follows it would have to start with a digit or a dot.
#[allow(clippy::type_complexity)]
fn number_at(
    chars: &[(usize, char)],
    i: usize,
) -> Option<(usize, Option<usize>, Option<(usize, usize)>)> {
    let is = |at: usize, set: &[char]| chars.get(at).is_some_and(|(_, c)| set.contains(c));
    let digits_from = |at: usize| {
        chars[at.min(chars.len())..]
            .iter()
            .take_while(|(_, c)| is_decimal(*c))
            .count()
    };
    let start = i + usize::from(is(i, &['+', '-']));
    let integer = digits_from(start);
    let after_integer = start + integer;
    if is(after_integer, &['.']) {
        let fraction = digits_from(after_integer + 1);
        if fraction > 0 {
            let end = after_integer + 1 + fraction;
            let exponent = exponent_at(chars, end);
            return Some((exponent.map_or(end, |(_, to)| to), Some(fraction), exponent));
        }
        if integer > 0 {
            let end = after_integer + 1;
            let exponent = exponent_at(chars, end);
            return Some((exponent.map_or(end, |(_, to)| to), None, exponent));
        }
        return None;
    }
    if integer == 0 {
        return None;
    }
    exponent_at(chars, after_integer).map(|exponent| (exponent.1, None, Some(exponent)))
}

/// `[Ee](?P<exponent>[+-]?\d+)` at `at`: the range of the exponent's sign and digits.
fn exponent_at(chars: &[(usize, char)], at: usize) -> Option<(usize, usize)> {
    if !chars.get(at).is_some_and(|(_, c)| matches!(c, 'e' | 'E')) {
        return None;
    }
    let from = at + 1;
    let signed = chars.get(from).is_some_and(|(_, c)| matches!(c, '+' | '-'));
    let digits_start = from + usize::from(signed);
    let digits = chars[digits_start.min(chars.len())..]
        .iter()
        .take_while(|(_, c)| is_decimal(*c))
        .count();
    (digits > 0).then_some((from, digits_start + digits))
}

/// What `\d` matches in a Python 3.11 `str` pattern: a decimal digit of Unicode 14 (digits
/// assigned since are left out, as in the checker's node-count pattern).
pub(crate) fn is_decimal(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    get_general_category(c) == GeneralCategory::DecimalNumber
        && !matches!(
            u32::from(c),
            0x10D40..=0x10D49
                | 0x116D0..=0x116E3
                | 0x11BF0..=0x11BF9
                | 0x11F50..=0x11F59
                | 0x16130..=0x16139
                | 0x16D70..=0x16D79
                | 0x1CCF0..=0x1CCF9
                | 0x1E4F0..=0x1E4F9
                | 0x1E5F1..=0x1E5FA
        )
}

/// A decimal digit's value. Unicode encodes decimal digits only in runs of ten, from zero up,
/// so the value is the distance from the start of the run, modulo ten.
pub(crate) fn decimal_value(c: char) -> u32 {
    if c.is_ascii_digit() {
        return u32::from(c) - u32::from('0');
    }
    let code = u32::from(c);
    let mut start = code;
    while let Some(previous) = start.checked_sub(1).and_then(char::from_u32) {
        if get_general_category(previous) != GeneralCategory::DecimalNumber {
            break;
        }
        start -= 1;
    }
    (code - start) % 10
}

/// The text as `float()` and `int()` read it: each decimal digit as its ASCII digit.
fn ascii_digits(chars: &[(usize, char)]) -> String {
    chars
        .iter()
        .map(|(_, c)| {
            if is_decimal(*c) {
                char::from_digit(decimal_value(*c), 10).unwrap_or('0')
            } else {
                *c
            }
        })
        .collect()
}

fn to_float(text: &str) -> f64 {
    let ascii: Vec<(usize, char)> = text.char_indices().collect();
    // Every match of the number pattern is a valid float literal once its digits are ASCII.
    ascii_digits(&ascii).parse().unwrap_or(f64::NAN)
}

/// pytest's `_remove_unwanted_precision`: when want and got hold as many numbers, each
/// number of got that is within `10 ** -precision` of want's (the precision want wrote:
/// fraction digits minus exponent) is replaced by want's text.
pub fn remove_unwanted_precision<'a>(want: &str, got: &'a str) -> Cow<'a, str> {
    let wants = find_numbers(want);
    let gots = find_numbers(got);
    if wants.len() != gots.len() || wants.is_empty() {
        return Cow::Borrowed(got);
    }
    let mut out = String::with_capacity(got.len());
    let mut last = 0;
    for (w, g) in wants.iter().zip(&gots) {
        let want_text = &want[w.start..w.end];
        let got_text = &got[g.start..g.end];
        out.push_str(&got[last..g.start]);
        if close_enough(to_float(want_text), to_float(got_text), precision(w)) {
            out.push_str(want_text);
        } else {
            out.push_str(got_text);
        }
        last = g.end;
    }
    out.push_str(&got[last..]);
    Cow::Owned(out)
}

/// `len(fraction) - int(exponent)`, saturating (Python's integers do not overflow; an
/// exponent that large makes the tolerance 0 or larger than any float either way).
fn precision(number: &Number) -> i128 {
    let fraction = number.fraction_digits.unwrap_or(0) as i128;
    let exponent = number.exponent.as_deref().map_or(0, parse_saturating);
    fraction.saturating_sub(exponent)
}

fn parse_saturating(text: &str) -> i128 {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = digits.bytes().fold(0i128, |value, digit| {
        value
            .saturating_mul(10)
            .saturating_add(i128::from(digit - b'0'))
    });
    if negative { -magnitude } else { magnitude }
}

/// `float(want) == approx(float(got), abs=10 ** -precision)`: equal, or got finite and
/// `abs(got - want) <= 10 ** -precision`, where that tolerance is a float for a positive
/// precision and an exact integer otherwise.
fn close_enough(want: f64, got: f64, precision: i128) -> bool {
    if want == got {
        return true;
    }
    if got.is_infinite() || got.is_nan() || want.is_nan() {
        return false;
    }
    let difference = (got - want).abs();
    if precision > 0 {
        // Python: float(10) ** float(-precision), libm's pow, as here.
        return difference <= 10f64.powf(-(precision as f64));
    }
    let k = precision.unsigned_abs();
    if k > 308 {
        // pytest.approx raises OverflowError (`math.isnan(10 ** 309)`): not a pass.
        return false;
    }
    float_at_most_power_of_ten(difference, k)
}

/// `d <= 10 ** k` compared exactly, as Python compares a float with an integer (k <= 308).
fn float_at_most_power_of_ten(d: f64, k: u128) -> bool {
    if d.is_nan() || d.is_infinite() {
        return false;
    }
    if k <= 22 {
        // Powers of ten up to 1e22 are exact doubles.
        return d <= 10f64.powi(k as i32);
    }
    if d < 1e22 {
        return true;
    }
    // d >= 1e22 > 2**53 is an integer: mantissa * 2**exponent with exponent >= 0.
    let bits = d.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as u32 - 1075;
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    let k = k as u32;
    // Compare mantissa * 2**exponent with 5**k * 2**k.
    let mut left = BigNat::from(mantissa);
    let mut right = BigNat::from(1);
    for _ in 0..k {
        right.mul_small(5);
    }
    if exponent >= k {
        left.shl(exponent - k);
    } else {
        right.shl(k - exponent);
    }
    left.cmp(&right) != Ordering::Greater
}

/// Just enough of a natural number for [`float_at_most_power_of_ten`].
#[derive(Debug, PartialEq, Eq)]
struct BigNat(Vec<u32>);

impl BigNat {
    fn from(value: u64) -> Self {
        BigNat(vec![value as u32, (value >> 32) as u32])
    }

    fn mul_small(&mut self, factor: u32) {
        let mut carry = 0u64;
        for limb in &mut self.0 {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn shl(&mut self, bits: u32) {
        let words = (bits / 32) as usize;
        let rest = bits % 32;
        if rest > 0 {
            let mut carry = 0u32;
            for limb in &mut self.0 {
                let shifted = (u64::from(*limb) << rest) | u64::from(carry);
                *limb = shifted as u32;
                carry = (shifted >> 32) as u32;
            }
            if carry > 0 {
                self.0.push(carry);
            }
        }
        self.0.splice(0..0, std::iter::repeat_n(0, words));
    }

    fn trimmed(&self) -> &[u32] {
        let len = self
            .0
            .iter()
            .rposition(|limb| *limb != 0)
            .map_or(0, |i| i + 1);
        &self.0[..len]
    }

    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.trimmed(), other.trimmed());
        a.len()
            .cmp(&b.len())
            .then_with(|| a.iter().rev().cmp(b.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(text: &str) -> Vec<&str> {
        find_numbers(text)
            .iter()
            .map(|n| &text[n.start..n.end])
            .collect()
    }

    #[test]
    fn the_number_pattern_needs_a_dot_or_an_exponent() {
        assert_eq!(numbers("42 and 3.5"), ["3.5"]);
        assert_eq!(
            numbers("1.2.3 -.5 +3. 1e5 1.e-2 2E"),
            ["1.2", ".3", "-.5", "+3.", "1e5", "1.e-2"]
        );
        assert_eq!(numbers("+-1.5 e5 x1.5e+"), ["-1.5", "1.5"]);
        assert_eq!(numbers("\u{663}.\u{665}"), ["\u{663}.\u{665}"]);
        assert_eq!(to_float("\u{663}.\u{665}"), 3.5);
    }

    #[test]
    fn prefixes_go_at_the_start_or_after_a_non_word_character() {
        assert_eq!(
            remove_prefixes("u'a' xu'b' (U\"c\" ur'd'", ['u', 'U']),
            "'a' xu'b' (\"c\" r'd'"
        );
        assert_eq!(remove_prefixes("u'u'", ['u', 'U']), "'u'");
        assert_eq!(remove_prefixes("b'x' _b'y'", ['b', 'B']), "'x' _b'y'");
    }

    #[test]
    fn precision_comes_from_want() {
        let relaxed = |want, got| remove_unwanted_precision(want, got).into_owned();
        assert_eq!(relaxed("3.14", "3.1415"), "3.14");
        assert_eq!(relaxed("3.14", "3.16"), "3.16");
        assert_eq!(relaxed("1e3", "1004.2"), "1e3");
        assert_eq!(relaxed("1.5 2.5", "1.5"), "1.5");
    }

    #[test]
    fn huge_exponents_saturate() {
        let huge = "9".repeat(60);
        let want = format!("1.5e{huge} 2.5e-{huge} 1e+{huge}\n");
        let got = "1.5 2.5 3.5\n";
        // Tolerances of 0 and of more than 10 ** 308 (an error in pytest): nothing replaced.
        assert_eq!(remove_unwanted_precision(&want, got), got);
        assert_eq!(remove_unwanted_precision(got, &want), want.as_str());
    }

    #[test]
    fn big_tolerances_compare_exactly() {
        // float(1e25) is 10**25 rounded up, so it is more than 10**25.
        assert!(!float_at_most_power_of_ten(1e25, 25));
        assert!(float_at_most_power_of_ten(1e39, 39));
        // float(1e23) is 10**23 rounded down.
        assert!(float_at_most_power_of_ten(1e23, 23));
        assert!(float_at_most_power_of_ten(1e300, 301));
        assert!(!float_at_most_power_of_ten(f64::INFINITY, 300));
        // want 1e309 (inf) against got 0.0: pytest raises OverflowError; not a pass.
        assert!(!close_enough(f64::INFINITY, 0.0, -309));
        assert!(!close_enough(2e300, 1e300, -309));
    }
}
