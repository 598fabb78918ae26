//! Times to live: reminders before the end, each posted once across restarts; the release at the
//! end filed and carried out exactly once; extensions at once within the policy's maximum and
//! by an approver's decision beyond it.

use crate::on_both_backends;
use crate::support::app::{alice, bob, dave, payg_form, spot_form};
use crate::workers::rig::{REQUEST_CHANNEL, Rig};
use cvmbot::chat::notifier::Recorded;
use cvmbot::desk::{Ballot, DeskError, Extension, Origin};
use cvmbot::domain::{Quote, RequestId, RequestState, VoteRefusal, VoteVia};
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

fn approve() -> Ballot {
    Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: VoteVia::Console,
    }
}

/// Posts in the request channel whose buttons include a reminder's.
fn reminders(rig: &Rig) -> Vec<cvmbot::chat::model::Outgoing> {
    rig.t
        .notifier
        .recorded()
        .into_iter()
        .filter_map(|r| match r {
            Recorded::Post { channel, message, .. } if channel == REQUEST_CHANNEL => Some(message),
            _ => None,
        })
        .filter(|m| m.buttons.iter().any(|b| b.id.starts_with("cvm:extend:")))
        .collect()
}

fn terminations(rig: &Rig) -> usize {
    rig.t
        .sim
        .requests()
        .iter()
        .filter(|r| r.action == "TerminateInstances")
        .count()
}

on_both_backends! {
    async fn a_ttl_reminds_once_per_lead_and_releases_exactly_once_across_restarts(backend) {
        let Some(mut rig) = Rig::start(backend, "").await else { return };
        let id = rig.buy(&payg_form()).await;
        rig.drive(Duration::from_secs(60), Duration::from_secs(10)).await;
        let bought_at = rig.clock.now() - Duration::from_secs(60);
        let lifetime = rig.desk().view(id).await.expect("view").lifetime.expect("pay-as-you-go gets the default TTL");
        assert_eq!(lifetime.release_at, lifetime.started_at + 3 * DAY, "the shipped default is 3d");
        assert!(lifetime.started_at >= bought_at);
        let card = rig.t.notifier.recorded().into_iter().rev().find_map(|r| match r {
            Recorded::Edit { message, .. } => message.card,
            _ => None,
        });
        let card = card.expect("the card was edited");
        let ttl = card.fields.iter().find(|f| f.name == "Time to live").expect("a time-to-live field");
        assert!(ttl.value.starts_with("released automatically at"), "{ttl:?}");

        // Nothing is due a day and a half before the end.
        rig.advance(DAY);
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").reminded, 0);
        // 24 hours before: one reminder, however often the pass runs, restarted or not.
        rig.advance(DAY);
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").reminded, 1);
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").reminded, 0);
        rig.restart().await;
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").reminded, 0);
        rig.dispatcher().run_once().await.expect("delivery");
        let posted = reminders(&rig);
        assert_eq!(posted.len(), 1, "one reminder posted");
        assert_eq!(posted[0].mentions, vec![alice().id], "the owner is pinged");
        let ids: Vec<&str> = posted[0].buttons.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, [format!("cvm:extend:{id}"), format!("cvm:release-now:{id}")]);
        // The hour before: the second reminder.
        rig.advance(DAY - HOUR - Duration::from_secs(60));
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").reminded, 1);
        rig.dispatcher().run_once().await.expect("delivery");
        assert_eq!(reminders(&rig).len(), 2);

        // The end: the release is filed once, approved by the purchase, and carried out once.
        rig.advance(2 * HOUR);
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").ended, 1);
        rig.restart().await;
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").ended, 0, "a restart finds it done");
        let lifetime = rig.desk().view(id).await.expect("view").lifetime.expect("lifetime");
        let release = lifetime.release_request.expect("a release request was filed");
        let filed = rig.desk().view(release).await.expect("release");
        assert_eq!(filed.record.state, RequestState::Approved, "the purchase's approval covers it");
        rig.desk().recover_submissions().await.expect("recover");
        rig.desk().submit_due().await.expect("release");
        rig.desk().submit_due().await.expect("nothing more");
        assert_eq!(rig.desk().view(release).await.expect("release").record.state, RequestState::Done);
        assert_eq!(terminations(&rig), 1, "TerminateInstances exactly once");
        let instance = &rig.instances(id).await[0];
        assert!(instance.released_at.is_some() && instance.gone_at.is_some(), "{instance:?}");
        let audit = rig.t.app.store().session().await.expect("session").audit_of(id).await.expect("audit");
        let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(actions.iter().filter(|a| **a == "reminded").count(), 2, "{actions:?}");
        assert_eq!(actions.iter().filter(|a| **a == "lifetime-ended").count(), 1, "{actions:?}");
    }
}

