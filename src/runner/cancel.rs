//! Cancelling a run from another thread (the editor cancels a live run when a newer edit
//! arrives; the page loop in `run.rs` registers each running example here).
//!
//! The cancel flag and the pid of the example running now are one value under one lock:
//! the run thread registers a pid only if the run is not cancelled yet, and `cancel` sets
//! the flag and kills whatever pid is registered, both under that lock. So there is no
//! window where a cancel lands after the flag was checked but before the pid is known
//! (which would let the example run on to its timeout).

use std::sync::{Arc, Mutex, MutexGuard};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

#[derive(Debug, Default)]
struct State {
    cancelled: bool,
    /// The process running an example now, 0 when none is.
    running_pid: i32,
}

/// Stops a run from another thread: the flag is checked between examples, and the example
/// running now is ended by killing its process.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    state: Arc<Mutex<State>>,
}

impl Cancel {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock still holds a usable flag and pid: cancelling must work anyway.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn cancel(&self) {
        let mut state = self.lock();
        state.cancelled = true;
        if state.running_pid > 0 {
            // Killed under the lock: the run thread cannot clear the pid (and the process be
            // reaped and its pid reused) between reading it and the signal.
            let _ = kill(Pid::from_raw(state.running_pid), Signal::SIGKILL);
        }
    }

    /// Registers `pid` as running an example; false (and nothing registered) when the run is
    /// already cancelled, in which case the example must not start.
    pub fn start_running(&self, pid: i32) -> bool {
        let mut state = self.lock();
        if state.cancelled {
            return false;
        }
        state.running_pid = pid;
        true
    }

    /// The example's process is no longer running one (call before it can be reaped).
    pub fn stop_running(&self) {
        self.lock().running_pid = 0;
    }

    /// True for clones of the same handle.
    pub fn same_as(&self, other: &Cancel) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }

    pub fn is_cancelled(&self) -> bool {
        self.lock().cancelled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancel_before_the_example_starts_stops_it_from_starting() {
        let cancel = Cancel::default();
        cancel.cancel();
        assert!(!cancel.start_running(std::process::id() as i32));
        assert!(cancel.is_cancelled());
    }

    #[test]
    fn a_cancel_while_an_example_runs_kills_its_process() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep starts");
        let cancel = Cancel::default();
        assert!(cancel.start_running(child.id() as i32));
        cancel.clone().cancel();
        let status = child.wait().expect("waited");
        assert!(!status.success());
        cancel.stop_running();
        assert!(cancel.same_as(&cancel.clone()));
    }
}
