//! The language server (`objgraph-doctest lsp`): LSP over stdio with tower-lsp-server, over
//! the same engine, backend and runner as the CLI. LSP types never leave this module;
//! `line_index` is the one place positions are converted.

pub mod actions;
pub mod diagnostics;
pub mod directive;
pub mod document;
pub mod framing;
pub mod guard;
pub mod heap;
pub mod hover;
pub mod lens;
pub mod line_index;
pub mod live;
pub mod python;
pub mod server;
pub mod settings;
pub mod snapshot;
pub mod symbols;

use std::sync::Arc;
use std::time::Duration;

use tower_lsp_server::{LspService, Server as LspTransport};

/// Serves LSP on stdin/stdout until the client says `exit` or goes away; every Python process
/// started for it has ended when this returns. Returns the exit status LSP asks for: 1 when
/// the client sent `exit` without a `shutdown` request first, else 0.
pub fn run_stdio() -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let session = Arc::new(framing::Session::default());
    runtime.block_on(async {
        let (service, socket) = LspService::new(server::Server::new);
        let stopper = service.inner().stopper();
        let (guarded, reader) = tokio::io::duplex(1 << 20);
        let (answers, answered) = tokio::sync::mpsc::unbounded_channel();
        let watched = Arc::clone(&session);
        tokio::spawn(async move {
            framing::forward_valid_frames(tokio::io::stdin(), guarded, answers, &watched).await;
        });
        // tower-lsp-server writes into a pipe; one task writes its frames and ours to stdout.
        let (server_output, merged) = tokio::io::duplex(1 << 20);
        let writer = tokio::spawn(framing::merge_output(merged, answered, tokio::io::stdout()));
        LspTransport::new(reader, server_output, socket)
            .serve(service)
            .await;
        // The pipe closed with `serve`: let the writer send what is left (the response to
        // `shutdown`, say) before we exit.
        let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
        stopper.stop_everything();
        // Let the documents' actors drop their interpreters (ending their processes).
        tokio::time::sleep(Duration::from_millis(100)).await;
    });
    // Don't wait for the runtime's stdin reader: it blocks until the client closes the pipe,
    // which an editor may never do. Anything still running was cancelled above, and every
    // Python process dies with the zygote, whose connection closes when we exit.
    runtime.shutdown_background();
    Ok(session.exit_status())
}
