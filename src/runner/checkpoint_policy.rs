//! Where the editor keeps checkpoints of a page's interpreter: one pure function,
//! [`plan_checkpoints`], decides before each live run which checkpoint to resume from,
//! which to end (stale or evicted) and where to take new ones.
//!
//! The constraint it plans around: checkpoints form a chain of processes
//! (`backend/checkpoint.rs`). The runner resumed from checkpoint k is k's child, and a
//! checkpoint taken by that runner is the runner itself, paused, so every checkpoint that
//! still describes the page is an ancestor of the later ones, and each dies with its parent.
//! Ending one in the middle therefore ends every later one (and a runner started from them).
//! So the plan never ends a checkpoint it keeps a later one of: it keeps a *prefix* of the
//! chain (up to the checkpoint it resumes from) and ends the rest. Eviction is choosing a
//! shorter prefix: resuming a little earlier now, to have free slots for well-spaced
//! checkpoints along the rest of the page, instead of refusing new checkpoints once the cap
//! is reached.
//!
//! The choice is made by cost, in examples run: this run's length (`examples - resume`) plus
//! the expected length of the next run, for a next edit that is half the time the example
//! just edited again and half the time anywhere on the page. New checkpoints go at the
//! edited example (where edits come again) and evenly along the rest of the page.
//!
//! Checkpoints are bounded by count ([`CheckpointBudget::count`]) and by memory
//! ([`CheckpointBudget::memory`]): the private memory each paused interpreter holds (what
//! its descendants changed since it forked, measured by the caller), with the average of the
//! measured ones (or [`ESTIMATED_CHECKPOINT_BYTES`]) for the ones not measured yet. Since
//! checkpoints grow while their descendants run, the caller measures again after each run
//! and ends the tail that no longer fits ([`over_budget`]).

/// How many later runs a plan is judged over. Edits come in streams at one example (typing,
/// fixing one output), so a checkpoint at the edited example pays off over several runs; a
/// one-run horizon never evicts to make room for it, and every edit of the last example of
/// a page whose slots are full re-runs a whole spacing of examples.
const NEXT_RUNS: u64 = 3;

/// What a checkpoint is assumed to cost before one was measured: 32 MiB.
pub const ESTIMATED_CHECKPOINT_BYTES: u64 = 32 * 1024 * 1024;

/// How many checkpoints a document may keep, and how much memory they may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointBudget {
    pub count: usize,
    /// Bytes of private memory, summed over the document's checkpoints.
    pub memory: u64,
}

/// One checkpoint that exists: the state before example `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExistingCheckpoint {
    pub before: usize,
    /// Its private memory in bytes, when it could be measured.
    pub private_bytes: Option<u64>,
}

/// The decision for one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointPlan {
    /// The checkpoint to resume from; `None` starts a fresh process at example 0.
    pub resume_from: Option<usize>,
    /// Existing checkpoints to end: the stale ones (after the first stale example) and the
    /// evicted ones (after `resume_from`). Always every checkpoint after `resume_from`.
    pub evict: Vec<usize>,
    /// Examples before which the run takes a checkpoint, ascending, all after the resume
    /// point.
    pub take: Vec<usize>,
}

