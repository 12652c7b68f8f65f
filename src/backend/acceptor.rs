//! The socket's acceptor: the Python processes that are not forked pages (those get a
//! socket pair from the zygote, `worker.rs`) connect to one socket, and a thread takes
//! each connection, checks the peer (our user, and a process below us: SO_PEERCRED), reads
//! its hello (off the acceptor's own thread, so a silent connection holds nobody up) and
//! hands it to whoever waits for the random token it carries. Any number of processes can
//! start at once (`--no-fork -j N`), and nobody else's connection is ever used.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::procs;
use super::protocol::{Event, Hello};
use super::worker::BackendError;

/// How long a connection may take to say hello once accepted.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a hello may still arrive after its process was seen to exit.
const EXIT_GRACE: Duration = Duration::from_millis(500);
/// Longest hello line (a hello is a few hundred bytes).
const MAX_HELLO: u64 = 64 * 1024;

/// A connection that said hello.
pub(super) type Arrival = (UnixStream, Hello);

/// Hands each accepted connection to the waiter whose token its hello carries.
#[derive(Default)]
pub(super) struct Acceptor {
    waiting: Mutex<HashMap<String, mpsc::Sender<Arrival>>>,
    pub(super) closed: AtomicBool,
}

/// A registered wait for the connection that will say hello with `token`.
pub(super) struct Expected {
    token: String,
    receiver: mpsc::Receiver<Arrival>,
    acceptor: Arc<Acceptor>,
}

impl Acceptor {
    pub(super) fn expect(self: &Arc<Acceptor>, token: &str) -> Result<Expected, BackendError> {
        let (sender, receiver) = mpsc::channel();
        self.waiting
            .lock()
            .map_err(|_| BackendError::Lost("the backend's socket".into()))?
            .insert(token.to_owned(), sender);
        Ok(Expected {
            token: token.to_owned(),
            receiver,
            acceptor: Arc::clone(self),
        })
    }

    fn route(&self, stream: UnixStream, hello: Hello) {
        let Some(token) = hello.token.clone() else {
            return;
        };
        let sender = self
            .waiting
            .lock()
            .ok()
            .and_then(|mut waiting| waiting.remove(&token));
        // A token nobody waits for (late, forged, or already used) is dropped unanswered.
        if let Some(sender) = sender {
            let _ = sender.send((stream, hello));
        }
    }
}

impl Expected {
    /// Waits up to `timeout` for the connection; `watch` is asked every few milliseconds
    /// whether waiting is pointless (the process died, the zygote stopped).
    pub(super) fn wait(
        self,
        timeout: Duration,
        mut watch: impl FnMut() -> Option<BackendError>,
    ) -> Result<Arrival, BackendError> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.receiver.recv_timeout(Duration::from_millis(5)) {
                Ok(arrival) => return Ok(arrival),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(BackendError::Lost("the backend's socket closed".into()));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Some(error) = watch() {
                // It may have said hello just before it went (a probe always does), and
                // the acceptor may still be reading that hello.
                return self.receiver.recv_timeout(EXIT_GRACE).map_err(|_| error);
            }
            if Instant::now() >= deadline {
                return Err(BackendError::Lost("no answer from the interpreter".into()));
            }
        }
    }
}

impl Drop for Expected {
    fn drop(&mut self) {
        if let Ok(mut waiting) = self.acceptor.waiting.lock() {
            waiting.remove(&self.token);
        }
    }
}

/// Takes connections until the acceptor is closed. Each must come from our user and from a
/// process below us, and say hello with a token someone waits for.
pub(super) fn accept_connections(listener: UnixListener, acceptor: Arc<Acceptor>) {
    let us = std::process::id() as i32;
    for stream in listener.incoming() {
        if acceptor.closed.load(Ordering::Acquire) {
            return;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors or the like: let it pass rather than spin.
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let Some(peer) = peer_pid(&stream, us) else {
            continue;
        };
        // The hello is read on a thread of its own: a connection that says nothing (an
        // example may find the socket) must not hold up the pages behind it.
        let acceptor = Arc::clone(&acceptor);
        let _ = std::thread::Builder::new()
            .name("backend-hello".into())
            .spawn(move || {
                if let Some(hello) = read_hello(&stream)
                    && hello.pid == peer
                {
                    acceptor.route(stream, hello);
                }
            });
    }
}

/// The pid of the connecting process, if it runs as our user and descends from us.
fn peer_pid(stream: &UnixStream, us: i32) -> Option<i32> {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    let credentials = getsockopt(stream, PeerCredentials).ok()?;
    let ours = credentials.uid() == nix::unistd::getuid().as_raw()
        && procs::descends_from(credentials.pid(), us);
    ours.then_some(credentials.pid())
}

fn read_hello(stream: &UnixStream) -> Option<Hello> {
    stream.set_read_timeout(Some(HELLO_TIMEOUT)).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?).take(MAX_HELLO);
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).ok()?;
    stream.set_read_timeout(None).ok()?;
    match serde_json::from_slice(&line) {
        Ok(Event::Hello(hello)) => Some(hello),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command};

    fn python() -> String {
        std::env::var("OBJGRAPH_DOCTEST_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
    }

    /// Accepts one connection from a Python that runs `prelude` and then connects.
    fn peer_of(prelude: &str) -> (Option<i32>, Child) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let script = format!(
            "import os, socket, sys, time\n{prelude}\ns = socket.socket(socket.AF_UNIX)\n\
             s.connect(sys.argv[1])\ntime.sleep(3)\n"
        );
        let child = Command::new(python())
            .arg("-c")
            .arg(script)
            .arg(&path)
            .spawn()
            .unwrap();
        let (stream, _) = listener.accept().unwrap();
        (peer_pid(&stream, std::process::id() as i32), child)
    }

    #[test]
    fn a_child_of_ours_is_accepted() {
        let (peer, mut child) = peer_of("");
        assert_eq!(peer, Some(child.id() as i32));
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn a_process_that_left_our_tree_is_refused() {
        // Double fork: the connecting process is re-parented away from us (to init).
        let (peer, mut child) = peer_of("if os.fork():\n    os._exit(0)\ntime.sleep(0.3)");
        let _ = child.wait();
        assert_eq!(peer, None);
    }
}
