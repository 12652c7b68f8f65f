//! The language server: thin handlers over the documents' snapshots, and one actor task per
//! document that owns its runs (its live interpreter state and checkpoints; `actor.rs`).
//!
//! Requests never wait for a run: they read the latest [`Snapshot`] the document's actor
//! published (see `snapshot.rs`). Runs happen on a blocking thread owned by the actor, which
//! cancels a run when a newer edit arrives, re-judges cached output at once when an edit did
//! not change any example's source, and otherwise debounces and re-runs from the nearest
//! checkpoint.
//!
//! A document's diagnostics are published one at a time, and once it is closed only the
//! publish that clears them goes out, last (`Shelf::close`): an actor still judging or ending
//! a run when the close arrives says nothing more.
//!
//! Nothing a client sends can take the server down: every handler runs under
//! [`CatchPanic`] (a panic is answered with an internal error and logged), and an actor
//! that fails is restarted on the document's next edit, its failure shown meanwhile as a
//! diagnostic.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tower_lsp_server::jsonrpc::{Error as RpcError, ErrorCode, Result as RpcResult};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::backend::Backend;
use crate::engine::FlagRegistry;
use crate::runner::Config;
use crate::runner::options::{OptionsError, Overrides, RunSettings, preload};
use crate::runner::profile::Profiles;

use super::document::Document;
use super::guard::{CatchPanic, PanicHook, panic_message};
use super::heap::{Answer, Inquiry};
use super::lens::{RUN_FROM, RUN_PAGE};
use super::live::{Cancel, LiveState, RunEnd};
use super::python::{PythonSlot, Wanted};
use super::settings::{RunOn, Settings};
use super::snapshot::{Shelf, Snapshot};
use super::{actions, diagnostics, heap, hover, lens, symbols};

mod actor;
mod inspect;

use actor::{ActorMessage, supervise_actor};

/// How long a request waits for the actor to publish the snapshot of the text the client
/// has, before parsing that text itself. The actor parses and publishes right after each
/// burst of edits, so this wait is normally a few milliseconds; it is longer only while the
/// actor is busy (ending a cancelled run, starting the interpreter). Then the request parses
/// the latest text itself and answers without results (examples show as not run yet), so
/// that positions always refer to the text the client has: an answer computed on an older
/// text would describe the wrong example or point at the wrong place.
const SNAPSHOT_WAIT: Duration = Duration::from_millis(250);

/// How long the client may take to accept a progress token before a run goes on without.
const PROGRESS_CREATE_WAIT: Duration = Duration::from_secs(2);

/// What the server knows about the workspace: configuration and flags.
#[derive(Debug, Clone)]
struct Workspace {
    root: PathBuf,
    config: Config,
    /// Why the configuration could not be used, if it could not (then nothing runs).
    problem: Option<String>,
    /// What examples are judged with, as the CLI judges them (`Profiles::judging_registry`):
    /// without numpy, and with numpy (once the interpreter says it has it).
    registry: Arc<FlagRegistry>,
    registry_with_numpy: Arc<FlagRegistry>,
    /// Each document's profile, resolved as the CLI resolves it from the workspace root.
    profiles: Arc<Profiles>,
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
        let (profiles, problem) = match Profiles::new(&config, default_flags) {
            Ok(profiles) => (profiles, problem),
            // A pytest configuration that cannot be read is a problem like ours: shown,
            // and nothing runs.
            Err(error) => (
                Profiles::doctest(default_flags),
                problem.or_else(|| Some(error.to_string())),
            ),
        };
        let workspace = Workspace {
            root,
            config,
            problem: problem.clone(),
            registry: Arc::new(profiles.judging_registry(&registry, false)),
            registry_with_numpy: Arc::new(profiles.judging_registry(&registry, true)),
            profiles: Arc::new(profiles),
        };
        (workspace, problem)
    }
}

struct DocHandle {
    shelf: Arc<Shelf>,
    actor: mpsc::UnboundedSender<ActorMessage>,
    /// Heap inquiries for the actor (hovers on names, "Show references"): see `lsp::heap`.
    heap: mpsc::UnboundedSender<Inquiry>,
}

