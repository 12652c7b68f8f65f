//! Streaming a page's examples: the page loop ([`PageLoop`]) cuts the page into segments,
//! sends each segment's examples to the page process in one write, and judges the results
//! as they arrive, one line each.
//!
//! A segment ends where the process must be in the state before an example: where the
//! loop's hooks want it (the editor's checkpoints) and before a Sphinx `:skipif:` condition,
//! evaluated in that state. Inside a segment nothing runs that must not: an example whose
//! verdict may stop the page or change what runs next (FAIL_FAST, a profile that stops at
//! its first failure, a Sphinx group's setup) is sent with `hold`, and unless it surely
//! passed (its output is the one the engine says passes) the process waits after it for our
//! word; pytest's outcome exceptions and files written into the working directory hold it
//! too (the driver decides those), so that what an example wrote is collected before the
//! next one runs. The deadline of each example runs from the result before it.

use std::time::{Duration, Instant};

use crate::backend::worker::{RunExtras, StreamedExample};
use crate::backend::{ExampleResult, Fault, PageProcess};
use crate::engine::judge::judge;
use crate::engine::page::{CompileMode, ExampleRole};
use crate::engine::{Example, Flag, FlagSet};

use super::artifacts::ArtifactCollector;
use super::run::{
    Cancel, Executed, LoopEnd, LoopHooks, Outcome, PageLoop, fault_outcome, judge_executed,
    python_version_allowed, skipped_after, skips_rest, stops_page,
};

/// What one example of a segment is.
enum Step {
    /// Decided here without running: skipped, or held back by a failed Sphinx setup.
    Decided(Box<Executed>),
    /// Sent to the page process.
    Sent,
    /// Its Sphinx `:skipif:` condition is evaluated first (only a segment's first step).
    Conditional,
}

/// A run of consecutive examples, from `start`.
pub(super) struct Segment {
    start: usize,
    steps: Vec<Step>,
}

/// Where the page loop goes after a segment.
pub(super) enum SegmentEnd {
    /// On, from this example.
    Next(usize),
    /// The loop is over.
    Loop(LoopEnd),
}

