//! What the run measured, worked out from the database's instance rows and the simulator's
//! records, and printed.

use super::drive::Tally;
use cvmbot::store::InstanceRecord;
use cvmbot::tencent::enums::InstanceState;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use time::OffsetDateTime;

/// Each reclamation of the day and its replacement, simulated milliseconds.
#[derive(Default)]
pub struct Refills {
    /// cvmbot saw the server gone (`gone_at`) → the replacement in its slot seen RUNNING.
    pub seen_to_running: Vec<i64>,
    /// The simulator reclaimed it → the replacement seen RUNNING.
    pub reclaimed_to_running: Vec<i64>,
    /// The simulator reclaimed it → cvmbot saw it gone.
    pub reclaimed_to_seen: Vec<i64>,
    /// Servers the bench had reclaimed after cvmbot saw them RUNNING.
    pub reclaimed_running: usize,
    /// Servers the bench had reclaimed before cvmbot saw them RUNNING.
    pub reclaimed_unseen_running: usize,
    /// Servers that ended otherwise (outbid, failed launches).
    pub ended_otherwise: usize,
    /// Reclaimed servers cvmbot had not seen gone when the run ended.
    pub not_seen_gone: usize,
    /// Servers seen gone whose slot had no RUNNING replacement when the run ended.
    pub not_refilled: usize,
    /// Servers launched from the start of the day on.
    pub launched: usize,
}

/// Pairs every server that ended with the next server of its slot that was seen RUNNING.
pub fn refills(
    instances: &[InstanceRecord],
    reclaimed_at: &HashMap<String, OffsetDateTime>,
    from: OffsetDateTime,
) -> Refills {
    let ms = |d: time::Duration| d.whole_milliseconds() as i64;
    let mut by_slot: BTreeMap<u32, Vec<&InstanceRecord>> = BTreeMap::new();
    for instance in instances {
        if let Some(slot) = instance.fleet_slot {
            by_slot.entry(slot).or_default().push(instance);
        }
    }
    let mut out = Refills {
        launched: instances.iter().filter(|i| i.created_at >= from).count(),
        ..Refills::default()
    };
    for servers in by_slot.values_mut() {
        servers.sort_by_key(|i| (i.created_at, i.instance_id.clone()));
        for (n, old) in servers.iter().enumerate() {
            let reclaimed = reclaimed_at.get(&old.instance_id).copied();
            let failed = old.state == InstanceState::LaunchFailed;
            if reclaimed.is_none() && old.gone_at.is_none() && !failed {
                continue;
            }
            match (reclaimed, old.running_at) {
                (Some(_), Some(_)) => out.reclaimed_running += 1,
                (Some(_), None) => out.reclaimed_unseen_running += 1,
                (None, _) => out.ended_otherwise += 1,
            }
            let Some(gone) = old.gone_at else {
                out.not_seen_gone += usize::from(reclaimed.is_some());
                continue;
            };
            if let Some(at) = reclaimed {
                out.reclaimed_to_seen.push(ms(gone - at));
            }
            let next = servers[n + 1..].iter().find_map(|i| i.running_at);
            let Some(running) = next else {
                out.not_refilled += 1;
                continue;
            };
            out.seen_to_running.push(ms(running - gone));
            if let Some(at) = reclaimed {
                out.reclaimed_to_running.push(ms(running - at));
            }
        }
    }
    out
}

/// The `q`-quantile (0..=1) of `values` (sorted in place), nearest rank; 0 when empty.
pub fn quantile(values: &mut [i64], q: f64) -> i64 {
    if values.is_empty() {
        return 0;
    }
    values.sort_unstable();
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// `p50 … p99 … max … (n samples)` of simulated milliseconds, in seconds.
pub fn spread(values: &mut [i64]) -> String {
    let s = |ms: i64| ms as f64 / 1000.0;
    let n = values.len();
    format!(
        "p50 {:.1} s, p99 {:.1} s, max {:.1} s ({n} samples)",
        s(quantile(values, 0.5)),
        s(quantile(values, 0.99)),
        s(quantile(values, 1.0))
    )
}

/// The same for wall durations, in milliseconds.
pub fn wall_spread(values: &[Duration]) -> String {
    let mut us: Vec<i64> = values.iter().map(|d| d.as_micros() as i64).collect();
    let ms = |us: i64| us as f64 / 1000.0;
    let n = us.len();
    let total: i64 = us.iter().sum();
    format!(
        "{n} passes, {:.1} s in all: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        total as f64 / 1e6,
        ms(quantile(&mut us, 0.5)),
        ms(quantile(&mut us, 0.99)),
        ms(quantile(&mut us, 1.0))
    )
}

/// One line per action: calls, and what refused them.
pub fn calls_line(tallies: &BTreeMap<String, Tally>) -> String {
    tallies
        .iter()
        .map(|(action, t)| {
            let mut line = format!("{action} {}", t.calls());
            if t.dry_runs > 0 {
                line.push_str(&format!(" (+{} dry runs)", t.dry_runs));
            }
            if !t.refused.is_empty() {
                line.push_str(&format!(" (refused: {:?})", t.refused));
            }
            line
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Calls of `action` in `tallies`, dry runs apart.
pub fn calls(tallies: &BTreeMap<String, Tally>, action: &str) -> usize {
    tallies.get(action).map_or(0, Tally::calls)
}

/// RequestLimitExceeded answers, any action.
pub fn rate_limited(tallies: &BTreeMap<String, Tally>) -> usize {
    tallies
        .values()
        .flat_map(|t| t.refused.iter())
        .filter(|(code, _)| code.starts_with("RequestLimitExceeded"))
        .map(|(_, n)| n)
        .sum()
}

/// A simulated duration as `1h02m03s`.
pub fn clock_span(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, s) => format!("{h}h{m:02}m{s:02}s"),
    }
}

/// VmHWM (peak resident set) of this process, KiB.
pub fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}