struct Shared {
    client: Client,
    settings: RwLock<Settings>,
    /// False until the client answered `workspace/configuration` (when it said it would):
    /// no example runs before its settings are known.
    settings_known: watch::Sender<bool>,
    workspace: RwLock<Workspace>,
    documents: Mutex<HashMap<Uri, DocHandle>>,
    python: PythonSlot,
    /// Whether the latest interpreter has numpy (FLOAT_CMP then compares as numpy.isclose).
    numpy: AtomicBool,
    /// Problems with the workspace's configuration: shown until the workspace is reloaded.
    config_problems: RwLock<Vec<String>>,
    /// Problems found by the latest run (no interpreter, no graphviz).
    run_warnings: RwLock<Vec<String>>,
    progress: AtomicBool,
    /// Runs in progress, so that shutting down can end them at once.
    running: Mutex<Vec<Cancel>>,
    /// The client can be asked to refresh code lenses.
    lens_refresh: AtomicBool,
    /// Settings problems found before the client could be told (during `initialize`).
    unreported: Mutex<Vec<String>>,
    panics: PanicHook,
    /// The graphs "Show references" drew, per document, shown in later hovers.
    drawings: Mutex<HashMap<Uri, Vec<heap::Drawing>>>,
    /// The client can open a file we name (`window/showDocument`).
    show_document: AtomicBool,
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

/// A std lock, recovered if a panic poisoned it (the data under our locks stays valid: each
/// is replaced whole, never left half-updated).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    match lock.read() {
        Ok(value) => value.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

fn write<T>(lock: &RwLock<T>, value: T) {
    match lock.write() {
        Ok(mut current) => *current = value,
        Err(poisoned) => *poisoned.into_inner() = value,
    }
}

impl Server {
    pub fn new(client: Client) -> Server {
        let root = std::env::current_dir().unwrap_or_default();
        Server {
            shared: Arc::new(Shared {
                client,
                settings: RwLock::new(Settings::default()),
                settings_known: watch::channel(true).0,
                workspace: RwLock::new(Workspace::load(root).0),
                documents: Mutex::new(HashMap::new()),
                python: PythonSlot::default(),
                numpy: AtomicBool::new(false),
                config_problems: RwLock::new(Vec::new()),
                run_warnings: RwLock::new(Vec::new()),
                progress: AtomicBool::new(false),
                running: Mutex::new(Vec::new()),
                lens_refresh: AtomicBool::new(false),
                unreported: Mutex::new(Vec::new()),
                panics: PanicHook::from_env(),
                drawings: Mutex::new(HashMap::new()),
                show_document: AtomicBool::new(false),
            }),
        }
    }

    /// A handle that ends every run and process: documents' actors and the interpreter.
    pub fn stopper(&self) -> Stopper {
        Stopper(Arc::clone(&self.shared))
    }

    /// Runs a request's handler; a panic becomes an internal error response and a log line.
    async fn guarded<T>(
        &self,
        method: &str,
        handler: impl Future<Output = RpcResult<T>>,
    ) -> RpcResult<T> {
        let shared = &self.shared;
        match CatchPanic::new(async {
            shared.panics.at(method);
            handler.await
        })
        .await
        {
            Ok(answer) => answer,
            Err(message) => {
                let text = internal_error(method, &message);
                self.shared.log_error(&text).await;
                Err(RpcError {
                    code: ErrorCode::InternalError,
                    message: text.into(),
                    data: None,
                })
            }
        }
    }

    /// Runs a notification's handler; a panic becomes a log line.
    async fn guarded_notification(&self, method: &str, handler: impl Future<Output = ()>) {
        let shared = &self.shared;
        let caught = CatchPanic::new(async {
            shared.panics.at(method);
            handler.await
        })
        .await;
        if let Err(message) = caught {
            self.shared
                .log_error(&internal_error(method, &message))
                .await;
        }
    }

    /// The snapshot describing the text the client has now (see [`SNAPSHOT_WAIT`]).
    async fn snapshot(&self, uri: &Uri) -> Option<Arc<Snapshot>> {
        let shelf = self.shared.shelf(uri)?;
        let wanted = shelf.revision();
        let current = shelf.current();
        if current.revision >= wanted {
            return Some(current);
        }
        if let Ok(Some(found)) = tokio::time::timeout(SNAPSHOT_WAIT, shelf.wait_for(wanted)).await {
            return Some(found);
        }
        let registry = self.shared.registry();
        let profiles = self.shared.profiles();
        let parsed = tokio::task::spawn_blocking(move || {
            let (revision, document) = shelf.parse_latest(&registry, &profiles);
            let snapshot = Snapshot::unrun(revision, document);
            shelf.offer(&snapshot);
            snapshot
        })
        .await;
        parsed.ok()
    }

    fn send(&self, uri: &Uri, message: ActorMessage) {
        if let Some(handle) = lock(&self.shared.documents).get(uri) {
            let _ = handle.actor.send(message);
        }
    }

