//! The live heap's requests (see `lsp::heap`): the handlers' side (a hover on a name, the
//! "Show references" command), which send inquiries to the document's actor and wait for
//! its answer, and the actor's side, which answers them in a throwaway fork of the page's
//! nearest checkpoint between runs.

use super::actor::{run_settings, wanted_python};
use super::*;
use crate::backend::InspectQuery;
use crate::backend::protocol::DrawRefs;

impl Server {
    /// The hover on a name in an example's source: its value at that point, the graphs drawn
    /// of it, then the example's own hover (`found`).
    pub(super) async fn hover_on_name(
        &self,
        uri: &Uri,
        snapshot: &Snapshot,
        name: heap::NameAt,
        found: Option<Hover>,
    ) -> Hover {
        let answer = self.ask_heap(uri, snapshot, name.clone(), None).await;
        let mut value = heap::value_markdown(&name, &answer);
        if let Some(drawings) = lock(&self.shared.drawings).get(uri) {
            value.push_str(&heap::drawings_markdown(&name, snapshot.revision, drawings));
        }
        let range = snapshot
            .document
            .index
            .range(&snapshot.document.text, name.bytes.clone());
        heap::hover_on_name(value, found, range)
    }

    /// Asks the document's actor about a name's value at its point of the page (drawing its
    /// graph into a file too, with `draw`), for the text of `snapshot`; waits at most
    /// [`heap::HEAP_WAIT`].
    async fn ask_heap(
        &self,
        uri: &Uri,
        snapshot: &Snapshot,
        name: heap::NameAt,
        draw: Option<(heap::RefsKind, PathBuf)>,
    ) -> Answer {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let inquiry = Inquiry {
            revision: snapshot.revision,
            name,
            draw,
            reply,
        };
        let sent = lock(&self.shared.documents)
            .get(uri)
            .is_some_and(|handle| handle.heap.send(inquiry).is_ok());
        if !sent {
            return Answer::Unavailable("the document is not open".to_owned());
        }
        match tokio::time::timeout(heap::HEAP_WAIT, answer).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Answer::Unavailable("the page's checker stopped".to_owned()),
            Err(_) => Answer::Unavailable(format!(
                "no answer within {} s (the examples before it are slow)",
                heap::HEAP_WAIT.as_secs()
            )),
        }
    }

    /// "Show references of NAME": draws the graph into the artifacts folder, remembers it
    /// for hovers, opens it when the client can; answers the image's path, or the error.
    pub(super) async fn show_refs(
        &self,
        params: &ExecuteCommandParams,
        uri: &Uri,
    ) -> RpcResult<Option<LSPAny>> {
        let number = |at: usize| {
            params
                .arguments
                .get(at)
                .and_then(|value| value.as_u64())
                .and_then(|value| u32::try_from(value).ok())
        };
        let kind = params
            .arguments
            .get(3)
            .and_then(|value| value.as_str())
            .and_then(heap::RefsKind::parse);
        let (Some(line), Some(character), Some(kind)) = (number(1), number(2), kind) else {
            return Err(RpcError::invalid_params(format!(
                "{}: the arguments are [uri, line, character, \"refs\" or \"backrefs\"]",
                heap::SHOW_REFS
            )));
        };
        let failed = |message: String| Ok(Some(serde_json::json!({ "error": message })));
        if !self.shared.settings().execute {
            return failed(
                "examples are not executed (the `execute` setting is off): nothing was drawn"
                    .to_owned(),
            );
        }
        let Some(snapshot) = self.snapshot(uri).await else {
            return failed("the document is not open".to_owned());
        };
        let Some(name) = heap::name_at(&snapshot.document, Position::new(line, character)) else {
            return failed("there is no name at that position in an example's source".to_owned());
        };
        let artifacts = match run_settings(&self.shared) {
            Ok(settings) => settings.run.artifacts_dir,
            Err(error) => return failed(error.to_string()),
        };
        let root = self.shared.workspace().config.root;
        let artifacts = artifacts.unwrap_or_else(|| root.join("objgraph-doctest-artifacts"));
        let example_line = snapshot.document.page.examples[name.index].span.line;
        let path = heap::drawing_path(
            &artifacts,
            &snapshot.document.page.path,
            example_line,
            &name,
            kind,
        );
        let expression = name.expression.clone();
        let index = name.index;
        let answer = self
            .ask_heap(uri, &snapshot, name.clone(), Some((kind, path.clone())))
            .await;
        let inspection = match answer {
            Answer::Found(inspection) => inspection,
            other => {
                let message = heap::value_markdown(&name, &other);
                self.shared
                    .client
                    .show_message(MessageType::WARNING, format!("objgraph-doctest: {message}"))
                    .await;
                return failed(message);
            }
        };
        if let Some(error) = inspection.error.clone().or(inspection.draw_error.clone()) {
            self.shared
                .client
                .show_message(MessageType::WARNING, format!("objgraph-doctest: {error}"))
                .await;
            return failed(error);
        }
        heap::remember_drawing(
            lock(&self.shared.drawings).entry(uri.clone()).or_default(),
            heap::Drawing {
                revision: snapshot.revision,
                index,
                expression,
                kind,
                path: path.clone(),
            },
        );
        let image = Uri::from_file_path(&path);
        if self.shared.show_document.load(Ordering::Relaxed)
            && let Some(image) = image.clone()
        {
            let client = self.shared.client.clone();
            // Not awaited: the answer must not wait for the client to open it.
            tokio::spawn(async move {
                let _ = client
                    .show_document(ShowDocumentParams {
                        uri: image,
                        external: Some(false),
                        take_focus: Some(false),
                        selection: None,
                    })
                    .await;
            });
        }
        Ok(Some(serde_json::json!({
            "image": path,
            "uri": image.map(|uri| uri.as_str().to_owned()),
            "output": inspection.draw_output,
        })))
    }
}

