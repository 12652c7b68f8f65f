//! The live heap in the editor (docs/editors.md, "The heap under the cursor"), through a real
//! LSP client over stdio: hovering a name in an example's source shows its value after that
//! example (type, `sys.getrefcount`, a capped repr), read in a throwaway fork so that nothing
//! on the page changes (a counter the page keeps, bumped by every `repr`, still reads 0 after
//! the hovers, and the diagnostics are the same); "Show references of NAME" draws objgraph's
//! graph into the artifacts folder and the hover then shows it; without objgraph, a clear
//! message; with `execute: false`, nothing runs (a marker file stays absent); a hover racing
//! an edit is answered, marked stale, as soon as the edit cancels its fork.

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::path::Path;
use std::time::{Duration, Instant};

use lsp_client::{ClientOptions, LspClient};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

/// Its last example fails on purpose: its diagnostic says the run has finished.
const PAGE: &str = "Values on this page, and a counter that hovers must not move.

    >>> class Counter:
    ...     seen = 0
    ...     def __repr__(self):
    ...         Counter.seen += 1
    ...         return 'Counter(seen=%d)' % Counter.seen
    >>> counter = Counter()
    >>> items = [1, 2, 3]
    >>> items.append(4)
    >>> Counter.seen
    0
    >>> len(items)
    3
";

fn settings(python: &str) -> Value {
    json!({"runOn": "change", "execute": true, "python": python, "debounceMs": 0})
}

/// The 0-based line and UTF-16 column of the `nth` occurrence of `needle` in `text`.
fn position_of(text: &str, needle: &str, nth: usize) -> (u32, u32) {
    let offset = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle:?} #{nth} is not in the page"))
        .0;
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or("")
        .encode_utf16()
        .count();
    (line as u32, column as u32)
}

fn redact(text: &str, dir: &Path) -> String {
    common::redact(
        text,
        dir,
        &[
            (r"[0-9]+(\.[0-9]+)? (ms|µs|s)\b", "[duration]"),
            (r"0x[0-9a-f]+", "0x[ADDRESS]"),
            (r"\([0-9]+ bytes\)", "([bytes])"),
        ],
    )
}

/// A session on `page` (written to `dir/page.txt`), waiting for its first run to finish
/// (its failing last example).
fn session(dir: &Path, page: &str, python: &str, options: ClientOptions) -> (LspClient, String) {
    let path = dir.join("page.txt");
    std::fs::write(&path, page).expect("page");
    std::fs::write(
        dir.join("objgraph-doctest.toml"),
        "timeout = 10\nartifacts-dir = \"artifacts\"\n",
    )
    .expect("configuration");
    let mut client = LspClient::start_with(dir, settings(python), options);
    client.initialize_with(
        dir,
        json!({"window": {"workDoneProgress": true, "showDocument": {"support": true}}}),
    );
    let uri = format!("file://{}", path.display());
    client.open(&uri, "plaintext", page);
    client
        .diagnostics_where(&uri, WAIT, |found| {
            found.iter().any(|d| d["code"] == "failed")
        })
        .expect("the first run finishes");
    (client, uri)
}

/// The hover on the `nth` `needle` of `page` (one character into it).
fn hover_at(client: &mut LspClient, uri: &str, page: &str, needle: &str, nth: usize) -> String {
    let (line, character) = position_of(page, needle, nth);
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character + 1}}),
    );
    assert!(hover.get("error").is_none(), "{hover}");
    hover["result"]["contents"]["value"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

fn code_actions_at(client: &mut LspClient, uri: &str, page: &str, needle: &str) -> Vec<Value> {
    let (line, character) = position_of(page, needle, 0);
    let position = json!({"line": line, "character": character + 1});
    let answer = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": {"start": position, "end": position},
            "context": {"diagnostics": []},
        }),
    );
    answer["result"].as_array().cloned().unwrap_or_default()
}

fn show_refs_command(actions: &[Value], title: &str) -> Value {
    actions
        .iter()
        .find(|action| action["title"] == title)
        .unwrap_or_else(|| panic!("no {title:?} action in {actions:?}"))["command"]
        .clone()
}

fn execute(client: &mut LspClient, command: &Value) -> Value {
    client.request(
        "workspace/executeCommand",
        json!({"command": command["command"], "arguments": command["arguments"]}),
    )["result"]
        .clone()
}

