//! Setting value types that parse from what people write in TOML or environment variables, with
//! errors that say what is allowed.

use crate::domain::duration::{format_duration, parse_duration};
use crate::money::Yuan;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// A duration written like `250ms`, `30s`, `10m`, `24h`, `7d` (or a combination: `1h30m`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(pub Duration);

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text).map(Span).map_err(de::Error::custom)
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_duration(self.0))
    }
}

/// A Discord id (snowflake), written as a number or a string of digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Snowflake(pub u64);

impl<'de> Deserialize<'de> for Snowflake {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SnowflakeVisitor;
        impl Visitor<'_> for SnowflakeVisitor {
            type Value = Snowflake;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Discord id: digits, such as \"123456789012345678\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Snowflake, E> {
                Ok(Snowflake(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Snowflake, E> {
                u64::try_from(v)
                    .map(Snowflake)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Snowflake, E> {
                v.trim()
                    .parse()
                    .map(Snowflake)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_any(SnowflakeVisitor)
    }
}

/// An optional amount of CNY: `"1200"`, `"0.5"`; `""` or `"0"` mean none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
pub struct OptionalYuan(pub Option<Yuan>);

impl<'de> Deserialize<'de> for OptionalYuan {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let amount = Amount::deserialize(deserializer)?.0;
        Ok(OptionalYuan((amount != Yuan::ZERO).then_some(amount)))
    }
}

/// An amount of CNY written as a string (`"2000"`) or a number; never negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
pub struct Amount(pub Yuan);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AmountVisitor;
        impl Visitor<'_> for AmountVisitor {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount of CNY as a string, such as \"2000\" or \"0.5\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount(Yuan::new(v.into())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                if v < 0 {
                    return Err(E::invalid_value(de::Unexpected::Signed(v), &self));
                }
                Ok(Amount(Yuan::new(v.into())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                if v.trim().is_empty() {
                    return Ok(Amount(Yuan::ZERO));
                }
                match v.parse::<Yuan>() {
                    Ok(amount) if !amount.is_negative() => Ok(Amount(amount)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(AmountVisitor)
    }
}

/// Text, also when written as a bare number: an environment variable's `9464` reads as TOML's
/// integer, and the setting's own check then says what it wants instead of "expected a string".
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}
