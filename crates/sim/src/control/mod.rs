//! The control endpoint (`/_sim/…`, JSON, no signature) and the same operations as Rust methods
//! on [`Control`]. See the [crate] documentation for the routes and bodies.

mod market;

use super::Shared;
use super::cam::Denial;
use super::clock::iso;
use super::config::{FaultConfig, RateLimitConfig};
use super::faults::Failure;
use super::log::LoggedRequest;
use super::world::KeptDisk;
use super::world::instance::Visible;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cvmbot_tencent::billing::DescribeAccountBalanceResponse;
use cvmbot_tencent::money::Fen;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Direct control of a running simulator; cheap to clone.
#[derive(Clone)]
pub struct Control(pub(crate) Arc<Shared>);

/// Changes to an account's money (fen); fields left out stay as they are.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountPatch {
    /// CashAccountBalance.
    pub cash_fen: Option<i64>,
    /// OweAmount.
    pub owe_fen: Option<i64>,
    /// CreditAmount.
    pub credit_amount_fen: Option<i64>,
    /// IsAllowArrears.
    pub allow_arrears: Option<bool>,
}

/// An instance as the control endpoint lists it, with the times its state became visible.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstanceView {
    pub instance_id: String,
    pub uin: u64,
    pub region: String,
    pub zone: String,
    pub instance_type: String,
    pub charge_type: String,
    pub state: String,
    pub private_ip: String,
    pub public_ip: Option<String>,
    pub client_token: Option<String>,
    pub created: String,
    /// The spot bid, yuan per hour.
    pub spot_bid: Option<String>,
    /// When RUNNING became visible (simulated and wall time).
    pub running_visible: Option<Visible>,
    /// When the public IP became visible.
    pub public_ip_visible: Option<Visible>,
    /// When and why it ended (terminated, reclaimed, launch failed).
    pub ended: Option<Ended>,
}

/// The end of an instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ended {
    /// Simulated time, ISO 8601.
    pub at: String,
    /// Why.
    pub reason: String,
}

/// An error of the control endpoint.
#[derive(Debug)]
pub struct ControlError(pub StatusCode, pub String);

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.1, self.0)
    }
}

impl std::error::Error for ControlError {}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({ "error": self.1 }))).into_response()
    }
}

impl Control {
    /// Simulated time now, ISO 8601.
    pub fn now(&self) -> String {
        iso(self.0.clock.now())
    }

    /// Moves simulated time forward and processes everything due.
    pub fn advance(&self, by: Duration) {
        self.0.clock.advance(by);
        self.0.with_world(|_| ());
    }

    /// An account's balance, as DescribeAccountBalance answers it.
    pub fn account(&self, secret_id: &str) -> Option<DescribeAccountBalanceResponse> {
        self.0.with_world(|w| w.account_mut(secret_id).map(|a| a.to_response()))
    }

    /// Sets an account's cash balance.
    pub fn set_balance(&self, secret_id: &str, cash: Fen) -> Result<(), ControlError> {
        self.patch_account(
            secret_id,
            AccountPatch {
                cash_fen: Some(cash.get()),
                ..AccountPatch::default()
            },
        )
    }

    /// Changes an account's money.
    pub fn patch_account(&self, secret_id: &str, patch: AccountPatch) -> Result<(), ControlError> {
        self.0.with_world(|w| {
            let now = w.now;
            let account = w
                .account_mut(secret_id)
                .ok_or_else(|| ControlError(StatusCode::NOT_FOUND, format!("no account `{secret_id}`")))?;
            account.cash = patch.cash_fen.unwrap_or(account.cash);
            account.owe = patch.owe_fen.unwrap_or(account.owe);
            account.credit = patch.credit_amount_fen.unwrap_or(account.credit);
            account.allow_arrears = patch.allow_arrears.unwrap_or(account.allow_arrears);
            account.recheck_arrears(now);
            Ok(())
        })
    }

    /// Replaces the fault rates.
    pub fn set_faults(&self, faults: FaultConfig) {
        self.0.faults().set_config(faults);
    }

    /// Replaces the rate limits (`enabled: false` lifts them).
    pub fn set_rate_limits(&self, limits: RateLimitConfig) {
        self.0.faults().set_limits(limits);
    }

    /// Makes the next `times` calls of `action` fail with `failure`.
    pub fn fail_next(&self, action: &str, failure: Failure, times: u32) {
        self.0.faults().fail_next(action, failure, times);
    }

    /// Replaces the actions `secret_id`'s CAM policy does not grant: each is refused from now on
    /// with `denial.code`, after the signature is checked (an empty `deny` grants everything).
    pub fn set_cam(&self, secret_id: &str, denial: Denial) {
        self.0.cam().set(secret_id, denial);
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.0.log.all()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.0.log.clear();
    }

