//! The protocol's edges, driven over stdio by a real client: nothing is published about a
//! document after the publish that clears it on close; frames are read whatever the case of
//! their header names, and a frame that cannot be read is said on stderr; `exit` without
//! `shutdown` ends the server with status 1, after `shutdown` with 0 (as LSP says).

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::time::{Duration, Instant};

use lsp_client::{LspClient, wait_with_timeout};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

fn running_settings() -> Value {
    json!({"runOn": "change", "execute": true, "python": common::python_with_objgraph(), "debounceMs": 0})
}

/// A session on an empty workspace, initialized.
fn start(dir: &std::path::Path, settings: Value) -> LspClient {
    let mut client = LspClient::start(dir, settings);
    client.initialize(dir);
    client
}

/// Every `publishDiagnostics` for `uri` received so far, in order: (version, how many).
/// Reads for `settle` first, so that whatever the server still had to say has arrived.
fn publishes(client: &mut LspClient, uri: &str, settle: Duration) -> Vec<(Value, usize)> {
    let _ = client.wait_for(settle, |_| false);
    client
        .backlog
        .iter()
        .filter(|message| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
        })
        .map(|message| {
            let params = &message["params"];
            let count = params["diagnostics"].as_array().map_or(0, Vec::len);
            (params["version"].clone(), count)
        })
        .collect()
}

/// The clearing publish (no version, no diagnostics) came once, and nothing after it.
fn assert_cleared_for_good(published: &[(Value, usize)]) {
    let clearing = (Value::Null, 0);
    assert_eq!(published.last(), Some(&clearing), "{published:?}");
    assert_eq!(
        published
            .iter()
            .filter(|publish| publish.0.is_null())
            .count(),
        1,
        "{published:?}"
    );
}

fn close(client: &mut LspClient, uri: &str) {
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
}

#[test]
fn a_page_closed_while_it_runs_gets_nothing_after_the_clearing_publish() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut client = start(dir.path(), running_settings());
    let uri = format!("file://{}/page.txt", dir.path().display());
    // The first example fails; the run then sleeps in the last one.
    client.open(
        &uri,
        "plaintext",
        ">>> 1\n2\n>>> import time\n>>> time.sleep(60)\n",
    );
    let deadline = Instant::now() + WAIT;
    // The interpreter and the page's process: the run has started.
    while client.python_processes().len() < 2 {
        assert!(Instant::now() < deadline, "the page never ran");
        let _ = client.wait_for(Duration::from_millis(50), |_| false);
    }
    let _ = client.wait_for(Duration::from_millis(500), |_| false);
    close(&mut client, &uri);
    // The close cancels the run at once; what the actor would publish after it comes then.
    let published = publishes(&mut client, &uri, Duration::from_secs(2));
    assert_cleared_for_good(&published);
    assert!(client.shutdown().success());
}

#[test]
fn a_page_closed_while_it_is_judged_gets_nothing_after_the_clearing_publish() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut client = start(dir.path(), json!({"execute": false, "runOn": "manual"}));
    // Twenty thousand parse errors (`>>>0` lacks its blank): parsing and judging the page
    // takes a while, and a close comes in the middle of it.
    let text: String = (0..20_000).map(|i| format!(">>>{i}\n{i}\n")).collect();
    for trial in 0..3 {
        let uri = format!("file://{}/page{trial}.txt", dir.path().display());
        client.open(&uri, "plaintext", &text);
        client
            .diagnostics_where(&uri, WAIT, |found| !found.is_empty())
            .expect("the page is judged");
        client.change(&uri, 2, None, &format!("{text}>>>x\n"));
        std::thread::sleep(Duration::from_millis(30));
        close(&mut client, &uri);
        let published = publishes(&mut client, &uri, Duration::from_secs(3));
        assert_cleared_for_good(&published);
    }
    assert!(client.shutdown().success());
}

#[test]
fn header_names_in_any_case_are_read_and_unreadable_frames_are_said() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut client = start(dir.path(), json!({"execute": false}));
    let uri = format!("file://{}/page.txt", dir.path().display());
    client.open(&uri, "plaintext", ">>> 1 + 1\n2\n");
    for (id, name) in [
        (77, "content-length"),
        (78, "CONTENT-LENGTH"),
        (79, "Content-length"),
    ] {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/documentSymbol",
                          "params": {"textDocument": {"uri": uri}}})
        .to_string();
        client.send_raw(format!("{name}: {}\r\n\r\n{body}", body.len()).as_bytes());
        let answer = client
            .response(id, WAIT)
            .unwrap_or_else(|| panic!("no answer to a frame whose header is {name:?}"));
        assert_eq!(answer["result"][0]["name"], ">>> 1 + 1", "{answer}");
    }
    // Dropped, each with a line on stderr: a header without a usable length, and bytes
    // outside any frame.
    client.send_raw(b"Content-Length: many\r\n\r\n");
    client.send_raw(b"junk");
    // Answered after them: the lines are written by then.
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(symbols["result"][0]["name"], ">>> 1 + 1", "{symbols}");
    let stderr = client.stderr();
    assert!(
        stderr.contains("ignored a frame whose Content-Length is not a number of bytes: \"many\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("ignored 4 bytes outside any frame"),
        "{stderr}"
    );
    assert!(client.shutdown().success());
}

/// `body` as a frame, as a client writes it.
fn frame(body: &Value) -> Vec<u8> {
    let body = body.to_string();
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// The exit status of a server sent `bytes` after `initialize`.
fn exit_status_after(bytes: &[u8]) -> Option<i32> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut client = start(dir.path(), json!({"execute": false}));
    client.send_raw(bytes);
    let status = wait_with_timeout(&mut client.child, Duration::from_secs(20))
        .expect("the server exits after `exit`");
    status.code()
}

#[test]
fn exit_without_shutdown_is_exit_status_1() {
    let exit = frame(&json!({"jsonrpc": "2.0", "method": "exit"}));
    assert_eq!(
        exit_status_after(&exit),
        Some(1),
        "LSP: `exit` without `shutdown` is status 1 (src/main.rs exits with the status \
         lsp::run_stdio returns)"
    );
}

#[test]
fn exit_after_shutdown_is_exit_status_0() {
    // One write: what counts is the order of the messages, not waiting for the answer.
    let mut bytes = frame(&json!({"jsonrpc": "2.0", "id": 99, "method": "shutdown"}));
    bytes.extend(frame(&json!({"jsonrpc": "2.0", "method": "exit"})));
    assert_eq!(exit_status_after(&bytes), Some(0));
}
