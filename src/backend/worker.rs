//! Python processes: a warm zygote, and page processes forked from it (or started afresh
//! where fork is not available), each driven over its own connection.
//!
//! Every process runs in its own process group and is killed (SIGKILL to the group) when the
//! value that owns it is dropped; the zygote reaps its children and reports how each ended.
//! Page processes also die with the zygote (PR_SET_PDEATHSIG), and the zygote exits when our
//! end of its connection closes, so nothing outlives us. Per-example deadlines are enforced
//! here, not trusted to Python.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::protocol::{Event, ExampleResult, Hello, Request};

/// The Python side, embedded in the binary.
pub const DRIVER: &str = include_str!("driver.py");

/// How long a Python process may take to start and say hello.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a page process may take to set itself up.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest protocol line we accept (an example's output is capped well below this).
const MAX_LINE: u64 = 256 * 1024 * 1024;

/// What can go wrong starting or talking to Python.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("cannot start {python}: {message}")]
    Start { python: String, message: String },
    #[error("the Python process stopped answering: {0}")]
    Lost(String),
    #[error("the page's setup code failed:\n{0}")]
    Setup(String),
    #[error("I/O error talking to Python: {0}")]
    Io(#[from] std::io::Error),
}

/// Settings for starting the backend.
#[derive(Debug, Clone)]
pub struct BackendOptions {
    pub python: PathBuf,
    /// Modules imported once in the zygote (missing ones are reported, not fatal).
    pub preload: Vec<String>,
    /// Fork page processes from a warm zygote (false: a fresh interpreter per page).
    pub fork: bool,
}

/// What the interpreter said about itself.
#[derive(Debug, Clone, Default)]
pub struct InterpreterInfo {
    pub version: String,
    pub executable: String,
    pub preloaded: Vec<String>,
    pub preload_errors: Vec<(String, String)>,
}

/// How a process ended, as the zygote saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Code(i32),
    Signal(i32),
}

/// Exit statuses reported by the zygote, waited on by page owners after a connection drops.
#[derive(Debug, Default)]
pub(super) struct ExitBook {
    statuses: Mutex<HashMap<i32, ExitStatus>>,
    changed: Condvar,
}

impl ExitBook {
    fn record(&self, pid: i32, status: ExitStatus) {
        if let Ok(mut statuses) = self.statuses.lock() {
            statuses.insert(pid, status);
            self.changed.notify_all();
        }
    }

    fn wait_for(&self, pid: i32, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let mut statuses = self.statuses.lock().ok()?;
        loop {
            if let Some(status) = statuses.remove(&pid) {
                return Some(status);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            statuses = self.changed.wait_timeout(statuses, left).ok()?.0;
        }
    }
}

/// A process we started, killed with its process group when dropped.
#[derive(Debug)]
pub(super) struct OwnedChild(Child);

impl Drop for OwnedChild {
    fn drop(&mut self) {
        let _ = killpg(Pid::from_raw(self.0.id() as i32), Signal::SIGKILL);
        let _ = self.0.wait();
    }
}

struct Zygote {
    writer: Mutex<UnixStream>,
    _reader: std::thread::JoinHandle<()>,
    _process: OwnedChild,
}

/// The backend: a socket every Python process connects to, and the zygote.
pub struct Backend {
    options: BackendOptions,
    directory: tempfile::TempDir,
    socket_path: PathBuf,
    listener: Mutex<UnixListener>,
    zygote: Option<Zygote>,
    exits: Arc<ExitBook>,
    info: InterpreterInfo,
    tokens: AtomicU64,
}

impl Backend {
    /// Starts the zygote (when forking) and waits for it to say hello.
    pub fn start(options: BackendOptions) -> Result<Backend, BackendError> {
        let directory = tempfile::Builder::new()
            .prefix("objgraph-doctest-")
            .tempdir()?;
        let socket_path = directory.path().join("backend.sock");
        let listener = UnixListener::bind(&socket_path)?;
        listener.set_nonblocking(true)?;
        let mut backend = Backend {
            options,
            directory,
            socket_path,
            listener: Mutex::new(listener),
            zygote: None,
            exits: Arc::new(ExitBook::default()),
            info: InterpreterInfo::default(),
            tokens: AtomicU64::new(0),
        };
        let mode = if backend.options.fork {
            "zygote"
        } else {
            "probe"
        };
        let mut process = backend.spawn_python(mode)?;
        let (stream, hello) = backend.accept(Some(&mut process), START_TIMEOUT)?;
        backend.info = InterpreterInfo {
            version: hello.python.clone().unwrap_or_default(),
            executable: hello.executable.clone().unwrap_or_default(),
            preloaded: hello.preloaded.clone(),
            preload_errors: hello.preload_errors.clone().into_iter().collect(),
        };
        if backend.options.fork && hello.fork {
            let reader_stream = stream.try_clone()?;
            let exits = Arc::clone(&backend.exits);
            let reader = std::thread::Builder::new()
                .name("zygote-events".into())
                .spawn(move || read_zygote_events(reader_stream, &exits))?;
            backend.zygote = Some(Zygote {
                writer: Mutex::new(stream),
                _reader: reader,
                _process: OwnedChild(process.0.take().expect("spawned child")),
            });
        } else {
            backend.options.fork = false;
        }
        Ok(backend)
    }

