//! Queries on bought instances: what the tracker watches and what the balance runway burns.

use super::session::{RowExt, on_backend};
use super::{Session, StoreError, StoreResult, from_ms, to_ms};
use crate::domain::{BillingKind, RequestId};
use crate::money::Yuan;
use crate::tencent::enums::InstanceState;
use std::time::Duration;
use time::OffsetDateTime;

/// An instance to start tracking.
#[derive(Clone, Debug)]
pub struct NewInstance {
    /// Tencent's InstanceId (`ins-…`).
    pub instance_id: String,
    /// The request that bought it.
    pub request_id: RequestId,
    /// Its region (`ap-guangzhou`).
    pub region: String,
    /// Its availability zone (`ap-guangzhou-3`).
    pub zone: String,
    /// How it is paid for.
    pub billing: BillingKind,
    /// What one instance burns per hour, yuan: its share of the quote's hourly burn (for prepaid, only bandwidth paid by the hour).
    pub hourly_price: Yuan,
    /// Whether a public IP is expected (bandwidth > 0).
    pub wants_public_ip: bool,
    /// When it was bought.
    pub now: OffsetDateTime,
    /// How long after `now` to poll it first.
    pub poll_interval: Duration,
    /// The fleet slot it fills, for a fleet's server.
    pub fleet_slot: Option<u32>,
}

/// An instance as tracked.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceRecord {
    /// Tencent's InstanceId (`ins-…`).
    pub instance_id: String,
    /// The request that bought it.
    pub request_id: RequestId,
    /// Its region (`ap-guangzhou`).
    pub region: String,
    /// Its availability zone (`ap-guangzhou-3`).
    pub zone: String,
    /// How it is paid for.
    pub billing: BillingKind,
    /// What it burns per hour, yuan: its share of the quote's hourly burn.
    pub hourly_price: Yuan,
    /// Tencent's InstanceState as last seen (`PENDING` until the first poll).
    pub state: InstanceState,
    /// Private IPs as last seen.
    pub private_ips: Vec<String>,
    /// Public IPs as last seen.
    pub public_ips: Vec<String>,
    /// Whether a public IP is expected (bandwidth > 0).
    pub wants_public_ip: bool,
    /// Tencent's reason for a failed launch.
    pub error: Option<String>,
    /// When it was bought.
    pub created_at: OffsetDateTime,
    /// When it was last polled.
    pub updated_at: OffsetDateTime,
    /// When it was first seen RUNNING.
    pub running_at: Option<OffsetDateTime>,
    /// When a public IP was first seen.
    pub public_ip_at: Option<OffsetDateTime>,
    /// When it disappeared or was found terminated.
    pub gone_at: Option<OffsetDateTime>,
    /// Whether the tracker still polls it (false once it failed to launch, is gone or released).
    pub watching: bool,
    /// When the tracker polls it next.
    pub next_poll_at: OffsetDateTime,
    /// The current wait between polls (reset by a change, growing while nothing changes).
    pub poll_interval: Duration,
    /// When cvmbot released it.
    pub released_at: Option<OffsetDateTime>,
    /// The release request that did.
    pub release_request: Option<RequestId>,
    /// When its prepaid period ends, as last seen.
    pub expires_at: Option<OffsetDateTime>,
    /// Whether Tencent renews it at the end of its period, as last seen.
    pub auto_renew: bool,
    /// The fleet slot it fills, for a fleet's server (its news is the fleet's summary).
    pub fleet_slot: Option<u32>,
}

