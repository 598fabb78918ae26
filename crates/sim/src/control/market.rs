//! Stock and the spot market under control: remaining stock, spot capacity, spot prices and
//! reclaims, as [`Control`] methods and as `POST /_sim/stock`, `/_sim/spot-price` and
//! `/_sim/reclaim`.

use super::{Control, ControlError, Shared_, body, done};
use crate::Shared;
use crate::reclaim::Reclaim;
use crate::world::{Stock, World};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

impl Control {
    /// Sets the remaining stock of a zone × type.
    pub fn set_stock(&self, zone: &str, instance_type: &str, regular: u32, spot: u32) -> Result<(), ControlError> {
        self.check_sells(zone, instance_type)?;
        self.0.with_world(|w| {
            w.stock
                .insert(format!("{zone}/{instance_type}"), Stock { regular, spot });
        });
        Ok(())
    }

    /// The remaining stock of a zone × type.
    pub fn stock(&self, zone: &str, instance_type: &str) -> Option<Stock> {
        self.0
            .with_world(|w| w.stock.get(&format!("{zone}/{instance_type}")).copied())
    }

    /// Lets at most `capacity` spot instances run (PENDING or RUNNING) in a zone × type. The
    /// newest beyond it are reclaimed at once, as Tencent takes back the capacity it needs; the
    /// spot stock becomes what the capacity leaves free. Returns the reclaimed ids, oldest first.
    pub fn set_spot_capacity(
        &self,
        zone: &str,
        instance_type: &str,
        capacity: u32,
    ) -> Result<Vec<String>, ControlError> {
        self.check_sells(zone, instance_type)?;
        let key = format!("{zone}/{instance_type}");
        Ok(self.0.with_world(|w| {
            let now = w.now;
            w.set_spot_capacity(&key, capacity, now)
        }))
    }

    /// Reclaims running or pending spot instances of every account in the markets matching
    /// `zone` and `instance_type` (either left out: all), `how` many of them, picked by the
    /// seeded generator. Returns the reclaimed ids, oldest first.
    pub fn reclaim_spot(
        &self,
        zone: Option<&str>,
        instance_type: Option<&str>,
        how: Reclaim,
    ) -> Result<Vec<String>, ControlError> {
        if let Reclaim::Percent(percent) = how
            && percent > 100
        {
            return Err(ControlError(
                StatusCode::BAD_REQUEST,
                format!("percent must be between 0 and 100, not {percent}"),
            ));
        }
        self.0.with_world(|w| {
            check_markets(w, zone, instance_type)?;
            let matches = |key: &str| {
                key.split_once('/').is_some_and(|(z, t)| {
                    zone.is_none_or(|zone| zone == z) && instance_type.is_none_or(|kind| kind == t)
                })
            };
            let now = w.now;
            Ok(w.reclaim_spot(matches, how, now))
        })
    }

    /// Sets a spot market price (yuan per hour); instances bidding less are reclaimed at once.
    pub fn set_spot_price(&self, zone: &str, instance_type: &str, price: Decimal) -> Result<(), ControlError> {
        let key = format!("{zone}/{instance_type}");
        self.0.with_world(|w| {
            if !w.spot_prices.contains_key(&key) {
                return Err(ControlError(StatusCode::NOT_FOUND, format!("no spot market `{key}`")));
            }
            let now = w.now;
            // Spot usage so far at the old price.
            w.accrue_usage(now);
            w.spot_prices.insert(key, price);
            w.reclaim_outbid(now);
            Ok(())
        })
    }

    /// A spot market price, yuan per hour.
    pub fn spot_price(&self, zone: &str, instance_type: &str) -> Option<Decimal> {
        self.0
            .with_world(|w| w.spot_prices.get(&format!("{zone}/{instance_type}")).copied())
    }

