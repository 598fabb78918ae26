//! What one poll of one instance means: the pure judgement of the tracker. Given the stored row
//! and what DescribeInstances showed, it decides the new row, the notices to raise (each under a
//! dedupe key, so it is raised once) and when to poll next; and what a request's instances add up to.

use crate::desk::Event;
use crate::desk::keys::{DedupeKey, InstanceNews};
use crate::domain::{BillingKind, RequestId, RequestState};
use crate::store::{InstanceRecord, InstanceUpdate};
use crate::tencent::cvm::Instance;
use crate::tencent::enums::{InstanceState, RenewFlag};
use std::time::Duration;
use time::OffsetDateTime;

/// How long a fresh instance may be missing from DescribeInstances before it counts as gone
/// (Tencent's listing lags RunInstances by a moment).
pub(in crate::desk) const NEW_INSTANCE_GRACE: Duration = Duration::from_secs(120);

/// The state a fleet's server is given when one listing missed it.
fn absent() -> InstanceState {
    InstanceState::Unknown("ABSENT".into())
}

/// The tracker's cadence.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackerSettings {
    /// Interval after a purchase or a change.
    pub initial: Duration,
    /// Longest interval while activation or a public IP is awaited.
    pub waiting: Duration,
    /// Longest interval otherwise.
    pub max: Duration,
    /// Growth factor per quiet poll.
    pub backoff: f64,
    /// Warn about an instance PENDING longer than this.
    pub pending_warning: Duration,
}

/// What one poll of one instance found: the row update and the notices to raise (key, notice).
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// The request the instance was bought for.
    pub request_id: RequestId,
    /// The new row.
    pub update: InstanceUpdate,
    /// Notices, each with its dedupe key.
    pub notices: Vec<(DedupeKey, Event)>,
    /// A fleet's server started running, failed or is gone: its fleet has work.
    pub fleet_news: bool,
}

/// The instance is gone (reclaimed, or released outside cvmbot): it is no longer watched, and
/// the channel is told why, as far as Tencent says.
fn gone(
    record: &InstanceRecord,
    update: &mut InstanceUpdate,
    now: OffsetDateTime,
    seen: Option<&Instance>,
) -> (DedupeKey, Event) {
    update.gone_at = Some(now);
    update.watching = false;
    (
        DedupeKey::instance(&record.instance_id, InstanceNews::Gone),
        Event::Reclaimed {
            request_id: record.request_id,
            instance_id: record.instance_id.clone(),
            reason: gone_reason(record.billing, seen),
        },
    )
}

/// How long Tencent Cloud keeps a prepaid instance isolated at the end of its period before it
/// destroys it (CVM's recycle-bin rule for expired prepaid instances).
pub const EXPIRED_RETENTION: Duration = Duration::from_secs(7 * 86_400);

fn isolated_by_expiry(instance: &Instance) -> bool {
    instance.restrict_state.as_deref() == Some("EXPIRED") || instance.isolated_source.as_deref() == Some("EXPIRE")
}

fn gone_reason(billing: BillingKind, seen: Option<&Instance>) -> String {
    if seen.and_then(|i| i.restrict_state.as_deref()) == Some("EXPIRED") {
        "its prepaid period ended without renewal, so Tencent Cloud isolated it; renew it in the console within \
         the recycle-bin period to keep it."
            .into()
    } else if billing == BillingKind::Spot {
        "Tencent Cloud reclaimed the spot instance (the market price rose above the bid, or the capacity was needed)."
            .into()
    } else {
        "it no longer runs at Tencent Cloud (terminated outside cvmbot, or reclaimed because the account owed money)."
            .into()
    }
}