on_both_backends! {
    async fn an_extension_within_the_maximum_is_at_once_and_beyond_it_needs_an_approver(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        let id = rig.buy(&spot_form()).await;
        let origin = Origin { guild_id: None, channel_id: Some(REQUEST_CHANNEL) };
        let before = rig.desk().view(id).await.expect("view").lifetime.expect("spot gets a TTL");
        assert_eq!(before.release_at, before.started_at + DAY, "the shipped spot default is 1d");

        let refused = rig.desk().extend(&dave(), id, None, origin).await;
        assert!(matches!(refused, Err(DeskError::Refused(_))), "only the owner or an admin: {refused:?}");

        let Extension::Extended { until } = rig.desk().extend(&alice(), id, None, origin).await.expect("extended") else {
            panic!("within the maximum it moves at once")
        };
        assert_eq!(until, before.release_at + DAY, "one press adds the mode's default");
        let after = rig.desk().view(id).await.expect("view").lifetime.expect("lifetime");
        assert_eq!((after.release_at, after.extensions), (until, 1));

        // Spot's maximum is 7 days from the purchase: 6 more days goes past it.
        let Extension::Filed(filed) = rig.desk().extend(&alice(), id, Some(6 * DAY), origin).await.expect("filed") else {
            panic!("beyond the maximum it needs an approver")
        };
        let extension: RequestId = filed.record.id;
        assert_eq!(filed.record.state, RequestState::Pending);
        assert!(filed.record.approvals_needed >= 1);
        assert!(matches!(filed.record.quote, Quote::Extension { hours: 144, .. }), "{:?}", filed.record.quote);
        assert_eq!(rig.desk().view(id).await.expect("view").lifetime.expect("lt").release_at, until, "unchanged until approved");
        let own = rig.desk().vote(extension, &alice(), &approve()).await;
        assert!(matches!(own, Err(DeskError::Vote(VoteRefusal::OwnRequest))), "{own:?}");
        rig.desk().vote(extension, &bob(), &approve()).await.expect("approved");
        rig.desk().submit_due().await.expect("carried out");
        assert_eq!(rig.state(extension).await, RequestState::Done);
        let extended = rig.desk().view(id).await.expect("view").lifetime.expect("lifetime");
        assert_eq!(extended.release_at, until + 6 * DAY);
        assert!(rig.t.sim.requests().iter().all(|r| r.action != "TerminateInstances"), "nothing released");
    }
}

on_both_backends! {
    async fn a_prepaid_period_is_reminded_once_per_lead_warned_when_the_balance_cannot_renew_and_told_when_isolated(backend) {
        let Some(mut rig) = Rig::start(backend, "").await else { return };
        let id = rig.buy(&crate::support::app::prepaid_form(1)).await;
        rig.drive(Duration::from_secs(60), Duration::from_secs(10)).await;
        let expires_at = rig.instances(id).await[0].expires_at.expect("the tracker saw ExpiredTime");
        let left = expires_at - rig.clock.now();
        assert!(left > time::Duration::days(27), "a month's period: {left}");
        assert!(rig.desk().view(id).await.expect("view").lifetime.is_none(), "prepaid gets no TTL by default");

        // Seven days before: one reminder with Renew…, once across passes and restarts.
        rig.advance(Duration::try_from(left - time::Duration::days(7)).expect("positive") + Duration::from_secs(60));
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").reminded, 1);
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").reminded, 0);
        rig.restart().await;
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").reminded, 0);
        rig.dispatcher().run_once().await.expect("delivery");
        let renew = |rig: &Rig| -> Vec<cvmbot::chat::model::Outgoing> {
            rig.t.notifier.recorded().into_iter().filter_map(|r| match r {
                Recorded::Post { message, .. } if message.buttons.iter().any(|b| b.id == format!("cvm:renew:{id}")) => Some(message),
                _ => None,
            }).collect()
        };
        let posted = renew(&rig);
        assert_eq!(posted.len(), 1);
        let text = posted[0].text.clone().unwrap_or_default();
        assert!(text.contains("prepaid period") && text.contains("isolated then unless renewed"), "{text}");
        assert_eq!(posted[0].mentions, vec![alice().id]);

        // Automatic renewal on, and too little money for it: the day-before reminder says so.
        rig.desk().set_auto_renew(&alice(), id, true).await.expect("auto-renew on");
        rig.t.sim.set_balance(cvmbot::sim::DEFAULT_SECRET_ID, cvmbot::money::Fen::new(100)).expect("balance");
        rig.advance(6 * DAY);
        rig.drive(Duration::from_secs(120), Duration::from_secs(30)).await;
        assert!(rig.instances(id).await[0].auto_renew, "the tracker saw the renew flag");
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").reminded, 1);
        rig.dispatcher().run_once().await.expect("delivery");
        let posted = renew(&rig);
        assert_eq!(posted.len(), 2);
        let text = posted[1].text.clone().unwrap_or_default();
        assert!(text.contains("does not cover it"), "{text}");

        // The period ends unpaid: Tencent isolates it, and the channel hears until when it is kept.
        rig.drive(2 * DAY, Duration::from_secs(3600)).await;
        let isolated: Vec<String> = rig.texts_in(REQUEST_CHANNEL).into_iter().filter(|t| t.contains("end of its prepaid period")).collect();
        assert_eq!(isolated.len(), 1, "told once: {isolated:?}");
        assert!(isolated[0].contains("keeps it, with its data, until"), "{}", isolated[0]);
        let instance = &rig.instances(id).await[0];
        assert!(instance.gone_at.is_none() && instance.watching, "still renewable: {instance:?}");
    }
}