    fn check_sells(&self, zone: &str, instance_type: &str) -> Result<(), ControlError> {
        if self.0.cat.sells(zone, instance_type) {
            Ok(())
        } else {
            Err(ControlError(
                StatusCode::NOT_FOUND,
                format!("`{zone}` does not sell `{instance_type}`"),
            ))
        }
    }
}

/// Refuses a zone, an instance type or a pair of them that names no spot market.
fn check_markets(world: &World, zone: Option<&str>, instance_type: Option<&str>) -> Result<(), ControlError> {
    let markets: Vec<(&str, &str)> = world.spot_prices.keys().filter_map(|key| key.split_once('/')).collect();
    let unknown = |what: String| Err(ControlError(StatusCode::NOT_FOUND, what));
    if let Some(zone) = zone
        && !markets.iter().any(|(z, _)| *z == zone)
    {
        return unknown(format!("zone `{zone}` has no spot market"));
    }
    if let Some(kind) = instance_type
        && !markets.iter().any(|(_, t)| *t == kind)
    {
        return unknown(format!("instance_type `{kind}` has no spot market"));
    }
    if let (Some(zone), Some(kind)) = (zone, instance_type)
        && !markets.contains(&(zone, kind))
    {
        return unknown(format!("instance_type `{kind}` has no spot market in zone `{zone}`"));
    }
    Ok(())
}

/// The stock and spot market routes.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/stock", post(post_stock))
        .route("/_sim/spot-price", post(post_spot_price))
        .route("/_sim/reclaim", post(post_reclaim))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StockBody {
    zone: String,
    instance_type: String,
    stock: Option<u32>,
    spot_stock: Option<u32>,
    /// At most this many spot instances may run; the excess is reclaimed.
    spot_capacity: Option<u32>,
}

async fn post_stock(State(s): Shared_, bytes: Bytes) -> Result<Response, ControlError> {
    let request: StockBody = body(&bytes)?;
    if request.spot_stock.is_some() && request.spot_capacity.is_some() {
        return Err(ControlError(
            StatusCode::BAD_REQUEST,
            "spot_stock and spot_capacity both set the spot stock: give one".into(),
        ));
    }
    let control = Control(s);
    let current = control
        .stock(&request.zone, &request.instance_type)
        .unwrap_or(Stock { regular: 0, spot: 0 });
    control.set_stock(
        &request.zone,
        &request.instance_type,
        request.stock.unwrap_or(current.regular),
        request.spot_stock.unwrap_or(current.spot),
    )?;
    let reclaimed = match request.spot_capacity {
        Some(capacity) => control.set_spot_capacity(&request.zone, &request.instance_type, capacity)?,
        None => Vec::new(),
    };
    Ok(axum::Json(json!({ "ok": true, "reclaimed": reclaimed })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpotBody {
    zone: String,
    instance_type: String,
    /// Yuan per hour, a decimal string or number.
    price: Decimal,
}

async fn post_spot_price(State(s): Shared_, bytes: Bytes) -> Result<Response, ControlError> {
    let request: SpotBody = body(&bytes)?;
    Control(s).set_spot_price(&request.zone, &request.instance_type, request.price)?;
    Ok(done())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReclaimBody {
    zone: Option<String>,
    instance_type: Option<String>,
    count: Option<u32>,
    percent: Option<u32>,
}

async fn post_reclaim(State(s): Shared_, bytes: Bytes) -> Result<Response, ControlError> {
    let request: ReclaimBody = body(&bytes)?;
    let how = match (request.count, request.percent) {
        (Some(count), None) => Reclaim::Count(count),
        (None, Some(percent)) => Reclaim::Percent(percent),
        (given, _) => {
            let what = if given.is_some() {
                "count and percent: give one, not both"
            } else {
                "count or percent is required"
            };
            return Err(ControlError(StatusCode::BAD_REQUEST, what.into()));
        }
    };
    let reclaimed = Control(s).reclaim_spot(request.zone.as_deref(), request.instance_type.as_deref(), how)?;
    Ok(axum::Json(json!({ "reclaimed": reclaimed })).into_response())
}
