//! Python processes: a warm zygote, and page processes forked from it (or started afresh
//! where fork is not available), each driven over its own connection.
//!
//! Every process runs in its own process group and is a child subreaper, so that whatever
//! an example starts stays in its process tree; dropping the value that owns a process
//! kills that whole tree (`procs::kill_tree`) and its group. The zygote reaps its children,
//! reports how each ended, and kills orphans re-parented to it. Forked page processes also
//! die with the zygote (PR_SET_PDEATHSIG), and the zygote kills its children's trees and
//! exits when our end of its connection closes, so nothing outlives us. A zygote that dies
//! or is stopped is replaced. Per-example deadlines are enforced here, not trusted to
//! Python. See docs/processes.md.
//!
//! A page forked from the zygote gets its connection with the fork request: one end of a
//! socket pair, passed with SCM_RIGHTS. Every other process (the zygote, `--no-fork`
//! pages, checkpoint runners) connects to one socket in a private (0700) directory and is
//! handed out by token (`acceptor.rs`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::acceptor::{Acceptor, Expected, accept_connections};
use super::procs;
use super::protocol::{Event, ExampleResult, Hello, Request};
use crate::engine::page::WarningCapture;

/// The Python side, embedded in the binary.
pub const DRIVER: &str = include_str!("driver.py");

/// What `python -c` runs: a one-line program that compiles and runs [`DRIVER`]. Given as
/// the `-c` program itself, the driver's syntax tree would stay in memory as long as the
/// program runs (CPython frees a `-c` program's tree when it ends), which for the zygote
/// and every process forked from it is its whole life: 1.9 MiB of 12.5 MiB anonymous memory
/// (docs/benchmarks.md). The driver keeps its name, `<string>`, and its line numbers.
fn driver_program() -> &'static str {
    static PROGRAM: OnceLock<String> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        format!(
            "exec(compile({}, '<string>', 'exec'))\n",
            python_literal(DRIVER)
        )
    })
}

/// `text` as a Python string literal that Python 2.7 and 3 both read back as `text` (the
/// program must tell an old interpreter that it is too old).
fn python_literal(text: &str) -> String {
    use std::fmt::Write as _;
    let mut literal = String::with_capacity(text.len() + text.len() / 16 + 3);
    literal.push_str("u'");
    for character in text.chars() {
        match character {
            '\\' => literal.push_str("\\\\"),
            '\'' => literal.push_str("\\'"),
            '\n' => literal.push_str("\\n"),
            ' '..='~' => literal.push(character),
            other if u32::from(other) <= 0xffff => {
                let _ = write!(literal, "\\u{:04x}", u32::from(other));
            }
            other => {
                let _ = write!(literal, "\\U{:08x}", u32::from(other));
            }
        }
    }
    literal.push('\'');
    literal
}

/// How long a Python process may take to start and say hello.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a page process may take to set itself up.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest protocol line we accept (an example's output is capped well below this).
const MAX_LINE: u64 = 256 * 1024 * 1024;
/// Exit reports kept for owners that have not asked yet.
const MAX_UNCLAIMED_EXITS: usize = 4096;
/// How often a lost zygote is replaced before the backend gives up.
const MAX_RESTARTS: usize = 3;
/// Longest socket path `bind` takes (`sun_path` is 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;
/// The page's TMPDIR (and `tempfile.tempdir`), inside its working directory; the driver
/// makes it (`use_page_tmpdir`).
pub const PAGE_TMPDIR: &str = ".tmp";
/// The oldest Python that can run pages (`os.waitstatus_to_exitcode`, `dirs_exist_ok`...).
pub const OLDEST_PYTHON: (u32, u32) = (3, 9);

/// What can go wrong starting or talking to Python.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("cannot start {python}: {message}")]
    Start { python: String, message: String },
    #[error(
        "{python} is Python {version}; objgraph-doctest needs CPython 3.9 or newer (3.9 to 3.13 \
         are supported): pass --python (or set `python` in the configuration) to a newer \
         interpreter"
    )]
    Unsupported { python: String, version: String },
    #[error("the Python process stopped answering: {0}")]
    Lost(String),
    /// The warm interpreter that forks page processes is dead or stopped, and could not be
    /// replaced (see [`Backend::open_page`]).
    #[error("the Python zygote was lost: {0}")]
    ZygoteLost(String),
    #[error("the page's setup code failed:\n{0}")]
    Setup(String),
    #[error("objgraph-doctest's Python side failed (please report this):\n{0}")]
    Internal(String),
    #[error(
        "the temporary directory {} is too deep for a Unix socket ({length} bytes; at most \
         {MAX_SOCKET_PATH}) and no short private directory could be made in /tmp ({reason}): \
         set TMPDIR to a shorter directory",
        path.display()
    )]
    SocketPathTooLong {
        path: PathBuf,
        length: usize,
        reason: String,
    },
    #[error(
        "cannot make a private directory in {}: {message}; set TMPDIR to a directory you can \
         write",
        path.display()
    )]
    TempDir { path: PathBuf, message: String },
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
    /// Where the interpreter starts: `sys.path[0]` is `''` for `python -c`, so the preload
    /// modules are imported from here first (the project root). `None`: our own directory.
    pub directory: Option<PathBuf>,
}

/// What the interpreter said about itself.
#[derive(Debug, Clone, Default)]
pub struct InterpreterInfo {
    pub version: String,
    pub executable: String,
    pub preloaded: Vec<String>,
    pub preload_errors: Vec<(String, String)>,
    /// numpy can be found: pytest-doctestplus compares FLOAT_CMP's numbers with
    /// `numpy.isclose` there.
    pub numpy: bool,
}

/// How a process ended, as the zygote saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Code(i32),
    Signal(i32),
}

/// Exit statuses reported by the zygote and by checkpoints, waited on by page owners after
/// a connection drops.
#[derive(Debug, Default)]
pub(super) struct ExitBook {
    book: Mutex<Book>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Book {
    statuses: HashMap<i32, ExitStatus>,
    /// Pages asked of the zygote that have not said hello yet, by token, with how each
    /// ended once the zygote says (its exit reports carry the token).
    forking: HashMap<String, Option<ExitStatus>>,
}

impl ExitBook {
    fn expect_fork(&self, token: &str) {
        if let Ok(mut book) = self.book.lock() {
            book.forking.insert(token.to_owned(), None);
        }
    }

    /// How the process forked for `token` ended, if the zygote said so already.
    fn fork_ended(&self, token: &str) -> Option<ExitStatus> {
        *self.book.lock().ok()?.forking.get(token)?
    }

    fn forget_fork(&self, token: &str) {
        if let Ok(mut book) = self.book.lock() {
            book.forking.remove(token);
        }
    }

    /// Records how the zygote's child with `token` ended, when a page start waits for it.
    fn record_fork_exit(&self, token: &str, status: ExitStatus) {
        if let Ok(mut book) = self.book.lock()
            && let Some(slot) = book.forking.get_mut(token)
        {
            *slot = Some(status);
        }
    }

