//! The language server, driven over stdio by a real client: diagnostics at the right place,
//! hovers with the actual output and the image an example drew, the quick fix, live re-runs,
//! robustness, and no process left behind.

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::time::Duration;

use lsp_client::{ClientOptions, LspClient, processes_tagged, wait_with_timeout};
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

/// A session with extra options (test hooks, held configuration) on `page`.
fn session_with(
    page: &str,
    settings: Value,
    options: ClientOptions,
) -> (tempfile::TempDir, LspClient, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("page.txt");
    std::fs::write(&path, page).expect("page");
    let mut client = LspClient::start_with(dir.path(), settings, options);
    client.initialize(dir.path());
    let uri = format!("file://{}", path.display());
    client.open(&uri, "plaintext", page);
    (dir, client, uri)
}

fn hook(places: &str) -> ClientOptions {
    ClientOptions {
        env: vec![("OBJGRAPH_DOCTEST_TEST_PANIC".to_owned(), places.to_owned())],
        ..ClientOptions::default()
    }
}

fn messages(diagnostics: &[Value]) -> String {
    diagnostics
        .iter()
        .map(|d| d["message"].as_str().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A page whose example leaves a file `ran` in `dir` (examples run in a fresh folder).
fn marker_page(dir: &std::path::Path) -> String {
    format!(
        ">>> open({:?}, 'w').close()\n",
        dir.join("ran").display().to_string()
    )
}

fn whole_page() -> Value {
    json!({"start": {"line": 0, "character": 0}, "end": {"line": 999, "character": 0}})
}

#[test]
fn a_code_action_right_after_an_edit_answers_for_the_new_text() {
    let (_dir, mut client, uri) = session(PAGE);
    client
        .diagnostics_where(&uri, WAIT, |found| codes(found) == ["failed"])
        .expect("first run");
    // A slow example keeps the document's actor busy in a run...
    let slow = format!("{PAGE}    >>> import time; time.sleep(30)\n");
    client.change(&uri, 2, None, &slow);
    let _ = client.wait_for(Duration::from_millis(700), |_| false);
    // ...while the page shrinks to one example and requests come before any run of the new
    // text (they used to index the old results with the new examples: a panic, exit 101).
    client.change(&uri, 3, None, ">>> print('fresh')\nfresh\n");
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": whole_page(), "context": {"diagnostics": []}}),
    );
    assert!(actions["result"].is_array(), "{actions}");
    let text = client.hover_text(&uri, 0, 5);
    assert!(!text.contains("41") && !text.contains("failed"), "{text}");
    assert!(
        text.contains("not run yet") || text.contains("**passed**"),
        "{text}"
    );
    let lenses = client.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(
        lenses["result"][2]["command"]["arguments"][1], 0,
        "{lenses}"
    );
    assert!(lenses["result"][3].is_null(), "{lenses}");
    let deadline = std::time::Instant::now() + WAIT;
    while !client.hover_text(&uri, 0, 5).contains("**passed**") {
        assert!(
            std::time::Instant::now() < deadline,
            "the new text never ran"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(client.shutdown().success());
}

#[test]
fn malformed_json_rpc_gets_errors_and_the_server_keeps_answering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut client = LspClient::start(dir.path(), json!({"execute": false}));
    client.initialize(dir.path());
    let uri = format!("file://{}/page.txt", dir.path().display());
    client.open(&uri, "plaintext", ">>> 1 + 1\n2\n");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    // (body, the error code answered, the id it is answered with)
    let requests = [
        ("{}".to_owned(), -32600, Value::Null),
        ("null".to_owned(), -32600, Value::Null),
        ("[]".to_owned(), -32600, Value::Null),
        ("42".to_owned(), -32600, Value::Null),
        (
            r#"[{"jsonrpc":"2.0","id":900,"method":"shutdown"}]"#.to_owned(),
            -32600,
            Value::Null,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1.5,"method":"textDocument/hover"}"#.to_owned(),
            -32600,
            Value::Null,
        ),
        (
            r#"{"jsonrpc":"2.0","id":{"x":1},"method":"textDocument/hover"}"#.to_owned(),
            -32600,
            Value::Null,
        ),
        (
            r#"{"jsonrpc":"1.0","id":901,"method":"textDocument/hover"}"#.to_owned(),
            -32600,
            json!(901),
        ),
        (deep, -32600, Value::Null),
        ("{not json".to_owned(), -32700, Value::Null),
    ];
    for (body, code, id) in requests {
        client.send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
        let answer = client
            .wait_for(WAIT, |message| message.get("error").is_some())
            .unwrap_or_else(|| panic!("no error answered for {body:.60}"));
        assert_eq!(answer["error"]["code"], code, "{body:.60}: {answer}");
        assert_eq!(answer["id"], id, "{body:.60}: {answer}");
        let symbols = client.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        );
        assert_eq!(
            symbols["result"][0]["name"], ">>> 1 + 1",
            "after {body:.60}"
        );
    }
    // Malformed notifications are dropped without an answer.
    for body in [
        r#"{"jsonrpc":"1.0","method":"textDocument/didChange"}"#,
        r#"{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"x":[]}}"#,
    ] {
        client.send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }
    // 64 MB without a header are skipped (in linear time and bounded memory), and the
    // next frame is read.
    let garbage = vec![b'C'; 1 << 20];
    let started = std::time::Instant::now();
    for _ in 0..64 {
        client.send_raw(&garbage);
    }
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 4}}),
    );
    assert!(hover.get("result").is_some(), "{hover}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        client
            .backlog
            .iter()
            .all(|message| message.get("error").is_none()),
        "notifications were answered: {:?}",
        client.backlog
    );
    assert!(client.shutdown().success());
}

