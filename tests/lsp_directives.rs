//! `# doctest:` directives in the editor, driven over stdio by a real client: the hover on
//! any option (whatever character it starts with) is an answer, never an error; and the
//! "Skip" quick fix adds to a directive only where CPython sees one, so that the edited page
//! parses, with CPython's own parser, into the same code with the intended options.

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use lsp_client::LspClient;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

/// A session on `page` (as `page.txt`), initialized and opened.
fn session(page: &str, settings: Value) -> (tempfile::TempDir, LspClient, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("page.txt");
    std::fs::write(&path, page).expect("page");
    let mut client = LspClient::start(dir.path(), settings);
    client.initialize(dir.path());
    let uri = format!("file://{}", path.display());
    client.open(&uri, "plaintext", page);
    (dir, client, uri)
}

#[test]
fn a_hover_on_any_directive_option_is_an_answer() {
    // Options starting with a character of several bytes (or one that is whitespace to
    // Python, or invisible), after a sign or not.
    let firsts = [
        "\u{c9}",
        "\u{1f600}",
        "\u{85}",
        "\u{2028}",
        "\u{200b}",
        "\u{feff}",
    ];
    let mut page = String::new();
    for first in firsts {
        page.push_str(&format!(">>> 1  # doctest: {first}LLIPSIS\n1\n"));
        page.push_str(&format!(
            ">>> 1  # doctest: +{first}, -{first}X,{first}\n1\n"
        ));
    }
    let (_dir, mut client, uri) = session(&page, json!({"execute": false}));
    for (line, text) in page.split('\n').enumerate() {
        let width: usize = text.chars().map(char::len_utf16).sum();
        for character in 0..=width + 1 {
            let hover = client.request(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri},
                       "position": {"line": line, "character": character}}),
            );
            assert!(
                hover.get("error").is_none() && hover.get("result").is_some(),
                "line {line} {text:?}, character {character}: {hover}"
            );
        }
    }
    // On the directive, each option is explained as an unknown flag.
    let text = client.hover_text(&uri, 0, 12);
    assert!(text.contains("`\u{c9}LLIPSIS`: not a known flag"), "{text}");
    let stderr = client.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(client.shutdown().success());
}

/// Each first line of a failing example, and the same line after "Skip this example".
const SKIPPED: [(&str, &str); 5] = [
    // `doctest:` in a string is code.
    (
        ">>> print('doctest: x')",
        ">>> print('doctest: x')  # doctest: +SKIP",
    ),
    (
        ">>> x = 1  # doctest: +ELLIPSIS",
        ">>> x = 1  # doctest: +ELLIPSIS, +SKIP",
    ),
    (
        ">>> s = \"# doctest: +SKIP\"",
        ">>> s = \"# doctest: +SKIP\"  # doctest: +SKIP",
    ),
    // The string's `#` is not the directive's; an empty directive gets its first option.
    (
        ">>> print('#')  #doctest:",
        ">>> print('#')  #doctest: +SKIP",
    ),
    // A quote after `doctest:`: CPython sees no directive there.
    (
        ">>> y = 2  # doctest: +ELLIPSIS it's",
        ">>> y = 2  # doctest: +ELLIPSIS it's  # doctest: +SKIP",
    ),
];

/// The page: each line of [`SKIPPED`] with an expected output it does not print.
fn failing_page(lines: impl Iterator<Item = &'static str>) -> String {
    lines.map(|line| format!("{line}\nnot this\n")).collect()
}

/// Applies LSP edits (on ASCII text: characters are bytes).
fn apply(text: &str, edits: &[Value]) -> String {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(at, _)| at + 1))
        .collect();
    let offset = |position: &Value| {
        let line = position["line"].as_u64().expect("line") as usize;
        starts[line] + position["character"].as_u64().expect("character") as usize
    };
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|edit| {
            (
                offset(&edit["range"]["start"]),
                offset(&edit["range"]["end"]),
                edit["newText"].as_str().expect("newText"),
            )
        })
        .collect();
    edits.sort();
    let mut edited = text.to_owned();
    for (start, end, new_text) in edits.into_iter().rev() {
        edited.replace_range(start..end, new_text);
    }
    edited
}

/// What CPython's doctest parser reads in `text`: each example's code and options.
fn cpython_examples(text: &str) -> Value {
    // The code as its syntax tree (comments, directives among them, are not code).
    let script = "import ast, doctest, json, sys\n\
                  text = sys.stdin.read()\n\
                  names = {v: k for k, v in doctest.OPTIONFLAGS_BY_NAME.items()}\n\
                  print(json.dumps([{'code': ast.dump(ast.parse(e.source)), 'options': \
                  {names[f]: on for f, on in e.options.items()}} \
                  for e in doctest.DocTestParser().get_examples(text)]))\n";
    let mut child = Command::new(common::python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("CPython starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("page written");
    let output = child.wait_with_output().expect("CPython runs");
    assert!(output.status.success(), "CPython could not parse {text:?}");
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn skip_adds_to_a_directive_only_where_cpython_sees_one() {
    let page = failing_page(SKIPPED.iter().map(|(before, _)| *before));
    let settings = json!({"runOn": "change", "execute": true,
                          "python": common::python_with_objgraph(), "debounceMs": 0});
    let (_dir, mut client, uri) = session(&page, settings);
    let failures = client
        .diagnostics_where(&uri, WAIT, |found| found.len() == SKIPPED.len())
        .expect("every example fails");
    assert!(
        failures.iter().all(|found| found["code"] == "failed"),
        "{failures:?}"
    );
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri},
               "range": {"start": {"line": 0, "character": 0}, "end": {"line": 999, "character": 0}},
               "context": {"diagnostics": []}}),
    );
    let edits: Vec<Value> = actions["result"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|action| action["title"] == "Skip this example (+SKIP)")
        .map(|action| action["edit"]["changes"][&uri][0].clone())
        .collect();
    assert_eq!(edits.len(), SKIPPED.len(), "{actions}");
    let edited = apply(&page, &edits);
    assert_eq!(
        edited,
        failing_page(SKIPPED.iter().map(|(_, after)| *after))
    );

    // CPython reads the same code, now skipped (the options it had are kept).
    let before = cpython_examples(&page);
    let after = cpython_examples(&edited);
    for (index, (old, new)) in before
        .as_array()
        .expect("examples")
        .iter()
        .zip(after.as_array().expect("examples"))
        .enumerate()
    {
        assert_eq!(new["code"], old["code"], "example {index}");
        let mut wanted = old["options"].clone();
        wanted["SKIP"] = json!(true);
        assert_eq!(new["options"], wanted, "example {index}");
    }
    assert_eq!(after.as_array().map(Vec::len), Some(SKIPPED.len()));

    // And so does the server: nothing fails any more.
    client.change(&uri, 2, None, &edited);
    let cleared = client.diagnostics_where(&uri, WAIT, |found| found.is_empty());
    assert!(cleared.is_some(), "the skipped examples still fail");
    assert!(client.shutdown().success());
}
