//! Where calls go: the services cvmbot speaks and the endpoint template that names their hosts.

/// A Tencent Cloud API product with its API version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// Cloud Virtual Machine, 2017-03-12.
    Cvm,
    /// Billing, 2018-07-09 (takes no region).
    Billing,
}

impl Service {
    /// The service name: first label of the host and the credential scope's service.
    pub fn name(self) -> &'static str {
        match self {
            Service::Cvm => "cvm",
            Service::Billing => "billing",
        }
    }

    /// The `X-TC-Version` this client speaks.
    pub fn version(self) -> &'static str {
        match self {
            Service::Cvm => "2017-03-12",
            Service::Billing => "2018-07-09",
        }
    }

    /// Whether calls carry `X-TC-Region`.
    pub fn is_regional(self) -> bool {
        self == Service::Cvm
    }
}

/// Where API calls go: a URL template with optional `{service}` and `{region}` placeholders.
/// `https://{service}.tencentcloudapi.com` (the default, nearest region),
/// `https://{service}.{region}.tencentcloudapi.com` (regional hosts),
/// `https://{service}.intl.tencentcloudapi.com` (international site),
/// `http://127.0.0.1:PORT` (the simulator: every service at one address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    template: String,
}

impl Endpoint {
    /// Checks a template: `http` or `https`, a host, no path, query or credentials.
    pub fn parse(template: &str) -> Result<Endpoint, String> {
        let template = template.trim().trim_end_matches('/');
        let probe = template.replace("{service}", "cvm").replace("{region}", "ap-guangzhou");
        let url = reqwest::Url::parse(&probe).map_err(|e| format!("`{template}` is not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "`{template}` must start with https:// (or http:// for a local simulator)"
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("`{template}` names no host"));
        }
        if url.path() != "/" || url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "`{template}` must be a scheme and host only, like https://{{service}}.tencentcloudapi.com"
            ));
        }
        Ok(Endpoint {
            template: template.to_owned(),
        })
    }

    /// The URL for `service` in `region`.
    pub fn url(&self, service: Service, region: &str) -> String {
        format!(
            "{}/",
            self.template
                .replace("{service}", service.name())
                .replace("{region}", region)
        )
    }

    /// The template as configured.
    pub fn template(&self) -> &str {
        &self.template
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_accept_templates_and_local_addresses_only_as_scheme_and_host() {
        let default = Endpoint::parse("https://{service}.tencentcloudapi.com").expect("valid");
        assert_eq!(
            default.url(Service::Billing, "ap-guangzhou"),
            "https://billing.tencentcloudapi.com/"
        );
        let regional = Endpoint::parse("https://{service}.{region}.tencentcloudapi.com/").expect("valid");
        assert_eq!(
            regional.url(Service::Cvm, "ap-shanghai"),
            "https://cvm.ap-shanghai.tencentcloudapi.com/"
        );
        let local = Endpoint::parse("http://127.0.0.1:8080").expect("valid");
        assert_eq!(local.url(Service::Cvm, "ap-guangzhou"), "http://127.0.0.1:8080/");
        assert_eq!(
            crate::client::host_header(&local.url(Service::Cvm, "x")).expect("host"),
            "127.0.0.1:8080"
        );
        for bad in [
            "ftp://x",
            "cvm.tencentcloudapi.com",
            "https://x/path",
            "https://user:pw@x",
            "http://",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad} must be refused");
        }
    }
}
