//! Looking at a page's heap: `PageProcess::inspect` asks a page process for the value of a
//! name (its type, refcount and a capped repr) and, optionally, to draw its references with
//! objgraph. The editor asks this of a throwaway fork of a checkpoint (`lsp::heap`), never of
//! a process whose state the page goes on with: a `__repr__` or a property may do anything.

use std::time::{Duration, Instant};

use super::protocol::{DrawRefs, Event, Inspection, Request};
use super::worker::{Fault, PageProcess};

/// What to look at, and how much of it to bring back.
#[derive(Debug, Clone, Copy)]
pub struct InspectQuery<'a> {
    /// A name or dotted name (`x`, `obj.attr`), looked up in the page's globals, then in
    /// builtins.
    pub expression: &'a str,
    /// The Sphinx group whose namespace holds it (`None`: the page's globals).
    pub group: Option<&'a str>,
    /// Longest repr brought back, in characters.
    pub repr_cap: usize,
    /// Draw its references (or back-references) into a file too.
    pub draw: Option<DrawRefs<'a>>,
}

impl PageProcess {
    /// Inspects a value in this process (see [`InspectQuery`]); `timeout` bounds the whole
    /// answer (a `__repr__` that loops, objgraph on a huge graph), after which the process
    /// is killed.
    pub fn inspect(
        &mut self,
        query: &InspectQuery<'_>,
        timeout: Duration,
    ) -> Result<Inspection, Fault> {
        let deadline = Instant::now() + timeout;
        let request = Request::Inspect {
            expression: query.expression,
            group: query.group,
            repr_cap: query.repr_cap,
            draw: query.draw,
        };
        if self.send(&request).is_err() {
            return Err(Fault::Died(None));
        }
        match self.read_event(deadline)? {
            Event::Inspected(inspection) => Ok(inspection),
            other => Err(Fault::Protocol(format!("unexpected {other:?}"))),
        }
    }
}
