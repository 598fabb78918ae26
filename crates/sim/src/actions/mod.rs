//! The API actions. Each takes the parsed request, works on the [`World`] under its lock and
//! returns the action's output fields (the `Response` object without `RequestId`) or an error.

mod absent;
mod balance;
mod bills;
mod catalogue;
mod checks;
mod describe;
mod hostname;
mod order;
mod price;
mod renew;
mod run;
mod targets;
mod terminate;
mod unknown;

use super::world::World;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// An API error: `Code` and `Message` of the envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFailure {
    /// Tencent's error code.
    pub code: String,
    /// A message in plain English.
    pub message: String,
}

/// Shorthand for an [`ApiFailure`].
pub fn fail(code: &str, message: impl Into<String>) -> ApiFailure {
    ApiFailure {
        code: code.to_owned(),
        message: message.into(),
    }
}

/// Who is calling, where, and which request this is.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The caller's SecretId.
    pub secret_id: String,
    /// The account id behind it.
    pub uin: u64,
    /// `X-TC-Region` (cvm only).
    pub region: String,
    /// The RequestId this answer will carry.
    pub request_id: String,
    /// True when the parameters came form-urlencoded (every value a string on the wire).
    pub form: bool,
}

/// The services the simulator speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// CVM 2017-03-12.
    Cvm,
    /// Billing 2018-07-09.
    Billing,
}

impl Api {
    /// Which service an action belongs to.
    pub fn of_action(action: &str) -> Option<Api> {
        match action {
            "RunInstances"
            | "InquiryPriceRunInstances"
            | "DescribeInstances"
            | "DescribeInstancesStatus"
            | "TerminateInstances"
            | "InquiryPriceTerminateInstances"
            | "RenewInstances"
            | "InquiryPriceRenewInstances"
            | "ModifyInstancesRenewFlag"
            | "DescribeZones"
            | "DescribeZoneInstanceConfigInfos"
            | "DescribeImages" => Some(Api::Cvm),
            "DescribeAccountBalance"
            | "DescribeBillDetail"
            | "DescribeBillResourceSummary"
            | "DescribeCostSummaryByResource" => Some(Api::Billing),
            _ => None,
        }
    }

    /// The credential scope's service.
    pub fn service(self) -> &'static str {
        match self {
            Api::Cvm => "cvm",
            Api::Billing => "billing",
        }
    }

    /// The one `X-TC-Version` served.
    pub fn version(self) -> &'static str {
        match self {
            Api::Cvm => "2017-03-12",
            Api::Billing => "2018-07-09",
        }
    }
}

/// Runs `action` with the JSON `body`.
pub fn dispatch(world: &mut World, ctx: &Ctx, action: &str, body: &Value) -> Result<Value, ApiFailure> {
    unknown::check(action, body)?;
    match action {
        "RunInstances" => {
            let request = parse(body, ctx.form)?;
            absent::check(body)?;
            run::run_instances(world, ctx, request, body)
        }
        "InquiryPriceRunInstances" => {
            let request = parse(body, ctx.form)?;
            absent::check(body)?;
            price::inquiry_price(world, ctx, request)
        }
        "DescribeInstances" => describe::describe_instances(world, ctx, parse(body, ctx.form)?),
        "DescribeInstancesStatus" => describe::describe_instances_status(world, ctx, parse(body, ctx.form)?),
        "TerminateInstances" => terminate::terminate_instances(world, ctx, parse(body, ctx.form)?),
        "InquiryPriceTerminateInstances" => {
            terminate::inquiry_price_terminate_instances(world, ctx, parse(body, ctx.form)?)
        }
        "RenewInstances" => renew::renew_instances(world, ctx, parse(body, ctx.form)?),
        "InquiryPriceRenewInstances" => renew::inquiry_price_renew_instances(world, ctx, parse(body, ctx.form)?),
        "ModifyInstancesRenewFlag" => renew::modify_instances_renew_flag(world, ctx, parse(body, ctx.form)?),
        "DescribeZones" => catalogue::describe_zones(world, ctx),
        "DescribeZoneInstanceConfigInfos" => {
            catalogue::describe_zone_instance_config_infos(world, ctx, parse(body, ctx.form)?)
        }
        "DescribeImages" => catalogue::describe_images(world, parse(body, ctx.form)?),
        "DescribeAccountBalance" => balance::describe_account_balance(world, ctx),
        "DescribeBillDetail" => bills::describe_bill_detail(world, ctx, parse(body, ctx.form)?),
        "DescribeBillResourceSummary" => bills::describe_bill_resource_summary(world, ctx, parse(body, ctx.form)?),
        "DescribeCostSummaryByResource" => bills::describe_cost_summary_by_resource(world, ctx, parse(body, ctx.form)?),
        other => Err(fail("InvalidAction", format!("The action `{other}` does not exist."))),
    }
}