    /// A token no other process of this backend has said hello with.
    pub(super) fn next_token(&self, kind: &str) -> String {
        format!("{kind}-{}", self.tokens.fetch_add(1, Ordering::Relaxed))
    }

    pub(super) fn exits(&self) -> Arc<ExitBook> {
        Arc::clone(&self.exits)
    }

    pub fn info(&self) -> &InterpreterInfo {
        &self.info
    }

    /// True when page processes are forked from a warm zygote.
    pub fn forks(&self) -> bool {
        self.zygote.is_some()
    }

    /// A new page process, set up to run the page at `path` in `workdir`.
    pub fn open_page(&self, setup: &PageSetup<'_>) -> Result<PageProcess, BackendError> {
        let token = self.next_token("page");
        let (stream, hello, spawned) = match &self.zygote {
            Some(zygote) => {
                // One fork at a time: the next connection on the socket is the child's.
                let listener = self.lock_listener()?;
                let mut writer = zygote
                    .writer
                    .lock()
                    .map_err(|_| BackendError::Lost("the zygote's connection".into()))?;
                write_request(&mut writer, &Request::Fork { token: &token })?;
                drop(writer);
                let (stream, hello) = accept_from(&listener, None, START_TIMEOUT)?;
                (stream, hello, None)
            }
            None => {
                let mut process = self.spawn_python(&token)?;
                let listener = self.lock_listener()?;
                let (stream, hello) = accept_from(&listener, Some(&mut process), START_TIMEOUT)?;
                (stream, hello, process.0.take().map(OwnedChild))
            }
        };
        if hello.token.as_deref() != Some(token.as_str()) {
            return Err(BackendError::Lost(format!(
                "expected page process {token}, got {:?}",
                hello.token
            )));
        }
        let reader = BufReader::new(stream.try_clone()?);
        let mut page = PageProcess {
            pid: hello.pid,
            group: hello.pid,
            owns_group: true,
            stream,
            reader,
            exits: Arc::clone(&self.exits),
            _spawned: spawned,
        };
        page.send(&Request::Setup {
            path: setup.path,
            name: setup.name,
            workdir: &setup.workdir.to_string_lossy(),
            setup_code: setup.setup_code,
            output_cap: setup.output_cap,
            memory_limit: setup.memory_limit,
        })?;
        match page.read_event(Instant::now() + SETUP_TIMEOUT) {
            Ok(Event::Ready) => Ok(page),
            Ok(Event::SetupError { traceback }) => Err(BackendError::Setup(traceback)),
            Ok(other) => Err(BackendError::Lost(format!("unexpected {other:?}"))),
            Err(fault) => Err(BackendError::Lost(format!("during page setup: {fault}"))),
        }
    }

