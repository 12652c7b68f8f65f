//! A small LSP client for tests: speaks JSON-RPC with Content-Length framing over the
//! server's stdio, answers the server's requests (configuration, progress), and lets a test
//! wait for notifications.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How to start the server under test.
#[derive(Debug, Default, Clone)]
pub struct ClientOptions {
    /// Extra environment for the server (test hooks).
    pub env: Vec<(String, String)>,
    /// Variables the server must not inherit.
    pub env_remove: Vec<String>,
    /// Server requests this client never answers (a slow or broken client).
    pub unanswered: Vec<String>,
    /// Keep the server's `workspace/configuration` requests unanswered until
    /// [`LspClient::release_configuration`].
    pub hold_configuration: bool,
}

/// A running `objgraph-doctest lsp` with a client attached.
pub struct LspClient {
    pub child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications seen while waiting for something else.
    pub backlog: Vec<Value>,
    /// Settings answered to `workspace/configuration`.
    pub settings: Value,
    /// An environment tag every process the server starts inherits (for leak checks).
    pub tag: String,
    /// The server's private TMPDIR, and where its stderr goes (see [`LspClient::stderr`]).
    private: tempfile::TempDir,
    hold_configuration: bool,
    held: Vec<Value>,
    unanswered: Vec<String>,
    /// The methods of the requests the server sent us, in order.
    pub server_requests: Vec<String>,
}

impl LspClient {
    pub fn start(cwd: &std::path::Path, settings: Value) -> LspClient {
        LspClient::start_with(cwd, settings, ClientOptions::default())
    }