    /// Applies settings from the client, telling the user about bad values.
    async fn apply_settings(&self, value: &serde_json::Value) {
        let problems = self.shared.apply_settings(value);
        self.shared.report_setting_problems(problems).await;
    }
}

fn internal_error(method: &str, message: &str) -> String {
    format!(
        "internal error in {method}: {message} (a bug in objgraph-doctest: please report it; \
         the server keeps running)"
    )
}

impl Shared {
    fn registry(&self) -> Arc<FlagRegistry> {
        let workspace = match self.workspace.read() {
            Ok(workspace) => workspace,
            Err(poisoned) => poisoned.into_inner(),
        };
        if self.numpy.load(Ordering::SeqCst) {
            Arc::clone(&workspace.registry_with_numpy)
        } else {
            Arc::clone(&workspace.registry)
        }
    }

    fn profiles(&self) -> Arc<Profiles> {
        match self.workspace.read() {
            Ok(workspace) => Arc::clone(&workspace.profiles),
            Err(poisoned) => Arc::clone(&poisoned.into_inner().profiles),
        }
    }

    fn settings(&self) -> Settings {
        read(&self.settings)
    }

    fn workspace(&self) -> Workspace {
        read(&self.workspace)
    }

    fn shelf(&self, uri: &Uri) -> Option<Arc<Shelf>> {
        lock(&self.documents)
            .get(uri)
            .map(|handle| Arc::clone(&handle.shelf))
    }

    /// Stores the settings in `value` over the current ones; returns the problems found.
    fn apply_settings(&self, value: &serde_json::Value) -> Vec<String> {
        let read = self.settings().updated(value);
        write(&self.settings, read.settings);
        read.problems
    }

    async fn report_setting_problems(&self, problems: Vec<String>) {
        for problem in problems {
            eprintln!("objgraph-doctest lsp: {problem}");
            self.client
                .show_message(MessageType::WARNING, format!("objgraph-doctest: {problem}"))
                .await;
        }
    }

    async fn log_error(&self, text: &str) {
        eprintln!("objgraph-doctest lsp: {text}");
        self.client.log_message(MessageType::ERROR, text).await;
    }

    fn stop_everything(&self) {
        for cancel in lock(&self.running).iter() {
            cancel.cancel();
        }
        for (_, handle) in lock(&self.documents).drain() {
            let _ = handle.actor.send(ActorMessage::Close);
        }
        self.python.stop();
    }

    /// Waits until the client's settings are known (see `settings_known`).
    async fn settings_known(&self) {
        let mut known = self.settings_known.subscribe();
        let _ = known.wait_for(|known| *known).await;
    }

    /// Publishes `snapshot`'s diagnostics, with `extra` warnings at the top (unless the
    /// document was closed).
    async fn publish(&self, shelf: &Shelf, snapshot: &Snapshot, extra: &[String]) {
        let mut warnings = read(&self.config_problems);
        warnings.extend(read(&self.run_warnings));
        warnings.extend(extra.iter().cloned());
        let root = self.workspace().config.root;
        let mut found = diagnostics::diagnostics(
            &snapshot.document,
            &snapshot.results,
            &warnings,
            &self.registry(),
            &root,
        );
        found.extend(diagnostics::page_error(snapshot.page_error.as_deref()));
        self.send_diagnostics(shelf, found, snapshot.document.version)
            .await;
    }