#[test]
fn hovers_show_values_in_a_fork_and_leave_the_page_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let python = common::python_with_objgraph();
    let (mut client, uri) = session(dir.path(), PAGE, &python, ClientOptions::default());

    let processes_before = client.python_processes().len();
    let mut hovers = Vec::new();
    for (needle, nth, what) in [
        ("items", 0, "items where it is made"),
        ("items", 1, "items after append"),
        ("append", 0, "a dotted name"),
        ("counter =", 0, "an object whose repr bumps the counter"),
        (
            "counter =",
            0,
            "the same again: the fork starts from the same state",
        ),
        ("seen", 0, "a class body's name, not a global"),
    ] {
        let asked = Instant::now();
        let text = hover_at(&mut client, &uri, PAGE, needle, nth);
        eprintln!("hover on {what}: {:?}", asked.elapsed());
        hovers.push((what, redact(&text, dir.path())));
    }
    let first = &hovers[0].1;
    assert!(
        first.starts_with("**`items`** after this example: `list`, refcount 2\n"),
        "{first}"
    );
    assert!(first.contains("```python\n[1, 2, 3]\n```"), "{first}");
    let appended = &hovers[1].1;
    assert!(
        appended.contains("```python\n[1, 2, 3, 4]\n```"),
        "{appended}"
    );
    for (_, text) in &hovers[3..5] {
        assert!(text.contains("Counter(seen=1)"), "{text}");
    }
    let shown: Vec<String> = hovers
        .iter()
        .map(|(what, text)| format!("=== hover on {what}\n{text}"))
        .collect();
    insta::assert_snapshot!("heap_hovers", shown.join("\n"));
    // Each fork ended with its answer: the page keeps only the processes it had.
    let deadline = Instant::now() + Duration::from_secs(5);
    while client.python_processes().len() > processes_before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(client.python_processes().len(), processes_before);

    // The page's own state did not move: re-running `Counter.seen` (its source edited, so
    // it runs again from the checkpoints the hovers forked) still prints 0, and the one
    // diagnostic is the planned failure.
    let (line, character) = position_of(PAGE, "Counter.seen\n", 0);
    let end = character + "Counter.seen".len() as u32;
    client.change(
        &uri,
        2,
        Some(json!({"start": {"line": line, "character": end}, "end": {"line": line, "character": end}})),
        " + 0",
    );
    let after = client
        .wait_for(WAIT, |message| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["version"] == 2
                && message["params"]["diagnostics"]
                    .as_array()
                    .is_some_and(|found| found.iter().any(|d| d["code"] == "failed"))
        })
        .expect("the edited page runs");
    let diagnostics = after["params"]["diagnostics"].as_array().expect("list");
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(
        diagnostics[0]["message"], "line 1: expected '3', got '4'",
        "{diagnostics:?}"
    );
    assert!(client.shutdown().success());
}

#[test]
fn show_references_draws_the_graph_into_the_artifacts_folder_and_the_hover_shows_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let python = common::python_with_objgraph();
    let (mut client, uri) = session(dir.path(), PAGE, &python, ClientOptions::default());
    let actions = code_actions_at(&mut client, &uri, PAGE, "items.append");
    let titles: Vec<&str> = actions
        .iter()
        .filter_map(|action| action["title"].as_str())
        .filter(|title| title.starts_with("Show"))
        .collect();
    assert_eq!(
        titles,
        ["Show references of items", "Show back-references of items"]
    );
    let heap_actions: Vec<&Value> = actions
        .iter()
        .filter(|action| {
            action["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Show"))
        })
        .collect();
    insta::assert_snapshot!(
        "heap_code_actions",
        redact(
            &serde_json::to_string_pretty(&heap_actions).expect("JSON"),
            dir.path()
        )
    );

    for (title, kind) in [
        ("Show references of items", "refs"),
        ("Show back-references of items", "backrefs"),
    ] {
        let command = show_refs_command(&actions, title);
        let answer = execute(&mut client, &command);
        let image = Path::new(
            answer["image"]
                .as_str()
                .unwrap_or_else(|| panic!("{answer}")),
        );
        assert_eq!(
            image,
            dir.path()
                .join(format!("artifacts/heap/page.txt-L10-items-{kind}.png"))
        );
        let bytes = std::fs::read(image).expect("the image exists");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        assert!(
            answer["output"]
                .as_str()
                .is_some_and(|output| output.contains("Image generated as")),
            "{answer}"
        );
    }
    let hover = hover_at(&mut client, &uri, PAGE, "items", 1);
    assert!(hover.contains("![references of items](file://"), "{hover}");
    assert!(
        hover.contains("![back-references of items](file://"),
        "{hover}"
    );
    insta::assert_snapshot!("heap_hover_with_drawings", redact(&hover, dir.path()));
    // The client said it can open documents: it was asked to open the images.
    assert!(
        client
            .server_requests
            .iter()
            .any(|method| method == "window/showDocument"),
        "{:?}",
        client.server_requests
    );
    assert!(client.shutdown().success());
}

