//! The figures read at each scrape (the database's counts, this replica's role, the gateway) and
//! their encoding next to the process's own metrics, in the Prometheus text format.

use super::metrics::Metrics;
use crate::domain::{OperationKind, RequestState};
use crate::money::{Fen, Yuan};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::{Registry, Unit};
use rust_decimal::prelude::ToPrimitive;
use std::time::Duration;
use time::OffsetDateTime;

/// What the database says at a scrape, as the desk reads it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// Requests by stored kind and state, with how many (pairs without requests may be left out).
    pub requests: Vec<(String, String, i64)>,
    /// Purchases Tencent accepted, ever (the audit log's `submitted` steps).
    pub purchases: i64,
    /// Releases Tencent carried out, ever.
    pub releases: i64,
    /// Renewals Tencent carried out, ever.
    pub renewals: i64,
    /// Notices not delivered yet.
    pub outbox_depth: i64,
    /// How long the oldest of them has waited.
    pub outbox_oldest_age: Option<Duration>,
    /// Instances the tracker watches.
    pub instances_tracked: i64,
    /// The balance at the balance monitor's last reading, if it ever read one.
    pub balance: Option<BalanceFigures>,
    /// What cvmbot's running hourly servers burn.
    pub burn_per_hour: Yuan,
    /// The balance ÷ the burn (whole hours, as the engine tells it); `None` when nothing burns.
    pub runway: Option<Duration>,
    /// Who holds the workers lease now, if anyone does.
    pub lease_holder: Option<String>,
    /// The workers lease's epoch (it goes up with each new holder), if it was ever taken.
    pub lease_epoch: Option<i64>,
}

/// The balance monitor's last reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BalanceFigures {
    /// Spendable.
    pub spendable: Fen,
    /// Owed.
    pub owe: Fen,
    /// When it was read.
    pub checked_at: OffsetDateTime,
}

/// One scrape's inputs besides the process's own metrics.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Scrape {
    /// `None` when the database could not be read in time.
    pub figures: Option<Figures>,
    /// Whether this process holds the workers lease.
    pub leading: bool,
    /// Whether the gateway is connected and READY; `None` without a gateway.
    pub gateway_ready: Option<bool>,
    /// The gateway's last heartbeat round trip, when it has one.
    pub heartbeat: Option<Duration>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    kind: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HolderLabels {
    holder: String,
}

/// Yuan from fen for a gauge: `fen / 100` is correctly rounded, so the value printed is the
/// exact decimal amount (149.56) for any balance below 2^53 fen.
fn yuan(fen: Fen) -> f64 {
    fen.get() as f64 / 100.0
}

/// The scrape's text: the process's metrics, then this scrape's figures.
pub(super) fn text(metrics: &Metrics, scrape: &Scrape) -> String {
    let mut registry = Registry::with_prefix("cvmbot");
    metrics.register(&mut registry);
    scrape.register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        .expect("writing to a String does not fail");
    text
}

fn gauge(value: i64) -> ConstGauge<i64> {
    ConstGauge::new(value)
}

fn seconds(value: Duration) -> ConstGauge<f64> {
    ConstGauge::new(value.as_secs_f64())
}

impl Scrape {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "leader",
            "1 when this replica holds the workers lease (it runs the workers), else 0",
            gauge(i64::from(self.leading)),
        );
        registry.register(
            "database_reachable",
            "1 when this scrape could read the database, else 0 (the figures read from it are then left out)",
            gauge(i64::from(self.figures.is_some())),
        );
        if let Some(ready) = self.gateway_ready {
            registry.register(
                "discord_gateway_ready",
                "1 while the Discord gateway is connected and READY has been handled, else 0",
                gauge(i64::from(ready)),
            );
        }
        if let Some(latency) = self.heartbeat {
            registry.register_with_unit(
                "discord_heartbeat_latency",
                "Round trip of the Discord gateway's last heartbeat",
                Unit::Seconds,
                seconds(latency),
            );
        }
        if let Some(figures) = &self.figures {
            figures.register(registry);
        }
    }
}

