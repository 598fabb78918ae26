//! One simulated instance and how DescribeInstances shows it.

use crate::clock::{SimMs, iso};
use cvmbot_tencent::cvm::{Instance, Placement, Tag};
use cvmbot_tencent::enums::{ChargeType, InstanceState, OperationState, RenewFlag};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Where an instance is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Being created.
    Pending,
    /// Running.
    Running,
    /// Creation failed.
    LaunchFailed,
    /// A prepaid instance in the recycle bin.
    Shutdown,
    /// Being destroyed; gone soon.
    Terminating,
}

impl Phase {
    /// The API's `InstanceState`.
    pub fn state(self) -> InstanceState {
        match self {
            Phase::Pending => InstanceState::Pending,
            Phase::Running => InstanceState::Running,
            Phase::LaunchFailed => InstanceState::LaunchFailed,
            Phase::Shutdown => InstanceState::Shutdown,
            Phase::Terminating => InstanceState::Terminating,
        }
    }
}

/// When something became visible through the API: simulated time and wall time (Unix ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visible {
    /// Simulated milliseconds.
    pub sim_ms: SimMs,
    /// Wall-clock Unix milliseconds.
    pub wall_ms: i64,
}

/// A disk as bought.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disk {
    /// Disk type.
    pub disk_type: String,
    /// GiB.
    pub size: i64,
    /// Destroyed with the instance.
    pub delete_with_instance: bool,
    /// Encrypted (`Encrypt`).
    #[serde(default)]
    pub encrypt: bool,
    /// The customer key that encrypts it (`KmsKeyId`), if one was named.
    #[serde(default)]
    pub kms_key_id: Option<String>,
}

/// Why an instance sits in the recycle bin (`IsolatedSource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// Not isolated.
    NotIsolated,
    /// Returned by TerminateInstances.
    Manmade,
    /// Its prepaid period ended unrenewed.
    Expire,
}

impl Isolation {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::NotIsolated => "NOTISOLATED",
            Isolation::Manmade => "MANMADE",
            Isolation::Expire => "EXPIRE",
        }
    }
}

/// An instance and everything the simulator tracks about it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SimInstance {
    pub id: String,
    pub uuid: String,
    /// Creation order, for listing.
    pub seq: u64,
    pub uin: u64,
    pub region: String,
    pub zone: String,
    pub zone_id: String,
    pub instance_type: String,
    pub cpu: i64,
    pub memory: i64,
    pub image_id: String,
    pub os_name: String,
    pub default_login_user: String,
    pub charge_type: ChargeType,
    pub name: String,
    pub tags: Vec<(String, String)>,
    pub private_ip: String,
    pub public_ip: Option<String>,
    pub wants_public_ip: bool,
    pub bandwidth_mbps: i64,
    pub internet_charge_type: String,
    pub system_disk: Disk,
    pub data_disks: Vec<Disk>,
    pub vpc_id: String,
    pub subnet_id: String,
    pub security_group_ids: Vec<String>,
    pub key_ids: Vec<String>,
    pub created: SimMs,
    pub expired: Option<SimMs>,
    pub renew_flag: Option<String>,
    /// `HostName`.
    #[serde(default)]
    pub host_name: String,
    /// Where the prepaid period being paid for began (purchase, or the renewal out of the bin).
    #[serde(default)]
    pub period_start: SimMs,
    /// Fen paid for the period from `period_start` to `expired` and not refunded.
    #[serde(default)]
    pub period_paid: i64,
    /// Its prepaid data disks go with it when it is destroyed (`ReleasePrepaidDataDisks`).
    #[serde(default)]
    pub release_prepaid_data_disks: bool,
    pub phase: Phase,
    pub launch_at: SimMs,
    pub public_ip_at: Option<SimMs>,
    /// Decided at purchase (seeded): the launch will fail.
    pub fails: bool,
    /// Fen frozen for this instance.
    pub freeze: i64,
    /// Fen paid up front (prepaid), refunded if the launch fails.
    pub paid_upfront: i64,
    /// Fen one month's automatic renewal costs (prepaid).
    #[serde(default)]
    pub renew_fen: i64,
    /// Yuan per hour billed while running, besides the spot market price.
    pub hourly_fixed: Decimal,
    /// The spot bid, for SPOTPAID.
    pub spot_bid: Option<Decimal>,
    /// Whether the instance is accruing on its account now.
    pub billing: bool,
    /// Whether its stock unit is still taken.
    pub holds_stock: bool,
    pub latest_operation: String,
    pub latest_operation_state: OperationState,
    pub latest_request_id: String,
    pub latest_error: Option<String>,
    pub restrict_state: String,
    pub client_token: Option<String>,
    pub running_visible: Option<Visible>,
    pub public_ip_visible: Option<Visible>,
    /// Why and when it ended, if it did (terminated, reclaimed, launch failed).
    pub ended: Option<(SimMs, String)>,
}

impl SimInstance {
    /// `zone/type`: the key of its stock and spot market.
    pub fn market_key(&self) -> String {
        format!("{}/{}", self.zone, self.instance_type)
    }