/// Plans a run that must re-run example `first_stale` and everything after it on a page of
/// `examples` examples, given the checkpoints that exist (`existing`, ascending, a chain as
/// the module docs say) and the budget.
pub fn plan_checkpoints(
    examples: usize,
    existing: &[ExistingCheckpoint],
    first_stale: usize,
    budget: CheckpointBudget,
) -> CheckpointPlan {
    let stale = first_stale.min(examples);
    // A checkpoint before example k depends only on examples before k: those at or before
    // the first stale example still describe the page.
    let valid: Vec<ExistingCheckpoint> = existing
        .iter()
        .copied()
        .filter(|checkpoint| checkpoint.before > 0 && checkpoint.before <= stale)
        .collect();
    let measured: Vec<u64> = existing.iter().filter_map(|c| c.private_bytes).collect();
    let estimate = if measured.is_empty() {
        ESTIMATED_CHECKPOINT_BYTES
    } else {
        (measured.iter().sum::<u64>() / measured.len() as u64).max(1024 * 1024)
    };
    let cost_of = |checkpoint: &ExistingCheckpoint| checkpoint.private_bytes.unwrap_or(estimate);

    // Candidates: keep the first `kept` valid checkpoints (0 = a fresh process), deepest first,
    // so that among equal costs the one that ends the fewest checkpoints wins.
    let mut best: Option<(u64, usize, Vec<usize>)> = None;
    for kept in (0..=valid.len()).rev() {
        let prefix = &valid[..kept];
        let memory: u64 = prefix.iter().map(cost_of).sum();
        if kept > 0 && (kept > budget.count || memory > budget.memory) {
            continue;
        }
        let free_by_count = budget.count.saturating_sub(kept);
        let free_by_memory =
            usize::try_from(budget.memory.saturating_sub(memory) / estimate).unwrap_or(usize::MAX);
        let resume = prefix.last().map_or(0, |checkpoint| checkpoint.before);
        let free = free_by_count.min(free_by_memory);
        // With a checkpoint at the edited example, or all of them spread out. One at the
        // edit less than half a spacing after the resume point saves little and would hold
        // a slot for good (edits nearby pile checkpoints up there): not considered.
        let spacing = examples.div_ceil(budget.count.max(1));
        let worth_one_at_edit = stale >= resume + spacing.div_ceil(2);
        for at_edit in [true, false] {
            if at_edit && !worth_one_at_edit {
                continue;
            }
            let take = placements(resume, at_edit.then_some(stale), examples, free);
            let mut positions: Vec<usize> = prefix.iter().map(|c| c.before).collect();
            positions.extend(&take);
            let cost = (examples - resume.min(examples)) as u64 * 2
                + NEXT_RUNS * next_run_cost(&positions, stale, examples);
            if best.as_ref().is_none_or(|(lowest, _, _)| cost < *lowest) {
                best = Some((cost, kept, take));
            }
        }
    }
    let (_, kept, take) = best.unwrap_or_default();
    let resume_from = kept.checked_sub(1).map(|last| valid[last].before);
    let evict = existing
        .iter()
        .map(|checkpoint| checkpoint.before)
        .filter(|&before| resume_from.is_none_or(|resume| before > resume))
        .collect();
    CheckpointPlan {
        resume_from,
        evict,
        take,
    }
}

/// The checkpoints to end after a run so that the rest fit the budget: checkpoints grow
/// while their descendants run (pages they shared become theirs alone), so a run can leave
/// more than the plan foresaw. The longest prefix of the chain that fits is kept, the tail
/// is ended (ending a checkpoint ends the later ones anyway).
pub fn over_budget(existing: &[ExistingCheckpoint], budget: CheckpointBudget) -> Vec<usize> {
    let mut total = 0u64;
    let mut kept = 0;
    for checkpoint in existing {
        total = total.saturating_add(
            checkpoint
                .private_bytes
                .unwrap_or(ESTIMATED_CHECKPOINT_BYTES),
        );
        if kept == budget.count || total > budget.memory {
            break;
        }
        kept += 1;
    }
    existing[kept..]
        .iter()
        .map(|checkpoint| checkpoint.before)
        .collect()
}

/// Up to `free` positions in `resume+1..examples` for new checkpoints: the edited example
/// (if given), then evenly along the rest of the page.
fn placements(resume: usize, edited: Option<usize>, examples: usize, free: usize) -> Vec<usize> {
    let mut take = Vec::new();
    if free == 0 || resume + 1 >= examples {
        return take;
    }
    if let Some(edited) = edited
        && edited > resume
        && edited < examples
    {
        take.push(edited);
    }
    let spaced = free - take.len();
    let span = examples - resume;
    for slot in 1..=spaced {
        let position = resume + (slot * span).div_ceil(spaced + 1);
        if position > resume && position < examples && !take.contains(&position) {
            take.push(position);
        }
    }
    take.sort_unstable();
    take
}

