//! CAM, as far as a caller sees it: a key whose sub-user's policy does not grant an action is
//! refused that action, every time, after its signature was checked and before anything is
//! done. Keys are allowed everything until a test or a demo denies actions to one.

use super::actions::{Api, ApiFailure, fail};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The code Tencent's API gateway answers for an action the caller's CAM policy does not grant.
pub const DEFAULT_DENIAL_CODE: &str = "AuthFailure.UnauthorizedOperation";

/// The actions denied to one SecretId, and the code they are refused with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Denial {
    /// Action names (`RunInstances`, `DescribeAccountBalance`).
    pub deny: BTreeSet<String>,
    /// The error code of a refusal: `AuthFailure.UnauthorizedOperation` (the default), or one
    /// of the per-action codes the API documents, `UnauthorizedOperation` and
    /// `UnauthorizedOperation.CamNoAuth`.
    #[serde(default = "default_code")]
    pub code: String,
}

fn default_code() -> String {
    DEFAULT_DENIAL_CODE.to_owned()
}

/// The CAM denials of every SecretId.
#[derive(Debug, Default)]
pub(crate) struct Cam {
    denials: BTreeMap<String, Denial>,
}

impl Cam {
    /// Replaces what `secret_id` is denied (an empty `deny` allows it everything again).
    pub(crate) fn set(&mut self, secret_id: &str, denial: Denial) {
        if denial.deny.is_empty() {
            self.denials.remove(secret_id);
        } else {
            self.denials.insert(secret_id.to_owned(), denial);
        }
    }

    /// Every SecretId's denials, for the state summary.
    pub(crate) fn all(&self) -> &BTreeMap<String, Denial> {
        &self.denials
    }

    /// The refusal of `action` by `secret_id` (account `uin`) in `region`, when its policy does
    /// not grant it, worded as Tencent words it: the general sentence, then the request id, the
    /// CAM action (`cvm:RunInstances`, `finance:DescribeAccountBalance`) and the resource.
    pub(crate) fn check(
        &self,
        secret_id: &str,
        action: &str,
        api: Api,
        uin: u64,
        region: &str,
        request_id: &str,
    ) -> Result<(), ApiFailure> {
        let Some(denial) = self.denials.get(secret_id).filter(|d| d.deny.contains(action)) else {
            return Ok(());
        };
        let (cam_action, resource) = match api {
            Api::Cvm => (
                format!("cvm:{action}"),
                format!("qcs::cvm:{region}:uin/{uin}:instance/*"),
            ),
            Api::Billing => (format!("finance:{action}"), "*".to_owned()),
        };
        Err(fail(
            &denial.code,
            format!(
                "You are not authorized to perform this operation. Check your CAM policies, and ensure that you \
                 are using the correct access keys. [[request id:{request_id}]you are not authorized to perform \
                 operation ({cam_action})\nresource ({resource}) has no permission\n]"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denial(actions: &[&str]) -> Denial {
        Denial {
            deny: actions.iter().map(|a| (*a).to_owned()).collect(),
            code: default_code(),
        }
    }

    #[test]
    fn a_denied_action_is_refused_naming_its_cam_action_and_other_keys_and_actions_pass() {
        let mut cam = Cam::default();
        cam.set("AKIDa", denial(&["RunInstances", "DescribeAccountBalance"]));
        let refused = cam
            .check("AKIDa", "RunInstances", Api::Cvm, 7, "ap-guangzhou", "rid-1")
            .expect_err("denied");
        assert_eq!(refused.code, "AuthFailure.UnauthorizedOperation");
        assert!(refused.message.contains("[request id:rid-1]"), "{}", refused.message);
        assert!(
            refused.message.contains("operation (cvm:RunInstances)"),
            "{}",
            refused.message
        );
        assert!(refused.message.contains("qcs::cvm:ap-guangzhou:uin/7:instance/*"));
        let balance = cam
            .check("AKIDa", "DescribeAccountBalance", Api::Billing, 7, "", "rid-2")
            .expect_err("denied");
        assert!(balance.message.contains("(finance:DescribeAccountBalance)"));
        assert!(
            cam.check("AKIDa", "DescribeZones", Api::Cvm, 7, "ap-guangzhou", "r")
                .is_ok()
        );
        assert!(
            cam.check("AKIDb", "RunInstances", Api::Cvm, 8, "ap-guangzhou", "r")
                .is_ok()
        );
    }

    #[test]
    fn an_empty_denial_allows_everything_again() {
        let mut cam = Cam::default();
        cam.set("AKIDa", denial(&["RunInstances"]));
        cam.set("AKIDa", denial(&[]));
        assert!(cam.all().is_empty());
        assert!(
            cam.check("AKIDa", "RunInstances", Api::Cvm, 7, "ap-guangzhou", "r")
                .is_ok()
        );
    }
}