/// A change to an instance seen by the tracker.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceUpdate {
    /// Tencent's InstanceId (`ins-…`).
    pub instance_id: String,
    /// Tencent's InstanceState as seen now.
    pub state: InstanceState,
    /// Private IPs as seen now.
    pub private_ips: Vec<String>,
    /// Public IPs as seen now.
    pub public_ips: Vec<String>,
    /// Tencent's reason for a failed launch.
    pub error: Option<String>,
    /// When it was first seen RUNNING, if by this poll (a stored time is kept).
    pub running_at: Option<OffsetDateTime>,
    /// When a public IP was first seen, if by this poll (a stored time is kept).
    pub public_ip_at: Option<OffsetDateTime>,
    /// When it was found gone, if by this poll (a stored time is kept).
    pub gone_at: Option<OffsetDateTime>,
    /// Whether the tracker keeps polling it.
    pub watching: bool,
    /// When the tracker polls it next.
    pub next_poll_at: OffsetDateTime,
    /// The new wait between polls.
    pub poll_interval: Duration,
    /// When it was polled.
    pub now: OffsetDateTime,
    /// When its prepaid period ends, as seen now (a stored time is kept when none is seen).
    pub expires_at: Option<OffsetDateTime>,
    /// Whether Tencent renews it at the end of its period.
    pub auto_renew: bool,
}

pub(super) const COLUMNS: &str = "instance_id, request_id, region, zone, billing, hourly_price, state, private_ips, public_ips, \
     wants_public_ip, error, created_at, updated_at, running_at, public_ip_at, gone_at, watching, next_poll_at, poll_interval_ms, released_at, release_request_id, expires_at, auto_renew, fleet_slot";

fn split_ips(text: String) -> Vec<String> {
    text.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

pub(super) fn decode(row: &impl RowExt) -> StoreResult<InstanceRecord> {
    let price = row.text("hourly_price")?;
    Ok(InstanceRecord {
        instance_id: row.text("instance_id")?,
        request_id: RequestId::new(row.int("request_id")?),
        region: row.text("region")?,
        zone: row.text("zone")?,
        billing: {
            let text = row.text("billing")?;
            BillingKind::parse(&text).ok_or_else(|| StoreError::Corrupt(format!("instance billing `{text}`")))?
        },
        hourly_price: price
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("instance price: {e}")))?,
        state: InstanceState::from(row.text("state")?),
        private_ips: split_ips(row.text("private_ips")?),
        public_ips: split_ips(row.text("public_ips")?),
        wants_public_ip: row.flag("wants_public_ip")?,
        error: row.opt_text("error")?,
        created_at: from_ms(row.int("created_at")?),
        updated_at: from_ms(row.int("updated_at")?),
        running_at: row.opt_int("running_at")?.map(from_ms),
        public_ip_at: row.opt_int("public_ip_at")?.map(from_ms),
        gone_at: row.opt_int("gone_at")?.map(from_ms),
        watching: row.flag("watching")?,
        next_poll_at: from_ms(row.int("next_poll_at")?),
        poll_interval: Duration::from_millis(row.int("poll_interval_ms")?.max(0) as u64),
        released_at: row.opt_int("released_at")?.map(from_ms),
        release_request: row.opt_int("release_request_id")?.map(RequestId::new),
        expires_at: row.opt_int("expires_at")?.map(from_ms),
        auto_renew: row.flag("auto_renew")?,
        fleet_slot: row.opt_int("fleet_slot")?.map(|slot| slot.max(0) as u32),
    })
}