#[test]
fn a_panic_in_a_handler_is_an_error_response_and_the_server_goes_on() {
    let (_dir, mut client, uri) = session_with(
        ">>> 1 + 1\n2\n",
        json!({"execute": false}),
        hook("hover,codeLens"),
    );
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 4}}),
    );
    assert_eq!(hover["error"]["code"], -32603, "{hover}");
    assert!(
        hover["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("internal error in hover")),
        "{hover}"
    );
    let logged = client.wait_for(WAIT, |message| {
        message["method"] == "window/logMessage"
            && message["params"]["message"]
                .as_str()
                .is_some_and(|text| text.contains("test panic at hover"))
    });
    assert!(logged.is_some(), "no log message");
    let lens = client.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(lens["error"]["code"], -32603, "{lens}");
    // The same requests work afterwards.
    assert!(client.hover_text(&uri, 0, 4).contains("not run yet"));
    let lens = client.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(lens["result"].is_array(), "{lens}");
    assert!(client.stderr().contains("test panic at hover"));
    assert!(client.shutdown().success());
}

#[test]
fn a_failed_actor_is_shown_and_recovers_on_the_next_edit() {
    // The actor panics once while judging, and the run's thread once while running.
    let (_dir, mut client, uri) = session_with(PAGE, settings(), hook("actor,run"));
    let failed = client
        .diagnostics_where(&uri, WAIT, |found| {
            messages(found).contains("internal error while checking this page")
        })
        .expect("the actor's failure is shown");
    assert!(
        messages(&failed).contains("test panic at actor"),
        "{failed:?}"
    );
    client.change(&uri, 2, None, PAGE);
    let failed = client
        .diagnostics_where(&uri, WAIT, |found| {
            messages(found).contains("test panic at run")
        })
        .expect("the run's failure is shown");
    assert!(messages(&failed).contains("checked again on the next edit"));
    client.change(&uri, 3, None, PAGE);
    let found = client
        .diagnostics_where(&uri, WAIT, |found| codes(found) == ["failed"])
        .expect("the page is checked again");
    assert_eq!(found[0]["message"], "line 1: expected '41', got '42'");
    let tag = client.tag.clone();
    assert!(client.shutdown().success());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        processes_tagged(&tag),
        Vec::<u32>::new(),
        "processes left behind"
    );
}

#[test]
fn a_killed_zygote_is_replaced_on_the_next_run() {
    // A fresh page process is a child of the zygote: this kills it.
    let killer = ">>> import os, signal\n>>> os.kill(os.getppid(), signal.SIGKILL)\n";
    let (_dir, mut client, uri) = session(killer);
    // The killing example ends one way or another (its process may die with the zygote).
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let text = client.hover_text(&uri, 1, 4);
        if !text.contains("not run yet") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", client.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    client.change(&uri, 2, None, ">>> 6 * 7\n41\n");
    let found = client
        .diagnostics_where(&uri, WAIT, |found| codes(found) == ["failed"])
        .unwrap_or_else(|| panic!("no run after the zygote died: {}", client.stderr()));
    assert_eq!(found[0]["message"], "line 1: expected '41', got '42'");
    let tag = client.tag.clone();
    assert!(client.shutdown().success());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        processes_tagged(&tag),
        Vec::<u32>::new(),
        "processes left behind"
    );
}