    pub fn start_with(cwd: &std::path::Path, settings: Value, options: ClientOptions) -> LspClient {
        static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let tag = format!(
            "{}-{}",
            std::process::id(),
            SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let private = tempfile::tempdir().expect("private tempdir");
        let tmp = private.path().join("tmp");
        std::fs::create_dir(&tmp).expect("private TMPDIR");
        let stderr = std::fs::File::create(private.path().join("stderr")).expect("stderr file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"));
        for key in &options.env_remove {
            command.env_remove(key);
        }
        let mut child = command
            .arg("lsp")
            .env("OBJGRAPH_DOCTEST_TEST_TAG", &tag)
            .env("TMPDIR", &tmp)
            .envs(options.env.iter().map(|(key, value)| (key, value)))
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the server starts");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        LspClient {
            stdin: child.stdin.take(),
            child,
            incoming,
            next_id: 1,
            backlog: Vec::new(),
            settings,
            tag,
            private,
            hold_configuration: options.hold_configuration,
            held: Vec::new(),
            unanswered: options.unanswered,
            server_requests: Vec::new(),
        }
    }

    /// What the server wrote on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.private.path().join("stderr")).unwrap_or_default()
    }

    /// Answers the held `workspace/configuration` requests with `settings` (and answers later
    /// ones at once).
    pub fn release_configuration(&mut self, settings: Value) {
        self.settings = settings;
        self.hold_configuration = false;
        for id in std::mem::take(&mut self.held) {
            let reply = json!({"jsonrpc": "2.0", "id": id, "result": [self.settings.clone()]});
            self.send(&reply);
        }
    }

    /// Whether the server has asked for its configuration (and we hold the answer).
    pub fn configuration_requested(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.held.is_empty() && Instant::now() < deadline {
            let _ = self.wait_for(Duration::from_millis(50), |_| false);
        }
        !self.held.is_empty()
    }

    pub fn send(&mut self, message: &Value) {
        let body = serde_json::to_vec(message).expect("serialise");
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = write!(stdin, "Content-Length: {}\r\n\r\n", body.len());
            let _ = stdin.write_all(&body);
            let _ = stdin.flush();
        }
    }

    /// Python processes the server started that are still alive.
    pub fn python_processes(&self) -> Vec<u32> {
        let server = self.child.id();
        processes_tagged(&self.tag)
            .into_iter()
            .filter(|&pid| pid != server)
            .collect()
    }

    /// Takes the server's stdin, so that dropping it closes the server's input.
    pub fn stdin_closer(&mut self) -> Option<ChildStdin> {
        self.stdin.take()
    }

    /// Writes raw bytes (for malformed-input tests).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = stdin.write_all(bytes);
            let _ = stdin.flush();
        }
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its response (answering server requests meanwhile).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response(id, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("no response to {method}"))
    }

    /// Sends a request without waiting; returns its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// The response to request `id`, waiting up to `timeout` for it.
    pub fn response(&mut self, id: i64, timeout: Duration) -> Option<Value> {
        self.wait_for(timeout, |message| {
            message.get("id") == Some(&json!(id)) && message.get("method").is_none()
        })
    }

    /// Waits for a message matching `wanted`, keeping the others in `backlog`.
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        wanted: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        if let Some(position) = self.backlog.iter().position(&wanted) {
            return Some(self.backlog.remove(position));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.incoming.recv_timeout(left) {
                Ok(message) => {
                    if self.answer_server_request(&message) {
                        continue;
                    }
                    if wanted(&message) {
                        return Some(message);
                    }
                    self.backlog.push(message);
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return None;
                }
            }
        }
    }

    /// Waits for diagnostics of `uri` that satisfy `wanted`.
    pub fn diagnostics_where(
        &mut self,
        uri: &str,
        timeout: Duration,
        wanted: impl Fn(&[Value]) -> bool,
    ) -> Option<Vec<Value>> {
        let found = self.wait_for(timeout, |message| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
                && wanted(
                    message["params"]["diagnostics"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or(&[]),
                )
        })?;
        found["params"]["diagnostics"].as_array().cloned()
    }

    fn answer_server_request(&mut self, message: &Value) -> bool {
        let (Some(id), Some(method)) = (
            message.get("id"),
            message.get("method").and_then(Value::as_str),
        ) else {
            return false;
        };
        self.server_requests.push(method.to_owned());
        if self
            .unanswered
            .iter()
            .any(|unanswered| unanswered == method)
        {
            return true;
        }
        let result = match method {
            "workspace/configuration" if self.hold_configuration => {
                self.held.push(id.clone());
                return true;
            }
            "workspace/configuration" => json!([self.settings.clone()]),
            _ => Value::Null,
        };
        let reply = json!({"jsonrpc": "2.0", "id": id, "result": result});
        self.send(&reply);
        true
    }

    pub fn initialize(&mut self, root: &std::path::Path) -> Value {
        self.initialize_with(root, json!({"window": {"workDoneProgress": true}}))
    }

    /// `initialize` (with our settings as `initializationOptions`) and `initialized`, the
    /// client announcing `capabilities`.
    pub fn initialize_with(&mut self, root: &std::path::Path, capabilities: Value) -> Value {
        let root_uri = format!("file://{}", root.display());
        let response = self.request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "test"}],
                "initializationOptions": self.settings.clone(),
                "capabilities": capabilities,
            }),
        );
        self.notify("initialized", json!({}));
        response
    }

    pub fn open(&mut self, uri: &str, language: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
        );
    }

    /// Sends `didChange` with one change: `range` (an LSP range as JSON) replaced by `text`,
    /// or the whole text when `range` is `None`.
    pub fn change(&mut self, uri: &str, version: i64, range: Option<Value>, text: &str) {
        let change = match range {
            Some(range) => json!({"range": range, "text": text}),
            None => json!({"text": text}),
        };
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
        );
    }

    /// The Markdown of the hover at a position ("" when there is none).
    pub fn hover_text(&mut self, uri: &str, line: u32, character: u32) -> String {
        let hover = self.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
        );
        hover["result"]["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Ends the session politely and waits for the server to exit.
    pub fn shutdown(mut self) -> std::process::ExitStatus {
        let _ = self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        wait_with_timeout(&mut self.child, Duration::from_secs(10)).expect("the server exits")
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length:") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// Live (not zombie) processes whose environment holds `OBJGRAPH_DOCTEST_TEST_TAG=tag`,
/// other than the server itself (the tag is `<test pid>-<n>`; the server's pid is excluded
/// by the caller passing it in `LspClient::python_processes`).
pub fn processes_tagged(tag: &str) -> Vec<u32> {
    let needle = format!("OBJGRAPH_DOCTEST_TEST_TAG={tag}\0");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        if stat.contains(") Z ") {
            continue;
        }
        if String::from_utf8_lossy(&environ).contains(&needle) {
            found.push(pid);
        }
    }
    found
}
