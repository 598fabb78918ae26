//! Doctor's Tencent Cloud checks: the credentials, then the CAM permission of every action cvmbot
//! calls that can be asked about without changing anything, each named with the policy line to
//! add when CAM refuses it. The actions that change servers are named as not checked.

use super::Report;
use crate::config::Config;
use crate::tencent::cvm::{DescribeImagesRequest, DescribeInstancesRequest, Filter, Placement, RunInstancesRequest};
use crate::tencent::enums::ChargeType;
use crate::tencent::{ApiError, ErrorKind, TencentClient};

/// Actions cvmbot calls that change servers and have no dry run, so asking would act.
pub(super) const NOT_CHECKED: &[&str] = &["TerminateInstances", "RenewInstances", "ModifyInstancesRenewFlag"];

/// An instance id no account has: asking the price of terminating or renewing it changes nothing,
/// and Tencent checks the caller's permission before it looks the instance up.
const NO_SUCH_INSTANCE: &str = "ins-00000000";

/// The action as a CAM policy names it: Billing's actions are `finance:`, CVM's `cvm:`.
pub(super) fn cam_action(action: &str) -> String {
    let service = if matches!(action, "DescribeAccountBalance" | "DescribeBillDetail") {
        "finance"
    } else {
        "cvm"
    };
    format!("{service}:{action}")
}

/// True when CAM refused the call (as opposed to the key, the signature or the request).
fn cam_refused(error: &ApiError) -> bool {
    error.code == "AuthFailure.UnauthorizedOperation"
        || error.code == "UnauthorizedOperation"
        || error.code.starts_with("UnauthorizedOperation.")
}

/// What one call said about the permission to make it.
enum Verdict {
    /// It was answered, or refused for a reason Tencent checks after permissions.
    Allowed(String),
    /// CAM refused it.
    Denied(ApiError),
    /// The key itself was refused: nothing else can be learnt with it.
    KeyRefused(ApiError),
    /// Tencent could not be reached or failed.
    Failed(ApiError),
}

fn verdict<T>(result: Result<T, ApiError>, allowed: impl FnOnce(T) -> String) -> Verdict {
    match result {
        Ok(answer) => Verdict::Allowed(allowed(answer)),
        Err(error) if cam_refused(&error) => Verdict::Denied(error),
        Err(error) if error.kind == ErrorKind::Auth => Verdict::KeyRefused(error),
        Err(error) if error.is_retryable() => Verdict::Failed(error),
        Err(error) => Verdict::Allowed(format!(
            "allowed (Tencent answered {} about the sample, which it checks after permissions)",
            error.code
        )),
    }
}