/// Judges one poll of `record`; `seen` is what DescribeInstances returned for it (None: absent).
pub fn observe(
    record: &InstanceRecord,
    seen: Option<&Instance>,
    now: OffsetDateTime,
    settings: &TrackerSettings,
) -> Observation {
    let id = &record.instance_id;
    let request_id = record.request_id;
    let mut notices = Vec::new();
    let mut update = InstanceUpdate::unchanged(record, now);
    match seen {
        None if now - record.created_at < NEW_INSTANCE_GRACE => {}
        // A fleet refills a slot whose server is gone: a server missing from one listing is
        // looked at once more before it counts as gone, so a blip never runs one too many.
        None if record.fleet_slot.is_some() && record.state != absent() => {
            update.state = absent();
            update.poll_interval = settings.initial;
            update.next_poll_at = now + settings.initial;
            return Observation {
                request_id,
                update,
                notices,
                fleet_news: false,
            };
        }
        None => notices.push(gone(record, &mut update, now, None)),
        Some(instance) => {
            let state = instance
                .instance_state
                .clone()
                .unwrap_or_else(|| InstanceState::Unknown("UNKNOWN".into()));
            update.expires_at = instance
                .expired_time
                .as_deref()
                .filter(|t| !t.is_empty())
                .and_then(|t| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok());
            update.auto_renew = instance.renew_flag == Some(RenewFlag::NotifyAndAutoRenew);
            update.private_ips = instance.private_ip_addresses.clone();
            update.public_ips = instance.public_ip_addresses.clone().unwrap_or_default();
            match &state {
                InstanceState::Running => {
                    let first_run = record.running_at.is_none();
                    if first_run {
                        update.running_at = Some(now);
                        notices.push((
                            DedupeKey::instance(id, InstanceNews::Running),
                            Event::Running {
                                request_id,
                                instance_id: id.clone(),
                                private_ips: update.private_ips.clone(),
                                public_ips: update.public_ips.clone(),
                                public_ip_pending: record.wants_public_ip && update.public_ips.is_empty(),
                            },
                        ));
                    }
                    if !update.public_ips.is_empty() && record.public_ip_at.is_none() {
                        update.public_ip_at = Some(now);
                        if !first_run {
                            notices.push((
                                DedupeKey::instance(id, InstanceNews::PublicIp),
                                Event::PublicIp {
                                    request_id,
                                    instance_id: id.clone(),
                                    public_ips: update.public_ips.clone(),
                                },
                            ));
                        }
                    }
                }
                InstanceState::LaunchFailed => {
                    let reason = instance
                        .latest_operation_error_msg
                        .clone()
                        .filter(|m| !m.trim().is_empty())
                        .unwrap_or_else(|| "Tencent Cloud gave no reason.".into());
                    update.error = Some(reason.clone());
                    update.watching = false;
                    notices.push((
                        DedupeKey::instance(id, InstanceNews::LaunchFailed),
                        Event::LaunchFailed {
                            request_id,
                            instance_id: id.clone(),
                            reason,
                        },
                    ));
                }
                // Isolated at the end of its prepaid period: still there, and renewable, for
                // the recycle bin's time. Told once; it stays watched, so a renewal or its end is seen.
                InstanceState::Shutdown if isolated_by_expiry(instance) => {
                    let expired = update.expires_at.or(record.expires_at).unwrap_or(now);
                    notices.push((
                        DedupeKey::instance(id, InstanceNews::Isolated),
                        Event::Isolated {
                            request_id,
                            instance_id: id.clone(),
                            destroyed_at: expired + EXPIRED_RETENTION,
                        },
                    ));
                }
                InstanceState::Terminating | InstanceState::Shutdown => {
                    notices.push(gone(record, &mut update, now, Some(instance)));
                }
                InstanceState::Pending if now - record.created_at > settings.pending_warning => {
                    let minutes = ((now - record.created_at).whole_seconds() / 60).max(0) as u64;
                    notices.push((
                        DedupeKey::instance(id, InstanceNews::StillPending),
                        Event::StillPending {
                            request_id,
                            instance_id: id.clone(),
                            minutes,
                        },
                    ));
                }
                _ => {}
            }
            update.state = state;
        }
    }
    let changed = update.state != record.state
        || update.private_ips != record.private_ips
        || update.public_ips != record.public_ips;
    let waiting = update.state == InstanceState::Pending || (record.wants_public_ip && update.public_ips.is_empty());
    let cap = if waiting { settings.waiting } else { settings.max };
    update.poll_interval = if changed {
        settings.initial
    } else {
        record
            .poll_interval
            .mul_f64(settings.backoff)
            .clamp(settings.initial, cap.max(settings.initial))
    };
    update.next_poll_at = now + update.poll_interval;
    // A fleet's server has no messages of its own: the fleet's summary tells its news.
    let fleet_news = record.fleet_slot.is_some() && !notices.is_empty();
    if record.fleet_slot.is_some() {
        notices.clear();
    }
    Observation {
        request_id,
        update,
        notices,
        fleet_news,
    }
}