impl Session {
    /// Starts tracking instances; ones already known are left as they are (a resubmission with
    /// the same ClientToken returns the same ids).
    #[tracing::instrument(level = "debug", skip_all, fields(count = instances.len()))]
    pub async fn insert_instances(&mut self, instances: &[NewInstance]) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO instances (instance_id, request_id, region, zone, billing, hourly_price, state, \
             wants_public_ip, created_at, updated_at, next_poll_at, poll_interval_ms, fleet_slot) \
             VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $8, $8, $9, $10, $11) ON CONFLICT (instance_id) DO NOTHING";
        for new in instances {
            let first_poll = new.now + new.poll_interval;
            on_backend!(self, |conn| {
                sqlx::query(SQL)
                    .bind(&new.instance_id)
                    .bind(new.request_id.get())
                    .bind(&new.region)
                    .bind(&new.zone)
                    .bind(new.billing.command())
                    .bind(new.hourly_price.amount().to_string())
                    .bind(new.wants_public_ip)
                    .bind(to_ms(new.now))
                    .bind(to_ms(first_poll))
                    .bind(new.poll_interval.as_millis() as i64)
                    .bind(new.fleet_slot.map(i64::from))
                    .execute(&mut *conn)
                    .await?;
            });
        }
        Ok(())
    }

    /// The instances of a request.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %request_id))]
    pub async fn instances_of(&mut self, request_id: RequestId) -> StoreResult<Vec<InstanceRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM instances WHERE request_id = $1 ORDER BY instance_id"
        ));
        on_backend!(self, |conn| sqlx::query(sql)
            .bind(request_id.get())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(decode)
            .collect())
    }

    /// One instance.
    #[tracing::instrument(level = "debug", skip_all, fields(instance_id))]
    pub async fn instance(&mut self, instance_id: &str) -> StoreResult<Option<InstanceRecord>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM instances WHERE instance_id = $1"));
        on_backend!(self, |conn| sqlx::query(sql)
            .bind(instance_id)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| decode(&r))
            .transpose())
    }

    /// Watched instances due for a poll, soonest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn due_instances(&mut self, now: OffsetDateTime, limit: i64) -> StoreResult<Vec<InstanceRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM instances WHERE watching = TRUE AND next_poll_at <= $1 ORDER BY next_poll_at LIMIT $2"
        ));
        on_backend!(self, |conn| sqlx::query(sql)
            .bind(to_ms(now))
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(decode)
            .collect())
    }

    /// Watched instances of `region` not yet due at `now`, soonest first: what the tracker adds to a
    /// DescribeInstances call that has room left, so instances on different schedules share calls.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn next_due_instances(
        &mut self,
        region: &str,
        now: OffsetDateTime,
        limit: i64,
    ) -> StoreResult<Vec<InstanceRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM instances WHERE watching = TRUE AND next_poll_at > $1 AND region = $2 \
             ORDER BY next_poll_at LIMIT $3"
        ));
        on_backend!(self, |conn| sqlx::query(sql)
            .bind(to_ms(now))
            .bind(region)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(decode)
            .collect())
    }

    /// When the next watched instance is due, if any is watched.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn next_poll_at(&mut self) -> StoreResult<Option<OffsetDateTime>> {
        const SQL: &str = "SELECT MIN(next_poll_at) FROM instances WHERE watching = TRUE";
        on_backend!(self, |conn| Ok(sqlx::query_scalar::<_, Option<i64>>(SQL)
            .fetch_one(&mut *conn)
            .await?
            .map(from_ms)))
    }

    /// Applies what the tracker saw.
    #[tracing::instrument(level = "debug", skip_all, fields(instance_id = %update.instance_id))]
    pub async fn update_instance(&mut self, update: &InstanceUpdate) -> StoreResult<()> {
        const SQL: &str = "UPDATE instances SET state = $2, private_ips = $3, public_ips = $4, error = $5, \
             running_at = COALESCE(running_at, $6), public_ip_at = COALESCE(public_ip_at, $7), gone_at = COALESCE(gone_at, $8), \
             watching = $9, next_poll_at = $10, poll_interval_ms = $11, updated_at = $12, \
             expires_at = COALESCE($13, expires_at), auto_renew = $14 WHERE instance_id = $1 AND released_at IS NULL";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(&update.instance_id)
                .bind(update.state.as_str())
                .bind(update.private_ips.join(","))
                .bind(update.public_ips.join(","))
                .bind(&update.error)
                .bind(update.running_at.map(to_ms))
                .bind(update.public_ip_at.map(to_ms))
                .bind(update.gone_at.map(to_ms))
                .bind(update.watching)
                .bind(to_ms(update.next_poll_at))
                .bind(update.poll_interval.as_millis() as i64)
                .bind(to_ms(update.now))
                .bind(update.expires_at.map(to_ms))
                .bind(update.auto_renew)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Hourly prices of the instances that are burning money now (pay-as-you-go and spot, not gone,
    /// not failed): the runway's denominator.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn burning_prices(&mut self) -> StoreResult<Vec<Yuan>> {
        const SQL: &str = "SELECT hourly_price FROM instances WHERE gone_at IS NULL AND billing <> 'prepaid' \
             AND state NOT IN ('LAUNCH_FAILED', 'TERMINATING', 'SHUTDOWN')";
        on_backend!(self, |conn| {
            sqlx::query_scalar::<_, String>(SQL)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|p| {
                    p.parse()
                        .map_err(|e| StoreError::Corrupt(format!("instance price: {e}")))
                })
                .collect()
        })
    }

    /// Records that release request `release` gave these instances back at `at`: they are no
    /// longer watched, nor counted as burning. `gone` when they are destroyed; a prepaid instance
    /// in Tencent's recycle bin is released but not gone (a second release destroys it).
    #[tracing::instrument(level = "debug", skip_all, fields(release = %release, count = instance_ids.len()))]
    pub async fn mark_released(
        &mut self,
        instance_ids: &[String],
        release: RequestId,
        at: OffsetDateTime,
        gone: bool,
    ) -> StoreResult<()> {
        const SQL: &str = "UPDATE instances SET released_at = COALESCE(released_at, $2), release_request_id = $3, \
             watching = FALSE, gone_at = CASE WHEN $4 THEN COALESCE(gone_at, $2) ELSE gone_at END, updated_at = $2 \
             WHERE instance_id = $1";
        for instance_id in instance_ids {
            on_backend!(self, |conn| {
                sqlx::query(SQL)
                    .bind(instance_id)
                    .bind(to_ms(at))
                    .bind(release.get())
                    .bind(gone)
                    .execute(&mut *conn)
                    .await?;
            });
        }
        Ok(())
    }

    /// Every instance still in use (bought, not failed, not gone, not released), by request.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn instances_in_use(&mut self) -> StoreResult<Vec<InstanceRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM instances WHERE gone_at IS NULL AND released_at IS NULL \
             AND state <> 'LAUNCH_FAILED' ORDER BY request_id, instance_id"
        ));
        on_backend!(self, |conn| {
            sqlx::query(sql)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(decode)
                .collect()
        })
    }

    /// Prepaid instances still in use whose period ends after `after` and by `until`, soonest
    /// first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn prepaid_expiring(
        &mut self,
        after: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<Vec<InstanceRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM instances WHERE billing = 'prepaid' AND gone_at IS NULL AND released_at IS NULL \
             AND expires_at > $1 AND expires_at <= $2 ORDER BY expires_at, instance_id"
        ));
        on_backend!(self, |conn| {
            sqlx::query(sql)
                .bind(to_ms(after))
                .bind(to_ms(until))
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(decode)
                .collect()
        })
    }

    /// Instances that cost money at some time in `[from, until)`: bought before its end, not
    /// gone or released before its start, and not failed at launch; by request.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn instances_costing_between(
        &mut self,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<Vec<InstanceRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM instances WHERE created_at < $2 AND state <> 'LAUNCH_FAILED' \
             AND (gone_at IS NULL OR gone_at >= $1) AND (released_at IS NULL OR released_at >= $1) \
             ORDER BY request_id, instance_id"
        ));
        on_backend!(self, |conn| {
            sqlx::query(sql)
                .bind(to_ms(from))
                .bind(to_ms(until))
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(decode)
                .collect()
        })
    }

    /// Instances bought since `since` (for the digest).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn instances_created_since(&mut self, since: OffsetDateTime) -> StoreResult<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM instances WHERE created_at >= $1";
        on_backend!(self, |conn| Ok(sqlx::query_scalar::<_, i64>(SQL)
            .bind(to_ms(since))
            .fetch_one(&mut *conn)
            .await?))
    }
}