    pub(super) fn record(&self, pid: i32, status: ExitStatus) {
        if let Ok(mut book) = self.book.lock() {
            // Most reports are of pages that ended normally, which nobody waits for: keep
            // a long editor session's book from growing without bound.
            if book.statuses.len() >= MAX_UNCLAIMED_EXITS {
                book.statuses.clear();
            }
            book.statuses.insert(pid, status);
            self.changed.notify_all();
        }
    }

    fn wait_for(&self, pid: i32, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let mut book = self.book.lock().ok()?;
        loop {
            if let Some(status) = book.statuses.remove(&pid) {
                return Some(status);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            book = self.changed.wait_timeout(book, left).ok()?.0;
        }
    }
}

/// Pids of the Python processes we spawned ourselves (the zygote, `--no-fork` pages):
/// their owners reap them; any other child of ours is an orphan to kill
/// (`shutdown::reap_orphans`).
static SPAWNED: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// The pids of the Python processes we spawned and still own; nobody spawns while it is
/// held.
pub(super) fn spawned_lock() -> Result<std::sync::MutexGuard<'static, Vec<i32>>, ()> {
    SPAWNED.lock().map_err(|_| ())
}

/// A process we started, killed with its tree and process group when dropped. Whatever
/// the binary starts goes through here: a child it does not know of is taken for an
/// orphan (we are a subreaper) and killed (backend/shutdown.rs).
#[derive(Debug)]
pub struct OwnedChild(Child);

impl OwnedChild {
    /// Spawns `command`, recording the pid before anyone can look for orphans.
    pub fn spawn(command: &mut Command) -> std::io::Result<OwnedChild> {
        let mut pids = SPAWNED
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?;
        let child = command.spawn()?;
        pids.push(child.id() as i32);
        Ok(OwnedChild(child))
    }

    fn pid(&self) -> i32 {
        self.0.id() as i32
    }

