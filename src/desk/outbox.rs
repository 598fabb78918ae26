//! Building outbox rows from notices.

use crate::chat::Notice;
use crate::store::NewNotification;
use time::OffsetDateTime;

/// The outbox row for `notice` under the dedupe `key`: request notices go to the request's channel,
/// the rest to the alert channel.
pub fn notice_row(key: &str, notice: &Notice, at: OffsetDateTime) -> NewNotification {
    let target = if notice.request_id().is_some() {
        "request"
    } else {
        "alert"
    };
    NewNotification {
        dedupe_key: key.to_owned(),
        request_id: notice.request_id(),
        target: target.into(),
        body: serde_json::to_string(notice).expect("notices serialize"),
        at,
    }
}

/// The outbox row for `notice` in the alert channel, whatever request it is about.
pub fn alert_row(key: &str, notice: &Notice, at: OffsetDateTime) -> NewNotification {
    NewNotification {
        target: "alert".into(),
        ..notice_row(key, notice, at)
    }
}