#[test]
fn an_interpreter_that_does_not_start_is_a_warning_retried_after_the_setting_changes() {
    let mut broken = settings();
    broken["python"] = json!("/nonexistent/bin/python3");
    let (_dir, mut client, uri) = session_with(">>> 6 * 7\n41\n", broken, ClientOptions::default());
    let found = client
        .diagnostics_where(&uri, WAIT, |found| {
            messages(found).contains("/nonexistent/bin/python3")
        })
        .expect("a warning about the interpreter");
    assert_eq!(found[0]["severity"], 2, "{found:?}");
    assert!(
        messages(&found).contains("tried again on the next run"),
        "{found:?}"
    );
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"objgraphDoctest": {"python": common::python_with_objgraph()}}}),
    );
    client.change(&uri, 2, None, ">>> 6 * 7\n41\n\n");
    let found = client
        .diagnostics_where(&uri, WAIT, |found| codes(found) == ["failed"])
        .expect("runs with the new interpreter");
    assert_eq!(found.len(), 1, "the warning went away: {found:?}");
    assert!(client.shutdown().success());
}

#[test]
fn cancelling_a_run_ends_the_running_example() {
    let (_dir, mut client, uri) = session(">>> import time\n>>> time.sleep(120)\n");
    let deadline = std::time::Instant::now() + WAIT;
    // Keep reading (the server asks us to create a progress token before it runs).
    while client.python_processes().len() < 2 && std::time::Instant::now() < deadline {
        let _ = client.wait_for(Duration::from_millis(50), |_| false);
    }
    let _ = client.wait_for(Duration::from_millis(300), |_| false);
    let started = std::time::Instant::now();
    client.change(&uri, 2, None, ">>> import time\n>>> 6 * 7\n41\n");
    client
        .diagnostics_where(&uri, WAIT, |found| codes(found) == ["failed"])
        .expect("the edit's run");
    // The page's timeout is 30 s: only a cancel that killed the sleeping example is this fast.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(client.shutdown().success());
}

#[test]
fn a_bad_setting_is_reported_and_the_others_are_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = json!({"runOn": "sometimes", "execute": false, "debounceMs": -1});
    let mut client = LspClient::start(dir.path(), settings);
    client.initialize(dir.path());
    let warning = client
        .wait_for(WAIT, |message| {
            message["method"] == "window/showMessage"
                && message["params"]["message"]
                    .as_str()
                    .is_some_and(|text| text.contains("objgraphDoctest.runOn"))
        })
        .expect("the bad value is reported");
    assert_eq!(warning["params"]["type"], 2, "{warning}");
    assert!(
        warning["params"]["message"]
            .as_str()
            .is_some_and(|text| text.contains("\"change\", \"save\" or \"manual\"")),
        "{warning}"
    );
    let uri = format!("file://{}/page.txt", dir.path().display());
    client.open(&uri, "plaintext", &marker_page(dir.path()));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        client.python_processes(),
        Vec::<u32>::new(),
        "execute: false was lost"
    );
    assert!(!dir.path().join("ran").exists());
    assert!(client.shutdown().success());
}

#[test]
fn execute_false_as_a_string_runs_nothing() {
    for value in [json!("false"), json!("no way")] {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings =
            json!({"execute": value, "debounceMs": 0, "python": common::python_with_objgraph()});
        let mut client = LspClient::start(dir.path(), settings);
        client.initialize(dir.path());
        let uri = format!("file://{}/page.txt", dir.path().display());
        client.open(&uri, "plaintext", &marker_page(dir.path()));
        client.send_request(
            "workspace/executeCommand",
            json!({
                "command": "objgraph-doctest.runPage", "arguments": [uri],
            }),
        );
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(
            client.python_processes(),
            Vec::<u32>::new(),
            "{value} ran examples"
        );
        assert!(!dir.path().join("ran").exists(), "{value}");
        assert!(client.shutdown().success());
    }
}

