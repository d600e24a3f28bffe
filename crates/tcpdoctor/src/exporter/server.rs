//! The HTTP side: `hyper` serves `/metrics`, `/` and `/healthz` on one thread, with every resource a
//! client can hold bounded — connections (at most [`MAX_CONNECTIONS`], the rest closed at once), the
//! request head (`hyper`'s smallest buffer, 8 KiB: a larger head gets 431), the time to send it
//! ([`HEADER_TIMEOUT`]) and a connection's lifetime ([`CONNECTION_LIFETIME`]). Bodies are never read.
//! A stalled client holds one connection slot until those timers end it, and never the collection:
//! that runs on a blocking thread, one at a time, and its result is shared by every scrape within
//! `--min-interval`.

use super::exposition::{self, Family, Format, Sample, Value};
use super::names;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ACCEPT, ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

/// Connections served at once; more are closed as they arrive.
pub const MAX_CONNECTIONS: usize = 16;
/// How long a client may take to send a request head (each request, on a kept-alive connection too).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one connection may stay open; a scraper reconnects.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// How often the accept loop looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(200);

/// Makes the families of one collection (blocking: netlink, /proc).
pub type Collect = dyn Fn() -> anyhow::Result<Vec<Family>> + Send + Sync;
/// Makes the families that are read live on each scrape (the `--trace` counts).
pub type Live = dyn Fn() -> Vec<Family> + Send + Sync;

/// What the handlers share.
pub struct State {
    pub collect: Arc<Collect>,
    pub live: Option<Box<Live>>,
    pub min_interval: Duration,
    cache: Mutex<Cache>,
    errors: AtomicU64,
}

#[derive(Default)]
struct Cache {
    /// When the last collection ended, and its families (`None`: it failed).
    last: Option<(Instant, Option<Arc<Vec<Family>>>)>,
    duration: f64,
}

impl State {
    pub fn new(collect: Arc<Collect>, live: Option<Box<Live>>, min_interval: Duration) -> State {
        State {
            collect,
            live,
            min_interval,
            cache: Mutex::new(Cache::default()),
            errors: AtomicU64::new(0),
        }
    }

    /// The families of the last collection if it is recent enough, or of a new one; the exporter's own
    /// metrics after them.
    async fn families(&self) -> Vec<Family> {
        let mut cache = self.cache.lock().await;
        let fresh = cache
            .last
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < self.min_interval);
        if !fresh {
            let collect = Arc::clone(&self.collect);
            let started = Instant::now();
            let result = tokio::task::spawn_blocking(move || collect())
                .await
                .unwrap_or_else(|e| Err(anyhow::anyhow!("the collection panicked: {e}")));
            cache.duration = started.elapsed().as_secs_f64();
            let families = match result {
                Ok(f) => Some(Arc::new(f)),
                Err(e) => {
                    self.errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!(
                        "tcpdoctor: collection failed: {}",
                        report::safe::terminal(&format!("{e:#}"))
                    );
                    None
                }
            };
            cache.last = Some((Instant::now(), families));
        }
        let mut out: Vec<Family> = cache
            .last
            .as_ref()
            .and_then(|(_, f)| f.as_deref().cloned())
            .unwrap_or_default();
        let duration = cache.duration;
        drop(cache);
        if let Some(live) = &self.live {
            out.extend(live());
        }
        out.push(Family::new(
            &names::SCRAPE_DURATION,
            vec![Sample::new(&[], Value::Real(duration))],
        ));
        out.push(Family::new(
            &names::SCRAPE_ERRORS,
            vec![Sample::new(
                &[],
                Value::Count(self.errors.load(Ordering::Relaxed)),
            )],
        ));
        out
    }
}

const INDEX: &str = "<!DOCTYPE html>\n<html><head><title>tcpdoctor exporter</title></head><body>\n\
<h1>tcpdoctor exporter</h1>\n<p>The host's TCP lifecycle as Prometheus metrics: \
<a href=\"/metrics\">/metrics</a>. Health: <a href=\"/healthz\">/healthz</a>.</p>\n</body></html>\n";

fn response(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// Routes one request. HEAD is answered as GET without the body (`hyper` leaves it out).
async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    const TEXT: &str = "text/plain; charset=utf-8";
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = response(StatusCode::METHOD_NOT_ALLOWED, TEXT, "only GET and HEAD\n");
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Ok(r);
    }
    Ok(match req.uri().path() {
        "/metrics" => {
            let format = Format::negotiate(req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()));
            match exposition::encode(state.families().await, format) {
                Ok(text) => response(StatusCode::OK, format.content_type(), text),
                Err(_) => response(StatusCode::INTERNAL_SERVER_ERROR, TEXT, "encoding failed\n"),
            }
        }
        "/" => response(StatusCode::OK, "text/html; charset=utf-8", INDEX),
        "/healthz" => response(StatusCode::OK, TEXT, "ok\n"),
        _ => response(StatusCode::NOT_FOUND, TEXT, "not found: try /metrics\n"),
    })
}

/// Serves until `stop` says so.
pub async fn serve(
    listener: std::net::TcpListener,
    state: Arc<State>,
    stop: impl Fn() -> bool,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut tick = tokio::time::interval(STOP_POLL);
    while !stop() {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A connection reset before it was accepted, or out of file descriptors for a moment.
                Err(_) => continue,
            },
            _ = tick.tick() => continue,
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            continue; // dropped: closed at once
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(Arc::clone(&state), req));
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(8192)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, connection).await;
            drop(slot);
        });
    }
    Ok(())
}
