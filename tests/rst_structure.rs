//! reST structure: section titles and their levels, include/figure/image targets and toctree
//! entries, read without running anything. Each fixture under `tests/pages/rst/` has a
//! snapshot; the tests below pin the rules one by one.

use objgraph_doctest::engine::page::{ReferenceKind, Structure};
use objgraph_doctest::engine::rst;
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("tests/pages/rst/{name}")).expect("fixture is readable")
}

/// The structure, with each reference's byte range shown as the page text it covers.
fn summary(text: &str, structure: &Structure) -> Value {
    let references: Vec<Value> = structure
        .references
        .iter()
        .map(|reference| {
            let mut value = serde_json::to_value(reference).expect("references serialise");
            value["written"] = json!(&text[reference.bytes.clone()]);
            value
        })
        .collect();
    json!({ "sections": structure.sections, "references": references })
}

/// One snapshot per fixture: adding a case is adding a file.
#[test]
fn fixtures() {
    let mut paths: Vec<_> = std::fs::read_dir("tests/pages/rst")
        .expect("fixture directory is readable")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("fixture is readable");
        let name = path
            .file_name()
            .expect("fixture has a name")
            .to_string_lossy();
        insta::assert_json_snapshot!(name.as_ref(), summary(&text, &rst::structure(&text)));
    }
}

fn sections(text: &str) -> Vec<(String, usize, usize)> {
    rst::structure(text)
        .sections
        .into_iter()
        .map(|section| (section.title, section.line, section.level))
        .collect()
}

fn owned(expected: &[(&str, usize, usize)]) -> Vec<(String, usize, usize)> {
    expected
        .iter()
        .map(|&(title, line, level)| (title.to_owned(), line, level))
        .collect()
}

#[test]
fn title_levels_follow_first_appearance_of_each_style() {
    assert_eq!(
        sections(&fixture("titles.rst")),
        owned(&[
            ("Overlined one", 2, 1),
            ("Underlined two", 5, 2),
            ("Underlined three", 10, 3),
            ("Short but long enough", 13, 2),
            ("Back to two", 38, 2),
            ("Mismatched", 41, 2),
            ("Overlined star", 52, 4),
            ("Underlined star", 55, 5),
        ])
    );
}

#[test]
fn doctest_output_and_literal_blocks_are_not_titles() {
    let text = "Title\n=====\n\n    >>> print('x')\n    x\n    =\n\n>>> 1\n1\n=\n\nSee::\n\n  Code\n  ----\n";
    assert_eq!(sections(text), owned(&[("Title", 1, 1)]));
}

#[test]
fn short_underlines_as_docutils_reads_them() {
    // Shorter than the title but four or more characters: a title (docutils warns).
    assert_eq!(
        sections("Long title\n----\n"),
        owned(&[("Long title", 1, 1)])
    );
    // Shorter and under four characters: a paragraph.
    assert_eq!(sections("Long title\n---\n"), owned(&[]));
    // As long as a short title: a title.
    assert_eq!(sections("Ab\n==\n"), owned(&[("Ab", 1, 1)]));
}

#[test]
fn a_title_must_start_a_block() {
    // The second line of a paragraph is not a title even when underlined.
    assert_eq!(sections("one\ntwo\n===\n"), owned(&[]));
    // Underlined titles may follow one another without blank lines.
    assert_eq!(
        sections("One\n===\nTwo\n---\n"),
        owned(&[("One", 1, 1), ("Two", 3, 2)])
    );
}

