//! Checkpoints: live snapshots of a page's interpreter, taken by fork, so that an editor can
//! re-run a page from example k without re-running examples 0..k.
//!
//! `PageProcess::checkpoint` forks the runner: the parent stays paused as "the state before
//! the next example" (a [`Checkpoint`]), and the child carries on as the runner. A checkpoint
//! can start any number of new runners from its state (`Checkpoint::resume`), each in a
//! fresh working directory holding a copy of the files the page had written by then. Memory
//! is shared copy-on-write. Checkpoints and runners form a chain of parents and children;
//! each dies with its parent, so dropping a checkpoint ends everything forked from it, and
//! dropping the page's first process ends them all. Threads do not survive fork: a page that
//! started threads before a checkpoint finds them gone in runners started from it.

use std::io::BufReader;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::protocol::{Event, Request};
use super::worker::{Backend, BackendError, PageProcess, accept_from, write_request};

/// How long a fork may take to say hello.
const FORK_TIMEOUT: Duration = Duration::from_secs(30);

/// A paused page process: the state of a page before one of its examples.
pub struct Checkpoint {
    pid: i32,
    group: i32,
    /// The page's first process: dropping it ends the whole process group.
    owns_group: bool,
    stream: std::os::unix::net::UnixStream,
    reader: BufReader<std::os::unix::net::UnixStream>,
}

impl PageProcess {
    /// Takes a checkpoint here: the returned [`Checkpoint`] holds the state before the next
    /// example; `self` goes on as the runner (a new process with the same state).
    pub fn checkpoint(&mut self, backend: &Backend) -> Result<Checkpoint, BackendError> {
        let token = backend.next_token("runner");
        let (stream, hello) = fork_runner(backend, &token, || {
            self.send(&Request::Checkpoint { token: &token })
        })?;
        match self.read_event(Instant::now() + FORK_TIMEOUT) {
            Ok(Event::Forked { .. }) => {}
            other => {
                return Err(BackendError::Lost(format!(
                    "checkpoint did not fork: {other:?}"
                )));
            }
        }
        let reader = BufReader::new(stream.try_clone()?);
        let paused = Checkpoint {
            pid: self.pid,
            group: self.group,
            // The paused parent keeps the group; the runner must not take it down.
            owns_group: std::mem::replace(&mut self.owns_group, false),
            stream: std::mem::replace(&mut self.stream, stream),
            reader: std::mem::replace(&mut self.reader, reader),
        };
        self.pid = hello.pid;
        Ok(paused)
    }
}

impl Checkpoint {
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// A new runner in the state of this checkpoint, working in `workdir` (which receives a
    /// copy of the files the page had at the checkpoint).
    pub fn resume(
        &mut self,
        backend: &Backend,
        workdir: &Path,
    ) -> Result<PageProcess, BackendError> {
        let token = backend.next_token("runner");
        let workdir = workdir.to_string_lossy();
        let request = Request::Resume {
            token: &token,
            workdir: &workdir,
        };
        let (stream, hello) = fork_runner(backend, &token, || {
            write_request(&mut self.stream, &request)
        })?;
        self.await_forked()?;
        Ok(PageProcess {
            pid: hello.pid,
            group: self.group,
            owns_group: false,
            reader: BufReader::new(stream.try_clone()?),
            stream,
            exits: backend.exits(),
            _spawned: None,
        })
    }

    fn await_forked(&mut self) -> Result<(), BackendError> {
        use std::io::BufRead;
        self.stream.set_read_timeout(Some(FORK_TIMEOUT))?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        match serde_json::from_str(&line) {
            Ok(Event::Forked { .. }) => Ok(()),
            _ => Err(BackendError::Lost(format!(
                "checkpoint did not fork: {line:?}"
            ))),
        }
    }
}

/// Sends the request that forks a runner and waits for the runner to say hello with `token`.
/// The socket is held meanwhile, so the next connection is the runner's.
fn fork_runner(
    backend: &Backend,
    token: &str,
    send: impl FnOnce() -> std::io::Result<()>,
) -> Result<(std::os::unix::net::UnixStream, super::protocol::Hello), BackendError> {
    let listener = backend.lock_listener()?;
    send()?;
    let (stream, hello) = accept_from(&listener, None, FORK_TIMEOUT)?;
    drop(listener);
    if hello.token.as_deref() != Some(token) {
        return Err(BackendError::Lost(format!(
            "expected runner {token}, got {:?}",
            hello.token
        )));
    }
    Ok((stream, hello))
}

impl Drop for Checkpoint {
    fn drop(&mut self) {
        let _ = write_request(&mut self.stream, &Request::Exit);
        if self.owns_group {
            let _ = nix::sys::signal::killpg(Pid::from_raw(self.group), Signal::SIGKILL);
        } else {
            let _ = nix::sys::signal::kill(Pid::from_raw(self.pid), Signal::SIGKILL);
        }
    }
}
