//! One scrape's metrics as plain data, and their encoding by `prometheus-client`: the Prometheus text
//! format (0.0.4) by default, OpenMetrics 1.0 when the scraper's `Accept` asks for it.
//!
//! The values are made on each collection and handed to the encoder through a [`Collector`], rather
//! than kept in the registry's `Family` metrics: a `Family` keeps every label set it ever saw, so a
//! process that held CLOSE_WAIT sockets once would be exposed (and kept in memory) forever.

use super::names::{Kind, Metric};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// A sample's value: counts stay integers, ratios and durations are floats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Count(u64),
    Real(f64),
}

/// One series: its label values, in the order of [`Metric::labels`], and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: Vec<String>,
    pub value: Value,
}

impl Sample {
    pub fn new(labels: &[&str], value: Value) -> Sample {
        Sample {
            labels: labels.iter().map(|l| (*l).to_string()).collect(),
            value,
        }
    }
}

/// One metric family and its series.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    pub metric: &'static Metric,
    /// [`Metric::help`], or a help made at run time (the kernel counters' meanings come from `doctor`).
    pub help: String,
    pub samples: Vec<Sample>,
}

impl Family {
    pub fn new(metric: &'static Metric, samples: Vec<Sample>) -> Family {
        Family {
            metric,
            help: metric.help.to_string(),
            samples,
        }
    }
}

/// Which text format to answer in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Prometheus,
    OpenMetrics,
}

impl Format {
    /// OpenMetrics when the `Accept` header names it (Prometheus sends
    /// `application/openmetrics-text;version=1.0.0,...;q=0.5,text/plain;version=0.0.4;q=0.4,...`);
    /// the Prometheus text format otherwise, which every scraper reads.
    pub fn negotiate(accept: Option<&str>) -> Format {
        if accept.is_some_and(|a| a.contains("application/openmetrics-text")) {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Encodes `families` in `format`.
pub fn encode(families: Vec<Family>, format: Format) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Families(Arc::new(families))));
    let mut out = String::new();
    match format {
        Format::Prometheus => prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)?,
        Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &registry)?,
    }
    Ok(out)
}

#[derive(Debug)]
struct Families(Arc<Vec<Family>>);

impl Collector for Families {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for family in self.0.iter() {
            let metric = family.metric;
            let kind = match metric.kind {
                Kind::Gauge => prometheus_client::metrics::MetricType::Gauge,
                Kind::Counter => prometheus_client::metrics::MetricType::Counter,
            };
            let mut descriptor = encoder.encode_descriptor(metric.family_name(), &family.help, None, kind)?;
            for sample in &family.samples {
                let labels: Vec<(&str, &str)> = metric
                    .labels
                    .iter()
                    .copied()
                    .zip(sample.labels.iter().map(String::as_str))
                    .collect();
                let series = descriptor.encode_family(&labels)?;
                match (metric.kind, sample.value) {
                    (Kind::Gauge, Value::Count(n)) => ConstGauge::new(n).encode(series)?,
                    (Kind::Gauge, Value::Real(x)) => ConstGauge::new(x).encode(series)?,
                    (Kind::Counter, Value::Count(n)) => ConstCounter::new(n).encode(series)?,
                    (Kind::Counter, Value::Real(x)) => ConstCounter::new(x).encode(series)?,
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exporter::names;

    fn families() -> Vec<Family> {
        vec![
            Family::new(
                &names::SOCKETS,
                vec![Sample::new(&["TIME_WAIT", "ipv4"], Value::Count(12))],
            ),
            Family::new(&names::SCRAPE_ERRORS, vec![Sample::new(&[], Value::Count(0))]),
            Family::new(&names::SCRAPE_DURATION, vec![Sample::new(&[], Value::Real(0.25))]),
        ]
    }

    #[test]
    fn prometheus_text_names_counters_with_total_and_has_no_eof() {
        let text = encode(families(), Format::Prometheus).unwrap();
        assert!(text.contains("# TYPE tcpdoctor_sockets gauge\n"), "{text}");
        assert!(
            text.contains("tcpdoctor_sockets{state=\"TIME_WAIT\",family=\"ipv4\"} 12\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE tcpdoctor_scrape_errors_total counter\n"),
            "{text}"
        );
        assert!(text.contains("\ntcpdoctor_scrape_errors_total 0\n"), "{text}");
        assert!(
            text.contains("\ntcpdoctor_scrape_duration_seconds 0.25\n"),
            "{text}"
        );
        assert!(!text.contains("# EOF"), "{text}");
    }

    #[test]
    fn openmetrics_types_counters_by_family_and_ends_with_eof() {
        let text = encode(families(), Format::OpenMetrics).unwrap();
        assert!(
            text.contains("# TYPE tcpdoctor_scrape_errors counter\n"),
            "{text}"
        );
        assert!(text.contains("\ntcpdoctor_scrape_errors_total 0\n"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        let f = vec![Family::new(
            &names::CLOSE_WAIT_SOCKETS,
            vec![Sample::new(&["a\"b\\c\nd"], Value::Count(1))],
        )];
        let text = encode(f, Format::Prometheus).unwrap();
        assert!(text.contains(r#"{process="a\"b\\c\nd"} 1"#), "{text}");
    }

    #[test]
    fn negotiates_openmetrics_only_when_asked() {
        let prometheus_2_42 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
            version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus_2_42)), Format::OpenMetrics);
        assert_eq!(Format::negotiate(Some("text/plain")), Format::Prometheus);
        assert_eq!(Format::negotiate(None), Format::Prometheus);
    }
}
