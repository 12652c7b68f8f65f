//! Running pages: each page in its own process from the backend, examples in order, each
//! judged by the engine, with faults turned into outcomes. Pages run in parallel (longest
//! first); events reach the caller on its own thread, in the order they happen.
//!
//! [`PageLoop`] is the one loop over a page's examples: the CLI runs it from example 0
//! ([`run_page`]); the editor (`lsp::live`) runs it from a checkpoint, with hooks that take
//! checkpoints and a [`Cancel`]. What an example's run means (judgement, SKIP, FAIL_FAST,
//! faults, artifacts) is decided here, once, for both ([`judge_executed`], [`stops_page`],
//! [`judge_page`]).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::backend::protocol::PytestOutcome;
use crate::backend::{Backend, Fault, PageProcess, PageSetup, RaisedException};
use crate::engine::judge::{Judgement, judge};
use crate::engine::page::ExampleRole;
use crate::engine::sphinx::VersionSpec;
use crate::engine::{Example, Flag, FlagRegistry, FlagSet, Page};

use super::artifacts::{Artifact, ArtifactCollector};
pub use super::cancel::Cancel;
use super::profile::{PageProfile, Profiles};
use super::stream::SegmentEnd;
use super::workdirs::{Workdir, Workdirs};

/// How a run is done.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Pages run at once.
    pub jobs: usize,
    /// Longest an example may run.
    pub timeout: Duration,
    /// Each page's profile: how it is read, its default flags (`optionflags`, `-o` and the
    /// profile's own), `sys.path`, whether it stops at its first failure.
    pub profiles: Arc<Profiles>,
    /// Output kept per example, in characters.
    pub output_cap: usize,
    /// Address-space limit per page process, in bytes.
    pub memory_limit: Option<u64>,
    /// Code run in each page's globals before its first example.
    pub setup_code: Option<String>,
    /// Where files that examples write are copied; `None` to keep none.
    pub artifacts_dir: Option<PathBuf>,
    /// The project's root: each page's artifacts are kept under its path from here, so the
    /// CLI (pages named as given) and the editor (absolute paths) share one folder per page.
    pub project_root: PathBuf,
}

/// What happened to one example.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Passed,
    Failed,
    Skipped,
    Timeout,
    Crashed,
    NotRun,
}

/// One example's result.
#[derive(Debug, Clone)]
pub struct ExampleRun {
    pub outcome: Outcome,
    /// The flags in effect (defaults merged with the example's directives).
    pub flags: FlagSet,
    /// What it printed (with the traceback appended when it raised), if it ran.
    pub got: Option<String>,
    pub truncated: bool,
    /// `got` shows lone surrogates it printed as U+FFFD.
    pub lossy: bool,
    pub exception: Option<RaisedException>,
    /// Why it passed or failed, when it was judged.
    pub judgement: Option<Judgement>,
    /// What went wrong with the interpreter, for timeouts and crashes.
    pub fault: Option<String>,
    pub duration: Duration,
    pub artifacts: Vec<Artifact>,
    /// Why it was skipped, when something other than SKIP skipped it: a pytest-doctestplus
    /// directive, a required module that is not importable, `pytest.skip("why")` raised by
    /// it or by an earlier example of the page.
    pub skip_reason: Option<String>,
}

impl ExampleRun {
    /// What the example did, as accepting its output needs it; `None` if it did not run.
    pub fn actual(&self) -> Option<crate::engine::update::Actual<'_>> {
        Some(crate::engine::update::Actual {
            got: self.got.as_deref()?,
            exc_msg: self
                .exception
                .as_ref()
                .map(|exception| exception.exc_msg.as_str()),
        })
    }

    /// The result of an example that did not run (or ran into a fault: fill in the rest).
    pub fn without_running(outcome: Outcome, flags: FlagSet) -> ExampleRun {
        ExampleRun {
            outcome,
            flags,
            got: None,
            truncated: false,
            lossy: false,
            exception: None,
            judgement: None,
            fault: None,
            duration: Duration::ZERO,
            artifacts: Vec::new(),
            skip_reason: None,
        }
    }
}

