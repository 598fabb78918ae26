//! The figures behind a spend chart: Tencent's bill lines for what cvmbot bought, to the last
//! decimal, and cvmbot's estimate from its own records for the time the bills do not cover yet;
//! with the bills refused by CAM, every figure is the estimate, and the spend says why.

use crate::on_both_backends;
use crate::support::app::payg_form;
use crate::workers::rig::Rig;
use cvmbot::domain::{SpendBy, SpendPeriod};
use cvmbot::money::Yuan;
use cvmbot::store::InstanceRecord;
use cvmbot::tencent::TencentClient;
use cvmbot::tencent::bills::{BillLine, BillMonth};
use rust_decimal::Decimal;
use std::time::Duration;
use time::macros::date;

/// Two pay-as-you-go servers bought at 2025-01-01 00:00 and run for 26 hours and a half.
async fn two_servers_for_a_day_and_more(rig: &Rig) -> Vec<InstanceRecord> {
    let mut form = payg_form();
    form.set("count", "2");
    let id = rig.buy(&form).await;
    rig.drive(Duration::from_secs(26 * 3600 + 1800), Duration::from_secs(1800))
        .await;
    rig.instances(id).await
}

fn january() -> SpendPeriod {
    SpendPeriod::parse("2025-01", date!(2025 - 01 - 02)).expect("a month")
}

/// The bill lines of `servers` as Tencent answers them.
async fn bill_lines(rig: &Rig, servers: &[InstanceRecord]) -> Vec<BillLine> {
    let config = &rig.t.app.config;
    let client = TencentClient::new(
        config.tencent.clone(),
        config.secrets.tencent.clone().expect("credentials"),
    )
    .expect("a client");
    let month = BillMonth::parse("2025-01").expect("a month");
    let lines = client.all_bill_lines(month).await.expect("the bills");
    lines
        .into_iter()
        .filter(|l| servers.iter().any(|s| s.instance_id == l.resource_id))
        .collect()
}

/// What `server` burns over `seconds`, as cvmbot estimates it.
fn estimate(server: &InstanceRecord, seconds: i64) -> Decimal {
    (server.hourly_price.amount() * Decimal::from(seconds) / Decimal::from(3600)).round_dp(8)
}

on_both_backends! {
    async fn the_chart_adds_up_tencents_bill_lines_and_estimates_only_the_hours_not_billed_yet(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        let servers = two_servers_for_a_day_and_more(&rig).await;
        assert_eq!(servers.len(), 2);
        let lines = bill_lines(&rig, &servers).await;
        assert!(lines.len() >= 2 * 26, "an hourly line per server per hour ended: {}", lines.len());

        let spend = rig.desk().spend(&january(), SpendBy::Requester).await.expect("the spend");
        assert_eq!(spend.bills, cvmbot::desk::Bills::Read);
        let series = &spend.series;
        assert_eq!(series.groups.len(), 1, "alice's");
        let billed: Decimal = series.groups[0].per_day.iter().map(|d| d.billed.amount()).sum();
        let lines_total: Decimal = lines.iter().map(|l| l.cost.amount()).sum();
        assert_eq!(billed, lines_total, "the billed figures are Tencent's lines, to the last decimal");

        let now = rig.desk().clock().now();
        let estimated: Decimal = series.groups[0].per_day.iter().map(|d| d.estimated.amount()).sum();
        let expected: Decimal = servers
            .iter()
            .map(|server| {
                let billed_until = lines
                    .iter()
                    .filter(|l| l.resource_id == server.instance_id)
                    .map(|l| l.fee_end + time::Duration::seconds(1))
                    .max()
                    .expect("billed hours");
                estimate(server, (now - billed_until).whole_seconds())
            })
            .sum();
        assert!(expected > Decimal::ZERO, "the current hour is not billed yet");
        assert_eq!(estimated, expected, "the unbilled time at the price bought");
        assert_eq!(series.total(), Yuan::new(lines_total + expected));
    }
}

on_both_backends! {
    async fn bills_the_key_may_not_read_leave_every_figure_to_the_estimate_and_say_so(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        let servers = two_servers_for_a_day_and_more(&rig).await;
        let denial = cvmbot::sim::cam::Denial {
            deny: ["DescribeBillDetail".to_owned()].into(),
            code: "AuthFailure.UnauthorizedOperation".into(),
        };
        rig.t.sim.set_cam(cvmbot::sim::DEFAULT_SECRET_ID, denial);

        let spend = rig.desk().spend(&january(), SpendBy::Zone).await.expect("the spend");
        let cvmbot::desk::Bills::Unread(why) = &spend.bills else {
            panic!("the bills were refused: {:?}", spend.bills)
        };
        assert!(why.contains("finance:DescribeBillDetail"), "{why}");
        let now = rig.desk().clock().now();
        let expected: Decimal = servers
            .iter()
            .map(|s| estimate(s, (now - s.created_at).whole_seconds()))
            .sum();
        assert_eq!(spend.series.total(), Yuan::new(expected), "every hour at the price bought");
        assert!(spend.series.groups.iter().all(|g| g.per_day.iter().all(|d| d.billed.amount().is_zero())));
        let summary = cvmbot::chat::render::spend_summary(&spend);
        assert!(summary.contains("cvmbot's estimate") && summary.contains("finance:DescribeBillDetail"), "{summary}");
    }
}
