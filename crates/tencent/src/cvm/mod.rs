//! CVM 2017-03-12 actions.

mod types;

pub use types::*;

use crate::client::{Answer, TencentClient};
use crate::endpoint::Service;
use crate::enums::RenewFlag;
use crate::error::{ApiError, ErrorKind};
use futures_util::stream::{self, StreamExt, TryStreamExt};

/// Most instance ids one DescribeInstances / DescribeInstancesStatus call takes.
pub const IDS_PER_CALL: usize = 100;

/// How many batches of a large DescribeInstances are in flight at once (the rate limiter still
/// paces them).
const BATCHES_IN_FLIGHT: usize = 8;

/// A dry run's verdict: it passed (either a plain answer or `DryRunOperation`), with a RequestId.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DryRunPassed {
    /// Tencent's RequestId.
    pub request_id: String,
}

impl TencentClient {
    /// RunInstances: buys instances. Returns the InstanceIdSet. The request should carry a
    /// ClientToken; retries send the same one, so Tencent creates the instances once.
    pub async fn run_instances(
        &self,
        region: &str,
        request: &RunInstancesRequest,
    ) -> Result<Answer<RunInstancesResponse>, ApiError> {
        self.call(Service::Cvm, "RunInstances", Some(region), request).await
    }

    /// RunInstances with `DryRun`: checks parameters, limits and stock, creates nothing. Both a
    /// normal answer and the `DryRunOperation` error mean the check passed.
    pub async fn dry_run_instances(
        &self,
        region: &str,
        request: &RunInstancesRequest,
    ) -> Result<DryRunPassed, ApiError> {
        let request = RunInstancesRequest {
            dry_run: Some(true),
            ..request.clone()
        };
        match self
            .call::<_, serde::de::IgnoredAny>(Service::Cvm, "RunInstances", Some(region), &request)
            .await
        {
            Ok(answer) => Ok(DryRunPassed {
                request_id: answer.request_id,
            }),
            Err(error) if error.kind == ErrorKind::DryRunPassed => Ok(DryRunPassed {
                request_id: error.request_id.unwrap_or_default(),
            }),
            Err(error) => Err(error),
        }
    }

    /// InquiryPriceRunInstances: the price of a RunInstances request (`DryRun`, `MinCount` and
    /// `ClientToken` are not sent).
    pub async fn inquiry_price_run_instances(
        &self,
        region: &str,
        request: &RunInstancesRequest,
    ) -> Result<Answer<Price>, ApiError> {
        let request = RunInstancesRequest {
            dry_run: None,
            min_count: None,
            client_token: None,
            ..request.clone()
        };
        let answer: Answer<InquiryPriceResponse> = self
            .call(Service::Cvm, "InquiryPriceRunInstances", Some(region), &request)
            .await?;
        Ok(Answer {
            data: answer.data.price,
            request_id: answer.request_id,
        })
    }

