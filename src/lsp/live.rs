//! Live re-runs for one document: what ran last time (each example's source and result), and
//! checkpoints of the interpreter before some examples, so that an edit re-runs only what it
//! affects.
//!
//! - An edit that leaves every example's source as it was re-judges the cached output (a new
//!   expected output, a new flag that only changes comparison): nothing is executed.
//! - An edit to example k resumes from the nearest checkpoint at or before k and re-runs from
//!   there; checkpoints after k no longer describe the page and are dropped.
//! - Where checkpoints are kept is decided by one pure function,
//!   `runner::checkpoint_policy::plan_checkpoints`: at most [`MAX_CHECKPOINTS`] per document
//!   and at most [`CHECKPOINT_MEMORY_BUDGET`] of private memory (measured from
//!   /proc/PID/smaps_rollup), one before the example just edited and the others spread along
//!   the page; once the cap is reached, older ones are evicted rather than new ones refused.
//! - The examples run in the page loop the CLI uses (`runner::run::PageLoop`): SKIP,
//!   FAIL_FAST, faults, setup errors, memory limits and artifacts mean the same here.
//! - Checkpoints an edit made stale are retired, not ended, during the run: ending a chain of
//!   paused interpreters costs a few milliseconds of CPU (and slows the next fork), which
//!   the caller spends after it has published the results ([`LiveState::release_retired`]).
//!
//! Runs are blocking (they wait on Python); the document's actor runs them on a blocking
//! thread and may cancel them from its own thread with a `Cancel`.

use std::collections::BTreeMap;

use crate::backend::{Backend, Checkpoint, PageProcess};
use crate::engine::{Flag, FlagRegistry, FlagSet, Page};
use crate::runner::checkpoint_policy::{
    CheckpointBudget, CheckpointPlan, ExistingCheckpoint, over_budget, plan_checkpoints,
};
use crate::runner::profile::PageProfile;
use crate::runner::run::{
    ExampleRun, Executed, LoopEnd, LoopHooks, PageLoop, RunOptions, judge_page, open_page_process,
};
use crate::runner::workdirs::Workdir;

/// The cancellation handle of the page loop, which live runs take.
pub use crate::runner::cancel::Cancel;

/// Most checkpoints kept per document.
pub const MAX_CHECKPOINTS: usize = 8;
/// Most private memory a document's checkpoints may hold together: 512 MiB.
pub const CHECKPOINT_MEMORY_BUDGET: u64 = 512 * 1024 * 1024;

/// Everything kept between runs of one document.
pub struct LiveState {
    /// `executed[i]` is what example i did in the last run that reached it.
    pub executed: Vec<Executed>,
    /// Interpreter states before example i, valid for the sources in `executed[..i]`.
    checkpoints: BTreeMap<usize, Checkpoint>,
    /// Stale checkpoints still alive, ended by `release_retired` (or when this is dropped).
    retired: Vec<Checkpoint>,
    /// Why the page could not be run at all (its setup code failed, with the traceback).
    pub page_error: Option<String>,
    budget: CheckpointBudget,
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
    /// The page could not be started ([`LiveState::page_error`] says why).
    PageFailed,
    Cancelled,
}

impl Default for LiveState {
    fn default() -> Self {
        LiveState::new()
    }
}

impl LiveState {
    pub fn new() -> LiveState {
        LiveState::with_budget(CheckpointBudget {
            count: MAX_CHECKPOINTS,
            memory: CHECKPOINT_MEMORY_BUDGET,
        })
    }

    /// A live state whose checkpoints are bounded by `budget` instead of the defaults.
    pub fn with_budget(budget: CheckpointBudget) -> LiveState {
        LiveState {
            executed: Vec::new(),
            checkpoints: BTreeMap::new(),
            retired: Vec::new(),
            page_error: None,
            budget,
        }
    }

    pub fn checkpoint_count(&self) -> usize {
        self.checkpoints.len()
    }

    /// The examples checkpoints are kept before, ascending.
    pub fn checkpoint_positions(&self) -> Vec<usize> {
        self.checkpoints.keys().copied().collect()
    }

