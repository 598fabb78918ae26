//! `cvmbot audit export`: the audit log as CSV or JSON on stdout.

use super::ExportFormat;
use crate::store::{AuditEntry, Store};
use anyhow::Context;
use std::io::Write;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Prints the audit events since `since` (a UTC date) in `format`.
pub async fn export(config: Option<&Path>, format: ExportFormat, since: Option<&str>) -> anyhow::Result<()> {
    let since = match since {
        Some(date) => parse_date(date)?,
        None => OffsetDateTime::UNIX_EPOCH,
    };
    let config = super::load(config, None)?;
    let database = crate::store::DatabaseSettings {
        max_connections: 1,
        ..config.database.clone()
    };
    let store = Store::open(&database).await.context("opening the database")?;
    let entries = store.session().await?.audit_since(since).await?;
    let text = match format {
        ExportFormat::Csv => to_csv(&entries),
        ExportFormat::Json => serde_json::to_string_pretty(&entries)? + "\n",
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

/// Reads `YYYY-MM-DD` as midnight UTC.
pub fn parse_date(text: &str) -> anyhow::Result<OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text.trim(), &format)
        .with_context(|| format!("--since `{text}` is not a date like 2026-11-01 (YYYY-MM-DD, UTC)"))?;
    Ok(date.midnight().assume_utc())
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
            request_id: Some(crate::domain::RequestId::new(3)),
            at: OffsetDateTime::UNIX_EPOCH,
            actor_id: Some(crate::domain::UserId::new(102)),
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
    fn since_takes_a_utc_date_and_refuses_anything_else() {
        assert_eq!(parse_date("2026-11-01").expect("date").unix_timestamp(), 1_793_491_200);
        assert!(parse_date("Nov 1").is_err());
    }
}