    pub(super) fn lock_listener(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, UnixListener>, BackendError> {
        self.listener
            .lock()
            .map_err(|_| BackendError::Lost("the backend's socket".into()))
    }

    fn spawn_python(&self, mode: &str) -> Result<SpawnedPython, BackendError> {
        let stderr = std::fs::File::create(self.directory.path().join(format!("{mode}.stderr")))?;
        let child = Command::new(&self.options.python)
            .arg("-c")
            .arg(DRIVER)
            .arg(&self.socket_path)
            .arg(mode)
            .args(&self.options.preload)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONIOENCODING", "utf-8")
            .process_group(0)
            .spawn()
            .map_err(|error| BackendError::Start {
                python: self.options.python.display().to_string(),
                message: error.to_string(),
            })?;
        Ok(SpawnedPython(Some(child)))
    }

    fn accept(
        &self,
        process: Option<&mut SpawnedPython>,
        timeout: Duration,
    ) -> Result<(UnixStream, Hello), BackendError> {
        let listener = self.lock_listener()?;
        accept_from(&listener, process, timeout).map_err(|error| match error {
            BackendError::Lost(message) => BackendError::Start {
                python: self.options.python.display().to_string(),
                message: format!("{message}{}", self.stderr_tail()),
            },
            other => other,
        })
    }

    /// The end of the interpreter's stderr, for messages about a failed start.
    fn stderr_tail(&self) -> String {
        let mut text = String::new();
        for mode in ["zygote", "probe"] {
            let path = self.directory.path().join(format!("{mode}.stderr"));
            if let Ok(mut file) = std::fs::File::open(path) {
                let mut bytes = Vec::new();
                let _ = file.read_to_end(&mut bytes);
                let tail = &bytes[bytes.len().saturating_sub(2000)..];
                text.push_str(&String::from_utf8_lossy(tail));
            }
        }
        if text.trim().is_empty() {
            String::new()
        } else {
            format!("; it printed:\n{}", text.trim_end())
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(zygote) = &self.zygote
            && let Ok(mut writer) = zygote.writer.lock()
        {
            let _ = write_request(&mut writer, &Request::Exit);
            let _ = writer.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// A just-spawned interpreter, killed unless it is handed on.
pub(super) struct SpawnedPython(Option<Child>);

impl Drop for SpawnedPython {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            drop(OwnedChild(child));
        }
    }
}

/// What a page process needs to know to start.
#[derive(Debug, Clone)]
pub struct PageSetup<'a> {
    /// The page's path as `__file__` will hold it.
    pub path: &'a str,
    /// The page's file name (for `<doctest NAME[i]>`).
    pub name: &'a str,
    /// The page's fresh working directory (also `tempfile.tempdir`).
    pub workdir: &'a Path,
    pub setup_code: Option<&'a str>,
    /// Output kept per example, in characters.
    pub output_cap: usize,
    /// RLIMIT_AS for the page process, in bytes.
    pub memory_limit: Option<u64>,
}

/// Why an example did not produce a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    #[error("timed out")]
    Timeout,
    #[error("{}", describe_death(*.0))]
    Died(Option<ExitStatus>),
    #[error("protocol error: {0}")]
    Protocol(String),
}

fn describe_death(status: Option<ExitStatus>) -> String {
    match status {
        Some(ExitStatus::Code(code)) => format!("the interpreter exited with status {code}"),
        Some(ExitStatus::Signal(signal)) => {
            let name = Signal::try_from(signal)
                .map_or_else(|_| format!("signal {signal}"), |s| s.to_string());
            format!("the interpreter was killed by {name}")
        }
        None => "the interpreter died".to_owned(),
    }
}

/// One page's interpreter. Killed with its process group when dropped.
pub struct PageProcess {
    pub(super) pid: i32,
    /// The process group of the page's first process; checkpoints and runners forked from
    /// them share it.
    pub(super) group: i32,
    /// True for the page's first process: dropping it kills the whole group.
    pub(super) owns_group: bool,
    pub(super) stream: UnixStream,
    pub(super) reader: BufReader<UnixStream>,
    pub(super) exits: Arc<ExitBook>,
    pub(super) _spawned: Option<OwnedChild>,
}

impl PageProcess {
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Runs one example; `timeout` bounds it from the moment it is sent.
    pub fn run(
        &mut self,
        index: usize,
        source: &str,
        timeout: Duration,
    ) -> Result<ExampleResult, Fault> {
        let deadline = Instant::now() + timeout;
        if self.send(&Request::Run { index, source }).is_err() {
            return Err(self.death());
        }
        match self.read_event(deadline)? {
            Event::Result(result) if result.index == index => Ok(result),
            other => Err(Fault::Protocol(format!("unexpected {other:?}"))),
        }
    }

