//! Checkpoints: live snapshots of a page's interpreter, taken by fork, so that an editor can
//! re-run a page from example k without re-running examples 0..k.
//!
//! `PageProcess::checkpoint` forks the runner: the parent stays paused as "the state before
//! the next example" (a [`Checkpoint`]), and the child carries on as the runner. A checkpoint
//! can start any number of new runners from its state (`Checkpoint::resume`), each in a
//! fresh working directory holding a copy of the files the page had written by then. Memory
//! is shared copy-on-write. Checkpoints and runners form a chain of parents and children;
//! each dies with its parent (and is killed with its tree), so dropping a checkpoint ends everything forked from it, and
//! dropping the page's first process ends them all. Threads do not survive fork: a page that
//! started threads before a checkpoint finds them gone in runners started from it.

use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::procs;
use super::protocol::{Event, Request};
use super::worker::{
    Backend, BackendError, PageProcess, Zygote, kill_page, read_exit_reports, write_request,
};

/// How long a fork may take to say hello.
const FORK_TIMEOUT: Duration = Duration::from_secs(30);

/// A paused page process: the state of a page before one of its examples.
pub struct Checkpoint {
    pid: i32,
    group: i32,
    /// The page's first process: dropping it ends the whole process group.
    owns_group: bool,
    stream: UnixStream,
    /// What the checkpoint says besides exit reports (which go to the backend's book, so
    /// that a runner's crash is reported with its status at once).
    events: Mutex<mpsc::Receiver<Event>>,
    zygote: Option<Arc<Zygote>>,
    /// Its copy of the page's files (removed when it is dropped).
    snapshot: Option<PathBuf>,
}

/// An error when the process `pid` is gone (so that waiting for its fork is pointless).
fn gone(pid: i32, what: &str) -> Option<BackendError> {
    match procs::stat(pid).map(|stat| stat.state) {
        None | Some('Z' | 'X') => Some(BackendError::Lost(format!("the {what} exited"))),
        _ => None,
    }
}

impl PageProcess {
    /// Takes a checkpoint here: the returned [`Checkpoint`] holds the state before the next
    /// example; `self` goes on as the runner (a new process with the same state).
    pub fn checkpoint(&mut self, backend: &Backend) -> Result<Checkpoint, BackendError> {
        let token = backend.next_token("runner")?;
        let expected = backend.expect(&token)?;
        self.send(&Request::Checkpoint { token: &token })?;
        let parent = self.pid;
        let (stream, hello) = expected.wait(FORK_TIMEOUT, || gone(parent, "page process"))?;
        let snapshot = match self.read_event(Instant::now() + FORK_TIMEOUT) {
            Ok(Event::Forked { snapshot, .. }) => snapshot_in(backend, snapshot),
            other => {
                return Err(BackendError::Lost(format!(
                    "checkpoint did not fork: {other:?}"
                )));
            }
        };
        let reader = BufReader::new(stream.try_clone()?);
        let old_reader = std::mem::replace(&mut self.reader, reader);
        let old_stream = std::mem::replace(&mut self.stream, stream);
        self.read_timeout = None;
        old_stream.set_read_timeout(None)?;
        let paused = Checkpoint {
            pid: self.pid,
            group: self.group,
            // The paused parent keeps the group; the runner must not take it down.
            owns_group: std::mem::replace(&mut self.owns_group, false),
            stream: old_stream,
            events: Mutex::new(listen(old_reader, backend)?),
            zygote: self.zygote.clone(),
            snapshot,
        };
        self.pid = hello.pid;
        Ok(paused)
    }
}

/// The snapshot a checkpoint named, if it is one: a `checkpoint-*` folder right in the
/// backend's directory. Anything else named there is not removed.
fn snapshot_in(backend: &Backend, named: Option<String>) -> Option<PathBuf> {
    let path = PathBuf::from(named?);
    let is_ours = path.parent() == Some(backend.socket_directory())
        && path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("checkpoint-"));
    is_ours.then_some(path)
}

/// Reads a checkpoint's connection on a thread of its own.
fn listen(
    reader: BufReader<UnixStream>,
    backend: &Backend,
) -> Result<mpsc::Receiver<Event>, BackendError> {
    let (sender, events) = mpsc::channel();
    let exits = backend.exits();
    std::thread::Builder::new()
        .name("checkpoint-events".into())
        .spawn(move || {
            read_exit_reports(reader, &exits, |event| {
                let _ = sender.send(event);
            });
        })?;
    Ok(events)
}

impl Checkpoint {
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Its copy of the files the page had written when it was taken (removed with it).
    pub fn snapshot(&self) -> Option<&Path> {
        self.snapshot.as_deref()
    }

    /// A new runner in the state of this checkpoint, working in `workdir` (which receives a
    /// copy of the files the page had at the checkpoint).
    pub fn resume(
        &mut self,
        backend: &Backend,
        workdir: &Path,
    ) -> Result<PageProcess, BackendError> {
        let token = backend.next_token("runner")?;
        let expected = backend.expect(&token)?;
        let workdir = workdir.to_string_lossy();
        write_request(
            &mut self.stream,
            &Request::Resume {
                token: &token,
                workdir: &workdir,
            },
        )?;
        let pid = self.pid;
        let (stream, hello) = expected.wait(FORK_TIMEOUT, || gone(pid, "checkpoint"))?;
        let forked = match self.events.get_mut() {
            Ok(events) => events.recv_timeout(FORK_TIMEOUT).ok(),
            Err(_) => None,
        };
        match forked {
            Some(Event::Forked { .. }) => {}
            other => {
                return Err(BackendError::Lost(format!(
                    "checkpoint did not fork: {other:?}"
                )));
            }
        }
        Ok(PageProcess {
            pid: hello.pid,
            group: self.group,
            owns_group: false,
            reader: BufReader::new(stream.try_clone()?),
            stream,
            exits: backend.exits(),
            zygote: self.zygote.clone(),
            _spawned: None,
            python_version: backend.info().version.clone(),
            read_timeout: None,
            unsent: Default::default(),
            unanswered: Default::default(),
            result_log: None,
            recovered: Default::default(),
            after_recovered: None,
            partial_line: Vec::new(),
        })
    }
}

impl Drop for Checkpoint {
    fn drop(&mut self) {
        let _ = write_request(&mut self.stream, &Request::Exit);
        kill_page(self.pid, self.group, self.owns_group);
        if let Some(snapshot) = &self.snapshot {
            let _ = std::fs::remove_dir_all(snapshot);
        }
    }
}
