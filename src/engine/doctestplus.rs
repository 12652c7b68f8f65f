//! pytest-doctestplus's output checker (`pytest_doctestplus.output_checker.OutputChecker`,
//! version 1.7), ported exactly: `FIX`, `FLOAT_CMP`, `IGNORE_OUTPUT` and `IGNORE_OUTPUT_3`.
//! Its directives (`.. doctest-skip::` and the others) are in [`directives`], its number
//! patterns in [`numbers`].
//!
//! doctestplus replaces pytest's checker (it unregisters pytest's doctest plugin), so
//! pytest's `NUMBER` is not a flag under doctestplus and its `ALLOW_UNICODE` / `ALLOW_BYTES`
//! are names doctestplus registers and never reads. Its checker decides in this order:
//! - `IGNORE_OUTPUT` or `IGNORE_OUTPUT_3` (doctestplus 1.7 has no `IGNORE_OUTPUT_2`): pass.
//! - `FIX` (which doctestplus adds to every text file's flags): on both sides, the `u` of
//!   `u'...'` is dropped, the byte order of numpy dtype strings (`'<f8'` is `'f8'`), the size
//!   of `'i4'`/`'u8'`-style dtypes (`'i'`), and the `L` after digits.
//! - `FLOAT_CMP`: its own comparison (`normalize_floats`), which takes over from CPython's:
//!   `<BLANKLINE>` and NORMALIZE_WHITESPACE as CPython (but no ASCII folding and no `True`
//!   for `1`), then the texts with every number replaced by `0.0` must be equal (or match
//!   under ELLIPSIS), then the numbers must be close (`|got - want| <= atol + rtol * |want|`,
//!   `nan` equal to `nan`), under ELLIPSIS chunk by chunk as `...` splits want.
//! - otherwise CPython's checker, on the fixed texts.

pub mod directives;
pub mod numbers;

use std::borrow::Cow;

use super::check::{self, ELLIPSIS_MARKER, PassRule};
use super::flags::{Flag, FlagSet};
use super::pystr;
use super::pytest_flags::remove_prefixes;
use numbers::Pattern;

/// `OutputChecker.rtol` / `atol`: pytest's `doctest_plus_rtol` / `doctest_plus_atol` (ini)
/// and `--doctest-plus-rtol` / `--doctest-plus-atol`, the larger of the two; numpy's
/// `allclose` defaults otherwise.
#[derive(Debug, Clone, Copy)]
pub struct FloatTolerance {
    pub rtol: f64,
    pub atol: f64,
    /// doctestplus compares with `numpy.isclose` when numpy is importable: then infinities
    /// are close only to themselves; without numpy `abs(a - b) <= atol + rtol * abs(b)`
    /// makes any finite got close to an infinite want.
    pub numpy_isclose: bool,
}

impl Default for FloatTolerance {
    fn default() -> FloatTolerance {
        FloatTolerance {
            rtol: 1e-05,
            atol: 1e-08,
            numpy_isclose: false,
        }
    }
}

impl PartialEq for FloatTolerance {
    fn eq(&self, other: &Self) -> bool {
        self.rtol.to_bits() == other.rtol.to_bits()
            && self.atol.to_bits() == other.atol.to_bits()
            && self.numpy_isclose == other.numpy_isclose
    }
}

impl Eq for FloatTolerance {}

impl FloatTolerance {
    /// `isclose(got, want)` as doctestplus calls it (`equal_nan=True`).
    pub fn is_close(&self, got: f64, want: f64) -> bool {
        if got.is_nan() && want.is_nan() {
            return true;
        }
        if self.numpy_isclose && !(got.is_finite() && want.is_finite()) {
            return got == want;
        }
        (got - want).abs() <= self.atol + self.rtol * want.abs()
    }
}

/// Which of doctestplus's checker flags are on for one comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoctestplusFlags {
    pub fix: bool,
    /// `FLOAT_CMP`, with the tolerance it compares with.
    pub float_cmp: Option<FloatTolerance>,
    /// `IGNORE_OUTPUT` or `IGNORE_OUTPUT_3`.
    pub ignore_output: bool,
}

