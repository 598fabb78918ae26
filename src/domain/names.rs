//! Identifiers of Tencent Cloud things as users type them: zones, instance types, image ids and the
//! rest. Each parses from a string and names what it expects when it can't.

use serde::{Deserialize, Serialize};
use std::fmt;

fn is_lower_alnum(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// An availability zone such as `ap-guangzhou-3`; its region is the name without the number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Zone(String);

impl Zone {
    /// Parses `<area>-<city>[-<qualifier>]-<n>`, e.g. `ap-guangzhou-3`, `na-siliconvalley-1`.
    pub fn parse(text: &str) -> Result<Zone, String> {
        let zone = text.trim().to_ascii_lowercase();
        let parts: Vec<&str> = zone.split('-').collect();
        let valid = (3..=4).contains(&parts.len())
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
            && !parts[parts.len() - 1].is_empty();
        if valid {
            Ok(Zone(zone))
        } else {
            Err(format!("`{text}` is not a zone; zones look like ap-guangzhou-3"))
        }
    }

    /// The region: `ap-guangzhou` for `ap-guangzhou-3`.
    pub fn region(&self) -> &str {
        self.0.rsplit_once('-').map_or(&self.0, |(region, _)| region)
    }

    /// The zone name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An instance type such as `S5.MEDIUM4`: a family, a dot, a size.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InstanceType(String);

impl InstanceType {
    /// Parses `FAMILY.SIZE` (case-insensitive), e.g. `S5.MEDIUM4`, `SA2.2XLARGE16`.
    pub fn parse(text: &str) -> Result<InstanceType, String> {
        let upper = text.trim().to_ascii_uppercase();
        let valid = upper.split_once('.').is_some_and(|(family, size)| {
            family.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
                && family.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                && !size.is_empty()
                && size.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        });
        if valid {
            Ok(InstanceType(upper))
        } else {
            Err(format!(
                "`{text}` is not an instance type; types look like S5.MEDIUM4 (family.size)"
            ))
        }
    }

    /// The family: `S5` for `S5.MEDIUM4`.
    pub fn family(&self) -> &str {
        self.0.split_once('.').map_or(&self.0, |(family, _)| family)
    }

    /// The type name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A resource id of the form `<prefix>-<8 lowercase letters or digits>` (`img-`, `vpc-`, `sg-`, …).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResourceId(String);

impl ResourceId {
    /// Parses `<prefix>-xxxxxxxx`; `what` names the thing in the error (`an image id`).
    pub fn parse(text: &str, prefix: &str, what: &str) -> Result<ResourceId, String> {
        let id = text.trim().to_ascii_lowercase();
        match id.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('-')) {
            Some(rest) if rest.len() == 8 && is_lower_alnum(rest) => Ok(ResourceId(id)),
            _ => Err(format!("`{text}` is not {what}; it looks like {prefix}-1a2b3c4d")),
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_know_their_region() {
        assert_eq!(Zone::parse("ap-guangzhou-3").expect("valid").region(), "ap-guangzhou");
        assert_eq!(Zone::parse("AP-Shanghai-2").expect("valid").as_str(), "ap-shanghai-2");
        assert_eq!(
            Zone::parse("ap-shanghai-fsi-1").expect("valid").region(),
            "ap-shanghai-fsi"
        );
        for bad in [
            "",
            "guangzhou",
            "ap-guangzhou",
            "ap-guangzhou-x",
            "ap--3",
            "ap-guang zhou-3",
        ] {
            assert!(Zone::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn instance_types_are_family_dot_size() {
        assert_eq!(InstanceType::parse("s5.medium4").expect("valid").as_str(), "S5.MEDIUM4");
        assert_eq!(InstanceType::parse("SA2.2XLARGE16").expect("valid").family(), "SA2");
        for bad in ["", "S5", "S5.", ".MEDIUM4", "5S.MEDIUM4", "S5.MEDIUM-4"] {
            assert!(InstanceType::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn resource_ids_have_a_prefix_and_eight_characters() {
        assert!(ResourceId::parse("img-l8og963d", "img", "an image id").is_ok());
        let err = ResourceId::parse("img-123", "img", "an image id").expect_err("short");
        assert!(err.contains("img-1a2b3c4d"), "{err}");
        assert!(
            ResourceId::parse("sg-ABCDEFGH", "sg", "a security group").is_ok(),
            "case is folded"
        );
        assert!(ResourceId::parse("vpc-1234567!", "vpc", "a VPC id").is_err());
    }
}