#[test]
fn without_objgraph_show_references_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    // An `objgraph` first on sys.path that cannot be imported, in the venv that has the real one.
    let shadow = dir.path().join("shadow");
    std::fs::create_dir(&shadow).expect("shadow dir");
    std::fs::write(
        shadow.join("objgraph.py"),
        "raise ImportError('objgraph is hidden for this test')\n",
    )
    .expect("shadow module");
    let options = ClientOptions {
        env: vec![("PYTHONPATH".into(), shadow.display().to_string())],
        ..ClientOptions::default()
    };
    let python = common::python_with_objgraph();
    let (mut client, uri) = session(dir.path(), PAGE, &python, options);
    let actions = code_actions_at(&mut client, &uri, PAGE, "items.append");
    let answer = execute(
        &mut client,
        &show_refs_command(&actions, "Show references of items"),
    );
    let error = answer["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    insta::assert_snapshot!("heap_without_objgraph", redact(error, dir.path()));
    assert!(error.starts_with("objgraph is not importable"), "{error}");
    let shown = client
        .wait_for(WAIT, |message| message["method"] == "window/showMessage")
        .expect("the user is told");
    assert!(
        shown["params"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("python -m pip install objgraph")),
        "{shown}"
    );
    assert!(
        !dir.path()
            .join("artifacts/heap/page.txt-L10-items-refs.png")
            .exists()
    );
    assert!(client.shutdown().success());
}

#[test]
fn with_execution_off_nothing_runs_for_hovers_or_actions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("ran");
    let page = format!(
        "A page whose examples leave a marker when they run.\n\n    >>> open({:?}, 'w').close()\n    >>> value = 42\n",
        marker.display().to_string()
    );
    let path = dir.path().join("page.txt");
    std::fs::write(&path, &page).expect("page");
    let initialization = json!({
        "execute": false, "runOn": "change", "debounceMs": 0,
        "python": common::python_with_objgraph(),
    });
    let mut client = LspClient::start(dir.path(), initialization);
    client.initialize(dir.path());
    let uri = format!("file://{}", path.display());
    client.open(&uri, "plaintext", &page);
    let hover = hover_at(&mut client, &uri, &page, "value", 0);
    assert!(!hover.contains("after this example"), "{hover}");
    assert!(hover.contains("**not run yet**"), "{hover}");
    let actions = code_actions_at(&mut client, &uri, &page, "value");
    assert!(
        actions
            .iter()
            .all(|action| !action["title"].as_str().unwrap_or("").starts_with("Show")),
        "{actions:?}"
    );
    let (line, character) = position_of(&page, "value", 0);
    let answer = client.request(
        "workspace/executeCommand",
        json!({"command": "objgraph-doctest.showRefs", "arguments": [uri, line, character, "refs"]}),
    )["result"]
        .clone();
    assert_eq!(
        answer["error"],
        "examples are not executed (the `execute` setting is off): nothing was drawn"
    );
    assert!(!marker.exists(), "an example ran");
    assert_eq!(client.python_processes(), Vec::<u32>::new());
    assert!(client.shutdown().success());
}

#[test]
fn a_hover_racing_an_edit_is_answered_stale_when_the_edit_cancels_its_fork() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = "A value whose repr takes a while.

    >>> import time
    >>> class Slow:
    ...     def __repr__(self):
    ...         time.sleep(3)
    ...         return 'Slow()'
    >>> slow = Slow()
    >>> slow is None
    True