/// One page's results; `examples[i]` is the result of `page.examples[i]`.
#[derive(Debug, Clone)]
pub struct PageRun {
    pub page: Page,
    pub examples: Vec<ExampleRun>,
    /// A problem that stopped the page as a whole (its setup code failed, Python was lost).
    pub error: Option<String>,
    pub duration: Duration,
    /// The page's figures against what its examples drew, and its graphs' diffs: filled in
    /// after the run (`runner::figures::check_page`); empty until then.
    pub figures: super::figures::PageFigures,
}

/// Counts over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub timeout: usize,
    pub crashed: usize,
    pub not_run: usize,
    /// Pages that could not be run (parse errors, setup errors).
    pub page_errors: usize,
}

impl Summary {
    pub fn add(&mut self, run: &PageRun) {
        if run.error.is_some() || !run.page.errors.is_empty() {
            self.page_errors += 1;
        }
        for example in &run.examples {
            match example.outcome {
                Outcome::Passed => self.passed += 1,
                Outcome::Failed => self.failed += 1,
                Outcome::Skipped => self.skipped += 1,
                Outcome::Timeout => self.timeout += 1,
                Outcome::Crashed => self.crashed += 1,
                Outcome::NotRun => self.not_run += 1,
            }
        }
    }

    /// True when nothing failed, timed out, crashed or could not be run.
    pub fn all_passed(&self) -> bool {
        self.failed == 0 && self.timeout == 0 && self.crashed == 0 && self.page_errors == 0
    }
}

/// What the runner tells its caller, as it happens.
#[derive(Debug)]
pub enum RunEvent {
    PageStarted {
        index: usize,
    },
    ExampleFinished {
        page: usize,
        example: usize,
        outcome: Outcome,
    },
    PageFinished {
        index: usize,
        run: Box<PageRun>,
    },
}

/// Runs `pages` (in parallel, longest first) and calls `on_event` on this thread for each
/// event (`ExampleFinished` only with `each_example`); `after_page` finishes each page's
/// run on the thread that ran it, before its `PageFinished`. Pages without examples are not run;
/// pages with parse errors are reported as errors and not run, as `DocFileSuite` cannot
/// load them.
pub fn run_pages(
    pages: Vec<Page>,
    backend: &Backend,
    registry: &FlagRegistry,
    options: &RunOptions,
    each_example: bool,
    after_page: &(dyn Fn(&mut PageRun) + Sync),
    mut on_event: impl FnMut(RunEvent),
) {
    let mut order: Vec<usize> = (0..pages.len()).collect();
    order.sort_by_key(|&index| std::cmp::Reverse(estimated_cost(&pages[index])));
    let queue = Mutex::new(order.into_iter().collect::<VecDeque<usize>>());
    let pages: Vec<Mutex<Option<Page>>> = pages
        .into_iter()
        .map(|page| Mutex::new(Some(page)))
        .collect();
    let (sender, receiver) = mpsc::channel();
    std::thread::scope(|scope| {
        // More threads than pages would only wait: `-j 1000000` runs one per page.
        let jobs = options.jobs.clamp(1, pages.len().max(1));
        for _ in 0..jobs {
            let sender = sender.clone();
            let (queue, pages) = (&queue, &pages);
            scope.spawn(move || {
                let mut workdirs = Workdirs::default();
                while let Some((index, left)) = queue
                    .lock()
                    .ok()
                    .and_then(|mut queue| Some((queue.pop_front()?, queue.len())))
                {
                    // The next pages' processes are forked while this one runs.
                    backend.fork_ahead(left.min(jobs));
                    let Some(page) = pages[index].lock().ok().and_then(|mut page| page.take())
                    else {
                        continue;
                    };
                    let _ = sender.send(RunEvent::PageStarted { index });
                    // Once the interpreter is lost for good, the pages left are not run: the
                    // caller says why once (`Backend::health`), not once per page.
                    let mut run = if backend.health().is_err() {
                        not_run_page(page, options)
                    } else {
                        run_page_in(
                            &mut workdirs,
                            page,
                            backend,
                            registry,
                            options,
                            |example, outcome| {
                                // One wake-up of the caller's thread per example, only when
                                // it wants them (a progress bar).
                                if each_example {
                                    let _ = sender.send(RunEvent::ExampleFinished {
                                        page: index,
                                        example,
                                        outcome,
                                    });
                                }
                            },
                        )
                    };
                    // On this job's thread, beside the other pages still running (the
                    // figures' checks decode images).
                    after_page(&mut run);
                    let _ = sender.send(RunEvent::PageFinished {
                        index,
                        run: Box::new(run),
                    });
                }
            });
        }
        drop(sender);
        for event in receiver {
            on_event(event);
        }
    });
    backend.fork_ahead(0);
}