/// Answers a heap inquiry (see `lsp::heap`) for the text it was asked about: a throwaway
/// fork of the nearest checkpoint runs up to the example and is asked for the value (and
/// drawing); the live state goes on unchanged. A message that arrives meanwhile cancels the
/// fork (the answer is then `Stale`) and is returned, for the actor to handle next; so is a
/// request that stopped waiting.
pub(super) async fn answer_inquiry(
    shared: &Arc<Shared>,
    shelf: &Arc<Shelf>,
    mut live: LiveState,
    ran_on: &Option<Weak<Backend>>,
    inquiry: Inquiry,
    messages: &mut mpsc::UnboundedReceiver<ActorMessage>,
) -> Result<(LiveState, Option<Option<ActorMessage>>), String> {
    let Inquiry {
        revision,
        name,
        draw,
        mut reply,
    } = inquiry;
    let current = shelf.current();
    if shelf.revision() != revision || current.revision != revision {
        let _ = reply.send(Answer::Stale);
        return Ok((live, None));
    }
    if !*shared.settings_known.borrow() {
        // The client's answer may yet turn execution off: nothing runs before it.
        let _ = reply.send(Answer::Unavailable(
            "the editor's settings are not known yet".to_owned(),
        ));
        return Ok((live, None));
    }
    if !shared.settings().execute {
        let _ = reply.send(Answer::Unavailable(
            "examples are not executed (the `execute` setting is off)".to_owned(),
        ));
        return Ok((live, None));
    }
    let settings = match run_settings(shared) {
        Ok(settings) => settings,
        Err(error) => {
            let _ = reply.send(Answer::Unavailable(error.to_string()));
            return Ok((live, None));
        }
    };
    let backend = match shared.python.get(wanted_python(shared)).await {
        Ok(backend) => backend,
        Err(message) => {
            let _ = reply.send(Answer::Unavailable(message));
            return Ok((live, None));
        }
    };
    // The checkpoints are processes of the backend that ran last: of no use with another.
    let same_backend = ran_on
        .as_ref()
        .is_some_and(|previous| Weak::ptr_eq(previous, &Arc::downgrade(&backend)));
    let page = current.document.page.clone();
    let registry = shared.registry();
    let options = settings.run;
    let cancel = Cancel::default();
    lock(&shared.running).push(cancel.clone());
    let handle = {
        let cancel = cancel.clone();
        tokio::task::spawn_blocking(move || {
            let answer = {
                let mut scratch = LiveState::new();
                let state = if same_backend {
                    &mut live
                } else {
                    &mut scratch
                };
                inspect_in_fork(
                    state, &page, &backend, &registry, &options, &name, draw, &cancel,
                )
            };
            (live, answer)
        })
    };
    tokio::pin!(handle);
    let mut interrupted = None;
    let mut abandoned = false;
    let outcome = loop {
        tokio::select! {
            finished = &mut handle => break finished,
            message = messages.recv(), if interrupted.is_none() && !abandoned => {
                interrupted = Some(message);
                cancel.cancel();
            }
            // The request stopped waiting (it timed out, or was cancelled).
            _ = reply.closed(), if interrupted.is_none() && !abandoned => {
                abandoned = true;
                cancel.cancel();
            }
        }
    };
    lock(&shared.running).retain(|other| !other.same_as(&cancel));
    let (returned, answer) = outcome.map_err(|error| match error.try_into_panic() {
        Ok(payload) => format!(
            "a heap inspection panicked: {}",
            panic_message(payload.as_ref())
        ),
        Err(error) => format!("a heap inspection ended abnormally: {error}"),
    })?;
    let answer = if cancel.is_cancelled() || shelf.revision() != revision {
        Answer::Stale
    } else {
        answer
    };
    let _ = reply.send(answer);
    Ok((returned, interrupted))
}

