//! The process-wide safety net of the binary (CLI and language server): one private
//! session directory for every temporary file of the run, this process as a child
//! subreaper, and SIGINT/SIGTERM/SIGHUP/SIGQUIT turned into a shutdown that kills every
//! process we started and removes every temporary folder and file, then exits 128+N as
//! shells expect.
//!
//! Signals are read on a thread of their own with `signal-hook` (no code runs in the signal
//! handler itself). SIGCHLD is watched too: a child of ours that we did not spawn is an
//! orphan re-parented to us (we are a subreaper) and is killed with its tree at once.
//!
//! Only the binary calls [`install`]: a library user (our own tests among them) may have
//! children of its own that are none of our business.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM};

use super::procs;
use super::worker::spawned_lock;

/// Directories and files removed at shutdown, whatever ends the run.
static CLEANUP: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// How often orphans are looked for even without a SIGCHLD.
const ORPHAN_SWEEP: Duration = Duration::from_secs(2);

/// Removes `path` (a directory, or a file such as `--update`'s temporary copy of a page)
/// at shutdown unless [`forget_cleanup`] is called first.
pub fn register_cleanup(path: &Path) {
    if let Ok(mut paths) = CLEANUP.lock() {
        paths.push(path.to_path_buf());
    }
}

/// `path` was removed by its owner; no need to remove it at shutdown.
pub fn forget_cleanup(path: &Path) {
    if let Ok(mut paths) = CLEANUP.lock() {
        paths.retain(|registered| registered != path);
    }
}

/// Ends the run's processes and removes its temporary folders when dropped.
#[must_use = "the session cleans up when dropped"]
pub struct Session {
    directory: Option<PathBuf>,
}

impl Session {
    /// The private directory every temporary folder of this run is made in.
    pub fn directory(&self) -> Option<&Path> {
        self.directory.as_deref()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        clean_up();
    }
}

/// Installs the safety net. Failing to make the session directory or to watch signals is
/// not fatal (the run works, with less cleanup), so this never fails.
pub fn install() -> Session {
    procs::become_subreaper();
    let directory = session_directory();
    if let Some(directory) = &directory {
        register_cleanup(directory);
        // Every `tempfile` directory of the run (the backend's, each page's) is made in here.
        let _ = tempfile::env::override_temp_dir(directory);
    }
    if let Ok(mut signals) =
        signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD])
    {
        let _ = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    if signal == SIGCHLD {
                        reap_orphans();
                        continue;
                    }
                    clean_up();
                    std::process::exit(128 + signal);
                }
            });
    }
    let _ = std::thread::Builder::new()
        .name("orphan-sweep".into())
        .spawn(|| {
            loop {
                std::thread::sleep(ORPHAN_SWEEP);
                reap_orphans();
            }
        });
    Session { directory }
}

/// Session directories are named `objgraph-doctest-session.<pid>.<random>`: the pid says
/// whether the run that made one is still alive.
const SESSION_PREFIX: &str = "objgraph-doctest-session.";

fn session_directory() -> Option<PathBuf> {
    remove_stale_sessions(&tempfile::env::temp_dir());
    let directory = tempfile::Builder::new()
        .prefix(&format!("{SESSION_PREFIX}{}.", std::process::id()))
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .ok()?;
    std::fs::set_permissions(directory.path(), std::fs::Permissions::from_mode(0o700)).ok()?;
    // Absolute, so that a relative TMPDIR still names it after a page changes directory.
    std::path::absolute(directory.keep()).ok()
}

/// Removes the session directories of runs that were killed before they could clean up
/// (SIGKILL, a crash): ours (same owner), and only those whose process is gone, as git
/// removes a stale lock. Their processes died with them (see docs/processes.md).
fn remove_stale_sessions(temp: &Path) {
    remove_stale(temp, SESSION_PREFIX, |_| true);
}

/// Short socket directories (`backend/worker.rs`) are made in /tmp when `TMPDIR` is too deep
/// for a socket path, outside the session directory: `ogd-<pid>.<random>`.
pub(crate) const SHORT_SOCKET_PREFIX: &str = "ogd-";

/// Removes the short socket directories of runs that died before they could remove them.
/// `ogd-` is a short prefix that someone else's folders in /tmp may have too: only a
/// private folder (0700) that holds our socket (`backend.sock`, a socket) is one of ours.
pub(crate) fn remove_stale_socket_directories() {
    use std::os::unix::fs::FileTypeExt;
    remove_stale(Path::new("/tmp"), SHORT_SOCKET_PREFIX, |directory| {
        let private = std::fs::symlink_metadata(directory)
            .is_ok_and(|metadata| metadata.permissions().mode() & 0o777 == 0o700);
        let has_our_socket = std::fs::symlink_metadata(directory.join("backend.sock"))
            .is_ok_and(|metadata| metadata.file_type().is_socket());
        private && has_our_socket
    });
}

/// Removes the directories in `temp` named `<prefix><pid>.<random>` that are ours (same
/// owner, and `looks_ours`) and whose process is gone.
fn remove_stale(temp: &Path, prefix: &str, looks_ours: impl Fn(&Path) -> bool) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    let me = nix::unistd::geteuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('.'))
            .map(|(pid, _)| pid)
            .and_then(|pid| pid.parse::<i32>().ok())
        else {
            continue;
        };
        let ours = entry
            .metadata()
            .is_ok_and(|metadata| metadata.is_dir() && metadata.uid() == me);
        if ours
            && pid as u32 != std::process::id()
            && !procs::process_exists(pid)
            && looks_ours(&entry.path())
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Kills every process below us and removes the registered directories and files.
fn clean_up() {
    let us = std::process::id() as i32;
    for child in procs::children(us) {
        procs::kill_tree(child, true);
    }
    for child in procs::children(us) {
        let _ = waitpid(Pid::from_raw(child), Some(WaitPidFlag::WNOHANG));
    }
    let paths = CLEANUP
        .lock()
        .map(|mut paths| std::mem::take(&mut *paths))
        .unwrap_or_default();
    for path in paths {
        // Not followed: a link put where a registered path was is removed, not its target.
        match std::fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.is_dir() => {
                let _ = std::fs::remove_dir_all(&path);
            }
            Ok(_) => {
                let _ = std::fs::remove_file(&path);
            }
            Err(_) => {}
        }
    }
}

/// Kills (and reaps) the children of ours that we did not spawn: orphans of our Python
/// processes' descendants, re-parented here because we are a subreaper.
pub fn reap_orphans() {
    let us = std::process::id() as i32;
    // Held while looking, so that a process being spawned is never taken for an orphan.
    let Ok(spawned) = spawned_lock() else {
        return;
    };
    for child in procs::children(us) {
        if spawned.contains(&child) {
            continue;
        }
        procs::kill_tree(child, true);
        let _ = waitpid(Pid::from_raw(child), Some(WaitPidFlag::WNOHANG));
    }
}
