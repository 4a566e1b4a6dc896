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
}