/// In a fork of `live` after the example `name` is in: its value, and its graph when asked.
#[allow(clippy::too_many_arguments)]
fn inspect_in_fork(
    live: &mut LiveState,
    page: &crate::engine::Page,
    backend: &Backend,
    registry: &FlagRegistry,
    options: &crate::runner::run::RunOptions,
    name: &heap::NameAt,
    draw: Option<(heap::RefsKind, std::path::PathBuf)>,
    cancel: &Cancel,
) -> Answer {
    let (mut fork, _workdir) =
        match live.fork_after(page, backend, registry, options, name.index, cancel) {
            Ok(fork) => fork,
            Err(error) => return Answer::Unavailable(error.to_string()),
        };
    if let Some((_, path)) = &draw
        && let Some(folder) = path.parent()
        && let Err(error) = std::fs::create_dir_all(folder)
    {
        return Answer::Unavailable(format!(
            "cannot make the folder {}: {error}",
            folder.display()
        ));
    }
    let filename = draw
        .as_ref()
        .map(|(_, path)| path.to_string_lossy().into_owned());
    let query = InspectQuery {
        expression: &name.expression,
        group: page.examples[name.index].run.group.as_deref(),
        repr_cap: heap::REPR_CAP,
        draw: draw
            .as_ref()
            .zip(filename.as_deref())
            .map(|((kind, _), filename)| DrawRefs {
                kind: kind.as_str(),
                filename,
                max_depth: heap::DRAW_DEPTH,
            }),
    };
    if !cancel.start_running(fork.pid()) {
        return Answer::Stale;
    }
    let found = fork.inspect(&query, options.timeout);
    cancel.stop_running();
    match found {
        Ok(inspection) => Answer::Found(inspection),
        Err(fault) => Answer::Unavailable(format!(
            "looking at `{}` failed: {}",
            name.expression,
            crate::runner::run::fault_outcome(&fault, options.timeout).1
        )),
    }
}
