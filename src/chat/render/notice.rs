//! Notices as chat messages.

use super::{LifetimeAction, TimeStyle, lifetime_button_id};
use crate::chat::model::{Button, ButtonStyle, Outgoing};
use crate::desk::{Event, Runway};
use crate::domain::{OperationKind, RequestId};

/// Several notices as one message, one line each (a single notice renders as itself).
pub fn notice_batch(notices: &[Event], request_headline: Option<&str>, style: TimeStyle) -> Outgoing {
    if let [single] = notices {
        return notice(single, request_headline, style);
    }
    let mut mentions = Vec::new();
    let lines: Vec<String> = notices
        .iter()
        .map(|n| {
            let rendered = notice(n, request_headline, style);
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
pub fn notice(notice: &Event, request_headline: Option<&str>, style: TimeStyle) -> Outgoing {
    let about = |id: &RequestId| match request_headline {
        Some(headline) => format!("Request #{id} ({headline})"),
        None => format!("Request #{id}"),
    };
    let text = match notice {
        Event::Submitted {
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
        Event::Running {
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
        Event::PublicIp {
            request_id,
            instance_id,
            public_ips,
        } => {
            format!(
                "🌐 `{instance_id}` of request #{request_id} has its public IP: {}",
                public_ips.join(", ")
            )
        }
        Event::LaunchFailed {
            request_id,
            instance_id,
            reason,
        } => {
            format!("🔴 `{instance_id}` of request #{request_id} failed to launch: {reason}")
        }
        Event::StillPending {
            request_id,
            instance_id,
            minutes,
        } => format!(
            "⏳ `{instance_id}` of request #{request_id} is still PENDING after {minutes} minutes; Tencent Cloud may be short of capacity."
        ),
        Event::Reclaimed {
            request_id,
            instance_id,
            reason,
        } => {
            format!("⚠️ `{instance_id}` of request #{request_id} is gone: {reason}")
        }
        Event::Failed {
            request_id,
            explanation,
            code,
            tencent_request_id,
            operation,
        } => {
            let id = tencent_request_id
                .as_deref()
                .map(|i| format!(", RequestId {i}"))
                .unwrap_or_default();
            let nothing = match operation {
                OperationKind::Buy => "Nothing was bought.",
                OperationKind::Release => "Nothing was released.",
                OperationKind::Extend => "The time to live is unchanged.",
                OperationKind::Renew => "Nothing was renewed or paid.",
                OperationKind::Fleet => "No fleet was started.",
                OperationKind::FleetChange => "The fleet is unchanged.",
            };
            format!("🔴 {} failed: {explanation} ({code}{id}). {nothing}", about(request_id))
        }
        Event::Released {
            request_id,
            purchase,
            instance_ids,
            recycled,
            tencent_request_id,
        } => {
            let id = tencent_request_id
                .as_deref()
                .map(|i| format!(" (RequestId {i})"))
                .unwrap_or_default();
            let what = if *recycled {
                "are in Tencent Cloud's recycle bin (prepaid: they can still be recovered there for a while)"
            } else {
                "were destroyed"
            };
            format!(
                "🗑️ {}: the servers of request #{purchase} {what}{id}: {}.",
                about(request_id),
                instance_ids
                    .iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Event::Retrying {
            request_id,
            attempt,
            explanation,
            next_attempt,
            until,
        } => format!(
            "🔁 {} attempt {attempt} did not go through: {explanation} Trying again at {} (keeps trying until {}).",
            about(request_id),
            style.at(*next_attempt),
            style.at(*until)
        ),
        Event::Unreachable {
            request_id,
            explanation,
            operation,
        } => {
            let then = match operation {
                OperationKind::Buy => {
                    "cvmbot will resend the same purchase (same ClientToken, so it cannot be bought twice)."
                }
                OperationKind::Release => {
                    "cvmbot will look at the servers again and send the release only for those still in use."
                }
                OperationKind::Extend | OperationKind::Fleet | OperationKind::FleetChange => "cvmbot will try again.",
                OperationKind::Renew => {
                    "cvmbot will look at the servers' expiry again and renew only those not renewed yet, so nothing is paid twice."
                }
            };
            format!("📡 {}: {explanation} {then}", about(request_id))
        }
        Event::Requoted {
            request_id,
            approved_monthly,
            new_monthly,
            approvals_needed,
        } => {
            let needed = match approvals_needed {
                0 => String::new(),
                1 => " (1 approval at the new price)".to_owned(),
                n => format!(" ({n} approvals at the new price)"),
            };
            format!(
                "💱 The price of {} rose from {approved_monthly} to {new_monthly} per month-equivalent since it was approved; it needs approval again{needed}.",
                about(request_id)
            )
        }
        Event::RefusedOnRequote {
            request_id,
            approved_monthly,
            new_monthly,
            reason,
        } => format!(
            "⛔ The price of {} changed from {approved_monthly} to {new_monthly} per month-equivalent since it was approved, and the policy no longer allows it: {reason} Nothing was bought.",
            about(request_id)
        ),
        Event::PurchaseUnresolved {
            request_id,
            answers,
            explanation,
            instance_ids,
            operation,
        } => {
            let named = if instance_ids.is_empty() {
                String::new()
            } else {
                format!(
                    " The last answer named {}.",
                    instance_ids
                        .iter()
                        .map(|i| format!("`{i}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            match operation {
                OperationKind::Buy => format!(
                    "❓ cvmbot cannot tell whether Tencent Cloud bought {}: {answers} answer(s) in a row could not be read ({explanation}).{named} It keeps asking with the same ClientToken, so nothing is bought twice; check the CVM console for instances tagged cvmbot-request={request_id}.",
                    about(request_id)
                ),
                OperationKind::Release | OperationKind::Extend | OperationKind::Fleet | OperationKind::FleetChange => {
                    format!(
                        "❓ cvmbot cannot tell whether Tencent Cloud carried out {}: {answers} answer(s) in a row could not be read ({explanation}). Before each new try it looks at the servers and sends the release only for those still in use; check them in the CVM console.",
                        about(request_id)
                    )
                }
                OperationKind::Renew => format!(
                    "❓ cvmbot cannot tell whether Tencent Cloud renewed {}: {answers} answer(s) in a row could not be read ({explanation}). Before each new try it compares the servers' end of period and renews only those not renewed yet, so nothing is paid twice; check them in the CVM console.",
                    about(request_id)
                ),
            }
        }
        Event::Renewed {
            request_id,
            purchase,
            instance_ids,
            months,
            tencent_request_id,
        } => {
            let id = tencent_request_id
                .as_deref()
                .map(|i| format!(" (RequestId {i})"))
                .unwrap_or_default();
            format!(
                "🔁 {}: {} of request #{purchase} renewed for {months} month(s){id}.",
                about(request_id),
                listed(instance_ids)
            )
        }
        Event::FleetStarted {
            request_id,
            name,
            count,
        } => format!(
            "🛰️ {}: fleet `{name}` is approved. cvmbot launches {count} spot server(s) and keeps them running, refilling what Tencent Cloud reclaims; its news is summarised here.",
            about(request_id)
        ),
        Event::FleetNews {
            name,
            reclaimed,
            launched,
            failed,
            running,
            desired,
            ..
        } => {
            let mut parts = Vec::new();
            if *reclaimed > 0 {
                parts.push(format!("{reclaimed} reclaimed or gone"));
            }
            if *failed > 0 {
                parts.push(format!("{failed} failed to launch"));
            }
            if *launched > 0 {
                parts.push(format!("{launched} launched"));
            }
            format!(
                "🛰️ Fleet `{name}`: {} since the last summary; {running} of {desired} running now.",
                parts.join(", ")
            )
        }
        Event::FleetWaiting {
            name,
            reason,
            next_try_at,
            ..
        } => format!(
            "⏸️ Fleet `{name}` cannot refill now: {reason} It never bids above its max price; it tries again at {} and keeps backing off until a server launches.",
            style.at(*next_try_at)
        ),
        Event::FleetChanged {
            request_id,
            name,
            from,
            to,
            end,
            ..
        } => {
            if *end {
                format!(
                    "🗑️ {}: fleet `{name}` is released; its {from} server(s) are being given back.",
                    about(request_id)
                )
            } else if to > from {
                format!(
                    "📈 {}: fleet `{name}` now keeps {to} server(s) (was {from}).",
                    about(request_id)
                )
            } else {
                format!(
                    "📉 {}: fleet `{name}` now keeps {to} server(s) (was {from}); the newest {} are being given back.",
                    about(request_id),
                    from - to
                )
            }
        }
        Event::FleetEnded { request_id, name } => format!(
            "⏰ {}: fleet `{name}` reached the end of its time to live; its servers are being given back.",
            about(request_id)
        ),
        Event::AutoRenewSet {
            request_id,
            by,
            on,
            instance_ids,
        } => {
            if *on {
                format!(
                    "🔁 {by} turned automatic renewal on for {} of {}: at each expiry Tencent Cloud renews them for a month from the balance.",
                    listed(instance_ids),
                    about(request_id)
                )
            } else {
                format!(
                    "⏸️ {by} turned automatic renewal off for {} of {}: they are isolated when their period ends unless renewed.",
                    listed(instance_ids),
                    about(request_id)
                )
            }
        }
        Event::StillRunning { owner, purchases, .. } => {
            let lines: Vec<String> = purchases
                .iter()
                .take(STILL_RUNNING_LINES)
                .map(|p| {
                    let burn = if p.per_hour > crate::money::Yuan::ZERO {
                        format!("{}/h, {} since purchase", p.per_hour, p.since_purchase)
                    } else {
                        format!("prepaid, {} paid", p.since_purchase)
                    };
                    let ttl = p
                        .release_at
                        .map(|at| format!("; released automatically {}", style.at(at)))
                        .unwrap_or_else(|| "; no time to live".to_owned());
                    format!("• #{} {}: {} server(s), {burn}{ttl}", p.purchase, p.headline, p.servers)
                })
                .collect();
            let more = purchases.len().saturating_sub(STILL_RUNNING_LINES);
            let more = if more > 0 {
                format!("\n… and {more} more (/cvm list mine)")
            } else {
                String::new()
            };
            format!(
                "🧾 <@{owner}> what cvmbot bought for you still runs:\n{}{more}",
                lines.join("\n")
            )
        }
        Event::Isolated {
            request_id,
            instance_id,
            destroyed_at,
        } => format!(
            "🧊 `{instance_id}` of request #{request_id} reached the end of its prepaid period without renewal: Tencent Cloud shut it down and keeps it, with its data, until {}, then destroys it. `/cvm renew request:{request_id} months:1` brings it back.",
            style.at(*destroyed_at)
        ),
        Event::RenewalReminder {
            request_id,
            owner,
            instance_ids,
            expires_at,
            auto_renew,
            shortfall,
        } => {
            let then = match (auto_renew, shortfall) {
                (true, Some((price, spendable))) => format!(
                    "Tencent Cloud would renew them for a month ({price}), but the balance ({}) does not cover it: top up, or they are isolated then.",
                    spendable.to_yuan()
                ),
                (true, None) => "Tencent Cloud renews them then for a month from the balance.".to_owned(),
                (false, _) => {
                    "They are isolated then unless renewed: **Renew…** pays for more months (approved like a purchase)."
                        .to_owned()
                }
            };
            format!(
                "📅 <@{owner}> the prepaid period of {} ({}) ends {}. {then}",
                about(request_id),
                listed(instance_ids),
                style.at(*expires_at)
            )
        }
        Event::TtlReminder {
            request_id,
            owner,
            instance_ids,
            release_at,
            extend_to,
            extension_needs_approval,
        } => {
            let extend = if *extension_needs_approval {
                format!(
                    "**Extend** asks an approver to keep them until {}",
                    style.at(*extend_to)
                )
            } else {
                format!("**Extend** keeps them until {}", style.at(*extend_to))
            };
            format!(
                "⏰ <@{owner}> the time to live of {} ends {}: {} will be released then. {extend}; **Release now** gives them back at once.",
                about(request_id),
                style.at(*release_at),
                listed(instance_ids)
            )
        }
        Event::Extended {
            request_id,
            by,
            release_at,
            extension_request,
        } => {
            let approved = extension_request
                .map(|r| format!(" (extension request #{r} was approved)"))
                .unwrap_or_default();
            format!(
                "⏳ {by} extended the time to live of {}: its servers are released at {}{approved}.",
                about(request_id),
                style.at(*release_at)
            )
        }
        Event::TtlEnded {
            request_id,
            release_request,
            instance_ids,
        } => match release_request {
            Some(release) => format!(
                "⌛ The time to live of {} ended: release request #{release} gives back {} (approved with the purchase).",
                about(request_id),
                listed(instance_ids)
            ),
            None => format!(
                "⌛ The time to live of {} ended; none of its servers was left to release.",
                about(request_id)
            ),
        },
        Event::Expired {
            request_id,
            requester_id,
        } => {
            format!(
                "⌛ <@{requester_id}> your {} expired without enough approvals. File it again if it is still needed.",
                about(request_id)
            )
        }
        Event::LowBalance {
            spendable,
            below,
            burn_per_hour,
            runway,
        } => format!(
            "⚠️ Tencent Cloud balance is {spendable}, below {below}. Servers bought by cvmbot burn {burn_per_hour}/h{}. Top up before it runs dry: an account that owes money gets its servers reclaimed.",
            runway_text(runway)
        ),
        Event::Owing {
            owe,
            spendable,
            burn_per_hour,
        } => format!(
            "🚨 The Tencent Cloud account OWES {owe} (spendable {spendable}, burning {burn_per_hour}/h). Tencent will stop and reclaim pay-as-you-go and spot servers: top up now."
        ),
        Event::BalanceReminder {
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
        Event::BalanceRecovered { spendable } => format!("✅ The Tencent Cloud balance is back to {spendable}."),
        Event::BalanceUnreadable { explanation } => format!(
            "🙈 cvmbot cannot read the Tencent Cloud balance, so it cannot warn before the account runs dry: {explanation} If the key lacks the permission, give it finance:DescribeAccountBalance (see the README's \"Tencent Cloud permissions\")."
        ),
        Event::BalanceReadable { spendable } => {
            format!("👀 cvmbot can read the Tencent Cloud balance again: {spendable}.")
        }
        Event::DatabaseUnwritable { error } => format!(
            "🛑 cvmbot cannot write to its database ({error}): nothing can be filed, approved or bought, and no notice can be queued, until it can. Free space on its disk; cvmbot carries on by itself once it can write again."
        ),
        Event::DatabaseWritable => "✅ cvmbot can write to its database again and carries on.".into(),
        Event::BudgetCrossed {
            budget,
            scope,
            month,
            threshold,
            figure,
            spent,
            forecast,
            monthly,
            counts,
        } => {
            let cents = |y: &crate::money::Yuan| crate::money::Yuan::new(y.amount().round_dp(2));
            let (spent, forecast) = (cents(spent), cents(forecast));
            let share = |y: crate::money::Yuan| crate::domain::budget::percent(y, *monthly);
            match (counts, figure) {
                (crate::domain::Counts::Requested, _) => format!(
                    "📋 Budget \"{budget}\" ({scope}) has reached {threshold} % of its {monthly} for {month}: \
                     {spent} per month-equivalent requested and approved so far ({} %).",
                    share(spent)
                ),
                (_, crate::domain::Figure::Forecast) => format!(
                    "📈 Budget \"{budget}\" ({scope}) is forecast to reach {threshold} % of its {monthly} for {month}: \
                     {forecast} by the month's end at today's burn ({} %), {spent} spent so far ({} %).",
                    share(forecast),
                    share(spent)
                ),
                (_, crate::domain::Figure::Actual) => format!(
                    "💸 Budget \"{budget}\" ({scope}) has reached {threshold} % of its {monthly} for {month}: \
                     {spent} spent so far ({} %), forecast {forecast} by the month's end.",
                    share(spent)
                ),
            }
        }
        Event::Digest {
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
        Event::Expired { requester_id, .. } => vec![*requester_id],
        Event::TtlReminder { owner, .. } | Event::RenewalReminder { owner, .. } | Event::StillRunning { owner, .. } => {
            vec![*owner]
        }
        _ => Vec::new(),
    };
    let buttons = match notice {
        Event::TtlReminder { request_id, .. } => lifetime_buttons(*request_id),
        // Discord takes five buttons in a row: the first five purchases get one each.
        Event::StillRunning { purchases, .. } => purchases
            .iter()
            .take(5)
            .map(|p| Button {
                id: lifetime_button_id(LifetimeAction::ReleaseNow, p.purchase),
                label: format!("Release #{}", p.purchase),
                style: ButtonStyle::Danger,
            })
            .collect(),
        Event::RenewalReminder { request_id, .. } => vec![Button {
            id: lifetime_button_id(LifetimeAction::Renew, *request_id),
            label: "Renew…".into(),
            style: ButtonStyle::Success,
        }],
        _ => Vec::new(),
    };
    Outgoing {
        text: Some(text),
        mentions,
        buttons,
        ..Outgoing::default()
    }
}

/// How many purchases a still-running report lists.
const STILL_RUNNING_LINES: usize = 10;

/// Extend and Release now, under a reminder.
fn lifetime_buttons(purchase: RequestId) -> Vec<Button> {
    vec![
        Button {
            id: lifetime_button_id(LifetimeAction::Extend, purchase),
            label: "Extend".into(),
            style: ButtonStyle::Success,
        },
        Button {
            id: lifetime_button_id(LifetimeAction::ReleaseNow, purchase),
            label: "Release now".into(),
            style: ButtonStyle::Danger,
        },
    ]
}

fn listed(ids: &[String]) -> String {
    ids.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

fn runway_text(runway: &Option<Runway>) -> String {
    runway
        .as_ref()
        .map(|r| format!(", a runway of {}", runway_words(r)))
        .unwrap_or_default()
}

/// A runway in words: `about 3 days 4 hours`, `about 5 hour(s)`, `less than an hour`.
pub fn runway_words(runway: &Runway) -> String {
    match runway {
        Runway::Exhausted { .. } => "none: the balance is used up".into(),
        Runway::Hours { hours: 0 } => "less than an hour".into(),
        Runway::Hours { hours } if *hours < 48 => format!("about {hours} hour(s)"),
        Runway::Hours { hours } => format!("about {} days {} hours", hours / 24, hours % 24),
        Runway::Words(words) => words.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Fen, Yuan};

    #[test]
    fn runway_is_spendable_over_burn_in_words() {
        let burn: Yuan = "0.52".parse().expect("yuan");
        let runway = |fen: i64, burn: Yuan| Runway::of(Fen::new(fen), burn).map(|r| runway_words(&r));
        assert_eq!(runway(10_000, burn).as_deref(), Some("about 8 days 0 hours"));
        assert_eq!(runway(100, burn).as_deref(), Some("about 1 hour(s)"));
        assert_eq!(runway(10, burn).as_deref(), Some("less than an hour"));
        assert_eq!(runway(0, burn).as_deref(), Some("none: the balance is used up"));
        assert_eq!(runway(100, Yuan::ZERO), None);
    }

    #[test]
    fn a_budget_alert_names_the_budget_its_scope_the_figures_and_which_figure_crossed() {
        let yuan = |text: &str| text.parse::<Yuan>().expect("yuan");
        let event = |figure| Event::BudgetCrossed {
            budget: "web".into(),
            scope: "tag project=web".into(),
            month: "2025-01".into(),
            threshold: 80,
            figure,
            spent: yuan("250.123456"),
            forecast: yuan("420"),
            monthly: yuan("500"),
            counts: crate::domain::Counts::Spend,
        };
        let text = |figure| notice(&event(figure), None, TimeStyle::Utc).text.unwrap_or_default();
        let forecast = text(crate::domain::Figure::Forecast);
        assert!(
            forecast.contains("Budget \"web\" (tag project=web) is forecast to reach 80 %"),
            "{forecast}"
        );
        assert!(
            forecast.contains("420.00 CNY by the month's end") && forecast.contains("(84 %)"),
            "{forecast}"
        );
        assert!(forecast.contains("250.12 CNY spent so far (50 %)"), "{forecast}");
        let actual = text(crate::domain::Figure::Actual);
        assert!(
            actual.contains("has reached 80 % of its 500.00 CNY for 2025-01"),
            "{actual}"
        );
    }

    #[test]
    fn a_budget_of_requests_is_told_of_in_month_equivalents_requested_not_spent() {
        let yuan = |text: &str| text.parse::<Yuan>().expect("yuan");
        let event = Event::BudgetCrossed {
            budget: "asks".into(),
            scope: "requester <@7>".into(),
            month: "2025-01".into(),
            threshold: 50,
            figure: crate::domain::Figure::Actual,
            spent: yuan("300"),
            forecast: yuan("300"),
            monthly: yuan("500"),
            counts: crate::domain::Counts::Requested,
        };
        let text = notice(&event, None, TimeStyle::Utc).text.unwrap_or_default();
        assert!(
            text.contains("Budget \"asks\" (requester <@7>) has reached 50 % of its 500.00 CNY for 2025-01"),
            "{text}"
        );
        assert!(
            text.contains("300.00 CNY per month-equivalent requested and approved so far (60 %)"),
            "{text}"
        );
        assert!(!text.contains("spent") && !text.contains("forecast"), "{text}");
    }
}
