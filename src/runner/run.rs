//! Running pages: each page in its own process from the backend, examples in order, each
//! judged by the engine, with faults turned into outcomes. Pages run in parallel (longest
//! first); events reach the caller on its own thread, in the order they happen.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::backend::{Backend, Fault, PageSetup, RaisedException};
use crate::engine::judge::{Judgement, judge};
use crate::engine::{Flag, FlagRegistry, FlagSet, Page};

use super::artifacts::{Artifact, ArtifactCollector};

/// How a run is done.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Pages run at once.
    pub jobs: usize,
    /// Longest an example may run.
    pub timeout: Duration,
    /// Flags in effect for every example before its own directives (`-o`, `optionflags`).
    pub default_flags: FlagSet,
    /// Output kept per example, in characters.
    pub output_cap: usize,
    /// Address-space limit per page process, in bytes.
    pub memory_limit: Option<u64>,
    /// Code run in each page's globals before its first example.
    pub setup_code: Option<String>,
    /// Where files that examples write are copied; `None` to keep none.
    pub artifacts_dir: Option<PathBuf>,
}

/// What happened to one example.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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
    pub exception: Option<RaisedException>,
    /// Why it passed or failed, when it was judged.
    pub judgement: Option<Judgement>,
    /// What went wrong with the interpreter, for timeouts and crashes.
    pub fault: Option<String>,
    pub duration: Duration,
    pub artifacts: Vec<Artifact>,
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
            exception: None,
            judgement: None,
            fault: None,
            duration: Duration::ZERO,
            artifacts: Vec::new(),
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
/// event. Pages without examples are not run; pages with parse errors are reported as
/// errors and not run, as `DocFileSuite` cannot load them.
pub fn run_pages(
    pages: Vec<Page>,
    backend: &Backend,
    registry: &FlagRegistry,
    options: &RunOptions,
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
        for _ in 0..options.jobs.max(1) {
            let sender = sender.clone();
            let (queue, pages) = (&queue, &pages);
            scope.spawn(move || {
                while let Some(index) = queue.lock().ok().and_then(|mut queue| queue.pop_front()) {
                    let Some(page) = pages[index].lock().ok().and_then(|mut page| page.take())
                    else {
                        continue;
                    };
                    let _ = sender.send(RunEvent::PageStarted { index });
                    let run = run_page(page, backend, registry, options, |example, outcome| {
                        let _ = sender.send(RunEvent::ExampleFinished {
                            page: index,
                            example,
                            outcome,
                        });
                    });
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

/// Runs one page's examples in a fresh process and directory.
pub fn run_page(
    page: Page,
    backend: &Backend,
    registry: &FlagRegistry,
    options: &RunOptions,
    mut on_example: impl FnMut(usize, Outcome),
) -> PageRun {
    let started = Instant::now();
    let flags_of = |index: usize| {
        options
            .default_flags
            .merged_with(&page.examples[index].options)
    };
    let mut examples: Vec<ExampleRun> = Vec::with_capacity(page.examples.len());
    let finish = |examples: Vec<ExampleRun>, error: Option<String>, page: Page| PageRun {
        page,
        examples,
        error,
        duration: started.elapsed(),
    };
    if !page.errors.is_empty() || page.examples.is_empty() {
        let examples = (0..page.examples.len())
            .map(|index| ExampleRun::without_running(Outcome::NotRun, flags_of(index)))
            .collect();
        return finish(examples, None, page);
    }
    let workdir = match tempfile::Builder::new()
        .prefix("objgraph-doctest-page-")
        .tempdir()
    {
        Ok(dir) => dir,
        Err(error) => {
            let examples = not_run_from(&page, 0, &flags_of);
            return finish(
                examples,
                Some(format!("cannot create a working directory: {error}")),
                page,
            );
        }
    };
    let (absolute, name) = page_identity(&page);
    let setup = PageSetup {
        path: &absolute,
        name: &name,
        workdir: workdir.path(),
        setup_code: options.setup_code.as_deref(),
        output_cap: options.output_cap,
        memory_limit: options.memory_limit,
    };
    let mut process = match backend.open_page(&setup) {
        Ok(process) => process,
        Err(error) => {
            let examples = not_run_from(&page, 0, &flags_of);
            return finish(examples, Some(error.to_string()), page);
        }
    };
    let mut collector = options
        .artifacts_dir
        .as_ref()
        .map(|dir| ArtifactCollector::new(workdir.path(), dir, &page.path));
    let mut stopped = false;
    for (index, example) in page.examples.iter().enumerate() {
        let flags = flags_of(index);
        let run = if stopped {
            ExampleRun::without_running(Outcome::NotRun, flags)
        } else if flags.contains(Flag::SKIP) {
            ExampleRun::without_running(Outcome::Skipped, flags)
        } else {
            let ran = Instant::now();
            let mut run = match process.run(index, &example.source, options.timeout) {
                Ok(result) => {
                    let judgement = judge(
                        example,
                        &result.got,
                        result
                            .exception
                            .as_ref()
                            .map(|exception| exception.exc_msg.as_str()),
                        flags,
                        registry,
                    );
                    ExampleRun {
                        outcome: if judgement.passed {
                            Outcome::Passed
                        } else {
                            Outcome::Failed
                        },
                        flags,
                        got: Some(result.got),
                        truncated: result.truncated,
                        exception: result.exception,
                        judgement: Some(judgement),
                        fault: None,
                        duration: Duration::from_nanos(result.duration_ns),
                        artifacts: Vec::new(),
                    }
                }
                Err(fault) => {
                    stopped = true;
                    let (outcome, message) = fault_outcome(&fault, options.timeout);
                    ExampleRun {
                        fault: Some(message),
                        duration: ran.elapsed(),
                        ..ExampleRun::without_running(outcome, flags)
                    }
                }
            };
            if let Some(collector) = collector.as_mut() {
                run.artifacts = collector.collect(example.span.line);
            }
            if run.outcome == Outcome::Failed && flags.contains(Flag::FAIL_FAST) {
                stopped = true;
            }
            run
        };
        on_example(index, run.outcome);
        examples.push(run);
    }
    drop(process);
    finish(examples, None, page)
}

fn not_run_from(page: &Page, start: usize, flags_of: &dyn Fn(usize) -> FlagSet) -> Vec<ExampleRun> {
    (start..page.examples.len())
        .map(|index| ExampleRun::without_running(Outcome::NotRun, flags_of(index)))
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
