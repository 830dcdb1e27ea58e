//! Allow-list entries: which scheme, host and port a connection may reach.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::error::PolicyError;

/// The schemes outbound requests may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP, default port 80.
    Http,
    /// HTTP over TLS, default port 443.
    Https,
}

impl Scheme {
    /// The scheme of a URL, if it is one we speak.
    pub fn of(url: &Url) -> Option<Scheme> {
        match url.scheme() {
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            _ => None,
        }
    }

    /// The port used when a URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Which ports an entry admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortPattern {
    /// No port written: the default port of the request's scheme (80 or 443).
    Default,
    /// Exactly this port.
    Exact(u16),
    /// `:*`: any port.
    Any,
}

/// One allow-list entry.
///
/// Accepted forms: `host`, `host:port`, `host:*`, `*.suffix` (any sub-domain, not the
/// suffix itself), `[::1]:8080`, and any of these prefixed by `http://` or `https://` to
/// restrict the scheme. Without a port only the scheme's default port (80/443) matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostPattern {
    /// Exactly one host name or IP address.
    Host {
        /// `None`: http and https.
        scheme: Option<Scheme>,
        /// Lower-case; IPv6 addresses in brackets, as `Url::host_str` writes them.
        host: String,
        /// Which ports.
        port: PortPattern,
    },
    /// Every sub-domain of `suffix` (written `*.suffix`).
    Subdomains {
        /// `None`: http and https.
        scheme: Option<Scheme>,
        /// Lower-case, without the leading `*.`.
        suffix: String,
        /// Which ports.
        port: PortPattern,
    },
}

impl HostPattern {
    /// Parses one allow-list entry.
    pub fn parse(pattern: &str) -> Result<HostPattern, PolicyError> {
        let invalid = |reason: &str| PolicyError::InvalidHostPattern {
            pattern: pattern.to_string(),
            reason: reason.to_string(),
        };
        let trimmed = pattern.trim();
        let (scheme, authority) = match trimmed.split_once("://") {
            Some(("http", rest)) => (Some(Scheme::Http), rest),
            Some(("https", rest)) => (Some(Scheme::Https), rest),
            Some(_) => return Err(invalid("only http and https schemes are allowed")),
            None => (None, trimmed),
        };
        // Tolerate a trailing slash ("https://api.example.com/"), refuse any real path.
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        if authority.contains(['/', '?', '#', '@']) || authority.is_empty() {
            return Err(invalid(
                "expected host, host:port or *.suffix without a path",
            ));
        }

        let (host, port_text) = if let Some(rest) = authority.strip_prefix('[') {
            let (ip, after) = rest
                .split_once(']')
                .ok_or_else(|| invalid("unclosed '[' in IPv6 address"))?;
            ip.parse::<std::net::Ipv6Addr>()
                .map_err(|_| invalid("not an IPv6 address"))?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| invalid("junk after ']'"))?,
                ),
            };
            (format!("[{}]", ip.to_ascii_lowercase()), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
                None => (authority.to_ascii_lowercase(), None),
            }
        };
        let port = match port_text {
            None => PortPattern::Default,
            Some("*") => PortPattern::Any,
            Some(p) => PortPattern::Exact(
                p.parse()
                    .map_err(|_| invalid("port is not a number 0-65535"))?,
            ),
        };

        let valid_label_chars = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        };
        if let Some(suffix) = host.strip_prefix("*.") {
            if !valid_label_chars(suffix) {
                return Err(invalid("bad domain after '*.'"));
            }
            return Ok(HostPattern::Subdomains {
                scheme,
                suffix: suffix.to_string(),
                port,
            });
        }
        if !host.starts_with('[') && !valid_label_chars(&host) {
            return Err(invalid("bad host name (wildcards only as a leading '*.')"));
        }
        Ok(HostPattern::Host { scheme, host, port })
    }

    /// Whether a request to `scheme://host:port` is admitted; `host` as `Url::host_str` gives it.
    pub fn matches(&self, scheme: Scheme, host: &str, port: u16) -> bool {
        let (want_scheme, want_port) = match self {
            HostPattern::Host { scheme, port, .. }
            | HostPattern::Subdomains { scheme, port, .. } => (scheme, port),
        };
        if want_scheme.is_some_and(|s| s != scheme) {
            return false;
        }
        let port_ok = match want_port {
            PortPattern::Default => port == scheme.default_port(),
            PortPattern::Exact(p) => port == *p,
            PortPattern::Any => true,
        };
        if !port_ok {
            return false;
        }
        let host = host.to_ascii_lowercase();
        let host = host.strip_suffix('.').unwrap_or(&host);
        match self {
            HostPattern::Host { host: want, .. } => host == want,
            HostPattern::Subdomains { suffix, .. } => host
                .strip_suffix(suffix.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
        }
    }

    /// Whether `url` is admitted (false for schemes other than http/https).
    pub fn matches_url(&self, url: &Url) -> bool {
        match (Scheme::of(url), url.host_str(), url.port_or_known_default()) {
            (Some(scheme), Some(host), Some(port)) => self.matches(scheme, host, port),
            _ => false,
        }
    }
}

