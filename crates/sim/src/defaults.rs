//! The default catalogue and settings: four regions, a dozen zones, nine instance types, six
//! public images, one funded account. `config/sim.toml` prints the same values.

use super::config::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The default account's SecretId (documented in config/sim.toml).
pub const DEFAULT_SECRET_ID: &str = "AKIDSimulatorDefaultKey000000000000";
/// The default account's SecretKey.
pub const DEFAULT_SECRET_KEY: &str = "SimulatorSecretKey00000000000000";
/// The default account's Uin.
pub const DEFAULT_UIN: u64 = 100_000_000_001;

fn d(text: &str) -> Decimal {
    text.parse().unwrap_or_default()
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: None,
            speed: 1.0,
            start_time: None,
            dry_run_answer: DryRunAnswer::default(),
            lifecycle: LifecycleConfig::default(),
            billing: BillingConfig::default(),
            spot: SpotConfig::default(),
            faults: FaultConfig::default(),
            rate_limits: RateLimitConfig::default(),
            quota: QuotaConfig::default(),
            pricing: PricingConfig::default(),
            accounts: vec![AccountConfig {
                secret_id: DEFAULT_SECRET_ID.into(),
                secret_key: DEFAULT_SECRET_KEY.into(),
                token: None,
                uin: DEFAULT_UIN,
                cash_fen: 1_000_000,
                credit_amount_fen: 0,
                allow_arrears: false,
            }],
            regions: default_regions(),
            instance_types: default_types(),
            stock: vec![
                StockOverride {
                    zone: "ap-beijing-7".into(),
                    instance_type: "S5.2XLARGE16".into(),
                    stock: 3,
                    spot_stock: 0,
                },
                StockOverride {
                    zone: "ap-shanghai-5".into(),
                    instance_type: "M5.LARGE32".into(),
                    stock: 0,
                    spot_stock: 0,
                },
            ],
            images: default_images(),
        }
    }
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            launch_secs: 30,
            launch_failure_per_million: 0,
            launch_failure_message: "The instance failed to launch because the host ran out of resources; \
                                     the charge was refunded. Try again or choose another zone."
                .into(),
            public_ip_min_secs: 60,
            public_ip_max_secs: 300,
            terminating_secs: 30,
            launch_failed_retention_secs: 3600,
            expired_retention_secs: 7 * 24 * 3600,
        }
    }
}

impl Default for BillingConfig {
    fn default() -> Self {
        BillingConfig {
            arrears_grace_secs: 7200,
        }
    }
}

impl Default for SpotConfig {
    fn default() -> Self {
        SpotConfig {
            step_secs: 300,
            volatility: d("0.05"),
            start_ratio: d("0.2"),
            min_ratio: d("0.1"),
            max_ratio: d("1"),
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let actions = [
            ("RunInstances", 10),
            ("InquiryPriceRunInstances", 10),
            ("DescribeInstances", 40),
            ("DescribeAccountBalance", 20),
        ];
        RateLimitConfig {
            enabled: true,
            default: 10,
            actions: actions
                .iter()
                .map(|(a, n)| ((*a).to_owned(), *n))
                .collect::<BTreeMap<_, _>>(),
        }
    }
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig {
            postpaid_per_zone: 10_000,
            spot_per_zone: 10_000,
            prepaid_per_zone: 10_000,
        }
    }
}

impl Default for PricingConfig {
    fn default() -> Self {
        let disk = |disk_type: &str, monthly: &str, hourly: &str| DiskPrice {
            disk_type: disk_type.into(),
            monthly_per_gb: d(monthly),
            hourly_per_gb: d(hourly),
            min_data_gb: 10,
            max_data_gb: 32_000,
        };
        let discount = |months: i64, ratio: &str| PeriodDiscount {
            months,
            ratio: d(ratio),
        };
        PricingConfig {
            disks: vec![
                disk("CLOUD_BASIC", "0.3", "0.0004"),
                disk("CLOUD_PREMIUM", "0.35", "0.0005"),
                disk("CLOUD_SSD", "1", "0.0014"),
                disk("CLOUD_BSSD", "0.5", "0.0007"),
                disk("CLOUD_HSSD", "0.6", "0.0008"),
            ],
            bandwidth: BandwidthPrice::default(),
            prepaid_discounts: vec![
                discount(12, "0.83"),
                discount(24, "0.7"),
                discount(36, "0.5"),
                discount(48, "0.4"),
                discount(60, "0.35"),
            ],
        }
    }
}

impl Default for BandwidthPrice {
    fn default() -> Self {
        BandwidthPrice {
            tier_mbps: 5,
            hourly_per_mbps: d("0.063"),
            hourly_per_mbps_above: d("0.25"),
            monthly_per_mbps: d("23"),
            monthly_per_mbps_above: d("80"),
            traffic_per_gb: d("0.8"),
            max_mbps: 200,
        }
    }
}