/// The state a request's instances add up to, once none is pending.
pub fn settled_state(instances: &[InstanceRecord]) -> Option<RequestState> {
    if instances.is_empty()
        || instances
            .iter()
            .any(|i| i.state == InstanceState::Pending && i.gone_at.is_none())
    {
        return None;
    }
    let failed = instances
        .iter()
        .filter(|i| i.state == InstanceState::LaunchFailed || (i.gone_at.is_some() && i.running_at.is_none()))
        .count();
    let ran = instances.iter().filter(|i| i.running_at.is_some()).count();
    match (failed, ran) {
        (f, _) if f == instances.len() => Some(RequestState::LaunchFailed),
        (0, r) if r == instances.len() => Some(RequestState::Active),
        (f, r) if f + r == instances.len() => Some(RequestState::PartiallyActive),
        _ => None,
    }
}

/// After a failed poll: try again after the current interval, nothing else changes.
pub fn postpone(record: &InstanceRecord, now: OffsetDateTime, settings: &TrackerSettings) -> Observation {
    let interval = record.poll_interval.max(settings.initial);
    let mut update = InstanceUpdate::unchanged(record, now);
    update.watching = record.watching;
    update.next_poll_at = now + interval;
    update.poll_interval = interval;
    Observation {
        request_id: record.request_id,
        update,
        notices: Vec::new(),
        fleet_news: false,
    }
}

