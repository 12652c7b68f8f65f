//! CPython's `doctest.DocTestParser` is the oracle for our page parser: every page is parsed by
//! both, as `DocFileSuite` reads a file (the whole file is one docstring, named after its
//! basename), and the answers are compared field by field: each example's `source`, `want`,
//! `exc_msg`, `indent`, options and line; the text each example's span covers in the page; and,
//! when CPython raises, the message of our first error, byte for byte.
//!
//! Pages come from this repository (tests/ and docs/), from the documentation of objgraph and
//! of other projects that doctest their docs (sdists from PyPI, cached under target/), and from
//! a seeded generator aimed at the parser's corners. Each batch is one oracle process
//! (`tests/oracle/parser_oracle.py`). A mismatch is shrunk to the smallest page that still
//! mismatches, and printed as a Rust string literal beside both answers.
//!
//! Run with `--nocapture` to see the figures (pages, examples, pages CPython rejects, time).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use objgraph_doctest::engine::page::{Example, ParseError, ParseErrorKind};
use objgraph_doctest::engine::{FlagRegistry, Page, PageFormat, parse_page, pystr};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

const ORACLE: &str = "parser_oracle.py";

/// Projects whose documentation pages are doctested, pinned.
const PROJECTS: &[&str] = &[
    "objgraph==3.7.0",
    "zope.interface==6.4.post2",
    "zope.component==6.0",
    "zope.schema==7.0.1",
    "transaction==4.0",
    "persistent==5.2",
    "zc.buildout==3.0.1",
    "zope.testrunner==6.5",
    "manuel==1.13.0",
];

/// How many generated pages to compare, and the generator's seed; a longer run with another
/// seed: `OBJGRAPH_DOCTEST_ORACLE_PAGES=200000 OBJGRAPH_DOCTEST_ORACLE_SEED=7 cargo test
/// --test oracle_parser generated`.
const GENERATED_PAGES: usize = 10_000;
const SEED: u64 = 0x0d0c_7e57;

/// Mismatches shrunk and printed before failing (each shrink asks the oracle many times).
const MISMATCHES_SHOWN: usize = 3;

#[test]
fn repository_pages_match_cpython() {
    let root = common::repo_root();
    let mut cases = Vec::new();
    for dir in ["tests", "docs"] {
        cases.extend(pages_under(&root, &root.join(dir), |_| true));
    }
    assert!(!cases.is_empty(), "no pages under tests/ or docs/");
    assert_identical("repository", &cases);
}

#[test]
fn project_documentation_matches_cpython() {
    let mut cases = Vec::new();
    for project in PROJECTS {
        let unpacked = common::sdist(project);
        let parent = unpacked.parent().expect("unpacked sdist has a parent");
        let mut found = Vec::new();
        for dir in ["docs", "doc", "src"] {
            found.extend(pages_under(parent, &unpacked.join(dir), |bytes| {
                bytes.windows(3).any(|w| w == b">>>")
            }));
        }
        println!("{project}: {} pages with >>>", found.len());
        assert!(
            !found.is_empty(),
            "{project} has no documentation pages with >>>"
        );
        cases.extend(found);
    }
    assert_identical("project documentation", &cases);
}

#[test]
fn generated_pages_match_cpython() {
    let setting = |name: &str, default| {
        std::env::var(name).map_or(default, |value| {
            value
                .parse()
                .unwrap_or_else(|_| panic!("{name} is a number"))
        })
    };
    let pages = setting("OBJGRAPH_DOCTEST_ORACLE_PAGES", GENERATED_PAGES as u64);
    let mut generator = Generator::new(setting("OBJGRAPH_DOCTEST_ORACLE_SEED", SEED));
    let cases: Vec<Case> = (0..pages as usize)
        .map(|index| generator.case(index))
        .collect();
    assert_identical("generated", &cases);
}