    /// The private memory the checkpoints hold now, as far as it can be measured.
    pub fn checkpoint_memory(&self) -> u64 {
        self.checkpoints
            .values()
            .filter_map(|checkpoint| private_memory(checkpoint.pid()))
            .sum()
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

    /// Brings the cache up to date with `page`, running what must run with the page loop
    /// the CLI uses; `force_from` re-runs from that example even if nothing changed ("Run
    /// from here").
    pub fn update(
        &mut self,
        page: &Page,
        backend: &Backend,
        registry: &FlagRegistry,
        options: &RunOptions,
        force_from: Option<usize>,
        cancel: &Cancel,
    ) -> RunEnd {
        if !page.errors.is_empty() {
            // A page doctest cannot read is not run, as the CLI does not run it; what ran
            // before is kept for when the error is fixed.
            return RunEnd::Rejudged;
        }
        let profile = options.profile(page);
        let flags: Vec<FlagSet> = page
            .examples
            .iter()
            .map(|example| profile.default_flags.merged_with(&example.options))
            .collect();
        let mut from = self.first_stale(page, &flags);
        if let Some(forced) = force_from {
            from = from.min(forced);
        }
        // Complete: every example has a result now (or is not run after one that stopped
        // the page, as the CLI would report it).
        let complete = self.page_error.is_none()
            && judge_page(page, &self.executed, &profile, registry)
                .iter()
                .all(Option::is_some);
        if from >= self.executed.len().min(page.examples.len()) && complete && force_from.is_none()
        {
            self.executed.truncate(page.examples.len());
            return RunEnd::Rejudged;
        }
        self.page_error = None;
        let plan = self.plan(page.examples.len(), from);
        // Kept alive until the caller has published: see the module docs.
        for index in &plan.evict {
            self.retired.extend(self.checkpoints.remove(index));
        }
        let page_loop = PageLoop {
            page,
            profile: &profile,
            registry,
            options,
            cancel: Some(cancel),
        };
        let (mut runner, workdir, start) = match self.start_runner(page, backend, options, &plan) {
            Ok(started) => started,
            Err(message) => {
                self.page_error = Some(message);
                return RunEnd::PageFailed;
            }
        };
        let resumed_at = (start > 0).then_some(start);
        self.executed.truncate(start);
        let failed_setups = page_loop.failed_setups(&self.executed);
        let mut collector = page_loop.collector(workdir.path());
        let mut hooks = LiveHooks {
            state: self,
            backend,
            take: &plan.take,
        };
        let end = page_loop.run_from_after(
            &mut runner,
            start,
            &failed_setups,
            collector.as_mut(),
            &mut hooks,
        );
        if let LoopEnd::Stopped { at } = end {
            // Later examples did not run: checkpoints after here cannot be trusted.
            let after: Vec<usize> = self.checkpoints.range(at + 1..).map(|(&k, _)| k).collect();
            for k in after {
                self.retired.extend(self.checkpoints.remove(&k));
            }
        }
        drop(runner);
        drop(workdir);
        self.enforce_memory_budget();
        if end == LoopEnd::Cancelled {
            return RunEnd::Cancelled;
        }
        RunEnd::Ran {
            from: start,
            resumed_at,
        }
    }

    /// The checkpoint plan for a run that must re-run example `from` on.
    fn plan(&self, examples: usize, from: usize) -> CheckpointPlan {
        plan_checkpoints(examples, &self.measured(), from, self.budget)
    }

    /// Retires the checkpoints at the end of the chain that no longer fit the budget, as
    /// measured now: checkpoints grow while their descendants run. (Processes that are
    /// still dying, the runner and retired checkpoints, share pages that become the
    /// checkpoints' own once they are gone: each plan measures again.)
    pub fn enforce_memory_budget(&mut self) {
        for index in over_budget(&self.measured(), self.budget) {
            self.retired.extend(self.checkpoints.remove(&index));
        }
    }

    /// The checkpoints with their private memory as it is now.
    fn measured(&self) -> Vec<ExistingCheckpoint> {
        self.checkpoints
            .iter()
            .map(|(&before, checkpoint)| ExistingCheckpoint {
                before,
                private_bytes: private_memory(checkpoint.pid()),
            })
            .collect()
    }

    fn start_runner(
        &mut self,
        page: &Page,
        backend: &Backend,
        options: &RunOptions,
        plan: &CheckpointPlan,
    ) -> Result<(PageProcess, tempfile::TempDir, usize), String> {
        if let Some(index) = plan.resume_from
            && let Some(checkpoint) = self.checkpoints.get_mut(&index)
            && let Ok(workdir) = Workdir::create().map(Workdir::into_temp_dir)
            && let Ok(runner) = checkpoint.resume(backend, workdir.path())
        {
            return Ok((runner, workdir, index));
        }
        // No usable checkpoint: a fresh process from the start of the page. Ending the old
        // page's first process ends its whole group, retired checkpoints included: end them
        // now, before their pids can be reused.
        self.retired.clear();
        self.checkpoints.clear();
        self.executed.clear();
        let (runner, workdir) = open_page_process(page, backend, options, Workdir::create()?)?;
        Ok((runner, workdir.into_temp_dir(), 0))
    }

    /// The examples' results for `page` from the cache, judged now as the CLI judges: one
    /// per example, `None` for examples that have not run (yet).
    pub fn results(
        &self,
        page: &Page,
        profile: &PageProfile,
        registry: &FlagRegistry,
    ) -> Vec<Option<ExampleRun>> {
        if self.page_error.is_some() || !page.errors.is_empty() {
            // Nothing ran, as the CLI reports a page whose setup failed or that doctest
            // cannot read.
            return page
                .examples
                .iter()
                .map(|example| {
                    Some(ExampleRun::without_running(
                        crate::runner::run::Outcome::NotRun,
                        profile.default_flags.merged_with(&example.options),
                    ))
                })
                .collect();
        }
        judge_page(page, &self.executed, profile, registry)
    }
}

impl LiveState {
    /// A throwaway runner in the state the page has after example `after` ran, for looking
    /// at its heap (`lsp::heap`): resumed from the nearest checkpoint still valid for `page`
    /// (or a fresh page process), which then runs the examples up to `after` with the page
    /// loop, keeping no artifacts and taking no checkpoints. Nothing kept here changes: the
    /// runner is a fork, dropped by the caller. `Err` says why there is no such state.
    pub fn fork_after(
        &mut self,
        page: &Page,
        backend: &Backend,
        registry: &FlagRegistry,
        options: &RunOptions,
        after: usize,
        cancel: &Cancel,
    ) -> Result<(PageProcess, tempfile::TempDir), ForkError> {
        let profile = options.profile(page);
        let flags: Vec<FlagSet> = page
            .examples
            .iter()
            .map(|example| profile.default_flags.merged_with(&example.options))
            .collect();
        // A checkpoint before example k holds the state of the sources that ran before k:
        // usable while those are the page's sources still.
        let valid = self.first_stale(page, &flags);
        let nearest = self
            .checkpoints
            .range(..=(after + 1).min(valid))
            .next_back()
            .map(|(&before, _)| before);
        let resumed = nearest.and_then(|before| {
            let workdir = Workdir::create().ok()?.into_temp_dir();
            let runner = self
                .checkpoints
                .get_mut(&before)?
                .resume(backend, workdir.path());
            Some((runner.ok()?, workdir, before))
        });
        let (mut runner, workdir, start) = match resumed {
            Some(resumed) => resumed,
            None => {
                let (runner, workdir) = Workdir::create()
                    .and_then(|workdir| open_page_process(page, backend, options, workdir))
                    .map_err(ForkError::Start)?;
                (runner, workdir.into_temp_dir(), 0)
            }
        };
        let mut prefix = page.clone();
        prefix.examples.truncate(after + 1);
        let options = RunOptions {
            artifacts_dir: None,
            ..options.clone()
        };
        let page_loop = PageLoop {
            page: &prefix,
            profile: &profile,
            registry,
            options: &options,
            cancel: Some(cancel),
        };
        let failed_setups =
            page_loop.failed_setups(&self.executed[..start.min(self.executed.len())]);
        let mut hooks = DiscardRuns;
        match page_loop.run_from_after(&mut runner, start, &failed_setups, None, &mut hooks) {
            LoopEnd::Finished => Ok((runner, workdir)),
            LoopEnd::Cancelled => Err(ForkError::Cancelled),
            LoopEnd::Stopped { at } if at == after => Ok((runner, workdir)),
            LoopEnd::Stopped { at } => Err(ForkError::Stopped { at }),
        }
    }
}

/// Why [`LiveState::fork_after`] has no state to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForkError {
    #[error("no page process could be started: {0}")]
    Start(String),
    #[error("a newer edit cancelled it")]
    Cancelled,
    /// Example `at` (0-based) stopped the page before the point asked for (it timed out,
    /// crashed, or failed under FAIL_FAST).
    #[error("example {} stopped the page before this point", at + 1)]
    Stopped { at: usize },
}

