//! Markdown pages: which fenced blocks hold examples, how their lines and bytes map back to the
//! page, MyST directives, unclosed fences and the page structure. Each fixture under
//! `tests/pages/markdown/` has a snapshot of everything read from it; the tests below pin the
//! properties that matter most one by one; the last tests run the built binary and the
//! language server on real Python.

#[path = "common/cli.rs"]
mod cli;
mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::time::Duration;

use objgraph_doctest::engine::page::{ParseErrorKind, ReferenceKind, Structure};
use objgraph_doctest::engine::{Flag, FlagRegistry, Page, PageFormat, markdown, parse_page};
use serde_json::{Value, json};

fn page(text: &str) -> Page {
    parse_page(
        "page.md",
        PageFormat::Markdown,
        text.as_bytes(),
        &FlagRegistry::new(),
    )
}

/// Everything read from a page, with each span shown as the page text it covers.
fn summary(page: &Page) -> Value {
    let registry = FlagRegistry::new();
    let text = &page.text;
    let examples: Vec<Value> = page
        .examples
        .iter()
        .map(|example| {
            let options: Vec<String> = example
                .options
                .iter()
                .map(|&(flag, on)| format!("{}{}", if on { '+' } else { '-' }, registry.name(flag)))
                .collect();
            json!({
                "line": example.span.line,
                "source": example.source,
                "want": example.want,
                "options": options,
                "written_source": &text[example.span.source_bytes.clone()],
                "written_want": &text[example.span.want_bytes.clone()],
            })
        })
        .collect();
    json!({
        "examples": examples,
        "errors": page.errors,
        "warnings": page.warnings,
        "structure": structure_summary(text, &page.structure),
    })
}

