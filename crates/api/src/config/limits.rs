//! The request limits (`LIMIT_*`): what every GraphQL request is held to before any database
//! work, and how much runs at once. A flag or variable that is set but unparsable stops
//! start-up rather than silently using a default; a variable set to nothing is the default.

use std::time::Duration;

/// The defaults, also what `Limits::default()` gives (tests start from it).
const DEFAULT: Limits = Limits {
    max_depth: 12,
    max_complexity: 20_000,
    max_body_bytes: 256 * 1024,
    max_aliases: 15,
    max_directives: 50,
    max_tokens: 2_000,
    max_document_chars: 20_000,
    request_timeout: Duration::from_secs(15),
    rate_per_second: 100.0,
    rate_burst: 400.0,
    max_concurrent_requests: 16,
    max_concurrent_cost: 20_000,
    max_waiting_requests: 32,
    max_line_chars: 1_000,
    max_text_chars: 20_000,
    max_upload_bytes: 20 * 1024 * 1024,
};

/// Limits applied to every GraphQL request before any database work.
#[derive(Debug, Clone, PartialEq, clap::Args)]
#[command(next_help_heading = "Request limits")]
pub struct Limits {
    /// Deepest allowed selection nesting.
    #[arg(long = "limit-max-depth", value_name = "N", env = "LIMIT_MAX_DEPTH",
        default_value_t = DEFAULT.max_depth, value_parser = number_or(DEFAULT.max_depth))]
    pub max_depth: usize,
    /// Largest allowed static cost; list fields cost their page size.
    #[arg(long = "limit-max-cost", value_name = "N", env = "LIMIT_MAX_COST",
        default_value_t = DEFAULT.max_complexity, value_parser = number_or(DEFAULT.max_complexity))]
    pub max_complexity: usize,
    /// Largest accepted request body in bytes.
    #[arg(long = "limit-max-body-bytes", value_name = "BYTES", env = "LIMIT_MAX_BODY_BYTES",
        default_value_t = DEFAULT.max_body_bytes,
        value_parser = number_or(DEFAULT.max_body_bytes))]
    pub max_body_bytes: usize,
    /// Aliases per document (graphql-armor's default: 15).
    #[arg(long = "limit-max-aliases", value_name = "N", env = "LIMIT_MAX_ALIASES",
        default_value_t = DEFAULT.max_aliases, value_parser = number_or(DEFAULT.max_aliases))]
    pub max_aliases: usize,
    /// Directives per document.
    #[arg(long = "limit-max-directives", value_name = "N", env = "LIMIT_MAX_DIRECTIVES",
        default_value_t = DEFAULT.max_directives,
        value_parser = number_or(DEFAULT.max_directives))]
    pub max_directives: usize,
    /// Lexical tokens per document.
    #[arg(long = "limit-max-tokens", value_name = "N", env = "LIMIT_MAX_TOKENS",
        default_value_t = DEFAULT.max_tokens, value_parser = number_or(DEFAULT.max_tokens))]
    pub max_tokens: usize,
    /// Characters per document.
    #[arg(long = "limit-max-document-chars", value_name = "N", env = "LIMIT_MAX_DOCUMENT_CHARS",
        default_value_t = DEFAULT.max_document_chars,
        value_parser = number_or(DEFAULT.max_document_chars))]
    pub max_document_chars: usize,
    /// Longest a request may run, in seconds; its database work is cancelled after that.
    #[arg(long = "limit-request-timeout-seconds", value_name = "SECONDS", env = "LIMIT_REQUEST_TIMEOUT_SECONDS",
        default_value = "15", value_parser = seconds_or(DEFAULT.request_timeout))]
    pub request_timeout: Duration,
    /// Sustained requests per second per subject and per client address.
    #[arg(long = "limit-rate-per-second", value_name = "N", env = "LIMIT_RATE_PER_SECOND",
        default_value_t = DEFAULT.rate_per_second,
        value_parser = number_or(DEFAULT.rate_per_second))]
    pub rate_per_second: f64,
    /// Requests per subject and per client address allowed in a burst above the sustained rate.
    #[arg(long = "limit-rate-burst", value_name = "N", env = "LIMIT_RATE_BURST",
        default_value_t = DEFAULT.rate_burst, value_parser = number_or(DEFAULT.rate_burst))]
    pub rate_burst: f64,
    /// GraphQL requests executed at once per instance; more wait their turn. Executing more than
    /// the cores and the pool can serve adds no throughput, only memory (each holds its answer).
    #[arg(long = "limit-concurrent-requests", value_name = "N", env = "LIMIT_CONCURRENT_REQUESTS",
        default_value_t = DEFAULT.max_concurrent_requests,
        value_parser = number_or(DEFAULT.max_concurrent_requests))]
    pub max_concurrent_requests: usize,
    /// The static cost of all requests executing at once: what bounds memory under load, since
    /// what a request holds grows with its cost.
    #[arg(long = "limit-concurrent-cost", value_name = "N", env = "LIMIT_CONCURRENT_COST",
        default_value_t = DEFAULT.max_concurrent_cost,
        value_parser = number_or(DEFAULT.max_concurrent_cost))]
    pub max_concurrent_cost: usize,
    /// Requests parsed and waiting for a turn at once; more wait before they are parsed,
    /// holding only their connection.
    #[arg(long = "limit-waiting-requests", value_name = "N", env = "LIMIT_WAITING_REQUESTS",
        default_value_t = DEFAULT.max_waiting_requests,
        value_parser = number_or(DEFAULT.max_waiting_requests))]
    pub max_waiting_requests: usize,
    /// Characters of a one-line text argument or input field (names, codes, filters).
    #[arg(long = "limit-max-line-chars", value_name = "N", env = "LIMIT_MAX_LINE_CHARS",
        default_value_t = DEFAULT.max_line_chars,
        value_parser = number_or(DEFAULT.max_line_chars))]
    pub max_line_chars: usize,
    /// Characters of a free-text argument or input field.
    #[arg(long = "limit-max-text-chars", value_name = "N", env = "LIMIT_MAX_TEXT_CHARS",
        default_value_t = DEFAULT.max_text_chars,
        value_parser = number_or(DEFAULT.max_text_chars))]
    pub max_text_chars: usize,
    /// Bytes of one uploaded evidence file (multipart requests may be this much larger than
    /// the largest body).
    #[arg(long = "limit-max-upload-bytes", value_name = "BYTES", env = "LIMIT_MAX_UPLOAD_BYTES",
        default_value_t = DEFAULT.max_upload_bytes,
        value_parser = number_or(DEFAULT.max_upload_bytes))]
    pub max_upload_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        DEFAULT
    }
}