impl PageLoop<'_> {
    /// The examples from `start` that can be streamed together.
    pub(super) fn plan_segment(
        &self,
        start: usize,
        process: &PageProcess,
        failed_setups: &[&str],
        hooks: &dyn LoopHooks,
    ) -> Segment {
        let mut steps = Vec::new();
        for (index, example) in self.page.examples.iter().enumerate().skip(start) {
            if index > start && hooks.wants_process_before(index) {
                break;
            }
            let flags = self.flags(index);
            let held_back = example.run.role != ExampleRole::Setup
                && example
                    .run
                    .group
                    .as_deref()
                    .is_some_and(|group| failed_setups.contains(&group));
            let step = if held_back {
                Step::Decided(Box::new(Executed::held_back(example)))
            } else if flags.contains(Flag::SKIP)
                || example.run.skip_reason.is_some()
                || !python_version_allowed(example, process)
            {
                Step::Decided(Box::new(Executed {
                    skipped: true,
                    skip_reason: example.run.skip_reason.clone(),
                    not_run: false,
                    ..Executed::held_back(example)
                }))
            } else if example.run.skip_if.is_some() {
                if index > start {
                    break;
                }
                Step::Conditional
            } else {
                Step::Sent
            };
            steps.push(step);
        }
        Segment { start, steps }
    }

    /// Runs a segment: its examples streamed, their results judged as they arrive.
    pub(super) fn run_segment<'p>(
        &'p self,
        process: &mut PageProcess,
        segment: Segment,
        failed_setups: &mut Vec<&'p str>,
        collector: Option<&mut ArtifactCollector>,
        hooks: &mut dyn LoopHooks,
    ) -> SegmentEnd {
        if hooks.wants_process_before(segment.start) {
            hooks.before_example(segment.start, process);
        }
        let runs_code = segment
            .steps
            .iter()
            .any(|step| !matches!(step, Step::Decided(_)));
        if runs_code
            && let Some(cancel) = self.cancel
            && !cancel.start_running(process.pid())
        {
            return SegmentEnd::Loop(LoopEnd::Cancelled);
        }
        let end = self.stream_segment(process, segment, failed_setups, collector, hooks);
        if runs_code && let Some(cancel) = self.cancel {
            cancel.stop_running();
        }
        end
    }

    fn stream_segment<'p>(
        &'p self,
        process: &mut PageProcess,
        mut segment: Segment,
        failed_setups: &mut Vec<&'p str>,
        mut collector: Option<&mut ArtifactCollector>,
        hooks: &mut dyn LoopHooks,
    ) -> SegmentEnd {
        let start = segment.start;
        if let Some(first) = segment.steps.first_mut()
            && matches!(first, Step::Conditional)
        {
            let example = &self.page.examples[start];
            *first = match self.skip_condition_holds(process, example) {
                Ok(false) => Step::Sent,
                Ok(true) => Step::Decided(Box::new(Executed {
                    skipped: true,
                    not_run: false,
                    ..Executed::held_back(example)
                })),
                Err(fault) => Step::Decided(Box::new(self.faulted(
                    example,
                    &fault,
                    Duration::ZERO,
                    None,
                ))),
            };
        }
        // `None`: sent to the process.
        let steps: Vec<Option<Executed>> = segment
            .steps
            .into_iter()
            .map(|step| match step {
                Step::Decided(executed) => Some(*executed),
                Step::Sent | Step::Conditional => None,
            })
            .collect();
        let after = start + steps.len();
        let sent: Vec<StreamedExample<'_>> = steps
            .iter()
            .enumerate()
            .filter(|(_, step)| step.is_none())
            .map(|(offset, _)| self.streamed(start + offset))
            .collect();
        let mut pending = sent.len();
        let mut failure = None;
        if pending > 0
            && let Err(fault) = process.start_stream(&sent, collector.is_some())
        {
            failure = Some(fault);
        }
        drop(sent);
        // When the example due now began: the stream's start, then each result.
        let mut began = Instant::now();
        for (offset, step) in steps.into_iter().enumerate() {
            let index = start + offset;
            let example = &self.page.examples[index];
            let flags = self.flags(index);
            let (executed, held) = match step {
                Some(executed) => (executed, false),
                None => {
                    pending -= 1;
                    let result = match failure.take() {
                        Some(fault) => Err(fault),
                        None => process.next_result(index, self.options.timeout),
                    };
                    let took = began.elapsed();
                    began = Instant::now();
                    match result {
                        Ok(result) => {
                            let held = result.held;
                            (
                                self.executed(example, result, collector.as_deref_mut()),
                                held,
                            )
                        }
                        Err(fault) => {
                            let executed =
                                self.faulted(example, &fault, took, collector.as_deref_mut());
                            (executed, false)
                        }
                    }
                }
            };
            if self.cancel.is_some_and(Cancel::is_cancelled) {
                // The process was killed under it: what it reports is not the example's.
                return SegmentEnd::Loop(LoopEnd::Cancelled);
            }
            let run = judge_executed(example, flags, &executed, self.registry);
            let stop = stops_page(&run, self.profile);
            let failed_setup = (example.run.role == ExampleRole::Setup
                && run.outcome == Outcome::Failed)
                .then_some(example.run.group.as_deref())
                .flatten();
            let skip_rest = skips_rest(&run, &executed);
            let go_on = !stop && skip_rest.is_none() && failed_setup.is_none();
            if held {
                // A word that cannot be sent means the process is gone: the next result
                // says how.
                let _ = process.release_hold(go_on);
            }
            hooks.on_example(index, executed, run);
            if let Some(reason) = skip_rest {
                // pytest.skip() ends the doctest item: the rest of the page is skipped.
                for (later, example) in self.page.examples.iter().enumerate().skip(index + 1) {
                    let executed = Executed {
                        skipped: true,
                        not_run: false,
                        skip_reason: Some(reason.clone()),
                        ..Executed::held_back(example)
                    };
                    hooks.on_example(later, executed, skipped_after(self.flags(later), &reason));
                }
                return SegmentEnd::Loop(LoopEnd::Finished);
            }
            if stop {
                return SegmentEnd::Loop(LoopEnd::Stopped { at: index });
            }
            if let Some(group) = failed_setup {
                // Its group's later examples are held back: planned again without them.
                failed_setups.push(group);
                if pending > 0 {
                    return SegmentEnd::Next(index + 1);
                }
            }
        }
        SegmentEnd::Next(after)
    }

    /// The request for example `index`, with `hold` when its verdict may stop the page or
    /// change what runs next, and the output that surely passes when there is one.
    fn streamed(&self, index: usize) -> StreamedExample<'_> {
        let example = &self.page.examples[index];
        let flags = self.flags(index);
        let hold = flags.contains(Flag::FAIL_FAST)
            || self.profile.stop_at_first_failure
            || (example.run.role == ExampleRole::Setup && example.run.group.is_some());
        StreamedExample {
            index,
            source: &example.source,
            extras: RunExtras {
                group: example.run.group.as_deref(),
                mode: (example.run.mode == CompileMode::Exec).then_some("exec"),
                requires: &example.run.requires,
                warnings: example.run.warnings,
                doctest_name: example.run.doctest_name.as_deref(),
            },
            want: (hold && self.surely_passes_with_want(example, flags))
                .then_some(example.want.as_str()),
            hold,
        }
    }

    /// Whether output equal to the example's `want`, with nothing raised, passes: then the
    /// page process can tell a pass without us (the engine decides, not the driver).
    fn surely_passes_with_want(&self, example: &Example, flags: FlagSet) -> bool {
        example.exc_msg.is_none()
            && judge(example, &example.want, None, flags, self.registry).passed
    }

    /// What a streamed example did, with the files it wrote when the driver saw a change
    /// (or could not tell).
    fn executed(
        &self,
        example: &Example,
        result: ExampleResult,
        collector: Option<&mut ArtifactCollector>,
    ) -> Executed {
        let mut executed = Executed::held_back(example);
        executed.not_run = false;
        if let Some(reason) = result.skipped {
            executed.skipped = true;
            executed.skip_reason = Some(reason);
            return executed;
        }
        executed.got = Some(result.got);
        executed.truncated = result.truncated;
        executed.lossy = result.lossy;
        executed.exception_truncated = result.exception_truncated;
        executed.exception = result.exception;
        executed.duration = Duration::from_nanos(result.duration_ns);
        executed.pytest_outcome = result.pytest_outcome;
        if let Some(collector) = collector
            && result.files_changed != Some(false)
        {
            executed.artifacts = collector.collect(example.span.line);
        }
        executed
    }

    /// An example that ran into a fault (a timeout, a crash), with what it wrote.
    fn faulted(
        &self,
        example: &Example,
        fault: &Fault,
        took: Duration,
        collector: Option<&mut ArtifactCollector>,
    ) -> Executed {
        let mut executed = Executed::held_back(example);
        executed.not_run = false;
        executed.fault = Some(fault_outcome(fault, self.options.timeout));
        executed.duration = took;
        if let Some(collector) = collector {
            executed.artifacts = collector.collect(example.span.line);
        }
        executed
    }
}
