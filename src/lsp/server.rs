//! The language server: thin handlers over the documents' state, and one actor task per
//! document that owns its runs (its live interpreter state and checkpoints).
//!
//! Requests never wait for a run: they read the latest parsed page and results under a
//! short lock. Runs happen on a blocking thread owned by the document's actor, which cancels
//! a run when a newer edit arrives, re-judges cached output at once when an edit did not
//! change any example's source, and otherwise debounces and re-runs from the nearest
//! checkpoint.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::Result as RpcResult;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::backend::{Backend, BackendOptions, interpreter};
use crate::engine::{FlagRegistry, FlagSet};
use crate::runner::Config;
use crate::runner::options::{Overrides, RunSettings, preload};
use crate::runner::run::ExampleRun;

use super::document::Document;
use super::lens::{RUN_FROM, RUN_PAGE};
use super::live::{Cancel, LiveState, RunEnd};
use super::settings::{RunOn, Settings};
use super::{actions, diagnostics, hover, lens, symbols};

/// What the server knows about the workspace: configuration and flags.
#[derive(Debug, Clone)]
struct Workspace {
    root: PathBuf,
    config: Config,
    /// Why the configuration could not be used, if it could not (then nothing runs).
    problem: Option<String>,
    registry: Arc<FlagRegistry>,
    default_flags: FlagSet,
}

impl Workspace {
    fn load(root: PathBuf) -> (Workspace, Option<String>) {
        let (config, problem) = match Config::discover(&root) {
            Ok(config) => (config, None),
            Err(error) => (
                Config {
                    root: root.clone(),
                    ..Config::default()
                },
                Some(error.to_string()),
            ),
        };
        let registry = config.flag_registry();
        let default_flags = config.default_flags(&registry).unwrap_or_default();
        let workspace = Workspace {
            root,
            config,
            problem: problem.clone(),
            registry: Arc::new(registry),
            default_flags,
        };
        (workspace, problem)
    }
}

/// The interpreter, started on the first run (never during `initialize`).
enum BackendSlot {
    NotStarted,
    Ready(Arc<Backend>),
    Failed(String),
}

/// A document's state as requests see it.
struct DocState {
    document: Document,
    /// The version `document.page` was parsed at (edits are applied at once, parsed later).
    parsed_version: Option<i32>,
    /// Results for `document.page.examples`, as of the last judgement.
    results: Vec<Option<ExampleRun>>,
    /// Why the page as a whole could not run (its setup code failed, with the traceback).
    page_error: Option<String>,
}

impl DocState {
    fn ensure_parsed(&mut self, registry: &FlagRegistry) {
        if self.parsed_version != Some(self.document.version) {
            self.document.reparse(registry);
            self.parsed_version = Some(self.document.version);
        }
    }
}

enum ActorMessage {
    Changed,
    Saved,
    RunPage,
    RunFrom(usize),
    Close,
}

struct DocHandle {
    state: Arc<RwLock<DocState>>,
    actor: mpsc::UnboundedSender<ActorMessage>,
}

struct Shared {
    client: Client,
    settings: RwLock<Settings>,
    workspace: RwLock<Workspace>,
    documents: Mutex<HashMap<Uri, DocHandle>>,
    backend: Mutex<BackendSlot>,
    warnings: RwLock<Vec<String>>,
    progress: std::sync::atomic::AtomicBool,
    /// Runs in progress, so that shutting down can end them at once.
    running: Mutex<Vec<Cancel>>,
    /// The client can be asked to refresh code lenses.
    lens_refresh: std::sync::atomic::AtomicBool,
}

/// Ends everything the server started; usable after the service is gone.
#[derive(Clone)]
pub struct Stopper(Arc<Shared>);

impl Stopper {
    pub fn stop_everything(&self) {
        self.0.stop_everything();
    }
}

/// The LSP service.
pub struct Server {
    shared: Arc<Shared>,
}

