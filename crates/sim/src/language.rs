//! The language of error messages (`X-TC-Language`, or the form's `Language`): `en-US`, the
//! default, or `zh-CN`, where a code's message is Tencent's Chinese description of it, followed by
//! the names the English message quotes. Any other value is refused.

use super::actions::{ApiFailure, fail};

/// A language Tencent answers in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Language {
    /// English (the default).
    #[default]
    EnUs,
    /// Simplified Chinese.
    ZhCn,
}

impl Language {
    /// The language asked for; none or an empty value is English.
    pub fn parse(value: Option<&str>) -> Result<Language, ApiFailure> {
        match value.map(str::trim).unwrap_or_default() {
            "" | "en-US" => Ok(Language::EnUs),
            "zh-CN" => Ok(Language::ZhCn),
            other => Err(fail(
                "InvalidParameterValue",
                format!("The value `{other}` of `X-TC-Language` is not supported; use zh-CN or en-US."),
            )),
        }
    }

    /// `failure` in this language.
    pub fn localize(self, failure: ApiFailure) -> ApiFailure {
        if self == Language::EnUs {
            return failure;
        }
        let Ok(found) = ZH_CN.binary_search_by(|(code, _)| code.cmp(&failure.code.as_str())) else {
            return failure;
        };
        let quoted: Vec<&str> = failure.message.split('`').skip(1).step_by(2).collect();
        let mut message = ZH_CN[found].1.to_owned();
        if !quoted.is_empty() {
            message.push_str(&format!("（`{}`）", quoted.join("`、`")));
        }
        ApiFailure {
            code: failure.code,
            message,
        }
    }
}

