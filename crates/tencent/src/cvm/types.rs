//! CVM 2017-03-12 request and response shapes (field names as in the tccli spec). Requests leave
//! `None` out of the body; responses tolerate missing, `null` and unknown fields. The simulator
//! serves the same types, so both sides agree on the wire format by construction and the official
//! SDK checks that the format is Tencent's.
#![allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]

use crate::enums::{ChargeType, DiskType, InstanceState, InternetChargeType, OperationState, RenewFlag};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Where an instance is placed.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Placement {
    /// Availability zone, e.g. `ap-guangzhou-3`.
    pub zone: String,
    /// Project id; 0 is the default project.
    pub project_id: Option<i64>,
}

/// Prepaid purchase terms.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceChargePrepaid {
    /// Months: 1–12, 24, 36, 48, 60.
    pub period: i64,
    /// Renewal behaviour.
    #[serde(default)]
    pub renew_flag: Option<RenewFlag>,
}

/// The system disk.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SystemDisk {
    /// Disk type.
    pub disk_type: Option<DiskType>,
    /// Size in GiB (default 50).
    pub disk_size: Option<i64>,
}

/// A data disk.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DataDisk {
    /// Size in GiB.
    pub disk_size: i64,
    /// Disk type.
    pub disk_type: Option<DiskType>,
    /// Destroyed with the instance (default true).
    pub delete_with_instance: Option<bool>,
}

/// The VPC and subnet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VirtualPrivateCloud {
    /// `vpc-…`, or `DEFAULT`.
    pub vpc_id: String,
    /// `subnet-…`, or `DEFAULT`.
    pub subnet_id: String,
}

/// Public network access.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InternetAccessible {
    /// How bandwidth is paid for.
    pub internet_charge_type: Option<InternetChargeType>,
    /// Outbound bandwidth cap in Mbps (0: no public bandwidth).
    pub internet_max_bandwidth_out: Option<i64>,
    /// Whether to assign a public IP (needs bandwidth > 0).
    pub public_ip_assigned: Option<bool>,
}

/// How to log in: key pairs, or the image's own login. cvmbot never sends passwords.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoginSettings {
    /// Key pair ids, `skey-…`.
    pub key_ids: Option<Vec<String>>,
    /// `"TRUE"` to keep the image's login settings.
    pub keep_image_login: Option<String>,
    /// A password. Accepted so the simulator can read SDK requests; cvmbot itself never sets it.
    pub password: Option<String>,
}

/// A tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// Tags to put on created resources.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagSpecification {
    /// `instance`.
    pub resource_type: String,
    /// The tags.
    pub tags: Vec<Tag>,
}

/// Spot bid.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SpotMarketOptions {
    /// Highest price per hour, a decimal string in the account currency.
    pub max_price: String,
    /// `one-time`.
    pub spot_instance_type: Option<String>,
}

/// Market options for SPOTPAID.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceMarketOptions {
    /// `spot`.
    pub market_type: Option<String>,
    /// The bid.
    pub spot_options: SpotMarketOptions,
}

/// RunInstances and InquiryPriceRunInstances input (the latter ignores `DryRun`, `MinCount`).
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RunInstancesRequest {
    pub instance_charge_type: Option<ChargeType>,
    pub instance_charge_prepaid: Option<InstanceChargePrepaid>,
    pub placement: Option<Placement>,
    pub instance_type: Option<String>,
    pub image_id: Option<String>,
    pub system_disk: Option<SystemDisk>,
    pub data_disks: Option<Vec<DataDisk>>,
    pub virtual_private_cloud: Option<VirtualPrivateCloud>,
    pub internet_accessible: Option<InternetAccessible>,
    pub instance_count: Option<i64>,
    pub min_count: Option<i64>,
    pub instance_name: Option<String>,
    pub login_settings: Option<LoginSettings>,
    pub security_group_ids: Option<Vec<String>>,
    pub client_token: Option<String>,
    pub host_name: Option<String>,
    pub tag_specification: Option<Vec<TagSpecification>>,
    pub instance_market_options: Option<InstanceMarketOptions>,
    pub user_data: Option<String>,
    pub dry_run: Option<bool>,
}

/// RunInstances output. `InstanceIdSet` is required: an answer without it says nothing about
/// what was bought, so it is unreadable rather than "no instances".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunInstancesResponse {
    /// The created instance ids (`null` reads as none, and then as the wrong number of them).
    #[serde(deserialize_with = "null_as_default")]
    pub instance_id_set: Vec<String>,
}

/// One price item, in yuan. Which fields are set depends on the charge type: prepaid quotes
/// `OriginalPrice`/`DiscountPrice` for the whole period, hourly ones `UnitPrice`/`UnitPriceDiscount`
/// per `ChargeUnit`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ItemPrice {
    #[serde(with = "rust_decimal::serde::float_option")]
    pub unit_price: Option<Decimal>,
    pub charge_unit: Option<String>,
    #[serde(with = "rust_decimal::serde::float_option")]
    pub original_price: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float_option")]
    pub discount_price: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float_option")]
    pub discount: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float_option")]
    pub unit_price_discount: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float_option")]
    pub unit_price_second_step: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float_option")]
    pub unit_price_discount_second_step: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float_option")]
    pub unit_price_third_step: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float_option")]
    pub unit_price_discount_third_step: Option<Decimal>,
}