/// The expected length of the next run, doubled (to stay in integers): for a next edit at
/// the example just edited (half the time) or anywhere on the page (the other half), the run
/// goes from the nearest checkpoint at or before it to the end.
fn next_run_cost(positions: &[usize], edited: usize, examples: usize) -> u64 {
    if examples == 0 {
        return 0;
    }
    let run_from = |edit: usize| {
        let nearest = positions
            .iter()
            .copied()
            .filter(|&position| position <= edit)
            .max()
            .unwrap_or(0);
        (examples - nearest) as u64
    };
    let same_again = run_from(edited.min(examples - 1));
    let anywhere: u64 = (0..examples).map(run_from).sum::<u64>() / examples as u64;
    same_again + anywhere
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: CheckpointBudget = CheckpointBudget {
        count: 8,
        memory: 512 * 1024 * 1024,
    };

    fn existing(positions: &[usize]) -> Vec<ExistingCheckpoint> {
        positions
            .iter()
            .map(|&before| ExistingCheckpoint {
                before,
                private_bytes: Some(4 * 1024 * 1024),
            })
            .collect()
    }

    /// Applies a plan as a completed run would: the kept prefix plus what it took.
    fn after(plan: &CheckpointPlan, before: &[usize]) -> Vec<usize> {
        let mut positions: Vec<usize> = before
            .iter()
            .copied()
            .filter(|position| !plan.evict.contains(position))
            .collect();
        positions.extend(&plan.take);
        positions.sort_unstable();
        positions
    }

    /// Runs a stream of edits; returns how many examples each edit re-ran.
    fn stream(examples: usize, edits: &[usize], budget: CheckpointBudget) -> Vec<usize> {
        let mut positions = Vec::new();
        let mut reruns = Vec::new();
        for &edit in edits {
            let plan = plan_checkpoints(examples, &existing(&positions), edit, budget);
            assert!(plan.resume_from.is_none_or(|resume| resume <= edit));
            let resume = plan.resume_from.unwrap_or(0);
            reruns.push(examples - resume);
            positions = after(&plan, &positions);
            assert!(positions.len() <= budget.count, "{positions:?}");
            assert!(plan.take.iter().all(|&position| position > resume));
            // Only a suffix of the chain is ever ended: what is kept is a prefix.
            assert!(plan.evict.iter().all(|&evicted| {
                positions
                    .iter()
                    .all(|&kept| kept < evicted || plan.take.contains(&kept))
            }));
        }
        reruns
    }

    #[test]
    fn table() {
        struct Case {
            name: &'static str,
            examples: usize,
            existing: &'static [usize],
            first_stale: usize,
            resume_from: Option<usize>,
            evict: &'static [usize],
            take: &'static [usize],
        }
        let cases = [
            Case {
                name: "first run: evenly along the page",
                examples: 60,
                existing: &[],
                first_stale: 0,
                resume_from: None,
                evict: &[],
                take: &[7, 14, 20, 27, 34, 40, 47, 54],
            },
            Case {
                name: "an edit ends the checkpoints after it, resumes from the nearest, spreads out",
                examples: 60,
                existing: &[7, 14, 20, 27, 34, 40, 47, 54],
                first_stale: 30,
                resume_from: Some(27),
                evict: &[34, 40, 47, 54],
                take: &[34, 41, 47, 54],
            },
            Case {
                name: "an edit right at a checkpoint resumes from it",
                examples: 10,
                existing: &[5],
                first_stale: 5,
                resume_from: Some(5),
                evict: &[],
                take: &[6, 7, 8, 9],
            },
            Case {
                name: "a crowded prefix is thinned: resume a little earlier, spread out",
                examples: 60,
                existing: &[10, 11, 12, 13, 14, 15, 16, 17],
                first_stale: 50,
                resume_from: Some(14),
                evict: &[15, 16, 17],
                take: &[30, 45, 50],
            },
            Case {
                name: "tiny pages need no checkpoint",
                examples: 1,
                existing: &[],
                first_stale: 0,
                resume_from: None,
                evict: &[],
                take: &[],
            },
            Case {
                name: "nothing stale past the end: keep everything",
                examples: 4,
                existing: &[1, 2, 3],
                first_stale: 4,
                resume_from: Some(3),
                evict: &[],
                take: &[],
            },
        ];
        for case in cases {
            let plan = plan_checkpoints(
                case.examples,
                &existing(case.existing),
                case.first_stale,
                BUDGET,
            );
            assert_eq!(
                (
                    plan.resume_from,
                    plan.evict.as_slice(),
                    plan.take.as_slice()
                ),
                (case.resume_from, case.evict, case.take),
                "{}",
                case.name
            );
        }
    }

    #[test]
    fn a_stream_of_nearby_edits_keeps_later_resumes_short() {
        // Before: edits to 11..17 filled every slot there; an edit at 50 re-ran 43 examples.
        let mut edits: Vec<usize> = (11..=17).collect();
        edits.extend([50, 50, 30, 55, 12]);
        let reruns = stream(60, &edits, BUDGET);
        let late = &reruns[7..];
        assert!(late[0] <= 49, "{reruns:?}");
        // Once spread out, edits anywhere resume within a few examples of the edit.
        for (&edit, &rerun) in edits[8..].iter().zip(&reruns[8..]) {
            assert!(rerun <= 60 - edit + 8, "edit at {edit}: {reruns:?}");
        }
    }

    #[test]
    fn random_edits_resume_close_to_the_edit_on_average() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let edits: Vec<usize> = (0..300)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % 60) as usize
            })
            .collect();
        let reruns = stream(60, &edits, BUDGET);
        let extra: usize = edits
            .iter()
            .zip(&reruns)
            .map(|(&edit, &rerun)| rerun - (60 - edit))
            .sum();
        // Examples re-run before reaching the edited one: a few per edit, never ~40.
        let average = extra as f64 / edits.len() as f64;
        assert!(average < 8.0, "average {average}");
    }

    #[test]
    fn after_a_run_the_tail_over_the_budget_is_ended() {
        let sized = |sizes: &[(usize, u64)]| -> Vec<ExistingCheckpoint> {
            sizes
                .iter()
                .map(|&(before, mib)| ExistingCheckpoint {
                    before,
                    private_bytes: Some(mib * 1024 * 1024),
                })
                .collect()
        };
        let budget = CheckpointBudget {
            count: 3,
            memory: 100 * 1024 * 1024,
        };
        /// Checkpoints as (before, MiB), and the ones to end.
        type Case = (&'static [(usize, u64)], &'static [usize]);
        let cases: [Case; 5] = [
            (&[], &[]),
            (&[(3, 40), (6, 40)], &[]),
            (&[(3, 40), (6, 40), (8, 40)], &[8]),
            (&[(3, 120), (6, 1)], &[3, 6]),
            (&[(1, 1), (2, 1), (3, 1), (4, 1)], &[4]),
        ];
        for (existing, evicted) in cases {
            assert_eq!(
                over_budget(&sized(existing), budget),
                evicted,
                "{existing:?}"
            );
        }
    }

    #[test]
    fn memory_bounds_the_count() {
        let heavy = |positions: &[usize]| -> Vec<ExistingCheckpoint> {
            positions
                .iter()
                .map(|&before| ExistingCheckpoint {
                    before,
                    private_bytes: Some(100 * 1024 * 1024),
                })
                .collect()
        };
        let budget = CheckpointBudget {
            count: 8,
            memory: 300 * 1024 * 1024,
        };
        // At most three checkpoints of 100 MiB fit in 300 MiB, kept and new together.
        for existing in [&[10, 20, 30][..], &[10, 20, 30, 40]] {
            let plan = plan_checkpoints(60, &heavy(existing), 59, budget);
            let kept = existing.len() - plan.evict.len();
            assert!(kept + plan.take.len() <= 3, "{existing:?}: {plan:?}");
            assert!(plan.evict.contains(&40) || existing.len() == 3, "{plan:?}");
        }
        // Unmeasured ones are estimated; a budget below one estimate takes none.
        let none = CheckpointBudget {
            count: 8,
            memory: ESTIMATED_CHECKPOINT_BYTES - 1,
        };
        assert!(plan_checkpoints(60, &[], 0, none).take.is_empty());
    }

    #[test]
    fn edits_again_and_again_at_the_last_example_of_a_full_page_resume_right_before_it() {
        // The first run fills every slot evenly; typing in the last example then moves one
        // slot to it once, and every later edit there re-runs that example alone.
        let mut existing: Vec<ExistingCheckpoint> = Vec::new();
        let mut resumes = Vec::new();
        for stale in [0, 199, 199, 199, 199] {
            let plan = plan_checkpoints(200, &existing, stale, BUDGET);
            resumes.push(plan.resume_from);
            existing.retain(|checkpoint| !plan.evict.contains(&checkpoint.before));
            existing.extend(plan.take.iter().map(|&before| ExistingCheckpoint {
                before,
                private_bytes: Some(20 * 1024 * 1024),
            }));
            existing.sort_by_key(|checkpoint| checkpoint.before);
        }
        assert_eq!(resumes, [None, Some(156), Some(199), Some(199), Some(199)]);
    }
}
