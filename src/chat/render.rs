//! How requests and notices look in a chat, the same for every adapter.

use super::model::{APPROVE_EMOJI, Button, ButtonStyle, Card, Field, Outgoing, REJECT_EMOJI, Tone};
use super::notice::Notice;
use crate::desk::RequestView;
use crate::domain::{BillingMode, Quote, RequestState};
use crate::money::Yuan;
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
pub fn vote_button_id(action: &str, request_id: i64, approval_hash: &str) -> String {
    format!(
        "cvm:{action}:{request_id}:{}",
        &approval_hash[..approval_hash.len().min(12)]
    )
}

/// Reads a vote button id back: (approve?, request id, hash prefix).
pub fn parse_vote_button_id(id: &str) -> Option<(bool, i64, String)> {
    let mut parts = id.split(':');
    if parts.next()? != "cvm" {
        return None;
    }
    let approve = match parts.next()? {
        "approve" => true,
        "reject" => false,
        _ => return None,
    };
    let request_id = parts.next()?.parse().ok()?;
    let hash = parts.next()?.to_owned();
    (parts.next().is_none() && !hash.is_empty()).then_some((approve, request_id, hash))
}

/// Short description of what a request buys: `2 × S5.MEDIUM4 spot in ap-guangzhou-3`.
pub fn headline(view: &RequestView) -> String {
    let spec = &view.record.spec;
    format!(
        "{} × {} {} in {}",
        spec.count(),
        spec.instance_type(),
        spec.billing().kind().label(),
        spec.zone()
    )
}

/// The price in words, per billing mode, with the currency.
pub fn price_text(quote: &Quote, billing: &BillingMode, count: u32) -> String {
    let traffic = quote
        .traffic_per_gb()
        .map(|p| format!(", plus traffic {p}/GB"))
        .unwrap_or_default();
    match (quote, billing) {
        (Quote::Hourly { per_hour, .. }, _) => {
            format!(
                "{}/h ({} per month-equivalent){traffic}",
                per_hour,
                quote.monthly_equivalent()
            )
        }
        (
            Quote::Spot {
                market_per_hour,
                ceiling_per_hour,
                ..
            },
            BillingMode::Spot { max_price },
        ) => format!(
            "market {market_per_hour}/h now; at most {ceiling_per_hour}/h at the bid of {} per instance ({} per month-equivalent){traffic}",
            max_price.plain(),
            quote.monthly_equivalent()
        ),
        (
            Quote::Prepaid {
                total,
                months,
                extra_per_hour,
                ..
            },
            _,
        ) => {
            let extra = if *extra_per_hour > Yuan::ZERO {
                format!(" + {extra_per_hour}/h bandwidth")
            } else {
                String::new()
            };
            format!(
                "{total} for {months} month(s), paid now{extra} ({} per month-equivalent){traffic}",
                quote.monthly_equivalent()
            )
        }
        (Quote::Spot { .. }, _) => format!("{} per month-equivalent (x{count})", quote.monthly_equivalent()),
    }
}

fn tone(state: RequestState) -> Tone {
    match state {
        RequestState::Pending => Tone::Pending,
        RequestState::Approved | RequestState::Submitting | RequestState::Submitted => Tone::Working,
        RequestState::Active => Tone::Success,
        RequestState::PartiallyActive => Tone::Warning,
        RequestState::LaunchFailed | RequestState::Rejected | RequestState::Failed => Tone::Failure,
        RequestState::Expired | RequestState::Cancelled => Tone::Info,
    }
}

