//! Differential test of pytest's flags (`NUMBER`, `ALLOW_UNICODE`, `ALLOW_BYTES`) against
//! pytest's own checker.
//!
//! pytest (pinned, [`PYTEST`]) is installed into a venv cached under `target/`, made once by
//! the first test that needs it (a lock file serialises makers, a marker says it is ready).
//! A seeded generator makes (want, got, flags) triples rich in numbers (signs, leading and
//! trailing dots, exponents, precisions at and around the tolerance, Unicode digits, exponents
//! past a float's range), `u''`/`b''`/`r''` literals next to words and quotes, mixed text, with
//! ELLIPSIS, NORMALIZE_WHITESPACE and the others; every triple is judged by our checker with
//! `FlagRegistry::with_pytest_flags()` and by `_pytest.doctest._get_checker()` in one Python
//! process (`tests/oracle/pytest_checker_oracle.py`). Verdicts must be identical; the smallest
//! disagreement is printed. Directive parsing is compared too: after pytest registers its
//! names they are valid `# doctest:` options, and before, as in plain doctest, they are not.

mod common;

use objgraph_doctest::engine::check::check_output;
use objgraph_doctest::engine::flags::{Flag, FlagRegistry, FlagSet};
use objgraph_doctest::engine::{PageFormat, Profile, Reading, parse_page_as};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

const PYTEST: &str = "8.3.5";
const SEED: u64 = 0x9e57_f1a6;
const TRIPLES: usize = 100_000;

/// A Python with pytest [`PYTEST`] installed, in a venv cached under target/ (made once).
fn python_with_pytest() -> String {
    common::cached_venv("test-venv-pytest", &[&format!("pytest=={PYTEST}")])
}

/// Runs the oracle script with the pytest venv's Python.
fn run_oracle(request: &Value) -> Value {
    let answer =
        common::run_oracle_with(&python_with_pytest(), "pytest_checker_oracle.py", request);
    assert_eq!(answer["pytest"], PYTEST, "the venv has the pinned pytest");
    answer
}

fn flag_bits(registry: &FlagRegistry) -> Value {
    // The names this view reads (doctestplus registers an ALLOW_BYTES of its own).
    let bits: serde_json::Map<String, Value> = registry
        .iter()
        .filter(|(flag, info)| registry.lookup(&info.name) == Some(*flag))
        .map(|(flag, info)| (info.name.clone(), json!(flag.bit() as u64)))
        .collect();
    Value::Object(bits)
}

// ---------------------------------------------------------------------------------------------
// The generator.

type Rng = ChaCha8Rng;

#[rustfmt::skip]
const TEXT: &[&str] = &[
    "x", "value", "=", ", ", "[", "]", "(", ")", ": ", "1", "0", "42", "-7", "True", "False",
    "...", "...", "<BLANKLINE>", "e", "E", "+", "-", ".", "_", "é", "ab", "\\xe9",
];

#[rustfmt::skip]
const SPACE: &[&str] = &[" ", " ", "  ", "\n", "\n", "\t", "\u{a0}", "\n\n"];

#[rustfmt::skip]
const LITERAL_PREFIXES: &[&str] = &[
    "", "", "u", "U", "b", "B", "r", "ur", "uR", "br", "Br", "bR", "rb", "ub", "bu",
];

#[rustfmt::skip]
const LITERAL_BEFORE: &[&str] = &["", "", " ", "[", "(", ",", "x", "_", "é", "'", "=", "\n"];

/// Digits in several scripts: Python's `\d` and `float()` take any decimal digit.
const ZEROS: &[char] = &[
    '0',
    '0',
    '0',
    '0',
    '0',
    '0',
    '\u{660}',
    '\u{ff10}',
    '\u{1d7ce}',
];

