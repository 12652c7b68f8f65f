//! The language server, driven over stdio by a real client: diagnostics at the right place,
//! hovers with the actual output and the image an example drew, the quick fix, live re-runs,
//! robustness, and no process left behind.

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::time::Duration;

use lsp_client::{LspClient, processes_tagged, wait_with_timeout};
use serde_json::{Value, json};

const PAGE: &str = "A page with one failing example.

    >>> import objgraph
    >>> x = []
    >>> objgraph.show_refs([x], filename='refs.png')  # doctest: +ELLIPSIS
    Graph written to ....dot (1 nodes)
    Image generated as refs.png
    >>> 6 * 7
    41
    >>> print('ok')
    ok
";

fn settings() -> Value {
    json!({"runOn": "change", "execute": true, "python": common::python_with_objgraph(), "debounceMs": 0})
}

fn session(page: &str) -> (tempfile::TempDir, LspClient, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("page.txt");
    std::fs::write(&path, page).expect("page");
    let mut client = LspClient::start(dir.path(), settings());
    let response = client.initialize(dir.path());
    assert_eq!(response["result"]["serverInfo"]["name"], "objgraph-doctest");
    let uri = format!("file://{}", path.display());
    client.open(&uri, "plaintext", page);
    (dir, client, uri)
}

fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_owned())
        .collect()
}

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn failing_example_hover_quick_fix_and_clean_exit() {
    let (_dir, mut client, uri) = session(PAGE);
    let diagnostics = client
        .diagnostics_where(&uri, WAIT, |found| !found.is_empty())
        .expect("diagnostics");
    assert_eq!(codes(&diagnostics), ["failed"], "{diagnostics:?}");
    let failure = &diagnostics[0];
    assert_eq!(
        failure["range"]["start"],
        json!({"line": 8, "character": 4})
    );
    assert_eq!(failure["message"], "line 1: expected '41', got '42'");

    // Hover on the graph example: its output and the image it drew, as a path that exists.
    let text = client.hover_text(&uri, 4, 10);
    assert!(text.contains("**passed**"), "{text}");
    assert!(text.contains("Image generated as refs.png"), "{text}");
    let image = text
        .lines()
        .find_map(|line| line.strip_prefix("`refs.png` → "))
        .expect("artifact path in the hover");
    assert!(
        std::path::Path::new(image.split(" (").next().unwrap_or(image)).exists(),
        "{image}"
    );
    assert!(text.contains("![refs.png](file://"), "{text}");

    // Hover on the failing example shows the diff.
    let text = client.hover_text(&uri, 7, 6);
    assert!(
        text.contains("**failed**") && text.contains("-41\n+42"),
        "{text}"
    );

    // The quick fix replaces the expected output; applying it clears the diagnostic.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": failure["range"],
            "context": {"diagnostics": [failure]},
        }),
    );
    let accept = actions["result"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|action| action["title"] == "Accept actual output")
        .expect("accept action")
        .clone();
    let edit = &accept["edit"]["changes"][&uri][0];
    assert_eq!(edit["newText"], "    42\n");
    let new_text = edit["newText"].as_str().unwrap_or("").to_owned();
    client.change(&uri, 2, Some(edit["range"].clone()), &new_text);
    let cleared = client.diagnostics_where(&uri, WAIT, |found| found.is_empty());
    assert!(cleared.is_some(), "the diagnostic did not go away");

    let tag = client.tag.clone();
    assert!(
        !client.python_processes().is_empty(),
        "the interpreter should be running now"
    );
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let status = client.shutdown();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        processes_tagged(&tag),
        Vec::<u32>::new(),
        "processes left behind"
    );
}

#[test]
fn editing_expected_output_rejudges_without_running() {
    let (_dir, mut client, uri) = session(PAGE);
    client
        .diagnostics_where(&uri, WAIT, |found| codes(found) == ["failed"])
        .expect("first run");
    // Change "41" to "42" in place: the cached output is judged again, nothing runs.
    client.change(
        &uri,
        2,
        Some(json!({"start": {"line": 8, "character": 4}, "end": {"line": 8, "character": 6}})),
        "42",
    );
    let started = std::time::Instant::now();
    client
        .diagnostics_where(&uri, WAIT, |found| found.is_empty())
        .expect("re-judged");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Breaking the source of the last example re-runs from a checkpoint and reports it.
    client.change(
        &uri,
        3,
        Some(json!({"start": {"line": 9, "character": 8}, "end": {"line": 9, "character": 19}})),
        "print('no')",
    );
    let found = client
        .diagnostics_where(&uri, WAIT, |found| codes(found) == ["failed"])
        .expect("re-run");
    assert_eq!(found[0]["range"]["start"]["line"], 10);
    client.shutdown();
}

