//! Expiry: a request nobody decides in time is closed, its card says so, and the requester is told.

use crate::on_both_backends;
use crate::support::app::{alice, spot_form};
use crate::workers::rig::{REQUEST_CHANNEL, Rig, card_message};
use cvmbot::chat::notifier::Recorded;
use cvmbot::domain::RequestState;
use std::time::Duration;

on_both_backends! {
    async fn an_expired_request_edits_its_card_and_tells_the_requester_once(backend) {
        let Some(rig) = Rig::start(backend, "[policy]\nrequest_expiry = \"2h\"\n").await else { return };
        let id = rig.file(&spot_form()).await;
        rig.dispatcher().run_once().await.expect("a dispatcher pass");
        let before = rig.t.notifier.recorded().len();

        rig.advance(Duration::from_secs(2 * 3600 - 1));
        assert_eq!(rig.desk().expire_due().await.expect("expiry"), 0, "not before its deadline");
        rig.advance(Duration::from_secs(1));
        assert_eq!(rig.desk().expire_due().await.expect("expiry"), 1);
        assert_eq!(rig.state(id).await, RequestState::Expired);
        rig.dispatcher().run_once().await.expect("a dispatcher pass");

        let recorded = rig.t.notifier.recorded().split_off(before);
        let edits: Vec<&Recorded> = recorded.iter().filter(|r| matches!(r, Recorded::Edit { .. })).collect();
        assert_eq!(edits.len(), 1, "{recorded:#?}");
        let Recorded::Edit { channel, message_id, message } = edits[0] else { unreachable!() };
        assert_eq!((*channel, *message_id), (REQUEST_CHANNEL, card_message(id)), "the request's own card");
        let card = message.card.as_ref().expect("a card");
        assert!(card.description.as_deref().unwrap_or_default().contains("Expired"), "{card:#?}");
        assert!(message.buttons.is_empty(), "no vote buttons on an expired request: {:?}", message.buttons);

        let posts: Vec<&Recorded> = recorded.iter().filter(|r| matches!(r, Recorded::Post { .. })).collect();
        assert_eq!(posts.len(), 1, "{recorded:#?}");
        let Recorded::Post { channel, message, .. } = posts[0] else { unreachable!() };
        assert_eq!(*channel, REQUEST_CHANNEL);
        assert_eq!(message.mentions, vec![alice().id], "the requester is mentioned");
        assert!(message.text.as_deref().unwrap_or_default().contains("expired"), "{message:?}");

        rig.advance(Duration::from_secs(3600));
        assert_eq!(rig.desk().expire_due().await.expect("expiry"), 0);
        rig.dispatcher().run_once().await.expect("a dispatcher pass");
        assert_eq!(rig.t.notifier.recorded().len(), before + 2, "nothing more to say");
    }
}
