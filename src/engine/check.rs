//! The output checker: CPython's `OutputChecker.check_output` plus objgraph's and user flags.
//!
//! This module owns the pass/fail decision for one example's output ([`check_output`]) and for
//! an expected exception ([`check_exception`], the exception branch of `DocTestRunner.__run`).
//! Both answer with a [`Verdict`] that says, beyond pass or fail, which of doctest's rules made
//! the example pass and which custom flags rewrote the texts first, so that front ends can say
//! "passed only because NODES_VARY excused: (8 nodes) vs (9 nodes)".
//!
//! The order of the steps is the one objgraph's `tests.py` gives them: the rewriting flags
//! (`NODES_VARY`, then user substitution flags in registry order) change want and got; then an
//! any-output flag (`RANDOM_OUTPUT` or a user `any-output` flag) decides alone, on the
//! rewritten got; otherwise CPython's checker compares. CPython's steps are ported exactly,
//! regular expressions included, with Python's notion of whitespace (`str.isspace`, which
//! counts `\x1c`..`\x1f`) rather than Rust's.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::doctestplus::{self, DoctestplusFlags};
use super::flags::{Flag, FlagBehavior, FlagRegistry, FlagSet};
use super::pystr;
use super::pytest_flags::{self, PytestFlags};

/// What stands for an empty line in expected output (`doctest.BLANKLINE_MARKER`).
pub const BLANKLINE_MARKER: &str = "<BLANKLINE>";

/// What matches any text in expected output under ELLIPSIS (`doctest.ELLIPSIS_MARKER`).
pub const ELLIPSIS_MARKER: &str = "...";

/// What a node count becomes under NODES_VARY, on both sides.
const NODE_COUNT_PLACEHOLDER: &str = "(X nodes)";

/// objgraph's `\(\d+ nodes\)$` (multi-line). Python 3.11's `\d` is Unicode 14's decimal
/// digits; the regex crate knows Unicode 16, so the digits assigned since are taken out.
static NODE_COUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?m)\([\d--[",
        r"\x{10D40}-\x{10D49}\x{116D0}-\x{116E3}\x{11BF0}-\x{11BF9}\x{11F50}-\x{11F59}",
        r"\x{16130}-\x{16139}\x{16D70}-\x{16D79}\x{1CCF0}-\x{1CCF9}\x{1E4F0}-\x{1E4F9}",
        r"\x{1E5F1}-\x{1E5FA}",
        r"]]+ nodes\)$",
    ))
    .expect("the node count pattern is valid")
});

/// The rule that made an example pass, in the order the checker tries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PassRule {
    /// Identical (after folding non-ASCII characters to backslash escapes).
    Exact,
    /// `True` printed where `1` was expected, or `False` for `0`.
    TrueForOne,
    /// Equal once `<BLANKLINE>` and whitespace-only lines are taken as empty lines.
    BlankLine,
    /// Equal once runs of whitespace are taken as one space (NORMALIZE_WHITESPACE).
    NormalizeWhitespace,
    /// Matched with `...` standing for any text (ELLIPSIS).
    Ellipsis,
    /// The flag accepts any non-empty output (RANDOM_OUTPUT or a user `any-output` flag).
    AnyOutput(Flag),
    /// Equal only once pytest's ALLOW_UNICODE, ALLOW_BYTES or NUMBER relaxed the texts.
    PytestLiterals,
    /// pytest-doctestplus's IGNORE_OUTPUT (or IGNORE_OUTPUT_3): the output was not compared.
    IgnoreOutput,
    /// pytest-doctestplus's FLOAT_CMP: the numbers were within tolerance, the rest equal.
    FloatCmp,
    /// Equal only once pytest-doctestplus's FIX normalized `u''` prefixes, numpy byte
    /// orders or `L` suffixes.
    DoctestplusFix,
}

impl PassRule {
    /// A short kebab-case name, for reports.
    pub fn name(self) -> &'static str {
        match self {
            PassRule::Exact => "exact",
            PassRule::TrueForOne => "true-for-1",
            PassRule::BlankLine => "blankline",
            PassRule::NormalizeWhitespace => "normalize-whitespace",
            PassRule::Ellipsis => "ellipsis",
            PassRule::AnyOutput(_) => "any-output",
            PassRule::PytestLiterals => "pytest-literals",
            PassRule::IgnoreOutput => "ignore-output",
            PassRule::FloatCmp => "float-cmp",
            PassRule::DoctestplusFix => "doctestplus-fix",
        }
    }
}