#[test]
fn parse_errors_without_execution_in_untrusted_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut client = LspClient::start(dir.path(), json!({"execute": false}));
    client.initialize(dir.path());
    let uri = format!("file://{}/bad.txt", dir.path().display());
    client.open(
        &uri,
        "plaintext",
        "ok\n    >>>x = 1\n    >>> open('/tmp/should-not-exist', 'w')\n",
    );
    let found = client
        .diagnostics_where(&uri, WAIT, |found| !found.is_empty())
        .expect("parse diagnostics");
    assert_eq!(codes(&found), ["lacks-blank"]);
    assert_eq!(
        found[0]["range"]["start"],
        json!({"line": 1, "character": 7})
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        client.python_processes(),
        Vec::<u32>::new(),
        "nothing may run when execute is false"
    );
    client.shutdown();
}

#[test]
fn malformed_input_and_unknown_methods_do_not_kill_the_server() {
    let (_dir, mut client, uri) = session(">>> 1 + 1\n2\n");
    let unknown = client.request("textDocument/definitelyNotAMethod", json!({}));
    assert!(unknown.get("error").is_some(), "{unknown}");
    client.send_raw(b"Content-Length: 10\r\n\r\n{not json}");
    let far = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 9999, "character": 9999}}),
    );
    assert!(far.get("result").is_some(), "{far}");
    // A thousand edits in a burst, faster than any typist.
    for version in 2..1002 {
        let text = format!(">>> 1 + {version}\n{}\n", version + 1);
        client.change(&uri, version, None, &text);
    }
    let settled = client.diagnostics_where(&uri, WAIT, |found| found.is_empty());
    assert!(settled.is_some());
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(symbols["result"][0]["name"], ">>> 1 + 1001");
    client.shutdown();
}

#[test]
fn the_client_going_away_ends_everything() {
    let (_dir, mut client, uri) = session(PAGE);
    client
        .diagnostics_where(&uri, WAIT, |found| !found.is_empty())
        .expect("ran");
    let tag = client.tag.clone();
    drop(client.stdin_closer());
    let status = wait_with_timeout(&mut client.child, Duration::from_secs(10));
    assert!(
        status.is_some(),
        "the server did not exit when its input closed"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        processes_tagged(&tag),
        Vec::<u32>::new(),
        "processes left behind"
    );
}

#[test]
fn outline_lenses_and_figure_hover_on_a_rest_page() {
    let page = "Title\n=====\n\nSection\n-------\n\n    >>> 1 + 1\n    2\n\n.. figure:: picture.png\n   :alt: a picture\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("page.rst");
    std::fs::write(&path, page).expect("page");
    std::fs::write(dir.path().join("picture.png"), b"\x89PNG").expect("picture");
    let mut client = LspClient::start(dir.path(), settings());
    client.initialize(dir.path());
    let uri = format!("file://{}", path.display());
    client.open(&uri, "restructuredtext", page);
    client
        .diagnostics_where(&uri, WAIT, |found| found.is_empty())
        .expect("ran");
    // Wait until the run's results are in (the lens summary counts them).
    let deadline = std::time::Instant::now() + WAIT;
    let lenses = loop {
        let lenses = client.request(
            "textDocument/codeLens",
            json!({"textDocument": {"uri": uri}}),
        );
        if lenses["result"][0]["command"]["title"] == "1 passed, 0 failed"
            || std::time::Instant::now() > deadline
        {
            break lenses;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        lenses["result"][0]["command"]["title"], "1 passed, 0 failed",
        "{lenses}"
    );
    assert_eq!(lenses["result"][1]["command"]["title"], "Run page");
    assert_eq!(lenses["result"][2]["command"]["title"], "Run from here");

    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let title = &symbols["result"][0];
    assert_eq!(title["name"], "Title", "{symbols}");
    assert_eq!(title["children"][0]["name"], "Section");
    assert_eq!(title["children"][0]["children"][0]["name"], ">>> 1 + 1");

    let text = client.hover_text(&uri, 9, 14);
    assert!(
        text.contains("**figure** →") && text.contains("picture.png"),
        "{text}"
    );
    assert!(text.contains("![picture.png](file://"), "{text}");
    let links = client.request(
        "textDocument/documentLink",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(
        links["result"][0]["target"]
            .as_str()
            .unwrap_or("")
            .ends_with("/picture.png"),
        "{links}"
    );
    client.shutdown();
}

#[test]
fn a_ten_megabyte_document_is_absorbed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut client = LspClient::start(dir.path(), json!({"execute": false}));
    client.initialize(dir.path());
    let uri = format!("file://{}/big.txt", dir.path().display());
    let unit =
        "Some prose about the example below, long enough to matter.\n\n    >>> 1 + 1\n    2\n\n";
    let big = unit.repeat(10 * 1024 * 1024 / unit.len() + 1);
    client.open(&uri, "plaintext", &big);
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(
        symbols["result"]
            .as_array()
            .is_some_and(|found| found.len() > 100_000),
        "no outline"
    );
    for version in 2..22 {
        client.change(
            &uri,
            version,
            Some(json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 4}})),
            "Some",
        );
    }
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 2, "character": 8}}),
    );
    assert!(hover.get("result").is_some(), "{hover}");
    assert!(client.shutdown().success());
}