/// A quote: instance and bandwidth.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Price {
    /// The instance (with its disks).
    pub instance_price: Option<ItemPrice>,
    /// The public bandwidth.
    pub bandwidth_price: Option<ItemPrice>,
}

/// InquiryPriceRunInstances output (`Price` required).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InquiryPriceResponse {
    /// The quote.
    pub price: Price,
}

/// A Describe* filter: AND between filters, OR between the values of one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Filter {
    /// Filter name, e.g. `zone`.
    pub name: String,
    /// Accepted values.
    pub values: Vec<String>,
}

impl Filter {
    /// A filter on `name` matching any of `values`.
    pub fn new(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Filter {
            name: name.to_owned(),
            values: values.into_iter().map(Into::into).collect(),
        }
    }
}

/// DescribeInstances input: ids (≤100) or filters, never both.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInstancesRequest {
    pub instance_ids: Option<Vec<String>>,
    pub filters: Option<Vec<Filter>>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

/// An instance as DescribeInstances shows it (the fields cvmbot reads, plus a few the simulator
/// serves for SDK users).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Instance {
    pub instance_id: String,
    pub instance_state: Option<InstanceState>,
    pub instance_type: Option<String>,
    #[serde(rename = "CPU")]
    pub cpu: Option<i64>,
    pub memory: Option<i64>,
    pub placement: Option<Placement>,
    pub instance_name: Option<String>,
    pub instance_charge_type: Option<ChargeType>,
    #[serde(deserialize_with = "null_as_default")]
    pub private_ip_addresses: Vec<String>,
    /// `null` until a public IP is assigned.
    pub public_ip_addresses: Option<Vec<String>>,
    pub image_id: Option<String>,
    pub created_time: Option<String>,
    pub expired_time: Option<String>,
    pub renew_flag: Option<RenewFlag>,
    pub restrict_state: Option<String>,
    /// Why an instance is isolated (`ARREAR`, `EXPIRE`, `MANMADE`, `NOTISOLATED`).
    pub isolated_source: Option<String>,
    pub latest_operation: Option<String>,
    pub latest_operation_state: Option<OperationState>,
    pub latest_operation_request_id: Option<String>,
    pub latest_operation_error_msg: Option<String>,
    pub default_login_user: Option<String>,
    pub os_name: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub tags: Vec<Tag>,
}

/// DescribeInstances output. Both members are required: an answer without `InstanceSet` is
/// unreadable, never "none of those instances exist" (which would report them all gone).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInstancesResponse {
    /// Matching instances in all pages.
    pub total_count: i64,
    /// This page (present, though `null` is read as empty).
    #[serde(deserialize_with = "null_as_default")]
    pub instance_set: Vec<Instance>,
}

/// DescribeInstancesStatus input.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInstancesStatusRequest {
    pub instance_ids: Option<Vec<String>>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

/// An instance's state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceStatus {
    pub instance_id: String,
    pub instance_state: Option<InstanceState>,
}

/// DescribeInstancesStatus output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInstancesStatusResponse {
    pub total_count: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub instance_status_set: Vec<InstanceStatus>,
}

/// TerminateInstances input.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TerminateInstancesRequest {
    pub instance_ids: Vec<String>,
    pub release_address: Option<bool>,
    /// On a prepaid instance's first call, its prepaid data disks go to the recycle bin with it.
    pub release_prepaid_data_disks: Option<bool>,
}

/// InquiryPriceTerminateInstances input.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InquiryPriceTerminateInstancesRequest {
    pub instance_ids: Vec<String>,
}

/// What terminating one instance gives back.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceRefund {
    pub instance_id: String,
    /// Yuan returned to the account.
    #[serde(with = "rust_decimal::serde::float")]
    pub refunds: Decimal,
    /// How the refund was reckoned, in Tencent's words.
    #[serde(default)]
    pub price_detail: Option<String>,
}

/// InquiryPriceTerminateInstances output (`InstanceRefundsSet` required).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InquiryPriceTerminateInstancesResponse {
    pub instance_refunds_set: Vec<InstanceRefund>,
}

/// RenewInstances input.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RenewInstancesRequest {
    pub instance_ids: Vec<String>,
    pub instance_charge_prepaid: Option<InstanceChargePrepaid>,
    pub renew_portable_data_disk: Option<bool>,
}

/// InquiryPriceRenewInstances input.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InquiryPriceRenewInstancesRequest {
    pub instance_ids: Vec<String>,
    pub instance_charge_prepaid: InstanceChargePrepaid,
    #[serde(default)]
    pub dry_run: Option<bool>,
    #[serde(default)]
    pub renew_portable_data_disk: Option<bool>,
}