/// One piece of text a rewriting flag replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// The text as it was written (or printed).
    pub original: String,
    /// What it became.
    pub replacement: String,
}

/// What one rewriting flag (NODES_VARY or a user substitution flag) changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub flag: Flag,
    /// Replacements in the expected output, in order (only those that changed the text).
    pub in_want: Vec<Replacement>,
    /// Replacements in the actual output, in order (only those that changed the text).
    pub in_got: Vec<Replacement>,
}

/// The checker's answer for one comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub passed: bool,
    /// Why it passed; `None` when it failed.
    pub rule: Option<PassRule>,
    /// The rewriting flags that changed want or got before the comparison, in the order
    /// applied. Flags that were on but matched nothing (or changed nothing) are left out.
    pub rewrites: Vec<Rewrite>,
    /// It passed, but would have failed without [`Verdict::rewrites`].
    pub excused: bool,
    /// It passed only once the exception's module and message were dropped
    /// (IGNORE_EXCEPTION_DETAIL).
    pub exception_details_ignored: bool,
}

impl Verdict {
    fn failed(rewrites: Vec<Rewrite>) -> Self {
        Verdict {
            passed: false,
            rule: None,
            rewrites,
            excused: false,
            exception_details_ignored: false,
        }
    }

    /// For an example that passed only because rewriting flags hid a difference, a hint such
    /// as `passed only because NODES_VARY excused: (8 nodes) vs (9 nodes)`.
    pub fn excuse(&self, registry: &FlagRegistry) -> Option<String> {
        if !self.excused {
            return None;
        }
        let parts: Vec<String> = self
            .rewrites
            .iter()
            .map(|rewrite| {
                format!(
                    "{} excused: {} vs {}",
                    flag_name(registry, rewrite.flag),
                    originals(&rewrite.in_want),
                    originals(&rewrite.in_got)
                )
            })
            .collect();
        Some(format!("passed only because {}", parts.join("; ")))
    }
}

fn flag_name(registry: &FlagRegistry, flag: Flag) -> String {
    registry
        .iter()
        .find(|(known, _)| *known == flag)
        .map_or_else(|| flag.to_string(), |(_, info)| info.name.clone())
}

fn originals(replacements: &[Replacement]) -> String {
    if replacements.is_empty() {
        return "(nothing)".to_owned();
    }
    let texts: Vec<&str> = replacements.iter().map(|r| r.original.as_str()).collect();
    texts.join(", ")
}

/// Whether `got` matches `want` under `flags`: CPython's `OutputChecker.check_output` behind
/// objgraph's `IgnoreNodeCountChecker` and the registry's user flags.
pub fn check_output(want: &str, got: &str, flags: FlagSet, registry: &FlagRegistry) -> Verdict {
    let (rewritten_want, rewritten_got, rewrites) = rewrite(want, got, flags, registry);
    let any_output = any_output_flag(flags, registry);
    let pytest = registry.pytest_flags(flags);
    let plus = registry.doctestplus_flags(flags);
    let decide = |want: &str, got: &str| decide(want, got, flags, any_output, pytest, plus);
    let rule = decide(&rewritten_want, &rewritten_got);
    match rule {
        None => Verdict::failed(rewrites),
        Some(rule) => {
            let excused = !rewrites.is_empty() && decide(want, got).is_none();
            Verdict {
                passed: true,
                rule: Some(rule),
                rewrites,
                excused,
                exception_details_ignored: false,
            }
        }
    }
}

/// Whether a raised exception matches the expected one, as `DocTestRunner.__run` decides:
/// the exception messages are compared with [`check_output`], and under
/// IGNORE_EXCEPTION_DETAIL compared again with module names and details stripped.
pub fn check_exception(
    want_exc_msg: &str,
    got_exc_msg: &str,
    flags: FlagSet,
    registry: &FlagRegistry,
) -> Verdict {
    let verdict = check_output(want_exc_msg, got_exc_msg, flags, registry);
    if verdict.passed || !flags.contains(Flag::IGNORE_EXCEPTION_DETAIL) {
        return verdict;
    }
    let stripped = check_output(
        strip_exception_details(want_exc_msg),
        strip_exception_details(got_exc_msg),
        flags,
        registry,
    );
    if stripped.passed {
        Verdict {
            exception_details_ignored: true,
            ..stripped
        }
    } else {
        verdict
    }
}

