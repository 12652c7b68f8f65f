//! CPython is the oracle for `--update`'s edits: for tricky outputs (prompts, `...`, tabs,
//! carriage returns, blank and whitespace-only lines, trailing spaces, literal
//! `<BLANKLINE>`, fences) and for seeded random ones, the engine either accepts the output,
//! and then CPython's `DocTestParser` reads the updated page back with the same examples, the
//! first one expecting exactly what was accepted and passing against what was printed; or
//! refuses it, and then writing it naively (each line after the indentation, blank lines as
//! `<BLANKLINE>`) would indeed be misread by CPython. Either way the page never gains an
//! example. One oracle process (`tests/oracle/update_oracle.py`) answers every case.

mod common;

use objgraph_doctest::engine::update::{Actual, Candidate, update_page};
use objgraph_doctest::engine::{Flag, FlagRegistry, FlagSet, PageFormat, parse_page};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

/// The page each output is accepted into: the first example's output is replaced.
const PAGES: &[&str] = &[
    "Text.\n\n    >>> print(x)\n    old\n    >>> 1\n    1\n",
    ">>> print(x)\nold\n\nAfter.\n>>> 1\n1\n",
    "  >>> print(x)\n  >>> 1\n  1\n",
];

const TRICKY: &[&str] = &[
    "new\n",
    ">>> 1\n",
    "ok\n  >>> 1\n",
    "... more\n",
    "ok\n... more\n",
    "...\n",
    "a\tb\n",
    "\tindented\n",
    "a\rb\n",
    "a\r\n",
    "a\n\nb\n",
    "\n",
    "   \n",
    "\x0b\n",
    "\x0c\n",
    "end  \n",
    "<BLANKLINE>\n",
    "<BLANKLINE>\n\n",
    "```\n",
    "~~~\n",
    "    deep\n",
    "Traceback (most recent call last):\n",
    "caf\u{e9} \u{2028} x\n",
    "a\u{85}b\n",
];

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ReadBack {
    Parsed {
        count: usize,
        source: String,
        want: String,
        passes: bool,
    },
    Raised {
        raised: String,
    },
}

struct Case {
    page: &'static str,
    got: String,
    flags: FlagSet,
    flag_names: Vec<&'static str>,
    /// The updated text when accepted, else the naive write.
    text: String,
    accepted: Option<String>,
}

fn naive_write(page: &str, got: &str) -> String {
    let parsed = parse_page(
        "page.txt",
        PageFormat::Text,
        page.as_bytes(),
        &FlagRegistry::new(),
    );
    let example = &parsed.examples[0];
    let line_start = page[..example.span.source_bytes.start]
        .rfind('\n')
        .map_or(0, |at| at + 1);
    let prefix = &page[line_start..example.span.source_bytes.start];
    let mut want = String::new();
    for line in got.split_inclusive('\n') {
        let line = line.trim_end_matches('\n');
        want.push_str(prefix);
        want.push_str(if line.trim().is_empty() {
            "<BLANKLINE>"
        } else {
            line
        });
        want.push('\n');
    }
    let range = example.span.want_bytes.clone();
    let mut text = page[..range.start].to_owned();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text + &want + &page[range.end..]
}

fn case(page: &'static str, got: &str, normalize: bool) -> Case {
    let registry = FlagRegistry::new();
    let parsed = parse_page("page.txt", PageFormat::Text, page.as_bytes(), &registry);
    let (flags, flag_names) = if normalize {
        (
            FlagSet::EMPTY.with(Flag::NORMALIZE_WHITESPACE),
            vec!["NORMALIZE_WHITESPACE"],
        )
    } else {
        (FlagSet::EMPTY, vec![])
    };
    let candidate = Candidate {
        index: 0,
        actual: Actual { got, exc_msg: None },
        flags,
    };
    let update = update_page(&parsed, &[candidate], &registry);
    assert_eq!(
        update.accepted.len() + update.refused.len(),
        1,
        "{got:?} on {page:?}: {update:?}"
    );
    let accepted = update.text.clone();
    Case {
        page,
        got: got.to_owned(),
        flags,
        flag_names,
        text: accepted.clone().unwrap_or_else(|| naive_write(page, got)),
        accepted,
    }
}

fn random_output(rng: &mut ChaCha8Rng) -> String {
    const PIECES: &[&str] = &[
        "a",
        "b",
        " ",
        "  ",
        "\t",
        "\n",
        "\n",
        "\n",
        ">>>",
        ">>> ",
        "...",
        "... ",
        "`",
        "```",
        "~~~",
        "<BLANKLINE>",
        "\r",
        "\x0b",
        "#",
        "é",
        "\u{3000}",
    ];
    let length = rng.random_range(1..8);
    let mut out: String = (0..length)
        .map(|_| *PIECES.choose(rng).expect("pieces"))
        .collect();
    // Doctest's got always ends with a line end (`_SpoofOut`).
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[test]
fn cpython_reads_accepted_outputs_back_and_would_misread_refused_ones() {
    let mut cases = Vec::new();
    for page in PAGES {
        for got in TRICKY {
            for normalize in [false, true] {
                cases.push(case(page, got, normalize));
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for _ in 0..400 {
        let page = PAGES.choose(&mut rng).expect("pages");
        let got = random_output(&mut rng);
        cases.push(case(page, &got, rng.random_bool(0.3)));
    }
    let request = serde_json::json!({
        "cases": cases.iter().map(|case| serde_json::json!({
            "text": case.text, "got": case.got, "flags": case.flag_names,
        })).collect::<Vec<_>>(),
    });
    let answers: Vec<ReadBack> =
        serde_json::from_value(common::run_oracle("update_oracle.py", &request))
            .expect("oracle answer");
    let registry = FlagRegistry::new();
    let (mut accepted, mut refused) = (0, 0);
    for (case, answer) in cases.iter().zip(answers) {
        let original = parse_page(
            "page.txt",
            PageFormat::Text,
            case.page.as_bytes(),
            &registry,
        );
        let before = &original.examples[0];
        let context = format!(
            "page {:?}, got {:?}, flags {:?}, written {:?}: CPython says {answer:?}",
            case.page, case.got, case.flags, case.text
        );
        match (&case.accepted, answer) {
            (
                Some(text),
                ReadBack::Parsed {
                    count,
                    source,
                    want,
                    passes,
                },
            ) => {
                accepted += 1;
                let ours = parse_page("page.txt", PageFormat::Text, text.as_bytes(), &registry);
                assert_eq!(count, original.examples.len(), "{context}");
                assert_eq!(source, before.source, "{context}");
                assert_eq!(want, ours.examples[0].want, "{context}");
                assert!(passes, "{context}");
            }
            (Some(_), ReadBack::Raised { raised }) => {
                panic!("accepted, but CPython cannot parse the page ({raised}): {context}")
            }
            (
                None,
                ReadBack::Parsed {
                    count,
                    source,
                    passes,
                    ..
                },
            ) => {
                refused += 1;
                let misread =
                    count != original.examples.len() || source != before.source || !passes;
                assert!(
                    misread,
                    "refused, but CPython would read it back: {context}"
                );
            }
            (None, ReadBack::Raised { .. }) => refused += 1,
        }
    }
    println!("{accepted} accepted and read back by CPython, {refused} refused rightly");
    assert!(
        accepted > 50 && refused > 50,
        "{accepted} accepted, {refused} refused"
    );
}
