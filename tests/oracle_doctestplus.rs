//! Differential test of pytest-doctestplus's checker (`FLOAT_CMP`, `FIX`, `IGNORE_OUTPUT`,
//! `IGNORE_OUTPUT_3`, and how they combine with CPython's flags) against doctestplus's own
//! `OutputChecker().check_output`.
//!
//! pytest-doctestplus (pinned, [`DOCTESTPLUS`], with pytest [`PYTEST`]) is installed into a
//! venv cached under `target/` (without numpy: doctestplus then uses its pure-Python
//! `isclose`). A seeded generator makes (want, got, flags) triples rich in numbers (signs,
//! leading and trailing dots, `e` and `E` exponents, `nan`/`inf`, integers beside floats,
//! numbers inside words and brackets, Unicode digits, values moved by about the tolerance),
//! numpy-style `array([...])` text, `u''` literals, dtype strings and `10L`, `...` and
//! `<BLANKLINE>`, with FLOAT_CMP alone and with ELLIPSIS, NORMALIZE_WHITESPACE, FIX and the
//! others; three batches: the default tolerance, a configured one, and exception messages
//! matched as `DocTestRunner.__run` matches them (again without details under
//! IGNORE_EXCEPTION_DETAIL). Every triple is judged by
//! our checker in the doctestplus profile's registry and by doctestplus in one Python process
//! (`tests/oracle/doctestplus_checker_oracle.py`). Verdicts must be identical (doctestplus
//! raising counts as not passing); the smallest disagreement is printed. Hostile pages and
//! outputs (directives, numbers, separators in random order) never make parsing or
//! checking panic.

mod common;

use objgraph_doctest::engine::Profile;
use objgraph_doctest::engine::check::{check_exception, check_output};
use objgraph_doctest::engine::doctestplus::FloatTolerance;
use objgraph_doctest::engine::flags::{Flag, FlagRegistry, FlagSet};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

const PYTEST: &str = "8.3.5";
const DOCTESTPLUS: &str = "1.7.1";
const SEED: u64 = 0xd0c7_e575;
const TRIPLES: usize = 100_000;
const CONFIGURED_TRIPLES: usize = 20_000;
const EXCEPTION_TRIPLES: usize = 10_000;

/// A Python with pytest and pytest-doctestplus installed, in a venv cached under target/.
pub fn python_with_doctestplus() -> String {
    common::cached_venv(
        "test-venv-doctestplus",
        &[
            &format!("pytest=={PYTEST}"),
            &format!("pytest-doctestplus=={DOCTESTPLUS}"),
        ],
    )
}

fn run_oracle(request: &Value) -> Value {
    let answer = common::run_oracle_with(
        &python_with_doctestplus(),
        "doctestplus_checker_oracle.py",
        request,
    );
    assert_eq!(
        answer["doctestplus"], DOCTESTPLUS,
        "the venv has the pinned doctestplus"
    );
    answer
}

/// The registry a doctestplus page is judged with.
fn doctestplus_registry() -> FlagRegistry {
    Profile::Doctestplus.registry(&FlagRegistry::new())
}

/// Our bits by name, for the flags doctestplus pages may name.
fn flag_bits(registry: &FlagRegistry) -> Value {
    let bits: serde_json::Map<String, Value> = registry
        .iter()
        .filter(|(_, info)| registry.accepts(info.family))
        .filter(|(flag, _)| registry.lookup(&registry.info(*flag).name) == Some(*flag))
        .map(|(flag, info)| (info.name.clone(), json!(flag.bit() as u64)))
        .collect();
    Value::Object(bits)
}

// ---------------------------------------------------------------------------------------------
// The generator.

type Rng = ChaCha8Rng;