impl Server {
    pub fn new(client: Client) -> Server {
        let root = std::env::current_dir().unwrap_or_default();
        Server {
            shared: Arc::new(Shared {
                client,
                settings: RwLock::new(Settings::default()),
                workspace: RwLock::new(Workspace::load(root).0),
                documents: Mutex::new(HashMap::new()),
                backend: Mutex::new(BackendSlot::NotStarted),
                warnings: RwLock::new(Vec::new()),
                progress: std::sync::atomic::AtomicBool::new(false),
                running: Mutex::new(Vec::new()),
                lens_refresh: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// A handle that ends every run and process: documents' actors and the interpreter.
    pub fn stopper(&self) -> Stopper {
        Stopper(Arc::clone(&self.shared))
    }

    fn with_state<T>(
        &self,
        uri: &Uri,
        read: impl FnOnce(&DocState, &FlagRegistry) -> T,
    ) -> Option<T> {
        let state = {
            let documents = self.shared.documents.lock().ok()?;
            Arc::clone(&documents.get(uri)?.state)
        };
        let registry = self.shared.registry();
        {
            let mut writable = state.write().ok()?;
            writable.ensure_parsed(&registry);
        }
        let state = state.read().ok()?;
        Some(read(&state, &registry))
    }

    fn send(&self, uri: &Uri, message: ActorMessage) {
        if let Ok(documents) = self.shared.documents.lock()
            && let Some(handle) = documents.get(uri)
        {
            let _ = handle.actor.send(message);
        }
    }
}

impl Shared {
    fn registry(&self) -> Arc<FlagRegistry> {
        self.workspace
            .read()
            .map(|workspace| Arc::clone(&workspace.registry))
            .unwrap_or_else(|_| Arc::new(FlagRegistry::new()))
    }

    fn settings(&self) -> Settings {
        self.settings
            .read()
            .map(|settings| settings.clone())
            .unwrap_or_default()
    }

    fn stop_everything(&self) {
        if let Ok(running) = self.running.lock() {
            for cancel in running.iter() {
                cancel.cancel();
            }
        }
        if let Ok(mut documents) = self.documents.lock() {
            for (_, handle) in documents.drain() {
                let _ = handle.actor.send(ActorMessage::Close);
            }
        }
        if let Ok(mut backend) = self.backend.lock() {
            *backend = BackendSlot::NotStarted;
        }
    }

    /// The interpreter, starting it if this is the first run. Errors become one warning.
    fn backend(&self) -> Result<Arc<Backend>, String> {
        let mut slot = self
            .backend
            .lock()
            .map_err(|_| "the backend lock is poisoned".to_owned())?;
        match &*slot {
            BackendSlot::Ready(backend) => return Ok(Arc::clone(backend)),
            BackendSlot::Failed(message) => return Err(message.clone()),
            BackendSlot::NotStarted => {}
        }
        let settings = self.settings();
        let workspace = self
            .workspace
            .read()
            .map_err(|_| "workspace lock poisoned".to_owned())?
            .clone();
        let started = interpreter::resolve(
            settings.python.as_deref(),
            workspace.config.python.as_deref(),
            &workspace.config.root,
            &workspace.root,
        )
        .map_err(|error| error.to_string())
        .and_then(|python| {
            Backend::start(BackendOptions {
                python: python.path,
                preload: preload(&workspace.config),
                fork: true,
            })
            .map_err(|error| format!("the Python backend did not start: {error}"))
        });
        match started {
            Ok(backend) => {
                let backend = Arc::new(backend);
                *slot = BackendSlot::Ready(Arc::clone(&backend));
                Ok(backend)
            }
            Err(message) => {
                *slot = BackendSlot::Failed(message.clone());
                Err(message)
            }
        }
    }

    async fn publish(&self, uri: &Uri, state: &Arc<RwLock<DocState>>) {
        let registry = self.registry();
        let warnings = self.warnings.read().map(|w| w.clone()).unwrap_or_default();
        let root = self
            .workspace
            .read()
            .map(|w| w.config.root.clone())
            .unwrap_or_default();
        let published = state.write().ok().map(|mut state| {
            state.ensure_parsed(&registry);
            let mut found = diagnostics::diagnostics(
                &state.document,
                &state.results,
                &warnings,
                &registry,
                &root,
            );
            found.extend(diagnostics::page_error(state.page_error.as_deref()));
            (found, state.document.version)
        });
        if let Some((found, version)) = published {
            self.client
                .publish_diagnostics(uri.clone(), found, Some(version))
                .await;
        }
    }
}

/// What started an evaluation of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Changed,
    Saved,
    RunPage,
    RunFrom(usize),
}

/// The document's actor: owns its live state, evaluates after each trigger.
async fn document_actor(
    shared: Arc<Shared>,
    uri: Uri,
    state: Arc<RwLock<DocState>>,
    mut messages: mpsc::UnboundedReceiver<ActorMessage>,
) {
    let mut live = Some(LiveState::new());
    let mut next: Option<Trigger> = None;
    loop {
        let mut trigger = match next.take() {
            Some(trigger) => trigger,
            None => match messages.recv().await {
                None | Some(ActorMessage::Close) => break,
                Some(message) => to_trigger(message),
            },
        };
        // A burst of edits is handled once, for the latest text.
        let mut closed = false;
        while let Ok(message) = messages.try_recv() {
            match message {
                ActorMessage::Close => closed = true,
                other => trigger = stronger(trigger, to_trigger(other)),
            }
        }
        if closed {
            break;
        }
        // Re-judge at once: cheap, and an edit to expected output needs nothing more.
        let needs_run = rejudge_and_publish(&shared, &uri, &state, live.as_ref()).await;
        let settings = shared.settings();
        let wanted = match trigger {
            Trigger::RunPage | Trigger::RunFrom(_) => true,
            Trigger::Changed => settings.run_on == RunOn::Change && needs_run,
            Trigger::Saved => settings.run_on == RunOn::Save,
        };
        if !settings.execute || !wanted {
            continue;
        }
        if trigger == Trigger::Changed && settings.debounce_ms > 0 {
            // Wait for typing to pause; a newer edit restarts the wait.
            match tokio::time::timeout(Duration::from_millis(settings.debounce_ms), messages.recv())
                .await
            {
                Ok(None) | Ok(Some(ActorMessage::Close)) => break,
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
        let Some(taken) = live.take() else { break };
        match run(&shared, &uri, &state, taken, force_from, &mut messages).await {
            (Some(mut returned), interrupted) => {
                rejudge_and_publish(&shared, &uri, &state, Some(&returned)).await;
                // Results are out: now end the checkpoints this run made stale.
                returned.release_retired();
                live = Some(returned);
                // Lenses show counts: ask the client to fetch them again.
                if shared
                    .lens_refresh
                    .load(std::sync::atomic::Ordering::Relaxed)
                {
                    let _ = shared.client.code_lens_refresh().await;
                }
                match interrupted {
                    Some(Interruption::Close) => break,
                    Some(Interruption::Next(trigger)) => next = Some(trigger),
                    None => {}
                }
            }
            (None, _) => break,
        }
    }
    // Dropping the live state kills this document's checkpoints and runner.
    drop(live);
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

/// Judges the cached results against the current page and publishes; returns whether some
/// example must run (its source changed, or it never ran).
async fn rejudge_and_publish(
    shared: &Arc<Shared>,
    uri: &Uri,
    state: &Arc<RwLock<DocState>>,
    live: Option<&LiveState>,
) -> bool {
    let registry = shared.registry();
    let default_flags = shared
        .workspace
        .read()
        .map(|w| w.default_flags)
        .unwrap_or_default();
    let needs_run = {
        let Ok(mut state) = state.write() else {
            return false;
        };
        state.ensure_parsed(&registry);
        let page = &state.document.page;
        let (results, needs_run) = match live {
            Some(live) => {
                let results = live.results(page, default_flags, &registry);
                let needs_run = results.iter().any(Option::is_none);
                (results, needs_run)
            }
            None => (vec![None; page.examples.len()], !page.examples.is_empty()),
        };
        state.results = results;
        state.page_error = live.and_then(|live| live.page_error.clone());
        needs_run
    };
    shared.publish(uri, state).await;
    needs_run
}

/// Runs what must run, on a blocking thread; a message that arrives meanwhile cancels it.
async fn run(
    shared: &Arc<Shared>,
    uri: &Uri,
    state: &Arc<RwLock<DocState>>,
    mut live: LiveState,
    force_from: Option<usize>,
    messages: &mut mpsc::UnboundedReceiver<ActorMessage>,
) -> (Option<LiveState>, Option<Interruption>) {
    let registry = shared.registry();
    let (settings, page) = {
        let workspace = shared.workspace.read().map(|w| w.clone());
        let Ok(workspace) = workspace else {
            return (Some(live), None);
        };
        // The same options the CLI builds; one it would refuse is an error here too, and
        // nothing runs (a bad `optionflags` entry is never silently dropped).
        let settings = match workspace.problem.clone().map_or_else(
            || RunSettings::build(&workspace.config, &registry, &Overrides::default()),
            |problem| Err(crate::runner::options::OptionsError(problem)),
        ) {
            Ok(settings) => settings,
            Err(error) => {
                live.page_error = Some(format!(
                    "{error}; examples are not run (fix it, then restart the language server)"
                ));
                return (Some(live), None);
            }
        };
        let Ok(mut state) = state.write() else {
            return (Some(live), None);
        };
        state.ensure_parsed(&registry);
        (settings, state.document.page.clone())
    };
    // Started only once the options are known to be good.
    let backend = {
        let shared = Arc::clone(shared);
        tokio::task::spawn_blocking(move || shared.backend()).await
    };
    let backend = match backend {
        Ok(Ok(backend)) => backend,
        Ok(Err(message)) => {
            set_warnings(shared, vec![format!("{message}; examples are not run")]);
            return (Some(live), None);
        }
        Err(_) => return (Some(live), None),
    };
    let mut warnings = settings.warnings.clone();
    warnings.extend(settings.preload_warnings(backend.info()));
    set_warnings(shared, warnings);
    let options = settings.run;
    let progress = begin_progress(shared, &page.path).await;
    let cancel = Cancel::default();
    if let Ok(mut running) = shared.running.lock() {
        running.push(cancel.clone());
    }
    let handle = {
        let cancel = cancel.clone();
        tokio::task::spawn_blocking(move || {
            let end = live.update(&page, &backend, &registry, &options, force_from, &cancel);
            (live, end)
        })
    };
    tokio::pin!(handle);
    let mut interruption = None;
    let outcome = loop {
        tokio::select! {
            finished = &mut handle => break finished,
            message = messages.recv(), if interruption.is_none() => {
                interruption = Some(match message {
                    None | Some(ActorMessage::Close) => Interruption::Close,
                    Some(message) => Interruption::Next(to_trigger(message)),
                });
                cancel.cancel();
            }
        }
    };
    if let Some(progress) = progress {
        progress.finish().await;
    }
    if let Ok(mut running) = shared.running.lock() {
        running.retain(|other| !other.same_as(&cancel));
    }
    let _ = uri;
    match outcome {
        Ok((live, end)) => {
            if end == RunEnd::Cancelled && interruption.is_none() {
                interruption = Some(Interruption::Next(Trigger::Changed));
            }
            (Some(live), interruption)
        }
        Err(_) => (None, interruption),
    }
}

fn set_warnings(shared: &Shared, warnings: Vec<String>) {
    if let Ok(mut current) = shared.warnings.write() {
        *current = warnings;
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
    if !shared.progress.load(std::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    let token = NumberOrString::String(format!("objgraph-doctest/{}", uuid_like()));
    shared
        .client
        .send_request::<request::WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
            token: token.clone(),
        })
        .await
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
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> RpcResult<InitializeResult> {
        if let Some(options) = &params.initialization_options
            && let Ok(mut settings) = self.shared.settings.write()
        {
            *settings = settings.updated(options);
        }
        let root = params
            .workspace_folders
            .as_ref()
            .and_then(|folders| folders.first())
            .and_then(|folder| folder.uri.to_file_path().map(|path| path.into_owned()))
            .or_else(|| {
                #[allow(deprecated)]
                params
                    .root_uri
                    .as_ref()
                    .and_then(|uri| uri.to_file_path().map(|path| path.into_owned()))
            });
        if let Some(root) = root {
            let (workspace, problem) = Workspace::load(root);
            if let Ok(mut current) = self.shared.workspace.write() {
                *current = workspace;
            }
            if let Some(problem) = problem {
                set_warnings(&self.shared, vec![problem]);
            }
        }
        let progress = params
            .capabilities
            .window
            .as_ref()
            .and_then(|window| window.work_done_progress)
            .unwrap_or(false);
        self.shared
            .progress
            .store(progress, std::sync::atomic::Ordering::Relaxed);
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![
                            CodeActionKind::QUICKFIX,
                            CodeActionKind::SOURCE,
                        ]),
                        ..CodeActionOptions::default()
                    },
                )),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                document_symbol_provider: Some(OneOf::Left(true)),
                document_link_provider: Some(DocumentLinkOptions {
                    resolve_provider: Some(false),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                }),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![RUN_PAGE.to_owned(), RUN_FROM.to_owned()],
                    ..ExecuteCommandOptions::default()
                }),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "objgraph-doctest".to_owned(),
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            }),
            ..InitializeResult::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let items = vec![ConfigurationItem {
            scope_uri: None,
            section: Some("objgraphDoctest".to_owned()),
        }];
        if let Ok(values) = self.shared.client.configuration(items).await
            && let Some(value) = values.first()
            && !value.is_null()
            && let Ok(mut settings) = self.shared.settings.write()
        {
            *settings = settings.updated(value);
        }
    }

    async fn shutdown(&self) -> RpcResult<()> {
        self.shared.stop_everything();
        Ok(())
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        if !params.settings.is_null()
            && let Ok(mut settings) = self.shared.settings.write()
        {
            *settings = settings.updated(&params.settings);
        }
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let item = params.text_document;
        let registry = self.shared.registry();
        let document = Document::open(
            item.uri.clone(),
            &item.language_id,
            item.version,
            item.text,
            &registry,
        );
        let state = Arc::new(RwLock::new(DocState {
            parsed_version: Some(document.version),
            results: vec![None; document.page.examples.len()],
            page_error: None,
            document,
        }));
        let (sender, receiver) = mpsc::unbounded_channel();
        let _ = sender.send(ActorMessage::Changed);
        tokio::spawn(document_actor(
            Arc::clone(&self.shared),
            item.uri.clone(),
            Arc::clone(&state),
            receiver,
        ));
        if let Ok(mut documents) = self.shared.documents.lock()
            && let Some(old) = documents.insert(
                item.uri,
                DocHandle {
                    state,
                    actor: sender,
                },
            )
        {
            let _ = old.actor.send(ActorMessage::Close);
        }
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let state = self
            .shared
            .documents
            .lock()
            .ok()
            .and_then(|documents| documents.get(&uri).map(|handle| Arc::clone(&handle.state)));
        let Some(state) = state else { return };
        if let Ok(mut state) = state.write() {
            state
                .document
                .apply_edits(params.content_changes, params.text_document.version);
        }
        self.send(&uri, ActorMessage::Changed);
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        self.send(&params.text_document.uri, ActorMessage::Saved);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        if let Ok(mut documents) = self.shared.documents.lock()
            && let Some(handle) = documents.remove(&uri)
        {
            let _ = handle.actor.send(ActorMessage::Close);
        }
        self.shared
            .client
            .publish_diagnostics(uri, Vec::new(), None)
            .await;
    }

    async fn hover(&self, params: HoverParams) -> RpcResult<Option<Hover>> {
        let position = params.text_document_position_params;
        Ok(self
            .with_state(&position.text_document.uri, |state, registry| {
                hover::hover(&state.document, &state.results, position.position, registry)
            })
            .flatten())
    }

    async fn code_action(&self, params: CodeActionParams) -> RpcResult<Option<CodeActionResponse>> {
        Ok(
            self.with_state(&params.text_document.uri, |state, registry| {
                actions::code_actions(
                    &state.document,
                    &state.results,
                    params.range,
                    &params.context.diagnostics,
                    registry,
                )
            }),
        )
    }

    async fn code_lens(&self, params: CodeLensParams) -> RpcResult<Option<Vec<CodeLens>>> {
        Ok(self.with_state(&params.text_document.uri, |state, _| {
            lens::code_lenses(&state.document, &state.results)
        }))
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> RpcResult<Option<DocumentSymbolResponse>> {
        Ok(self
            .with_state(&params.text_document.uri, |state, _| {
                symbols::document_symbols(&state.document)
            })
            .map(DocumentSymbolResponse::Nested))
    }

    async fn document_link(
        &self,
        params: DocumentLinkParams,
    ) -> RpcResult<Option<Vec<DocumentLink>>> {
        Ok(self.with_state(&params.text_document.uri, |state, _| {
            lens::document_links(&state.document, &state.results)
        }))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> RpcResult<Option<LSPAny>> {
        let uri = params
            .arguments
            .first()
            .and_then(|value| value.as_str())
            .and_then(|text| text.parse::<Uri>().ok());
        let Some(uri) = uri else {
            return Err(tower_lsp_server::jsonrpc::Error::invalid_params(
                "the first argument must be a document URI",
            ));
        };
        match params.command.as_str() {
            RUN_PAGE => self.send(&uri, ActorMessage::RunPage),
            RUN_FROM => {
                let index = params
                    .arguments
                    .get(1)
                    .and_then(|value| value.as_u64())
                    .unwrap_or(0) as usize;
                self.send(&uri, ActorMessage::RunFrom(index));
            }
            other => {
                return Err(tower_lsp_server::jsonrpc::Error::invalid_params(format!(
                    "unknown command {other}"
                )));
            }
        }
        Ok(None)
    }
}
