//! The request card: what a request buys, its price, votes, state and instances.

use super::{TimeStyle, headline, vote_button_id};
use crate::chat::model::{APPROVE_EMOJI, Button, ButtonStyle, Card, Field, Outgoing, REJECT_EMOJI, Tone};
use crate::desk::{FleetView, RequestView};
use crate::domain::{BillingKind, BillingMode, Operation, PurchaseSpec, Quote, RequestState};
use crate::money::Yuan;
use crate::store::FleetState;

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
        (Quote::Refund { total }, _) => refund_text(*total),
        (Quote::Extension { per_hour, hours }, _) => format!(
            "{per_hour}/h for {hours} more hour(s): about {} in all",
            per_hour.times(u32::try_from(*hours).unwrap_or(u32::MAX))
        ),
    }
}

fn refund_text(total: Yuan) -> String {
    if total > Yuan::ZERO {
        format!("{total} back to the account")
    } else {
        format!("nothing back ({total}); it stops costing money")
    }
}

fn tone(state: RequestState) -> Tone {
    match state {
        RequestState::Pending => Tone::Pending,
        RequestState::Approved | RequestState::Submitting | RequestState::Submitted => Tone::Working,
        RequestState::Active | RequestState::Done => Tone::Success,
        RequestState::PartiallyActive => Tone::Warning,
        RequestState::LaunchFailed | RequestState::Rejected | RequestState::Failed | RequestState::Refused => {
            Tone::Failure
        }
        RequestState::Expired | RequestState::Cancelled => Tone::Info,
    }
}

fn status_line(view: &RequestView, style: TimeStyle) -> String {
    let r = &view.record;
    let all_released = !view.instances.is_empty() && view.instances.iter().all(|i| i.released_at.is_some());
    if all_released && matches!(r.operation, Operation::Buy(_)) {
        return "🗑️ Released: none of its servers is in use any more.".into();
    }
    if let Some(fleet) = &view.fleet {
        return fleet_status(fleet);
    }
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
        RequestState::Refused => match &r.note {
            Some(reason) => format!("⛔ Refused when its price was renewed: {reason} Nothing was bought."),
            None => "⛔ Refused when its price was renewed. Nothing was bought.".into(),
        },
        RequestState::Done => match &r.operation {
            Operation::Release(release) if release.billing == BillingKind::Prepaid => {
                "🗑️ Released: the servers are in Tencent Cloud's recycle bin.".into()
            }
            Operation::Release(release) if release.destroy => {
                "🗑️ Released: the servers were destroyed from the recycle bin.".into()
            }
            Operation::Release(_) => "🗑️ Released: the servers were destroyed.".into(),
            Operation::Extend(extend) => format!(
                "✅ Extended: the servers of #{} now run until {}.",
                extend.purchase,
                style.at(extend.until())
            ),
            Operation::Renew(renew) => format!(
                "✅ Renewed: the servers of #{} are paid for {} more month(s).",
                renew.purchase, renew.months
            ),
            Operation::FleetChange(change) if change.end => format!("🗑️ Done: fleet `{}` is released.", change.name),
            Operation::FleetChange(change) => {
                format!("✅ Done: fleet `{}` keeps {} server(s).", change.name, change.to)
            }
            Operation::Buy(_) | Operation::Fleet(_) => "✅ Done.".into(),
        },
    }
}

fn fleet_status(fleet: &FleetView) -> String {
    let f = &fleet.record;
    match f.state {
        FleetState::Ended => "🗑️ Released: the fleet's servers were given back.".into(),
        FleetState::Ending => format!("🗑️ Released: giving back its servers ({} still running).", fleet.live),
        FleetState::Running => match &f.waiting {
            Some(reason) => format!(
                "⏸️ Keeping {}: {} running, {} waiting. Refills wait: {reason}",
                f.desired, fleet.running, fleet.pending
            ),
            None if fleet.running == f.desired => format!("🟢 Keeping {}: all running.", f.desired),
            None => format!(
                "🛰️ Keeping {}: {} running, {} starting or to launch.",
                f.desired, fleet.running, fleet.pending
            ),
        },
    }
}