fn structure_summary(text: &str, structure: &Structure) -> Value {
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

/// One snapshot per fixture (`insta`'s `glob` feature is not enabled, so the loop is ours):
/// adding a case is adding a file.
#[test]
fn fixtures() {
    let mut paths: Vec<_> = std::fs::read_dir("tests/pages/markdown")
        .expect("fixture directory is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "md"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("fixture is readable");
        let name = path
            .file_stem()
            .expect("fixture has a name")
            .to_string_lossy();
        insta::assert_json_snapshot!(name.as_ref(), summary(&page(&text)));
    }
}

#[test]
fn only_python_and_prompted_bare_fences_run() {
    let text = std::fs::read_to_string("tests/pages/markdown/fences.md").unwrap();
    let page = page(&text);
    let sources: Vec<&str> = page
        .examples
        .iter()
        .map(|example| example.source.as_str())
        .collect();
    assert_eq!(
        sources,
        [
            "1 + 1\n",
            "print(\"```\")\n",
            "[1,\n 2]\n",
            "\"upper\"\n",
            "3\n",
            "10\n",
            "\"no info string\"\n",
            "\"tilde, no info string\"\n",
            "'last'\n"
        ]
    );
}

#[test]
fn spans_point_at_the_written_lines() {
    let text =
        "Intro\r\n\r\n```pycon\r\n>>> def f():\r\n...     return 1\r\n>>> f()\r\n1\r\n```\r\n";
    let page = page(text);
    assert_eq!(page.errors, vec![]);
    let [first, second] = &page.examples[..] else {
        panic!("two examples expected: {:?}", page.examples);
    };
    assert_eq!(first.span.line, 4);
    assert_eq!(
        &text[first.span.source_bytes.clone()],
        ">>> def f():\r\n...     return 1"
    );
    assert_eq!(second.span.line, 6);
    assert_eq!(&text[second.span.source_bytes.clone()], ">>> f()");
    assert_eq!(&text[second.span.want_bytes.clone()], "1\r\n");
    assert_eq!(second.want, "1\n", "the closing fence is not output");
}

#[test]
fn closing_fence_is_never_output() {
    for fence in ["```", "~~~", "`````"] {
        let text = format!("{fence}py\n>>> 1\n1\n{fence}\nafter\n");
        let page = page(&text);
        assert_eq!(page.examples[0].want, "1\n", "{fence}");
        assert_eq!(page.examples[0].span.want_lines, 1);
    }
    // Output running right up to an indented closing fence in a list item.
    let page = page("1. x\n\n   ```py\n   >>> 2\n   2\n   ```\n");
    assert_eq!(page.examples[0].want, "2\n");
}

#[test]
fn blockquote_prefixes_are_not_content_and_columns_count_them() {
    let text = "> ```pycon\n> >>> 'q'\n> 'q'\n> ```\n\n> ```pycon\n> >>>x\n> ```\n";
    let page = page(text);
    assert_eq!(page.examples.len(), 1);
    assert_eq!(page.examples[0].source, "'q'\n");
    assert_eq!(page.examples[0].want, "'q'\n");
    assert_eq!(page.examples[0].indent, 0);
    // Byte ranges cover the lines as written, prefixes included.
    assert_eq!(
        &text[page.examples[0].span.source_bytes.clone()],
        "> >>> 'q'"
    );
    assert_eq!(&text[page.examples[0].span.want_bytes.clone()], "> 'q'\n");
    let [error] = &page.errors[..] else {
        panic!("one error expected: {:?}", page.errors);
    };
    assert_eq!(error.kind, ParseErrorKind::LacksBlank);
    // `> >>>x`: the `x` is the sixth character of the line as written.
    assert_eq!((error.line, error.column), (7, 6));
}

#[test]
fn unclosed_fences_are_read_and_reported() {
    let text = std::fs::read_to_string("tests/pages/markdown/unclosed.md").unwrap();
    let page = page(&text);
    assert_eq!(
        page.examples.len(),
        3,
        "examples in unclosed fences still run"
    );
    let structure_errors: Vec<_> = page
        .errors
        .iter()
        .filter(|error| error.kind == ParseErrorKind::Structure)
        .collect();
    assert_eq!(structure_errors.len(), 2);
    assert_eq!(
        (structure_errors[0].line, structure_errors[0].column),
        (5, 3)
    );
    assert!(
        structure_errors[0]
            .message
            .contains("end of its list item or blockquote")
    );
    assert_eq!(
        (structure_errors[1].line, structure_errors[1].column),
        (11, 1)
    );
    assert!(structure_errors[1].message.contains("end of the page"));
    assert!(
        structure_errors[1]
            .message
            .contains("a line holding just ```,"),
        "{}",
        structure_errors[1].message
    );
}

#[test]
fn unclosed_fence_of_any_language_is_reported() {
    let page = page("```bash\necho hi\n");
    assert_eq!(page.examples, vec![]);
    assert_eq!(page.errors.len(), 1);
    assert_eq!(page.errors[0].kind, ParseErrorKind::Structure);
}

#[test]
fn myst_options_are_not_source_and_apply_their_flags() {
    let text = std::fs::read_to_string("tests/pages/markdown/myst.md").unwrap();
    let page = page(&text);
    let first = &page.examples[0];
    assert_eq!(first.source, "list(range(20))\n");
    assert_eq!(
        first.options,
        vec![(Flag::ELLIPSIS, true), (Flag::NORMALIZE_WHITESPACE, true)]
    );
    let second = &page.examples[1];
    assert_eq!(
        second.options,
        vec![(Flag::ELLIPSIS, false), (Flag::NORMALIZE_WHITESPACE, true)],
        "an example's own directive wins over the block's"
    );
    let yaml = &page.examples[2];
    assert_eq!(yaml.source, "raise SystemExit\n");
    assert_eq!(yaml.options, vec![(Flag::SKIP, true)]);
    let invalid: Vec<_> = page
        .errors
        .iter()
        .filter(|error| error.kind == ParseErrorKind::InvalidOption)
        .collect();
    assert_eq!(invalid.len(), 1);
    assert_eq!((invalid[0].line, invalid[0].column), (43, 11));
    assert!(
        invalid[0].message.contains("\"+ELIPSIS\""),
        "{}",
        invalid[0].message
    );
}

#[test]
fn myst_directives_are_references() {
    let text = std::fs::read_to_string("tests/pages/markdown/myst.md").unwrap();
    let structure = markdown::structure(&text);
    let references: Vec<(ReferenceKind, &str, &str)> = structure
        .references
        .iter()
        .map(|reference| {
            (
                reference.kind,
                reference.target.as_str(),
                &text[reference.bytes.clone()],
            )
        })
        .collect();
    assert_eq!(
        references,
        [
            (ReferenceKind::Include, "../README.md", "../README.md"),
            (ReferenceKind::Toctree, "intro", "intro"),
            (ReferenceKind::Toctree, "usage.md", "usage.md"),
            (
                ReferenceKind::Figure,
                "images/graph.png",
                "images/graph.png"
            ),
        ]
    );
    let include = &structure.references[0];
    assert_eq!(include.start_after.as_deref(), Some("<!-- start -->"));
    assert_eq!(include.end_before.as_deref(), Some("<!-- end -->"));
}

#[test]
fn headings_and_images() {
    let text = std::fs::read_to_string("tests/pages/markdown/structure.md").unwrap();
    let structure = markdown::structure(&text);
    let sections: Vec<(&str, usize, usize)> = structure
        .sections
        .iter()
        .map(|section| (section.title.as_str(), section.line, section.level))
        .collect();
    assert_eq!(
        sections,
        [
            ("First level one", 5, 1),
            ("Setext two", 7, 2),
            ("Third", 14, 3),
            ("Setext one", 21, 1),
        ]
    );
    let images: Vec<(&str, &str)> = structure
        .references
        .iter()
        .map(|reference| (reference.target.as_str(), &text[reference.bytes.clone()]))
        .collect();
    assert_eq!(
        images,
        [
            ("images/graph.png", "images/graph.png"),
            ("images/other.png", "![reference][ref]"),
            ("images/my graph.png", "images/my%20graph.png"),
            ("images/grâph.png", "images/gr%C3%A2ph.png"),
            ("images/100%%zz.png", "images/100%25%zz.png"),
            ("images/%FF.png", "images/%FF.png"),
        ]
    );
}

#[test]
fn hostile_fences_do_not_panic() {
    let registry = FlagRegistry::new();
    let pieces = [
        "```",
        "~~~",
        "> ",
        "- ",
        "1. ",
        "\t",
        "  ",
        "\r\n",
        "\n",
        "\r",
        ">>> ",
        "... ",
        "{doctest}",
        ":::",
        ":::{doctest}",
        "    ",
        "%",
        "![i](a%e",
        "python",
        ":options: +X",
        "---",
        "é",
        "{",
        "}",
    ];
    // Every sequence of three pieces, repeated: small, exhaustive and deterministic.
    for a in pieces {
        for b in pieces {
            for c in pieces {
                let text = format!("{a}{b}{c}\n{a}{c}{b}{a}\n{b}{b}{c}");
                let parsed = markdown::parse(&text, "x.md", &registry);
                for example in &parsed.examples {
                    assert!(text.get(example.span.source_bytes.clone()).is_some());
                    assert!(text.get(example.span.want_bytes.clone()).is_some());
                }
                markdown::structure(&text);
                for warning in markdown::untested_prompts(&text) {
                    assert!(warning.line >= 1 && warning.column >= 1);
                }
            }
        }
    }
}

#[test]
fn colon_fences_read_as_backtick_myst_fences() {
    let text = std::fs::read_to_string("tests/pages/markdown/colon.md").unwrap();
    let page = page(&text);
    type Read<'p> = (usize, &'p str, Vec<(Flag, bool)>);
    let read: Vec<Read<'_>> = page
        .examples
        .iter()
        .map(|example| {
            (
                example.span.line,
                example.source.as_str(),
                example.options.clone(),
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            (7, "list(range(20))\n", vec![(Flag::ELLIPSIS, true)]),
            (
                17,
                "print(1,   2)\n",
                vec![(Flag::NORMALIZE_WHITESPACE, true)]
            ),
            (25, "'nested'\n", vec![]),
            (35, "'in a list'\n", vec![]),
            (54, "'unclosed'\n", vec![]),
        ],
        "the one in a ```text block is not read"
    );
    let [unclosed] = &page.errors[..] else {
        panic!("one error expected: {:?}", page.errors);
    };
    assert_eq!((unclosed.line, unclosed.column), (53, 1));
    assert!(unclosed.message.contains("a line holding just :::,"));
    // Options lines are not headings, and a directive's argument is not a URL.
    assert_eq!(page.structure.sections.len(), 1, "{:?}", page.structure);
    assert_eq!(
        page.structure.references[0].target,
        "images/colon%20graph.png"
    );
    // The same block written with backticks reads the same.
    let backticks = text.replace(":::{doctest}\n:options:", "```{doctest}\n:options:");
    let backticks = backticks.replacen("19]\n:::", "19]\n```", 1);
    let first = &self::page(&backticks).examples[0];
    assert_eq!(first, &page.examples[0]);
}

#[test]
fn untested_prompts_are_warned_about_with_the_fix() {
    let text = std::fs::read_to_string("tests/pages/markdown/untested.md").unwrap();
    let page = page(&text);
    assert_eq!(page.examples.len(), 1, "only the ```pycon block runs");
    let warnings: Vec<(usize, usize, &str)> = page
        .warnings
        .iter()
        .map(|warning| (warning.line, warning.column, warning.message.as_str()))
        .collect();
    let lines: Vec<(usize, usize)> = warnings.iter().map(|&(l, c, _)| (l, c)).collect();
    // One per block or paragraph, at its first `>>>`; none for ```text, HTML comments or the
    // tested block.
    assert_eq!(lines, [(5, 1), (16, 1), (21, 7), (25, 3), (27, 1), (36, 1)]);
    let fixes = [
        "tag the fence ```pycon",
        "tag the fence ```pycon",
        "in a fence tagged ```pycon",
        "in a fence tagged ```pycon",
        "in a fence tagged ```pycon",
        "```{code-block} pycon or ```{doctest}",
    ];
    for ((_, _, message), fix) in warnings.iter().zip(fixes) {
        assert!(message.contains(fix), "{message:?} should say {fix:?}");
    }
    assert!(
        warnings[0]
            .2
            .starts_with("2 `>>>` lines in a ```console block")
    );
}

#[test]
fn rst_pages_have_no_markdown_warnings() {
    let page = parse_page(
        "page.rst",
        PageFormat::Rst,
        b"Text\n\n::\n\n    >>> 'literal'\n",
        &FlagRegistry::new(),
    );
    assert_eq!(page.warnings, vec![]);
}

/// A page whose bare fence passes and fails, and a `>>>` in a ```console block.
const RUN_PAGE: &str = "# Run

```
>>> 6 * 7
42
```

~~~
>>> 'tilde'
'wrong'
~~~

```console
>>> 'not run'
```
";

#[test]
fn cli_runs_bare_fences_and_reports_untested_lines() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("page.md"), RUN_PAGE).unwrap();
    let output = cli::objgraph_doctest(dir.path(), tmp.path())
        .args(["--format", "json", "page.md"])
        .output()
        .unwrap();
    let report = cli::json(&output);
    assert_eq!(output.status.code(), Some(1), "{}", cli::both(&output));
    let outcomes: Vec<(u64, &str)> = report["pages"][0]["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .map(|example| {
            (
                example["line"].as_u64().unwrap_or(0),
                example["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(outcomes, [(4, "passed"), (9, "failed")], "{report}");
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("page.md:14: `>>>` line in a ```console block"),
        "{warnings}"
    );

    // --collect-only shows the same warning, located, and it is not an error.
    let output = cli::objgraph_doctest(dir.path(), tmp.path())
        .args(["--collect-only", "page.md"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", cli::both(&output));
    let shown = cli::text(&output.stdout);
    assert!(
        shown.contains("page.md:14: warning: `>>>` line in a ```console block, which is not tested; tag the fence ```pycon to test it"),
        "{shown}"
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn editor_shows_untested_lines_as_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("page.md");
    std::fs::write(&path, RUN_PAGE).unwrap();
    let settings = serde_json::json!({
        "runOn": "change", "execute": true,
        "python": common::python_with_objgraph(), "debounceMs": 0,
    });
    let mut client = lsp_client::LspClient::start(dir.path(), settings);
    client.initialize(dir.path());
    let uri = format!("file://{}", path.display());
    client.open(&uri, "markdown", RUN_PAGE);
    let has = |found: &[Value], code: &str| found.iter().any(|d| d["code"] == code);
    let diagnostics = client
        .diagnostics_where(&uri, Duration::from_secs(60), |found| {
            has(found, "untested-example") && has(found, "failed")
        })
        .expect("diagnostics with the warning and the failure");
    let warning = diagnostics
        .iter()
        .find(|d| d["code"] == "untested-example")
        .expect("the warning");
    assert_eq!(warning["severity"], 2, "a warning, not an error");
    assert_eq!(
        warning["range"]["start"],
        json!({"line": 13, "character": 0})
    );
    assert!(
        warning["message"]
            .as_str()
            .is_some_and(|message| message.contains("tag the fence ```pycon")),
        "{warning}"
    );
    assert!(client.shutdown().success());
}

#[test]
fn a_fence_in_colon_fence_output_opens_nothing() {
    let text = ":::{doctest}\n>>> print('```')\n```\n:::\n\n# After\n\n```pycon\n>>> 'after'\n'after'\n```\n";
    let page = page(text);
    assert_eq!(page.errors, vec![], "no unclosed fence");
    let sources: Vec<&str> = page.examples.iter().map(|e| e.source.as_str()).collect();
    assert_eq!(sources, ["print('```')\n", "'after'\n"]);
    assert_eq!(page.examples[0].want, "```\n");
    assert_eq!(page.structure.sections[0].title, "After");
    assert_eq!(page.warnings, vec![]);
}