    /// Every instance that still exists, oldest first.
    pub fn instances(&self) -> Vec<InstanceView> {
        self.0.with_world(|w| {
            let mut all: Vec<_> = w.instances.values().collect();
            all.sort_by_key(|i| i.seq);
            all.into_iter()
                .map(|i| InstanceView {
                    instance_id: i.id.clone(),
                    uin: i.uin,
                    region: i.region.clone(),
                    zone: i.zone.clone(),
                    instance_type: i.instance_type.clone(),
                    charge_type: i.charge_type.to_string(),
                    state: i.phase.state().to_string(),
                    private_ip: i.private_ip.clone(),
                    public_ip: i.public_ip.clone(),
                    client_token: i.client_token.clone(),
                    created: iso(i.created),
                    spot_bid: i.spot_bid.map(|b| b.to_string()),
                    running_visible: i.running_visible,
                    public_ip_visible: i.public_ip_visible,
                    ended: i.ended.as_ref().map(|(at, reason)| Ended {
                        at: iso(*at),
                        reason: reason.clone(),
                    }),
                })
                .collect()
        })
    }

    /// The data disks destroyed instances left behind, oldest first.
    pub fn kept_disks(&self) -> Vec<KeptDisk> {
        self.0.with_world(|w| w.kept_disks.clone())
    }

    /// A summary of the state: time, accounts, stock, spot prices, faults, limits.
    pub fn state(&self) -> Value {
        let (faults, limits) = {
            let faults = self.0.faults();
            (faults.config().clone(), faults.limits().clone())
        };
        let cam = json!(self.0.cam().all());
        self.0.with_world(|w| {
            let accounts: Vec<Value> = w
                .accounts
                .iter()
                .map(|a| json!({ "secret_id": a.secret_id, "balance": a.to_response() }))
                .collect();
            let stock: serde_json::Map<String, Value> = w
                .stock
                .iter()
                .map(|(k, s)| (k.clone(), json!({ "stock": s.regular, "spot_stock": s.spot })))
                .collect();
            json!({
                "sim_time": iso(w.now),
                "speed": self.0.clock.speed(),
                "accounts": accounts,
                "instances": w.instances.len(),
                "kept_disks": w.kept_disks,
                "stock": stock,
                "spot_prices": w.spot_prices,
                "faults": faults,
                "rate_limits": limits,
                "cam": cam,
            })
        })
    }
}

type Shared_ = State<Arc<Shared>>;

/// The `/_sim/` routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/_sim/state",
            get(|State(s): Shared_| async move { axum::Json(Control(s).state()) }),
        )
        .route("/_sim/accounts/{secret_id}", get(get_account).post(post_account))
        .route("/_sim/faults", post(post_faults))
        .route("/_sim/rate-limits", post(post_rate_limits))
        .route("/_sim/fail-next", post(post_fail_next))
        .route("/_sim/cam/{secret_id}", post(post_cam))
        .route("/_sim/advance", post(post_advance))
        .route("/_sim/requests", get(get_requests).delete(delete_requests))
        .route(
            "/_sim/instances",
            get(|State(s): Shared_| async move { axum::Json(Control(s).instances()) }),
        )
        .merge(market::routes())
}

/// Reads a JSON body; an error names the member at fault (`percent: invalid type: …`).
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ControlError> {
    let bad = |e: &dyn std::fmt::Display| ControlError(StatusCode::BAD_REQUEST, format!("bad JSON body: {e}"));
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| bad(&e))?;
    json.end().map_err(|e| bad(&e))?;
    Ok(value)
}

fn done() -> Response {
    axum::Json(json!({ "ok": true })).into_response()
}

async fn get_account(State(s): Shared_, Path(id): Path<String>) -> Result<Response, ControlError> {
    Control(s)
        .account(&id)
        .map(|a| axum::Json(a).into_response())
        .ok_or_else(|| ControlError(StatusCode::NOT_FOUND, format!("no account `{id}`")))
}

async fn post_account(State(s): Shared_, Path(id): Path<String>, bytes: Bytes) -> Result<Response, ControlError> {
    let control = Control(s);
    control.patch_account(&id, body(&bytes)?)?;
    Ok(axum::Json(control.account(&id)).into_response())
}

async fn post_faults(State(s): Shared_, bytes: Bytes) -> Result<Response, ControlError> {
    Control(s).set_faults(body(&bytes)?);
    Ok(done())
}

async fn post_rate_limits(State(s): Shared_, bytes: Bytes) -> Result<Response, ControlError> {
    Control(s).set_rate_limits(body(&bytes)?);
    Ok(done())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailNextBody {
    action: String,
    failure: Failure,
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

async fn post_fail_next(State(s): Shared_, bytes: Bytes) -> Result<Response, ControlError> {
    let request: FailNextBody = body(&bytes)?;
    Control(s).fail_next(&request.action, request.failure, request.times);
    Ok(done())
}

async fn post_cam(State(s): Shared_, Path(id): Path<String>, bytes: Bytes) -> Result<Response, ControlError> {
    Control(s).set_cam(&id, body(&bytes)?);
    Ok(done())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    seconds: f64,
}

async fn post_advance(State(s): Shared_, bytes: Bytes) -> Result<Response, ControlError> {
    let request: AdvanceBody = body(&bytes)?;
    if !(request.seconds.is_finite() && request.seconds >= 0.0) {
        return Err(ControlError(StatusCode::BAD_REQUEST, "seconds must be ≥ 0".into()));
    }
    let control = Control(s);
    control.advance(Duration::from_secs_f64(request.seconds));
    Ok(axum::Json(json!({ "sim_time": control.now() })).into_response())
}

async fn get_requests(State(s): Shared_) -> Response {
    axum::Json(Control(s).requests()).into_response()
}

async fn delete_requests(State(s): Shared_) -> Response {
    Control(s).clear_requests();
    done()
}