/// Chinese messages by code, sorted: the CVM and Billing codes the simulator answers, described as
/// tencentcloud-sdk-python-cvm 3.1.178 and -billing 3.1.177 `errorcodes.py` describe them, and the
/// common codes as the API 3.0 common error table does.
const ZH_CN: &[(&str, &str)] = &[
    (
        "AuthFailure.InvalidAuthorization",
        "请求头部的 Authorization 不符合腾讯云标准。",
    ),
    ("AuthFailure.InvalidSecretId", "密钥非法（不是云 API 密钥类型）。"),
    (
        "AuthFailure.SecretIdNotFound",
        "密钥不存在。请在控制台检查密钥是否已被删除或者禁用，如状态正常，请检查密钥是否填写正确，注意前后不得有空格。",
    ),
    (
        "AuthFailure.SignatureExpire",
        "签名过期。Timestamp 和服务器时间相差不得超过五分钟，请检查本地时间是否和标准时间同步。",
    ),
    (
        "AuthFailure.SignatureFailure",
        "签名错误。签名计算错误，请对照调用方式中的签名方法文档检查签名计算过程。",
    ),
    ("AuthFailure.TokenFailure", "token 错误。"),
    (
        "DryRunOperation",
        "DryRun 操作，代表请求将会是成功的，只是多传了 DryRun 参数。",
    ),
    ("InternalError", "内部错误。"),
    ("InternalError.TradeUnknownError", "内部错误"),
    ("InvalidAccount.InsufficientBalance", "账户余额不足。"),
    ("InvalidAction", "接口不存在。"),
    (
        "InvalidClientToken.TooLong",
        "指定的ClientToken字符串长度超出限制，必须小于等于64字节。",
    ),
    ("InvalidFilter", "无效的过滤器。"),
    (
        "InvalidFilterValue.LimitExceeded",
        "[`Filter`](/document/api/213/15753#Filter)传值超出限制。",
    ),
    ("InvalidImageId.Malformed", "错误的镜像Id格式。"),
    ("InvalidImageId.NotFound", "未找到该镜像。"),
    ("InvalidInstance.NotSupported", "不被支持的实例。"),
    (
        "InvalidInstanceId.Malformed",
        "无效实例`ID`。指定的实例`ID`格式错误。例如实例`ID`长度错误`ins-1122`。",
    ),
    ("InvalidInstanceId.NotFound", "没有找到相应实例。"),
    (
        "InvalidInstanceName.TooLong",
        "指定的InstanceName字符串长度超出限制，必须小于等于60字节。",
    ),
    ("InvalidInstanceType.Malformed", "指定InstanceType参数格式不合法。"),
    (
        "InvalidKeyPairId.Malformed",
        "无效密钥对ID。指定的密钥对ID格式错误，例如 `ID` 长度错误`skey-1122`。",
    ),
    ("InvalidParameter", "参数错误。"),
    (
        "InvalidParameter.InvalidParameterCoexistImageIdsFilters",
        "不能同时指定ImageIds和Filters。",
    ),
    (
        "InvalidParameter.ParameterConflict",
        "不支持同时指定密钥登录和保持镜像登录方式。",
    ),
    ("InvalidParameterCombination", "表示参数组合不正确。"),
    ("InvalidParameterValue", "参数取值错误。"),
    (
        "InvalidParameterValue.BandwidthPackageIdNotFound",
        "请确认指定的带宽包是否存在。",
    ),
    (
        "InvalidParameterValue.CloudSsdDataDiskSizeTooSmall",
        "SSD云硬盘为数据盘时，购买大小不得小于100GB",
    ),
    ("InvalidParameterValue.DuplicateTags", "重复标签。"),
    ("InvalidParameterValue.IllegalHostName", "HostName参数值不合法"),
    ("InvalidParameterValue.InstanceTypeNotFound", "指定机型不存在"),
    ("InvalidParameterValue.InsufficientOffering", "竞价数量不足。"),
    ("InvalidParameterValue.InsufficientPrice", "竞价失败。"),
    (
        "InvalidParameterValue.InvalidImageForGivenInstanceType",
        "镜像ID不支持指定的实例机型。",
    ),
    (
        "InvalidParameterValue.InvalidParameterMinCount",
        "参数MinCount的值必须小于InstanceCount",
    ),
    ("InvalidParameterValue.InvalidParameterValueLimit", "参数值错误。"),
    ("InvalidParameterValue.InvalidTimeFormat", "时间格式不合法。"),
    (
        "InvalidParameterValue.InvalidUserDataFormat",
        "UserData格式错误, 需要base64编码格式",
    ),
    ("InvalidParameterValue.LimitExceeded", "参数值数量超过限制。"),
    ("InvalidParameterValue.Range", "无效参数值。参数值取值范围不合法。"),
    (
        "InvalidParameterValue.SubnetIdMalformed",
        "子网ID不合要求，请提供规范的子网ID，类似subnet-xxxxxxxx，字母x代表小写字符或者数字",
    ),
    (
        "InvalidParameterValue.VpcIdMalformed",
        "VPC ID`xxx`不合要求，请提供规范的Vpc ID， 类似vpc-xxxxxxxx，字母x代表小写字符或者数字。",
    ),
    ("InvalidParameterValue.ZoneNotSupported", "请求不支持该可用区"),
    (
        "InvalidPassword",
        "无效密码。指定的密码不符合密码复杂度限制。例如密码长度不符合限制等。",
    ),
    (
        "InvalidPeriod",
        "无效时长。目前只支持时长：[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36]，单位：月。",
    ),
    ("InvalidRegion.NotFound", "未找到该区域。"),
    ("InvalidZone.MismatchRegion", "指定的`zone`不存在。"),
    ("LimitExceeded.InstanceQuota", "当前配额不足够生产指定数量的实例"),
    (
        "LimitExceeded.PrepayQuota",
        "预付费实例已购买数量已达到最大配额，请提升配额后重试。",
    ),
    ("LimitExceeded.SpotQuota", "竞价实例类型配额不足"),
    ("MissingParameter", "缺少参数错误。"),
    ("NoSuchVersion", "接口版本不存在。"),
    ("RequestLimitExceeded", "请求的次数超过了频率限制。"),
    ("ResourceInsufficient.AvailabilityZoneSoldOut", "该可用区已售罄"),
    (
        "ResourceInsufficient.InsufficientOfferingMinimum",
        "库存不满足最小数量。",
    ),
    ("ResourceInsufficient.SpecifiedInstanceType", "指定的实例类型库存不足。"),
    ("ResourceUnavailable.InstanceType", "该可用区不售卖此机型"),
    ("ResourcesSoldOut.SpecifiedInstanceType", "指定的实例类型已售罄。"),
    ("UnknownParameter", "未知参数错误，用户多传未定义的参数会导致错误。"),
    ("UnsupportedOperation.InstanceChargeType", "请求不支持该实例计费模式"),
    ("UnsupportedOperation.InstanceMixedPricingModel", "不支持混合付费模式。"),
    (
        "UnsupportedOperation.InstanceStateLaunchFailed",
        "不支持操作创建失败的实例。",
    ),
    (
        "UnsupportedOperation.InstanceStatePending",
        "请求不支持创建未完成的实例",
    ),
    ("UnsupportedOperation.InstanceStateShutdown", "请求不支持隔离状态的实例"),
    (
        "UnsupportedOperation.InstanceStateTerminating",
        "请求不支持正在销毁的实例",
    ),
    ("UnsupportedOperation.InvalidDisk", "不支持指定的磁盘"),
    (
        "UnsupportedOperation.NoInstanceTypeSupportSpot",
        "该实例类型不支持竞价计费",
    ),
    ("UnsupportedOperation.SpotUnsupportedRegion", "该地域不支持竞价实例。"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_messages_name_what_the_english_one_quotes() {
        let english = fail(
            "InvalidInstanceId.NotFound",
            "The instance `ins-zzzzzzzz` does not exist.",
        );
        let chinese = Language::ZhCn.localize(english.clone());
        assert_eq!(chinese.code, "InvalidInstanceId.NotFound");
        assert_eq!(chinese.message, "没有找到相应实例。（`ins-zzzzzzzz`）");
        assert_eq!(Language::EnUs.localize(english.clone()), english);
    }

    #[test]
    fn the_table_is_sorted_and_an_unknown_language_is_refused() {
        assert!(ZH_CN.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(Language::parse(None), Ok(Language::EnUs));
        assert_eq!(Language::parse(Some("zh-CN")), Ok(Language::ZhCn));
        assert_eq!(
            Language::parse(Some("fr-FR")).expect_err("refused").code,
            "InvalidParameterValue"
        );
    }
}
