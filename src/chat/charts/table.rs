//! The charts' figures as plain text, for screen readers: a message's text or an attachment's alt
//! text. Each table fits in [`ALT_TEXT_LIMIT`] characters; what does not fit is folded into one
//! entry that says so and carries its sum, so the figures listed still add up to the totals.

use super::ALT_TEXT_LIMIT;
use super::spend::{estimated_total, is_estimate, shown_groups};
use crate::domain::{BalanceHistory, SpendSeries};
use crate::money::{Fen, Yuan};
use time::Date;

/// The longest group name or renewal description a table writes; longer ones end in `…`.
const NAME_CHARS: usize = 48;

/// The spend chart's figures as text: the title and total with its estimated part, each drawn
/// group's total, then each day's total. The oldest days are folded into one range with its sum
/// when the whole would not fit in [`ALT_TEXT_LIMIT`] characters.
pub fn spend_table(series: &SpendSeries) -> String {
    let total = series.total();
    if series.days.is_empty() || total.amount().is_zero() {
        return fit_or_cut(format!("{}: no spend in this period.", series.title));
    }
    let estimated = estimated_total(series);
    let source = if estimated.amount().is_zero() {
        "all billed by Tencent".to_owned()
    } else {
        format!("of which {estimated} estimated from cvmbot's records and the rest billed by Tencent")
    };
    let groups: Vec<String> = shown_groups(series)
        .iter()
        .map(|g| {
            let part = if g.per_day.iter().any(is_estimate) {
                " (partly estimated)"
            } else {
                ""
            };
            format!("{} {}{part}", short(&g.name), g.total())
        })
        .collect();
    let head = format!(
        "{}: {total} in total, {source}.\nBy group: {}.",
        series.title,
        groups.join("; ")
    );
    let days: Vec<(Date, Yuan)> = series
        .days
        .iter()
        .enumerate()
        .map(|(i, d)| (*d, series.day_total(i)))
        .collect();
    let compose = |cut: usize| {
        let mut entries = Vec::with_capacity(days.len() - cut + 1);
        if cut > 0 {
            let sum = Yuan::new(days[..cut].iter().map(|(_, y)| y.amount()).sum());
            let (from, to) = (days[0].0, days[cut - 1].0);
            entries.push(format!("{from} to {to} ({cut} days, not listed one by one) {sum}"));
        }
        entries.extend(days[cut..].iter().map(|(date, amount)| format!("{date} {amount}")));
        format!("{head}\nBy day: {}.", entries.join("; "))
    };
    first_that_fits(days.len(), compose)
}

/// The runway chart's figures as text: the balance now and today's burn, the day it runs out (or
/// that it does not), the renewals ahead with their total, then the balance at the end of each
/// day. The oldest days, then the latest renewals, are left out (and counted) when the whole
/// would not fit in [`ALT_TEXT_LIMIT`] characters.
pub fn runway_table(history: &BalanceHistory) -> String {
    let Some(&(last_at, last)) = history.readings.last() else {
        return "Balance: no readings yet.".to_owned();
    };
    let outlook = match history.runs_out_at {
        Some(at) => format!(
            "At today's burn, counting the renewals ahead, it runs out on {}.",
            at.date()
        ),
        None => "At today's burn it does not run out.".to_owned(),
    };
    let head = format!(
        "Balance {last} on {}; today's burn {} a day. {outlook}",
        last_at.date(),
        history.burn_per_day
    );
    let mut payments: Vec<_> = history.payments.iter().collect();
    payments.sort_by_key(|p| p.at);
    let payments_total = sum_fen(payments.iter().map(|p| p.amount));
    let daily = end_of_day_balances(history);
    let compose = |cut: usize| {
        let cut_days = cut.min(daily.len().saturating_sub(1));
        let cut_payments = (cut - cut_days).min(payments.len());
        let mut renewals: Vec<String> = payments[..payments.len() - cut_payments]
            .iter()
            .map(|p| format!("{} {} {}", p.at.date(), p.amount, short(&p.what)))
            .collect();
        if cut_payments > 0 {
            let rest = sum_fen(payments[payments.len() - cut_payments..].iter().map(|p| p.amount));
            renewals.push(format!(
                "{cut_payments} later ones not listed one by one, {rest} together"
            ));
        }
        let renewals = match payments.len() {
            0 => "Renewals ahead: none.".to_owned(),
            n => format!(
                "Renewals ahead: {n}, {payments_total} in total: {}.",
                renewals.join("; ")
            ),
        };
        let mut readings: Vec<String> = daily[cut_days..].iter().map(|(d, f)| format!("{d} {f}")).collect();
        if cut_days > 0 {
            readings.insert(0, format!("{cut_days} earlier days not listed"));
        }
        format!(
            "{head}\n{renewals}\nBalance at each day's last reading: {}.",
            readings.join("; ")
        )
    };
    first_that_fits(daily.len().saturating_sub(1) + payments.len(), compose)
}

/// The last reading of each day, oldest first.
fn end_of_day_balances(history: &BalanceHistory) -> Vec<(Date, Fen)> {
    let mut daily: Vec<(Date, Fen)> = Vec::new();
    for (at, fen) in &history.readings {
        match daily.last_mut() {
            Some((date, last)) if *date == at.date() => *last = *fen,
            _ => daily.push((at.date(), *fen)),
        }
    }
    daily
}

/// The first of `compose(0)`, `compose(1)`, … `compose(most)` that fits in [`ALT_TEXT_LIMIT`]
/// characters, or the last one cut to fit.
fn first_that_fits(most: usize, compose: impl Fn(usize) -> String) -> String {
    (0..=most)
        .map(&compose)
        .find(|text| text.chars().count() <= ALT_TEXT_LIMIT)
        .unwrap_or_else(|| fit_or_cut(compose(most)))
}

/// `text` if it fits in [`ALT_TEXT_LIMIT`] characters, else its start and `…`.
fn fit_or_cut(text: String) -> String {
    if text.chars().count() <= ALT_TEXT_LIMIT {
        return text;
    }
    text.chars().take(ALT_TEXT_LIMIT - 1).chain(['…']).collect()
}

/// A name of at most [`NAME_CHARS`] characters.
fn short(name: &str) -> String {
    if name.chars().count() <= NAME_CHARS {
        return name.to_owned();
    }
    name.chars().take(NAME_CHARS - 1).chain(['…']).collect()
}

fn sum_fen(amounts: impl Iterator<Item = Fen>) -> Fen {
    amounts.fold(Fen::ZERO, Fen::saturating_add)
}
