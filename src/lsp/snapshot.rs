//! What requests read: each document's actor publishes an immutable [`Snapshot`] (the text
//! it parsed, the page, and the results judged against that very page) and requests clone
//! the `Arc`. A handler thus never re-parses, and never indexes one version's results with
//! another version's examples.
//!
//! Edits are applied to the document's [`Latest`] text at once (positions in later requests
//! refer to it) and counted: each snapshot carries the edit count it was parsed at, so a
//! request can tell whether the snapshot is the text the client has.
//!
//! A shelf also decides who may publish the document's diagnostics, and when: one publish
//! at a time ([`Shelf::diagnostics_turn`]), none after the document is closed except the
//! clearing one ([`Shelf::close`]), so that an editor never shows problems for a closed file.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;
use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};

use crate::engine::FlagRegistry;
use crate::runner::profile::Profiles;
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
    /// Why the page as a whole could not run (its setup code failed, with the traceback;
    /// options the CLI would refuse).
    pub page_error: Option<String>,
}

impl Snapshot {
    pub fn new(
        revision: u64,
        document: Document,
        results: Vec<Option<ExampleRun>>,
    ) -> Arc<Snapshot> {
        Snapshot::with_page_error(revision, document, results, None)
    }

    /// A snapshot whose page could not run as a whole, for `page_error`'s reason.
    pub fn with_page_error(
        revision: u64,
        document: Document,
        mut results: Vec<Option<ExampleRun>>,
        page_error: Option<String>,
    ) -> Arc<Snapshot> {
        // Results always match the examples one to one, whatever the caller computed.
        results.resize(document.page.examples.len(), None);
        Arc::new(Snapshot {
            revision,
            document,
            results,
            page_error,
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
    /// Set by [`Shelf::close`]: nothing more is published for the document.
    closed: AtomicBool,
    /// Held while the document's diagnostics are sent (see [`DiagnosticsTurn`]).
    publishing: tokio::sync::Mutex<()>,
}

/// The right to send a document's diagnostics, held while they are sent: publishes never
/// overtake one another, and none goes out after the one that cleared a closed document's.
pub struct DiagnosticsTurn<'shelf> {
    _publishing: tokio::sync::MutexGuard<'shelf, ()>,
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
            closed: AtomicBool::new(false),
            publishing: tokio::sync::Mutex::new(()),
        }
    }

    /// The turn to send this document's diagnostics, after any publish under way; `None`
    /// once the document is closed (nothing more may be said about it).
    pub async fn diagnostics_turn(&self) -> Option<DiagnosticsTurn<'_>> {
        let publishing = self.publishing.lock().await;
        (!self.closed.load(Ordering::SeqCst)).then_some(DiagnosticsTurn {
            _publishing: publishing,
        })
    }

    /// Marks the document closed, after any publish under way; the turn returned is the last
    /// one, for the publish that clears its diagnostics (if the caller makes one).
    pub async fn close(&self) -> DiagnosticsTurn<'_> {
        let publishing = self.publishing.lock().await;
        self.closed.store(true, Ordering::SeqCst);
        DiagnosticsTurn {
            _publishing: publishing,
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
    pub fn parse_latest(&self, registry: &FlagRegistry, profiles: &Profiles) -> (u64, Document) {
        let (revision, version, text) = {
            let latest = self.latest();
            (
                latest.revision,
                latest.document.version,
                latest.document.text.clone(),
            )
        };
        let document = Document::open(
            self.uri.clone(),
            &self.language_id,
            version,
            text,
            registry,
            profiles,
        );
        (revision, document)
    }

    /// The newest published snapshot.
    pub fn current(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshots.borrow())
    }

    /// Publishes the actor's `snapshot`, unless a request already published one of a newer
    /// text (see [`Shelf::offer`]): snapshots never go back in time.
    pub fn publish(&self, snapshot: Arc<Snapshot>) {
        self.snapshots.send_if_modified(|current| {
            let current_or_newer = snapshot.revision >= current.revision;
            if current_or_newer {
                *current = Arc::clone(&snapshot);
            }
            current_or_newer
        });
    }

    /// Publishes `snapshot` only if it is of a newer text than the current one (a request
    /// that parsed the latest text itself shares its work, but never hides results the actor
    /// published meanwhile for that text).
    pub fn offer(&self, snapshot: &Arc<Snapshot>) {
        self.snapshots.send_if_modified(|current| {
            let newer = current.revision < snapshot.revision;
            if newer {
                *current = Arc::clone(snapshot);
            }
            newer
        });
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

#[cfg(test)]
mod tests {
    use tower_lsp_server::ls_types::{Position, Range};

    use super::*;

    fn shelf(text: &str) -> (Shelf, FlagRegistry) {
        let registry = FlagRegistry::new();
        let uri: Uri = "file:///docs/a.txt".parse().unwrap();
        let document = Document::open(
            uri,
            "plaintext",
            1,
            text.into(),
            &registry,
            &Profiles::doctest(Default::default()),
        );
        (Shelf::open("plaintext".into(), document), registry)
    }

    #[test]
    fn results_always_match_the_examples_of_their_snapshot() {
        let (shelf, registry) = shelf(">>> 1\n1\n>>> 2\n2\n");
        shelf.apply(
            vec![TextDocumentContentChangeEvent {
                range: Some(Range::new(Position::new(2, 0), Position::new(4, 0))),
                range_length: None,
                text: String::new(),
            }],
            2,
        );
        let (revision, document) =
            shelf.parse_latest(&registry, &Profiles::doctest(Default::default()));
        assert_eq!((revision, document.version), (1, 2));
        let snapshot = Snapshot::new(revision, document, vec![None, None, None]);
        assert_eq!(
            snapshot.results.len(),
            snapshot.document.page.examples.len()
        );
    }

    #[test]
    fn snapshots_never_go_back_in_time() {
        let (shelf, registry) = shelf(">>> 1\n1\n");
        shelf.apply(
            vec![TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: ">>> 2\n2\n".into(),
            }],
            2,
        );
        let (revision, document) =
            shelf.parse_latest(&registry, &Profiles::doctest(Default::default()));
        let newer = Snapshot::unrun(revision, document);
        shelf.offer(&newer);
        assert_eq!(shelf.current().revision, 1);
        // The actor's older snapshot does not replace it; an offer of the same text does
        // not replace the actor's.
        let document = shelf.current().document.clone();
        shelf.publish(Snapshot::unrun(0, document.clone()));
        assert_eq!(shelf.current().revision, 1);
        let with_results = Snapshot::new(1, document.clone(), vec![None]);
        shelf.publish(Arc::clone(&with_results));
        shelf.offer(&Snapshot::unrun(1, document));
        assert!(Arc::ptr_eq(&shelf.current(), &with_results));
    }
}