    /// The process, to talk to and wait for (dropping `self` still kills and reaps it).
    pub fn child(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for OwnedChild {
    fn drop(&mut self) {
        let pid = self.pid();
        procs::kill_tree(pid, true);
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        let _ = self.0.wait();
        if let Ok(mut pids) = SPAWNED.lock() {
            pids.retain(|&owned| owned != pid);
        }
    }
}

/// The warm interpreter that forks page processes.
pub(super) struct Zygote {
    pid: i32,
    /// Its stderr, which its page processes share.
    log: PathBuf,
    writer: Mutex<UnixStream>,
    /// Cleared by the reader thread when the zygote's connection ends.
    connected: Arc<AtomicBool>,
    _reader: std::thread::JoinHandle<()>,
    _process: OwnedChild,
}

impl Zygote {
    /// Why this zygote can fork no more, if it cannot: gone, or stopped (a stopped one
    /// would leave every later page waiting for its fork's timeout).
    fn trouble(&self) -> Option<String> {
        if !self.connected.load(Ordering::Acquire) {
            return Some("it exited".into());
        }
        match procs::stat(self.pid).map(|stat| stat.state) {
            None | Some('Z' | 'X') => Some("it exited".into()),
            Some('T' | 't') => Some("it was stopped (SIGSTOP or a debugger)".into()),
            Some(_) => None,
        }
    }
}

impl Drop for Zygote {
    fn drop(&mut self) {
        if let Ok(mut writer) = self.writer.lock() {
            let _ = write_request(&mut writer, &Request::Exit);
            let _ = writer.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// The backend: a socket every Python process connects to, and the zygote.
pub struct Backend {
    options: BackendOptions,
    directory: tempfile::TempDir,
    socket_path: PathBuf,
    acceptor: Arc<Acceptor>,
    /// The zygote in use (`None` without fork, or once it was lost for good). Pages forked
    /// from it hold it too, so a replaced zygote lives until its last page ends.
    zygote: Mutex<Option<Arc<Zygote>>>,
    /// Why the zygote is gone for good, once it is.
    lost: Mutex<Option<String>>,
    restarts: AtomicUsize,
    exits: Arc<ExitBook>,
    info: InterpreterInfo,
    serial: AtomicU64,
    /// Page processes forked ahead of need, and how many to keep.
    spares: Mutex<Vec<Spare>>,
    spares_wanted: AtomicUsize,
}

/// A page process forked ahead: it waits for its set-up on `stream`.
struct Spare {
    forked: Forked,
    zygote: Arc<Zygote>,
}

/// A page process asked of the zygote: our end of its connection, its token and our
/// handle on its results log (none where a memfd cannot be made).
struct Forked {
    stream: UnixStream,
    token: String,
    log: Option<std::fs::File>,
}

impl Backend {
    /// Starts the zygote (when forking) and waits for it to say hello.
    pub fn start(options: BackendOptions) -> Result<Backend, BackendError> {
        let directory = private_directory()?;
        let (directory, socket_path) = socket_in(directory)?;
        let listener = UnixListener::bind(&socket_path)?;
        std::fs::set_permissions(&socket_path, std::fs::Permissions::from_mode(0o600))?;
        let acceptor = Arc::new(Acceptor::default());
        {
            let acceptor = Arc::clone(&acceptor);
            std::thread::Builder::new()
                .name("backend-acceptor".into())
                .spawn(move || accept_connections(listener, acceptor))?;
        }
        let mut backend = Backend {
            options,
            directory,
            socket_path,
            acceptor,
            zygote: Mutex::new(None),
            lost: Mutex::new(None),
            restarts: AtomicUsize::new(0),
            exits: Arc::new(ExitBook::default()),
            info: InterpreterInfo::default(),
            serial: AtomicU64::new(0),
            spares: Mutex::new(Vec::new()),
            spares_wanted: AtomicUsize::new(0),
        };
        let mode = if backend.options.fork {
            "zygote"
        } else {
            "probe"
        };
        let (zygote, hello) = backend.start_interpreter(mode)?;
        backend.info = InterpreterInfo {
            version: hello.python.clone().unwrap_or_default(),
            executable: hello.executable.clone().unwrap_or_default(),
            preloaded: hello.preloaded.clone(),
            preload_errors: hello.preload_errors.clone().into_iter().collect(),
            numpy: hello.numpy,
        };
        check_version(&backend.options.python, &backend.info.version)?;
        match zygote {
            Some(zygote) if hello.fork => {
                backend.zygote = Mutex::new(Some(Arc::new(zygote)));
            }
            _ => backend.options.fork = false,
        }
        Ok(backend)
    }

    /// Starts the zygote (or, without fork, a probe that says hello and exits).
    fn start_interpreter(&self, mode: &str) -> Result<(Option<Zygote>, Hello), BackendError> {
        let token = self.next_token(mode)?;
        let expected = self.acceptor.expect(&token)?;
        let mut process = self.spawn_python(mode, &token)?;
        let (stream, hello) = expected
            .wait(START_TIMEOUT, || process.exited())
            .map_err(|error| self.start_error(error, &process))?;
        if mode != "zygote" || !hello.fork {
            return Ok((None, hello));
        }
        let Some(child) = process.0.take() else {
            return Err(BackendError::Lost("the zygote vanished".into()));
        };
        let connected = Arc::new(AtomicBool::new(true));
        let reader_stream = stream.try_clone()?;
        let exits = Arc::clone(&self.exits);
        let flag = Arc::clone(&connected);
        let reader = std::thread::Builder::new()
            .name("zygote-events".into())
            .spawn(move || {
                read_exit_reports(BufReader::new(reader_stream), &exits, |_| {});
                flag.store(false, Ordering::Release);
            })?;
        Ok((
            Some(Zygote {
                pid: hello.pid,
                log: process.1.clone(),
                writer: Mutex::new(stream),
                connected,
                _reader: reader,
                _process: child,
            }),
            hello,
        ))
    }

    fn start_error(&self, error: BackendError, process: &SpawnedPython) -> BackendError {
        match error {
            BackendError::Lost(message) => BackendError::Start {
                python: self.options.python.display().to_string(),
                message: if message.contains("; it printed:") {
                    message
                } else {
                    format!("{message}{}", log_tail(&process.1))
                },
            },
            other => other,
        }
    }

    /// A token no other process can guess: a serial number (for logs) and 128 random bits.
    pub(super) fn next_token(&self, kind: &str) -> Result<String, BackendError> {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        Ok(format!("{kind}-{serial}-{}", procs::random_hex(16)?))
    }

    pub(super) fn exits(&self) -> Arc<ExitBook> {
        Arc::clone(&self.exits)
    }

    pub(super) fn expect(&self, token: &str) -> Result<Expected, BackendError> {
        self.acceptor.expect(token)
    }

    pub fn info(&self) -> &InterpreterInfo {
        &self.info
    }

    /// True when page processes are forked from a warm zygote.
    pub fn forks(&self) -> bool {
        self.options.fork
    }

    /// `Err(ZygoteLost)` once the zygote is lost for good; a zygote that died or stopped
    /// but can still be replaced is replaced by the next [`Backend::open_page`].
    pub fn health(&self) -> Result<(), BackendError> {
        match self.lost.lock().ok().and_then(|lost| lost.clone()) {
            Some(why) => Err(BackendError::ZygoteLost(why)),
            None => Ok(()),
        }
    }

    /// A new page process, set up to run the page at `path` in `workdir`. A zygote that
    /// died or was stopped is noticed at once and replaced (up to three times); after
    /// that every page fails with [`BackendError::ZygoteLost`] without waiting.
    pub fn open_page(&self, setup: &PageSetup<'_>) -> Result<PageProcess, BackendError> {
        let setup_request = Request::Setup {
            path: setup.path,
            name: setup.name,
            workdir: &setup.workdir.to_string_lossy(),
            setup_code: setup.setup_code,
            sys_path: setup.sys_path,
            pytest: setup.pytest_globals,
            output_cap: setup.output_cap,
            memory_limit: setup.memory_limit,
        };
        if !self.options.fork {
            let token = self.next_token("page")?;
            let expected = self.acceptor.expect(&token)?;
            let mut process = self.spawn_python("page", &token)?;
            let (mut stream, hello) = expected.wait(START_TIMEOUT, || process.exited())?;
            write_request(&mut stream, &setup_request)?;
            let reader = BufReader::new(stream.try_clone()?);
            let page = self.page_process((stream, reader, hello), process.0.take(), None);
            return page.ready();
        }
        let zygote = self.current_zygote()?;
        match self.open_forked(zygote.clone(), &setup_request) {
            Err(BackendError::ZygoteLost(why)) => {
                self.replace_zygote(&why, &zygote)?;
                self.open_forked(self.current_zygote()?, &setup_request)
            }
            other => other,
        }
    }

    /// A page forked from `zygote`, set up. A page that dies during its set-up because its
    /// zygote died (a page forked ahead, just before an example killed the zygote) is
    /// `ZygoteLost`, so that the caller starts another zygote and tries again.
    fn open_forked(
        &self,
        zygote: Arc<Zygote>,
        setup: &Request<'_>,
    ) -> Result<PageProcess, BackendError> {
        let (arrival, log, zygote) = self.fork_page(zygote, setup)?;
        let mut page = self.page_process(arrival, None, Some(Arc::clone(&zygote)));
        page.result_log = log;
        page.ready()
            .map_err(|error| match (error, zygote.trouble()) {
                (BackendError::Lost(_), Some(why)) => BackendError::ZygoteLost(why),
                (error, _) => error,
            })
    }

    fn page_process(
        &self,
        (stream, reader, hello): PageArrival,
        spawned: Option<OwnedChild>,
        zygote: Option<Arc<Zygote>>,
    ) -> PageProcess {
        PageProcess {
            pid: hello.pid,
            group: hello.pid,
            owns_group: true,
            stream,
            reader,
            exits: Arc::clone(&self.exits),
            zygote,
            _spawned: spawned,
            python_version: self.info.version.clone(),
            read_timeout: None,
            unsent: Default::default(),
            unanswered: Default::default(),
            result_log: None,
            recovered: Default::default(),
            after_recovered: None,
            partial_line: Vec::new(),
        }
    }

    /// The zygote pages are forked from now.
    fn current_zygote(&self) -> Result<Arc<Zygote>, BackendError> {
        self.health()?;
        self.zygote
            .lock()
            .ok()
            .and_then(|slot| slot.clone())
            .ok_or_else(|| BackendError::ZygoteLost("it is gone".into()))
    }

    /// Asks `zygote` for a page process and waits for its hello. The page's connection is
    /// a socket pair: one end goes to the zygote with the request (SCM_RIGHTS) and on to the
    /// page it forks, so nothing connects, is accepted or is routed, and `setup` is written
    /// at once, for the page to read as soon as it runs. Only the zygote's child can hold
    /// that end: it needs no peer check and no token to be told apart.
    fn fork_page(
        &self,
        zygote: Arc<Zygote>,
        setup: &Request<'_>,
    ) -> Result<(PageArrival, Option<std::fs::File>, Arc<Zygote>), BackendError> {
        if let Some(why) = zygote.trouble() {
            return Err(BackendError::ZygoteLost(why));
        }
        let Forked {
            stream: mut ours,
            token,
            log,
        } = {
            let mut writer = zygote
                .writer
                .lock()
                .map_err(|_| BackendError::ZygoteLost("its connection is broken".into()))?;
            let forked = match self.take_spare(&zygote) {
                Some(spare) => spare,
                None => self.ask_fork(&mut writer)?,
            };
            self.fork_spares(&zygote, &mut writer);
            forked
        };
        // A page that died at once (before or while its set-up was written) has closed its
        // end: that is the page lost before its hello, not an I/O error of ours.
        let arrival = write_request(&mut ours, setup)
            .map_err(|error| BackendError::Lost(error.to_string()))
            .and_then(|()| {
                let reader = BufReader::new(ours.try_clone()?);
                wait_for_page_hello(ours, reader, &token, || {
                    zygote.trouble().map(BackendError::ZygoteLost)
                })
            })
            .map_err(|error| match error {
                BackendError::Lost(_) => self.lost_before_hello(&zygote, &token),
                other => other,
            });
        self.exits.forget_fork(&token);
        Ok((arrival?, log, zygote))
    }

    /// Asks the zygote (through `writer`, its locked connection) for a page process; its
    /// connection, token and results log. Nothing waits for the fork.
    fn ask_fork(&self, writer: &mut UnixStream) -> Result<Forked, BackendError> {
        let token = self.next_token("page")?;
        let (ours, theirs) = UnixStream::pair()?;
        let log = result_log();
        self.exits.expect_fork(&token);
        let request = Request::Fork {
            token: &token,
            log: log.is_some(),
        };
        let mut fds = vec![theirs.as_fd()];
        fds.extend(log.as_ref().map(|log| log.as_fd()));
        if let Err(error) = send_with_fds(writer, &request, &fds) {
            self.exits.forget_fork(&token);
            return Err(BackendError::ZygoteLost(error.to_string()));
        }
        // Ours is the only end left here: once the page (or, before it forks, the zygote)
        // is gone, reading it ends.
        Ok(Forked {
            stream: ours,
            token,
            log,
        })
    }

    /// A page process forked ahead from `zygote` (see [`Backend::fork_ahead`]), if any.
    fn take_spare(&self, zygote: &Arc<Zygote>) -> Option<Forked> {
        let mut spares = self.spares.lock().ok()?;
        let spare = spares.pop()?;
        // Forked by a zygote since replaced: it goes (it exits when its connection ends).
        if !Arc::ptr_eq(&spare.zygote, zygote) {
            for spare in std::iter::once(spare).chain(spares.drain(..)) {
                self.exits.forget_fork(&spare.forked.token);
            }
            return None;
        }
        Some(spare.forked)
    }

    /// Forks page processes ahead, up to the number [`Backend::fork_ahead`] asked for: they
    /// start (CPython's after-fork work, the page's own set-up before its page is known)
    /// while the pages before them run.
    fn fork_spares(&self, zygote: &Arc<Zygote>, writer: &mut UnixStream) {
        let wanted = self.spares_wanted.load(Ordering::Acquire);
        let Ok(mut spares) = self.spares.lock() else {
            return;
        };
        while spares.len() < wanted {
            let Ok(forked) = self.ask_fork(writer) else {
                return;
            };
            spares.push(Spare {
                forked,
                zygote: Arc::clone(zygote),
            });
        }
    }

    /// Keeps up to `count` page processes forked ahead of need (the CLI: one per job while
    /// pages are left). Fewer wanted than kept: the others go now.
    pub fn fork_ahead(&self, count: usize) {
        self.spares_wanted.store(count, Ordering::Release);
        let Ok(mut spares) = self.spares.lock() else {
            return;
        };
        while spares.len() > count {
            if let Some(spare) = spares.pop() {
                self.exits.forget_fork(&spare.forked.token);
            }
        }
    }

    /// Why a forked page's connection ended before its hello: the zygote died (its end of
    /// the pair went with it; then it is replaced), or the page did, as the zygote reports.
    fn lost_before_hello(&self, zygote: &Zygote, token: &str) -> BackendError {
        let deadline = Instant::now() + Duration::from_millis(500);
        let status = loop {
            if let Some(why) = zygote.trouble() {
                return BackendError::ZygoteLost(why);
            }
            let status = self.exits.fork_ended(token);
            if status.is_some() || Instant::now() >= deadline {
                break status;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        BackendError::Lost(format!(
            "the page process {} before it connected{}",
            describe_death(status).trim_start_matches("the interpreter "),
            log_tail(&zygote.log)
        ))
    }

    /// Replaces `failed`, a zygote that died or stopped, unless another page already did.
    /// (Its watcher may not have noticed yet: a write that failed is proof enough.)
    fn replace_zygote(&self, why: &str, failed: &Arc<Zygote>) -> Result<(), BackendError> {
        let mut slot = self
            .zygote
            .lock()
            .map_err(|_| BackendError::ZygoteLost(why.to_owned()))?;
        if slot
            .as_ref()
            .is_some_and(|zygote| !Arc::ptr_eq(zygote, failed) && zygote.trouble().is_none())
        {
            return Ok(());
        }
        // The old one stays alive, held by its running pages, until the last ends.
        *slot = None;
        let give_up = |message: String| {
            if let Ok(mut lost) = self.lost.lock() {
                *lost = Some(message.clone());
            }
            BackendError::ZygoteLost(message)
        };
        if self.restarts.fetch_add(1, Ordering::AcqRel) >= MAX_RESTARTS {
            return Err(give_up(format!(
                "{why}, and it was replaced {MAX_RESTARTS} times already: an example keeps \
                 stopping or killing its parent process"
            )));
        }
        match self.start_interpreter("zygote") {
            Ok((Some(zygote), _)) => {
                *slot = Some(Arc::new(zygote));
                Ok(())
            }
            Ok((None, _)) => Err(give_up(format!("{why}, and a new one cannot fork"))),
            Err(error) => Err(give_up(format!(
                "{why}, and a new one did not start: {error}"
            ))),
        }
    }

    fn spawn_python(&self, mode: &str, token: &str) -> Result<SpawnedPython, BackendError> {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let log = self
            .directory
            .path()
            .join(format!("{mode}-{serial}.stderr"));
        let stderr = private_file(&log)?;
        let mut command = Command::new(&self.options.python);
        command
            .arg("-c")
            .arg(driver_program())
            .arg(&self.socket_path)
            .arg(mode)
            .args(&self.options.preload)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONIOENCODING", "utf-8")
            // In the environment, not argv: /proc/PID/cmdline is readable by everyone.
            .env("OBJGRAPH_DOCTEST_TOKEN", token)
            // Whatever the interpreter itself puts in the temp directory is ours to remove.
            .env("TMPDIR", self.directory.path())
            .process_group(0);
        if let Some(directory) = &self.options.directory {
            command.current_dir(directory);
        }
        let child = OwnedChild::spawn(&mut command).map_err(|error| BackendError::Start {
            python: self.options.python.display().to_string(),
            message: error.to_string(),
        })?;
        Ok(SpawnedPython(Some(child), log))
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.zygote.lock() {
            slot.take();
        }
        // Wake the acceptor so that it sees it is closed and lets go of the socket.
        self.acceptor.closed.store(true, Ordering::Release);
        let _ = UnixStream::connect(&self.socket_path);
        super::shutdown::forget_cleanup(self.directory.path());
    }
}

/// A fresh directory only we can enter (0700 whatever the umask), in the temp directory.
fn private_directory() -> Result<tempfile::TempDir, BackendError> {
    let fail = |error: std::io::Error| BackendError::TempDir {
        path: tempfile::env::temp_dir(),
        message: error.to_string(),
    };
    let directory = tempfile::Builder::new()
        .prefix("objgraph-doctest-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(fail)?;
    std::fs::set_permissions(directory.path(), std::fs::Permissions::from_mode(0o700))
        .map_err(fail)?;
    Ok(directory)
}

/// The socket's path in `directory`; when the temp directory is too deep for a socket
/// path, a short private directory in /tmp is used instead (and removed with the backend;
/// named after our pid, so that the next run removes it if we die first).
fn socket_in(directory: tempfile::TempDir) -> Result<(tempfile::TempDir, PathBuf), BackendError> {
    // Absolute: Python processes connect after changing directory (a relative TMPDIR).
    let socket_path = std::path::absolute(directory.path().join("backend.sock"))?;
    let length = socket_path.as_os_str().len();
    if length <= MAX_SOCKET_PATH {
        return Ok((directory, socket_path));
    }
    super::shutdown::remove_stale_socket_directories();
    let short = tempfile::Builder::new()
        .prefix(&format!(
            "{}{}.",
            super::shutdown::SHORT_SOCKET_PREFIX,
            std::process::id()
        ))
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in("/tmp")
        .and_then(|short| {
            std::fs::set_permissions(short.path(), std::fs::Permissions::from_mode(0o700))?;
            Ok(short)
        })
        .map_err(|error| BackendError::SocketPathTooLong {
            path: directory.path().to_path_buf(),
            length,
            reason: error.to_string(),
        })?;
    super::shutdown::register_cleanup(short.path());
    let socket_path = short.path().join("backend.sock");
    Ok((short, socket_path))
}

impl Backend {
    /// The directory of the socket Python processes connect to: checkpoints keep their
    /// copies of the pages' files in it.
    pub(super) fn socket_directory(&self) -> &Path {
        self.socket_path.parent().unwrap_or(Path::new("/"))
    }
}

/// A new file only we can read (0600 whatever the umask).
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Refuses interpreters older than [`OLDEST_PYTHON`].
fn check_version(python: &Path, version: &str) -> Result<(), BackendError> {
    let mut parts = version.split('.').map(|part| part.parse::<u32>().ok());
    let major = parts.next().flatten();
    let minor = parts.next().flatten();
    match (major, minor) {
        (Some(major), Some(minor)) if (major, minor) >= OLDEST_PYTHON => Ok(()),
        _ => Err(BackendError::Unsupported {
            python: python.display().to_string(),
            version: if version.is_empty() {
                "of an unknown version".into()
            } else {
                version.to_owned()
            },
        }),
    }
}

/// The end of an interpreter's stderr log, for messages about a failed start.
fn log_tail(path: &Path) -> String {
    let mut bytes = Vec::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let _ = file.read_to_end(&mut bytes);
    }
    let tail = String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(2000)..]).into_owned();
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!("; it printed:\n{}", tail.trim_end())
    }
}

/// A just-spawned interpreter (and its stderr log), killed unless it is handed on.
pub(super) struct SpawnedPython(Option<OwnedChild>, PathBuf);

impl SpawnedPython {
    /// An error if the process has already exited (so that waiting for it is pointless).
    fn exited(&mut self) -> Option<BackendError> {
        use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
        let pid = Pid::from_raw(self.0.as_ref()?.pid());
        // Looked at, not reaped: until its owner waits, the process stays a zombie whose
        // parent is us, so that the acceptor can still tell that its connection is ours
        // (a probe says hello and exits at once).
        let status = waitid(
            Id::Pid(pid),
            WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT,
        )
        .ok()?;
        let how = match status {
            WaitStatus::Exited(_, code) => format!("exit status: {code}"),
            WaitStatus::Signaled(_, signal, _) => format!("killed by {signal}"),
            _ => return None,
        };
        Some(BackendError::Lost(format!(
            "the interpreter exited ({how}){}",
            log_tail(&self.1)
        )))
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
    /// Directories put first on `sys.path`, in order, before the setup code runs.
    pub sys_path: &'a [String],
    /// The page runs by pytest's rules: pytest's globals, its outcome exceptions reported.
    pub pytest_globals: bool,
    /// Output kept per example, in characters.
    pub output_cap: usize,
    /// RLIMIT_AS for the page process, in bytes.
    pub memory_limit: Option<u64>,
}

/// How an example runs beyond its source, for profiles other than `DocFileSuite`'s; the
/// default is its: the page's namespace, compiled as `single`, nothing required, warnings
/// as the interpreter's filters say.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunExtras<'a> {
    /// A Sphinx group's own namespace.
    pub group: Option<&'a str>,
    /// `"exec"` (Sphinx's `testcode`, setup and cleanup) or `"single"`.
    pub mode: Option<&'a str>,
    /// Modules that must be importable, or the driver skips it (pytest-doctestplus's
    /// `doctest-requires`).
    pub requires: &'a [String],
    /// pytest-doctestplus's IGNORE_WARNINGS / SHOW_WARNINGS.
    pub warnings: WarningCapture,
    /// The `NAME[i]` of `<doctest NAME[i]>` it is compiled under, when not the page's.
    pub doctest_name: Option<&'a str>,
}

/// One example of a stream (see [`PageProcess::start_stream`]).
#[derive(Debug, Clone, Copy)]
pub struct StreamedExample<'a> {
    pub index: usize,
    pub source: &'a str,
    pub extras: RunExtras<'a>,
    /// The output that surely passes (checked by the engine): the page process then need
    /// not hold after it.
    pub want: Option<&'a str>,
    /// Its verdict may mean that the rest must not run (FAIL_FAST, a profile that stops at
    /// the first failure, a Sphinx group's setup): unless it surely passed, the process
    /// holds after it until [`PageProcess::release_hold`].
    pub hold: bool,
}

impl StreamedExample<'_> {
    fn request(&self) -> Request<'_> {
        let warnings = match self.extras.warnings {
            WarningCapture::Default => None,
            WarningCapture::Ignore => Some("ignore"),
            WarningCapture::Show => Some("show"),
        };
        Request::Run {
            index: self.index,
            source: self.source,
            group: self.extras.group,
            mode: self.extras.mode,
            requires: self.extras.requires,
            warnings,
            doctest_name: self.extras.doctest_name,
            want: self.want,
            hold: self.hold,
        }
    }
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
    /// The example did something after which CPython's doctest stops the run (closed
    /// `sys.stdout`, raised `KeyboardInterrupt`); the message says what.
    #[error("{0}")]
    Aborted(String),
    /// Our own Python code failed; the traceback says where.
    #[error("objgraph-doctest's Python side failed (please report this):\n{0}")]
    Internal(String),
}

/// The status the driver exits with when it fails and cannot say why on its connection
/// (`_exit(70)` in driver.py).
const DRIVER_FAILED: i32 = 70;

fn describe_death(status: Option<ExitStatus>) -> String {
    match status {
        Some(ExitStatus::Code(DRIVER_FAILED)) => format!(
            "the interpreter exited with status {DRIVER_FAILED}: objgraph-doctest's Python side \
             failed and could not say why, as when an example closes its connection (file \
             descriptors it did not open: `os.closerange`, `os.close`)"
        ),
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
    /// The zygote this page was forked from, kept alive while the page lives.
    pub(super) zygote: Option<Arc<Zygote>>,
    pub(super) _spawned: Option<OwnedChild>,
    /// The interpreter's version (`3.11.4`), for Sphinx's `:pyversion:`.
    pub(super) python_version: String,
    /// The read timeout last set on `stream`.
    pub(super) read_timeout: Option<Duration>,
    /// A stream's requests not written yet, and the sizes of those written but not
    /// answered (see [`PageProcess::start_stream`]).
    pub(super) unsent: std::collections::VecDeque<Vec<u8>>,
    pub(super) unanswered: std::collections::VecDeque<usize>,
    /// A forked page's results log (see [`PageProcess::next_result`]).
    pub(super) result_log: Option<std::fs::File>,
    /// Results read back from the log after the page was lost, still to be handed out,
    /// and the fault to report after them.
    pub(super) recovered: std::collections::VecDeque<ExampleResult>,
    pub(super) after_recovered: Option<Fault>,
    /// The start of a line read when the page was lost (for [`PageProcess::recover`]).
    pub(super) partial_line: Vec<u8>,
}

/// How long after an example's result a page with a results log may wait before it sends
/// it (the driver's `Results.BATCH_SECONDS`, with room to spare): deadlines are that much
/// later, so that an example is never timed out before it had its whole timeout.
const RESULT_BATCH_WINDOW: Duration = Duration::from_millis(20);

/// The most of a results log read back: the driver's log is 1 MiB (`LOG_SIZE`).
const MAX_RESULT_LOG: u64 = 4 * 1024 * 1024;

/// A page's results log: a memfd, which the page maps into its memory (so nothing of it
/// touches a disk, and writing to it takes no system call); none where the kernel cannot
/// make one (the page then sends each result as it comes).
fn result_log() -> Option<std::fs::File> {
    use nix::sys::memfd::{MFdFlags, memfd_create};
    memfd_create("objgraph-doctest-results", MFdFlags::MFD_CLOEXEC)
        .ok()
        .map(std::fs::File::from)
}

/// The most bytes of a stream's requests written ahead of their results: well under what a
/// Unix socket holds (about 200 KiB by default).
const STREAM_AHEAD: usize = 64 * 1024;

impl PageProcess {
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The process group the page's processes are in: once it is empty (after the page is
    /// dropped), nothing of the page runs any more.
    pub fn group(&self) -> i32 {
        self.group
    }

    /// This new page, once it says its set-up ran.
    fn ready(mut self) -> Result<PageProcess, BackendError> {
        match self.read_event(Instant::now() + SETUP_TIMEOUT) {
            Ok(Event::Ready) => Ok(self),
            Ok(Event::SetupError { traceback }) => Err(BackendError::Setup(traceback)),
            Ok(Event::DriverError { traceback }) => Err(BackendError::Internal(traceback)),
            Ok(other) => Err(BackendError::Lost(format!("unexpected {other:?}"))),
            Err(Fault::Internal(traceback)) => Err(BackendError::Internal(traceback)),
            Err(fault) => Err(BackendError::Lost(format!("during page setup: {fault}"))),
        }
    }

    /// The version of the interpreter running the page (`3.11.4`).
    pub fn python_version(&self) -> &str {
        &self.python_version
    }

    /// Runs one example as its profile says (see [`RunExtras`]); `run` is this with none.
    /// It is a stream of one: `timeout` bounds it from the moment it is sent.
    pub fn run_with(
        &mut self,
        index: usize,
        source: &str,
        extras: RunExtras<'_>,
        timeout: Duration,
    ) -> Result<ExampleResult, Fault> {
        self.start_stream(
            &[StreamedExample {
                index,
                source,
                extras,
                want: None,
                hold: false,
            }],
            false,
        )?;
        self.next_result(index, timeout)
    }

    /// Sends `examples` to run in order; read their results, in order, with
    /// [`PageProcess::next_result`]. With `watch_files` each result says whether the
    /// working directory changed, and the process holds after one that changed it.
    ///
    /// The requests go ahead of the results, but never more than [`STREAM_AHEAD`] bytes of
    /// them unanswered: a page of thousands of examples would otherwise fill the socket
    /// with requests while its results fill it the other way, each side blocked writing to
    /// the other. The rest are written as results come back.
    pub fn start_stream(
        &mut self,
        examples: &[StreamedExample<'_>],
        watch_files: bool,
    ) -> Result<(), Fault> {
        let header = Request::Stream {
            count: examples.len(),
            watch_files,
        };
        let mut lines = Vec::with_capacity(examples.len());
        let mut first = Vec::new();
        let encoded = serde_json::to_writer(&mut first, &header).and_then(|()| {
            first.push(b'\n');
            examples.iter().try_for_each(|example| {
                let mut line = serde_json::to_vec(&example.request())?;
                line.push(b'\n');
                lines.push(line);
                Ok(())
            })
        });
        if let Err(error) = encoded {
            return Err(self.kill_for(Fault::Protocol(error.to_string())));
        }
        // The header is read with the first request: they count as one.
        match lines.first_mut() {
            Some(line) => {
                first.append(line);
                *line = first;
            }
            None => lines.push(first),
        }
        self.unsent.extend(lines);
        self.send_ahead(false).map_err(|()| self.death())
    }

    /// Writes the stream's next requests, as many as keep the unanswered ones within
    /// [`STREAM_AHEAD`] bytes (all of them with `all`), in one write. Writing cannot block
    /// for long then: the page reads what we wrote while it runs, and whatever we do not
    /// read of its results is far from filling the socket. Only below half of the window
    /// is it topped up, so that each write is a large one (the kernel counts a socket's
    /// buffers by the chunk, not by the byte).
    fn send_ahead(&mut self, all: bool) -> Result<(), ()> {
        let mut in_flight: usize = self.unanswered.iter().sum();
        if !all && in_flight > STREAM_AHEAD / 2 {
            return Ok(());
        }
        let mut chunk = Vec::new();
        while let Some(line) = self.unsent.front() {
            let fits = in_flight == 0 || in_flight + line.len() <= STREAM_AHEAD;
            if !all && !fits {
                break;
            }
            let line = self.unsent.pop_front().unwrap_or_default();
            in_flight += line.len();
            self.unanswered.push_back(line.len());
            chunk.extend_from_slice(&line);
        }
        if chunk.is_empty() {
            return Ok(());
        }
        self.stream.write_all(&chunk).map_err(|_| ())
    }

    /// A streamed request was answered (its result, or the stream's abort).
    fn answered(&mut self) -> Result<(), Fault> {
        self.unanswered.pop_front();
        self.send_ahead(false).map_err(|()| self.death())
    }

    /// The result of streamed example `index`, the next one due; `timeout` bounds it from
    /// now (the previous example's result, or the stream's start, is when it began).
    ///
    /// A page forked with a results log sends results in batches (a system call and a
    /// wake-up of this thread saved per example) and writes each to the log as it comes:
    /// when the page crashes, or is killed for a timeout, the results it had not sent yet
    /// are read back from the log and handed out before the fault, as if they had been
    /// sent one by one. Its deadlines are [`RESULT_BATCH_WINDOW`] later.
    pub fn next_result(&mut self, index: usize, timeout: Duration) -> Result<ExampleResult, Fault> {
        if let Some(fault) = self.after_recovered.take() {
            return match self.recovered.pop_front() {
                Some(result) if result.index == index => {
                    self.after_recovered = Some(fault);
                    Ok(result)
                }
                _ => Err(fault),
            };
        }
        let window = if self.result_log.is_some() {
            RESULT_BATCH_WINDOW
        } else {
            Duration::ZERO
        };
        let event = match self.read_event(Instant::now() + timeout + window) {
            Err(fault @ (Fault::Timeout | Fault::Died(_))) if self.result_log.is_some() => {
                let limit = matches!(fault, Fault::Timeout).then_some(timeout);
                self.recover(index, limit);
                self.after_recovered = Some(fault);
                return self.next_result(index, timeout);
            }
            other => other?,
        };
        match event {
            Event::Result(result) if result.index == index => {
                self.answered()?;
                Ok(result)
            }
            Event::Aborted { message } => {
                // The page drops the rest of the stream, reading it to its end.
                if self.send_ahead(true).is_err() {
                    return Err(self.death());
                }
                self.unanswered.clear();
                Err(Fault::Aborted(message))
            }
            other => Err(self.kill_for(Fault::Protocol(format!("unexpected {other:?}")))),
        }
    }

    /// Tells a process holding after a streamed example (`ExampleResult::held`) to go on
    /// with the stream (`true`) or to drop the rest of it (`false`).
    pub fn release_hold(&mut self, go_on: bool) -> Result<(), Fault> {
        let word = if go_on {
            Request::GoOn
        } else {
            Request::StopStream
        };
        // The word comes after the stream's remaining requests: a holding page reads up to
        // it (so it can take all of them now), then runs them or drops them.
        if self.send(&word).is_err() {
            return Err(self.death());
        }
        if !go_on {
            self.unanswered.clear();
        }
        Ok(())
    }

    /// Evaluates a Sphinx `:skipif:` condition (see `Request::Evaluate`): `Ok(Err(traceback))`
    /// when the condition (or the setup) raised.
    pub fn evaluate(
        &mut self,
        expression: &str,
        setup: &str,
        cleanup: &str,
        timeout: Duration,
    ) -> Result<Result<bool, String>, Fault> {
        let deadline = Instant::now() + timeout;
        let request = Request::Evaluate {
            expression,
            setup,
            cleanup,
        };
        if self.send(&request).is_err() {
            return Err(self.death());
        }
        match self.read_event(deadline)? {
            Event::Evaluated {
                value: Some(value), ..
            } => Ok(Ok(value)),
            Event::Evaluated { error, .. } => Ok(Err(error.unwrap_or_default())),
            Event::Aborted { message } => Err(Fault::Aborted(message)),
            other => Err(Fault::Protocol(format!("unexpected {other:?}"))),
        }
    }

    /// Runs one example; `timeout` bounds it from the moment it is sent.
    pub fn run(
        &mut self,
        index: usize,
        source: &str,
        timeout: Duration,
    ) -> Result<ExampleResult, Fault> {
        self.run_with(index, source, RunExtras::default(), timeout)
    }

    /// Writes `request` after whatever of a stream is still to be written (a word after a
    /// hold comes after the stream's remaining requests).
    pub(super) fn send(&mut self, request: &Request<'_>) -> std::io::Result<()> {
        if !self.unsent.is_empty() && self.send_ahead(true).is_err() {
            return Err(std::io::Error::other("the page's connection broke"));
        }
        write_request(&mut self.stream, request)
    }

    /// The page is gone (or killed): the results from `index` on that it wrote but that
    /// did not reach us, from what is left in the connection and then from the log (which
    /// may repeat a batch that was sent just before the end: those are skipped by index).
    /// Killed for a timeout (`limit`), the first example that ran longer than it is the
    /// one that timed out, whatever it wrote after: no result from it on is kept.
    fn recover(&mut self, index: usize, limit: Option<Duration>) {
        self.kill();
        let mut lines = std::mem::take(&mut self.partial_line);
        let _ = self.stream.set_nonblocking(true);
        let _ = (&mut self.reader).take(MAX_LINE).read_to_end(&mut lines);
        let _ = self.stream.set_nonblocking(false);
        if let Some(log) = &self.result_log {
            let size = log
                .metadata()
                .map_or(0, |meta| meta.len().min(MAX_RESULT_LOG));
            let mut logged = vec![0; size as usize];
            if log.read_exact_at(&mut logged, 0).is_ok() {
                // A NUL ends what the log holds now (older batches may follow it).
                if let Some(end) = logged.iter().position(|&byte| byte == 0) {
                    logged.truncate(end);
                }
                // A partial line at the end of what was read from the connection is
                // dropped: the log has it whole.
                if let Some(end) = lines.iter().rposition(|&byte| byte == b'\n') {
                    lines.truncate(end + 1);
                } else {
                    lines.clear();
                }
                lines.extend_from_slice(&logged);
            }
        }
        let mut next = index;
        for line in lines.split(|&byte| byte == b'\n') {
            // A line the page was writing when it died is not whole, and does not parse.
            if let Ok(Event::Result(result)) = serde_json::from_slice::<Event>(line)
                && result.index >= next
            {
                if limit.is_some_and(|limit| result.duration_ns > limit.as_nanos() as u64) {
                    break;
                }
                next = result.index + 1;
                self.recovered.push_back(result);
            }
        }
        self.unanswered.clear();
        self.unsent.clear();
    }

    pub(super) fn read_event(&mut self, deadline: Instant) -> Result<Event, Fault> {
        let mut line = Vec::new();
        // A streamed page's results often arrive together: one already read whole needs no
        // read timeout (a system call) and no wait.
        if self.reader.buffer().contains(&b'\n') {
            let _ = self.reader.read_until(b'\n', &mut line);
            return self.decode_event(&line);
        }
        loop {
            let Some(left) = deadline
                .checked_duration_since(Instant::now())
                .filter(|left| !left.is_zero())
            else {
                self.partial_line = line;
                return Err(self.kill_for(Fault::Timeout));
            };
            // The kernel's timeout holds for each read from its start: it is set again only
            // when it would end more than a millisecond away from the deadline (results
            // read back to back have nearly the same deadline: a system call saved each).
            let close = self.read_timeout.is_some_and(|set| {
                set <= left + Duration::from_millis(1) && left <= set + Duration::from_millis(1)
            });
            if !close {
                if self.stream.set_read_timeout(Some(left)).is_err() {
                    return Err(self.death());
                }
                self.read_timeout = Some(left);
            }
            let limit = MAX_LINE.saturating_sub(line.len() as u64);
            match (&mut self.reader).take(limit).read_until(b'\n', &mut line) {
                Ok(0) => {
                    self.partial_line = line;
                    return Err(self.death());
                }
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
        self.decode_event(&line)
    }

    fn decode_event(&self, line: &[u8]) -> Result<Event, Fault> {
        match serde_json::from_slice(line) {
            Ok(Event::DriverError { traceback }) => Err(Fault::Internal(traceback)),
            Ok(event) => Ok(event),
            Err(error) => Err(self.kill_for(Fault::Protocol(error.to_string()))),
        }
    }

    fn kill_for(&self, fault: Fault) -> Fault {
        self.kill();
        fault
    }

    /// Kills this process and everything below it (for a page's first process, that is
    /// every checkpoint and runner forked from it, and whatever their examples started).
    pub(super) fn kill(&self) {
        kill_page(self.pid, self.group, self.owns_group);
    }

    /// The connection dropped: the process is gone; say how, as its parent saw it (the
    /// zygote or checkpoint reports it; a `--no-fork` page is our own child).
    fn death(&mut self) -> Fault {
        let Some(child) = self._spawned.as_mut() else {
            return Fault::Died(self.exits.wait_for(self.pid, Duration::from_millis(500)));
        };
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            match child.0.try_wait() {
                Ok(Some(status)) => {
                    use std::os::unix::process::ExitStatusExt;
                    let status = match (status.code(), status.signal()) {
                        (Some(code), _) => Some(ExitStatus::Code(code)),
                        (None, Some(signal)) => Some(ExitStatus::Signal(signal)),
                        (None, None) => None,
                    };
                    return Fault::Died(status);
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                _ => return Fault::Died(None),
            }
        }
    }
}

impl Drop for PageProcess {
    fn drop(&mut self) {
        // Killed before it is asked to exit: a page that exited first would leave what its
        // examples started to whichever subreaper is above it, out of this tree's reach.
        self.kill();
        let _ = write_request(&mut self.stream, &Request::Exit);
    }
}

/// A page's connection once it said hello: the stream, its reader (which may hold what
/// the page sent after its hello), the hello.
type PageArrival = (UnixStream, BufReader<UnixStream>, Hello);

/// How long to wait between looks at the zygote while a page is starting.
const HELLO_SLICE: Duration = Duration::from_millis(50);

/// Reads a forked page's hello from its connection. `watch` is asked every slice whether
/// waiting is pointless (the zygote stopped); the connection ending means the page died
/// (`BackendError::Lost`).
fn wait_for_page_hello(
    stream: UnixStream,
    mut reader: BufReader<UnixStream>,
    token: &str,
    mut watch: impl FnMut() -> Option<BackendError>,
) -> Result<PageArrival, BackendError> {
    let deadline = Instant::now() + START_TIMEOUT;
    let mut line = Vec::new();
    loop {
        let now = Instant::now();
        let Some(left) = deadline
            .checked_duration_since(now)
            .filter(|left| !left.is_zero())
        else {
            return Err(BackendError::Lost("no answer from the page process".into()));
        };
        stream.set_read_timeout(Some(left.min(HELLO_SLICE)))?;
        let limit = MAX_HELLO.saturating_sub(line.len() as u64);
        match (&mut reader).take(limit).read_until(b'\n', &mut line) {
            Ok(0) if limit == 0 => return Err(BackendError::Lost("its hello is too long".into())),
            Ok(0) => return Err(BackendError::Lost("its connection closed".into())),
            Ok(_) if line.ends_with(b"\n") => break,
            Ok(_) => {}
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                if let Some(error) = watch() {
                    return Err(error);
                }
            }
            Err(error) => return Err(BackendError::Lost(error.to_string())),
        }
    }
    stream.set_read_timeout(None)?;
    match serde_json::from_slice(&line) {
        Ok(Event::Hello(hello)) if hello.token.as_deref() == Some(token) => {
            Ok((stream, reader, hello))
        }
        Ok(Event::DriverError { traceback }) => Err(BackendError::Internal(traceback)),
        _ => Err(BackendError::Lost(format!(
            "the page process said {:?} instead of hello",
            String::from_utf8_lossy(&line)
        ))),
    }
}

/// Longest hello line (a page's hello is a few dozen bytes).
const MAX_HELLO: u64 = 64 * 1024;

/// Writes `request` to the zygote with `fds` attached (SCM_RIGHTS) to its first byte,
/// where the zygote's reader finds them with the line.
fn send_with_fds(
    stream: &mut UnixStream,
    request: &Request<'_>,
    fds: &[BorrowedFd<'_>],
) -> std::io::Result<()> {
    use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
    let mut line = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let fds: Vec<i32> = fds.iter().map(|fd| fd.as_raw_fd()).collect();
    let sent = loop {
        match sendmsg::<()>(
            stream.as_raw_fd(),
            &[std::io::IoSlice::new(&line)],
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Ok(sent) => break sent,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => return Err(std::io::Error::from(errno)),
        }
    };
    // The socket went with the first byte; a short write's rest is plain data.
    stream.write_all(&line[sent..])
}

pub(super) fn write_request(stream: &mut UnixStream, request: &Request<'_>) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)
}

/// Kills a page process's tree, and its process group when it owns it.
pub(super) fn kill_page(pid: i32, group: i32, owns_group: bool) {
    if owns_group && group == pid {
        procs::kill_tree_and_group(pid);
    } else {
        procs::kill_tree(pid, true);
        if owns_group {
            procs::kill_group(group);
        }
    }
}

/// Reads a zygote's or checkpoint's connection until it closes: exit reports go to `exits`,
/// anything else to `other`.
pub(super) fn read_exit_reports(
    reader: BufReader<UnixStream>,
    exits: &ExitBook,
    mut other: impl FnMut(Event),
) {
    for line in reader.lines() {
        let Ok(line) = line else { break };
        match serde_json::from_str(&line) {
            Ok(Event::Exited {
                pid,
                token,
                code,
                signal,
            }) => {
                let status = match (code, signal) {
                    (_, Some(signal)) => ExitStatus::Signal(signal),
                    (Some(code), None) => ExitStatus::Code(code),
                    (None, None) => ExitStatus::Code(0),
                };
                if let Some(token) = token {
                    exits.record_fork_exit(&token, status);
                }
                exits.record(pid, status);
            }
            Ok(event) => other(event),
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_versions_are_checked() {
        let python = Path::new("/usr/bin/python3");
        assert!(check_version(python, "3.9.0").is_ok());
        assert!(check_version(python, "3.13.0").is_ok());
        let error = check_version(python, "3.8.18").unwrap_err().to_string();
        assert!(error.contains("is Python 3.8.18"), "{error}");
        assert!(check_version(python, "").is_err());
        assert!(check_version(python, "2.7.18").is_err());
    }

    /// Python reads the literal back as the text, for the driver and for characters the
    /// driver does not hold yet (Python 2.7's reading is proven by tests/interpreters.rs).
    #[test]
    fn the_driver_program_holds_the_driver_as_it_is() {
        let odd = "quotes ' \" ''' \\ \\n tab\t cr\r nul\0 del\u{7f} é ☃ 😀 end\n";
        for text in [DRIVER, odd] {
            let mut python = Command::new("python3")
                .args([
                    "-c",
                    "import sys; sys.stdout.buffer.write(eval(sys.stdin.read()).encode('utf-8'))",
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("python3 runs");
            python
                .stdin
                .take()
                .unwrap()
                .write_all(python_literal(text).as_bytes())
                .unwrap();
            let output = python.wait_with_output().unwrap();
            assert!(output.status.success());
            assert_eq!(String::from_utf8(output.stdout).unwrap(), text);
        }
        assert!(driver_program().starts_with("exec(compile(u'\"\"\"objgraph-doctest\\'s"));
    }
}