fn fleet_fields(view: &RequestView, fleet_spec: &crate::domain::FleetSpec, style: TimeStyle) -> Vec<Field> {
    let mut fields = vec![
        Field {
            name: "Budget".into(),
            value: match &view.fleet {
                Some(fleet) => format!(
                    "{} × max {} /h each: {} per month-equivalent",
                    fleet.record.approved,
                    fleet_spec.max_price(),
                    fleet.budget_per_month
                ),
                None => format!(
                    "{} × max {} /h each · {}",
                    fleet_spec.count,
                    fleet_spec.max_price(),
                    price_text(&view.record.quote, fleet_spec.template.billing(), fleet_spec.count)
                ),
            },
            inline: false,
        },
        Field {
            name: "Servers".into(),
            value: spec_text(&fleet_spec.template),
            inline: false,
        },
        Field {
            name: "Placements".into(),
            value: fleet_spec
                .placements()
                .iter()
                .enumerate()
                .map(|(n, p)| format!("{}. {p}", n + 1))
                .collect::<Vec<_>>()
                .join("\n"),
            inline: false,
        },
    ];
    match &view.fleet {
        Some(fleet) => {
            let f = &fleet.record;
            fields.push(Field {
                name: "Servers now".into(),
                value: format!(
                    "desired {} · running {} · pending {}{}",
                    f.desired,
                    fleet.running,
                    fleet.pending,
                    if fleet.by_placement.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "\n{}",
                            fleet
                                .by_placement
                                .iter()
                                .map(|(placement, n)| format!("{n} × {placement}"))
                                .collect::<Vec<_>>()
                                .join("\n")
                        )
                    }
                ),
                inline: false,
            });
            fields.push(Field {
                name: "Spend".into(),
                value: format!(
                    "{} this month (estimated at the market price quoted at approval) of a budget of {} per month",
                    fleet.spent_this_month, fleet.budget_per_month
                ),
                inline: false,
            });
            let last = |at: Option<time::OffsetDateTime>| at.map_or("never".to_owned(), |at| style.at(at));
            fields.push(Field {
                name: "Reclamations and refills".into(),
                value: format!(
                    "last reclamation {} ({} in all) · last refill {}",
                    last(f.last_reclaim_at),
                    f.reclaimed_total,
                    last(f.last_refill_at)
                ),
                inline: false,
            });
            if let Some(end) = f.ends_at {
                fields.push(Field {
                    name: "Time to live".into(),
                    value: format!("released automatically at {}", style.at(end)),
                    inline: false,
                });
            }
        }
        None => {
            fields.push(Field {
                name: "Dry run".into(),
                value: dry_run_text(view),
                inline: false,
            });
            fields.push(Field {
                name: "Time to live".into(),
                value: match fleet_spec.template.ttl() {
                    Some(ttl) => format!("{} after approval", crate::domain::duration::format_duration(ttl)),
                    None => "none: it runs until released".into(),
                },
                inline: false,
            });
        }
    }
    fields
}

