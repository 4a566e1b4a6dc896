//! Percentiles and medians of measured durations, in milliseconds.

use std::time::Duration;

use serde::Serialize;

/// A latency distribution: count and nearest-rank percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    pub fn of(samples: &[Duration]) -> Summary {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        Summary {
            count: sorted.len(),
            p50_ms: percentile(&sorted, 50.0),
            p95_ms: percentile(&sorted, 95.0),
            p99_ms: percentile(&sorted, 99.0),
            max_ms: sorted.last().copied().map(ms).unwrap_or_default(),
        }
    }
}

/// The nearest-rank percentile of sorted samples (0 for none).
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    ms(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The median (the mean of the middle two for an even count), in milliseconds.
pub fn median(samples: &[Duration]) -> f64 {
    median_of(&samples.iter().map(|d| ms(*d)).collect::<Vec<_>>())
}

/// The median of plain values (ratios); 0 when there are none.
pub fn median_of(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// A distribution-free ~95% confidence interval of the median of `values`: the order statistics
/// at ranks n/2 ∓ 0.98·√n (the normal approximation to the binomial), so that the interval says how
/// far this run's median could be from the one more rounds would give. `None` under 6 values, where
/// no such pair of ranks exists.
pub fn median_interval(values: &[f64]) -> Option<(f64, f64)> {
    let n = values.len();
    if n < 6 {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let half_width = 0.98 * (n as f64).sqrt();
    // 1-based ranks, rounded outwards.
    let lower = ((n as f64 / 2.0) - half_width).floor().max(1.0) as usize;
    let upper = ((n as f64 / 2.0) + 1.0 + half_width).ceil().min(n as f64) as usize;
    Some((sorted[lower - 1], sorted[upper - 1]))
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank_and_medians_the_middle() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let summary = Summary::of(&samples);
        assert_eq!(summary.count, 100);
        assert_eq!(summary.p50_ms, 50.0);
        assert_eq!(summary.p95_ms, 95.0);
        assert_eq!(summary.p99_ms, 99.0);
        assert_eq!(summary.max_ms, 100.0);
        assert_eq!(
            median(&[Duration::from_millis(3), Duration::from_millis(1)]),
            2.0
        );
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median_of(&[1.8, 1.2, 1.5]), 1.5);
        assert_eq!(median_of(&[]), 0.0);
        assert_eq!(Summary::of(&[]).p99_ms, 0.0);
    }

    #[test]
    fn the_median_interval_takes_the_order_statistics_around_the_middle() {
        // 40 values 1..=40, shuffled: ranks 20 - 6.2 and 21 + 6.2, rounded outwards: 13 and 28.
        let values: Vec<f64> = (1..=40).rev().map(f64::from).collect();
        assert_eq!(median_interval(&values), Some((13.0, 28.0)));
        // 10 values: ranks 5 - 3.1 and 6 + 3.1: 1 (clamped from 1.9 floored) and 10.
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median_interval(&ten), Some((1.0, 10.0)));
        assert_eq!(median_interval(&[1.0, 2.0, 3.0]), None);
    }
}
