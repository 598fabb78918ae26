//! `cvmbot audit export`: the audit log as CSV or JSON on stdout.

use super::ExportFormat;
use crate::domain::{RequestId, UserId};
use crate::store::{AuditEntry, AuditFilter, Store};
use anyhow::Context;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Which events to export, as given on the command line.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// `--since`: a UTC date, the first day included.
    pub since: Option<String>,
    /// `--until`: a UTC date, the last day included.
    pub until: Option<String>,
    /// `--user`: the actor.
    pub user: Option<UserId>,
    /// `--request`: the request.
    pub request: Option<RequestId>,
}

impl Selection {
    /// The store's filter: `--since` from its midnight, `--until` to the end of its day.
    pub fn filter(&self) -> anyhow::Result<AuditFilter> {
        let since = match &self.since {
            Some(date) => parse_date("--since", date)?,
            None => OffsetDateTime::UNIX_EPOCH,
        };
        let until = match &self.until {
            Some(date) => Some(parse_date("--until", date)? + time::Duration::DAY),
            None => None,
        };
        if let (Some(first), Some(last), Some(end)) = (&self.since, &self.until, until) {
            anyhow::ensure!(end > since, "--until {last} is before --since {first}");
        }
        Ok(AuditFilter {
            since,
            until,
            actor: self.user,
            request: self.request,
        })
    }
}

/// Prints the audit events `selection` picks, in `format`.
pub async fn export(config: Option<&Path>, format: ExportFormat, selection: &Selection) -> anyhow::Result<()> {
    let filter = selection.filter()?;
    let config = super::load(config, None)?;
    let database = crate::store::DatabaseSettings {
        max_connections: 1,
        ..config.database.clone()
    };
    let store = Store::open(&database).await.context("opening the database")?;
    let entries = store.session().await?.audit_matching(&filter).await?;
    let text = match format {
        ExportFormat::Csv => to_csv(&entries),
        ExportFormat::Json => to_json(&entries)?,
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

/// Reads `YYYY-MM-DD` (given as `flag`) as midnight UTC.
pub fn parse_date(flag: &str, text: &str) -> anyhow::Result<OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text.trim(), &format)
        .with_context(|| format!("{flag} `{text}` is not a date like 2026-11-01 (YYYY-MM-DD, UTC)"))?;
    Ok(date.midnight().assume_utc())
}

/// One event as JSON. A Discord id is a string, as Discord's own API writes it: it is a 64-bit
/// number, and jq and JavaScript read JSON numbers as doubles, which round anything above 2^53.
#[derive(Serialize)]
struct ExportedEvent<'a> {
    request_id: Option<RequestId>,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    actor_id: Option<String>,
    actor_name: &'a str,
    action: &'a str,
    from_state: Option<&'a str>,
    to_state: Option<&'a str>,
    detail: Option<&'a str>,
    tencent_request_id: Option<&'a str>,
}

/// The events as a JSON array, one object per event.
pub fn to_json(entries: &[AuditEntry]) -> anyhow::Result<String> {
    let events: Vec<ExportedEvent<'_>> = entries
        .iter()
        .map(|e| ExportedEvent {
            request_id: e.request_id,
            at: e.at,
            actor_id: e.actor_id.map(|id| id.to_string()),
            actor_name: &e.actor_name,
            action: &e.action,
            from_state: e.from_state.as_deref(),
            to_state: e.to_state.as_deref(),
            detail: e.detail.as_deref(),
            tencent_request_id: e.tencent_request_id.as_deref(),
        })
        .collect();
    Ok(serde_json::to_string_pretty(&events)? + "\n")
}

fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The events as CSV with a header row (RFC 4180 quoting).
pub fn to_csv(entries: &[AuditEntry]) -> String {
    let mut out =
        String::from("at,request_id,actor_id,actor_name,action,from_state,to_state,detail,tencent_request_id\n");
    for e in entries {
        let row = [
            e.at.format(&Rfc3339).unwrap_or_default(),
            e.request_id.map(|i| i.to_string()).unwrap_or_default(),
            e.actor_id.map(|i| i.to_string()).unwrap_or_default(),
            e.actor_name.clone(),
            e.action.clone(),
            e.from_state.clone().unwrap_or_default(),
            e.to_state.clone().unwrap_or_default(),
            e.detail.clone().unwrap_or_default(),
            e.tencent_request_id.clone().unwrap_or_default(),
        ];
        out.push_str(&row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let entry = AuditEntry {
            request_id: Some(RequestId::new(3)),
            at: OffsetDateTime::UNIX_EPOCH,
            actor_id: Some(UserId::new(102)),
            actor_name: "bob".into(),
            action: "vote:reject:button".into(),
            from_state: Some("pending".into()),
            to_state: Some("rejected".into()),
            detail: Some("too \"big\", sorry".into()),
            tencent_request_id: None,
        };
        let csv = to_csv(&[entry]);
        assert_eq!(
            csv.lines().nth(1),
            Some("1970-01-01T00:00:00Z,3,102,bob,vote:reject:button,pending,rejected,\"too \"\"big\"\", sorry\",")
        );
    }

    #[test]
    fn dates_are_utc_days_and_anything_else_is_refused_naming_the_flag() {
        assert_eq!(
            parse_date("--since", "2026-11-01").expect("date").unix_timestamp(),
            1_793_491_200
        );
        let error = parse_date("--until", "Nov 1").expect_err("not a date");
        assert!(
            error.to_string().starts_with("--until `Nov 1` is not a date"),
            "{error}"
        );
    }

    #[test]
    fn until_takes_in_its_whole_day_and_may_not_come_before_since() {
        let one_day = Selection {
            since: Some("2026-11-01".into()),
            until: Some("2026-11-01".into()),
            ..Selection::default()
        };
        let filter = one_day.filter().expect("a day");
        assert_eq!(filter.since.unix_timestamp(), 1_793_491_200);
        assert_eq!(filter.until.map(|t| t.unix_timestamp()), Some(1_793_491_200 + 86_400));
        let backwards = Selection {
            since: Some("2026-11-02".into()),
            until: Some("2026-11-01".into()),
            ..Selection::default()
        };
        let error = backwards.filter().expect_err("backwards");
        assert_eq!(error.to_string(), "--until 2026-11-01 is before --since 2026-11-02");
    }

    #[test]
    fn json_writes_discord_ids_as_strings_that_keep_every_digit() {
        let entry = AuditEntry {
            request_id: Some(RequestId::new(3)),
            at: OffsetDateTime::UNIX_EPOCH,
            actor_id: Some(UserId::new(1_300_000_000_000_000_123)),
            actor_name: "bob".into(),
            action: "vote:approve:button".into(),
            from_state: Some("pending".into()),
            to_state: Some("approved".into()),
            detail: None,
            tencent_request_id: None,
        };
        let json: serde_json::Value = serde_json::from_str(&to_json(&[entry]).expect("JSON")).expect("parses");
        assert_eq!(json[0]["actor_id"], "1300000000000000123");
        assert_eq!(json[0]["request_id"], 3, "a request number is a small number");
        assert_eq!(json[0]["at"], "1970-01-01T00:00:00Z");
    }
}