fn pick(rng: &mut Rng, pool: &[&'static str]) -> &'static str {
    pool.choose(rng).copied().unwrap_or("")
}

fn digits(rng: &mut Rng, count: usize, zero: char) -> String {
    (0..count)
        .map(|_| char::from_u32(u32::from(zero) + rng.random_range(0..10)).unwrap_or('0'))
        .collect()
}

/// A number as written in expected output: sign, integer digits, a dot and fraction digits,
/// an exponent, in the forms pytest's pattern reads (and some it does not).
fn number_text(rng: &mut Rng) -> String {
    let zero = if rng.random_bool(0.05) {
        *ZEROS.choose(rng).unwrap_or(&'0')
    } else {
        '0'
    };
    let mut text = String::new();
    text.push_str(pick(rng, &["", "", "", "-", "+"]));
    let integer = rng.random_range(0..=4);
    text.push_str(&digits(rng, integer, zero));
    match rng.random_range(0..10) {
        0 => {}
        1 => text.push('.'),
        _ => {
            text.push('.');
            let fraction = rng.random_range(0..=7);
            text.push_str(&digits(rng, fraction, zero));
        }
    }
    if rng.random_bool(0.25) {
        text.push(if rng.random_bool(0.5) { 'e' } else { 'E' });
        text.push_str(pick(rng, &["", "", "-", "+"]));
        let exponent = match rng.random_range(0..10) {
            0 => rng.random_range(20..45),
            1 => *[300, 307, 308, 309, 320, 400].choose(rng).unwrap_or(&300),
            _ => rng.random_range(0..12),
        };
        text.push_str(&exponent.to_string());
    }
    if text.is_empty() || text == "-" || text == "+" {
        text.push('1');
    }
    text
}

/// The value Python's `float()` gives an ASCII number text, if it is one.
fn value_of(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

/// A number as printed in got: the same text, a digit changed, digits added or cut, the value
/// moved by about the tolerance, printed at another precision or with an exponent.
fn got_number(rng: &mut Rng, want: &str) -> String {
    let ascii = want.is_ascii();
    match rng.random_range(0..12) {
        0 => want.to_owned(),
        1 => {
            // After an exponent, one digit more at most: pytest computes 10 ** exponent.
            let count = if want.contains(['e', 'E']) {
                1
            } else {
                rng.random_range(1..=5)
            };
            format!("{want}{}", digits(rng, count, '0'))
        }
        2 if want.chars().count() > 1 => {
            let mut shorter = want.to_owned();
            shorter.pop();
            shorter
        }
        3 => {
            let mut chars: Vec<char> = want.chars().collect();
            if let Some(last) = chars.iter().rposition(|c| c.is_ascii_digit()) {
                let digit = chars[last].to_digit(10).unwrap_or(0);
                let changed = if rng.random_bool(0.5) {
                    digit + 1
                } else {
                    digit + 9
                };
                chars[last] = char::from_digit(changed % 10, 10).unwrap_or('0');
            }
            chars.into_iter().collect()
        }
        4 => number_text(rng),
        _ if ascii => match value_of(want) {
            Some(value) => perturbed(rng, want, value),
            None => number_text(rng),
        },
        _ => want.to_owned(),
    }
}

/// want's value moved by a multiple of 10 ** -precision near 1, printed in some form.
fn perturbed(rng: &mut Rng, want: &str, value: f64) -> String {
    let fraction = want
        .split(['e', 'E'])
        .next()
        .and_then(|mantissa| mantissa.split_once('.'))
        .map_or(0, |(_, fraction)| fraction.len() as i32);
    let exponent = want
        .split_once(['e', 'E'])
        .and_then(|(_, exponent)| exponent.parse::<i32>().ok())
        .unwrap_or(0);
    let precision = fraction - exponent;
    let scale = *[0.0, 0.3, 0.5, 0.9, 0.99, 1.0, 1.01, 1.5, 2.0, 10.0]
        .choose(rng)
        .unwrap_or(&1.0);
    let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
    let moved = value + sign * scale * 10f64.powi(-precision);
    let shown = (fraction + rng.random_range(0..=4)).clamp(0, 17) as usize;
    match rng.random_range(0..6) {
        0 => format!("{:.*e}", shown.min(12), moved),
        1 => format!("{moved}"),
        2 => format!("{:+.*}", shown, moved),
        _ => format!("{:.*}", shown, moved),
    }
}

/// A string or bytes literal with some prefix, after some character.
fn literal(rng: &mut Rng) -> (String, &'static str, &'static str, String) {
    let before = pick(rng, LITERAL_BEFORE);
    let prefix = pick(rng, LITERAL_PREFIXES);
    let quote = pick(rng, &["'", "'", "\""]);
    let body = pick(rng, &["a", "xyz", "", "1.5", "u", "b", "it's", "é"]);
    (before.to_owned(), prefix, quote, body.to_owned())
}

fn write_literal(before: &str, prefix: &str, quote: &str, body: &str) -> String {
    format!("{before}{prefix}{quote}{body}{quote}")
}

/// One piece of a pair: the same kind of thing on both sides, near misses on got's. Says
/// whether it was a number.
fn piece(rng: &mut Rng, want: &mut String, got: &mut String) -> bool {
    let kind = rng.random_range(0..10);
    match kind {
        0..=3 => {
            let number = number_text(rng);
            let printed = if rng.random_bool(0.9) {
                got_number(rng, &number)
            } else {
                String::new()
            };
            want.push_str(&number);
            got.push_str(&printed);
        }
        4..=5 => {
            let (before, prefix, quote, body) = literal(rng);
            want.push_str(&write_literal(&before, prefix, quote, &body));
            let got_prefix = match rng.random_range(0..4) {
                0 => prefix,
                _ => pick(rng, LITERAL_PREFIXES),
            };
            got.push_str(&write_literal(&before, got_prefix, quote, &body));
        }
        6 => {
            let space = pick(rng, SPACE);
            want.push_str(space);
            got.push_str(if rng.random_bool(0.8) {
                space
            } else {
                pick(rng, SPACE)
            });
        }
        _ => {
            let text = pick(rng, TEXT);
            want.push_str(text);
            got.push_str(match rng.random_range(0..10) {
                0 => pick(rng, TEXT),
                1 => "",
                _ if text == "..." => pick(rng, &["", "3.5", "x y", "...", "1.0 2.0"]),
                _ => text,
            });
        }
    }
    kind <= 3
}

fn pair(rng: &mut Rng) -> (String, String) {
    let mut want = String::new();
    let mut got = String::new();
    let mut after_number = false;
    for index in 0..rng.random_range(1..=7) {
        if index > 0 {
            let mut space = pick(rng, &[" ", " ", ", ", "\n", ""]);
            if after_number && space.is_empty() {
                // Digits run on into an exponent of millions, which pytest raises 10 to.
                space = " ";
            }
            want.push_str(space);
            got.push_str(space);
        }
        after_number = piece(rng, &mut want, &mut got);
    }
    if rng.random_bool(0.05) {
        // A number more or fewer: pytest then leaves got's numbers alone.
        got.push_str(&format!(" {}", number_text(rng)));
    }
    if rng.random_bool(0.85) {
        want.push('\n');
        got.push('\n');
    }
    (want, got)
}

fn random_flags(rng: &mut Rng, registry: &FlagRegistry) -> FlagSet {
    let named = |name: &str| registry.lookup(name).expect("flag is registered");
    let choices = [
        (named("NUMBER"), 0.7),
        (named("ALLOW_UNICODE"), 0.5),
        (named("ALLOW_BYTES"), 0.5),
        (Flag::ELLIPSIS, 0.3),
        (Flag::NORMALIZE_WHITESPACE, 0.3),
        (Flag::DONT_ACCEPT_BLANKLINE, 0.1),
        (Flag::DONT_ACCEPT_TRUE_FOR_1, 0.1),
        (Flag::IGNORE_EXCEPTION_DETAIL, 0.05),
    ];
    choices
        .iter()
        .fold(FlagSet::EMPTY, |set, &(flag, probability)| {
            set.set(flag, rng.random_bool(probability))
        })
}

#[derive(Debug, Clone)]
struct Triple {
    want: String,
    got: String,
    flags: FlagSet,
}

impl Triple {
    fn describe(&self, registry: &FlagRegistry) -> String {
        let names: Vec<&str> = self.flags.iter().map(|flag| registry.name(flag)).collect();
        format!(
            "want={:?} got={:?} flags=[{}]",
            self.want,
            self.got,
            names.join(", ")
        )
    }
}

fn corpus(registry: &FlagRegistry) -> Vec<Triple> {
    let mut rng = Rng::seed_from_u64(SEED);
    (0..TRIPLES)
        .map(|_| {
            let (want, got) = pair(&mut rng);
            let flags = random_flags(&mut rng, registry);
            Triple { want, got, flags }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn checker_agrees_with_pytest_on_generated_triples() {
    let registry = FlagRegistry::with_pytest_flags();
    let started = std::time::Instant::now();
    let triples = corpus(&registry);
    let checks: Vec<Value> = triples
        .iter()
        .map(|t| json!([t.want, t.got, t.flags.bits() as u64]))
        .collect();
    let answer = run_oracle(&json!({"flag_bits": flag_bits(&registry), "checks": checks}));
    let verdicts = answer["checks"].as_str().expect("oracle answers a string");
    assert_eq!(verdicts.len(), triples.len(), "one verdict per triple");
    let oracle_done = started.elapsed();
    let mut mismatches: Vec<(&Triple, bool)> = triples
        .iter()
        .zip(verdicts.bytes())
        .filter_map(|(triple, verdict)| {
            // 'E': pytest raised, so the example does not pass.
            let theirs = verdict == b'1';
            let ours = check_output(&triple.want, &triple.got, triple.flags, &registry).passed;
            (ours != theirs).then_some((triple, theirs))
        })
        .collect();
    eprintln!(
        "{TRIPLES} triples: generated and judged by pytest in {oracle_done:.1?}, by us in {:.1?}",
        started.elapsed() - oracle_done
    );
    mismatches.sort_by_key(|(t, _)| (t.want.len() + t.got.len(), t.flags.bits().count_ones()));
    if let Some((smallest, theirs)) = mismatches.first() {
        panic!(
            "{} of {} verdicts differ from pytest {PYTEST}'s; smallest: {} (pytest says {}, we say {})",
            mismatches.len(),
            triples.len(),
            smallest.describe(&registry),
            if *theirs { "pass" } else { "fail" },
            if *theirs { "fail" } else { "pass" },
        );
    }
    // The corpus is not trivially one-sided: both verdicts occur often, and many passes
    // need pytest's flags.
    let passes = verdicts.bytes().filter(|b| *b == b'1').count();
    assert!(
        passes > TRIPLES / 10 && passes < TRIPLES * 9 / 10,
        "{passes} passes"
    );
    let pytest_bits = ["ALLOW_UNICODE", "ALLOW_BYTES", "NUMBER"]
        .iter()
        .filter_map(|name| registry.lookup(name))
        .fold(FlagSet::EMPTY, FlagSet::with);
    let without_pytest = |flags: FlagSet| FlagSet::from_bits(flags.bits() & !pytest_bits.bits());
    let relaxed = triples
        .iter()
        .zip(verdicts.bytes())
        .filter(|(t, v)| {
            *v == b'1' && !check_output(&t.want, &t.got, without_pytest(t.flags), &registry).passed
        })
        .count();
    assert!(
        relaxed > TRIPLES / 40,
        "only {relaxed} passes need pytest's flags"
    );
}

/// Pages whose directives name pytest's flags (and one pytest does not have).
const PAGES: &[&str] = &[
    ">>> 3.14159  # doctest: +NUMBER\n3.14\n",
    ">>> b'a'  # doctest: +ALLOW_UNICODE, +ALLOW_BYTES\n'a'\n",
    ">>> 1.0  # doctest: +NUMBER -ALLOW_BYTES +ELLIPSIS\n1.\n>>> 2  # doctest: -NUMBER\n2\n",
    ">>> 1  # doctest: +FLOAT_CMP\n1\n",
    ">>> 1  # doctest: +number\n1\n",
];

fn our_parse(text: &str, registry: &FlagRegistry, profile: Profile) -> Value {
    let page = parse_page_as(
        "page.txt",
        PageFormat::Text,
        text.as_bytes(),
        registry,
        &Reading::of(profile),
    );
    if let Some(error) = page.errors.first() {
        return json!(error.message);
    }
    let examples: Vec<Value> = page
        .examples
        .iter()
        .map(|example| {
            let options: Vec<Value> = example
                .options
                .iter()
                .map(|(flag, on)| json!([registry.name(*flag), on]))
                .collect();
            Value::Array(options)
        })
        .collect();
    Value::Array(examples)
}

#[test]
fn pytest_names_are_directives_only_once_registered() {
    let registry = FlagRegistry::with_pytest_flags();
    let answer = run_oracle(&json!({
        "flag_bits": flag_bits(&registry),
        "plain_pages": PAGES,
        "pages": PAGES,
    }));
    assert_eq!(
        answer["lookup"],
        json!([
            "ALLOW_BYTES",
            "ALLOW_UNICODE",
            "COMPARISON_FLAGS",
            "DONT_ACCEPT_BLANKLINE",
            "DONT_ACCEPT_TRUE_FOR_1",
            "ELLIPSIS",
            "IGNORE_EXCEPTION_DETAIL",
            "NORMALIZE_WHITESPACE",
            "NUMBER"
        ]),
        "doctest_optionflags names pytest knows"
    );
    for (index, text) in PAGES.iter().enumerate() {
        assert_eq!(
            our_parse(text, &registry, Profile::Pytest),
            answer["pages"][index],
            "with pytest's flags: {text:?}"
        );
        assert_eq!(
            our_parse(text, &FlagRegistry::new(), Profile::Doctest),
            answer["plain_pages"][index],
            "plain doctest: {text:?}"
        );
    }
}