/// Hooks that keep nothing: a fork's runs are not the page's.
struct DiscardRuns;

impl LoopHooks for DiscardRuns {
    fn on_example(&mut self, _index: usize, _executed: Executed, _run: ExampleRun) {}
}

/// The editor's hooks into the page loop: take the planned checkpoints, keep what ran.
struct LiveHooks<'a> {
    state: &'a mut LiveState,
    backend: &'a Backend,
    take: &'a [usize],
}

impl LoopHooks for LiveHooks<'_> {
    fn before_example(&mut self, index: usize, process: &mut PageProcess) {
        if index > 0
            && self.take.contains(&index)
            && !self.state.checkpoints.contains_key(&index)
            && let Ok(checkpoint) = process.checkpoint(self.backend)
        {
            self.state.checkpoints.insert(index, checkpoint);
        }
    }

    fn on_example(&mut self, _index: usize, executed: Executed, _run: ExampleRun) {
        self.state.executed.push(executed);
    }
}

/// The private memory of a paused interpreter (`Private_Clean + Private_Dirty` of
/// /proc/PID/smaps_rollup, what ending it would free), or `None` where it cannot be read.
pub fn private_memory(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let mut kib = 0u64;
    let mut found = false;
    for line in text.lines() {
        if let Some(rest) = line
            .strip_prefix("Private_Clean:")
            .or_else(|| line.strip_prefix("Private_Dirty:"))
        {
            kib += rest
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()?;
            found = true;
        }
    }
    found.then(|| kib.saturating_mul(1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_memory_of_this_process_is_read() {
        let bytes = private_memory(std::process::id() as i32).expect("smaps_rollup");
        assert!(bytes > 0);
        assert_eq!(private_memory(-1), None);
    }
}