#[test]
fn no_example_runs_before_a_late_configuration_answer() {
    for (answer, runs) in [(json!({"execute": false}), false), (json!({}), true)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let page = dir.path().join("page.txt");
        let text = marker_page(dir.path());
        let text = text.as_str();
        std::fs::write(&page, text).expect("page");
        // initializationOptions allow running at once; the client's settings say otherwise,
        // but their answer comes late.
        let options = ClientOptions {
            hold_configuration: true,
            ..ClientOptions::default()
        };
        let mut client = LspClient::start_with(dir.path(), settings(), options);
        client.initialize_with(
            dir.path(),
            json!({"workspace": {"configuration": true}, "window": {"workDoneProgress": true}}),
        );
        let uri = format!("file://{}", page.display());
        client.open(&uri, "plaintext", text);
        assert!(client.configuration_requested(WAIT));
        std::thread::sleep(Duration::from_millis(1000));
        assert_eq!(
            client.python_processes(),
            Vec::<u32>::new(),
            "ran before the answer"
        );
        client.release_configuration(answer.clone());
        let deadline = std::time::Instant::now() + Duration::from_secs(if runs { 60 } else { 2 });
        while !dir.path().join("ran").exists() && std::time::Instant::now() < deadline {
            let _ = client.wait_for(Duration::from_millis(50), |_| false);
        }
        assert_eq!(dir.path().join("ran").exists(), runs, "answer {answer}");
        assert!(client.shutdown().success());
    }
}

#[test]
fn a_broken_workspace_configuration_stays_visible() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("objgraph-doctest.toml"), "timeout = [\n").expect("config");
    let path = dir.path().join("page.txt");
    std::fs::write(&path, PAGE).expect("page");
    let mut client = LspClient::start(dir.path(), settings());
    client.initialize(dir.path());
    let uri = format!("file://{}", path.display());
    client.open(&uri, "plaintext", PAGE);
    // As the CLI refuses to run with a broken configuration, the editor runs nothing and
    // says why, on the page, after every edit.
    let found = client
        .diagnostics_where(&uri, WAIT, |found| {
            codes(found).contains(&"page-error".to_owned())
        })
        .expect("the configuration's error");
    assert!(
        messages(&found).contains("objgraph-doctest.toml"),
        "{found:?}"
    );
    assert!(!codes(&found).contains(&"failed".to_owned()), "{found:?}");
    client.change(&uri, 2, None, &PAGE.replace("41", "40"));
    let found = client
        .diagnostics_where(&uri, WAIT, |found| {
            codes(found).contains(&"page-error".to_owned())
        })
        .expect("the error after the edit");
    assert!(
        messages(&found).contains("objgraph-doctest.toml"),
        "{found:?}"
    );
    assert_eq!(client.python_processes(), Vec::<u32>::new(), "ran anyway");
    assert!(client.shutdown().success());
}

#[test]
fn an_untrusted_configuration_is_ignored_with_a_visible_reason() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("objgraph-doctest.toml");
    std::fs::write(&config, "setup = 'raise SystemExit(3)'\n").expect("config");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let path = dir.path().join("page.txt");
    std::fs::write(&path, PAGE).expect("page");
    let mut client = LspClient::start(dir.path(), settings());
    client.initialize(dir.path());
    let uri = format!("file://{}", path.display());
    client.open(&uri, "plaintext", PAGE);
    // The page runs with the defaults (the setup above would fail it) and says why the file
    // was not used, as the CLI's report does.
    let found = client
        .diagnostics_where(&uri, WAIT, |found| {
            codes(found).contains(&"failed".to_owned())
        })
        .expect("the run's results");
    assert!(
        messages(&found).contains("configuration ignored: it is writable by everyone"),
        "{found:?}"
    );
    assert!(client.shutdown().success());
}

#[test]
fn lenses_are_refreshed_after_a_run_without_waiting_for_the_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("page.txt");
    std::fs::write(&path, PAGE).expect("page");
    // A client that announces lens refreshes but never answers them.
    let options = lsp_client::ClientOptions {
        unanswered: vec!["workspace/codeLens/refresh".to_owned()],
        ..lsp_client::ClientOptions::default()
    };
    let mut client = LspClient::start_with(dir.path(), settings(), options);
    client.initialize_with(
        dir.path(),
        json!({"workspace": {"codeLens": {"refreshSupport": true}}}),
    );
    let uri = format!("file://{}", path.display());
    client.open(&uri, "plaintext", PAGE);
    client
        .diagnostics_where(&uri, WAIT, |found| {
            codes(found).contains(&"failed".to_owned())
        })
        .expect("the run's results");
    let deadline = std::time::Instant::now() + WAIT;
    while !client
        .server_requests
        .iter()
        .any(|method| method == "workspace/codeLens/refresh")
    {
        assert!(std::time::Instant::now() < deadline, "no lens refresh");
        let _ = client.wait_for(Duration::from_millis(50), |_| false);
    }
    // The unanswered refresh holds up nothing: the next edit is run and published.
    client.change(&uri, 2, None, &PAGE.replace("41", "40"));
    client
        .diagnostics_where(&uri, WAIT, |found| {
            messages(found).contains("expected '40'")
        })
        .expect("the next run's results");
    assert!(client.shutdown().success());
}

