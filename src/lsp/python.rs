//! The server's interpreter: one backend (zygote) shared by the documents, started on the
//! first run (never in `initialize`), and started again when it is no longer the one wanted:
//!
//! - the interpreter the settings and the workspace choose changed (the `python` setting, a
//!   `.venv` created or removed, the configuration's `python` or `preload`): checked on
//!   every run, since resolving is a few `stat`s;
//! - it died (an example killed the zygote): the caller, seeing that a page process could
//!   not be started, [`discard`](PythonSlot::discard)s it and asks again;
//! - it failed to start: nothing is kept, so the next run tries again (the failure is a
//!   warning for that run, not a permanent state).
//!
//! Starting takes a second or more, so it happens on a blocking thread, serialised by an
//! async lock; the std mutex around the running backend is only held to read or swap it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::backend::{Backend, BackendOptions, interpreter};

/// Which backend a run wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The `python` setting (it overrides the configuration).
    pub setting: Option<String>,
    pub configured: Option<String>,
    pub config_root: PathBuf,
    pub workspace_root: PathBuf,
    pub preload: Vec<String>,
}

struct Running {
    backend: Arc<Backend>,
    python: PathBuf,
    preload: Vec<String>,
}

/// The backend, if one is running, and how to get one.
#[derive(Default)]
pub struct PythonSlot {
    running: Mutex<Option<Running>>,
    starting: tokio::sync::Mutex<()>,
    stopped: AtomicBool,
}

impl PythonSlot {
    fn running(&self) -> MutexGuard<'_, Option<Running>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The backend for `wanted`, starting (or restarting) it if needed. Errors are messages
    /// for the user.
    pub async fn get(&self, wanted: Wanted) -> Result<Arc<Backend>, String> {
        let _one_start_at_a_time = self.starting.lock().await;
        if self.stopped.load(Ordering::SeqCst) {
            return Err("the server is shutting down".to_owned());
        }
        let resolved = {
            let wanted = wanted.clone();
            tokio::task::spawn_blocking(move || {
                interpreter::resolve(
                    wanted.setting.as_deref(),
                    wanted.configured.as_deref(),
                    &wanted.config_root,
                    &wanted.workspace_root,
                )
            })
            .await
            .map_err(|error| format!("choosing the interpreter failed: {error}"))?
            .map_err(|error| error.to_string())?
        };
        let old = {
            let mut running = self.running();
            match &*running {
                Some(current)
                    if current.python == resolved.path && current.preload == wanted.preload =>
                {
                    return Ok(Arc::clone(&current.backend));
                }
                _ => running.take(),
            }
        };
        let options = BackendOptions {
            python: resolved.path.clone(),
            preload: wanted.preload.clone(),
            fork: true,
            directory: Some(wanted.config_root.clone()).filter(|root| !root.as_os_str().is_empty()),
        };
        let started = tokio::task::spawn_blocking(move || {
            // The old interpreter (if any) ends here, off the runtime's threads.
            drop(old);
            Backend::start(options)
        })
        .await
        .map_err(|error| format!("starting the interpreter failed: {error}"))?
        .map_err(|error| format!("the Python backend did not start: {error}"))?;
        let backend = Arc::new(started);
        if self.stopped.load(Ordering::SeqCst) {
            return Err("the server is shutting down".to_owned());
        }
        *self.running() = Some(Running {
            backend: Arc::clone(&backend),
            python: resolved.path,
            preload: wanted.preload,
        });
        Ok(backend)
    }

    /// Forgets `backend` if it is the running one (it died): the next `get` starts another.
    pub fn discard(&self, backend: &Arc<Backend>) {
        let mut running = self.running();
        if running
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(&current.backend, backend))
        {
            *running = None;
        }
    }

    /// Ends the backend for good (shutdown): later `get`s fail.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let old = self.running().take();
        drop(old);
    }
}