fn default_regions() -> Vec<RegionConfig> {
    let region = |region: &str, city: &str, first_id: u32, numbers: &[u32]| RegionConfig {
        region: region.into(),
        spot: true,
        zones: numbers
            .iter()
            .map(|n| ZoneConfig {
                zone: format!("{region}-{n}"),
                name: format!("{city} Zone {n}"),
                zone_id: format!("{}", first_id + n),
                state: "AVAILABLE".into(),
            })
            .collect(),
    };
    vec![
        region("ap-guangzhou", "Guangzhou", 100_000, &[3, 4, 6, 7]),
        region("ap-shanghai", "Shanghai", 200_000, &[2, 4, 5]),
        region("ap-beijing", "Beijing", 800_000, &[5, 6, 7]),
        region("ap-singapore", "Singapore", 900_000, &[1, 2, 3]),
    ]
}

fn default_types() -> Vec<InstanceTypeConfig> {
    #[allow(clippy::too_many_arguments)]
    fn kind(
        name: &str,
        family: &str,
        type_name: &str,
        cpu: i64,
        memory: i64,
        hourly: &str,
        monthly: &str,
    ) -> InstanceTypeConfig {
        InstanceTypeConfig {
            instance_type: name.into(),
            family: family.into(),
            type_name: type_name.into(),
            cpu,
            memory,
            hourly: d(hourly),
            monthly: d(monthly),
            spot: true,
            zones: Vec::new(),
            stock: 2_000,
            spot_stock: 500,
        }
    }
    let mut compute = kind("C5.2XLARGE16", "C5", "Compute C5", 8, 16, "1.85", "710");
    compute.zones = ["ap-guangzhou-3", "ap-guangzhou-6", "ap-shanghai-4"]
        .map(String::from)
        .to_vec();
    let mut gpu = kind("GN7.2XLARGE32", "GN7", "GPU Compute GN7", 8, 32, "8.68", "3340");
    gpu.zones = ["ap-guangzhou-6", "ap-shanghai-4"].map(String::from).to_vec();
    gpu.spot = false;
    gpu.stock = 5;
    gpu.spot_stock = 0;
    vec![
        kind("S5.SMALL2", "S5", "Standard S5", 1, 2, "0.12", "45"),
        kind("S5.MEDIUM4", "S5", "Standard S5", 2, 4, "0.41", "157"),
        kind("S5.LARGE8", "S5", "Standard S5", 4, 8, "0.82", "314"),
        kind("S5.2XLARGE16", "S5", "Standard S5", 8, 16, "1.64", "628"),
        kind("SA2.MEDIUM4", "SA2", "Standard AMD SA2", 2, 4, "0.32", "126"),
        kind("SA2.LARGE8", "SA2", "Standard AMD SA2", 4, 8, "0.64", "252"),
        kind("M5.LARGE32", "M5", "Memory Optimized M5", 4, 32, "1.46", "560"),
        compute,
        gpu,
    ]
}

fn default_images() -> Vec<ImageConfig> {
    let image = |id: &str, name: &str, platform: &str, user: &str, size: i64| ImageConfig {
        image_id: id.into(),
        image_name: name.into(),
        os_name: name.into(),
        platform: platform.into(),
        architecture: "x86_64".into(),
        image_size: size,
        default_login_user: user.into(),
        created_time: "2024-06-01T00:00:00Z".into(),
        families: Vec::new(),
    };
    let mut gpu = image(
        "img-k3v8r2qp",
        "Ubuntu Server 22.04 LTS 64bit GPU",
        "Ubuntu",
        "ubuntu",
        50,
    );
    gpu.families = vec!["GN7".into()];
    vec![
        image("img-eb30mz89", "TencentOS Server 3.1 (TK4)", "TencentOS", "root", 20),
        image("img-487zeit5", "Ubuntu Server 22.04 LTS 64bit", "Ubuntu", "ubuntu", 20),
        image("img-l8og963d", "CentOS 7.9 64bit", "CentOS", "root", 20),
        image("img-mmytdhbn", "Debian 12.0 64bit", "Debian", "root", 20),
        image(
            "img-9id7emv7",
            "Windows Server 2022 Datacenter 64bit",
            "Windows",
            "Administrator",
            50,
        ),
        gpu,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_sim_toml_documents_exactly_the_defaults() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/sim.toml");
        let documented = SimConfig::from_toml_file(&path).expect("config/sim.toml parses");
        let as_json = |c: &SimConfig| serde_json::to_value(c).expect("serializes");
        assert_eq!(as_json(&documented), as_json(&SimConfig::default()));
    }

    #[test]
    fn settings_with_dangling_references_are_refused_with_the_key() {
        let error = SimConfig::from_toml_str(
            "[[stock]]\nzone = \"mars-1\"\ninstance_type = \"S5.SMALL2\"\nstock = 1\nspot_stock = 0\n",
        )
        .expect_err("unknown zone");
        assert!(format!("{error:#}").contains("mars-1"), "{error:#}");
        assert!(
            SimConfig::from_toml_str("sped = 2.0").is_err(),
            "unknown keys are refused"
        );
    }
}