fn status_line(view: &RequestView, style: TimeStyle) -> String {
    let r = &view.record;
    let by = r.decided_by.as_deref().unwrap_or("someone");
    match r.state {
        RequestState::Pending => format!(
            "⏳ Waiting for approval: {} of {} given. Expires {}.",
            view.approvals(),
            r.approvals_needed,
            style.at(r.expires_at)
        ),
        RequestState::Approved if r.attempt > 1 => format!("🔁 Approved; spot attempt {} is scheduled.", r.attempt),
        RequestState::Approved => "✅ Approved; submitting to Tencent Cloud.".into(),
        RequestState::Submitting => "📨 Submitting to Tencent Cloud.".into(),
        RequestState::Submitted => "🚀 Submitted; instances are launching.".into(),
        RequestState::Active => "🟢 Active: every instance is running.".into(),
        RequestState::PartiallyActive => "🟡 Partly active: some instances failed to launch.".into(),
        RequestState::LaunchFailed => "🔴 Every instance failed to launch.".into(),
        RequestState::Rejected => match &r.note {
            Some(reason) => format!("❌ Rejected by {by}: {reason}"),
            None => format!("❌ Rejected by {by}."),
        },
        RequestState::Expired => "⌛ Expired without enough approvals.".into(),
        RequestState::Cancelled => format!("🚫 Cancelled by {by}."),
        RequestState::Failed => {
            let why = r
                .failure
                .as_ref()
                .map_or("Tencent Cloud refused it.".to_owned(), |f| f.explanation.clone());
            format!("🔴 Failed: {why}")
        }
    }
}

fn spec_text(view: &RequestView) -> String {
    let spec = &view.record.spec;
    let disk = spec.system_disk();
    let mut parts = vec![
        format!("{} × {}", spec.count(), spec.instance_type()),
        format!("image {}", spec.image()),
        format!("system disk {} {} GiB", disk.disk_type, disk.size_gib),
    ];
    for data in spec.data_disks() {
        parts.push(format!("data disk {} {} GiB", data.disk_type, data.size_gib));
    }
    let bandwidth = spec.bandwidth();
    if bandwidth.mbps > 0 {
        parts.push(format!("{} Mbps ({})", bandwidth.mbps, bandwidth.charge));
    } else {
        parts.push("no public IP".into());
    }
    if let Some(network) = spec.network() {
        parts.push(format!("{} / {}", network.vpc, network.subnet));
    }
    if let Some(name) = spec.name() {
        parts.push(format!("name {name}"));
    }
    match spec.billing() {
        BillingMode::Prepaid { auto_renew: true, .. } => parts.push("auto-renew".into()),
        BillingMode::Spot { .. } if spec.keep_trying().is_some() => parts.push("keep trying".into()),
        _ => {}
    }
    parts.join(" · ")
}