    /// Sends a document's diagnostics, in its turn; nothing once it is closed (the clearing
    /// publish of `did_close` stays the last word about it).
    async fn send_diagnostics(&self, shelf: &Shelf, found: Vec<Diagnostic>, version: i32) {
        let Some(_turn) = shelf.diagnostics_turn().await else {
            return;
        };
        self.client
            .publish_diagnostics(shelf.uri.clone(), found, Some(version))
            .await;
    }
}

/// Asks the client for our settings section and applies the answer; until it arrives (or
/// the request fails), no example runs.
async fn pull_configuration(shared: Arc<Shared>) {
    let items = vec![ConfigurationItem {
        scope_uri: None,
        section: Some("objgraphDoctest".to_owned()),
    }];
    match shared.client.configuration(items).await {
        Ok(values) => {
            if let Some(value) = values.first().filter(|value| !value.is_null()) {
                let problems = shared.apply_settings(value);
                shared.report_setting_problems(problems).await;
            }
        }
        Err(error) => eprintln!(
            "objgraph-doctest lsp: the client did not answer workspace/configuration ({error}); \
             using the settings from initializationOptions"
        ),
    }
    shared.settings_known.send_replace(true);
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> RpcResult<InitializeResult> {
        self.guarded("initialize", async {
            if let Some(options) = &params.initialization_options {
                let problems = self.shared.apply_settings(options);
                lock(&self.shared.unreported).extend(problems);
            }
            let will_answer = params
                .capabilities
                .workspace
                .as_ref()
                .and_then(|workspace| workspace.configuration)
                .unwrap_or(false);
            self.shared.settings_known.send_replace(!will_answer);
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
                // Files found but not trusted (another user can write them) are said too,
                // as the CLI says them.
                let mut problems = workspace.config.warnings.clone();
                problems.extend(problem);
                write(&self.shared.workspace, workspace);
                write(&self.shared.config_problems, problems);
            }
            let progress = params
                .capabilities
                .window
                .as_ref()
                .and_then(|window| window.work_done_progress)
                .unwrap_or(false);
            self.shared.progress.store(progress, Ordering::Relaxed);
            let show_document = params
                .capabilities
                .window
                .as_ref()
                .and_then(|window| window.show_document.as_ref())
                .is_some_and(|show| show.support);
            self.shared
                .show_document
                .store(show_document, Ordering::Relaxed);
            let lens_refresh = params
                .capabilities
                .workspace
                .as_ref()
                .and_then(|workspace| workspace.code_lens.as_ref())
                .and_then(|lens| lens.refresh_support)
                .unwrap_or(false);
            self.shared
                .lens_refresh
                .store(lens_refresh, Ordering::Relaxed);
            Ok(initialize_result())
        })
        .await
    }

    async fn initialized(&self, _: InitializedParams) {
        self.guarded_notification("initialized", async {
            let problems = std::mem::take(&mut *lock(&self.shared.unreported));
            self.shared.report_setting_problems(problems).await;
            // On a task: the answer may take a while, and other messages must go on meanwhile.
            tokio::spawn(pull_configuration(Arc::clone(&self.shared)));
        })
        .await;
    }

    async fn shutdown(&self) -> RpcResult<()> {
        self.shared.stop_everything();
        Ok(())
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        self.guarded_notification("didChangeConfiguration", async {
            if params.settings.is_null() {
                // The pull model: the client says "changed" and we ask for the values.
                tokio::spawn(pull_configuration(Arc::clone(&self.shared)));
            } else {
                self.apply_settings(&params.settings).await;
            }
        })
        .await;
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        self.guarded_notification("didOpen", async {
            let item = params.text_document;
            let registry = self.shared.registry();
            let document = Document::open(
                item.uri.clone(),
                &item.language_id,
                item.version,
                item.text,
                &registry,
                &self.shared.profiles(),
            );
            let shelf = Arc::new(Shelf::open(item.language_id, document));
            let (sender, receiver) = mpsc::unbounded_channel();
            let (heap, inquiries) = mpsc::unbounded_channel();
            tokio::spawn(supervise_actor(
                Arc::clone(&self.shared),
                Arc::clone(&shelf),
                receiver,
                inquiries,
            ));
            let handle = DocHandle {
                shelf,
                actor: sender,
                heap,
            };
            let replaced = lock(&self.shared.documents).insert(item.uri, handle);
            if let Some(old) = replaced {
                // Opened twice: the old actor ends, and says nothing more about the page.
                let _ = old.actor.send(ActorMessage::Close);
                old.shelf.close().await;
            }
        })
        .await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        self.guarded_notification("didChange", async {
            let uri = params.text_document.uri;
            let Some(shelf) = self.shared.shelf(&uri) else {
                return;
            };
            shelf.apply(params.content_changes, params.text_document.version);
            self.send(&uri, ActorMessage::Changed);
        })
        .await;
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        self.send(&params.text_document.uri, ActorMessage::Saved);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let closed = lock(&self.shared.documents).remove(&uri);
        lock(&self.shared.drawings).remove(&uri);
        let Some(handle) = closed else {
            self.shared
                .client
                .publish_diagnostics(uri, Vec::new(), None)
                .await;
            return;
        };
        let _ = handle.actor.send(ActorMessage::Close);
        // After any publish under way, and before any the actor would still make (it may be
        // in the middle of judging or ending a run): the clearing publish is the last.
        let _last = handle.shelf.close().await;
        self.shared
            .client
            .publish_diagnostics(uri, Vec::new(), None)
            .await;
    }