    pub(super) fn send(&mut self, request: &Request<'_>) -> std::io::Result<()> {
        write_request(&mut self.stream, request)
    }

    pub(super) fn read_event(&mut self, deadline: Instant) -> Result<Event, Fault> {
        let mut line = Vec::new();
        loop {
            let left = deadline
                .checked_duration_since(Instant::now())
                .filter(|left| !left.is_zero())
                .ok_or_else(|| self.kill_for(Fault::Timeout))?;
            if self.stream.set_read_timeout(Some(left)).is_err() {
                return Err(self.death());
            }
            let limit = MAX_LINE.saturating_sub(line.len() as u64);
            match (&mut self.reader).take(limit).read_until(b'\n', &mut line) {
                Ok(0) => return Err(self.death()),
                Ok(_) if line.ends_with(b"\n") => break,
                Ok(_) if line.len() as u64 >= MAX_LINE => {
                    return Err(self.kill_for(Fault::Protocol("message too long".into())));
                }
                Ok(_) => continue,
                Err(error)
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(self.death()),
            }
        }
        serde_json::from_slice(&line).map_err(|error| Fault::Protocol(error.to_string()))
    }

    fn kill_for(&self, fault: Fault) -> Fault {
        self.kill();
        fault
    }

    /// Kills this process (and, for a page's first process, everything forked from it).
    pub(super) fn kill(&self) {
        if self.owns_group {
            let _ = killpg(Pid::from_raw(self.group), Signal::SIGKILL);
        } else {
            let _ = nix::sys::signal::kill(Pid::from_raw(self.pid), Signal::SIGKILL);
        }
    }

    /// The connection dropped: the process is gone; say how, if the zygote saw it.
    fn death(&self) -> Fault {
        Fault::Died(self.exits.wait_for(self.pid, Duration::from_millis(500)))
    }
}

impl Drop for PageProcess {
    fn drop(&mut self) {
        let _ = write_request(&mut self.stream, &Request::Exit);
        self.kill();
    }
}

pub(super) fn write_request(stream: &mut UnixStream, request: &Request<'_>) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)
}

/// Waits for the next connection and its hello, watching `process` (if given) for an early
/// death so that a broken interpreter is reported at once, not after the timeout.
pub(super) fn accept_from(
    listener: &UnixListener,
    mut process: Option<&mut SpawnedPython>,
    timeout: Duration,
) -> Result<(UnixStream, Hello), BackendError> {
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false)?;
                stream.set_read_timeout(Some(timeout))?;
                let mut reader = BufReader::new(stream.try_clone()?);
                let mut line = String::new();
                reader.read_line(&mut line)?;
                stream.set_read_timeout(None)?;
                return match serde_json::from_str(&line) {
                    Ok(Event::Hello(hello)) => Ok((stream, hello)),
                    _ => Err(BackendError::Lost(format!(
                        "unexpected first message {line:?}"
                    ))),
                };
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(SpawnedPython(Some(child))) = process.as_deref_mut()
                    && let Ok(Some(status)) = child.try_wait()
                {
                    return Err(BackendError::Lost(format!(
                        "the interpreter exited ({status})"
                    )));
                }
                if Instant::now() >= deadline {
                    return Err(BackendError::Lost("no answer from the interpreter".into()));
                }
                std::thread::sleep(Duration::from_micros(500));
            }
            Err(error) => return Err(error.into()),
        }
    }
}

fn read_zygote_events(stream: UnixStream, exits: &ExitBook) {
    let reader = BufReader::new(stream);
    for line in reader.lines() {
        let Ok(line) = line else { break };
        if let Ok(Event::Exited { pid, code, signal }) = serde_json::from_str(&line) {
            let status = match (code, signal) {
                (_, Some(signal)) => ExitStatus::Signal(signal),
                (Some(code), None) => ExitStatus::Code(code),
                (None, None) => ExitStatus::Code(0),
            };
            exits.record(pid, status);
        }
    }
}