";
    let python = common::python_with_objgraph();
    let (mut client, uri) = session(dir.path(), page, &python, ClientOptions::default());
    let (line, character) = position_of(page, "slow =", 0);
    let id = client.send_request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character + 1}}),
    );
    // Let the fork start (its repr sleeps), then edit the page.
    let _ = client.wait_for(Duration::from_millis(700), |_| false);
    let edited = Instant::now();
    let end = position_of(page, "True", 0);
    client.change(
        &uri,
        2,
        Some(json!({"start": {"line": end.0, "character": end.1}, "end": {"line": end.0, "character": end.1 + 4}})),
        "False",
    );
    let answer = client.response(id, WAIT).expect("the hover is answered");
    let text = answer["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(
        text.starts_with(
            "**`slow`**: no value shown: the page changed while it was evaluated (hover again)"
        ),
        "{answer}"
    );
    assert!(
        edited.elapsed() < Duration::from_secs(2),
        "the edit did not cancel the fork: answered after {:?}",
        edited.elapsed()
    );
    assert!(client.shutdown().success());
}

#[test]
fn a_repr_that_loops_or_is_huge_is_contained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = "Values whose repr misbehaves.

    >>> class Forever:
    ...     def __repr__(self):
    ...         while True:
    ...             pass
    >>> class Huge:
    ...     def __repr__(self):
    ...         print('printed by the repr')
    ...         return 'y' * 10**6
    >>> forever = Forever()
    >>> huge = Huge()
    >>> huge is None
    True
";
    let python = common::python_with_objgraph();
    let path = dir.path().join("page.txt");
    std::fs::write(&path, page).expect("page");
    std::fs::write(dir.path().join("objgraph-doctest.toml"), "timeout = 1\n").expect("config");
    let mut client = LspClient::start(dir.path(), settings(&python));
    client.initialize(dir.path());
    let uri = format!("file://{}", path.display());
    client.open(&uri, "plaintext", page);
    client
        .diagnostics_where(&uri, WAIT, |found| {
            found.iter().any(|d| d["code"] == "failed")
        })
        .expect("the first run finishes");

    let started = Instant::now();
    let forever = hover_at(&mut client, &uri, page, "forever =", 0);
    assert!(
        forever.starts_with(
            "**`forever`**: no value shown: looking at `forever` failed: timed out after 1 s\n"
        ),
        "{forever}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    let huge = hover_at(&mut client, &uri, page, "huge =", 0);
    let value = format!("```python\n{}\n```", "y".repeat(200));
    assert!(huge.contains(&value), "{huge}");
    assert!(huge.contains("(repr cut at 200 characters)"), "{huge}");
    assert!(!huge.contains("printed by the repr"), "{huge}");
    assert!(client.shutdown().success());
}

#[test]
fn a_hover_before_the_clients_settings_arrive_runs_nothing_when_they_turn_execution_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("ran");
    let page = format!(
        "A page whose examples leave a marker when they run.\n\n    >>> open({:?}, 'w').close()\n    >>> value = 42\n",
        marker.display().to_string()
    );
    let path = dir.path().join("page.txt");
    std::fs::write(&path, &page).expect("page");
    let options = ClientOptions {
        hold_configuration: true,
        ..ClientOptions::default()
    };
    let python = common::python_with_objgraph();
    let mut client = LspClient::start_with(dir.path(), settings(&python), options);
    client.initialize_with(dir.path(), json!({"workspace": {"configuration": true}}));
    let uri = format!("file://{}", path.display());
    client.open(&uri, "plaintext", &page);
    assert!(client.configuration_requested(WAIT), "the server asks");
    let (line, character) = position_of(&page, "value", 0);
    let id = client.send_request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character + 1}}),
    );
    let _ = client.wait_for(Duration::from_millis(300), |_| false);
    client.release_configuration(json!({"objgraphDoctest": {"execute": false}}));
    let answer = client.response(id, WAIT).expect("the hover is answered");
    let text = answer["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(
        text.starts_with(
            "**`value`**: no value shown: examples are not executed (the `execute` setting is \
             off)\n"
        ),
        "{answer}"
    );
    let _ = client.wait_for(Duration::from_millis(500), |_| false);
    assert!(!marker.exists(), "an example ran");
    assert_eq!(client.python_processes(), Vec::<u32>::new());
    assert!(client.shutdown().success());
}
