//! Watching the balance: reads DescribeAccountBalance and warns the alert channel
//! when the spendable balance falls below a configured tier, with the runway of what cvmbot
//! bought. Owing money is critical. A warning is not repeated until the balance recovers (with a
//! 10 % margin, so a balance hovering at a tier does not flap) or falls through a lower tier, or
//! the reminder interval passes. It also posts the daily digest.

use super::keys::{BALANCE_PREFIX, DedupeKey};
use super::{BalanceReport, Desk, DeskError, Event, notice_row};
use crate::money::{Fen, Yuan};
use crate::store::{BalanceWatch, ListFilter};
use rust_decimal::Decimal;
use std::time::Duration;
use tracing::{info, warn};

/// `meta` key: since when (ms) the balance could not be read.
const BLIND_SINCE: &str = "balance_unreadable_since";
/// `meta` key: set once the alert channel was told the balance can't be read.
const BLIND_ALERTED: &str = "balance_unreadable_alerted";
/// How long an outage (not a refusal) of the balance query may last before people are told.
const BLIND_GRACE: Duration = Duration::from_secs(30 * 60);

/// When to warn about the balance.
#[derive(Clone, Debug, PartialEq)]
pub struct BalanceRules {
    /// Tiers, highest first.
    tiers: Vec<Yuan>,
    /// How often a standing warning is repeated (zero: never).
    reminder: Duration,
    /// The daily digest's time of day (UTC hour, minute), if there is one.
    digest_at: Option<(u8, u8)>,
}

impl BalanceRules {
    /// Rules with warning `tiers` (any order), a reminder interval and an optional digest time.
    pub fn new(mut tiers: Vec<Yuan>, reminder: Duration, digest_at: Option<(u8, u8)>) -> BalanceRules {
        tiers.sort_by(|a, b| b.cmp(a));
        BalanceRules {
            tiers,
            reminder,
            digest_at,
        }
    }
}

/// How many tiers `spendable` is below (0: none); `tiers.len() + 1` when owing.
fn level(tiers: &[Yuan], spendable: Fen, owe: Fen) -> u32 {
    if owe > Fen::ZERO {
        return tiers.len() as u32 + 1;
    }
    tiers.iter().filter(|tier| spendable < tier.to_fen_ceil()).count() as u32
}

/// The level, letting it fall (recover) only once the balance is 10 % above the tier.
fn level_with_hysteresis(tiers: &[Yuan], spendable: Fen, owe: Fen, previous: u32) -> u32 {
    let raw = level(tiers, spendable, owe);
    if raw >= previous || owe > Fen::ZERO {
        return raw;
    }
    let margin = |tier: &Yuan| Yuan::new(tier.amount() * Decimal::new(11, 1)).to_fen_ceil();
    let with_margin = tiers.iter().filter(|tier| spendable < margin(tier)).count() as u32;
    with_margin.min(previous).max(raw)
}

impl Desk {
    /// Reads the balance once and raises what `rules` call for: a warning, a reminder, a recovery,
    /// that it can't be read, and the daily digest.
    pub async fn watch_balance(&self, rules: &BalanceRules) -> Result<(), DeskError> {
        let report = match self.balance_report().await {
            Ok(report) => report,
            Err(error) => {
                warn!(%error, "could not read the Tencent Cloud balance");
                return self.balance_unreadable(&error).await;
            }
        };
        self.balance_readable(&report).await?;
        self.judge_balance(&report, rules).await?;
        self.digest(&report, rules).await
    }

    /// The balance could not be read: say so in the alert channel, once, as soon as the failure
    /// is a refusal (a missing permission) or has lasted [`BLIND_GRACE`] (an outage), because
    /// until it can be read no low-balance warning can be given.
    async fn balance_unreadable(&self, error: &DeskError) -> Result<(), DeskError> {
        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        let since = match tx.meta(BLIND_SINCE).await?.and_then(|ms| ms.parse::<i64>().ok()) {
            Some(ms) => crate::store::from_ms(ms),
            None => {
                tx.set_meta(BLIND_SINCE, Some(&crate::store::to_ms(now).to_string()))
                    .await?;
                now
            }
        };
        let refused = !matches!(error, DeskError::Unavailable { .. });
        let alerted = tx.meta(BLIND_ALERTED).await?.is_some();
        if !alerted && (refused || now - since >= BLIND_GRACE) {
            let notice = Event::BalanceUnreadable {
                explanation: error.user_message(),
            };
            let sequence = tx.count_notifications(BALANCE_PREFIX).await? + 1;
            let key = DedupeKey::balance(sequence, "unreadable");
            tx.enqueue_notification(&notice_row(&key, &notice, now)).await?;
            tx.set_meta(BLIND_ALERTED, Some("yes")).await?;
            info!("balance monitoring is blind; alert raised");
        }
        tx.commit().await?;
        if !alerted {
            self.wake_dispatcher();
        }
        Ok(())
    }