impl Figures {
    fn register(&self, registry: &mut Registry) {
        let requests = Family::<RequestLabels, Gauge>::default();
        for kind in OperationKind::ALL {
            for state in RequestState::ALL {
                let (kind, state) = (kind.as_str(), state.as_str());
                let count = self
                    .requests
                    .iter()
                    .find(|(k, s, _)| k == kind && s == state)
                    .map_or(0, |(_, _, n)| *n);
                let labels = RequestLabels {
                    kind: kind.to_owned(),
                    state: state.to_owned(),
                };
                requests.get_or_create(&labels).set(count);
            }
        }
        registry.register(
            "requests",
            "Requests by kind and state, read from the database",
            requests,
        );
        for (name, help, count) in [
            (
                "purchases",
                "Purchases Tencent Cloud accepted (RunInstances), from the audit log",
                self.purchases,
            ),
            (
                "releases",
                "Releases Tencent Cloud carried out (TerminateInstances), from the audit log",
                self.releases,
            ),
            (
                "renewals",
                "Renewals Tencent Cloud carried out (RenewInstances), from the audit log",
                self.renewals,
            ),
        ] {
            registry.register(name, help, ConstCounter::new(u64::try_from(count).unwrap_or(0)));
        }
        registry.register(
            "outbox_depth",
            "Notices and card changes not delivered yet",
            gauge(self.outbox_depth),
        );
        registry.register_with_unit(
            "outbox_oldest_age",
            "How long the oldest undelivered notice has waited (0 when none waits)",
            Unit::Seconds,
            seconds(self.outbox_oldest_age.unwrap_or_default()),
        );
        registry.register(
            "tracker_instances",
            "Instances the tracker watches (polls with DescribeInstances)",
            gauge(self.instances_tracked),
        );
        registry.register(
            "burn_yuan_per_hour",
            "What cvmbot's running pay-as-you-go and spot servers cost per hour, in CNY",
            ConstGauge::new(self.burn_per_hour.amount().to_f64().unwrap_or(f64::NAN)),
        );
        if let Some(balance) = self.balance {
            self.register_balance(registry, balance);
        }
        if let Some(epoch) = self.lease_epoch {
            registry.register(
                "lease_epoch",
                "The workers lease's epoch: it goes up each time another replica takes the lease over",
                ConstGauge::new(epoch),
            );
        }
        if let Some(holder) = &self.lease_holder {
            let holders = Family::<HolderLabels, Gauge>::default();
            holders.get_or_create(&HolderLabels { holder: holder.clone() }).set(1);
            registry.register(
                "lease_holder",
                "1 for the replica holding the workers lease, named by its holder id (machine/pid/nonce)",
                holders,
            );
        }
    }

