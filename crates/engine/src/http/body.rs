//! A request body read chunk by chunk, on demand, for ASGI and WSGI apps.
//!
//! Nothing is read from the socket until the app asks for the next chunk, so
//! a slow app holds the client back (TCP backpressure) instead of the body
//! piling up in memory. The limits of a body read in full still hold: more
//! than `max_body_size` bytes is [`BodyError::TooLarge`] (413), a chunk that
//! takes longer than the header timeout is [`BodyError::Timeout`] (408), a
//! malformed chunked encoding is [`BodyError::Malformed`] (400).

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body::Body;
use http_body_util::{BodyExt, Limited};

use super::stats::ServerStats;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type DynBody = Pin<Box<dyn Body<Data = Bytes, Error = BoxError> + Send + Sync>>;

/// Why a body could not be read to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// More than the limit (the limit is carried for the message).
    TooLarge(usize),
    /// Broken framing, or the client closed the connection mid-body.
    Malformed,
    /// No chunk arrived within the timeout.
    Timeout,
}

impl BodyError {
    /// The HTTP status that answers this error.
    pub fn status(self) -> u16 {
        match self {
            BodyError::TooLarge(_) => 413,
            BodyError::Malformed => 400,
            BodyError::Timeout => 408,
        }
    }

    /// A sentence for the client.
    pub fn detail(self) -> String {
        match self {
            BodyError::TooLarge(max) => {
                format!("the request body is larger than the limit of {max} bytes")
            }
            BodyError::Malformed => "malformed request body".to_string(),
            BodyError::Timeout => "the request body took too long".to_string(),
        }
    }
}

/// The body of one request, pulled chunk by chunk.
pub struct RequestBody {
    inner: DynBody,
    max: usize,
    timeout: Duration,
    done: bool,
    stats: Option<Arc<ServerStats>>,
}

impl std::fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBody")
            .field("max", &self.max)
            .field("done", &self.done)
            .finish()
    }
}

impl RequestBody {
    /// Wraps `body`: at most `max` bytes, each chunk within `timeout`.
    pub fn new<B>(body: B, max: usize, timeout: Duration) -> Self
    where
        B: Body<Data = Bytes> + Send + Sync + 'static,
        B::Error: Into<BoxError>,
    {
        // A request without a body (no Content-Length, or 0) is finished from the start.
        let done = body.is_end_stream();
        RequestBody {
            inner: Box::pin(Limited::new(body, max)),
            max,
            timeout,
            done,
            stats: None,
        }
    }

    /// Counts errors in the server's `too_large`, `bad_requests` and `timeouts`,
    /// as a body read in full is counted.
    pub fn counting(mut self, stats: Arc<ServerStats>) -> Self {
        self.stats = Some(stats);
        self
    }

    fn count(&self, error: BodyError) {
        if let Some(stats) = &self.stats {
            let counter = match error {
                BodyError::TooLarge(_) => &stats.too_large,
                BodyError::Malformed => &stats.bad_requests,
                BodyError::Timeout => &stats.timeouts,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The next chunk of data, `Ok(None)` at the end (and on every call
    /// after). Trailers are skipped. After an error the body is finished.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        while !self.done {
            let frame = match tokio::time::timeout(self.timeout, self.inner.frame()).await {
                Err(_) => Err(BodyError::Timeout),
                Ok(None) => Ok(None),
                Ok(Some(Err(e)))
                    if e.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some() =>
                {
                    Err(BodyError::TooLarge(self.max))
                }
                Ok(Some(Err(_))) => Err(BodyError::Malformed),
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => {
                        // With a Content-Length, the last chunk is known as such: no
                        // extra read just to learn that the body ended.
                        self.done = self.inner.is_end_stream();
                        return Ok(Some(data));
                    }
                    Err(_trailers) => continue,
                },
            };
            self.done = true;
            if let Err(error) = frame {
                self.count(error);
            }
            return frame;
        }
        Ok(None)
    }

    /// Whether the end (or an error) was reached: the last chunk returned was the last.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use http_body::Frame;
    use http_body_util::{Full, StreamBody};

    fn chunked(
        parts: Vec<Result<&'static [u8], &'static str>>,
    ) -> impl Body<Data = Bytes, Error = BoxError> + Send + Sync {
        StreamBody::new(stream::iter(parts.into_iter().map(|p| match p {
            Ok(b) => Ok(Frame::data(Bytes::from_static(b))),
            Err(e) => Err(BoxError::from(e)),
        })))
    }

    #[tokio::test]
    async fn chunks_come_one_at_a_time_then_the_end() {
        let mut body = RequestBody::new(
            chunked(vec![Ok(b"ab"), Ok(b""), Ok(b"cd")]),
            100,
            Duration::from_secs(1),
        );
        assert_eq!(body.next_chunk().await, Ok(Some(Bytes::from_static(b"ab"))));
        assert_eq!(body.next_chunk().await, Ok(Some(Bytes::from_static(b"cd"))));
        assert_eq!(body.next_chunk().await, Ok(None));
        assert!(body.is_done());
        assert_eq!(body.next_chunk().await, Ok(None));
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_too_large() {
        let mut body = RequestBody::new(
            chunked(vec![Ok(b"1234"), Ok(b"5678")]),
            6,
            Duration::from_secs(1),
        );
        assert_eq!(
            body.next_chunk().await,
            Ok(Some(Bytes::from_static(b"1234")))
        );
        let err = body.next_chunk().await.unwrap_err();
        assert_eq!((err, err.status()), (BodyError::TooLarge(6), 413));
        assert_eq!(body.next_chunk().await, Ok(None));
    }

    #[tokio::test]
    async fn a_broken_body_is_malformed() {
        let mut body = RequestBody::new(
            chunked(vec![Ok(b"x"), Err("reset")]),
            100,
            Duration::from_secs(1),
        );
        body.next_chunk().await.unwrap();
        assert_eq!(body.next_chunk().await.map_err(BodyError::status), Err(400));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_times_out_and_is_counted() {
        let stats = Arc::new(ServerStats::default());
        let stalled = StreamBody::new(stream::pending::<Result<Frame<Bytes>, BoxError>>());
        let mut body =
            RequestBody::new(stalled, 100, Duration::from_secs(5)).counting(stats.clone());
        assert_eq!(body.next_chunk().await, Err(BodyError::Timeout));
        assert_eq!(stats.timeouts.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_body_of_known_length_is_done_with_its_last_chunk() {
        let mut body = RequestBody::new(
            Full::new(Bytes::from_static(b"whole")),
            100,
            Duration::from_secs(1),
        );
        assert!(!body.is_done());
        assert_eq!(
            body.next_chunk().await,
            Ok(Some(Bytes::from_static(b"whole")))
        );
        assert!(body.is_done());
        assert_eq!(body.next_chunk().await, Ok(None));
    }

    #[tokio::test]
    async fn an_empty_body_is_done_before_any_read() {
        let body = RequestBody::new(Full::new(Bytes::new()), 100, Duration::from_secs(1));
        assert!(body.is_done());
    }
}
