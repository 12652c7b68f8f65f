//! SIGINT, SIGTERM, SIGHUP and SIGQUIT end the CLI and the language server cleanly (every process
//! killed, every temp folder removed, exit 128+N), and a normal run or session leaves
//! nothing in the temp directory. Each run gets a private TMPDIR, listed afterwards, and
//! a tag in its environment, so that other tests running at the same time do not count.

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{alive, pids_in};
use lsp_client::{processes_tagged, wait_with_timeout};

/// A private TMPDIR, a tag, and a folder for the pages, for one run of the binary.
struct Sandbox {
    root: tempfile::TempDir,
    tag: String,
}

impl Sandbox {
    fn new() -> Sandbox {
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("tmp")).unwrap();
        std::fs::create_dir(root.path().join("pages")).unwrap();
        let tag = format!(
            "signals-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        Sandbox { root, tag }
    }

    fn tmp(&self) -> PathBuf {
        self.root.path().join("tmp")
    }

    fn pages(&self) -> PathBuf {
        self.root.path().join("pages")
    }

    fn marker(&self) -> PathBuf {
        self.root.path().join("started")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"));
        command
            .args([
                "--python",
                &common::python_with_objgraph(),
                "--color",
                "never",
            ])
            .args(args)
            .current_dir(self.pages())
            .env("TMPDIR", self.tmp())
            .env("OBJGRAPH_DOCTEST_TEST_TAG", &self.tag)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// A page whose example starts a daemon, says it started, then sleeps.
    fn write_sleeping_page(&self) -> PathBuf {
        let page = self.pages().join("sleeps.txt");
        let text = format!(
            ">>> import os, subprocess, sys, time\n\
             >>> daemon = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\n\
             >>> _ = open({marker:?}, 'w').write('x'); time.sleep(600)\n",
            marker = self.marker().to_string_lossy()
        );
        std::fs::write(&page, text).unwrap();
        page
    }

    fn wait_for_marker(&self, child: &mut Child) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.marker().exists() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the run ended before the example started: {status}");
            }
            assert!(Instant::now() < deadline, "the example never started");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Asserts that no process of this run is alive and its TMPDIR is empty.
    fn assert_clean(&self) {
        let deadline = Instant::now() + Duration::from_secs(3);
        while !processes_tagged(&self.tag).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            processes_tagged(&self.tag),
            Vec::<u32>::new(),
            "processes left"
        );
        assert_eq!(listing(&self.tmp()), Vec::<String>::new(), "left in TMPDIR");
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn signal(child: &Child, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
}

#[test]
fn a_normal_run_leaves_nothing_behind() {
    let sandbox = Sandbox::new();
    std::fs::write(
        sandbox.pages().join("ok.txt"),
        ">>> import tempfile, objgraph\n>>> _ = tempfile.mkstemp()\n>>> 1 + 1\n2\n",
    )
    .unwrap();
    let output = sandbox.command(&["ok.txt"]).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    sandbox.assert_clean();
}

#[test]
fn sigint_sigterm_sighup_and_sigquit_end_the_cli_cleanly() {
    use nix::sys::signal::Signal;
    for (sent, code) in [
        (Signal::SIGINT, 130),
        (Signal::SIGTERM, 143),
        (Signal::SIGHUP, 129),
        (Signal::SIGQUIT, 131),
    ] {
        let sandbox = Sandbox::new();
        let page = sandbox.write_sleeping_page();
        let mut child = sandbox
            .command(&["--timeout", "300", &page.to_string_lossy()])
            .spawn()
            .unwrap();
        sandbox.wait_for_marker(&mut child);
        assert!(
            processes_tagged(&sandbox.tag).len() >= 3,
            "the run is not running"
        );
        signal(&child, sent);
        let status = wait_with_timeout(&mut child, Duration::from_secs(20)).expect("it exits");
        assert_eq!(status.code(), Some(code), "{sent}");
        sandbox.assert_clean();
    }
}

#[test]
fn after_a_sigkill_without_fork_what_the_page_started_ends_with_the_page() {
    // A page started by objgraph-doctest itself has no zygote above it: with
    // objgraph-doctest killed, the page's own end must take its examples' processes along.
    let sandbox = Sandbox::new();
    let page = sandbox.pages().join("short.txt");
    std::fs::write(
        &page,
        format!(
            ">>> import subprocess, sys, time\n\
             >>> daemon = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\n\
             >>> _ = open({marker:?}, 'w').write('x'); time.sleep(2)\n",
            marker = sandbox.marker().to_string_lossy()
        ),
    )
    .unwrap();
    let mut child = sandbox
        .command(&["--no-fork", "--timeout", "300", &page.to_string_lossy()])
        .spawn()
        .unwrap();
    sandbox.wait_for_marker(&mut child);
    signal(&child, nix::sys::signal::Signal::SIGKILL);
    let _ = wait_with_timeout(&mut child, Duration::from_secs(20)).expect("it dies");
    // The example ends 2 s later, then the page sees its connection closed and ends.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !processes_tagged(&sandbox.tag).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        processes_tagged(&sandbox.tag),
        Vec::<u32>::new(),
        "processes left after the page ended"
    );
}