#[test]
fn a_venv_created_in_the_workspace_restarts_the_interpreter() {
    // No `python` setting and no $VIRTUAL_ENV: `python3` on PATH, until ./.venv appears.
    let page = ">>> import os; print(os.environ.get('OBJGRAPH_TEST_MARK'))\nvenv\n";
    let options = ClientOptions {
        env_remove: vec!["VIRTUAL_ENV".to_owned()],
        ..ClientOptions::default()
    };
    let settings = json!({"runOn": "change", "debounceMs": 0});
    let (dir, mut client, uri) = session_with(page, settings, options);
    let found = client
        .diagnostics_where(&uri, WAIT, |found| codes(found) == ["failed"])
        .expect("the first run, without the venv");
    assert_eq!(found[0]["message"], "line 1: expected 'venv', got 'None'");
    // The "venv": an interpreter that marks its environment.
    let bin = dir.path().join(".venv").join("bin");
    std::fs::create_dir_all(&bin).expect("venv dir");
    let python = bin.join("python");
    std::fs::write(
        &python,
        format!(
            "#!/bin/sh\nOBJGRAPH_TEST_MARK=venv exec {} \"$@\"\n",
            common::python_with_objgraph()
        ),
    )
    .expect("venv python");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    client.change(&uri, 2, None, &page.replace("print(", "print( "));
    let deadline = std::time::Instant::now() + WAIT;
    while !client.hover_text(&uri, 0, 4).contains("**passed**") {
        assert!(
            std::time::Instant::now() < deadline,
            "the venv's interpreter was not used: {}",
            client.hover_text(&uri, 0, 4)
        );
        let _ = client.wait_for(Duration::from_millis(50), |_| false);
    }
    let tag = client.tag.clone();
    assert!(client.shutdown().success());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        processes_tagged(&tag),
        Vec::<u32>::new(),
        "processes left behind"
    );
}

#[test]
fn a_client_that_never_accepts_a_progress_token_still_gets_its_runs() {
    let options = ClientOptions {
        unanswered: vec!["window/workDoneProgress/create".to_owned()],
        ..ClientOptions::default()
    };
    let (_dir, mut client, uri) = session_with(">>> 6 * 7\n41\n", settings(), options);
    let started = std::time::Instant::now();
    client
        .diagnostics_where(&uri, WAIT, |found| codes(found) == ["failed"])
        .expect("the run happens without progress");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(client.shutdown().success());
}

#[test]
fn requests_answer_for_the_latest_text_while_the_interpreter_starts() {
    // An interpreter that takes seconds to start keeps the document's actor busy.
    let dir = tempfile::tempdir().expect("tempdir");
    let slow = dir.path().join("slow-python");
    std::fs::write(
        &slow,
        format!(
            "#!/bin/sh\nsleep 3\nexec {} \"$@\"\n",
            common::python_with_objgraph()
        ),
    )
    .expect("slow python");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let settings = json!({"runOn": "change", "debounceMs": 0, "python": slow});
    let mut client = LspClient::start(dir.path(), settings);
    client.initialize(dir.path());
    let uri = format!("file://{}/page.txt", dir.path().display());
    client.open(&uri, "plaintext", ">>> 1 + 1\n2\n");
    let _ = client.wait_for(Duration::from_millis(500), |_| false);
    let started = std::time::Instant::now();
    client.change(&uri, 2, None, "Some prose first.\n\n>>> 2 + 2\n4\n");
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(symbols["result"][0]["name"], ">>> 2 + 2", "{symbols}");
    let text = client.hover_text(&uri, 2, 4);
    assert!(text.contains("not run yet"), "{text}");
    assert!(
        client.hover_text(&uri, 0, 4).is_empty(),
        "prose is not an example"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "requests waited for the run: {:?}",
        started.elapsed()
    );
    let deadline = std::time::Instant::now() + WAIT;
    while !client.hover_text(&uri, 2, 4).contains("**passed**") {
        assert!(std::time::Instant::now() < deadline, "never ran");
        let _ = client.wait_for(Duration::from_millis(50), |_| false);
    }
    assert!(client.shutdown().success());
}