impl FromStr for HostPattern {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HostPattern::parse(s)
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, port) = match self {
            HostPattern::Host { scheme, port, .. }
            | HostPattern::Subdomains { scheme, port, .. } => (scheme, port),
        };
        if let Some(s) = scheme {
            write!(f, "{}://", s.as_str())?;
        }
        match self {
            HostPattern::Host { host, .. } => f.write_str(host)?,
            HostPattern::Subdomains { suffix, .. } => write!(f, "*.{suffix}")?,
        }
        match port {
            PortPattern::Default => Ok(()),
            PortPattern::Exact(p) => write!(f, ":{p}"),
            PortPattern::Any => f.write_str(":*"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn plain_host_matches_default_ports_of_both_schemes() {
        let p = HostPattern::parse("API.example.com").unwrap();
        assert!(p.matches_url(&url("https://api.example.com/x")));
        assert!(p.matches_url(&url("http://api.example.com/x")));
        assert!(!p.matches_url(&url("https://api.example.com:8443/x")));
        assert!(!p.matches_url(&url("https://evil.api.example.com/")));
        assert!(!p.matches_url(&url("https://api.example.com.evil.net/")));
    }

    #[test]
    fn host_and_port() {
        let p = HostPattern::parse("127.0.0.1:8080").unwrap();
        assert!(p.matches_url(&url("http://127.0.0.1:8080/")));
        assert!(!p.matches_url(&url("http://127.0.0.1:8081/")));
        assert!(!p.matches_url(&url("http://127.0.0.1/")));
        let any = HostPattern::parse("localhost:*").unwrap();
        assert!(any.matches_url(&url("http://localhost:1234/")));
    }

    #[test]
    fn scheme_restriction() {
        let p = HostPattern::parse("https://api.example.com").unwrap();
        assert!(p.matches_url(&url("https://api.example.com/")));
        assert!(!p.matches_url(&url("http://api.example.com/")));
        assert!(!p.matches_url(&url("http://api.example.com:443/")));
        let h = HostPattern::parse("http://127.0.0.1:9000/").unwrap();
        assert!(h.matches_url(&url("http://127.0.0.1:9000/a")));
        assert!(!h.matches_url(&url("https://127.0.0.1:9000/a")));
    }

    #[test]
    fn subdomain_wildcard() {
        let p = HostPattern::parse("*.myshopify.com").unwrap();
        assert!(p.matches_url(&url("https://shop.myshopify.com/")));
        assert!(p.matches_url(&url("https://a.b.myshopify.com/")));
        assert!(!p.matches_url(&url("https://myshopify.com/")));
        assert!(!p.matches_url(&url("https://evilmyshopify.com/")));
    }

    #[test]
    fn ipv6() {
        let p = HostPattern::parse("[::1]:8080").unwrap();
        assert!(p.matches_url(&url("http://[::1]:8080/")));
        assert!(!p.matches_url(&url("http://[::2]:8080/")));
    }

    #[test]
    fn rejects_malformed_patterns() {
        for bad in [
            "",
            "ftp://x.com",
            "x.com/path",
            "a*.com",
            "x.com:99999",
            "user@x.com",
            "*.",
            "[::1",
        ] {
            assert!(
                HostPattern::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "https://api.example.com:8443",
            "*.example.com",
            "localhost:*",
            "[::1]:80",
        ] {
            assert_eq!(HostPattern::parse(s).unwrap().to_string(), s);
        }
    }
}
