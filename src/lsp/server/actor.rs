//! A document's actor: it owns the document's live state (what ran, checkpoints), turns
//! edits, saves and commands into evaluations (re-judge at once, debounce, run from the
//! nearest checkpoint on a blocking thread, cancel when a newer edit arrives), publishes the
//! snapshots requests read, and is restarted by its supervisor when it fails.

use super::inspect::answer_inquiry;
use super::*;

/// What the server tells a document's actor.
pub(super) enum ActorMessage {
    Changed,
    Saved,
    RunPage,
    RunFrom(usize),
    Close,
}

/// What started an evaluation of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Changed,
    Saved,
    RunPage,
    RunFrom(usize),
}

/// Keeps a document's actor alive: a panic or failure in it is shown as a diagnostic, and
/// the next message (an edit, a save, a command) starts it again with a fresh live state.
pub(super) async fn supervise_actor(
    shared: Arc<Shared>,
    shelf: Arc<Shelf>,
    mut messages: mpsc::UnboundedReceiver<ActorMessage>,
    mut inquiries: mpsc::UnboundedReceiver<Inquiry>,
) {
    let mut first = Some(Trigger::Changed);
    loop {
        let outcome = CatchPanic::new(document_actor(
            &shared,
            &shelf,
            &mut messages,
            &mut inquiries,
            first.take(),
        ))
        .await;
        let failure = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(failure)) | Err(failure) => failure,
        };
        let text = format!(
            "internal error while checking this page: {failure} (a bug in objgraph-doctest: \
             please report it); the page is checked again on the next edit"
        );
        shared
            .log_error(&format!("{}: {text}", shelf.uri.as_str()))
            .await;
        let current = shelf.current();
        let shown =
            CatchPanic::new(shared.publish(&shelf, &current, std::slice::from_ref(&text))).await;
        if shown.is_err() {
            // The page's diagnostics are what fails: show the failure alone.
            let alone = Diagnostic {
                range: Range::default(),
                severity: Some(DiagnosticSeverity::WARNING),
                source: Some("objgraph-doctest".to_owned()),
                message: text,
                ..Diagnostic::default()
            };
            shared
                .send_diagnostics(&shelf, vec![alone], current.document.version)
                .await;
        }
        let message = loop {
            tokio::select! {
                biased;
                message = messages.recv() => break message,
                Some(inquiry) = inquiries.recv() => {
                    let _ = inquiry.reply.send(Answer::Unavailable(
                        "checking this page failed; edit it to check it again".to_owned(),
                    ));
                }
            }
        };
        first = match message {
            None | Some(ActorMessage::Close) => return,
            Some(message) => Some(to_trigger(message)),
        };
    }
}

