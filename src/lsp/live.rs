//! Live re-runs for one document: what ran last time (each example's source and result), and
//! checkpoints of the interpreter before some examples, so that an edit re-runs only what it
//! affects.
//!
//! - An edit that leaves every example's source as it was re-judges the cached output (a new
//!   expected output, a new flag that only changes comparison): nothing is executed.
//! - An edit to example k resumes from the nearest checkpoint at or before k and re-runs from
//!   there; checkpoints after k no longer describe the page and are dropped.
//! - Checkpoints are bounded ([`MAX_CHECKPOINTS`]) and spaced out along the page, with one
//!   before the last example and one before the example just edited, where edits tend to
//!   come again.
//! - Checkpoints an edit made stale are retired, not ended, during the run: ending a chain of
//!   paused interpreters costs a few milliseconds of CPU (and slows the next fork), which
//!   the caller spends after it has published the results ([`LiveState::release_retired`]).
//!
//! Runs are blocking (they wait on Python); the document's actor runs them on a blocking
//! thread and may cancel them from its own thread with a [`Cancel`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::backend::{Backend, Checkpoint, PageProcess, PageSetup, RaisedException};
use crate::engine::judge::{Judgement, judge};
use crate::engine::{Example, Flag, FlagRegistry, FlagSet, Page};
use crate::runner::artifacts::{Artifact, ArtifactCollector};
use crate::runner::run::{ExampleRun, Outcome, fault_outcome, page_identity};

/// Most checkpoints kept per document.
pub const MAX_CHECKPOINTS: usize = 8;

/// What one example did when it last ran, kept to re-judge it without running it again.
#[derive(Debug, Clone)]
pub struct Executed {
    /// The source it ran (an example whose source changed must run again).
    pub source: String,
    pub skipped: bool,
    pub got: Option<String>,
    pub truncated: bool,
    pub exception: Option<RaisedException>,
    /// Set for timeouts and crashes; then later examples did not run.
    pub fault: Option<(Outcome, String)>,
    pub duration: Duration,
    pub artifacts: Vec<Artifact>,
}

pub use super::cancel::Cancel;

/// Everything kept between runs of one document.
pub struct LiveState {
    /// `executed[i]` is what example i did in the last run that reached it.
    pub executed: Vec<Executed>,
    /// Interpreter states before example i, valid for the sources in `executed[..i]`.
    checkpoints: BTreeMap<usize, Checkpoint>,
    /// Stale checkpoints still alive, ended by `release_retired` (or when this is dropped).
    retired: Vec<Checkpoint>,
    artifacts_dir: PathBuf,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Nothing had to run: cached output was judged again.
    Rejudged,
    /// Examples from `from` on ran (`resumed_at` is the checkpoint used, if any).
    Ran {
        from: usize,
        resumed_at: Option<usize>,
    },
    Cancelled,
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub timeout: Duration,
    pub default_flags: FlagSet,
    pub setup_code: Option<String>,
    pub output_cap: usize,
    /// Re-run from this example even when its source did not change ("Run from here").
    pub force_from: Option<usize>,
}

impl LiveState {
    pub fn new(artifacts_dir: PathBuf) -> LiveState {
        LiveState {
            executed: Vec::new(),
            checkpoints: BTreeMap::new(),
            retired: Vec::new(),
            artifacts_dir,
        }
    }

    pub fn checkpoint_count(&self) -> usize {
        self.checkpoints.len()
    }

    /// Ends the checkpoints the last update made stale (call it once results are out).
    pub fn release_retired(&mut self) {
        self.retired.clear();
    }

    /// The first example that must run again for `page`: the first whose source (or SKIP)
    /// differs from what last ran.
    pub fn first_stale(&self, page: &Page, flags: &[FlagSet]) -> usize {
        page.examples
            .iter()
            .zip(flags)
            .zip(&self.executed)
            .position(|((example, flags), done)| {
                example.source != done.source || flags.contains(Flag::SKIP) != done.skipped
            })
            .unwrap_or(page.examples.len().min(self.executed.len()))
    }

    /// Brings the cache up to date with `page`, running what must run.
    pub fn update(
        &mut self,
        page: &Page,
        backend: &Backend,
        options: &LiveOptions,
        cancel: &Cancel,
    ) -> RunEnd {
        let flags: Vec<FlagSet> = page
            .examples
            .iter()
            .map(|example| options.default_flags.merged_with(&example.options))
            .collect();
        let mut from = self.first_stale(page, &flags);
        if let Some(forced) = options.force_from {
            from = from.min(forced);
        }
        let complete = self.executed.len() >= page.examples.len()
            || self
                .executed
                .last()
                .is_some_and(|done| done.fault.is_some());
        if from >= page.examples.len() && complete && options.force_from.is_none() {
            self.executed.truncate(page.examples.len());
            return RunEnd::Rejudged;
        }
        // What ran from `from` on no longer describes the page.
        self.executed.truncate(from);
        let stale: Vec<usize> = self
            .checkpoints
            .range(from + 1..)
            .map(|(&k, _)| k)
            .collect();
        // Kept alive until the caller has published: see the module docs.
        for index in stale {
            self.retired.extend(self.checkpoints.remove(&index));
        }
        let wanted_checkpoint = self.checkpoints.range(..=from).next_back().map(|(&k, _)| k);
        let Some((mut runner, workdir, start)) =
            self.start_runner(page, backend, options, wanted_checkpoint)
        else {
            return RunEnd::Ran {
                from: 0,
                resumed_at: None,
            };
        };
        let resumed_at = (start > 0).then_some(start);
        self.executed.truncate(start);
        let mut collector = ArtifactCollector::new(workdir.path(), &self.artifacts_dir, &page.path);
        let spacing = page.examples.len().div_ceil(6).max(1);
        for (index, (example, &example_flags)) in
            page.examples.iter().zip(&flags).enumerate().skip(start)
        {
            if cancel.is_cancelled() {
                return RunEnd::Cancelled;
            }
            let wanted = index == page.examples.len() - 1 || index == from || index % spacing == 0;
            if wanted
                && index > 0
                && !self.checkpoints.contains_key(&index)
                && self.checkpoints.len() < MAX_CHECKPOINTS
                && let Ok(checkpoint) = runner.checkpoint(backend)
            {
                self.checkpoints.insert(index, checkpoint);
            }
            let executed = run_one(
                &mut runner,
                index,
                example,
                example_flags,
                options,
                cancel,
                &mut collector,
            );
            if cancel.is_cancelled() {
                return RunEnd::Cancelled;
            }
            let stop = executed.fault.is_some();
            self.executed.push(executed);
            if stop {
                // Later examples did not run: checkpoints after here cannot be trusted.
                let after: Vec<usize> = self
                    .checkpoints
                    .range(index + 1..)
                    .map(|(&k, _)| k)
                    .collect();
                for k in after {
                    self.checkpoints.remove(&k);
                }
                break;
            }
        }
        drop(runner);
        drop(workdir);
        RunEnd::Ran {
            from: start,
            resumed_at,
        }
    }