#[test]
fn after_a_sigkill_the_next_run_removes_what_the_killed_one_left() {
    let sandbox = Sandbox::new();
    let page = sandbox.write_sleeping_page();
    let mut child = sandbox
        .command(&["--timeout", "300", &page.to_string_lossy()])
        .spawn()
        .unwrap();
    sandbox.wait_for_marker(&mut child);
    // SIGKILL cannot be handled: the session folder stays (the processes die: the zygote
    // exits when our end of its connection closes, and takes its children's trees along).
    signal(&child, nix::sys::signal::Signal::SIGKILL);
    let _ = wait_with_timeout(&mut child, Duration::from_secs(20)).expect("it dies");
    assert_eq!(
        listing(&sandbox.tmp()).len(),
        1,
        "the killed run's session folder"
    );
    std::fs::write(sandbox.pages().join("ok.txt"), ">>> 1 + 1\n2\n").unwrap();
    let output = sandbox.command(&["ok.txt"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    sandbox.assert_clean();
}

/// Content-Length framing, enough to drive the server.
fn frame(stdin: &Mutex<Option<ChildStdin>>, message: serde_json::Value) {
    let body = message.to_string();
    if let Ok(mut stdin) = stdin.lock()
        && let Some(stdin) = stdin.as_mut()
    {
        let _ = write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len());
        let _ = stdin.flush();
    }
}

/// A language server with a client that answers its requests (default settings).
struct Server {
    child: Child,
    stdin: Arc<Mutex<Option<ChildStdin>>>,
}

impl Server {
    fn start(sandbox: &Sandbox) -> Server {
        // `lsp` is a subcommand: no --python before it (the venv says which Python).
        let mut child = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
            .arg("lsp")
            .current_dir(sandbox.pages())
            .env("TMPDIR", sandbox.tmp())
            .env("OBJGRAPH_DOCTEST_TEST_TAG", &sandbox.tag)
            .env("VIRTUAL_ENV", venv_of(&common::python_with_objgraph()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = Arc::new(Mutex::new(child.stdin.take()));
        let stdout = child.stdout.take().unwrap();
        let answers = Arc::clone(&stdin);
        let (initialized, responses) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            answer_requests(BufReader::new(stdout), &answers, &initialized);
        });
        let root = format!("file://{}", sandbox.pages().display());
        frame(
            &stdin,
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"processId": null, "rootUri": root, "capabilities": {}}}),
        );
        // Nothing but `initialized` may follow before the server has answered.
        responses
            .recv_timeout(Duration::from_secs(30))
            .expect("initialize is answered");
        frame(
            &stdin,
            serde_json::json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
        );
        Server { child, stdin }
    }

    fn open(&self, page: &Path) {
        let text = std::fs::read_to_string(page).unwrap();
        frame(
            &self.stdin,
            serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
                "textDocument": {"uri": format!("file://{}", page.display()),
                "languageId": "plaintext", "version": 1, "text": text}}}),
        );
    }
}

