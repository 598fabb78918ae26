//! How requests and notices look in a chat, the same for every adapter.

mod card;
mod notice;
mod spend;

pub use card::{price_text, request_card};
pub use notice::{notice, notice_batch, runway_words};
pub use spend::spend_summary;

use crate::desk::RequestView;
use crate::domain::{Operation, RequestId};
use crate::store::RequestRecord;
use time::OffsetDateTime;
use time::macros::format_description;

/// How times are written: Discord renders `<t:…>` in each reader's time zone; elsewhere UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeStyle {
    /// `<t:1700000000:f>` markup.
    Discord,
    /// `2026-11-23 10:00 UTC`.
    Utc,
}

impl TimeStyle {
    /// `at` written for this chat.
    pub fn at(self, at: OffsetDateTime) -> String {
        match self {
            TimeStyle::Discord => format!("<t:{}:f> (<t:{}:R>)", at.unix_timestamp(), at.unix_timestamp()),
            TimeStyle::Utc => at
                .format(format_description!("[year]-[month]-[day] [hour]:[minute] UTC"))
                .unwrap_or_else(|_| at.to_string()),
        }
    }
}

/// The id of a vote button: action, request id and the start of the approval hash it was shown with.
pub fn vote_button_id(action: &str, request_id: RequestId, approval_hash: &str) -> String {
    format!(
        "cvm:{action}:{request_id}:{}",
        &approval_hash[..approval_hash.len().min(12)]
    )
}

/// Reads a vote button id back: (approve?, request id, hash prefix).
pub fn parse_vote_button_id(id: &str) -> Option<(bool, RequestId, String)> {
    let mut parts = id.split(':');
    if parts.next()? != "cvm" {
        return None;
    }
    let approve = match parts.next()? {
        "approve" => true,
        "reject" => false,
        _ => return None,
    };
    let request_id = RequestId::new(parts.next()?.parse().ok()?);
    let hash = parts.next()?.to_owned();
    (parts.next().is_none() && !hash.is_empty()).then_some((approve, request_id, hash))
}

/// What a button under a time-to-live reminder does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifetimeAction {
    /// Extend the time to live.
    Extend,
    /// Release the servers now.
    ReleaseNow,
    /// Renew prepaid servers (asks for the months).
    Renew,
}

/// The id of a reminder's button: `cvm:extend:<purchase>` or `cvm:release-now:<purchase>`.
pub fn lifetime_button_id(action: LifetimeAction, purchase: RequestId) -> String {
    let name = match action {
        LifetimeAction::Extend => "extend",
        LifetimeAction::ReleaseNow => "release-now",
        LifetimeAction::Renew => "renew",
    };
    format!("cvm:{name}:{purchase}")
}

/// Reads a reminder button's id back.
pub fn parse_lifetime_button_id(id: &str) -> Option<(LifetimeAction, RequestId)> {
    let rest = id.strip_prefix("cvm:")?;
    let (name, number) = rest.split_once(':')?;
    let action = match name {
        "extend" => LifetimeAction::Extend,
        "release-now" => LifetimeAction::ReleaseNow,
        "renew" => LifetimeAction::Renew,
        _ => return None,
    };
    Some((action, RequestId::new(number.parse().ok()?)))
}

/// Short description of what a request asks for: `2 × S5.MEDIUM4 spot in ap-guangzhou-3`.
pub fn headline(view: &RequestView) -> String {
    operation_headline(&view.record.operation)
}

/// Short description of an operation.
pub fn operation_headline(operation: &Operation) -> String {
    match operation {
        Operation::Buy(spec) => format!(
            "{} × {} {} in {}",
            spec.count(),
            spec.instance_type(),
            spec.billing().kind().label(),
            spec.zone()
        ),
        Operation::Release(release) => match release.instance_ids.as_slice() {
            [one] => format!("release {one} of #{}", release.purchase),
            many => format!("release {} servers of #{}", many.len(), release.purchase),
        },
        Operation::Extend(extend) => format!("keep the servers of #{} longer", extend.purchase),
        Operation::Renew(renew) => format!(
            "renew {} server(s) of #{} for {} month(s)",
            renew.instance_ids.len(),
            renew.purchase,
            renew.months
        ),
        Operation::Fleet(fleet) => format!(
            "fleet {}: {} × {} spot in {}",
            fleet.name,
            fleet.count,
            fleet.template.instance_type(),
            fleet.template.zone()
        ),
        Operation::FleetChange(change) if change.end => format!("release fleet {}", change.name),
        Operation::FleetChange(change) => format!("scale fleet {} from {} to {}", change.name, change.from, change.to),
    }
}

/// One line of a listing: `#12 2 × S5.MEDIUM4 spot in ap-guangzhou-3 by alice: pending` (the
/// number in bold on Discord).
pub fn listing_line(record: &RequestRecord, style: TimeStyle) -> String {
    let number = match style {
        TimeStyle::Discord => format!("**#{}**", record.id),
        TimeStyle::Utc => format!("#{}", record.id),
    };
    format!(
        "{number} {} by {}: {}",
        operation_headline(&record.operation),
        record.requester_name,
        record.state.label()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vote_buttons_carry_the_request_and_the_hash_they_were_shown_with() {
        let id = vote_button_id("approve", RequestId::new(42), "0123456789abcdef0123");
        assert_eq!(id, "cvm:approve:42:0123456789ab");
        assert_eq!(
            parse_vote_button_id(&id),
            Some((true, RequestId::new(42), "0123456789ab".into()))
        );
        assert_eq!(
            parse_vote_button_id("cvm:reject:7:abc"),
            Some((false, RequestId::new(7), "abc".into()))
        );
        for bad in [
            "",
            "cvm:approve",
            "cvm:buy:1:x",
            "other:approve:1:x",
            "cvm:approve:x:y",
            "cvm:approve:1:",
        ] {
            assert_eq!(parse_vote_button_id(bad), None, "{bad}");
        }
    }
}