impl Limits {
    /// What one value cannot say alone: the admission and rate limits must let something through.
    pub fn check(&self) -> Result<(), String> {
        if self.max_concurrent_requests == 0 {
            return Err("LIMIT_CONCURRENT_REQUESTS must be at least 1".to_owned());
        }
        if self.max_concurrent_cost == 0 || self.max_waiting_requests == 0 {
            return Err(
                "LIMIT_CONCURRENT_COST and LIMIT_WAITING_REQUESTS must be at least 1".to_owned(),
            );
        }
        if !(self.rate_per_second > 0.0 && self.rate_burst >= 1.0) {
            return Err(
                "LIMIT_RATE_PER_SECOND must be positive and LIMIT_RATE_BURST at least 1".to_owned(),
            );
        }
        Ok(())
    }
}

/// A number, surrounding spaces allowed; nothing at all (a variable set but empty) is `default`.
pub(crate) fn number_or<T>(
    default: T,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: std::str::FromStr + Copy + Send + Sync + 'static,
{
    move |text: &str| {
        let text = text.trim();
        if text.is_empty() {
            return Ok(default);
        }
        text.parse()
            .map_err(|_| format!("{text} is not a valid number"))
    }
}

/// A positive number of seconds, fractions allowed; nothing at all is `default`.
fn seconds_or(
    default: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let seconds: f64 = number_or(default.as_secs_f64())(text)?;
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(format!("{seconds} is not a positive number of seconds"));
        }
        Ok(Duration::from_secs_f64(seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        limits: Limits,
    }

    fn parse(args: &[&str]) -> Result<Limits, String> {
        let cli = Cli::try_parse_from(std::iter::once("test").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        cli.limits.check()?;
        Ok(cli.limits)
    }

    #[test]
    fn limits_come_from_flags_and_bad_values_stop_start_up() {
        assert_eq!(parse(&[]).expect("defaults"), Limits::default());
        let limits = parse(&[
            "--limit-max-aliases=3",
            "--limit-rate-per-second= 5000 ",
            "--limit-request-timeout-seconds=2.5",
            "--limit-max-cost=",
        ])
        .expect("valid");
        assert_eq!(limits.max_aliases, 3);
        assert_eq!(limits.rate_per_second, 5000.0);
        assert_eq!(limits.request_timeout, Duration::from_millis(2500));
        assert_eq!(limits.max_complexity, Limits::default().max_complexity);
        assert_eq!(limits.max_depth, Limits::default().max_depth);
        assert!(parse(&["--limit-max-depth=deep"]).is_err());
        assert!(parse(&["--limit-rate-per-second=0"]).is_err());
        assert!(parse(&["--limit-request-timeout-seconds=-1"]).is_err());
        assert!(parse(&["--limit-concurrent-requests=0"]).is_err());
    }
}