    /// Why it is isolated: returned by hand, or expired.
    pub fn isolation(&self) -> Isolation {
        match (self.phase, self.restrict_state.as_str()) {
            (Phase::Shutdown, "EXPIRED") => Isolation::Expire,
            (Phase::Shutdown, _) => Isolation::Manmade,
            _ => Isolation::NotIsolated,
        }
    }

    /// The fen a TerminateInstances would give back now: the unused share of what was paid for
    /// the running prepaid period (nothing for pay-as-you-go, spot, or once in the recycle bin).
    pub fn refund_fen(&self, now: SimMs) -> i64 {
        let Some(expired) = self.expired else {
            return 0;
        };
        if self.charge_type != ChargeType::Prepaid
            || !matches!(self.phase, Phase::Pending | Phase::Running)
            || expired <= now
            || expired <= self.period_start
        {
            return 0;
        }
        let unused = i128::from(expired - now.max(self.period_start));
        let whole = i128::from(expired - self.period_start);
        // Floor: a refund never gives back more than was paid.
        (i128::from(self.period_paid) * unused / whole) as i64
    }

    /// True for SPOTPAID.
    pub fn is_spot(&self) -> bool {
        self.charge_type == ChargeType::SpotPaid
    }

    /// DescribeInstances' view: the shared DTO plus the documented fields it does not carry.
    pub fn to_api(&self) -> Value {
        let dto = Instance {
            instance_id: self.id.clone(),
            instance_state: Some(self.phase.state()),
            instance_type: Some(self.instance_type.clone()),
            cpu: Some(self.cpu),
            memory: Some(self.memory),
            placement: Some(Placement {
                zone: self.zone.clone(),
                project_id: Some(0),
            }),
            instance_name: Some(self.name.clone()),
            instance_charge_type: Some(self.charge_type.clone()),
            private_ip_addresses: vec![self.private_ip.clone()],
            public_ip_addresses: self.public_ip.clone().map(|ip| vec![ip]),
            image_id: Some(self.image_id.clone()),
            created_time: Some(iso(self.created)),
            // Never null (the spec's type); pay-as-you-go instances have no end, so an empty string.
            expired_time: Some(self.expired.map(iso).unwrap_or_default()),
            // Pay-as-you-go instances report the default flag, as the spec's example shows.
            renew_flag: Some(RenewFlag::from(
                self.renew_flag
                    .clone()
                    .unwrap_or_else(|| RenewFlag::NotifyAndManualRenew.to_string()),
            )),
            restrict_state: Some(self.restrict_state.clone()),
            isolated_source: Some(self.isolation().as_str().to_owned()),
            latest_operation: Some(self.latest_operation.clone()),
            latest_operation_state: Some(self.latest_operation_state.clone()),
            latest_operation_request_id: Some(self.latest_request_id.clone()),
            latest_operation_error_msg: self.latest_error.clone(),
            default_login_user: Some(self.default_login_user.clone()),
            os_name: Some(self.os_name.clone()),
            tags: self
                .tags
                .iter()
                .map(|(key, value)| Tag {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
        };
        let mut value = serde_json::to_value(dto).unwrap_or_else(|_| json!({}));
        if let Value::Object(map) = &mut value {
            let disk = |d: &Disk| {
                json!({
                    "DiskType": d.disk_type,
                    "DiskSize": d.size,
                    "DeleteWithInstance": d.delete_with_instance,
                    "Encrypt": d.encrypt,
                    "KmsKeyId": d.kms_key_id,
                })
            };
            let extras = json!({
                "Uuid": self.uuid,
                "SystemDisk": {
                    "DiskType": self.system_disk.disk_type,
                    "DiskSize": self.system_disk.size,
                    "Encrypt": self.system_disk.encrypt,
                    // Required and never null: no customer key is an empty string.
                    "KmsKeyId": self.system_disk.kms_key_id.clone().unwrap_or_default(),
                },
                "DataDisks": self.data_disks.iter().map(disk).collect::<Vec<_>>(),
                "InternetAccessible": {
                    "InternetChargeType": self.internet_charge_type,
                    "InternetMaxBandwidthOut": self.bandwidth_mbps,
                    "PublicIpAssigned": self.wants_public_ip,
                },
                "VirtualPrivateCloud": {
                    "VpcId": self.vpc_id,
                    "SubnetId": self.subnet_id,
                    "AsVpcGateway": false,
                },
                "SecurityGroupIds": self.security_group_ids,
                "LoginSettings": {"KeyIds": self.key_ids},
                "StopChargingMode": "NOT_APPLICABLE",
                "HostName": self.host_name,
                // The simulator has no CAM roles, placement groups, HPC or dedicated clusters:
                // the required members answer empty, as CVM does for an instance without them.
                "CamRoleName": "",
                "DisasterRecoverGroupId": "",
                "DisasterRecoverGroupIds": [],
                "HpcClusterId": "",
                "RdmaIpAddresses": [],
                "DedicatedClusterId": "",
                "DisableApiTermination": false,
                "DefaultLoginPort": if self.default_login_user == "Administrator" { 3389 } else { 22 },
                "IPv6Addresses": Value::Null,
                "LicenseType": "TencentCloud",
            });
            if let Value::Object(extra) = extras {
                map.extend(extra);
            }
        }
        value
    }
}