#[test]
fn include_options_and_byte_ranges() {
    let text = fixture("index.txt");
    let structure = rst::structure(&text);
    let include = &structure.references[0];
    assert_eq!(include.kind, ReferenceKind::Include);
    assert_eq!(include.target, "../README.rst");
    assert_eq!(&text[include.bytes.clone()], "../README.rst");
    assert_eq!(include.line, 1);
    assert_eq!(include.start_after, None);
    assert_eq!(include.end_before.as_deref(), Some(".. _history:"));

    let text = fixture("directives.rst");
    let structure = rst::structure(&text);
    let include = &structure.references[0];
    assert_eq!(include.start_after.as_deref(), Some(".. start-here"));
    assert_eq!(include.end_before.as_deref(), Some(".. _history:"));
    for reference in &structure.references {
        assert_eq!(&text[reference.bytes.clone()], reference.target);
        let line_of_bytes = text[..reference.bytes.start].matches('\n').count() + 1;
        assert_eq!(reference.line, line_of_bytes, "{reference:?}");
    }
}

#[test]
fn objgraph_index_shape() {
    let structure = rst::structure(&fixture("index.txt"));
    let references: Vec<(ReferenceKind, &str)> = structure
        .references
        .iter()
        .map(|reference| (reference.kind, reference.target.as_str()))
        .collect();
    assert_eq!(
        references,
        [
            (ReferenceKind::Include, "../README.rst"),
            (ReferenceKind::Figure, "sample-graph.png"),
            (ReferenceKind::Figure, "sample-backref-graph.png"),
            (ReferenceKind::Toctree, "objgraph"),
            (ReferenceKind::Toctree, "references"),
            (ReferenceKind::Toctree, "extra-info"),
            (ReferenceKind::Toctree, "highlighting"),
        ]
    );
    let titles: Vec<&str> = structure
        .sections
        .iter()
        .map(|section| section.title.as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "Quick start",
            "Backreferences",
            "API Documentation",
            "More examples, that also double as tests"
        ]
    );
}

#[test]
fn toctree_entries() {
    let structure = rst::structure(&fixture("directives.rst"));
    let entries: Vec<&str> = structure
        .references
        .iter()
        .filter(|reference| reference.kind == ReferenceKind::Toctree)
        .map(|reference| reference.target.as_str())
        .collect();
    assert_eq!(
        entries,
        [
            "intro",
            "usage",
            "api/reference.rst",
            "/absolute/page",
            "https://example.com/docs",
            "chapters/one",
            "no-blank-line-after-options",
            "api/*",
        ]
    );
}

#[test]
fn directives_in_literal_contexts_are_not_read() {
    let structure = rst::structure(&fixture("directives.rst"));
    let targets: Vec<&str> = structure
        .references
        .iter()
        .filter(|reference| reference.kind != ReferenceKind::Toctree)
        .map(|reference| reference.target.as_str())
        .collect();
    assert_eq!(
        targets,
        [
            "../README.rst",
            "<isonum.txt>",
            "https://example.com/badge.svg",
            "images/logo.png",
            "images/in-note.png",
            "Case-Insensitive.rst",
        ]
    );
}

#[test]
fn toctree_entry_forms() {
    let entry = |line: &str| rst::toctree_entry(line).map(|range| line[range].to_owned());
    assert_eq!(entry("   intro  "), Some("intro".to_owned()));
    assert_eq!(entry("   Title <a/b>"), Some("a/b".to_owned()));
    assert_eq!(
        entry("   <just-brackets>"),
        Some("<just-brackets>".to_owned())
    );
    assert_eq!(entry("   Empty < >"), Some("Empty < >".to_owned()));
    assert_eq!(entry("   self"), None);
    assert_eq!(entry("   Home <self>"), None);
    assert_eq!(entry("    "), None);
}

#[test]
fn hostile_text_does_not_panic() {
    let pieces = [
        ".. ",
        "include::",
        " x",
        "\n",
        "\r\n",
        "\r",
        "   ",
        "\t",
        "====",
        "----",
        ">>> ",
        "::",
        "|s|",
        " image:: ",
        ":opt: v",
        "é",
        "<",
        ">",
        "toctree::",
    ];
    for a in pieces {
        for b in pieces {
            for c in pieces {
                let text = format!("{a}{b}{c}\n{c}{a}\n{b}{c}{a}{b}");
                for reference in rst::structure(&text).references {
                    assert!(text.get(reference.bytes).is_some());
                }
            }
        }
    }
}