/// The exception's class name alone: the first line, up to a colon, after the last dot
/// (CPython's `_strip_exception_details`), so `foo.bar.MyError: la di da` gives `MyError`.
pub fn strip_exception_details(msg: &str) -> &str {
    let mut end = msg.find('\n').unwrap_or(msg.len());
    if let Some(colon) = msg[..end].find(':') {
        end = colon;
    }
    let start = msg[..end].rfind('.').map_or(0, |dot| dot + 1);
    &msg[start..end]
}

/// Applies the rewriting flags that are on, in registry order, to both sides.
fn rewrite<'a>(
    want: &'a str,
    got: &'a str,
    flags: FlagSet,
    registry: &FlagRegistry,
) -> (Cow<'a, str>, Cow<'a, str>, Vec<Rewrite>) {
    let mut want = Cow::Borrowed(want);
    let mut got = Cow::Borrowed(got);
    let mut rewrites = Vec::new();
    for (flag, info) in registry.custom_flags() {
        if !flags.contains(flag) {
            continue;
        }
        let substitutions: Vec<(&Regex, &str)> = match &info.behavior {
            FlagBehavior::NodesVary => vec![(&*NODE_COUNT, NODE_COUNT_PLACEHOLDER)],
            FlagBehavior::Substitute(substitutions) => substitutions
                .iter()
                .map(|s| (&s.pattern, s.replacement.as_str()))
                .collect(),
            _ => continue,
        };
        let mut record = Rewrite {
            flag,
            in_want: Vec::new(),
            in_got: Vec::new(),
        };
        for (pattern, replacement) in substitutions {
            want = substitute(want, pattern, replacement, &mut record.in_want);
            got = substitute(got, pattern, replacement, &mut record.in_got);
        }
        if !record.in_want.is_empty() || !record.in_got.is_empty() {
            rewrites.push(record);
        }
    }
    (want, got, rewrites)
}

