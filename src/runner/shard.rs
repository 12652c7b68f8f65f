//! `--shard K/N`: which of the discovered pages one CI machine runs. A pure partition of the
//! page list (in discovery order, the same on every machine) into N shards, every page in
//! exactly one, plus reading the per-page durations of a previous JSON report.
//!
//! Two rules, as pytest-split offers two algorithms:
//! - without durations, [`by_weight_chunks`]: contiguous chunks of the page list cut where the
//!   running total of page weights (examples + 1) crosses each `k/N` of the whole, like
//!   pytest-split's `duration_based_chunks` and Playwright's `--shard`. Stable: adding a page
//!   of weight `v` moves only pages whose midpoint lies within `v` of a cut, so at most
//!   `(N-1) * (v / lightest + 1)` pages change shard; and each shard's weight is within one
//!   page's weight of `total / N`. Hashing (nextest's `hash:`) would be stabler but balances
//!   by chance only; greedy packing balances better but one new page can reshuffle them all.
//! - with durations, [`by_durations_packing`]: longest-first bin packing (each page, longest
//!   first, to the shard with the least time so far), like pytest-split's `least_duration`;
//!   pages the report does not know get the average of those it does. Better balance, no
//!   stability promise: refresh the durations file when pages change a lot.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// One shard of a run: `index` counts from 1, `1 <= index <= count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N` with `1 <= K <= N`, as Playwright's `--shard` and nextest's `--partition`.
    fn from_str(value: &str) -> Result<Shard, String> {
        let usage = "give K/N with 1 <= K <= N, e.g. --shard 2/4";
        let (index, count) = value
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("{value:?} is not a shard; {usage}"))?;
        let number = |text: &str| {
            text.trim()
                .parse::<usize>()
                .map_err(|_| format!("{value:?}: {text:?} is not a whole number; {usage}"))
        };
        let (index, count) = (number(index)?, number(count)?);
        if count == 0 || index == 0 || index > count {
            return Err(format!("{value:?} names no shard; {usage}"));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard (0-based) of each page, by contiguous chunks of `weights` (in page order): a
/// page goes to the shard whose share `[k W/N, (k+1) W/N)` of the total `W` holds its
/// midpoint. Weights of 0 count as 1, so that every page has a place.
pub fn by_weight_chunks(weights: &[u64], count: usize) -> Vec<usize> {
    let count = count.max(1);
    let weights: Vec<u128> = weights.iter().map(|&w| u128::from(w.max(1))).collect();
    let total: u128 = weights.iter().sum();
    let mut before = 0u128;
    weights
        .iter()
        .map(|&weight| {
            // Twice the midpoint, in integers: (2 * before + weight) / (2 * total) of N.
            let doubled_mid = 2 * before + weight;
            before += weight;
            let shard = doubled_mid * count as u128 / (2 * total);
            usize::try_from(shard).unwrap_or(count - 1).min(count - 1)
        })
        .collect()
}

/// The shard (0-based) of each page by longest-first bin packing of `durations` (in page
/// order, milliseconds; `None` for a page the durations file does not know, which gets the
/// average of the known ones). Ties go to the earlier page and the lower shard, so that every
/// machine computes the same packing.
pub fn by_durations_packing(durations: &[Option<f64>], count: usize) -> Vec<usize> {
    let count = count.max(1);
    let known: Vec<f64> = durations
        .iter()
        .flatten()
        .copied()
        .filter(|d| d.is_finite() && *d >= 0.0)
        .collect();
    let average = if known.is_empty() {
        1.0
    } else {
        known.iter().sum::<f64>() / known.len() as f64
    };
    let cost: Vec<f64> = durations
        .iter()
        .map(|d| match d {
            Some(d) if d.is_finite() && *d >= 0.0 => *d,
            _ => average,
        })
        .collect();
    let mut order: Vec<usize> = (0..cost.len()).collect();
    order.sort_by(|&a, &b| cost[b].total_cmp(&cost[a]).then(a.cmp(&b)));
    let mut loads = vec![0.0f64; count];
    let mut assigned = vec![0; cost.len()];
    for page in order {
        let lightest = (0..count)
            .min_by(|&a, &b| loads[a].total_cmp(&loads[b]).then(a.cmp(&b)))
            .unwrap_or(0);
        loads[lightest] += cost[page];
        assigned[page] = lightest;
    }
    assigned
}

/// The indices of the pages in `shard`, given each page's 0-based shard.
pub fn pages_in(assignment: &[usize], shard: Shard) -> Vec<usize> {
    assignment
        .iter()
        .enumerate()
        .filter(|&(_, &s)| s + 1 == shard.index)
        .map(|(page, _)| page)
        .collect()
}

/// Why a durations file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DurationsError {
    #[error("{path}: cannot be read: {message}; give the JSON report of a previous run")]
    Unreadable { path: String, message: String },
    #[error(
        "{path}:{line}:{column}: not a JSON run report ({message}); give the output of \
         `objgraph-doctest --format json`"
    )]
    NotAReport {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// Each page's `duration_ms` in a previous JSON run report, by its path.
pub fn read_durations(path: &Path) -> Result<HashMap<String, f64>, DurationsError> {
    #[derive(serde::Deserialize)]
    struct Report {
        pages: Vec<PageDuration>,
    }
    #[derive(serde::Deserialize)]
    struct PageDuration {
        path: String,
        duration_ms: f64,
    }
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| DurationsError::Unreadable {
        path: shown.clone(),
        message: error.to_string(),
    })?;
    let report: Report =
        serde_json::from_str(&text).map_err(|error| DurationsError::NotAReport {
            path: shown,
            line: error.line(),
            column: error.column(),
            message: error.to_string(),
        })?;
    Ok(report
        .pages
        .into_iter()
        .map(|page| (page.path, page.duration_ms))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Page weights from a small deterministic generator (no randomness crate needed).
    fn weights(n: usize, seed: u64) -> Vec<u64> {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                1 + (state >> 33) % 40
            })
            .collect()
    }

    fn loads(weights: &[u64], assignment: &[usize], count: usize) -> Vec<u64> {
        let mut loads = vec![0; count];
        for (weight, &shard) in weights.iter().zip(assignment) {
            loads[shard] += weight.max(&1);
        }
        loads
    }

    #[test]
    fn parses_shards_and_rejects_the_rest() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!("1/1".parse::<Shard>(), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/3", "4/3", "1/0", "3", "a/3", "1/b", "", "-1/3"] {
            let error = bad.parse::<Shard>().unwrap_err();
            assert!(error.contains("1 <= K <= N"), "{bad}: {error}");
        }
    }

    #[test]
    fn every_page_in_exactly_one_shard_deterministically() {
        for n in [0, 1, 2, 5, 30, 101] {
            let w = weights(n, n as u64);
            for count in [1, 2, 3, 4, 7, 200] {
                let first = by_weight_chunks(&w, count);
                assert_eq!(first, by_weight_chunks(&w, count));
                assert_eq!(first.len(), n);
                assert!(first.iter().all(|&s| s < count));
                let mut seen = vec![0; n];
                for index in 1..=count {
                    for page in pages_in(&first, Shard { index, count }) {
                        seen[page] += 1;
                    }
                }
                assert!(seen.iter().all(|&times| times == 1));
                // Chunks are contiguous: shard numbers never go down along the page list.
                assert!(first.windows(2).all(|pair| pair[0] <= pair[1]));
            }
        }
    }

    #[test]
    fn chunks_are_within_one_page_of_the_ideal() {
        for seed in 0..20 {
            let w = weights(200, seed);
            let total: u64 = w.iter().sum();
            let heaviest = *w.iter().max().unwrap_or(&1);
            for count in [2, 3, 4, 7] {
                let ideal = total as f64 / count as f64;
                for load in loads(&w, &by_weight_chunks(&w, count), count) {
                    assert!(
                        (load as f64 - ideal).abs() <= heaviest as f64,
                        "seed {seed}, {count} shards: {load} vs {ideal}"
                    );
                }
            }
        }
    }

    #[test]
    fn adding_a_page_moves_few_others() {
        for seed in 0..20 {
            let w = weights(120, seed);
            let lightest = *w.iter().min().unwrap_or(&1);
            for count in [2, 4, 7] {
                let before = by_weight_chunks(&w, count);
                for at in [0, 37, 119, 120] {
                    let added = 1 + (seed % 40);
                    let mut grown = w.clone();
                    grown.insert(at, added);
                    let after = by_weight_chunks(&grown, count);
                    let mut moved = 0;
                    for (page, &shard) in before.iter().enumerate() {
                        let new_index = if page < at { page } else { page + 1 };
                        if after[new_index] != shard {
                            moved += 1;
                        }
                    }
                    let bound = (count - 1) as u64 * (added / lightest + 2);
                    assert!(
                        moved as u64 <= bound,
                        "seed {seed}, {count} shards, page at {at}: {moved} moved > {bound}"
                    );
                }
            }
        }
    }

    #[test]
    fn packing_by_durations_balances_and_covers() {
        let durations: Vec<Option<f64>> = weights(60, 7)
            .iter()
            .map(|&w| Some(w as f64 * 10.0))
            .collect();
        for count in [1, 2, 3, 4, 7] {
            let assignment = by_durations_packing(&durations, count);
            assert_eq!(assignment, by_durations_packing(&durations, count));
            assert!(assignment.iter().all(|&s| s < count));
            let mut loads = vec![0.0; count];
            for (d, &s) in durations.iter().zip(&assignment) {
                loads[s] += d.unwrap_or(0.0);
            }
            let total: f64 = loads.iter().sum();
            let longest = durations.iter().flatten().copied().fold(0.0, f64::max);
            // Longest-first packing leaves every shard within one page of the average.
            for load in &loads {
                assert!((load - total / count as f64).abs() <= longest, "{loads:?}");
            }
        }
    }

    #[test]
    fn unknown_pages_cost_the_average() {
        // Two known pages of 100 ms and two unknown ones (costing 100 ms each): two each.
        let durations = [Some(100.0), None, Some(100.0), None];
        let assignment = by_durations_packing(&durations, 2);
        assert_eq!(assignment.iter().filter(|&&s| s == 0).count(), 2);
        // A page far longer than the rest gets a shard to itself.
        let durations = [Some(1.0), Some(1000.0), Some(1.0), Some(1.0)];
        let assignment = by_durations_packing(&durations, 2);
        let alone = assignment[1];
        assert_eq!(assignment.iter().filter(|&&s| s == alone).count(), 1);
    }
}