/// The document's actor: owns its live state, evaluates after each trigger. Returns when
/// the document is closed, or with a message when a run failed in a way it cannot go on from.
async fn document_actor(
    shared: &Arc<Shared>,
    shelf: &Arc<Shelf>,
    messages: &mut mpsc::UnboundedReceiver<ActorMessage>,
    inquiries: &mut mpsc::UnboundedReceiver<Inquiry>,
    mut next: Option<Trigger>,
) -> Result<(), String> {
    let mut live = LiveState::new();
    // The backend `live`'s cache and checkpoints come from (see `run`).
    let mut ran_on = None;
    loop {
        let mut trigger = match next.take() {
            Some(trigger) => trigger,
            // Idle: heap inquiries are answered here, between runs (see `lsp::heap`).
            None => loop {
                let message = tokio::select! {
                    biased;
                    message = messages.recv() => message,
                    Some(inquiry) = inquiries.recv() => {
                        let (returned, interrupted) =
                            answer_inquiry(shared, shelf, live, &ran_on, inquiry, messages)
                                .await?;
                        live = returned;
                        match interrupted {
                            None => continue,
                            Some(message) => message,
                        }
                    }
                };
                match message {
                    None | Some(ActorMessage::Close) => return Ok(()),
                    Some(message) => break to_trigger(message),
                }
            },
        };
        // A burst of edits is handled once, for the latest text.
        while let Ok(message) = messages.try_recv() {
            match message {
                ActorMessage::Close => return Ok(()),
                other => trigger = stronger(trigger, to_trigger(other)),
            }
        }
        shared.panics.at("actor");
        // Re-judge at once: cheap, and an edit to expected output needs nothing more.
        let needs_run = evaluate(shared, shelf, Some(&live)).await;
        if trigger == Trigger::Changed && !needs_run {
            // Nothing changed that must run (an edit to expected output, say).
            continue;
        }
        // No example runs before the client's settings are known; edits meanwhile restart.
        tokio::select! {
            _ = shared.settings_known() => {}
            message = messages.recv() => match message {
                None | Some(ActorMessage::Close) => return Ok(()),
                Some(message) => {
                    next = Some(stronger(trigger, to_trigger(message)));
                    continue;
                }
            },
        }
        let settings = shared.settings();
        let wanted = match trigger {
            Trigger::RunPage | Trigger::RunFrom(_) => true,
            Trigger::Changed => settings.run_on == RunOn::Change && needs_run,
            // A save may stand for edits it was coalesced with: with `runOn: change` they
            // still need their run.
            Trigger::Saved => match settings.run_on {
                RunOn::Save => true,
                RunOn::Change => needs_run,
                RunOn::Manual => false,
            },
        };
        if !settings.execute || !wanted {
            continue;
        }
        if trigger == Trigger::Changed && settings.debounce_ms > 0 {
            // Wait for typing to pause; a newer edit restarts the wait.
            match tokio::time::timeout(Duration::from_millis(settings.debounce_ms), messages.recv())
                .await
            {
                Ok(None) | Ok(Some(ActorMessage::Close)) => return Ok(()),
                Ok(Some(message)) => {
                    next = Some(to_trigger(message));
                    continue;
                }
                Err(_) => {}
            }
        }
        let force_from = match trigger {
            Trigger::RunPage => Some(0),
            Trigger::RunFrom(index) => Some(index),
            _ => None,
        };
        let (mut returned, interrupted) = run(
            shared,
            shelf,
            live,
            force_from,
            &mut ran_on,
            messages,
            inquiries,
        )
        .await?;
        // An interrupted explicit run ("Run page") is still owed after the edit.
        let owed = match interrupted {
            // Closed: its diagnostics were cleared, and nothing is said about it any more.
            Some(Interruption::Close) => return Ok(()),
            Some(Interruption::Next(newer)) => Some(stronger(trigger, newer)),
            None => None,
        };
        evaluate(shared, shelf, Some(&returned)).await;
        // Results are out: now end the checkpoints this run made stale.
        returned.release_retired();
        live = returned;
        // Lenses show counts: ask the client to fetch them again.
        if shared.lens_refresh.load(Ordering::Relaxed) {
            // Not awaited here: a client slow to answer must not hold up the next run.
            let client = shared.client.clone();
            tokio::spawn(async move {
                let _ = client.code_lens_refresh().await;
            });
        }
        next = owed;
    }
}

fn to_trigger(message: ActorMessage) -> Trigger {
    match message {
        ActorMessage::Changed | ActorMessage::Close => Trigger::Changed,
        ActorMessage::Saved => Trigger::Saved,
        ActorMessage::RunPage => Trigger::RunPage,
        ActorMessage::RunFrom(index) => Trigger::RunFrom(index),
    }
}

/// Of two pending triggers, the one that asks for more (an explicit run beats an edit).
fn stronger(first: Trigger, second: Trigger) -> Trigger {
    let rank = |trigger: Trigger| match trigger {
        Trigger::Changed => 0,
        Trigger::Saved => 1,
        Trigger::RunFrom(_) => 2,
        Trigger::RunPage => 3,
    };
    match (first, second) {
        (Trigger::RunFrom(a), Trigger::RunFrom(b)) => Trigger::RunFrom(a.min(b)),
        _ if rank(second) >= rank(first) => second,
        _ => first,
    }
}