/// `pattern.replace_all(text, replacement)` (with `$1`-style expansion), recording what
/// changed.
fn substitute<'a>(
    text: Cow<'a, str>,
    pattern: &Regex,
    replacement: &str,
    changes: &mut Vec<Replacement>,
) -> Cow<'a, str> {
    let mut out = String::new();
    let mut last = 0;
    let mut matched = false;
    for captures in pattern.captures_iter(&text) {
        let Some(whole) = captures.get(0) else {
            continue;
        };
        matched = true;
        out.push_str(&text[last..whole.start()]);
        let mut expanded = String::new();
        captures.expand(replacement, &mut expanded);
        if expanded != whole.as_str() {
            changes.push(Replacement {
                original: whole.as_str().to_owned(),
                replacement: expanded.clone(),
            });
        }
        out.push_str(&expanded);
        last = whole.end();
    }
    if !matched {
        return text;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// The first any-output flag that is on, in registry order.
fn any_output_flag(flags: FlagSet, registry: &FlagRegistry) -> Option<Flag> {
    registry.custom_flags().find_map(|(flag, info)| {
        let accepts_anything = matches!(
            info.behavior,
            FlagBehavior::RandomOutput | FlagBehavior::AnyNonEmptyOutput
        );
        (accepts_anything && flags.contains(flag)).then_some(flag)
    })
}

fn decide(
    want: &str,
    got: &str,
    flags: FlagSet,
    any_output: Option<Flag>,
    pytest: PytestFlags,
    plus: DoctestplusFlags,
) -> Option<PassRule> {
    if let Some(flag) = any_output {
        return (!got.is_empty()).then_some(PassRule::AnyOutput(flag));
    }
    if plus.any() {
        // pytest-doctestplus's checker replaces pytest's and CPython's.
        return doctestplus::check(want, got, flags, plus);
    }
    compare(want, got, flags).or_else(|| compare_relaxed(want, got, flags, pytest))
}

/// pytest's `LiteralsOutputChecker`: once CPython's checker has failed, and only if one of
/// pytest's flags is on, CPython's checker again on the relaxed texts.
fn compare_relaxed(want: &str, got: &str, flags: FlagSet, pytest: PytestFlags) -> Option<PassRule> {
    if !pytest.any() {
        return None;
    }
    let (want, got) = pytest_flags::relax(want, got, pytest);
    compare(&want, &got, flags).map(|_| PassRule::PytestLiterals)
}

/// CPython's `OutputChecker.check_output`, step by step, naming the step that matched.
pub fn compare(want: &str, got: &str, flags: FlagSet) -> Option<PassRule> {
    // Both sides are folded so that an escape written in want (`\u1234`) matches the
    // character printed in got.
    let mut got = pystr::to_ascii_backslashreplace(got);
    let mut want = pystr::to_ascii_backslashreplace(want);
    if got == want {
        return Some(PassRule::Exact);
    }
    if !flags.contains(Flag::DONT_ACCEPT_TRUE_FOR_1)
        && matches!(
            (got.as_ref(), want.as_ref()),
            ("True\n", "1\n") | ("False\n", "0\n")
        )
    {
        return Some(PassRule::TrueForOne);
    }
    if !flags.contains(Flag::DONT_ACCEPT_BLANKLINE) {
        want = Cow::Owned(blank_out_lines(&want, is_blankline_marker_line).into_owned());
        got = Cow::Owned(blank_out_lines(&got, is_whitespace_line).into_owned());
        if got == want {
            return Some(PassRule::BlankLine);
        }
    }
    if flags.contains(Flag::NORMALIZE_WHITESPACE) {
        got = Cow::Owned(normalize_whitespace(&got));
        want = Cow::Owned(normalize_whitespace(&want));
        if got == want {
            return Some(PassRule::NormalizeWhitespace);
        }
    }
    if flags.contains(Flag::ELLIPSIS) && ellipsis_match(&want, &got) {
        return Some(PassRule::Ellipsis);
    }
    None
}

/// Empties every `\n`-separated line for which `blank` holds: the effect of a `re.sub` whose
/// pattern is anchored by `(?m)^` and `$` and cannot cross a newline.
pub(super) fn blank_out_lines(text: &str, blank: fn(&str) -> bool) -> Cow<'_, str> {
    if !text.split('\n').any(blank) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<&str> = text
        .split('\n')
        .map(|line| if blank(line) { "" } else { line })
        .collect();
    Cow::Owned(lines.join("\n"))
}

/// A line `re.sub(r'(?m)^<BLANKLINE>\s*?$', '', want)` removes: the lazy `\s*?` stops at the
/// first `$`, so only whitespace up to the end of the line follows the marker.
pub(super) fn is_blankline_marker_line(line: &str) -> bool {
    line.strip_prefix(BLANKLINE_MARKER)
        .is_some_and(|rest| rest.chars().all(pystr::is_space))
}

/// A line `re.sub(r'(?m)^[^\S\n]+$', '', got)` empties: whitespace only, at least one.
pub(super) fn is_whitespace_line(line: &str) -> bool {
    !line.is_empty() && line.chars().all(pystr::is_space)
}

/// `' '.join(s.split())`.
pub(super) fn normalize_whitespace(text: &str) -> String {
    pystr::split_whitespace(text).collect::<Vec<_>>().join(" ")
}