impl RunOptions {
    /// The profile of `page` (as resolved for its path).
    pub fn profile(&self, page: &Page) -> Arc<PageProfile> {
        self.profiles.for_page(Path::new(&page.path))
    }
}

/// A page none of whose examples ran, with no error of its own.
fn not_run_page(page: Page, options: &RunOptions) -> PageRun {
    let default_flags = options.profile(&page).default_flags;
    let examples = page
        .examples
        .iter()
        .map(|example| {
            ExampleRun::without_running(
                Outcome::NotRun,
                default_flags.merged_with(&example.options),
            )
        })
        .collect();
    PageRun {
        page,
        examples,
        error: None,
        duration: Duration::ZERO,
        figures: Default::default(),
    }
}

/// A page's expected run time, for scheduling the longest first. Graph drawing dominates
/// objgraph's pages, so those examples weigh more.
fn estimated_cost(page: &Page) -> usize {
    page.examples
        .iter()
        .map(|example| {
            let draws = ["show_refs", "show_backrefs", "show_chain", "show_graph"]
                .iter()
                .any(|call| example.source.contains(call));
            if draws { 50 } else { 1 }
        })
        .sum()
}

/// Runs one page's examples in a fresh process and directory: the page loop from example 0.
pub fn run_page(
    page: Page,
    backend: &Backend,
    registry: &FlagRegistry,
    options: &RunOptions,
    on_example: impl FnMut(usize, Outcome),
) -> PageRun {
    run_page_in(
        &mut Workdirs::default(),
        page,
        backend,
        registry,
        options,
        on_example,
    )
}

/// [`run_page`], in a working directory from `workdirs` (given back when the page ends).
fn run_page_in(
    workdirs: &mut Workdirs,
    page: Page,
    backend: &Backend,
    registry: &FlagRegistry,
    options: &RunOptions,
    mut on_example: impl FnMut(usize, Outcome),
) -> PageRun {
    let started = Instant::now();
    let profile = options.profile(&page);
    let page_loop = PageLoop {
        page: &page,
        profile: &profile,
        registry,
        options,
        cancel: None,
    };
    let mut examples: Vec<ExampleRun> = Vec::with_capacity(page.examples.len());
    let mut error = None;
    if page.errors.is_empty() && !page.examples.is_empty() {
        let opened = workdirs
            .take()
            .and_then(|workdir| open_page_process(&page, backend, options, workdir));
        match opened {
            Ok((mut process, workdir)) => {
                let mut collector = page_loop.collector(workdir.path());
                let mut hooks = CollectRuns {
                    runs: &mut examples,
                    on_example: &mut on_example,
                };
                page_loop.run_from(&mut process, 0, collector.as_mut(), &mut hooks);
                let group = process.group();
                drop(process);
                workdirs.give_back(workdir, group);
            }
            Err(message) => error = Some(message),
        }
    }
    // What did not run (a broken page, a failed setup, after a stop) is reported as such.
    for index in examples.len()..page.examples.len() {
        examples.push(ExampleRun::without_running(
            Outcome::NotRun,
            page_loop.flags(index),
        ));
    }
    PageRun {
        page,
        examples,
        error,
        duration: started.elapsed(),
        figures: Default::default(),
    }
}

/// The CLI's hooks: keep each judged run and tell the caller its outcome.
struct CollectRuns<'a, F: FnMut(usize, Outcome)> {
    runs: &'a mut Vec<ExampleRun>,
    on_example: &'a mut F,
}