enum Interruption {
    Next(Trigger),
    Close,
}

/// Parses the latest text (unless the current snapshot has it), judges the cached results
/// against it, publishes the snapshot and its diagnostics; returns whether some example must
/// run (its source changed, or it never ran).
async fn evaluate(shared: &Arc<Shared>, shelf: &Arc<Shelf>, live: Option<&LiveState>) -> bool {
    let registry = shared.registry();
    let profiles = shared.profiles();
    let current = shelf.current();
    let (revision, document) = if current.revision == shelf.revision() {
        (current.revision, current.document.clone())
    } else {
        shelf.parse_latest(&registry, &profiles)
    };
    let profile = profiles.for_page(std::path::Path::new(&document.page.path));
    let page = &document.page;
    let (results, needs_run) = match live {
        Some(live) => {
            let results = live.results(page, &profile, &registry);
            let needs_run = results.iter().any(Option::is_none);
            (results, needs_run)
        }
        None => (vec![None; page.examples.len()], !page.examples.is_empty()),
    };
    let page_error = live.and_then(|live| live.page_error.clone());
    let snapshot = Snapshot::with_page_error(revision, document, results, page_error);
    shelf.publish(Arc::clone(&snapshot));
    shared.publish(shelf, &snapshot, &[]).await;
    needs_run
}

/// The backend this run wants, as the settings and the workspace choose it now.
pub(super) fn wanted_python(shared: &Shared) -> Wanted {
    let workspace = shared.workspace();
    Wanted {
        setting: shared.settings().python,
        configured: workspace.config.python.clone(),
        config_root: workspace.config.root.clone(),
        workspace_root: workspace.root.clone(),
        preload: preload(&workspace.config),
    }
}

/// The options runs use: the CLI's, built from the workspace's configuration, with the
/// workspace's profiles (so that runs judge as evaluations do).
pub(super) fn run_settings(shared: &Shared) -> Result<RunSettings, OptionsError> {
    let workspace = shared.workspace();
    match workspace.problem.clone() {
        Some(problem) => Err(OptionsError(problem)),
        None => RunSettings::build(&workspace.config, &shared.registry(), &Overrides::default())
            .map(|mut settings| {
                settings.run.profiles = Arc::clone(&workspace.profiles);
                settings
            }),
    }
}