/// CPython's `_ellipsis_match`: whether `got` matches `want` with each `...` in `want`
/// standing for any text. The ends must match exactly; the pieces between are found leftmost
/// first, which finds a match whenever there is one.
pub fn ellipsis_match(want: &str, got: &str) -> bool {
    if !want.contains(ELLIPSIS_MARKER) {
        return want == got;
    }
    let pieces: Vec<&str> = want.split(ELLIPSIS_MARKER).collect();
    let mut middle = pieces.as_slice();
    let mut start = 0;
    let mut end = got.len();
    if let Some((first, rest)) = middle.split_first()
        && !first.is_empty()
    {
        if !got.starts_with(first) {
            return false;
        }
        start = first.len();
        middle = rest;
    }
    if let Some((last, rest)) = middle.split_last()
        && !last.is_empty()
    {
        if !got.ends_with(last) {
            return false;
        }
        end -= last.len();
        middle = rest;
    }
    // The exact ends overlap, as in want 'aa...aa' against got 'aaa'.
    if start > end {
        return false;
    }
    for piece in middle {
        // Ends found above and pieces found here are whole characters, so the slice is
        // always on character boundaries.
        let Some(found) = got.get(start..end).and_then(|window| window.find(piece)) else {
            return false;
        };
        start += found + piece.len();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::flags::Substitution;

    fn flags(list: &[Flag]) -> FlagSet {
        list.iter()
            .fold(FlagSet::EMPTY, |set, flag| set.with(*flag))
    }

    fn passes(want: &str, got: &str, list: &[Flag]) -> bool {
        check_output(want, got, flags(list), &FlagRegistry::new()).passed
    }

    #[test]
    fn ellipsis_ends_must_not_overlap() {
        assert!(!ellipsis_match("aa...aa", "aaa"));
        assert!(ellipsis_match("aa...aa", "aaaa"));
        assert!(ellipsis_match("...", ""));
        assert!(ellipsis_match("......", "x"));
        // "a...." is "a" + "..." + ".": the last dot must end the output.
        assert!(!ellipsis_match("a....", "a.b"));
        assert!(ellipsis_match("a....", "a."));
        assert!(!ellipsis_match("a...b...c", "acb"));
    }

    #[test]
    fn non_ascii_is_folded_before_comparing() {
        assert!(passes("caf\\xe9\n", "café\n", &[]));
        assert!(passes("\\U0001f600\n", "😀\n", &[]));
        assert!(!passes("\\xE9\n", "é\n", &[]));
    }

    #[test]
    fn true_for_one_is_exact_about_the_newline() {
        assert!(passes("1\n", "True\n", &[]));
        assert!(passes("0\n", "False\n", &[]));
        assert!(!passes("1", "True", &[]));
        assert!(!passes("1\n", "True\n", &[Flag::DONT_ACCEPT_TRUE_FOR_1]));
    }

    #[test]
    fn blankline_marker_takes_trailing_whitespace_only_on_its_line() {
        assert!(passes("a\n<BLANKLINE>\nb\n", "a\n\nb\n", &[]));
        assert!(passes("a\n<BLANKLINE> \t\x1c\nb\n", "a\n  \nb\n", &[]));
        assert!(!passes("a\n<BLANKLINE>x\n", "a\n\n", &[]));
        assert!(!passes("a <BLANKLINE>\n", "a \n", &[]));
        assert!(!passes("<blankline>\n", "\n", &[]));
        assert!(!passes(
            "a\n<BLANKLINE>\nb\n",
            "a\n\nb\n",
            &[Flag::DONT_ACCEPT_BLANKLINE]
        ));
    }

    #[test]
    fn whitespace_includes_information_separators() {
        assert!(passes("a b\n", "a\x1c\x1fb", &[Flag::NORMALIZE_WHITESPACE]));
        // A non-ASCII space is folded to an escape first, so it is no longer whitespace.
        assert!(!passes(
            "a b\n",
            "a\u{3000}b\n",
            &[Flag::NORMALIZE_WHITESPACE]
        ));
    }

    #[test]
    fn nodes_vary_ignores_counts_at_line_ends_only() {
        let registry = FlagRegistry::new();
        let on = flags(&[Flag::NODES_VARY]);
        let verdict = check_output("x (8 nodes)\n", "x (9 nodes)\n", on, &registry);
        assert!(verdict.passed && verdict.excused);
        assert_eq!(
            verdict.excuse(&registry).as_deref(),
            Some("passed only because NODES_VARY excused: (8 nodes) vs (9 nodes)")
        );
        assert!(!check_output("(8 nodes) x\n", "(9 nodes) x\n", on, &registry).passed);
        let same = check_output("x (8 nodes)\n", "x (8 nodes)\n", on, &registry);
        assert!(same.passed && !same.excused && same.rule == Some(PassRule::Exact));
    }

    #[test]
    fn node_counts_are_python_3_11_digits() {
        assert!(passes(
            "(\u{663} nodes)\n",
            "(12 nodes)\n",
            &[Flag::NODES_VARY]
        ));
        // Kawi digits are decimal digits since Unicode 15, after Python 3.11's Unicode 14.
        assert!(!passes(
            "(\u{11F50} nodes)\n",
            "(12 nodes)\n",
            &[Flag::NODES_VARY]
        ));
    }

    #[test]
    fn random_output_needs_some_output() {
        assert!(passes("anything\n", "else\n", &[Flag::RANDOM_OUTPUT]));
        assert!(!passes("", "", &[Flag::RANDOM_OUTPUT]));
    }

    #[test]
    fn user_flags_rewrite_after_nodes_vary() {
        let mut registry = FlagRegistry::new();
        let addresses = registry
            .register(
                "ADDRESSES_VARY",
                FlagBehavior::Substitute(vec![Substitution {
                    pattern: Regex::new("0x[0-9a-f]+").expect("valid"),
                    replacement: "0xADDR".to_owned(),
                }]),
                "",
            )
            .expect("registers");
        let timing = registry
            .register("TIMING", FlagBehavior::AnyNonEmptyOutput, "")
            .expect("registers");
        let on = FlagSet::EMPTY.with(addresses);
        let verdict = check_output("<a at 0x1f>\n", "<a at 0x2e>\n", on, &registry);
        assert!(verdict.passed && verdict.excused);
        assert_eq!(verdict.rewrites[0].flag, addresses);
        let verdict = check_output("", "1.2s\n", FlagSet::EMPTY.with(timing), &registry);
        assert_eq!(verdict.rule, Some(PassRule::AnyOutput(timing)));
    }

    #[test]
    fn pytest_flags_relax_only_after_cpython_fails() {
        let registry = FlagRegistry::with_pytest_flags();
        let on = |names: &[&str]| {
            names.iter().fold(FlagSet::EMPTY, |set, name| {
                set.with(registry.lookup(name).expect("pytest flag"))
            })
        };
        let number = on(&["NUMBER"]);
        let verdict = check_output("3.14\n", "3.14159\n", number, &registry);
        assert_eq!(verdict.rule, Some(PassRule::PytestLiterals));
        assert!(!check_output("3.14\n", "3.16\n", number, &registry).passed);
        assert!(!check_output("3.14\n", "3.14159\n", FlagSet::EMPTY, &registry).passed);
        let literals = on(&["ALLOW_UNICODE", "ALLOW_BYTES"]);
        assert!(check_output("['a', 'c']\n", "[u'a', b'c']\n", literals, &registry).passed);
        // ELLIPSIS still applies to the relaxed texts.
        let both = number.with(Flag::ELLIPSIS);
        assert!(check_output("x 1.0...\n", "x 1.01 y\n", both, &registry).passed);
        // A bit means the same whichever profile's view judges it (only directives differ).
        assert!(check_output("3.14\n", "3.14159\n", number, &FlagRegistry::new()).passed);
    }

    #[test]
    fn exception_details_are_ignored_only_on_request() {
        let registry = FlagRegistry::new();
        let want = "foo.bar.MyError: la di da\n";
        let got = "MyError: something else\n";
        assert!(!check_exception(want, got, FlagSet::EMPTY, &registry).passed);
        let verdict = check_exception(
            want,
            got,
            flags(&[Flag::IGNORE_EXCEPTION_DETAIL]),
            &registry,
        );
        assert!(verdict.passed && verdict.exception_details_ignored);
        assert_eq!(strip_exception_details("abc.def:\n"), "def");
        assert_eq!(strip_exception_details("a.b: c.d\ne.f"), "b");
        assert_eq!(strip_exception_details(""), "");
    }

    #[test]
    fn directives_override_the_run_defaults() {
        let defaults = flags(&[Flag::ELLIPSIS]);
        let registry = FlagRegistry::new();
        assert!(check_output("a...\n", "abc\n", defaults, &registry).passed);
        let example =
            defaults.merged_with(&[(Flag::ELLIPSIS, false), (Flag::NORMALIZE_WHITESPACE, true)]);
        assert!(!check_output("a...\n", "abc\n", example, &registry).passed);
        assert_eq!(
            check_output("a  b\n", "a b\n", example, &registry).rule,
            Some(PassRule::NormalizeWhitespace)
        );
    }
}