impl DoctestplusFlags {
    /// True when doctestplus's checker decides differently from CPython's.
    pub fn any(self) -> bool {
        self.fix || self.float_cmp.is_some() || self.ignore_output
    }
}

/// `doctest_optionflags` as pytest-doctestplus declares it (its default wins over pytest's
/// `ELLIPSIS`, as doctestplus registers the ini option after pytest's doctest plugin).
pub const DEFAULT_OPTIONFLAGS: [&str; 2] = ["ELLIPSIS", "NORMALIZE_WHITESPACE"];

/// The flags doctestplus runs a text file's examples with, before their directives: the
/// `doctest_optionflags` (`optionflags`) and FIX, which its text-file collector always adds.
pub fn text_file_flags(optionflags: FlagSet) -> FlagSet {
    optionflags.with(Flag::DOCTESTPLUS_FIX)
}

/// [`text_file_flags`] with doctestplus's default `doctest_optionflags`.
pub fn default_flags() -> FlagSet {
    text_file_flags(
        FlagSet::EMPTY
            .with(Flag::ELLIPSIS)
            .with(Flag::NORMALIZE_WHITESPACE),
    )
}

/// doctestplus's `OutputChecker.check_output`: the rule that made it pass, or `None`.
pub fn check(want: &str, got: &str, flags: FlagSet, plus: DoctestplusFlags) -> Option<PassRule> {
    if plus.ignore_output {
        return Some(PassRule::IgnoreOutput);
    }
    let (fixed_want, fixed_got) = if plus.fix {
        fix(want, got)
    } else {
        (Cow::Borrowed(want), Cow::Borrowed(got))
    };
    if let Some(tolerance) = plus.float_cmp {
        return normalize_floats(&fixed_want, &fixed_got, flags, tolerance).then(|| {
            if want == got {
                PassRule::Exact
            } else {
                PassRule::FloatCmp
            }
        });
    }
    let rule = check::compare(&fixed_want, &fixed_got, flags)?;
    let fixes_mattered = plus.fix && (fixed_want != want || fixed_got != got);
    if fixes_mattered {
        // Say FIX only when the texts would not have matched without it.
        return Some(check::compare(want, got, flags).unwrap_or(PassRule::DoctestplusFix));
    }
    Some(rule)
}

/// `do_fixes`: the same four rewrites on both sides.
pub fn fix<'a>(want: &'a str, got: &'a str) -> (Cow<'a, str>, Cow<'a, str>) {
    (fix_one(want), fix_one(got))
}

fn fix_one(text: &str) -> Cow<'_, str> {
    let text = remove_prefixes(text, ['u', 'U']);
    let text = match remove_byte_order(&text) {
        Cow::Owned(changed) => Cow::Owned(changed),
        Cow::Borrowed(_) => text,
    };
    let text = match remove_32bit_sizes(&text) {
        Cow::Owned(changed) => Cow::Owned(changed),
        Cow::Borrowed(_) => text,
    };
    match remove_long_suffixes(&text) {
        Cow::Owned(changed) => Cow::Owned(changed),
        Cow::Borrowed(_) => text,
    }
}

fn is_quote(c: char) -> bool {
    matches!(c, '\'' | '"')
}

/// `re.sub(r"([\'\"])[|<>]([biufcSaUV][0-9]+)([\'\"])", r"\1\2\3", text)`.
fn remove_byte_order(text: &str) -> Cow<'_, str> {
    rewrite_quoted(text, |chars| {
        let kind = *chars.get(2)?;
        if !matches!(chars.get(1), Some('|' | '<' | '>')) || !"biufcSaUV".contains(kind) {
            return None;
        }
        let digits = chars[3..].iter().take_while(|c| c.is_ascii_digit()).count();
        let close = *chars.get(3 + digits)?;
        (digits > 0 && is_quote(close)).then(|| (4 + digits, 2..3 + digits))
    })
}