impl<F: FnMut(usize, Outcome)> LoopHooks for CollectRuns<'_, F> {
    fn wants_process_before(&self, _index: usize) -> bool {
        false
    }

    fn on_example(&mut self, index: usize, _executed: Executed, run: ExampleRun) {
        (self.on_example)(index, run.outcome);
        self.runs.push(run);
    }
}

/// A page process for `page`, set up (setup code run, memory limit set) in `workdir` (empty:
/// new, or one [`Workdirs`] hands out again), or the message that says why there is none.
/// The CLI and the editor start pages only through here.
pub fn open_page_process(
    page: &Page,
    backend: &Backend,
    options: &RunOptions,
    workdir: Workdir,
) -> Result<(PageProcess, Workdir), String> {
    let (absolute, name) = page_identity(page);
    let sys_path: Vec<String> = options
        .profile(page)
        .sys_path
        .iter()
        .map(|entry| entry.to_string_lossy().into_owned())
        .collect();
    let setup = PageSetup {
        path: &absolute,
        name: &name,
        workdir: workdir.path(),
        setup_code: options.setup_code.as_deref(),
        sys_path: &sys_path,
        pytest_globals: matches!(
            options.profile(page).profile(),
            crate::engine::Profile::Pytest | crate::engine::Profile::Doctestplus
        ),
        output_cap: options.output_cap,
        memory_limit: options.memory_limit,
    };
    let process = backend
        .open_page(&setup)
        .map_err(|error| error.to_string())?;
    Ok((process, workdir))
}

/// What one example did, before it is judged. The editor keeps these to judge again after
/// an edit to expected output without running anything.
#[derive(Debug, Clone)]
pub struct Executed {
    /// The source it ran (an example whose source changed must run again).
    pub source: String,
    pub skipped: bool,
    /// Held back by the page's rules: its Sphinx group's setup failed.
    pub not_run: bool,
    /// Why it was skipped, beyond SKIP: the page said so where it was read, or the
    /// interpreter cannot import a module it requires.
    pub skip_reason: Option<String>,
    pub got: Option<String>,
    pub truncated: bool,
    /// `got` shows lone surrogates it printed as U+FFFD.
    pub lossy: bool,
    /// The exception's `exc_msg` was cut at the output cap.
    pub exception_truncated: bool,
    pub exception: Option<RaisedException>,
    /// Set for timeouts and crashes; then later examples did not run.
    pub fault: Option<(Outcome, String)>,
    pub duration: Duration,
    pub artifacts: Vec<Artifact>,
    /// In a pytest-profile page: the pytest outcome exception it raised (`pytest.skip()`).
    pub pytest_outcome: Option<PytestOutcome>,
}

/// What a front end does around the page loop.
pub trait LoopHooks {
    /// Called before example `index` runs (or is skipped), with the process in the state
    /// before it: the editor takes checkpoints here.
    fn before_example(&mut self, _index: usize, _process: &mut PageProcess) {}
    /// Whether [`LoopHooks::before_example`] needs the process in the state before example
    /// `index`: then the examples before it are not streamed past it. True unless a front
    /// end says otherwise (the CLI never needs it, and streams the whole page).
    fn wants_process_before(&self, _index: usize) -> bool {
        true
    }
    /// Called once per example, in order, with what it did and its judgement.
    fn on_example(&mut self, index: usize, executed: Executed, run: ExampleRun);
}

/// How the page loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopEnd {
    /// Every example from the start on ran (or was skipped).
    Finished,
    /// Example `at` stopped the page (a fault, or a failure under FAIL_FAST).
    Stopped {
        at: usize,
    },
    Cancelled,
}

/// The one page loop: runs a page's examples in order in one process, judging each, with
/// SKIP, FAIL_FAST and faults decided here. The CLI runs it from example 0; the editor runs
/// it from a checkpoint, with hooks that take checkpoints and a cancellation handle.
pub struct PageLoop<'a> {
    pub page: &'a Page,
    /// The page's profile (`options.profile(page)`).
    pub profile: &'a PageProfile,
    pub registry: &'a FlagRegistry,
    pub options: &'a RunOptions,
    pub cancel: Option<&'a Cancel>,
}