impl InstanceUpdate {
    /// The row as it stands, polled at `now`: what a poll changes it from.
    fn unchanged(record: &InstanceRecord, now: OffsetDateTime) -> InstanceUpdate {
        InstanceUpdate {
            instance_id: record.instance_id.clone(),
            state: record.state.clone(),
            private_ips: record.private_ips.clone(),
            public_ips: record.public_ips.clone(),
            error: record.error.clone(),
            running_at: None,
            public_ip_at: None,
            gone_at: None,
            watching: true,
            next_poll_at: now,
            poll_interval: record.poll_interval,
            now,
            expires_at: None,
            auto_renew: record.auto_renew,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Yuan;
    use time::macros::datetime;

    const START: OffsetDateTime = datetime!(2025-01-01 00:00:00 UTC);

    fn settings() -> TrackerSettings {
        TrackerSettings {
            initial: Duration::from_secs(3),
            waiting: Duration::from_secs(10),
            max: Duration::from_secs(60),
            backoff: 1.5,
            pending_warning: Duration::from_secs(600),
        }
    }

    fn record() -> InstanceRecord {
        InstanceRecord {
            instance_id: "ins-1".into(),
            request_id: RequestId::new(7),
            region: "ap-guangzhou".into(),
            zone: "ap-guangzhou-3".into(),
            billing: BillingKind::PayAsYouGo,
            hourly_price: Yuan::ZERO,
            state: InstanceState::Pending,
            private_ips: Vec::new(),
            public_ips: Vec::new(),
            wants_public_ip: true,
            error: None,
            created_at: START,
            updated_at: START,
            running_at: None,
            public_ip_at: None,
            gone_at: None,
            released_at: None,
            release_request: None,
            expires_at: None,
            auto_renew: false,
            fleet_slot: None,
            watching: true,
            next_poll_at: START,
            poll_interval: Duration::from_secs(3),
        }
    }

    fn seen(state: &str, public_ip: Option<&str>) -> Instance {
        Instance {
            instance_id: "ins-1".into(),
            instance_state: Some(state.to_owned().into()),
            private_ip_addresses: vec!["10.1.0.2".into()],
            public_ip_addresses: public_ip.map(|ip| vec![ip.to_owned()]),
            ..Instance::default()
        }
    }

    fn apply(record: &mut InstanceRecord, update: &InstanceUpdate) {
        record.state = update.state.clone();
        record.public_ips = update.public_ips.clone();
        record.private_ips = update.private_ips.clone();
        record.running_at = record.running_at.or(update.running_at);
        record.public_ip_at = record.public_ip_at.or(update.public_ip_at);
        record.poll_interval = update.poll_interval;
    }

    fn keys(observation: &Observation) -> Vec<&str> {
        observation.notices.iter().map(|(key, _)| key.as_str()).collect()
    }

    #[test]
    fn an_expired_prepaid_instance_is_told_isolated_until_it_is_destroyed_and_stays_watched() {
        let mut record = record();
        record.billing = BillingKind::Prepaid;
        let isolated = Instance {
            restrict_state: Some("EXPIRED".into()),
            expired_time: Some("2025-01-01T00:00:00Z".into()),
            ..seen("SHUTDOWN", Some("43.1.2.3"))
        };
        let observation = observe(&record, Some(&isolated), START, &settings());
        assert_eq!(keys(&observation), ["instance:ins-1:isolated"]);
        let Event::Isolated { destroyed_at, .. } = &observation.notices[0].1 else {
            panic!("{:?}", observation.notices);
        };
        assert_eq!(*destroyed_at, START + EXPIRED_RETENTION);
        assert!(
            observation.update.watching,
            "renewable while isolated, so still watched"
        );
        assert_eq!(observation.update.gone_at, None);
    }

    #[test]
    fn an_ip_visible_at_the_first_running_poll_is_told_with_running_alone() {
        let observation = observe(&record(), Some(&seen("RUNNING", Some("43.1.2.3"))), START, &settings());
        assert_eq!(keys(&observation), ["instance:ins-1:running"]);
        assert_eq!(observation.update.public_ip_at, Some(START));
    }

    #[test]
    fn the_interval_grows_to_the_waiting_cap_while_the_ip_is_awaited_then_to_the_maximum() {
        let mut record = record();
        let mut now = START;
        let mut intervals = Vec::new();
        for poll in 0..12 {
            let ip = (poll >= 6).then_some("43.1.2.3");
            let observation = observe(&record, Some(&seen("RUNNING", ip)), now, &settings());
            apply(&mut record, &observation.update);
            intervals.push(record.poll_interval.as_secs_f64());
            now += record.poll_interval;
        }
        assert_eq!(intervals[0], 3.0, "RUNNING is a change: back to the first interval");
        assert!(
            intervals[1..6].iter().all(|i| *i <= 10.0),
            "waiting for the IP: {intervals:?}"
        );
        assert_eq!(intervals[5], 10.0, "{intervals:?}");
        assert_eq!(intervals[6], 3.0, "the IP is a change: {intervals:?}");
        assert!(intervals[11] > 10.0 && intervals[11] <= 60.0, "{intervals:?}");
    }

    #[test]
    fn an_instance_missing_from_a_fresh_listing_is_given_a_grace_period() {
        let observation = observe(&record(), None, START + Duration::from_secs(60), &settings());
        assert!(observation.notices.is_empty() && observation.update.watching);
        let observation = observe(&record(), None, START + Duration::from_secs(180), &settings());
        assert_eq!(keys(&observation), ["instance:ins-1:gone"]);
        assert!(!observation.update.watching);
    }

    #[test]
    fn a_fleets_server_missing_from_one_listing_is_looked_at_again_before_it_counts_as_gone() {
        let mut record = record();
        record.fleet_slot = Some(4);
        record.running_at = Some(START);
        record.state = InstanceState::Running;
        let later = START + Duration::from_secs(600);
        let first = observe(&record, None, later, &settings());
        assert!(
            first.update.gone_at.is_none() && first.update.watching,
            "one miss is not gone"
        );
        assert!(!first.fleet_news, "nothing for the fleet to do yet");
        apply(&mut record, &first.update);
        let second = observe(&record, None, later + Duration::from_secs(3), &settings());
        assert!(
            second.update.gone_at.is_some() && !second.update.watching,
            "two misses are"
        );
        assert!(
            second.fleet_news && second.notices.is_empty(),
            "the fleet's news, no message of its own"
        );
        // Seen again after one miss, it was never gone.
        let back = observe(
            &record,
            Some(&seen("RUNNING", None)),
            later + Duration::from_secs(3),
            &settings(),
        );
        assert!(back.update.gone_at.is_none() && back.update.state == InstanceState::Running);
    }
}