    /// The balance was read: if it could not be before and people were told, tell them it can.
    async fn balance_readable(&self, report: &BalanceReport) -> Result<(), DeskError> {
        if self.store().session().await?.meta(BLIND_SINCE).await?.is_none() {
            return Ok(());
        }
        let mut tx = self.store().begin().await?;
        let alerted = tx.meta(BLIND_ALERTED).await?.is_some();
        tx.set_meta(BLIND_SINCE, None).await?;
        tx.set_meta(BLIND_ALERTED, None).await?;
        if alerted {
            let now = self.clock().now();
            let notice = Event::BalanceReadable {
                spendable: report.spendable,
            };
            let sequence = tx.count_notifications(BALANCE_PREFIX).await? + 1;
            let key = DedupeKey::balance(sequence, "readable");
            tx.enqueue_notification(&notice_row(&key, &notice, now)).await?;
        }
        tx.commit().await?;
        if alerted {
            self.wake_dispatcher();
        }
        Ok(())
    }

    /// Compares a reading with the last one and queues the warnings it calls for.
    pub async fn judge_balance(&self, report: &BalanceReport, rules: &BalanceRules) -> Result<(), DeskError> {
        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        let previous = tx.balance_watch().await?;
        let before = previous.map_or(0, |w| w.warned_level);
        let now_level = level_with_hysteresis(&rules.tiers, report.spendable, report.owe, before);
        let mut last_alert_at = previous.and_then(|w| w.last_alert_at);
        let notice = if now_level > before {
            Some(if report.owe > Fen::ZERO {
                Event::Owing {
                    owe: report.owe,
                    spendable: report.spendable,
                    burn_per_hour: report.burn_per_hour,
                }
            } else {
                Event::LowBalance {
                    spendable: report.spendable,
                    below: rules.tiers[now_level as usize - 1],
                    burn_per_hour: report.burn_per_hour,
                    runway: report.runway.clone(),
                }
            })
        } else if now_level == 0 && before > 0 {
            Some(Event::BalanceRecovered {
                spendable: report.spendable,
            })
        } else if now_level > 0
            && !rules.reminder.is_zero()
            && last_alert_at.is_some_and(|at| now - at >= rules.reminder)
        {
            Some(Event::BalanceReminder {
                spendable: report.spendable,
                owe: report.owe,
                burn_per_hour: report.burn_per_hour,
                runway: report.runway.clone(),
            })
        } else {
            None
        };
        if let Some(notice) = &notice {
            // The n-th balance alert: unique per alert even when two readings share a timestamp,
            // and the same for a second monitor judging the same reading (it finds the key taken).
            let sequence = tx.count_notifications(BALANCE_PREFIX).await? + 1;
            let key = DedupeKey::balance(sequence, &format!("level-{now_level}"));
            tx.enqueue_notification(&notice_row(&key, notice, now)).await?;
            last_alert_at = Some(now);
            info!(level = now_level, spendable = %report.spendable, "balance notice raised");
        }
        let watch = BalanceWatch {
            spendable: report.spendable,
            owe: report.owe,
            checked_at: now,
            warned_level: now_level,
            last_alert_at,
        };
        tx.save_balance_watch(&watch).await?;
        tx.commit().await?;
        if notice.is_some() {
            self.wake_dispatcher();
        }
        Ok(())
    }

    /// Posts the daily digest once its time of day has passed today.
    async fn digest(&self, report: &BalanceReport, rules: &BalanceRules) -> Result<(), DeskError> {
        let Some((hour, minute)) = rules.digest_at else {
            return Ok(());
        };
        let now = self.clock().now();
        let due = now.replace_time(time::Time::from_hms(hour, minute, 0).unwrap_or(time::Time::MIDNIGHT));
        if now < due {
            return Ok(());
        }
        let date = now.date();
        let bought = self
            .store()
            .session()
            .await?
            .instances_created_since(now - Duration::from_secs(86_400))
            .await?;
        let pending = self.list(ListFilter::Pending, 1000).await?.len() as i64;
        let notice = Event::Digest {
            date,
            instances_bought: bought,
            burn_per_hour: report.burn_per_hour,
            spendable: report.spendable,
            runway: report.runway.clone(),
            pending_requests: pending,
        };
        let mut tx = self.store().begin().await?;
        if tx
            .enqueue_notification(&notice_row(&DedupeKey::digest(date), &notice, now))
            .await?
        {
            self.wake_dispatcher();
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiers() -> Vec<Yuan> {
        ["1000", "200", "50"].iter().map(|t| t.parse().expect("yuan")).collect()
    }

    #[test]
    fn the_level_counts_the_tiers_below_and_owing_is_past_them_all() {
        assert_eq!(level(&tiers(), Fen::new(150_000), Fen::ZERO), 0);
        assert_eq!(level(&tiers(), Fen::new(50_000), Fen::ZERO), 1);
        assert_eq!(level(&tiers(), Fen::new(10_000), Fen::ZERO), 2);
        assert_eq!(level(&tiers(), Fen::new(100), Fen::ZERO), 3);
        assert_eq!(level(&tiers(), Fen::ZERO, Fen::new(1)), 4);
    }

    #[test]
    fn recovery_needs_a_margin_above_the_tier() {
        assert_eq!(
            level_with_hysteresis(&tiers(), Fen::new(20_500), Fen::ZERO, 2),
            2,
            "205 CNY is not clearly above 200"
        );
        assert_eq!(
            level_with_hysteresis(&tiers(), Fen::new(22_100), Fen::ZERO, 2),
            1,
            "221 CNY is"
        );
        assert_eq!(level_with_hysteresis(&tiers(), Fen::new(500_000), Fen::ZERO, 3), 0);
    }
}