fn pick(rng: &mut Rng, pool: &[&'static str]) -> &'static str {
    pool.choose(rng).copied().unwrap_or("")
}

#[rustfmt::skip]
const SEPARATORS: &[&str] = &[
    " ", " ", " ", ", ", ",", "[", "]", "(", ")", "=", " = ", "<", ">", "j", "}", "{", "-", "*",
    "+", "x", ":", "\n", "\n", "\t", "  ", "", "", "/", "'", "e", "_", "\u{a0}",
];

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "x", "value", "array(", "])", "dtype=float64)", "'<f8'", "'|S9'", "'i4'", "\"u8\"", "u'a'",
    "U\"b\"", "ur'c'", "10L", "7", "-3", "42", "True", "1", "0", "<BLANKLINE>", "...", "...",
    "nan", "inf", "e", "E", "j", "1j", "(1+2j)", "é", "\\xe9", "Quantity", "m / s", "<Foo>",
];

/// A number as written in expected output.
fn number_text(rng: &mut Rng) -> String {
    let digits = |rng: &mut Rng, range: std::ops::Range<usize>| -> String {
        let count = rng.random_range(range);
        (0..count)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect()
    };
    let sign = pick(rng, &["", "", "", "-", "+"]);
    let mut text = match rng.random_range(0..20) {
        0 => {
            return pick(
                rng,
                &["nan", "inf", "-inf", "+inf", "NaN", "-nan", "Infinity"],
            )
            .to_owned();
        }
        1 => format!("{sign}{}", digits(rng, 1..4)),
        2 => format!("{sign}.{}", digits(rng, 1..5)),
        3 => format!("{sign}{}.", digits(rng, 1..4)),
        4 => format!("{sign}\u{663}.\u{665}"),
        5 => pick(
            rng,
            &[
                "1e308", "1e309", "-1e309", "5e-324", "1e-320", "0.0", "-0.0",
            ],
        )
        .to_owned(),
        _ => {
            let integer = digits(rng, 1..4);
            let fraction = digits(rng, 0..8);
            format!("{sign}{integer}.{fraction}")
        }
    };
    if rng.random_bool(0.2) {
        text.push(if rng.random_bool(0.8) { 'e' } else { 'E' });
        text.push_str(pick(rng, &["", "-", "+"]));
        let exponent: u32 = rng.random_range(0..30);
        text.push_str(&exponent.to_string());
    }
    text
}

/// A number as printed in got: the same, moved by about the tolerance, printed otherwise.
fn got_number(rng: &mut Rng, want: &str) -> String {
    let Some(value) = want.parse::<f64>().ok().filter(|v| v.is_finite()) else {
        return match rng.random_range(0..4) {
            0 => number_text(rng),
            _ => want.to_owned(),
        };
    };
    match rng.random_range(0..10) {
        0 => want.to_owned(),
        1 => number_text(rng),
        2 => format!("{want}..."),
        3 => format!("{value:e}"),
        _ => {
            let relative = *[
                0.0, 1e-9, 5e-6, 9.9e-6, 1e-5, 1.0001e-5, 2e-5, 1e-4, 1e-2, 0.5,
            ]
            .choose(rng)
            .unwrap_or(&0.0);
            let absolute = *[0.0, 0.0, 1e-9, 9.9e-9, 1e-8, 1.1e-8, 1e-6]
                .choose(rng)
                .unwrap_or(&0.0);
            let direction = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
            let moved = value + direction * (value.abs() * relative + absolute);
            match rng.random_range(0..4) {
                0 => format!("{moved:e}"),
                1 => format!("{:.*}", rng.random_range(0..12), moved),
                _ => format!("{moved:?}"),
            }
        }
    }
}

/// One piece of the pair: the same kind of text on both sides, near misses in got.
fn piece(rng: &mut Rng, want: &mut String, got: &mut String) {
    match rng.random_range(0..10) {
        0..=4 => {
            let number = number_text(rng);
            let printed = got_number(rng, &number);
            want.push_str(&number);
            got.push_str(&printed);
        }
        5 => {
            // A numpy-style array, as repr prints it.
            let count = rng.random_range(1..5);
            let values: Vec<String> = (0..count).map(|_| number_text(rng)).collect();
            let printed: Vec<String> = values.iter().map(|v| got_number(rng, v)).collect();
            let mut wanted = values.join(", ");
            if rng.random_bool(0.2) && count > 2 {
                wanted = format!("{}, ..., {}", values[0], values[count - 1]);
            }
            want.push_str(&format!("array([{wanted}])"));
            got.push_str(&format!("array([{}])", printed.join(", ")));
        }
        6 => {
            let separator = pick(rng, SEPARATORS);
            want.push_str(separator);
            got.push_str(if rng.random_bool(0.93) {
                separator
            } else {
                pick(rng, SEPARATORS)
            });
        }
        _ => {
            let word = pick(rng, WORDS);
            want.push_str(word);
            got.push_str(match rng.random_range(0..20) {
                0 => pick(rng, WORDS),
                1 => "",
                _ if word == "..." => pick(rng, &["", "3.5", "x 2.0", "...", "1.0, 2.0"]),
                _ if word == "<BLANKLINE>" => "",
                _ => word,
            });
        }
    }
}

fn pair(rng: &mut Rng) -> (String, String) {
    let mut want = String::new();
    let mut got = String::new();
    for index in 0..rng.random_range(1..=6) {
        if index > 0 {
            let separator = pick(rng, SEPARATORS);
            want.push_str(separator);
            got.push_str(separator);
        }
        piece(rng, &mut want, &mut got);
    }
    if rng.random_bool(0.05) {
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
        (named("FLOAT_CMP"), 0.75),
        (named("FIX"), 0.5),
        (Flag::ELLIPSIS, 0.4),
        (Flag::NORMALIZE_WHITESPACE, 0.4),
        (Flag::DONT_ACCEPT_BLANKLINE, 0.1),
        (Flag::DONT_ACCEPT_TRUE_FOR_1, 0.1),
        (named("IGNORE_OUTPUT"), 0.02),
        (named("IGNORE_OUTPUT_3"), 0.02),
        (named("ALLOW_UNICODE"), 0.1),
        (named("ALLOW_BYTES"), 0.1),
        (named("REMOTE_DATA"), 0.05),
        (named("SHOW_WARNINGS"), 0.05),
        (named("IGNORE_WARNINGS"), 0.05),
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

fn corpus(rng: &mut Rng, registry: &FlagRegistry, count: usize) -> Vec<Triple> {
    (0..count)
        .map(|_| {
            let (want, got) = pair(rng);
            let flags = random_flags(rng, registry);
            Triple { want, got, flags }
        })
        .collect()
}

/// Exception messages (`module.Error: detail` lines) around the generated texts.
fn exception_corpus(rng: &mut Rng, registry: &FlagRegistry, count: usize) -> Vec<Triple> {
    let kinds = [
        "ValueError",
        "numpy.linalg.LinAlgError",
        "a.b.Error",
        "Warning",
    ];
    corpus(rng, registry, count)
        .into_iter()
        .map(|triple| {
            let want_kind = pick(rng, &kinds);
            let got_kind = if rng.random_bool(0.8) {
                want_kind
            } else {
                pick(rng, &kinds)
            };
            let flags = triple
                .flags
                .set(Flag::IGNORE_EXCEPTION_DETAIL, rng.random_bool(0.4));
            Triple {
                want: format!("{want_kind}: {}", triple.want),
                got: format!("{got_kind}: {}", triple.got),
                flags,
            }
        })
        .collect()
}

/// How one side judges a triple: [`check_output`] or [`check_exception`].
type Check = fn(&str, &str, FlagSet, &FlagRegistry) -> objgraph_doctest::engine::check::Verdict;

/// Compares one batch's verdicts with ours; returns the number of passes.
fn compare_batch(
    triples: &[Triple],
    verdicts: &str,
    registry: &FlagRegistry,
    label: &str,
) -> usize {
    compare_batch_with(triples, verdicts, registry, label, check_output)
}

fn compare_batch_with(
    triples: &[Triple],
    verdicts: &str,
    registry: &FlagRegistry,
    label: &str,
    check: Check,
) -> usize {
    assert_eq!(verdicts.len(), triples.len(), "one verdict per triple");
    let mut mismatches: Vec<(&Triple, bool)> = triples
        .iter()
        .zip(verdicts.bytes())
        .filter_map(|(triple, verdict)| {
            let theirs = verdict == b'1';
            let ours = check(&triple.want, &triple.got, triple.flags, registry).passed;
            (ours != theirs).then_some((triple, theirs))
        })
        .collect();
    mismatches.sort_by_key(|(t, _)| (t.want.len() + t.got.len(), t.flags.bits().count_ones()));
    if let Some((smallest, theirs)) = mismatches.first() {
        panic!(
            "{label}: {} of {} verdicts differ from pytest-doctestplus {DOCTESTPLUS}'s; smallest: {} (doctestplus says {}, we say {})",
            mismatches.len(),
            triples.len(),
            smallest.describe(registry),
            if *theirs { "pass" } else { "fail" },
            if *theirs { "fail" } else { "pass" },
        );
    }
    verdicts.bytes().filter(|b| *b == b'1').count()
}

#[test]
fn checker_agrees_with_doctestplus_on_generated_triples() {
    let registry = doctestplus_registry();
    let mut configured = registry.clone();
    let tolerance = FloatTolerance {
        rtol: 1e-3,
        atol: 1e-6,
        numpy_isclose: false,
    };
    configured.set_float_tolerance(tolerance);
    let mut rng = Rng::seed_from_u64(SEED);
    let started = std::time::Instant::now();
    let defaults = corpus(&mut rng, &registry, TRIPLES);
    let relaxed = corpus(&mut rng, &registry, CONFIGURED_TRIPLES);
    let exceptions = exception_corpus(&mut rng, &registry, EXCEPTION_TRIPLES);
    let checks = |triples: &[Triple]| -> Vec<Value> {
        triples
            .iter()
            .map(|t| json!([t.want, t.got, t.flags.bits() as u64]))
            .collect()
    };
    let answer = run_oracle(&json!({
        "flag_bits": flag_bits(&registry),
        "batches": [
            {"rtol": 1e-05, "atol": 1e-08, "checks": checks(&defaults)},
            {"rtol": tolerance.rtol, "atol": tolerance.atol, "checks": checks(&relaxed)},
            {"rtol": 1e-05, "atol": 1e-08, "checks": checks(&exceptions), "exceptions": true},
        ],
    }));
    let oracle_done = started.elapsed();
    let verdicts = |index: usize| {
        answer["batches"][index]
            .as_str()
            .expect("verdicts")
            .to_owned()
    };
    let passes = compare_batch(&defaults, &verdicts(0), &registry, "default tolerance");
    compare_batch(&relaxed, &verdicts(1), &configured, "rtol=1e-3, atol=1e-6");
    let exception_passes = compare_batch_with(
        &exceptions,
        &verdicts(2),
        &registry,
        "exception messages",
        check_exception,
    );
    assert!(
        exception_passes > EXCEPTION_TRIPLES / 20,
        "{exception_passes} exceptions match"
    );
    eprintln!(
        "{} triples: generated and judged by doctestplus in {oracle_done:.1?}, by us in {:.1?}",
        TRIPLES + CONFIGURED_TRIPLES + EXCEPTION_TRIPLES,
        started.elapsed() - oracle_done
    );
    // Not one-sided: both verdicts occur often, and many passes need FLOAT_CMP.
    assert!(
        passes > TRIPLES / 10 && passes < TRIPLES * 9 / 10,
        "{passes} passes"
    );
    let float_cmp = registry.lookup("FLOAT_CMP").expect("FLOAT_CMP");
    let numeric = defaults
        .iter()
        .zip(verdicts(0).bytes())
        .filter(|(t, v)| {
            *v == b'1'
                && !check_output(&t.want, &t.got, t.flags.without(float_cmp), &registry).passed
        })
        .count();
    eprintln!("{passes} passes, {numeric} of them only with FLOAT_CMP");
    assert!(
        numeric > TRIPLES / 20,
        "only {numeric} passes need FLOAT_CMP"
    );
}

#[test]
fn doctestplus_names_are_its_own() {
    let registry = doctestplus_registry();
    let answer = run_oracle(&json!({"flag_bits": flag_bits(&registry), "batches": []}));
    let theirs: Vec<String> = answer["names"]
        .as_array()
        .expect("names")
        .iter()
        .filter_map(|name| name.as_str().map(str::to_owned))
        .collect();
    let mut ours: Vec<String> = registry
        .iter()
        .filter(|(_, info)| registry.accepts(info.family))
        .map(|(_, info)| info.name.clone())
        .filter(|name| !matches!(name.as_str(), "NODES_VARY" | "RANDOM_OUTPUT"))
        .collect();
    ours.sort();
    ours.dedup();
    assert_eq!(ours, theirs, "option names under doctestplus");
}

/// Pieces of hostile pages and outputs: directives, numbers and their separators.
#[rustfmt::skip]
const HOSTILE: &[&str] = &[
    ">>> ", ">>>", "... ", "\n", "\r\n", "\t", " ", "    ", ".. ", "# ", "<!-- ", "-->", "::",
    "doctest-skip", "doctest-skip-all", "doctest-requires", "doctest-requires-all",
    "doctest-remote-data", "doctest-remote-data-all", ", ", "win32", "# doctest: +FLOAT_CMP",
    " +REMOTE_DATA", " +SHOW_WARNINGS", " +IGNORE_WARNINGS", "1.5", "-.5e-3", "e", "nan", "inf",
    "...", "<BLANKLINE>", "'<f8'", "u'", "10L", "\u{663}", "é", "\u{2028}", "\u{1c}", "\u{a0}",
];

#[test]
fn hostile_input_never_panics() {
    use objgraph_doctest::engine::{PageFormat, Reading, parse_page_as};
    let registry = doctestplus_registry();
    let mut rng = Rng::seed_from_u64(SEED ^ 0x5eed);
    let reading = Reading::of(Profile::Doctestplus);
    for round in 0..3_000 {
        let text: String = (0..rng.random_range(1..60))
            .map(|_| pick(&mut rng, HOSTILE))
            .collect();
        for name in ["a.rst", "a.md", "a.txt", ".md", "a.tex"] {
            let format = PageFormat::from_path(name).unwrap_or(PageFormat::Text);
            let page = parse_page_as(name, format, text.as_bytes(), &registry, &reading);
            for example in &page.examples {
                assert!(example.span.line >= 1, "round {round}: {text:?}");
            }
        }
        let other: String = (0..rng.random_range(0..30))
            .map(|_| pick(&mut rng, HOSTILE))
            .collect();
        let flags = random_flags(&mut rng, &registry);
        check_output(&text, &other, flags, &registry);
        check_output(&other, &text, flags, &registry);
    }
}