    async fn hover(&self, params: HoverParams) -> RpcResult<Option<Hover>> {
        self.guarded("hover", async {
            let position = params.text_document_position_params;
            let Some(snapshot) = self.snapshot(&position.text_document.uri).await else {
                return Ok(None);
            };
            let found = hover::hover(
                &snapshot.document,
                &snapshot.results,
                position.position,
                &self.shared.registry(),
            );
            // On a name in an example's source, its value at that point first (only when
            // examples may be executed: see `lsp::heap`).
            let name = heap::name_at(&snapshot.document, position.position)
                .filter(|_| self.shared.settings().execute);
            let Some(name) = name else {
                return Ok(found);
            };
            let uri = &position.text_document.uri;
            Ok(Some(self.hover_on_name(uri, &snapshot, name, found).await))
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> RpcResult<Option<CodeActionResponse>> {
        self.guarded("codeAction", async {
            let Some(snapshot) = self.snapshot(&params.text_document.uri).await else {
                return Ok(None);
            };
            let mut found = actions::code_actions(
                &snapshot.document,
                &snapshot.results,
                params.range,
                &params.context.diagnostics,
                &self.shared.registry(),
            );
            if self.shared.settings().execute {
                found.extend(actions::heap_actions(&snapshot.document, params.range));
            }
            Ok(Some(found))
        })
        .await
    }

    async fn code_lens(&self, params: CodeLensParams) -> RpcResult<Option<Vec<CodeLens>>> {
        self.guarded("codeLens", async {
            let snapshot = self.snapshot(&params.text_document.uri).await;
            Ok(snapshot.map(|snapshot| lens::code_lenses(&snapshot.document, &snapshot.results)))
        })
        .await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> RpcResult<Option<DocumentSymbolResponse>> {
        self.guarded("documentSymbol", async {
            let snapshot = self.snapshot(&params.text_document.uri).await;
            Ok(snapshot.map(|snapshot| {
                DocumentSymbolResponse::Nested(symbols::document_symbols(&snapshot.document))
            }))
        })
        .await
    }

    async fn document_link(
        &self,
        params: DocumentLinkParams,
    ) -> RpcResult<Option<Vec<DocumentLink>>> {
        self.guarded("documentLink", async {
            let snapshot = self.snapshot(&params.text_document.uri).await;
            Ok(
                snapshot
                    .map(|snapshot| lens::document_links(&snapshot.document, &snapshot.results)),
            )
        })
        .await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> RpcResult<Option<LSPAny>> {
        self.guarded("executeCommand", async {
            let uri = params
                .arguments
                .first()
                .and_then(|value| value.as_str())
                .and_then(|text| text.parse::<Uri>().ok());
            let Some(uri) = uri else {
                return Err(RpcError::invalid_params(
                    "the first argument must be a document URI",
                ));
            };
            match params.command.as_str() {
                RUN_PAGE => self.send(&uri, ActorMessage::RunPage),
                heap::SHOW_REFS => return self.show_refs(&params, &uri).await,
                RUN_FROM => {
                    let index = params
                        .arguments
                        .get(1)
                        .and_then(|value| value.as_u64())
                        .and_then(|index| usize::try_from(index).ok())
                        .unwrap_or(0);
                    self.send(&uri, ActorMessage::RunFrom(index));
                }
                other => {
                    return Err(RpcError::invalid_params(format!(
                        "unknown command {other}: the commands are {RUN_PAGE}, {RUN_FROM} and {}",
                        heap::SHOW_REFS
                    )));
                }
            }
            Ok(None)
        })
        .await
    }
}

fn initialize_result() -> InitializeResult {
    InitializeResult {
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
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, CodeActionKind::SOURCE]),
                ..CodeActionOptions::default()
            })),
            code_lens_provider: Some(CodeLensOptions {
                resolve_provider: Some(false),
            }),
            document_symbol_provider: Some(OneOf::Left(true)),
            document_link_provider: Some(DocumentLinkOptions {
                resolve_provider: Some(false),
                work_done_progress_options: WorkDoneProgressOptions::default(),
            }),
            execute_command_provider: Some(ExecuteCommandOptions {
                commands: vec![
                    RUN_PAGE.to_owned(),
                    RUN_FROM.to_owned(),
                    heap::SHOW_REFS.to_owned(),
                ],
                ..ExecuteCommandOptions::default()
            }),
            ..ServerCapabilities::default()
        },
        server_info: Some(ServerInfo {
            name: "objgraph-doctest".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
        ..InitializeResult::default()
    }
}