impl PageLoop<'_> {
    /// The flags in effect for example `index`.
    pub fn flags(&self, index: usize) -> FlagSet {
        self.profile
            .default_flags
            .merged_with(&self.page.examples[index].options)
    }

    /// Collects what examples write in `workdir`, when the options keep artifacts.
    pub fn collector(&self, workdir: &Path) -> Option<ArtifactCollector> {
        self.options
            .artifacts_dir
            .as_ref()
            .map(|dir| ArtifactCollector::new(workdir, dir, &self.artifact_key()))
    }

    /// The page's path from the project root when it is inside it, else as given.
    fn artifact_key(&self) -> String {
        let page = Path::new(&self.page.path);
        let absolute = std::fs::canonicalize(page).unwrap_or_else(|_| page.to_path_buf());
        let root = std::fs::canonicalize(&self.options.project_root)
            .unwrap_or_else(|_| self.options.project_root.clone());
        absolute
            .strip_prefix(&root)
            .ok()
            .filter(|relative| !relative.as_os_str().is_empty())
            .map_or_else(
                || self.page.path.clone(),
                |relative| relative.to_string_lossy().into_owned(),
            )
    }

    /// Runs examples `start..` in `process`, which holds the state before example `start`.
    pub fn run_from(
        &self,
        process: &mut PageProcess,
        start: usize,
        collector: Option<&mut ArtifactCollector>,
        hooks: &mut dyn LoopHooks,
    ) -> LoopEnd {
        self.run_from_after(process, start, &[], collector, hooks)
    }

    /// The Sphinx groups whose setup failed in `earlier` (what examples `0..` did), whose
    /// later tests and cleanup must not run: for resuming after them.
    pub fn failed_setups(&self, earlier: &[Executed]) -> Vec<String> {
        let mut failed = Vec::new();
        for (index, (example, done)) in self.page.examples.iter().zip(earlier).enumerate() {
            if example.run.role != ExampleRole::Setup || done.source != example.source {
                continue;
            }
            let run = judge_executed(example, self.flags(index), done, self.registry);
            if let (Outcome::Failed, Some(group)) = (run.outcome, &example.run.group)
                && !failed.contains(group)
            {
                failed.push(group.clone());
            }
        }
        failed
    }

    /// [`PageLoop::run_from`], resuming after examples whose setups left `failed_setups`
    /// (see [`PageLoop::failed_setups`]).
    pub fn run_from_after(
        &self,
        process: &mut PageProcess,
        start: usize,
        failed_setups: &[String],
        mut collector: Option<&mut ArtifactCollector>,
        hooks: &mut dyn LoopHooks,
    ) -> LoopEnd {
        // Sphinx groups whose setup failed: their tests and cleanup do not run.
        let mut failed_setups: Vec<&str> = failed_setups.iter().map(String::as_str).collect();
        let mut next = start;
        while next < self.page.examples.len() {
            if self.cancel.is_some_and(Cancel::is_cancelled) {
                return LoopEnd::Cancelled;
            }
            let segment = self.plan_segment(next, process, &failed_setups, &*hooks);
            match self.run_segment(
                process,
                segment,
                &mut failed_setups,
                collector.as_deref_mut(),
                hooks,
            ) {
                SegmentEnd::Next(index) => next = index,
                SegmentEnd::Loop(end) => return end,
            }
        }
        LoopEnd::Finished
    }
}

impl PageLoop<'_> {
    /// Whether the example's Sphinx `:skipif:` condition holds (false without one); a
    /// condition that raises is a crash of the example, as it stops `sphinx-build`.
    pub(super) fn skip_condition_holds(
        &self,
        process: &mut PageProcess,
        example: &Example,
    ) -> Result<bool, Fault> {
        let Some(condition) = &example.run.skip_if else {
            return Ok(false);
        };
        match process.evaluate(
            &condition.expression,
            &condition.setup,
            &condition.cleanup,
            self.options.timeout,
        )? {
            Ok(value) => Ok(value),
            Err(traceback) => Err(Fault::Aborted(format!(
                "its :skipif: condition {:?} raised (sphinx-build stops with this error):\n{}",
                condition.expression,
                traceback.trim_end()
            ))),
        }
    }
}