fn votes_text(view: &RequestView) -> String {
    if view.votes.is_empty() {
        return "none yet".into();
    }
    view.votes
        .iter()
        .map(|v| {
            let mark = if v.approve { APPROVE_EMOJI } else { REJECT_EMOJI };
            let stale = if v.approval_hash != view.record.approval_hash {
                " (before the price changed)"
            } else {
                ""
            };
            format!("{mark} {}{stale}", v.voter_name)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn instances_text(view: &RequestView) -> Option<String> {
    if view.instances.is_empty() {
        return None;
    }
    let lines: Vec<String> = view
        .instances
        .iter()
        .take(10)
        .map(|i| {
            let mut line = format!("`{}` {}", i.instance_id, i.state);
            if !i.private_ips.is_empty() {
                line.push_str(&format!(" · private {}", i.private_ips.join(", ")));
            }
            if !i.public_ips.is_empty() {
                line.push_str(&format!(" · public {}", i.public_ips.join(", ")));
            }
            line
        })
        .collect();
    let more = view.instances.len().saturating_sub(10);
    Some(if more > 0 {
        format!("{}\n… and {more} more", lines.join("\n"))
    } else {
        lines.join("\n")
    })
}

/// The request card, with vote buttons and reactions while it is pending.
pub fn request_card(view: &RequestView, style: TimeStyle) -> Outgoing {
    let r = &view.record;
    let mut description = status_line(view, style);
    if let Some(reason) = r.spec.reason() {
        description = format!("> {reason}\n{description}");
    }
    let mut fields = vec![
        Field {
            name: "Requested by".into(),
            value: r.requester_name.clone(),
            inline: true,
        },
        Field {
            name: "Billing".into(),
            value: billing_text(&r.spec),
            inline: true,
        },
        Field {
            name: "Price".into(),
            value: price_text(&r.quote, r.spec.billing(), r.spec.count()),
            inline: false,
        },
        Field {
            name: "Servers".into(),
            value: spec_text(view),
            inline: false,
        },
        Field {
            name: "Dry run".into(),
            value: dry_run_text(view),
            inline: false,
        },
        Field {
            name: format!("Approvals ({} of {})", view.approvals(), r.approvals_needed),
            value: votes_text(view),
            inline: false,
        },
    ];
    if let Some(instances) = instances_text(view) {
        fields.push(Field {
            name: "Instances".into(),
            value: instances,
            inline: false,
        });
    }
    let card = Card {
        title: format!("Request #{}: {}", r.id, headline(view)),
        tone: tone(r.state),
        description: Some(description),
        fields,
        footer: Some(format!(
            "cvmbot · request {} · approval hash {}",
            r.id,
            &r.approval_hash[..12]
        )),
    };
    let pending = r.state == RequestState::Pending;
    let buttons = if pending {
        vec![
            Button {
                id: vote_button_id("approve", r.id, &r.approval_hash),
                label: "Approve".into(),
                style: ButtonStyle::Success,
            },
            Button {
                id: vote_button_id("reject", r.id, &r.approval_hash),
                label: "Reject".into(),
                style: ButtonStyle::Danger,
            },
        ]
    } else {
        Vec::new()
    };
    let reactions = if pending {
        vec![APPROVE_EMOJI.to_owned(), REJECT_EMOJI.to_owned()]
    } else {
        Vec::new()
    };
    Outgoing {
        text: None,
        card: Some(card),
        buttons,
        reactions,
        mentions: Vec::new(),
        dedupe_key: None,
    }
}

fn billing_text(spec: &crate::domain::PurchaseSpec) -> String {
    match spec.billing() {
        BillingMode::PayAsYouGo => "pay-as-you-go".into(),
        BillingMode::Spot { max_price } => format!("spot, bid {}/h per instance", max_price),
        BillingMode::Prepaid { months, auto_renew } => {
            format!(
                "prepaid, {months} month(s){}",
                if *auto_renew { ", auto-renew" } else { "" }
            )
        }
    }
}

fn dry_run_text(view: &RequestView) -> String {
    let r = &view.record;
    let mut text = match &r.dry_run_request_id {
        Some(id) if !id.is_empty() => format!("passed (RequestId {id})"),
        _ => "passed".to_owned(),
    };
    if let Some(warning) = &r.balance_warning {
        text = format!("{text}\n⚠️ {warning}");
    }
    text
}

/// Several notices as one message, one line each (a single notice renders as itself).
pub fn notice_batch(notices: &[Notice], request_headline: Option<&str>) -> Outgoing {
    if let [single] = notices {
        return notice(single, request_headline);
    }
    let mut mentions = Vec::new();
    let lines: Vec<String> = notices
        .iter()
        .map(|n| {
            let rendered = notice(n, request_headline);
            mentions.extend(rendered.mentions);
            rendered.text.unwrap_or_default()
        })
        .collect();
    Outgoing {
        text: Some(lines.join("\n")),
        mentions,
        ..Outgoing::default()
    }
}

/// A notice as a message. `request_headline` is the request's headline when the notice has one.
pub fn notice(notice: &Notice, request_headline: Option<&str>) -> Outgoing {
    let about = |id: &i64| match request_headline {
        Some(headline) => format!("Request #{id} ({headline})"),
        None => format!("Request #{id}"),
    };
    let text = match notice {
        Notice::Submitted {
            request_id,
            instance_ids,
            tencent_request_id,
        } => format!(
            "📨 {} was submitted to Tencent Cloud: {} (RequestId {tencent_request_id}). Waiting for the instances to start.",
            about(request_id),
            instance_ids
                .iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Notice::Running {
            request_id,
            instance_id,
            private_ips,
            public_ips,
            public_ip_pending,
        } => {
            let mut text = format!("🟢 `{instance_id}` of request #{request_id} is RUNNING");
            if !private_ips.is_empty() {
                text.push_str(&format!(" · private IP {}", private_ips.join(", ")));
            }
            if !public_ips.is_empty() {
                text.push_str(&format!(" · public IP {}", public_ips.join(", ")));
            } else if *public_ip_pending {
                text.push_str(" · public IP not assigned yet (usually within 1–5 minutes)");
            }
            text
        }
        Notice::PublicIp {
            request_id,
            instance_id,
            public_ips,
        } => {
            format!(
                "🌐 `{instance_id}` of request #{request_id} has its public IP: {}",
                public_ips.join(", ")
            )
        }
        Notice::LaunchFailed {
            request_id,
            instance_id,
            reason,
        } => {
            format!("🔴 `{instance_id}` of request #{request_id} failed to launch: {reason}")
        }
        Notice::StillPending {
            request_id,
            instance_id,
            minutes,
        } => format!(
            "⏳ `{instance_id}` of request #{request_id} is still PENDING after {minutes} minutes; Tencent Cloud may be short of capacity."
        ),
        Notice::Reclaimed {
            request_id,
            instance_id,
            reason,
        } => {
            format!("⚠️ `{instance_id}` of request #{request_id} is gone: {reason}")
        }
        Notice::Failed {
            request_id,
            explanation,
            code,
            tencent_request_id,
        } => {
            let id = tencent_request_id
                .as_deref()
                .map(|i| format!(", RequestId {i}"))
                .unwrap_or_default();
            format!(
                "🔴 {} failed: {explanation} ({code}{id}). Nothing was bought.",
                about(request_id)
            )
        }
        Notice::Retrying {
            request_id,
            attempt,
            explanation,
            next_attempt,
            until,
        } => format!(
            "🔁 {} attempt {attempt} did not go through: {explanation} Trying again at {next_attempt} (keeps trying until {until}).",
            about(request_id)
        ),
        Notice::Unreachable {
            request_id,
            explanation,
        } => format!(
            "📡 {}: {explanation} cvmbot will resend the same purchase (same ClientToken, so it cannot be bought twice).",
            about(request_id)
        ),
        Notice::Requoted {
            request_id,
            approved_monthly,
            new_monthly,
        } => format!(
            "💱 The price of {} rose from {approved_monthly} to {new_monthly} per month-equivalent since it was approved; it needs approval again.",
            about(request_id)
        ),
        Notice::Expired {
            request_id,
            requester_id,
        } => {
            format!(
                "⌛ <@{requester_id}> your {} expired without enough approvals. File it again if it is still needed.",
                about(request_id)
            )
        }
        Notice::LowBalance {
            spendable,
            below,
            burn_per_hour,
            runway,
        } => format!(
            "⚠️ Tencent Cloud balance is {spendable}, below {below}. Servers bought by cvmbot burn {burn_per_hour}/h{}. Top up before it runs dry: an account that owes money gets its servers reclaimed.",
            runway_text(runway)
        ),
        Notice::Owing {
            owe,
            spendable,
            burn_per_hour,
        } => format!(
            "🚨 The Tencent Cloud account OWES {owe} (spendable {spendable}, burning {burn_per_hour}/h). Tencent will stop and reclaim pay-as-you-go and spot servers: top up now."
        ),
        Notice::BalanceReminder {
            spendable,
            owe,
            burn_per_hour,
            runway,
        } => {
            if owe.get() > 0 {
                format!("🚨 Reminder: the Tencent Cloud account still owes {owe} (burning {burn_per_hour}/h).")
            } else {
                format!(
                    "⚠️ Reminder: the Tencent Cloud balance is still low at {spendable} (burning {burn_per_hour}/h{}).",
                    runway_text(runway)
                )
            }
        }
        Notice::BalanceRecovered { spendable } => format!("✅ The Tencent Cloud balance is back to {spendable}."),
        Notice::Digest {
            date,
            instances_bought,
            burn_per_hour,
            spendable,
            runway,
            pending_requests,
        } => format!(
            "📊 cvmbot digest for {date}: {instances_bought} instance(s) bought in the last day, burning {burn_per_hour}/h; balance {spendable}{}; {pending_requests} request(s) waiting for approval.",
            runway_text(runway)
        ),
    };
    let mentions = match notice {
        Notice::Expired { requester_id, .. } => vec![*requester_id],
        _ => Vec::new(),
    };
    Outgoing {
        text: Some(text),
        mentions,
        ..Outgoing::default()
    }
}

fn runway_text(runway: &Option<String>) -> String {
    runway
        .as_deref()
        .map(|r| format!(", a runway of {r}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vote_buttons_carry_the_request_and_the_hash_they_were_shown_with() {
        let id = vote_button_id("approve", 42, "0123456789abcdef0123");
        assert_eq!(id, "cvm:approve:42:0123456789ab");
        assert_eq!(parse_vote_button_id(&id), Some((true, 42, "0123456789ab".into())));
        assert_eq!(parse_vote_button_id("cvm:reject:7:abc"), Some((false, 7, "abc".into())));
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