/// `re.sub(r"([\'\"])([iu])[48]([\'\"])", r"\1\2\3", text)`.
fn remove_32bit_sizes(text: &str) -> Cow<'_, str> {
    rewrite_quoted(text, |chars| {
        let matched = matches!(chars.get(1), Some('i' | 'u'))
            && matches!(chars.get(2), Some('4' | '8'))
            && chars.get(3).is_some_and(|c| is_quote(*c));
        matched.then_some((4, 1..2))
    })
}

/// Scans `text` for matches starting at a quote: `matcher` gets the characters from the
/// quote on and says how many characters matched and which of them (besides the two quotes)
/// are kept.
fn rewrite_quoted(
    text: &str,
    matcher: impl Fn(&[char]) -> Option<(usize, std::ops::Range<usize>)>,
) -> Cow<'_, str> {
    if !text.contains(is_quote) {
        return Cow::Borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        if is_quote(chars[i])
            && let Some((length, kept)) = matcher(&chars[i..])
        {
            out.push(chars[i]);
            out.extend(&chars[i + kept.start..i + kept.end]);
            out.push(chars[i + length - 1]);
            i += length;
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

/// `re.sub(r"([0-9]+)L", r"\1", text)`: every `L` right after an ASCII digit goes.
fn remove_long_suffixes(text: &str) -> Cow<'_, str> {
    let needed = text
        .as_bytes()
        .windows(2)
        .any(|pair| pair[0].is_ascii_digit() && pair[1] == b'L');
    if !needed {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut previous = None;
    for c in text.chars() {
        if !(c == 'L' && previous.is_some_and(|p: char| p.is_ascii_digit())) {
            out.push(c);
        }
        previous = Some(c);
    }
    Cow::Owned(out)
}

/// `re.sub(r'(?m)^\s*?$', '', got)`, as Python's `re` runs it. Not CPython's blanking of
/// whitespace-only lines: after the empty match at the start of an empty line, Python looks
/// for a non-empty match at the same place, and the lazy `\s*?` then takes the line's
/// newline too, up to the next line end. So `"x\n\n"` becomes `"x\n"` and runs of empty
/// lines shrink to one.
fn remove_blank_line_matches(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let is_line_start = |s: usize| s == 0 || chars[s - 1] == '\n';
    let is_line_end = |e: usize| e == n || chars[e] == '\n';
    let mut kept = String::with_capacity(text.len());
    let mut last = 0;
    let mut position = 0;
    let mut must_advance = false;
    loop {
        let mut found = None;
        let mut start = position;
        while start <= n && found.is_none() {
            if is_line_start(start) {
                let least = usize::from(must_advance && start == position);
                let mut length = 0;
                loop {
                    if length >= least && is_line_end(start + length) {
                        found = Some((start, start + length));
                        break;
                    }
                    match chars.get(start + length) {
                        Some(c) if pystr::is_space(*c) => length += 1,
                        _ => break,
                    }
                }
            }
            start += 1;
        }
        let Some((from, to)) = found else {
            break;
        };
        kept.extend(&chars[last..from]);
        last = to;
        must_advance = from == to;
        position = to;
    }
    kept.extend(&chars[last..]);
    kept
}

/// Python raised while comparing (a number of got followed by `...` is not a float): the
/// example errors out under pytest, so it does not pass.
struct Raised;

/// `normalize_floats`: FLOAT_CMP's comparison.
fn normalize_floats(want: &str, got: &str, flags: FlagSet, tolerance: FloatTolerance) -> bool {
    let mut want = Cow::Borrowed(want);
    let mut got = Cow::Borrowed(got);
    if !flags.contains(Flag::DONT_ACCEPT_BLANKLINE) {
        want =
            Cow::Owned(check::blank_out_lines(&want, check::is_blankline_marker_line).into_owned());
        got = Cow::Owned(remove_blank_line_matches(&got));
    }
    if flags.contains(Flag::NORMALIZE_WHITESPACE) {
        got = Cow::Owned(check::normalize_whitespace(&got));
        want = Cow::Owned(check::normalize_whitespace(&want));
    }
    if got == want {
        return true;
    }
    let got_shape = numbers::substitute(&got, Pattern::Got, "0.0");
    let want_shape = numbers::substitute(&want, Pattern::Got, "0.0");
    let ellipsis = flags.contains(Flag::ELLIPSIS);
    let same_shape = if ellipsis {
        check::ellipsis_match(&want_shape, &got_shape)
    } else {
        got_shape == want_shape
    };
    if !same_shape {
        return false;
    }
    let numbers_got = numbers::numbers(&got, Pattern::Want);
    let mut want_chunks: Vec<Vec<&str>> = want
        .split(ELLIPSIS_MARKER)
        .map(|chunk| numbers::numbers(chunk, Pattern::Want))
        .collect();
    let checker = FloatChecker { tolerance };
    let answer = if ellipsis && want_chunks.len() >= 2 {
        checker.partial_match(&numbers_got, &mut want_chunks)
    } else {
        let numbers_want: Vec<&str> = want_chunks.into_iter().flatten().collect();
        if numbers_got.len() != numbers_want.len() {
            return false;
        }
        checker.all_equal(&numbers_got, &numbers_want)
    };
    answer.unwrap_or(false)
}

/// The list-of-numbers matching of doctestplus's checker (`startswith`, `endswith`, `find`,
/// `partial_match`), in its order of evaluation, so that a number Python cannot read raises
/// exactly where it would.
struct FloatChecker {
    tolerance: FloatTolerance,
}

impl FloatChecker {
    /// `equal_floats(got, want)`.
    fn equal(&self, got: &str, want: &str) -> Result<bool, Raised> {
        let got = numbers::to_float(got).ok_or(Raised)?;
        let want = numbers::to_float(want).ok_or(Raised)?;
        Ok(self.tolerance.is_close(got, want))
    }

    fn all_equal(&self, got: &[&str], want: &[&str]) -> Result<bool, Raised> {
        for (g, w) in got.iter().zip(want) {
            if !self.equal(g, w)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn starts_with(&self, got: &[&str], prefix: &[&str]) -> Result<bool, Raised> {
        if prefix.is_empty() {
            return Ok(true);
        }
        if got.len() < prefix.len() {
            return Ok(false);
        }
        self.all_equal(got, prefix)
    }

    fn ends_with(&self, got: &[&str], suffix: &[&str]) -> Result<bool, Raised> {
        let got: Vec<&str> = got.iter().rev().copied().collect();
        let suffix: Vec<&str> = suffix.iter().rev().copied().collect();
        self.starts_with(&got, &suffix)
    }

    /// `find(arr, suffix, start, end)`: where `suffix` starts in `got[start..end]`, or -1.
    fn find(
        &self,
        got: &[&str],
        suffix: &[&str],
        start: usize,
        end: usize,
    ) -> Result<Option<usize>, Raised> {
        let Some(first) = suffix.first() else {
            return Ok(Some(start));
        };
        let window = got.get(start..end.min(got.len())).unwrap_or(&[]);
        for (i, number) in window.iter().enumerate() {
            if self.equal(number, first)? && self.starts_with(&window[i..], suffix)? {
                return Ok(Some(start + i));
            }
        }
        Ok(None)
    }

    /// `partial_match(arr, chunks)`: each chunk of want's numbers found in got's in order,
    /// the first at the start and the last at the end when they are not empty.
    fn partial_match(&self, got: &[&str], chunks: &mut Vec<Vec<&str>>) -> Result<bool, Raised> {
        let mut start = 0usize;
        let mut end = got.len();
        if let Some(first) = chunks.first().filter(|chunk| !chunk.is_empty()) {
            if !self.starts_with(got, first)? {
                return Ok(false);
            }
            start = first.len();
            chunks.remove(0);
        }
        if let Some(last) = chunks.last().filter(|chunk| !chunk.is_empty()) {
            if !self.ends_with(got, last)? {
                return Ok(false);
            }
            end = end.saturating_sub(last.len());
            chunks.pop();
        }
        if start > end {
            return Ok(false);
        }
        for chunk in chunks.iter() {
            match self.find(got, chunk, start, end)? {
                Some(found) => start = found + chunk.len(),
                None => return Ok(false),
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float_cmp(want: &str, got: &str, extra: &[Flag]) -> bool {
        let flags = extra
            .iter()
            .fold(FlagSet::EMPTY, |set, flag| set.with(*flag));
        let plus = DoctestplusFlags {
            float_cmp: Some(FloatTolerance::default()),
            ..DoctestplusFlags::default()
        };
        check(want, got, flags, plus).is_some()
    }

    #[test]
    fn float_cmp_compares_numbers_within_tolerance() {
        assert!(float_cmp("1.0\n", "1.000001\n", &[]));
        assert!(!float_cmp("1.0\n", "1.0001\n", &[]));
        assert!(float_cmp("[1.0, 2.0]\n", "[1.0000000001, 2.0]\n", &[]));
        assert!(!float_cmp("[1.0, 2.0]\n", "[1.0, 2.0, 3.0]\n", &[]));
        assert!(float_cmp("nan\n", "nan\n", &[]));
        // Integers are text: they must be equal.
        assert!(!float_cmp("1\n", "2\n", &[]));
        // Without numpy, any finite number is close to an infinite want.
        assert!(float_cmp("inf\n", "5.0\n", &[]));
    }

    #[test]
    fn numpy_isclose_keeps_infinities_to_themselves() {
        let numpy = FloatTolerance {
            numpy_isclose: true,
            ..FloatTolerance::default()
        };
        assert!(!numpy.is_close(5.0, f64::INFINITY));
        assert!(numpy.is_close(f64::INFINITY, f64::INFINITY));
        assert!(!numpy.is_close(f64::NEG_INFINITY, f64::INFINITY));
        assert!(numpy.is_close(f64::NAN, f64::NAN));
        assert!(numpy.is_close(1.000001, 1.0));
        let pure = FloatTolerance::default();
        assert!(pure.is_close(5.0, f64::INFINITY));
        assert!(!pure.is_close(f64::INFINITY, f64::INFINITY));
    }

    #[test]
    fn float_cmp_with_ellipsis_matches_chunks() {
        assert!(float_cmp(
            "1.0 ... 4.0\n",
            "1.0 2.0 3.0 4.0000001\n",
            &[Flag::ELLIPSIS]
        ));
        assert!(!float_cmp(
            "1.0 ... 5.0\n",
            "1.0 2.0 3.0 4.0\n",
            &[Flag::ELLIPSIS]
        ));
        assert!(float_cmp("a...b 2.0\n", "axxb 2.0\n", &[Flag::ELLIPSIS]));
    }

    #[test]
    fn fix_normalizes_literals_dtypes_and_longs() {
        assert_eq!(
            fix_one("u'a' '<f8' '|S9' 'i4' 10L xL"),
            "'a' 'f8' 'S9' 'i' 10 xL"
        );
        assert_eq!(fix_one("'<i4'"), "'i'");
        let plus = DoctestplusFlags {
            fix: true,
            ..DoctestplusFlags::default()
        };
        assert_eq!(
            check("10L\n", "10\n", FlagSet::EMPTY, plus),
            Some(PassRule::DoctestplusFix)
        );
        assert_eq!(
            check("10\n", "10\n", FlagSet::EMPTY, plus),
            Some(PassRule::Exact)
        );
    }

    #[test]
    fn got_loses_empty_lines_as_python_substitutes() {
        assert_eq!(remove_blank_line_matches("\n"), "");
        assert_eq!(remove_blank_line_matches("a\n\nb"), "a\n\nb");
        assert_eq!(remove_blank_line_matches("a\n\n\n\nb"), "a\n\nb");
        assert_eq!(remove_blank_line_matches("x\n  \n"), "x\n\n");
        assert_eq!(remove_blank_line_matches("x\n\n"), "x\n");
        assert_eq!(remove_blank_line_matches("a\n \n\nb"), "a\n\n\nb");
        assert!(!float_cmp("\n", "\n", &[]));
    }

    #[test]
    fn ignore_output_passes_anything() {
        let plus = DoctestplusFlags {
            ignore_output: true,
            ..DoctestplusFlags::default()
        };
        assert_eq!(
            check("a\n", "b\n", FlagSet::EMPTY, plus),
            Some(PassRule::IgnoreOutput)
        );
    }
}
