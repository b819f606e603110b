//! Logs and metrics. Logs go through `tracing` (text or JSON, per config);
//! metrics are kept in a per-instance `prometheus-client` registry (no global
//! recorder, so several instances can run in one test process) and served at
//! `/metrics`. Depends only on `config`.

use crate::config::{LogConfig, LogFormat};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use std::sync::{Arc, Mutex};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Install the global tracing subscriber (once per process; later calls are
/// no-ops). Logs go to stderr so that command output on stdout (a token, for
/// instance) stays clean for scripts.
pub fn init_logging(config: &LogConfig) {
    let filter = EnvFilter::try_new(&config.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let result = match config.format {
        LogFormat::Json => tracing_subscriber::registry()
            .with(filter)
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Text => tracing_subscriber::registry()
            .with(filter)
            .with(fmt::layer().with_writer(std::io::stderr))
            .try_init(),
    };
    // Already installed (tests, or serve after migrate): keep the first one.
    let _ = result;
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub queue: String,
}

/// The instance's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram>,
    pub queue_depth: Family<QueueLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("staffroom");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ])
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by route",
            latency.clone(),
        );
        let queue_depth = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "queue_depth",
            "Items waiting in a persistent queue",
            queue_depth.clone(),
        );
        Self {
            registry: Arc::new(Mutex::new(registry)),
            requests,
            latency,
            queue_depth,
        }
    }

    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(registry) = self.registry.lock()
            && encode(&mut out, &registry).is_err()
        {
            out.clear();
        }
        out
    }
}