/// Reads a request body into its DTO; a value of the wrong type is `InvalidParameter`. A form's
/// values are all strings, so there a string is read as the number or boolean the DTO wants.
fn parse<T: DeserializeOwned>(body: &Value, form: bool) -> Result<T, ApiFailure> {
    let mut body = body.clone();
    loop {
        match serde_path_to_error::deserialize(body.clone()) {
            Ok(input) => return Ok(input),
            Err(e) => {
                let message = e.inner().to_string();
                if !(form && super::wire::coerce(&mut body, e.path(), &message)) {
                    if let Some(field) = message.strip_prefix("missing field ") {
                        let path = e.path().to_string();
                        let field = field.trim_matches('`');
                        let name = if path == "." {
                            field.to_owned()
                        } else {
                            format!("{path}.{field}")
                        };
                        return Err(fail(
                            "MissingParameter",
                            format!("The request is missing the required parameter `{name}`."),
                        ));
                    }
                    return Err(fail(
                        "InvalidParameter",
                        format!("The parameter `{}` is not valid: {message}", e.path()),
                    ));
                }
            }
        }
    }
}

/// Serializes an output DTO.
fn output<T: serde::Serialize>(value: &T) -> Result<Value, ApiFailure> {
    serde_json::to_value(value).map_err(|e| {
        tracing::error!(error = %e, "could not serialize an answer");
        fail("InternalError", "An internal error occurred.")
    })
}

/// Checks a Describe* filter list: at most `max_filters` filters of at most `max_values` values,
/// each named in `known` (a trailing `:` matches a prefix such as `tag:`).
fn check_filters(
    filters: &[cvmbot_tencent::cvm::Filter],
    max_filters: usize,
    max_values: usize,
    known: &[&str],
) -> Result<(), ApiFailure> {
    if filters.len() > max_filters {
        return Err(fail(
            "InvalidParameterValue.LimitExceeded",
            format!(
                "At most {max_filters} Filters are allowed, {} were given.",
                filters.len()
            ),
        ));
    }
    for filter in filters {
        let named = known.iter().any(|k| {
            filter.name == *k || (k.ends_with(':') && filter.name.starts_with(k) && filter.name.len() > k.len())
        });
        if !named {
            return Err(fail(
                "InvalidFilter",
                format!("The filter `{}` is not supported.", filter.name),
            ));
        }
        if filter.values.len() > max_values {
            return Err(fail(
                "InvalidFilterValue.LimitExceeded",
                format!("The filter `{}` takes at most {max_values} values.", filter.name),
            ));
        }
    }
    Ok(())
}

/// Offset and Limit with their defaults (0, 20) and the maximum Limit of 100.
fn paging(offset: Option<i64>, limit: Option<i64>) -> Result<(usize, usize), ApiFailure> {
    let offset = offset.unwrap_or(0);
    let limit = limit.unwrap_or(20);
    if offset < 0 {
        return Err(fail("InvalidParameterValue", "Offset must not be negative."));
    }
    if !(0..=100).contains(&limit) {
        return Err(fail(
            "InvalidParameterValue",
            format!("Limit must be between 0 and 100, not {limit}."),
        ));
    }
    Ok((offset as usize, limit as usize))
}

/// True for `prefix-` followed by 8 lowercase letters or digits.
fn well_formed_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|rest| rest.len() == 8 && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}
