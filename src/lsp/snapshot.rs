//! What requests read: each document's actor publishes an immutable [`Snapshot`] (the text
//! it parsed, the page, and the results judged against that very page) and requests clone
//! the `Arc`. A handler thus never re-parses, and never indexes one version's results with
//! another version's examples.
//!
//! Edits are applied to the document's [`Latest`] text at once (positions in later requests
//! refer to it) and counted: each snapshot carries the edit count it was parsed at, so a
//! request can tell whether the snapshot is the text the client has.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;
use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};

use crate::engine::FlagRegistry;
use crate::runner::run::ExampleRun;

use super::document::Document;

/// One parse of a document and the results for exactly its examples.
#[derive(Debug)]
pub struct Snapshot {
    /// How many edits the text had when it was parsed (see [`Latest::revision`]).
    pub revision: u64,
    pub document: Document,
    /// One entry per example of `document.page` (`None`: not run yet).
    pub results: Vec<Option<ExampleRun>>,
}

impl Snapshot {
    pub fn new(
        revision: u64,
        document: Document,
        mut results: Vec<Option<ExampleRun>>,
    ) -> Arc<Snapshot> {
        // Results always match the examples one to one, whatever the caller computed.
        results.resize(document.page.examples.len(), None);
        Arc::new(Snapshot {
            revision,
            document,
            results,
        })
    }

    /// A snapshot without results (nothing has run for this text yet).
    pub fn unrun(revision: u64, document: Document) -> Arc<Snapshot> {
        Snapshot::new(revision, document, Vec::new())
    }
}

/// The text as the client has it, edits applied as they arrive.
#[derive(Debug)]
pub struct Latest {
    /// Edits applied since the document was opened.
    pub revision: u64,
    /// The text and its line index (`document.page` is the parse at open, not kept up to
    /// date: pages are parsed by the actor into snapshots).
    document: Document,
}

/// A document's latest text and its published snapshots.
pub struct Shelf {
    pub uri: Uri,
    pub language_id: String,
    latest: Mutex<Latest>,
    snapshots: watch::Sender<Arc<Snapshot>>,
}

impl Shelf {
    /// A document just opened: `document` is parsed already, and is the first snapshot.
    pub fn open(language_id: String, document: Document) -> Shelf {
        let first = Snapshot::unrun(0, document.clone());
        Shelf {
            uri: document.uri.clone(),
            language_id,
            latest: Mutex::new(Latest {
                revision: 0,
                document,
            }),
            snapshots: watch::channel(first).0,
        }
    }

    fn latest(&self) -> MutexGuard<'_, Latest> {
        self.latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies the client's edits to the latest text (no parse).
    pub fn apply(&self, changes: Vec<TextDocumentContentChangeEvent>, version: i32) {
        let mut latest = self.latest();
        latest.document.apply_edits(changes, version);
        latest.revision += 1;
    }

    pub fn revision(&self) -> u64 {
        self.latest().revision
    }

    /// The latest text parsed now, as a document (the caller publishes or uses it).
    pub fn parse_latest(&self, registry: &FlagRegistry) -> (u64, Document) {
        let (revision, version, text) = {
            let latest = self.latest();
            (
                latest.revision,
                latest.document.version,
                latest.document.text.clone(),
            )
        };
        let document = Document::open(self.uri.clone(), &self.language_id, version, text, registry);
        (revision, document)
    }

    /// The newest published snapshot.
    pub fn current(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshots.borrow())
    }

    pub fn publish(&self, snapshot: Arc<Snapshot>) {
        self.snapshots.send_replace(snapshot);
    }

    /// Waits until a snapshot of at least `revision` is published.
    pub async fn wait_for(&self, revision: u64) -> Option<Arc<Snapshot>> {
        let mut receiver = self.snapshots.subscribe();
        let found = receiver
            .wait_for(|snapshot| snapshot.revision >= revision)
            .await
            .ok()?;
        Some(Arc::clone(&found))
    }
}