on_both_backends! {
    async fn each_owner_hears_weekly_what_still_runs_with_its_burn_and_a_release_button(backend) {
        let Some(mut rig) = Rig::start(backend, "").await else { return };
        let id = rig.buy(&payg_form()).await;
        rig.drive(Duration::from_secs(3600), Duration::from_secs(600)).await;
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").reported, 1);
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").reported, 0);
        rig.restart().await;
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").reported, 0, "once per week across restarts");
        rig.dispatcher().run_once().await.expect("delivery");
        let reports: Vec<cvmbot::chat::model::Outgoing> = rig.t.notifier.recorded().into_iter().filter_map(|r| match r {
            Recorded::Post { channel, message, .. } if channel == REQUEST_CHANNEL && message.text.as_deref().unwrap_or_default().contains("still runs") => Some(message),
            _ => None,
        }).collect();
        assert_eq!(reports.len(), 1);
        let text = reports[0].text.clone().unwrap_or_default();
        assert!(text.contains(&format!("#{id} 1 × S5.MEDIUM4 pay-as-you-go")), "{text}");
        assert!(text.contains("CNY/h") && text.contains("since purchase") && text.contains("released automatically"), "{text}");
        assert_eq!(reports[0].mentions, vec![alice().id]);
        assert_eq!(reports[0].buttons[0].id, format!("cvm:release-now:{id}"));

        rig.advance(7 * DAY);
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").reported, 1, "the next week's");
    }
}

on_both_backends! {
    async fn a_ttl_is_not_escaped_through_a_release_left_pending_nor_by_cancelling_its_own_release(backend) {
        let extra = "[policy.release]\nown_hourly = \"approval\"\n";
        let Some(rig) = Rig::start(backend, extra).await else { return };
        let id = rig.buy(&payg_form()).await;
        rig.drive(Duration::from_secs(60), Duration::from_secs(10)).await;
        // Alice asks for a release that needs an approver, and leaves it pending past the end.
        let pending = rig
            .desk()
            .release(&alice(), id, &[], Some("maybe later"), Origin::default())
            .await
            .expect("filed");
        assert_eq!(pending.record.state, RequestState::Pending);
        rig.advance(3 * DAY + HOUR);
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").ended, 0, "the end waits for the open release");
        rig.desk().cancel(pending.record.id, &alice(), None).await.expect("cancelled");
        assert_eq!(rig.desk().lifetimes_due().await.expect("pass").ended, 1, "then the time to live releases them");
        let ttl_release = rig.desk().view(id).await.expect("view").lifetime.expect("lt").release_request.expect("filed");
        let refused = rig.desk().cancel(ttl_release, &alice(), None).await;
        assert!(matches!(&refused, Err(DeskError::Refused(r)) if r.0.contains("only an admin")), "{refused:?}");
        rig.desk().submit_due().await.expect("released");
        assert_eq!(rig.state(ttl_release).await, RequestState::Done);
        assert_eq!(terminations(&rig), 1);
    }
}