fn spec_text(spec: &PurchaseSpec) -> String {
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

fn instances_text(view: &RequestView, style: TimeStyle) -> Option<String> {
    if view.instances.is_empty() {
        return None;
    }
    let lines: Vec<String> = view
        .instances
        .iter()
        .take(10)
        .map(|i| {
            if let (Some(at), Some(by)) = (i.released_at, i.release_request) {
                let note = view.releases.iter().find(|r| r.request_id == by);
                let who = note.map(|r| format!(" by {}", r.by)).unwrap_or_default();
                let why = note
                    .filter(|r| !r.reason.is_empty())
                    .map(|r| format!(": {}", r.reason))
                    .unwrap_or_default();
                let bin = if i.gone_at.is_none() {
                    ", in Tencent's recycle bin"
                } else {
                    ""
                };
                return format!(
                    "`{}` released {}{who}{bin} (request #{by}{why})",
                    i.instance_id,
                    style.at(at)
                );
            }
            let mut line = format!("`{}` {}", i.instance_id, i.state);
            if !i.private_ips.is_empty() {
                line.push_str(&format!(" · private {}", i.private_ips.join(", ")));
            }
            if !i.public_ips.is_empty() {
                line.push_str(&format!(" · public {}", i.public_ips.join(", ")));
            }
            if let Some(until) = i.expires_at.filter(|_| i.gone_at.is_none()) {
                let renews = if i.auto_renew { ", renews itself" } else { "" };
                line.push_str(&format!(" · paid until {}{renews}", style.at(until)));
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
    if let Some(reason) = r.operation.reason() {
        description = format!("> {reason}\n{description}");
    }
    let mut fields = vec![Field {
        name: "Requested by".into(),
        value: r.requester_name.clone(),
        inline: true,
    }];
    fields.extend(operation_fields(view, style));
    fields.push(if r.approvals_needed == 0 && view.votes.is_empty() {
        Field {
            name: "Approvals".into(),
            value: "not needed: the policy lets this go ahead at once".into(),
            inline: false,
        }
    } else {
        Field {
            name: format!("Approvals ({} of {})", view.approvals(), r.approvals_needed),
            value: votes_text(view),
            inline: false,
        }
    });
    // A fleet's servers come and go: its card counts them instead of listing them.
    if let Some(instances) = instances_text(view, style).filter(|_| !matches!(r.operation, Operation::Fleet(_))) {
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
        attachments: Vec::new(),
    }
}

/// What the operation is, in the fields its kind shows.
fn operation_fields(view: &RequestView, style: TimeStyle) -> Vec<Field> {
    let quote = &view.record.quote;
    match &view.record.operation {
        Operation::Buy(spec) => vec![
            Field {
                name: "Billing".into(),
                value: billing_text(spec),
                inline: true,
            },
            Field {
                name: "Price".into(),
                value: price_text(quote, spec.billing(), spec.count()),
                inline: false,
            },
            Field {
                name: "Servers".into(),
                value: spec_text(spec),
                inline: false,
            },
            Field {
                name: "Dry run".into(),
                value: dry_run_text(view),
                inline: false,
            },
            Field {
                name: "Time to live".into(),
                value: lifetime_text(view, spec, style),
                inline: false,
            },
        ],
        Operation::Release(release) => vec![
            Field {
                name: "Releasing".into(),
                value: format!(
                    "{} of request #{} ({}: {})",
                    release
                        .instance_ids
                        .iter()
                        .map(|i| format!("`{i}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    release.purchase,
                    release.billing.label(),
                    if release.destroy {
                        "destroyed from Tencent Cloud's recycle bin, for good"
                    } else if release.billing == BillingKind::Prepaid {
                        "to Tencent Cloud's recycle bin, with its prepaid data disks"
                    } else {
                        "destroyed"
                    }
                ),
                inline: false,
            },
            Field {
                name: "Refund".into(),
                value: match quote {
                    Quote::Refund { total } => {
                        let checked = view
                            .record
                            .quote_request_id
                            .as_deref()
                            .map(|id| format!(" (RequestId {id})"))
                            .unwrap_or_default();
                        format!("{}{checked}", refund_text(*total))
                    }
                    other => price_text(other, &crate::domain::BillingMode::PayAsYouGo, 1),
                },
                inline: false,
            },
        ],
        Operation::Renew(renew) => vec![
            Field {
                name: "Renewing".into(),
                value: format!(
                    "{} of request #{} for {} month(s)",
                    renew
                        .instance_ids
                        .iter()
                        .map(|i| format!("`{i}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    renew.purchase,
                    renew.months
                ),
                inline: false,
            },
            Field {
                name: "Price".into(),
                value: price_text(
                    quote,
                    &crate::domain::BillingMode::Prepaid {
                        months: renew.months,
                        auto_renew: false,
                    },
                    1,
                ),
                inline: false,
            },
            Field {
                name: "Dry run".into(),
                value: dry_run_text(view),
                inline: false,
            },
        ],
        Operation::Fleet(fleet) => fleet_fields(view, fleet, style),
        Operation::FleetChange(change) => vec![
            Field {
                name: "Fleet".into(),
                value: if change.end {
                    format!(
                        "release fleet `{}` (request #{}): give back its {} server(s) and end it",
                        change.name, change.fleet, change.from
                    )
                } else {
                    format!(
                        "fleet `{}` (request #{}) keeps {} server(s) instead of {}",
                        change.name, change.fleet, change.to, change.from
                    )
                },
                inline: false,
            },
            Field {
                name: "Budget".into(),
                value: if change.beyond_approved() > 0 {
                    format!(
                        "{} more server(s) than approved so far ({}), at max {} /h each: {}",
                        change.beyond_approved(),
                        change.approved,
                        change.max_price,
                        price_text(
                            quote,
                            &crate::domain::BillingMode::Spot {
                                max_price: change.max_price
                            },
                            change.beyond_approved()
                        )
                    )
                } else {
                    format!("within the approved budget ({} server(s))", change.approved)
                },
                inline: false,
            },
        ],
        Operation::Extend(extend) => vec![
            Field {
                name: "Extending".into(),
                value: format!(
                    "the servers of request #{} until {} (past the policy's maximum, so it needs an approver)",
                    extend.purchase,
                    style.at(extend.until())
                ),
                inline: false,
            },
            Field {
                name: "Cost".into(),
                value: price_text(quote, &crate::domain::BillingMode::PayAsYouGo, 1),
                inline: false,
            },
        ],
    }
}

/// When a purchase's servers are released automatically.
fn lifetime_text(view: &RequestView, spec: &PurchaseSpec, style: TimeStyle) -> String {
    match (&view.lifetime, spec.ttl()) {
        (Some(lifetime), _) if lifetime.ended_at.is_some() => match lifetime.release_request {
            Some(release) => format!(
                "ended {}: released by request #{release}",
                style.at(lifetime.ended_at.unwrap_or(lifetime.release_at))
            ),
            None => "ended; nothing was left to release".into(),
        },
        (Some(lifetime), _) => {
            let extended = match lifetime.extensions {
                0 => String::new(),
                1 => " (extended once)".into(),
                n => format!(" (extended {n} times)"),
            };
            format!("released automatically at {}{extended}", style.at(lifetime.release_at))
        }
        (None, Some(ttl)) => format!(
            "released automatically {} after purchase",
            crate::domain::duration::format_duration(ttl)
        ),
        (None, None) => "none: runs until someone releases it".into(),
    }
}

fn billing_text(spec: &PurchaseSpec) -> String {
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