/// `pystr`'s character classes against CPython's, for every code point CPython's Unicode
/// version assigns (the one known difference is characters assigned since).
#[test]
fn character_classes_match_cpython() {
    let answer: Characters = serde_json::from_value(common::run_oracle(
        ORACLE,
        &serde_json::json!({"characters": true}),
    ))
    .expect("oracle answers with character classes");
    type Class<'a> = (&'a str, &'a Ranges, fn(char) -> bool);
    let classes: [Class<'_>; 4] = [
        ("str.isspace", &answer.isspace, pystr::is_space),
        ("\\s", &answer.regex_space, pystr::is_space),
        ("\\w", &answer.word, pystr::is_word),
        ("str.isprintable", &answer.printable, pystr::is_printable),
    ];
    let mut differences = Vec::new();
    for c in (0..=0x10ffff_u32).filter_map(char::from_u32) {
        if answer.unassigned.contains(c) {
            continue;
        }
        for (class, ranges, ours) in &classes {
            if ranges.contains(c) != ours(c) {
                differences.push(format!(
                    "{class} U+{:04X}: CPython {}, ours {}",
                    c as u32,
                    ranges.contains(c),
                    ours(c)
                ));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "{} differences with CPython's Unicode {}:\n{}",
        differences.len(),
        answer.unicode_version,
        differences[..differences.len().min(40)].join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Pages and answers

/// A page to compare: its path (whose basename names it in messages) and its bytes.
#[derive(Debug, Clone)]
struct Case {
    path: String,
    bytes: Vec<u8>,
}

/// One example as both sides can state it. `raw_source` and `raw_want` are the text the example
/// covers as CPython's `_EXAMPLE_RE` saw it (tabs expanded, common indentation removed):
/// CPython's come from its match, ours from the page text our span points at. The line counts
/// are CPython's match's lines and our span's.
#[derive(Debug, Clone, PartialEq)]
struct View {
    line: usize,
    end_line: usize,
    source_lines: usize,
    want_lines: usize,
    indent: usize,
    source: String,
    want: String,
    exc_msg: Option<String>,
    options: BTreeMap<String, bool>,
    raw_source: String,
    raw_want: String,
}

/// What a parser made of a page.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Not UTF-8: CPython's `open()` raises, we report an encoding error.
    Undecodable,
    /// CPython's `ValueError` message; our first error's message.
    Raised(String),
    Examples(Vec<View>),
}

#[derive(Debug, Deserialize)]
struct OracleAnswer {
    #[serde(default)]
    undecodable: Option<String>,
    #[serde(default)]
    raised: Option<String>,
    #[serde(default)]
    examples: Vec<OracleExample>,
    #[serde(default)]
    min_indent: usize,
}

#[derive(Debug, Deserialize)]
struct OracleExample {
    line: usize,
    source: String,
    want: String,
    exc_msg: Option<String>,
    indent: usize,
    options: BTreeMap<String, bool>,
    raw_source: String,
    raw_want: String,
}

impl OracleAnswer {
    fn outcome(&self) -> Outcome {
        if self.undecodable.is_some() {
            return Outcome::Undecodable;
        }
        if let Some(message) = &self.raised {
            return Outcome::Raised(message.clone());
        }
        Outcome::Examples(self.examples.iter().map(OracleExample::view).collect())
    }
}

impl OracleExample {
    fn view(&self) -> View {
        let source_lines = self.raw_source.split('\n').count();
        let want_lines = self.raw_want.split_terminator('\n').count();
        View {
            line: self.line,
            end_line: self.line + source_lines + want_lines - 1,
            source_lines,
            want_lines,
            indent: self.indent,
            source: self.source.clone(),
            want: self.want.clone(),
            exc_msg: self.exc_msg.clone(),
            options: self.options.clone(),
            raw_source: self.raw_source.clone(),
            raw_want: self.raw_want.clone(),
        }
    }
}

/// Our answer for a page. `min_indent` is CPython's common indentation of the page, used to
/// show the text our spans cover the way CPython's regex saw it.
fn our_outcome(case: &Case, min_indent: usize, flags: &FlagRegistry) -> Outcome {
    let format = PageFormat::from_path(&case.path).unwrap_or(PageFormat::Text);
    let page = parse_page(&case.path, format, &case.bytes, flags);
    if let Some(first) = page.errors.first() {
        if first.kind == ParseErrorKind::Encoding {
            return Outcome::Undecodable;
        }
        return match check_error_position(&page, first, min_indent) {
            Ok(()) => Outcome::Raised(first.message.clone()),
            Err(problem) => Outcome::Raised(format!(
                "{}\n(but our error, at {}:{}, {problem})",
                first.message, first.line, first.column
            )),
        };
    }
    Outcome::Examples(
        page.examples
            .iter()
            .map(|example| our_view(&page, example, min_indent, flags))
            .collect(),
    )
}

fn our_view(page: &Page, example: &Example, min_indent: usize, flags: &FlagRegistry) -> View {
    let span = &example.span;
    let mut options = BTreeMap::new();
    for &(flag, on) in &example.options {
        let name = flags.name(flag).to_owned();
        assert!(
            options.insert(name.clone(), on).is_none(),
            "{}: flag {name} listed twice in {:?}",
            page.path,
            example.options
        );
    }
    View {
        line: span.line,
        end_line: span.end_line(),
        source_lines: span.source_lines,
        want_lines: span.want_lines,
        indent: example.indent,
        source: example.source.clone(),
        want: example.want.clone(),
        exc_msg: example.exc_msg.clone(),
        options,
        raw_source: as_cpython_sees(&page.text[span.source_bytes.clone()], min_indent),
        raw_want: as_cpython_sees(&page.text[span.want_bytes.clone()], min_indent),
    }
}

/// Checks that an error's line and column point at what its message complains of: the line
/// the message quotes, and there the character after the prompt, the invalid option or the
/// directive's `#`.
fn check_error_position(page: &Page, error: &ParseError, min_indent: usize) -> Result<(), String> {
    let text = page.text.replace("\r\n", "\n").replace('\r', "\n");
    let line = text
        .split('\n')
        .nth(error.line - 1)
        .ok_or("points past the page")?;
    let at: String = line.chars().skip(error.column - 1).collect();
    let first = at.chars().next();
    let quotes_line = || {
        let seen = as_cpython_sees(line, min_indent);
        if error
            .message
            .ends_with(&format!(": {}", pystr::repr(&seen)))
        {
            Ok(())
        } else {
            Err(format!("is on a line the message does not quote: {line:?}"))
        }
    };
    match error.kind {
        ParseErrorKind::LacksBlank => {
            quotes_line()?;
            match first {
                Some(c) if c != ' ' && c != '\t' => Ok(()),
                _ => Err(format!(
                    "points at {first:?}, not at what follows the prompt"
                )),
            }
        }
        ParseErrorKind::InconsistentWhitespace => quotes_line(),
        ParseErrorKind::InvalidOption => {
            let option: String = at
                .chars()
                .take_while(|&c| c != ',' && !pystr::is_space(c))
                .collect();
            if error
                .message
                .ends_with(&format!(": {}", pystr::repr(&option)))
            {
                Ok(())
            } else {
                Err(format!("points at {at:?}, not at the option"))
            }
        }
        ParseErrorKind::DirectiveWithoutExample if first != Some('#') => {
            Err(format!("points at {at:?}, not at the directive"))
        }
        _ => Ok(()),
    }
}

/// Page text as `DocTestParser.parse` sees it: universal newlines, tabs expanded, the common
/// indentation (`min_indent` characters) removed from every line.
fn as_cpython_sees(text: &str, min_indent: usize) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .map(|line| {
            pystr::expand_tabs(line)
                .chars()
                .skip(min_indent)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// CPython's answers for `cases`, from one oracle process.
fn ask_oracle(cases: &[Case]) -> Vec<OracleAnswer> {
    let pages: Vec<serde_json::Value> = cases
        .iter()
        .map(|case| {
            // One character per byte: JSON carries any bytes, the oracle decodes them itself.
            let latin1: String = case.bytes.iter().map(|&byte| char::from(byte)).collect();
            serde_json::json!({"path": case.path, "latin1": latin1})
        })
        .collect();
    let answer = common::run_oracle(ORACLE, &serde_json::json!({ "pages": pages }));
    let answers: Vec<OracleAnswer> =
        serde_json::from_value(answer).expect("oracle answers with a list of pages");
    assert_eq!(answers.len(), cases.len(), "one answer per page");
    answers
}

/// Both answers for each case, CPython's first.
fn answers(cases: &[Case], flags: &FlagRegistry) -> Vec<(Outcome, Outcome)> {
    ask_oracle(cases)
        .iter()
        .zip(cases)
        .map(|(answer, case)| {
            (
                answer.outcome(),
                our_outcome(case, answer.min_indent, flags),
            )
        })
        .collect()
}

/// Compares every case, prints the figures, and fails showing the smallest mismatches.
fn assert_identical(source: &str, cases: &[Case]) {
    let flags = FlagRegistry::new();
    let started = Instant::now();
    let answers = answers(cases, &flags);
    let elapsed = started.elapsed();
    let mut figures = Figures::default();
    let mut mismatches = Vec::new();
    for (case, (theirs, ours)) in cases.iter().zip(&answers) {
        figures.count(theirs);
        if theirs != ours {
            mismatches.push(case);
        }
    }
    let identical = cases.len() - mismatches.len();
    println!(
        "{source}: {} pages, {identical} identical ({:.2}%), compared in {elapsed:.2?}\n  {figures}",
        cases.len(),
        100.0 * identical as f64 / cases.len() as f64,
    );
    if mismatches.is_empty() {
        return;
    }
    for case in mismatches.iter().take(MISMATCHES_SHOWN) {
        eprintln!("{}", describe_mismatch(&shrink(case, &flags), &flags));
    }
    panic!(
        "{source}: {} of {} pages differ from CPython (the first {} shrunk above)",
        mismatches.len(),
        cases.len(),
        mismatches.len().min(MISMATCHES_SHOWN)
    );
}

/// What CPython found in a batch: how much of the parser the batch exercised.
#[derive(Default)]
struct Figures {
    examples: usize,
    multiline_sources: usize,
    wants: usize,
    exceptions: usize,
    with_options: usize,
    /// CPython's rejections, by the message's wording.
    rejected: BTreeMap<&'static str, usize>,
}

impl Figures {
    const REJECTIONS: [&'static str; 4] = [
        "lacks blank after",
        "has inconsistent leading whitespace",
        "has an invalid option",
        "has an option directive on a line with no example",
    ];

    fn count(&mut self, outcome: &Outcome) {
        let kind = match outcome {
            Outcome::Examples(found) => {
                for view in found {
                    self.examples += 1;
                    self.multiline_sources += usize::from(view.source_lines > 1);
                    self.wants += usize::from(view.want_lines > 0);
                    self.exceptions += usize::from(view.exc_msg.is_some());
                    self.with_options += usize::from(!view.options.is_empty());
                }
                return;
            }
            Outcome::Undecodable => "not UTF-8",
            Outcome::Raised(message) => Self::REJECTIONS
                .into_iter()
                .find(|wording| message.contains(wording))
                .unwrap_or("other"),
        };
        *self.rejected.entry(kind).or_default() += 1;
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} examples ({} with several source lines, {} with output, {} expecting an \
             exception, {} with options); pages CPython rejects: {:?}",
            self.examples,
            self.multiline_sources,
            self.wants,
            self.exceptions,
            self.with_options,
            self.rejected
        )
    }
}

fn describe_mismatch(case: &Case, flags: &FlagRegistry) -> String {
    let (theirs, ours) = answers(std::slice::from_ref(case), flags).remove(0);
    let page = match std::str::from_utf8(&case.bytes) {
        Ok(text) => format!("{text:?}"),
        Err(_) => format!("b\"{}\"", case.bytes.escape_ascii()),
    };
    format!(
        "{}: CPython and we differ on this page ({} bytes):\n{page}\n\
         CPython: {theirs:#?}\nours: {ours:#?}\n",
        case.path,
        case.bytes.len()
    )
}

// ---------------------------------------------------------------------------------------------
// Shrinking

/// The smallest page found, deleting lines then characters, on which CPython and we still
/// differ.
fn shrink(case: &Case, flags: &FlagRegistry) -> Case {
    let Ok(text) = std::str::from_utf8(&case.bytes) else {
        return case.clone();
    };
    let lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    let text = shrink_units(&case.path, lines, flags).concat();
    let chars: Vec<String> = text.chars().map(String::from).collect();
    let text = shrink_units(&case.path, chars, flags).concat();
    Case {
        path: case.path.clone(),
        bytes: text.into_bytes(),
    }
}

/// Deletes runs of `units` while the page they make still mismatches: runs of half the units
/// first, halving the run until single units cannot be deleted. One oracle process per round.
fn shrink_units(path: &str, mut units: Vec<String>, flags: &FlagRegistry) -> Vec<String> {
    let mut run = units.len().div_ceil(2).max(1);
    while !units.is_empty() {
        let candidates: Vec<Vec<String>> = (0..units.len())
            .step_by(run)
            .map(|start| {
                let mut smaller = units.clone();
                smaller.drain(start..(start + run).min(units.len()));
                smaller
            })
            .collect();
        let cases: Vec<Case> = candidates
            .iter()
            .map(|units| Case {
                path: path.to_owned(),
                bytes: units.concat().into_bytes(),
            })
            .collect();
        let still_differs = answers(&cases, flags)
            .iter()
            .position(|(theirs, ours)| theirs != ours);
        match still_differs {
            Some(index) => units = candidates[index].clone(),
            None if run == 1 => break,
            None => run /= 2,
        }
        run = run.min(units.len().max(1));
    }
    units
}

// ---------------------------------------------------------------------------------------------
// Page sources

/// The `.txt` and `.rst` files under `dir` (recursively, sorted) whose bytes pass `keep`,
/// named by their path relative to `root`. A missing `dir` has none.
fn pages_under(root: &Path, dir: &Path, keep: impl Fn(&[u8]) -> bool) -> Vec<Case> {
    let mut files = Vec::new();
    collect_files(dir, &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|path| {
            let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            matches!(extension, "txt" | "rst")
        })
        .filter_map(|path| {
            let bytes = std::fs::read(&path).expect("page is readable");
            keep(&bytes).then(|| Case {
                path: path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned(),
                bytes,
            })
        })
        .collect()
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

#[derive(Debug, Deserialize)]
struct Characters {
    unicode_version: String,
    unassigned: Ranges,
    isspace: Ranges,
    regex_space: Ranges,
    word: Ranges,
    printable: Ranges,
}

/// Sorted, disjoint `[first, last]` code point ranges.
#[derive(Debug, Deserialize)]
struct Ranges(Vec<(u32, u32)>);

impl Ranges {
    fn contains(&self, c: char) -> bool {
        let code = c as u32;
        let after = self.0.partition_point(|&(first, _)| first <= code);
        after > 0 && code <= self.0[after - 1].1
    }
}

// ---------------------------------------------------------------------------------------------
// The generator

/// Builds pages aimed at the parser's corners; every choice comes from one seeded RNG.
struct Generator {
    rng: ChaCha8Rng,
}

/// Indentation common to a page's lines.
const BASE_INDENTS: &[&str] = &["", "", "", "    ", "  ", "\t", " \t", "        ", "   "];

/// What may follow a page's indentation before a prompt.
const EXAMPLE_INDENTS: &[&str] = &["", "", "", "  ", "    ", "\t", " \t", "\t "];

/// Characters that are not spaces to `[ ]` but are whitespace to `\s`, or odd at line starts.
const ODD_SPACES: &[&str] = &[
    "\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x1f", "\u{85}", "\u{a0}", "\u{3000}", "\u{2003}",
    "\u{1680}", "\u{2028}", "\u{2029}", "\u{200b}", "\u{feff}",
];

/// Text that `repr` treats in every way it can (printable or escaped, quotes, backslashes,
/// astral, combining marks, word characters or not); nothing assigned after Unicode 14.
#[rustfmt::skip]
const UNICODE: &[&str] = &[
    "é", "e\u{301}", "\u{301}", "ß", "日本語", "😀", "𐍈", "𝒳", "٣", "½", "\u{200b}", "\u{ad}",
    "\u{85}", "\u{a0}", "\u{2028}", "\u{7f}", "\u{1b}", "\u{0}", "\u{e000}", "\u{feff}",
    "\u{10ffff}", "\u{e0001}", "\u{1f9d1}\u{200d}\u{1f4bb}", "'", "\"", "'\"", "\\", "\\n",
    "\x0b", "\x0c", "\x1c", "\u{3000}", "\u{2003}",
];

#[rustfmt::skip]
const CODE: &[&str] = &[
    "x = 1", "1 + 1", "print('hello')", "print(\"a\\tb\")", "f(x)", "def f(x):", "    return x",
    "pass", "", "# a comment", "  # an indented comment", "x  # a trailing comment",
    "\"# doctest: +SKIP\"", "'# doctest: +ELLIPSIS'", "s = '''", "...", ">>> 2", "... 3",
    "if x:", "    y = [1,", "         2]",
];

#[rustfmt::skip]
const WANT: &[&str] = &[
    "2", "'hello'", "...", "<BLANKLINE>", "[1, 2, 3]", "a   b", "  indented", "# doctest: +SKIP",
    "{'a': 1}", "Traceback", "ValueError: not after a header", "..", ">>", "...x",
];

/// The tokens of [`Generator::token_soup`].
#[rustfmt::skip]
const SOUP: &[&str] = &[
    ">>>", ">>> ", "...", "... ", " ", " ", "  ", "    ", "\t", "\n", "\n", "\n", "\n    ",
    "\r\n", "\r", "#", "# doctest:", "doctest:", "+ELLIPSIS", "-SKIP", "NODES_VARY", "+", ",",
    "'", "\"", "x", "1", "_", ":", "<BLANKLINE>", "Traceback (most recent call last):",
    "Traceback (innermost last):", "Error: x", "\x0c", "\x1c", "\u{3000}",
];

#[rustfmt::skip]
const FLAG_NAMES: &[&str] = &[
    "ELLIPSIS", "NORMALIZE_WHITESPACE", "SKIP", "IGNORE_EXCEPTION_DETAIL",
    "DONT_ACCEPT_TRUE_FOR_1", "DONT_ACCEPT_BLANKLINE", "REPORT_UDIFF", "REPORT_CDIFF",
    "REPORT_NDIFF", "REPORT_ONLY_FIRST_FAILURE", "FAIL_FAST", "NODES_VARY", "RANDOM_OUTPUT",
];

#[rustfmt::skip]
const TRACEBACK_HEADERS: &[&str] = &[
    "Traceback (most recent call last):",
    "Traceback (most recent call last):",
    "Traceback (most recent call last):",
    "Traceback (innermost last):",
    "Traceback (most recent call last):  ",
    "Traceback (most recent call last):\x0c",
    "Traceback (most recent call last): x",
    "traceback (most recent call last):",
    "Traceback (most recent call last)",
];

#[rustfmt::skip]
const TRACEBACK_STACK: &[&str] = &[
    "  File \"<stdin>\", line 1, in <module>", "  File \"/x/y.py\", line 12, in f",
    "    raise ValueError('x')", "  ...", "...", "\t...", "<frame>", "\x0cframe",
    " ValueError: indented, not a message",
];

/// Exception messages: after the header, the first line starting with a word character
/// (`\w`: letters and numbers of any script, `_`) starts the message.
#[rustfmt::skip]
const EXCEPTION_MESSAGES: &[&str] = &[
    "ValueError: x", "ValueError", "ValueError:", "KeyError: 'k'", "mod.sub.Error: message",
    "_Private: x", "éclair: x", "𝒳Error: astral letter", "٣Error: digit", "½: other number",
    "\u{301}Error: combining mark first", "...: dots first", "<class 'X'>", "'quoted': x",
    "9: digit", "Error: x\nsecond line", "Error: x\n  indented second line",
];

impl Generator {
    fn new(seed: u64) -> Self {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.choose(&mut self.rng).expect("non-empty choices")
    }

    fn case(&mut self, index: usize) -> Case {
        let extension = if self.chance(0.1) { "rst" } else { "txt" };
        let stem = if self.chance(0.02) {
            "odd name é"
        } else {
            "page"
        };
        Case {
            path: format!("generated/{stem}-{index:05}.{extension}"),
            bytes: self.page(),
        }
    }

    fn page(&mut self) -> Vec<u8> {
        if self.chance(0.02) {
            return self.degenerate_page();
        }
        if self.chance(0.3) {
            return self.token_soup();
        }
        let base = self.pick(BASE_INDENTS);
        let mut lines = Vec::new();
        for _ in 0..self.rng.random_range(1..7) {
            match self.rng.random_range(0..10) {
                0..=2 => self.prose(base, &mut lines),
                3 => lines.push(self.blank()),
                _ => self.example(base, &mut lines),
            }
            // Usually a blank line between blocks; without one, what follows an example is
            // its expected output.
            if self.chance(0.9) {
                lines.push(self.blank());
            }
        }
        self.assemble(&lines)
    }

    /// A short page of tokens in any order: combinations no structure would produce.
    fn token_soup(&mut self) -> Vec<u8> {
        let mut text = String::new();
        for _ in 0..self.rng.random_range(1..30) {
            let token = if self.chance(0.1) {
                self.unicode()
            } else {
                self.pick(SOUP)
            };
            text.push_str(token);
        }
        text.into_bytes()
    }

    fn degenerate_page(&mut self) -> Vec<u8> {
        let text = self.pick(&[
            "",
            "\n",
            "\r\n",
            "\r",
            "   ",
            "\t\n\t",
            ">>>",
            ">>> ",
            ">>>\n",
            "...",
            "\t>>> x",
            ">>> x\r",
            ">>> x\r\n1\r",
            "\u{feff}>>> x",
            ">>> # doctest: +SKIP",
            "Traceback (most recent call last):",
        ]);
        let mut bytes = Vec::new();
        if self.chance(0.3) {
            bytes.extend_from_slice(b"\xef\xbb\xbf");
        }
        bytes.extend_from_slice(text.as_bytes());
        if self.chance(0.3) {
            // Not UTF-8: a stray byte, a truncated sequence, an encoded surrogate.
            let invalid: &[u8] = [&b"\xff"[..], b"\x80", b"\xc3", b"\xed\xa0\x80"]
                .choose(&mut self.rng)
                .expect("non-empty choices");
            let at = self.rng.random_range(0..=bytes.len());
            bytes.splice(at..at, invalid.iter().copied());
        }
        bytes
    }

    /// Joins lines with line ends: mostly `\n`, some pages `\r\n` or `\r`, some mixed; maybe no
    /// final line end, maybe a BOM, trailing whitespace here and there.
    fn assemble(&mut self, lines: &[String]) -> Vec<u8> {
        let ends: &[&str] = match self.rng.random_range(0..20) {
            0..=13 => &["\n"],
            14..=15 => &["\r\n"],
            16 => &["\r"],
            _ => &["\n", "\r\n", "\r"],
        };
        let mut text = String::new();
        if self.chance(0.03) {
            text.push('\u{feff}');
        }
        for (index, line) in lines.iter().enumerate() {
            text.push_str(line);
            if self.chance(0.05) {
                text.push_str(self.pick(&[" ", "  ", "\t", " \t"]));
            }
            if index + 1 < lines.len() || self.chance(0.8) {
                text.push_str(self.pick(ends));
            }
        }
        text.into_bytes()
    }

    /// The page's indentation, now and then disturbed.
    fn indent(&mut self, base: &str) -> String {
        match self.rng.random_range(0..40) {
            0 => base.chars().skip(1).collect(),
            1 => format!("{base} "),
            2 => format!("\t{base}"),
            3 => format!("{}{base}", self.pick(ODD_SPACES)),
            4 => String::new(),
            5 => base.replacen("    ", "\t", 1),
            _ => base.to_owned(),
        }
    }

    fn blank(&mut self) -> String {
        if self.chance(0.85) {
            return self.pick(&["", "", "", " ", "    ", "\t"]).to_owned();
        }
        format!("{}{}", self.pick(&["", " ", "  "]), self.pick(ODD_SPACES))
    }

    fn unicode(&mut self) -> &'static str {
        self.pick(UNICODE)
    }

    /// Sprinkles odd characters into `text`, at a character boundary.
    fn sprinkle(&mut self, text: &str, p: f64) -> String {
        if !self.chance(p) {
            return text.to_owned();
        }
        let at = self.rng.random_range(0..=text.chars().count());
        let split = text.char_indices().nth(at).map_or(text.len(), |(i, _)| i);
        format!("{}{}{}", &text[..split], self.unicode(), &text[split..])
    }

    fn prose(&mut self, base: &str, lines: &mut Vec<String>) {
        for _ in 0..self.rng.random_range(1..4) {
            let words = self.pick(&[
                "Some prose about objgraph.",
                "A line with >>> in the middle.",
                "A line ending with ...",
                "Text # doctest: +ELLIPSIS",
                "Title",
                "=====",
                ".. code-block:: python",
                "::",
                "- a list item",
            ]);
            let indent = self.indent(base);
            let text = self.sprinkle(words, 0.1);
            lines.push(format!("{indent}{text}"));
        }
    }

    /// An option directive, usually well-formed.
    fn directive(&mut self) -> String {
        let mut text = String::from("#");
        text.push_str(self.pick(&["", " ", " ", " ", "  ", "\t", "\u{3000}", "\x0c"]));
        text.push_str(if self.chance(0.95) {
            "doctest:"
        } else {
            self.pick(&["doctest :", "Doctest:", "doctest"])
        });
        text.push_str(self.pick(&["", " ", " ", " ", "  ", "\u{a0}"]));
        let count = if self.chance(0.05) {
            0
        } else {
            self.rng.random_range(1..4)
        };
        for index in 0..count {
            if index > 0 {
                text.push_str(self.pick(&[", ", ", ", ",", " ", " ,", ",,", "\t"]));
            }
            text.push_str(if self.chance(0.98) {
                self.pick(&["+", "+", "+", "-"])
            } else {
                ""
            });
            text.push_str(if self.chance(0.985) {
                self.pick(FLAG_NAMES)
            } else {
                self.pick(&["NOPE", "ellipsis", "ELLIPSIS_", "+ELLIPSIS", "ELLIPSIS'"])
            });
        }
        if self.chance(0.1) {
            text.push_str(self.pick(&[" 'x'", "\"", " # again", ",", " ", " ë"]));
        }
        text
    }

    /// A line of code, maybe with a directive after it.
    fn code(&mut self) -> String {
        let mut code = self.pick(CODE).to_owned();
        code = self.sprinkle(&code, 0.08);
        if self.chance(0.03) {
            code = code.replacen(' ', "\t", 1);
        }
        if self.chance(0.15) {
            let directive = self.directive();
            if !code.is_empty() {
                code.push_str(self.pick(&[" ", "  ", ""]));
            }
            code.push_str(&directive);
        }
        code
    }

    /// A prompt (`>>>` or `...`) and its code, usually with the blank after the prompt.
    fn prompted(&mut self, prompt: &str, code: &str) -> String {
        match self.rng.random_range(0..100) {
            0 | 1 => prompt.to_owned(),
            2 => format!("{prompt} "),
            3 => format!("{prompt}{code}"),
            4 | 5 => format!("{prompt}\t{code}"),
            6 | 7 => format!("{prompt}  {code}"),
            _ => format!("{prompt} {code}"),
        }
    }

    fn example(&mut self, base: &str, lines: &mut Vec<String>) {
        let indent = format!("{base}{}", self.pick(EXAMPLE_INDENTS));
        let mut code = vec![self.code()];
        for _ in 0..self.rng.random_range(0..4).min(self.rng.random_range(0..4)) {
            code.push(self.code());
        }
        if self.chance(0.05) {
            // A directive spread over a line end: `#` or `# doctest:` ends one line, the rest
            // starts the next.
            let directive = self.directive();
            let cut = self.rng.random_range(1..=directive.chars().count());
            let split = directive
                .char_indices()
                .nth(cut)
                .map_or(directive.len(), |(i, _)| i);
            let last = code.last_mut().expect("one line of code at least");
            last.push(' ');
            last.push_str(&directive[..split]);
            code.push(directive[split..].to_owned());
        }
        let first = self.prompted(">>>", &code[0]);
        lines.push(format!("{}{first}", self.line_indent(&indent)));
        for line in &code[1..] {
            let continued = self.prompted("...", line);
            lines.push(format!("{}{continued}", self.line_indent(&indent)));
        }
        if self.chance(0.05) {
            // Ellipsis output right after the source reads as a continuation line.
            lines.push(format!("{indent}..."));
        }
        if self.chance(0.2) {
            self.traceback(&indent, lines);
            return;
        }
        let wants = self.rng.random_range(0..4).min(self.rng.random_range(0..4));
        for _ in 0..wants {
            let want = self.pick(WANT);
            let want = self.sprinkle(want, 0.1);
            lines.push(format!("{}{want}", self.line_indent(&indent)));
        }
    }

    /// The example's indentation, now and then disturbed (more, less, tabs, odd spaces).
    fn line_indent(&mut self, indent: &str) -> String {
        match self.rng.random_range(0..150) {
            0 => indent.chars().skip(1).collect(),
            1..=5 => format!("{indent}  "),
            6 | 7 => format!("{indent}\t"),
            8 => format!("{}{indent}", self.pick(ODD_SPACES)),
            9..=11 => indent.replacen("        ", "\t", 1),
            12..=14 => indent.replacen('\t', "        ", 1),
            15 => format!("{indent}{}", self.pick(ODD_SPACES)),
            _ => indent.to_owned(),
        }
    }

    fn traceback(&mut self, indent: &str, lines: &mut Vec<String>) {
        let mut want = Vec::new();
        if self.chance(0.05) {
            want.push("output first".to_owned());
        }
        want.push(self.pick(TRACEBACK_HEADERS).to_owned());
        for _ in 0..self.rng.random_range(0..4) {
            want.push(self.pick(TRACEBACK_STACK).to_owned());
        }
        let message = self.pick(EXCEPTION_MESSAGES);
        let message = self.sprinkle(message, 0.1);
        want.extend(message.split('\n').map(str::to_owned));
        for line in want {
            lines.push(format!("{}{line}", self.line_indent(indent)));
        }
    }
}