/// The error on one line: Tencent's CAM messages hold line breaks.
fn one_line(error: &ApiError) -> String {
    error.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reports `verdict` for `action`; false when the key was refused and checking should stop.
fn report_verdict(report: &mut Report, action: &str, verdict: Verdict) -> bool {
    match verdict {
        Verdict::Allowed(detail) => report.ok(action, detail),
        Verdict::Denied(error) => report.fail(
            action,
            format!(
                "CAM refused it: the key's sub-user may not call {} ({})",
                cam_action(action),
                one_line(&error)
            ),
            &format!(
                "add \"{}\" to the sub-user's CAM policy (README: \"Tencent Cloud permissions\")",
                cam_action(action)
            ),
        ),
        Verdict::KeyRefused(error) => {
            let problem = format!("{} ({})", error.explain(), one_line(&error));
            report.fail(action, problem, super::tencent_fix(&error));
            return false;
        }
        Verdict::Failed(error) => {
            let problem = format!("{} ({})", error.explain(), one_line(&error));
            report.fail(action, problem, super::tencent_fix(&error));
        }
    }
    true
}

/// A purchase to ask about: the first zone on sale (an allowed one if the policy lists zones),
/// the first type sold there and the first public image, as found by the describe calls.
#[derive(Default)]
struct Sample {
    zone: Option<String>,
    instance_type: Option<String>,
    image: Option<String>,
}

impl Sample {
    fn request(&self) -> Option<RunInstancesRequest> {
        Some(RunInstancesRequest {
            instance_charge_type: Some(ChargeType::PostpaidByHour),
            placement: Some(Placement {
                zone: self.zone.clone()?,
                project_id: None,
            }),
            instance_type: Some(self.instance_type.clone()?),
            image_id: Some(self.image.clone()?),
            instance_count: Some(1),
            ..RunInstancesRequest::default()
        })
    }
}

/// Runs the Tencent Cloud checks.
pub(super) async fn check(config: &Config, report: &mut Report) {
    let Some(credentials) = config.secrets.tencent.clone() else {
        return report.fail(
            "Tencent Cloud credentials",
            "TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY are not set",
            "export both (an API key of a CAM sub-user with the policy in the README), or use `cvmbot run --simulate`",
        );
    };
    report.ok(
        "Tencent Cloud credentials",
        format!(
            "SecretId {} at {}",
            super::mask(&credentials.secret_id),
            config.tencent.endpoint.template()
        ),
    );
    let client = match TencentClient::new(config.tencent.clone(), credentials) {
        Ok(client) => client,
        Err(error) => return report.fail("Tencent Cloud client", error.to_string(), "check tencent.* settings"),
    };
    if !check_actions(&client, &config.desk.policy.allowed_zones, report).await {
        report.warn(
            "other actions",
            "not checked: Tencent Cloud refused the key itself",
            "fix the key first, then run doctor again",
        );
        return;
    }
    report.ok(
        "not checked",
        format!(
            "{}: each changes servers and has no dry run, so asking would act; the README's policy grants them",
            NOT_CHECKED.join(", ")
        ),
    );
}

/// Asks about every checkable action in turn; false as soon as the key itself is refused.
async fn check_actions(client: &TencentClient, allowed_zones: &[String], report: &mut Report) -> bool {
    let balance = client.describe_account_balance().await;
    if let Ok(answer) = &balance
        && answer.data.owe.get() > 0
    {
        report.warn(
            "balance",
            format!("the account owes {}", answer.data.owe),
            "top up: Tencent reclaims servers of accounts that owe money",
        );
    }
    let balance = verdict(balance, |answer| {
        let b = answer.data;
        format!(
            "{} spendable (frozen {}, owed {}); RequestId {}",
            b.spendable(),
            b.freeze,
            b.owe,
            answer.request_id
        )
    });
    if !report_verdict(report, "DescribeAccountBalance", balance) {
        return false;
    }
    check_bills(client, report).await;
    let region = client.region().to_owned();
    let mut sample = Sample::default();
    let zones = client.describe_zones(&region).await;
    if let Ok(answer) = &zones {
        let on_sale = || answer.data.zone_set.iter().filter(|z| z.zone_state == "AVAILABLE");
        sample.zone = on_sale()
            .find(|z| allowed_zones.is_empty() || allowed_zones.contains(&z.zone))
            .or_else(|| on_sale().next())
            .map(|z| z.zone.clone());
    }
    let zones = verdict(zones, |answer| {
        let zones: Vec<String> = answer
            .data
            .zone_set
            .iter()
            .map(|z| format!("{} ({})", z.zone, z.zone_state))
            .collect();
        if zones.is_empty() {
            format!("{region}: no zones")
        } else {
            format!("{region}: {}", zones.join(", "))
        }
    });
    if !report_verdict(report, "DescribeZones", zones) {
        return false;
    }
    let filters = sample
        .zone
        .iter()
        .map(|zone| Filter::new("zone", [zone.as_str()]))
        .collect();
    let types = client.describe_zone_instance_config_infos(&region, filters).await;
    if let Ok(answer) = &types {
        sample.instance_type = answer
            .data
            .instance_type_quota_set
            .iter()
            .find(|t| t.status == "SELL")
            .map(|t| t.instance_type.clone());
    }
    let types = verdict(types, |answer| {
        format!("{} instance types listed", answer.data.instance_type_quota_set.len())
    });
    if !report_verdict(report, "DescribeZoneInstanceConfigInfos", types) {
        return false;
    }
    let images = DescribeImagesRequest {
        filters: Some(vec![Filter::new("image-type", ["PUBLIC_IMAGE"])]),
        limit: Some(1),
        ..DescribeImagesRequest::default()
    };
    let images = client.describe_images(&region, &images).await;
    if let Ok(answer) = &images {
        sample.image = answer.data.image_set.first().map(|i| i.image_id.clone());
    }
    let images = verdict(images, |answer| format!("{} public images", answer.data.total_count));
    if !report_verdict(report, "DescribeImages", images) {
        return false;
    }
    let listed = DescribeInstancesRequest {
        limit: Some(1),
        ..DescribeInstancesRequest::default()
    };
    let instances = client.describe_instances_page(&region, &listed).await;
    let instances = verdict(instances, |answer| {
        format!("the account has {} instances in {region}", answer.data.total_count)
    });
    if !report_verdict(report, "DescribeInstances", instances) {
        return false;
    }
    if !check_purchase(client, &region, &sample, report).await {
        return false;
    }
    check_instance_quotes(client, &region, report).await
}

/// InquiryPriceRunInstances and RunInstances with DryRun on the sample purchase.
async fn check_purchase(client: &TencentClient, region: &str, sample: &Sample, report: &mut Report) -> bool {
    let Some(request) = sample.request() else {
        for action in ["InquiryPriceRunInstances", "RunInstances"] {
            report.warn(
                action,
                "not checked: no zone, instance type and image to ask about (the calls above that find them failed)",
                "fix the failures above, then run doctor again",
            );
        }
        return true;
    };
    let about = format!(
        "{} in {}",
        request.instance_type.as_deref().unwrap_or_default(),
        request.placement.as_ref().map_or("", |p| p.zone.as_str())
    );
    let price = client.inquiry_price_run_instances(region, &request).await;
    let price = verdict(price, |answer| {
        let instance = answer.data.instance_price.as_ref();
        let hourly = instance.and_then(|p| p.unit_price_discount.or(p.unit_price));
        match hourly {
            Some(yuan) => format!("{about}: {yuan} CNY an hour; RequestId {}", answer.request_id),
            None => format!("{about}: quoted; RequestId {}", answer.request_id),
        }
    });
    if !report_verdict(report, "InquiryPriceRunInstances", price) {
        return false;
    }
    let dry_run = client.dry_run_instances(region, &request).await;
    let dry_run = verdict(dry_run, |passed| {
        format!(
            "the dry run of {about} passed (nothing bought); RequestId {}",
            passed.request_id
        )
    });
    report_verdict(report, "RunInstances", dry_run)
}

/// InquiryPriceTerminateInstances and InquiryPriceRenewInstances about an instance nobody has.
async fn check_instance_quotes(client: &TencentClient, region: &str, report: &mut Report) -> bool {
    let ids = [NO_SUCH_INSTANCE.to_owned()];
    let terminate = client.inquiry_price_terminate_instances(region, &ids).await;
    let terminate = verdict(terminate, |answer| format!("answered; RequestId {}", answer.request_id));
    if !report_verdict(report, "InquiryPriceTerminateInstances", terminate) {
        return false;
    }
    let renew = client.inquiry_price_renew_instances(region, &ids, 1).await;
    let renew = verdict(renew, |answer| format!("answered; RequestId {}", answer.request_id));
    report_verdict(report, "InquiryPriceRenewInstances", renew)
}

/// The bills the spend charts read: without them every figure is cvmbot's estimate, so a refusal
/// is a warning.
async fn check_bills(client: &TencentClient, report: &mut Report) {
    let month = crate::tencent::bills::BillMonth::of(time::OffsetDateTime::now_utc());
    let (begin, end) = crate::tencent::billing::month_bounds(month);
    match client.describe_bill_detail(begin, end, 0, 1).await {
        Ok(answer) => report.ok(
            "DescribeBillDetail",
            format!("this month's bills can be read; RequestId {}", answer.request_id),
        ),
        Err(error) => report.warn(
            "DescribeBillDetail",
            format!(
                "the bills cannot be read ({}), so spend charts show cvmbot's estimates only",
                one_line(&error)
            ),
            if cam_refused(&error) {
                "add \"finance:DescribeBillDetail\" to the sub-user's CAM policy (README: \"Tencent Cloud permissions\")"
            } else {
                "see the error; `RUST_LOG=debug cvmbot doctor` shows the exchange"
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_cvmbot_calls_is_either_checked_or_named_as_not_checked() {
        let checked = [
            "DescribeAccountBalance",
            "DescribeBillDetail",
            "DescribeZones",
            "DescribeZoneInstanceConfigInfos",
            "DescribeImages",
            "DescribeInstances",
            "InquiryPriceRunInstances",
            "RunInstances",
            "InquiryPriceTerminateInstances",
            "InquiryPriceRenewInstances",
        ];
        let mut covered: Vec<&str> = checked.iter().chain(NOT_CHECKED).copied().collect();
        covered.sort_unstable();
        let mut calls = crate::tencent::ACTIONS.to_vec();
        calls.sort_unstable();
        assert_eq!(covered, calls);
    }

    #[test]
    fn cam_refusals_are_told_apart_from_a_refused_key_and_from_the_samples_own_errors() {
        let denied = ApiError::from_api("AuthFailure.UnauthorizedOperation", "not authorized", None);
        let cam_code = ApiError::from_api("UnauthorizedOperation.CamNoAuth", "", None);
        let signature = ApiError::from_api("AuthFailure.SignatureFailure", "", None);
        let sold_out = ApiError::from_api("ResourceInsufficient.SpecifiedInstanceType", "", None);
        let failed = ApiError::from_api("InternalError", "", None);
        let of = |e: ApiError| verdict::<()>(Err(e), |()| String::new());
        assert!(matches!(of(denied), Verdict::Denied(_)));
        assert!(matches!(of(cam_code), Verdict::Denied(_)));
        assert!(matches!(of(signature), Verdict::KeyRefused(_)));
        assert!(matches!(of(sold_out), Verdict::Allowed(detail) if detail.contains("ResourceInsufficient")));
        assert!(matches!(of(failed), Verdict::Failed(_)));
        assert_eq!(cam_action("DescribeAccountBalance"), "finance:DescribeAccountBalance");
        assert_eq!(cam_action("RunInstances"), "cvm:RunInstances");
    }
}
