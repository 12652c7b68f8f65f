//! VS Code's Restricted Mode as the server sees it: the extension starts the server with
//! `execute: false` in its initializationOptions, and nothing a workspace can set afterwards
//! turns execution on, neither the answer to `workspace/configuration` nor
//! `workspace/didChangeConfiguration`, nor the "Run page" command. The same session started
//! with `execute: true` does run, so the check would see a run.

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::path::Path;
use std::time::{Duration, Instant};

use lsp_client::{ClientOptions, LspClient};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

/// A page whose one example creates `ran` in `dir`: it exists only if the example ran.
fn marker_page(dir: &Path) -> String {
    format!(
        ">>> open({:?}, 'w').close()\n",
        dir.join("ran").display().to_string()
    )
}

/// What a workspace's settings would ask for: run, at once, with this interpreter.
fn workspace_wants_execution() -> Value {
    json!({"objgraphDoctest": {
        "execute": true, "runOn": "change", "debounceMs": 0,
        "python": common::python_with_objgraph(),
    }})
}

/// Starts a session with `execute` as the initialization option, then has the workspace ask
/// for execution every way a client can; true when the page's example ran within `wait`.
fn example_ran(execute: bool, wait: Duration) -> bool {
    let dir = tempfile::tempdir().expect("tempdir");
    let initialization = json!({
        "execute": execute, "runOn": "change", "debounceMs": 0,
        "python": common::python_with_objgraph(),
    });
    let options = ClientOptions {
        hold_configuration: true,
        ..ClientOptions::default()
    };
    let mut client = LspClient::start_with(dir.path(), initialization, options);
    client.initialize_with(dir.path(), json!({"workspace": {"configuration": true}}));
    let uri = format!("file://{}/page.txt", dir.path().display());
    let page = marker_page(dir.path());
    client.open(&uri, "plaintext", &page);
    assert!(
        client.configuration_requested(WAIT),
        "the server asks for its settings"
    );
    client.release_configuration(workspace_wants_execution());
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": workspace_wants_execution()}),
    );
    client.change(&uri, 2, None, &format!("{page}\n"));
    client.send_request(
        "workspace/executeCommand",
        json!({"command": "objgraph-doctest.runPage", "arguments": [uri]}),
    );
    let ran = dir.path().join("ran");
    let deadline = Instant::now() + wait;
    while !ran.exists() && Instant::now() < deadline {
        let _ = client.wait_for(Duration::from_millis(50), |_| false);
    }
    let ran = ran.exists();
    if !execute {
        assert_eq!(
            client.python_processes(),
            Vec::<u32>::new(),
            "no interpreter starts in Restricted Mode"
        );
    }
    assert!(client.shutdown().success());
    ran
}

#[test]
fn no_workspace_setting_turns_execution_on_after_restricted_mode_started_the_server() {
    assert!(
        !example_ran(false, Duration::from_secs(3)),
        "an example ran although the server started with execute: false"
    );
}

#[test]
fn the_same_session_started_with_execution_on_runs_the_example() {
    assert!(example_ran(true, WAIT), "the example never ran");
}
