//! String enums of the API that tolerate values this version does not know: Tencent adds states
//! and types over time, and an unknown value must not make a whole answer unreadable.

/// Defines an enum over the API's string values with an `Unknown(String)` catch-all, serialized as
/// the plain string.
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version of cvmbot does not know.
            Unknown(String),
        }

        impl $name {
            /// Every value this version knows, in documentation order.
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            /// The API's spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Unknown(other) => other,
                }
            }

            /// The known value spelled `text`, if any (exact, case-sensitive as the API is).
            pub fn parse_known(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                $name::parse_known(&text).unwrap_or($name::Unknown(text))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_str().to_owned()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

api_enum! {
    /// How an instance is paid for (`InstanceChargeType`).
    ChargeType {
        /// Monthly subscription, paid up front.
        Prepaid = "PREPAID",
        /// Pay as you go, billed by the second and settled hourly.
        PostpaidByHour = "POSTPAID_BY_HOUR",
        /// On a dedicated host.
        CdhPaid = "CDHPAID",
        /// Spot (preemptible) instance.
        SpotPaid = "SPOTPAID",
        /// On a dedicated cluster.
        CdcPaid = "CDCPAID",
    }
}

api_enum! {
    /// The life-cycle state of an instance (`InstanceState`).
    InstanceState {
        /// Being created.
        Pending = "PENDING",
        /// Creation failed.
        LaunchFailed = "LAUNCH_FAILED",
        /// Running.
        Running = "RUNNING",
        /// Stopped.
        Stopped = "STOPPED",
        /// Starting.
        Starting = "STARTING",
        /// Stopping.
        Stopping = "STOPPING",
        /// Rebooting.
        Rebooting = "REBOOTING",
        /// Stopped and waiting to be destroyed.
        Shutdown = "SHUTDOWN",
        /// Being destroyed.
        Terminating = "TERMINATING",
    }
}

api_enum! {
    /// The outcome of an instance's latest operation (`LatestOperationState`).
    OperationState {
        /// Succeeded.
        Success = "SUCCESS",
        /// In progress.
        Operating = "OPERATING",
        /// Failed.
        Failed = "FAILED",
    }
}

api_enum! {
    /// Cloud disk type (`DiskType`).
    DiskType {
        /// Local disk.
        LocalBasic = "LOCAL_BASIC",
        /// Local SSD.
        LocalSsd = "LOCAL_SSD",
        /// Basic cloud disk.
        CloudBasic = "CLOUD_BASIC",
        /// Cloud SSD.
        CloudSsd = "CLOUD_SSD",
        /// Premium cloud disk.
        CloudPremium = "CLOUD_PREMIUM",
        /// Balanced SSD.
        CloudBssd = "CLOUD_BSSD",
        /// Enhanced SSD.
        CloudHssd = "CLOUD_HSSD",
        /// Tremendous SSD.
        CloudTssd = "CLOUD_TSSD",
    }
}

api_enum! {
    /// How public bandwidth is paid for (`InternetChargeType`).
    InternetChargeType {
        /// Prepaid bandwidth.
        BandwidthPrepaid = "BANDWIDTH_PREPAID",
        /// By traffic, billed hourly per GB.
        TrafficPostpaidByHour = "TRAFFIC_POSTPAID_BY_HOUR",
        /// By bandwidth, billed hourly.
        BandwidthPostpaidByHour = "BANDWIDTH_POSTPAID_BY_HOUR",
        /// A shared bandwidth package.
        BandwidthPackage = "BANDWIDTH_PACKAGE",
    }
}

api_enum! {
    /// What happens when a prepaid instance's period ends (`RenewFlag`).
    RenewFlag {
        /// Notify and renew automatically.
        NotifyAndAutoRenew = "NOTIFY_AND_AUTO_RENEW",
        /// Notify, renew by hand (the default).
        NotifyAndManualRenew = "NOTIFY_AND_MANUAL_RENEW",
        /// No notice, renew by hand.
        DisableNotifyAndManualRenew = "DISABLE_NOTIFY_AND_MANUAL_RENEW",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_kept_not_refused() {
        let state: InstanceState = serde_json::from_str(r#""ENTER_RESCUE_MODE""#).expect("tolerated");
        assert_eq!(state, InstanceState::Unknown("ENTER_RESCUE_MODE".into()));
        assert_eq!(
            serde_json::to_string(&state).expect("serializes"),
            r#""ENTER_RESCUE_MODE""#
        );
        let known: ChargeType = serde_json::from_str(r#""SPOTPAID""#).expect("known");
        assert_eq!(known, ChargeType::SpotPaid);
    }
}