    fn start_runner(
        &mut self,
        page: &Page,
        backend: &Backend,
        options: &LiveOptions,
        resume: Option<usize>,
    ) -> Option<(PageProcess, tempfile::TempDir, usize)> {
        let workdir = tempfile::Builder::new()
            .prefix("objgraph-doctest-page-")
            .tempdir()
            .ok()?;
        if let Some(index) = resume
            && let Some(checkpoint) = self.checkpoints.get_mut(&index)
            && let Ok(runner) = checkpoint.resume(backend, workdir.path())
        {
            return Some((runner, workdir, index));
        }
        // No usable checkpoint: a fresh process from the start of the page. Ending the old
        // page's first process ends its whole group, retired checkpoints included: end them
        // now, before their pids can be reused.
        self.retired.clear();
        self.checkpoints.clear();
        self.executed.clear();
        let (absolute, name) = page_identity(page);
        let setup = PageSetup {
            path: &absolute,
            name: &name,
            workdir: workdir.path(),
            setup_code: options.setup_code.as_deref(),
            output_cap: options.output_cap,
            memory_limit: None,
        };
        let runner = backend.open_page(&setup).ok()?;
        Some((runner, workdir, 0))
    }

    /// The examples' results for `page` from the cache, judged now: one per example,
    /// `None` for examples that have not run (yet).
    pub fn results(
        &self,
        page: &Page,
        default_flags: FlagSet,
        registry: &FlagRegistry,
    ) -> Vec<Option<ExampleRun>> {
        let mut stopped = false;
        page.examples
            .iter()
            .enumerate()
            .map(|(index, example)| {
                let flags = default_flags.merged_with(&example.options);
                let done = self
                    .executed
                    .get(index)
                    .filter(|done| done.source == example.source);
                if stopped {
                    return Some(not_run(flags));
                }
                let done = done?;
                if let Some((outcome, message)) = &done.fault {
                    stopped = true;
                    return Some(ExampleRun {
                        outcome: *outcome,
                        fault: Some(message.clone()),
                        duration: done.duration,
                        ..not_run(flags)
                    });
                }
                if done.skipped {
                    return Some(ExampleRun {
                        outcome: Outcome::Skipped,
                        ..not_run(flags)
                    });
                }
                let got = done.got.clone().unwrap_or_default();
                let judgement = judge(
                    example,
                    &got,
                    done.exception
                        .as_ref()
                        .map(|exception| exception.exc_msg.as_str()),
                    flags,
                    registry,
                );
                Some(run_from(done, got, judgement, flags))
            })
            .collect()
    }
}

fn not_run(flags: FlagSet) -> ExampleRun {
    ExampleRun::without_running(Outcome::NotRun, flags)
}

fn run_from(done: &Executed, got: String, judgement: Judgement, flags: FlagSet) -> ExampleRun {
    ExampleRun {
        outcome: if judgement.passed {
            Outcome::Passed
        } else {
            Outcome::Failed
        },
        flags,
        got: Some(got),
        truncated: done.truncated,
        exception: done.exception.clone(),
        judgement: Some(judgement),
        fault: None,
        duration: done.duration,
        artifacts: done.artifacts.clone(),
    }
}

fn run_one(
    runner: &mut PageProcess,
    index: usize,
    example: &Example,
    flags: FlagSet,
    options: &LiveOptions,
    cancel: &Cancel,
    collector: &mut ArtifactCollector,
) -> Executed {
    let mut executed = Executed {
        source: example.source.clone(),
        skipped: flags.contains(Flag::SKIP),
        got: None,
        truncated: false,
        exception: None,
        fault: None,
        duration: Duration::ZERO,
        artifacts: Vec::new(),
    };
    if executed.skipped {
        return executed;
    }
    let started = Instant::now();
    if !cancel.start_running(runner.pid()) {
        return executed;
    }
    let result = runner.run(index, &example.source, options.timeout);
    cancel.stop_running();
    match result {
        Ok(result) => {
            executed.got = Some(result.got);
            executed.truncated = result.truncated;
            executed.exception = result.exception;
            executed.duration = Duration::from_nanos(result.duration_ns);
        }
        Err(fault) => {
            let (outcome, message) = fault_outcome(&fault, options.timeout);
            executed.fault = Some((outcome, message));
            executed.duration = started.elapsed();
        }
    }
    executed.artifacts = collector.collect(example.span.line);
    executed
}