/// Reads the server's messages; answers each request from the server with `null`
/// settings (or `null`).
fn answer_requests(
    mut reader: impl BufRead,
    stdin: &Mutex<Option<ChildStdin>>,
    responses: &std::sync::mpsc::Sender<()>,
) {
    loop {
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length: ") {
                length = value.parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let Ok(message) = serde_json::from_slice::<serde_json::Value>(&body) else {
            continue;
        };
        if message.get("result").is_some() {
            let _ = responses.send(());
        }
        if let (Some(id), Some(method)) = (message.get("id"), message.get("method")) {
            let result = if method == "workspace/configuration" {
                serde_json::json!([null])
            } else {
                serde_json::Value::Null
            };
            frame(
                stdin,
                serde_json::json!({"jsonrpc": "2.0", "id": id, "result": result}),
            );
        }
    }
}

fn venv_of(python: &str) -> PathBuf {
    Path::new(python)
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

#[test]
fn sigterm_ends_the_language_server_cleanly() {
    let sandbox = Sandbox::new();
    let page = sandbox.write_sleeping_page();
    let mut server = Server::start(&sandbox);
    server.open(&page);
    sandbox.wait_for_marker(&mut server.child);
    signal(&server.child, nix::sys::signal::Signal::SIGTERM);
    let status = wait_with_timeout(&mut server.child, Duration::from_secs(20)).expect("it exits");
    assert_eq!(status.code(), Some(143));
    sandbox.assert_clean();
}

#[test]
fn a_language_server_session_leaves_nothing_behind() {
    let sandbox = Sandbox::new();
    let page = sandbox.write_sleeping_page();
    let mut server = Server::start(&sandbox);
    server.open(&page);
    sandbox.wait_for_marker(&mut server.child);
    frame(
        &server.stdin,
        serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}),
    );
    frame(
        &server.stdin,
        serde_json::json!({"jsonrpc": "2.0", "method": "exit"}),
    );
    let status = wait_with_timeout(&mut server.child, Duration::from_secs(20)).expect("it exits");
    assert!(status.success(), "{status}");
    sandbox.assert_clean();
}

#[test]
fn a_killed_client_leaves_nothing_behind() {
    let sandbox = Sandbox::new();
    let page = sandbox.write_sleeping_page();
    let mut server = Server::start(&sandbox);
    server.open(&page);
    sandbox.wait_for_marker(&mut server.child);
    // The client goes away: its end of the pipe closes.
    server.stdin.lock().unwrap().take();
    let status = wait_with_timeout(&mut server.child, Duration::from_secs(20)).expect("it exits");
    assert!(status.success(), "{status}");
    sandbox.assert_clean();
}

#[test]
fn an_editor_rerun_ends_the_processes_of_the_run_it_replaces() {
    let sandbox = Sandbox::new();
    let record = sandbox.root.path().join("daemons");
    let page = sandbox.pages().join("daemon.txt");
    let text = |comment: &str| {
        format!(
            ">>> import subprocess, sys  {comment}\n\
             >>> daemon = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\n\
             >>> _ = open({record:?}, 'a').write('%d\\n' % daemon.pid)\n\
             >>> 1 + 1\n2\n",
            record = record.to_string_lossy()
        )
    };
    std::fs::write(&page, text("")).unwrap();
    let mut server = Server::start(&sandbox);
    server.open(&page);
    let first = pids_in(&record, 1);
    assert_eq!(first.len(), 1, "the page did not run");
    // An edit to the first example re-runs the page from its start.
    frame(
        &server.stdin,
        serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": format!("file://{}", page.display()), "version": 2},
            "contentChanges": [{"text": text("# again")}]}}),
    );
    let both = pids_in(&record, 2);
    assert_eq!(both.len(), 2, "the page did not run again");
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(both[0]) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !alive(both[0]),
        "the replaced run's daemon is still running"
    );
    assert!(alive(both[1]), "the current run's daemon should be running");
    server.stdin.lock().unwrap().take();
    let status = wait_with_timeout(&mut server.child, Duration::from_secs(20)).expect("it exits");
    assert!(status.success(), "{status}");
    assert!(!alive(both[1]), "the daemon outlived the session");
    sandbox.assert_clean();
}