    fn register_balance(&self, registry: &mut Registry, balance: BalanceFigures) {
        registry.register(
            "balance_yuan",
            "Spendable Tencent Cloud balance at the last reading, in CNY (read in fen)",
            ConstGauge::new(yuan(balance.spendable)),
        );
        registry.register(
            "balance_owed_yuan",
            "Amount the Tencent Cloud account owes at the last reading, in CNY",
            ConstGauge::new(yuan(balance.owe)),
        );
        registry.register(
            "balance_checked_timestamp_seconds",
            "When the balance was last read, as a Unix time",
            ConstGauge::new(balance.checked_at.unix_timestamp()),
        );
        registry.register_with_unit(
            "balance_runway",
            "Balance divided by the burn, in whole hours as the engine tells it; +Inf while nothing burns",
            Unit::Seconds,
            ConstGauge::new(self.runway.map_or(f64::INFINITY, |runway| runway.as_secs_f64())),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures() -> Figures {
        Figures {
            requests: vec![("buy".into(), "active".into(), 2), ("release".into(), "done".into(), 1)],
            purchases: 2,
            releases: 1,
            renewals: 0,
            outbox_depth: 3,
            outbox_oldest_age: Some(Duration::from_secs(90)),
            instances_tracked: 4,
            balance: Some(BalanceFigures {
                spendable: Fen::new(14_956),
                owe: Fen::ZERO,
                checked_at: OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("a time"),
            }),
            burn_per_hour: "0.422".parse().expect("yuan"),
            runway: Some(Duration::from_secs(354 * 3600)),
            lease_holder: Some("boot:4026531836/4242/0000beef".into()),
            lease_epoch: Some(3),
        }
    }

    fn lines(scrape: &Scrape) -> Vec<String> {
        text(&Metrics::default(), scrape).lines().map(str::to_owned).collect()
    }

    #[test]
    fn figures_are_encoded_with_their_names_labels_and_exact_values() {
        let scrape = Scrape {
            figures: Some(figures()),
            leading: true,
            gateway_ready: Some(true),
            heartbeat: Some(Duration::from_millis(42)),
        };
        let lines = lines(&scrape);
        for expected in [
            "cvmbot_leader 1",
            "cvmbot_database_reachable 1",
            "cvmbot_discord_gateway_ready 1",
            "cvmbot_discord_heartbeat_latency_seconds 0.042",
            "cvmbot_requests{kind=\"buy\",state=\"active\"} 2",
            "cvmbot_requests{kind=\"release\",state=\"done\"} 1",
            "cvmbot_requests{kind=\"buy\",state=\"pending\"} 0",
            "cvmbot_purchases_total 2",
            "cvmbot_releases_total 1",
            "cvmbot_renewals_total 0",
            "cvmbot_outbox_depth 3",
            "cvmbot_outbox_oldest_age_seconds 90.0",
            "cvmbot_tracker_instances 4",
            "cvmbot_burn_yuan_per_hour 0.422",
            "cvmbot_balance_yuan 149.56",
            "cvmbot_balance_owed_yuan 0.0",
            "cvmbot_balance_checked_timestamp_seconds 1790000000",
            "cvmbot_balance_runway_seconds 1274400.0",
            "cvmbot_lease_holder{holder=\"boot:4026531836/4242/0000beef\"} 1",
            "cvmbot_lease_epoch 3",
            "# TYPE cvmbot_purchases_total counter",
            "# TYPE cvmbot_requests gauge",
        ] {
            assert!(
                lines.iter().any(|l| l == expected),
                "no line {expected:?} in:\n{}",
                lines.join("\n")
            );
        }
        let requests = lines.iter().filter(|l| l.starts_with("cvmbot_requests{")).count();
        assert_eq!(
            requests,
            OperationKind::ALL.len() * RequestState::ALL.len(),
            "every kind and state"
        );
    }

    #[test]
    fn without_the_database_only_what_this_process_knows_is_encoded() {
        let lines = lines(&Scrape::default());
        assert!(lines.iter().any(|l| l == "cvmbot_database_reachable 0"));
        assert!(lines.iter().any(|l| l == "cvmbot_leader 0"));
        for absent in [
            "cvmbot_requests",
            "cvmbot_balance_yuan",
            "cvmbot_outbox_depth",
            "cvmbot_discord_gateway_ready",
        ] {
            assert!(
                !lines.iter().any(|l| l.starts_with(absent)),
                "{absent} without the database or a gateway"
            );
        }
    }

    #[test]
    fn a_runway_while_nothing_burns_is_infinite_and_a_balance_never_read_is_left_out() {
        let idle = Figures {
            runway: None,
            ..figures()
        };
        let scrape = Scrape {
            figures: Some(idle),
            ..Scrape::default()
        };
        assert!(lines(&scrape).iter().any(|l| l == "cvmbot_balance_runway_seconds +Inf"));
        let unread = Figures {
            balance: None,
            ..figures()
        };
        let scrape = Scrape {
            figures: Some(unread),
            ..Scrape::default()
        };
        assert!(!lines(&scrape).iter().any(|l| l.starts_with("cvmbot_balance_")));
    }
}
