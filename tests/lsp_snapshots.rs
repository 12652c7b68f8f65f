//! What the editor shows, as snapshots: the diagnostics the language server publishes for each
//! of the fixed report pages (`tests/pages/reports/`, the same pages as the CLI's report
//! snapshots), and the hover on every example. Temporary paths, durations and objgraph's file
//! names are redacted.

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::path::Path;
use std::time::Duration;

use lsp_client::LspClient;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(60);

fn redact(text: &str, dir: &Path) -> String {
    common::redact(
        text,
        dir,
        &[
            (r"[0-9]+(\.[0-9]+)? ms\b", "[ms]"),
            (r"[0-9]+(\.[0-9]+)? s\b", "[s]"),
            (r"\([0-9]+ bytes\)", "([bytes])"),
        ],
    )
}

/// The page's final diagnostics and the hover on each example, as one snapshot.
fn editor_view(client: &mut LspClient, dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).expect("page");
    let uri = format!("file://{}", path.display());
    let language = if name.ends_with(".md") {
        "markdown"
    } else {
        "plaintext"
    };
    client.open(&uri, language, &text);
    // The first publication comes before the run; the one after it has results.
    let diagnostics = client
        .diagnostics_where(&uri, WAIT, |found| !found.is_empty())
        .unwrap_or_default();
    let mut hovers = Vec::new();
    for (line, content) in text.lines().enumerate() {
        if let Some(column) = content.find(">>> ") {
            // On the prompt: the example's own hover (a name in the source would add its
            // value first; tests/lsp_heap.rs snapshots those).
            let hover = client.hover_text(&uri, line as u32, column as u32 + 1);
            hovers.push(json!({"line": line + 1, "hover": hover}));
        }
    }
    let view = json!({"diagnostics": diagnostics, "hovers": hovers});
    redact(&serde_json::to_string_pretty(&view).expect("JSON"), dir)
}

#[test]
fn diagnostics_and_hovers_of_the_report_pages() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::copy_report_pages(dir.path());
    std::fs::write(
        dir.path().join("objgraph-doctest.toml"),
        "timeout = 2\nartifacts-dir = \"artifacts\"\n",
    )
    .expect("configuration");
    let settings = json!({
        "runOn": "change",
        "execute": true,
        "python": common::python_with_objgraph(),
        "debounceMs": 0,
    });
    let mut client = LspClient::start(dir.path(), settings);
    client.initialize(dir.path());
    // Pages whose every example passes without a note publish nothing to wait for.
    for name in [
        "a_passing.txt",
        "b_failing.txt",
        "c_faults.txt",
        "d_crash.txt",
        "e_broken.txt",
        "g_markdown.md",
        "h_graph.txt",
    ] {
        let view = editor_view(&mut client, dir.path(), name);
        insta::assert_snapshot!(name, view);
    }
    let status = client.shutdown();
    assert!(status.success(), "{status:?}");
}