/// Runs what must run, on a blocking thread; a message that arrives meanwhile cancels it.
/// A backend that cannot start a page process any more (its zygote died) is replaced and
/// the run tried once more. Errors are failures the actor cannot go on from (the run's
/// thread panicked, taking the live state with it).
async fn run(
    shared: &Arc<Shared>,
    shelf: &Arc<Shelf>,
    mut live: LiveState,
    force_from: Option<usize>,
    ran_on: &mut Option<Weak<Backend>>,
    messages: &mut mpsc::UnboundedReceiver<ActorMessage>,
    inquiries: &mut mpsc::UnboundedReceiver<Inquiry>,
) -> Result<(LiveState, Option<Interruption>), String> {
    // The same options the CLI builds; one it would refuse is an error here too, and nothing
    // runs (a bad `optionflags` entry is never silently dropped). Checked before Python starts.
    let settings = {
        match run_settings(shared) {
            Ok(settings) => settings,
            Err(error) => {
                live.page_error = Some(format!(
                    "{error}; examples are not run (fix it, then restart the language server)"
                ));
                return Ok((live, None));
            }
        }
    };
    let mut attempts = 0;
    loop {
        attempts += 1;
        let backend = match shared.python.get(wanted_python(shared)).await {
            Ok(backend) => {
                shared.numpy.store(backend.info().numpy, Ordering::SeqCst);
                backend
            }
            Err(message) => {
                write(
                    &shared.run_warnings,
                    vec![format!(
                        "{message}; examples are not run (tried again on the next run)"
                    )],
                );
                return Ok((live, None));
            }
        };
        let this_one = Arc::downgrade(&backend);
        if ran_on
            .as_ref()
            .is_some_and(|previous| !Weak::ptr_eq(previous, &this_one))
        {
            // Another interpreter: the cached outputs and the checkpoints (processes of the
            // old one) no longer describe what this one would do. Run the page afresh.
            live = LiveState::new();
        }
        // Weak: the actor must not keep a replaced interpreter alive.
        *ran_on = Some(this_one);
        let mut warnings = settings.warnings.clone();
        warnings.extend(settings.preload_warnings(backend.info()));
        write(&shared.run_warnings, warnings);
        let options = settings.run.clone();
        let registry = shared.registry();
        // The page of the snapshot `evaluate` just published.
        let page = shelf.current().document.page.clone();
        let progress = begin_progress(shared, &page.path).await;
        let cancel = Cancel::default();
        lock(&shared.running).push(cancel.clone());
        let handle = {
            let cancel = cancel.clone();
            let backend = Arc::clone(&backend);
            let shared = Arc::clone(shared);
            tokio::task::spawn_blocking(move || {
                shared.panics.at("run");
                let end = live.update(&page, &backend, &registry, &options, force_from, &cancel);
                let no_runner = end != RunEnd::Cancelled
                    && !page.examples.is_empty()
                    && live.executed.is_empty();
                (live, end, no_runner)
            })
        };
        tokio::pin!(handle);
        let mut interruption = None;
        let outcome = loop {
            tokio::select! {
                finished = &mut handle => break finished,
                Some(inquiry) = inquiries.recv() => {
                    // The checkpoints are the run's now; waiting for it could take long.
                    let _ = inquiry.reply.send(Answer::Unavailable(
                        "the page is running; hover again when it has finished".to_owned(),
                    ));
                }
                message = messages.recv(), if interruption.is_none() => {
                    let edited = matches!(message, Some(ActorMessage::Changed));
                    interruption = Some(match message {
                        None | Some(ActorMessage::Close) => Interruption::Close,
                        Some(message) => Interruption::Next(to_trigger(message)),
                    });
                    cancel.cancel();
                    if edited {
                        // Ending the run can take a moment: meanwhile requests get the new
                        // text (without results yet) instead of waiting for it.
                        let (revision, document) =
                            shelf.parse_latest(&shared.registry(), &shared.profiles());
                        shelf.publish(Snapshot::unrun(revision, document));
                    }
                }
            }
        };
        if let Some(progress) = progress {
            progress.finish().await;
        }
        lock(&shared.running).retain(|other| !other.same_as(&cancel));
        let (returned, end, no_runner) = outcome.map_err(|error| match error.try_into_panic() {
            Ok(payload) => format!("the run panicked: {}", panic_message(payload.as_ref())),
            Err(error) => format!("the run ended abnormally: {error}"),
        })?;
        live = returned;
        if no_runner && interruption.is_none() && attempts < 2 {
            // Not one example ran: no page process could be started. The interpreter is
            // presumed dead (an example can kill the zygote): start a new one and retry.
            shared.python.discard(&backend);
            continue;
        }
        if end == RunEnd::Cancelled && interruption.is_none() {
            interruption = Some(Interruption::Next(Trigger::Changed));
        }
        return Ok((live, interruption));
    }
}

async fn begin_progress(
    shared: &Shared,
    path: &str,
) -> Option<
    tower_lsp_server::OngoingProgress<
        tower_lsp_server::Unbounded,
        tower_lsp_server::NotCancellable,
    >,
> {
    if !shared.progress.load(Ordering::Relaxed) {
        return None;
    }
    let token = NumberOrString::String(format!("objgraph-doctest/{}", uuid_like()));
    let created = shared
        .client
        .send_request::<request::WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
            token: token.clone(),
        });
    // A client that does not answer gets no progress report, but its run still happens.
    tokio::time::timeout(PROGRESS_CREATE_WAIT, created)
        .await
        .ok()?
        .ok()?;
    let name = std::path::Path::new(path)
        .file_name()
        .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned());
    Some(
        shared
            .client
            .progress(token, format!("Running {name}"))
            .begin()
            .await,
    )
}

fn uuid_like() -> u64 {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