/// False when the example's Sphinx `:pyversion:` excludes the page's interpreter (then it
/// is skipped, as the builder sets SKIP).
pub(super) fn python_version_allowed(example: &Example, process: &PageProcess) -> bool {
    example.run.python_versions.as_deref().is_none_or(|spec| {
        VersionSpec::parse(spec).map_or(true, |spec| spec.allows(process.python_version()))
    })
}

impl Executed {
    /// An example the page's rules kept from running (its Sphinx group's setup failed).
    pub(super) fn held_back(example: &Example) -> Executed {
        Executed {
            source: example.source.clone(),
            skipped: false,
            not_run: true,
            skip_reason: None,
            got: None,
            truncated: false,
            lossy: false,
            exception_truncated: false,
            exception: None,
            fault: None,
            duration: Duration::ZERO,
            artifacts: Vec::new(),
            pytest_outcome: None,
        }
    }
}

/// Judges what an example did: the one place a run becomes an outcome.
pub fn judge_executed(
    example: &Example,
    flags: FlagSet,
    done: &Executed,
    registry: &FlagRegistry,
) -> ExampleRun {
    if let Some((outcome, message)) = &done.fault {
        return ExampleRun {
            fault: Some(message.clone()),
            duration: done.duration,
            artifacts: done.artifacts.clone(),
            ..ExampleRun::without_running(*outcome, flags)
        };
    }
    if done.skipped {
        return ExampleRun {
            skip_reason: done.skip_reason.clone(),
            ..ExampleRun::without_running(Outcome::Skipped, flags)
        };
    }
    if done.not_run {
        return ExampleRun::without_running(Outcome::NotRun, flags);
    }
    let got = done.got.clone().unwrap_or_default();
    let exc_msg = done
        .exception
        .as_ref()
        .map(|exception| exception.exc_msg.as_str());
    // `got` and `exc_msg` only stand for what was printed and raised when they were cut or
    // held lone surrogates: the verdict must hold for what really was.
    let unsure_got = inexact_got(&got, done, &example.want);
    let unsure_exc_msg = exc_msg
        .filter(|_| done.exception_truncated)
        .map(|exc_msg| format!("{exc_msg}{NOTHING_EXPECTS}\n"));
    let judgement = judge(
        example,
        unsure_got.as_deref().unwrap_or(&got),
        unsure_exc_msg.as_deref().or(exc_msg),
        flags,
        registry,
    );
    // pytest re-raises its outcome exceptions: whatever the expected output, a skip (or an
    // expected failure) skips the example and a `pytest.fail()` fails it.
    let (outcome, skip_reason) = match done.pytest_outcome.as_ref() {
        Some(raised) if raised.ends_as_skip() => (Outcome::Skipped, Some(raised.skip_reason())),
        Some(_) => (Outcome::Failed, None),
        None if judgement.passed => (Outcome::Passed, None),
        None => (Outcome::Failed, None),
    };
    ExampleRun {
        outcome,
        skip_reason,
        flags,
        got: Some(got),
        truncated: done.truncated,
        lossy: done.lossy,
        exception: done.exception.clone(),
        judgement: Some(judgement),
        fault: None,
        duration: done.duration,
        artifacts: done.artifacts.clone(),
    }
}

/// A character no expected output holds (a noncharacter): what stands for the unknown.
const NOTHING_EXPECTS: char = '\u{FFFF}';

