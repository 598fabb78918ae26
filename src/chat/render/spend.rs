//! A spend chart's message text: the total, the biggest groups, and which figures Tencent billed
//! and which cvmbot estimated.

use crate::desk::{Bills, Spend};
use crate::money::Yuan;
use rust_decimal::Decimal;

/// Groups named in the message (the chart and its table show the rest).
const TOP: usize = 5;

/// `cvmbot spend 2026-11-01 – 2026-11-30 by requester: 123.45 CNY in all` with the top groups
/// and where the figures come from.
pub fn spend_summary(spend: &Spend) -> String {
    let series = &spend.series;
    let total = series.total();
    let mut text = format!("**{}**: {} in all.", series.title, money(total));
    if series.groups.is_empty() {
        text.push_str("\nNothing cvmbot bought cost anything in this period.");
        return text;
    }
    let top: Vec<String> = series
        .groups
        .iter()
        .take(TOP)
        .map(|g| format!("{} {}{}", g.name, money(g.total()), share(g.total(), total)))
        .collect();
    text.push_str(&format!("\nTop {}: {}.", top.len(), top.join("; ")));
    if series.groups.len() > TOP {
        text.push_str(&format!(" {} more in the chart.", series.groups.len() - TOP));
    }
    text.push('\n');
    text.push_str(&match (&spend.bills, series.has_estimates()) {
        (Bills::Read, false) => "Every figure is from Tencent's bills.".to_owned(),
        (Bills::Read, true) => "Figures are Tencent's bills where they cover a server's time; the rest (hours not \
                                billed yet) is cvmbot's estimate from the prices it bought at."
            .to_owned(),
        (Bills::Unread(why), _) => format!(
            "Every figure is cvmbot's estimate from the prices it bought at: Tencent's bills were not read ({why})."
        ),
    });
    text
}

/// `1,234.56 CNY`: cents, as a person reads spend (the chart's table keeps every decimal).
fn money(amount: Yuan) -> String {
    Yuan::new(amount.amount().round_dp(2)).to_string()
}

/// ` (42 %)` of `total`, or nothing when the total is zero.
fn share(part: Yuan, total: Yuan) -> String {
    if total.amount().is_zero() {
        return String::new();
    }
    let percent = (part.amount() * Decimal::from(100) / total.amount()).round_dp(0);
    format!(" ({percent} %)")
}