/// ModifyInstancesRenewFlag input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyInstancesRenewFlagRequest {
    pub instance_ids: Vec<String>,
    pub renew_flag: RenewFlag,
}

/// An availability zone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ZoneInfo {
    pub zone: String,
    pub zone_name: String,
    pub zone_id: String,
    /// `AVAILABLE` or `UNAVAILABLE`.
    pub zone_state: String,
}

/// DescribeZones output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeZonesResponse {
    pub total_count: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub zone_set: Vec<ZoneInfo>,
}

/// Filters for DescribeZoneInstanceConfigInfos and DescribeImages.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FiltersRequest {
    /// The filters.
    pub filters: Option<Vec<Filter>>,
}

/// An instance type on sale in a zone under one charge type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceTypeQuotaItem {
    pub zone: String,
    pub instance_type: String,
    pub instance_charge_type: Option<ChargeType>,
    pub instance_family: Option<String>,
    pub type_name: Option<String>,
    pub cpu: i64,
    /// GiB.
    pub memory: i64,
    /// `SELL` or `SOLD_OUT`.
    pub status: String,
    pub sold_out_reason: Option<String>,
    /// `EnoughStock`, `NormalStock`, `UnderStock`, `WithoutStock`.
    pub status_category: Option<String>,
    pub price: ItemPrice,
}

/// DescribeZoneInstanceConfigInfos output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeZoneInstanceConfigInfosResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub instance_type_quota_set: Vec<InstanceTypeQuotaItem>,
}

/// DescribeImages input.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeImagesRequest {
    pub image_ids: Option<Vec<String>>,
    pub filters: Option<Vec<Filter>>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    pub instance_type: Option<String>,
}

/// An image.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Image {
    pub image_id: String,
    pub os_name: Option<String>,
    pub image_name: Option<String>,
    /// `PUBLIC_IMAGE`, `PRIVATE_IMAGE`, `SHARED_IMAGE`.
    pub image_type: Option<String>,
    /// `NORMAL`, …
    pub image_state: Option<String>,
    pub architecture: Option<String>,
    pub platform: Option<String>,
    pub image_size: Option<i64>,
    pub created_time: Option<String>,
}

/// DescribeImages output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeImagesResponse {
    pub total_count: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub image_set: Vec<Image>,
}

/// An empty answer (only a RequestId).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Empty {}

/// Reads `null` as the type's default ("may return null" lists arrive as `null`).
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_leaves_unset_fields_out_of_the_body() {
        let request = RunInstancesRequest {
            instance_charge_type: Some(ChargeType::SpotPaid),
            placement: Some(Placement {
                zone: "ap-guangzhou-3".into(),
                project_id: None,
            }),
            instance_market_options: Some(InstanceMarketOptions {
                market_type: Some("spot".into()),
                spot_options: SpotMarketOptions {
                    max_price: "0.6".into(),
                    spot_instance_type: Some("one-time".into()),
                },
            }),
            dry_run: Some(true),
            ..RunInstancesRequest::default()
        };
        let body = serde_json::to_string(&request).expect("serializes");
        assert_eq!(
            body,
            r#"{"InstanceChargeType":"SPOTPAID","Placement":{"Zone":"ap-guangzhou-3"},"InstanceMarketOptions":{"MarketType":"spot","SpotOptions":{"MaxPrice":"0.6","SpotInstanceType":"one-time"}},"DryRun":true}"#
        );
    }

    #[test]
    fn an_instance_reads_with_null_ips_unknown_fields_and_unknown_states() {
        let json = r#"{"InstanceId":"ins-1","InstanceState":"ENTER_SERVICE_LIVE_MIGRATE","CPU":2,"Memory":4,
            "PrivateIpAddresses":["10.0.0.2"],"PublicIpAddresses":null,"SomethingNew":{"a":1},"Tags":null}"#;
        let instance: Instance = serde_json::from_str(json).expect("tolerant");
        assert_eq!(instance.cpu, Some(2));
        assert_eq!(instance.public_ip_addresses, None);
        assert_eq!(
            instance.instance_state,
            Some(InstanceState::Unknown("ENTER_SERVICE_LIVE_MIGRATE".into()))
        );
    }

    #[test]
    fn prices_read_as_exact_decimals_and_serve_as_json_numbers() {
        let json = r#"{"UnitPrice":16.09,"UnitPriceDiscount":3.33,"ChargeUnit":"HOUR","DiscountPrice":0}"#;
        let price: ItemPrice = serde_json::from_str(json).expect("reads");
        assert_eq!(price.unit_price_discount, Some(Decimal::new(333, 2)));
        assert_eq!(price.unit_price, Some(Decimal::new(1609, 2)));
        let served = serde_json::to_string(&price).expect("serializes");
        assert!(served.contains(r#""UnitPrice":16.09"#), "{served}");
    }
}