/// What to judge instead of `got` when it is not exactly what the example printed, so that
/// it passes only where CPython's doctest, comparing the real output, would pass too:
/// - cut at the output cap: followed by a line nothing expects, the unknown rest, for a
///   pass must hold whatever followed the cut (an expected output ending in `...` under ELLIPSIS, or any
///   output passing, still passes; an exact comparison does not);
/// - lone surrogates sent as U+FFFD, when the expected output has U+FFFD: with those as a
///   noncharacter, for CPython's surrogate matches no character of a UTF-8 page.
fn inexact_got(got: &str, done: &Executed, want: &str) -> Option<String> {
    let mut unsure = None;
    if done.lossy && want.contains('\u{FFFD}') {
        unsure = Some(got.replace('\u{FFFD}', &NOTHING_EXPECTS.to_string()));
    }
    if done.truncated {
        let mut cut = unsure.unwrap_or_else(|| got.to_owned());
        cut.push(NOTHING_EXPECTS);
        cut.push('\n');
        unsure = Some(cut);
    }
    unsure
}

/// The run of an example after one that raised `pytest.skip()`: skipped with its reason.
pub fn skipped_after(flags: FlagSet, reason: &str) -> ExampleRun {
    ExampleRun {
        skip_reason: Some(reason.to_owned()),
        ..ExampleRun::without_running(Outcome::Skipped, flags)
    }
}

/// The reason the rest of a page is skipped, when this example raised `pytest.skip()`.
pub fn skips_rest(run: &ExampleRun, done: &Executed) -> Option<String> {
    done.pytest_outcome
        .as_ref()
        .filter(|raised| raised.ends_as_skip())
        .and(run.skip_reason.clone())
}

/// True when no example after this one runs: a timeout or crash, or a failure under
/// FAIL_FAST or in a profile that stops at the first failure (pytest's).
pub fn stops_page(run: &ExampleRun, profile: &PageProfile) -> bool {
    run.fault.is_some()
        || (run.outcome == Outcome::Failed
            && (run.flags.contains(Flag::FAIL_FAST) || profile.stop_at_first_failure))
}

/// The page's results judged now from what its examples did (`executed[i]` for example i,
/// ignored where its source is not the example's any more): `None` for examples that have
/// not run (yet), not-run after an example that stopped the page.
pub fn judge_page(
    page: &Page,
    executed: &[Executed],
    profile: &PageProfile,
    registry: &FlagRegistry,
) -> Vec<Option<ExampleRun>> {
    let mut stopped = false;
    let mut skipping: Option<String> = None;
    page.examples
        .iter()
        .enumerate()
        .map(|(index, example)| {
            let flags = profile.default_flags.merged_with(&example.options);
            if stopped {
                return Some(ExampleRun::without_running(Outcome::NotRun, flags));
            }
            if let Some(reason) = &skipping {
                return Some(skipped_after(flags, reason));
            }
            let done = executed
                .get(index)
                .filter(|done| done.source == example.source)?;
            let run = judge_executed(example, flags, done, registry);
            stopped = stops_page(&run, profile);
            skipping = skips_rest(&run, done);
            Some(run)
        })
        .collect()
}

/// What `__file__` and `<doctest NAME[i]>` say for a page: its absolute path and file name.
pub fn page_identity(page: &Page) -> (String, String) {
    let absolute = std::fs::canonicalize(&page.path).unwrap_or_else(|_| PathBuf::from(&page.path));
    let name = Path::new(&page.path).file_name().map_or_else(
        || page.path.clone(),
        |name| name.to_string_lossy().into_owned(),
    );
    (absolute.to_string_lossy().into_owned(), name)
}

/// A fault as the outcome it gives its example, and the message for people.
pub fn fault_outcome(fault: &Fault, timeout: Duration) -> (Outcome, String) {
    match fault {
        Fault::Timeout => (
            Outcome::Timeout,
            format!("timed out after {}", format_duration(timeout)),
        ),
        other => (Outcome::Crashed, other.to_string()),
    }
}

/// "30 s", "1.5 s", "250 ms", "0.3 ms".
pub fn format_duration(duration: Duration) -> String {
    if duration >= Duration::from_secs(1) {
        let seconds = duration.as_secs_f64();
        if seconds.fract() == 0.0 {
            format!("{seconds:.0} s")
        } else {
            format!("{seconds:.1} s")
        }
    } else if duration >= Duration::from_millis(10) {
        format!("{} ms", duration.as_millis())
    } else {
        format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
    }
}