    /// DescribeInstances for any number of ids: ⌈n/100⌉ calls of up to 100 ids each, a few in
    /// flight at once. Instances Tencent no longer knows are simply absent from the result.
    pub async fn describe_instances(&self, region: &str, ids: &[String]) -> Result<Vec<Instance>, ApiError> {
        let chunks: Vec<Vec<String>> = ids.chunks(IDS_PER_CALL).map(<[String]>::to_vec).collect();
        let pages: Vec<Vec<Instance>> = stream::iter(chunks)
            .map(|chunk| async move {
                let request = DescribeInstancesRequest {
                    instance_ids: Some(chunk),
                    limit: Some(IDS_PER_CALL as i64),
                    ..Default::default()
                };
                self.describe_instances_page(region, &request)
                    .await
                    .map(|answer| answer.data.instance_set)
            })
            .buffer_unordered(BATCHES_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(pages.into_iter().flatten().collect())
    }

    /// One DescribeInstances call as given (ids or filters, offset, limit).
    pub async fn describe_instances_page(
        &self,
        region: &str,
        request: &DescribeInstancesRequest,
    ) -> Result<Answer<DescribeInstancesResponse>, ApiError> {
        self.call(Service::Cvm, "DescribeInstances", Some(region), request)
            .await
    }

    /// DescribeInstancesStatus for up to 100 ids.
    pub async fn describe_instances_status(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Answer<DescribeInstancesStatusResponse>, ApiError> {
        let request = DescribeInstancesStatusRequest {
            instance_ids: Some(ids.to_vec()),
            limit: Some(IDS_PER_CALL as i64),
            ..Default::default()
        };
        self.call(Service::Cvm, "DescribeInstancesStatus", Some(region), &request)
            .await
    }

    /// TerminateInstances for up to 100 ids of one charge type. Pay-as-you-go and spot
    /// instances are destroyed; a prepaid one goes to the recycle bin on the first call and is
    /// destroyed on a second. There is no ClientToken: look an instance up before sending again.
    pub async fn terminate_instances(&self, region: &str, ids: &[String]) -> Result<Answer<Empty>, ApiError> {
        let request = TerminateInstancesRequest {
            instance_ids: ids.to_vec(),
            ..Default::default()
        };
        self.terminate(region, &request).await
    }

    /// TerminateInstances as given (with `ReleasePrepaidDataDisks`, say).
    pub async fn terminate(
        &self,
        region: &str,
        request: &TerminateInstancesRequest,
    ) -> Result<Answer<Empty>, ApiError> {
        self.call(Service::Cvm, "TerminateInstances", Some(region), request)
            .await
    }

    /// InquiryPriceTerminateInstances: what terminating each of up to 100 instances gives back.
    pub async fn inquiry_price_terminate_instances(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Answer<Vec<InstanceRefund>>, ApiError> {
        let request = InquiryPriceTerminateInstancesRequest {
            instance_ids: ids.to_vec(),
        };
        let answer: Answer<InquiryPriceTerminateInstancesResponse> = self
            .call(Service::Cvm, "InquiryPriceTerminateInstances", Some(region), &request)
            .await?;
        Ok(Answer {
            data: answer.data.instance_refunds_set,
            request_id: answer.request_id,
        })
    }

    /// InquiryPriceRenewInstances: the price of renewing prepaid instances for `months`.
    pub async fn inquiry_price_renew_instances(
        &self,
        region: &str,
        ids: &[String],
        months: i64,
    ) -> Result<Answer<Price>, ApiError> {
        let request = InquiryPriceRenewInstancesRequest {
            instance_ids: ids.to_vec(),
            instance_charge_prepaid: InstanceChargePrepaid {
                period: months,
                renew_flag: None,
            },
            dry_run: None,
            renew_portable_data_disk: None,
        };
        let answer: Answer<InquiryPriceResponse> = self
            .call(Service::Cvm, "InquiryPriceRenewInstances", Some(region), &request)
            .await?;
        Ok(Answer {
            data: answer.data.price,
            request_id: answer.request_id,
        })
    }

    /// RenewInstances: renews prepaid instances for `months` (paid at once). There is no
    /// ClientToken: compare the instances' `ExpiredTime` before sending again.
    pub async fn renew_instances(&self, region: &str, ids: &[String], months: i64) -> Result<Answer<Empty>, ApiError> {
        let request = RenewInstancesRequest {
            instance_ids: ids.to_vec(),
            instance_charge_prepaid: Some(InstanceChargePrepaid {
                period: months,
                renew_flag: None,
            }),
            renew_portable_data_disk: None,
        };
        self.call(Service::Cvm, "RenewInstances", Some(region), &request).await
    }

    /// ModifyInstancesRenewFlag: whether prepaid instances renew themselves when they expire.
    pub async fn modify_instances_renew_flag(
        &self,
        region: &str,
        ids: &[String],
        flag: RenewFlag,
    ) -> Result<Answer<Empty>, ApiError> {
        let request = ModifyInstancesRenewFlagRequest {
            instance_ids: ids.to_vec(),
            renew_flag: flag,
        };
        self.call(Service::Cvm, "ModifyInstancesRenewFlag", Some(region), &request)
            .await
    }

    /// DescribeZones of `region`.
    pub async fn describe_zones(&self, region: &str) -> Result<Answer<DescribeZonesResponse>, ApiError> {
        self.call(Service::Cvm, "DescribeZones", Some(region), &Empty {}).await
    }

    /// DescribeZoneInstanceConfigInfos: instance types on sale, with stock and price, filtered by
    /// `zone`, `instance-family`, `instance-type`, `instance-charge-type`.
    pub async fn describe_zone_instance_config_infos(
        &self,
        region: &str,
        filters: Vec<Filter>,
    ) -> Result<Answer<DescribeZoneInstanceConfigInfosResponse>, ApiError> {
        let request = FiltersRequest {
            filters: (!filters.is_empty()).then_some(filters),
        };
        self.call(Service::Cvm, "DescribeZoneInstanceConfigInfos", Some(region), &request)
            .await
    }

    /// DescribeImages.
    pub async fn describe_images(
        &self,
        region: &str,
        request: &DescribeImagesRequest,
    ) -> Result<Answer<DescribeImagesResponse>, ApiError> {
        self.call(Service::Cvm, "DescribeImages", Some(region), request).await
    }
}
