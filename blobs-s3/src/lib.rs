//! The blob store (photos, signed minutes) in an S3-compatible object store,
//! so that several server instances share one, and the server's disk holds
//! no photos.
//!
//! Keys, under an optional prefix:
//! - `blobs/<sha256>`: a complete blob whose bytes were checked against its
//!   name. Nothing else is ever written there, and it is written whole (one
//!   PUT, or the completion of a multipart upload, both atomic in S3).
//! - `partial/<sha256>/<offset, 20 digits>`: one object per chunk received,
//!   durable once its PUT returns, so an upload resumes where it stopped,
//!   from any instance, after any crash. Progress is the run of parts that
//!   follow each other from offset 0.
//!
//! The last chunk is never staged: it goes, in memory, straight into the
//! final object after the staged parts. So the progress of an unfinished
//! upload is always short of its total, and a failure while the blob is
//! being assembled leaves the client resending that last chunk.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use kiemtra_storage::{is_blob_name, read_range, BlobError, BlobReader, BlobStore, StorageError};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, RetryConfig,
    WriteMultipart,
};
use sha2::{Digest, Sha256};
use tokio::runtime::Handle;

/// Up to this size a blob is assembled in memory and written with one PUT;
/// beyond, it streams into a multipart upload, so memory stays bounded.
const SINGLE_PUT_MAX: u64 = 8 * 1024 * 1024;
/// The multipart upload's part size: S3's smallest but for the last part.
const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts of one multipart upload in flight at once (memory: this many
/// parts plus the one being filled).
const PARTS_IN_FLIGHT: usize = 2;
/// Uploads of one blob by one instance are serialised; these stripes keep
/// unrelated ones apart.
const STRIPES: usize = 32;
/// Existence checks (`HEAD`s) in flight at once for [`BlobStore::missing`].
const MISSING_IN_FLIGHT: usize = 16;

/// Why an S3 blob store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("invalid blob store address: {0}")]
    Address(String),
    #[error("object store client: {0}")]
    Client(#[from] object_store::Error),
    #[error("could not start the object store's runtime: {0}")]
    Runtime(std::io::Error),
}

/// Where the blobs go and how hard to try.
#[derive(Debug, Clone)]
pub struct S3Config {
    pub bucket: String,
    /// A folder of the bucket that holds everything (`""` for its root).
    pub prefix: String,
    /// The S3 API's URL (`http://127.0.0.1:8333`); `None` for AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    /// The key pair; `None` leaves it to the AWS environment variables and
    /// the platform's credential sources.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub connect_timeout: Duration,
    /// For one request: a chunk's PUT, or a part of the final object.
    pub request_timeout: Duration,
    /// Retries of a request that failed in a way worth retrying, within
    /// `retry_timeout`. Few and short: the caller (the device) retries
    /// anyway, and an unreachable store should be reported, not waited out.
    pub max_retries: usize,
    pub retry_timeout: Duration,
}

impl S3Config {
    pub fn new(bucket: &str) -> Self {
        Self {
            bucket: bucket.to_string(),
            prefix: String::new(),
            endpoint: None,
            region: "us-east-1".to_string(),
            access_key_id: None,
            secret_access_key: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            max_retries: 2,
            retry_timeout: Duration::from_secs(10),
        }
    }

    /// `s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION]`; the key pair
    /// comes from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, never
    /// from the address (it ends up in logs and process listings).
    pub fn from_url(address: &str) -> Result<Self, S3Error> {
        let url = url::Url::parse(address).map_err(|e| S3Error::Address(e.to_string()))?;
        if url.scheme() != "s3" {
            return Err(S3Error::Address("the address starts with s3://".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(S3Error::Address(
                "the key pair goes in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not in the address".into(),
            ));
        }
        let bucket = url
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| S3Error::Address("no bucket: s3://BUCKET".into()))?;
        let mut config = Self::new(bucket);
        config.prefix = url.path().trim_matches('/').to_string();
        for (key, value) in url.query_pairs() {
            match &*key {
                "endpoint" => config.endpoint = Some(value.into_owned()),
                "region" => config.region = value.into_owned(),
                other => return Err(S3Error::Address(format!("unknown setting {other:?}"))),
            }
        }
        config.access_key_id = std::env::var("AWS_ACCESS_KEY_ID").ok();
        config.secret_access_key = std::env::var("AWS_SECRET_ACCESS_KEY").ok();
        Ok(config)
    }
}

/// Content-addressed blobs in an S3 bucket (see the module's notes).
///
/// [`BlobStore`] is synchronous and the server calls it from blocking
/// threads; the object store client is async. Every call therefore runs on
/// a small runtime the store owns, and the calling thread waits for the
/// result on a plain channel. That is safe from any thread: the waiting
/// thread never drives a runtime itself (tokio's `block_on` panics on an
/// async worker, this does not), and the futures never wait for the caller,
/// so they cannot deadlock on it. It also keeps the HTTP client's pooled
/// connections on one runtime that lives as long as the store.
pub struct S3BlobStore {
    inner: Arc<Inner>,
    /// Always `Some` but in `drop`.
    runtime: Option<tokio::runtime::Runtime>,
    stripes: Vec<Mutex<()>>,
}

struct Inner {
    store: AmazonS3,
    /// `""` or a folder with its trailing slash.
    prefix: String,
}

/// One staged chunk.
#[derive(Debug, Clone)]
struct Part {
    offset: u64,
    size: u64,
    path: Path,
}

/// Every failure of the object store (no answer, a timeout, an error
/// status) is one the caller retries later: nothing is known to be wrong
/// with the blob or the request, and the device must be told to come back,
/// not that its upload is bad.
fn io(e: object_store::Error) -> BlobError {
    BlobError::Unavailable(format!("object store: {e}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl S3BlobStore {
    pub fn open(config: &S3Config) -> Result<Self, S3Error> {
        // reqwest is built without a TLS provider of its own (its default,
        // aws-lc-rs, is a long C build): HTTPS endpoints use rustls' ring.
        // Installing fails harmlessly if the process already chose one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(config.connect_timeout)
                    .with_timeout(config.request_timeout)
                    .with_allow_http(
                        config
                            .endpoint
                            .as_deref()
                            .is_some_and(|e| e.starts_with("http://")),
                    ),
            )
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: config.max_retries,
                retry_timeout: config.retry_timeout,
            });
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let (Some(key), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            builder = builder.with_access_key_id(key).with_secret_access_key(secret);
        }
        let store = builder.build()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kiemtra-s3")
            .enable_all()
            .build()
            .map_err(S3Error::Runtime)?;
        let prefix = match config.prefix.trim_matches('/') {
            "" => String::new(),
            p => format!("{p}/"),
        };
        Ok(Self {
            inner: Arc::new(Inner { store, prefix }),
            runtime: Some(runtime),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        })
    }

    /// Runs `fut` on the store's runtime and waits for it (see the type's notes).
    fn run<T, F>(&self, fut: F) -> Result<T, BlobError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, BlobError>> + Send + 'static,
    {
        let runtime = self.runtime.as_ref().ok_or_else(stopped)?;
        run_on(runtime.handle(), fut)
    }

    /// Every key the store holds, under its prefix (`blobs/…`, `partial/…/…`),
    /// for checks and clean-up tools.
    pub fn keys(&self) -> Result<Vec<String>, BlobError> {
        let inner = self.inner.clone();
        self.run(async move {
            let root = inner.prefix.trim_end_matches('/');
            let root = (!root.is_empty()).then(|| Path::from(root));
            let metas: Vec<_> = inner.store.list(root.as_ref()).try_collect().await.map_err(io)?;
            Ok(metas
                .into_iter()
                .map(|m| {
                    let key = m.location.as_ref();
                    key.strip_prefix(inner.prefix.as_str()).unwrap_or(key).to_string()
                })
                .collect())
        })
    }

    fn lock(&self, hash: &str) -> Result<MutexGuard<'_, ()>, BlobError> {
        let i = hash
            .bytes()
            .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize))
            % STRIPES;
        self.stripes[i]
            .lock()
            .map_err(|_| BlobError::Storage(StorageError::Io("a blob writer panicked".into())))
    }

    fn check_name(hash: &str) -> Result<(), BlobError> {
        if is_blob_name(hash) {
            Ok(())
        } else {
            Err(BlobError::Invalid(
                "a blob is named by 64 lowercase hex digits (its SHA-256)".into(),
            ))
        }
    }
}

fn stopped() -> BlobError {
    BlobError::Storage(StorageError::Io("the object store's runtime stopped".into()))
}

/// Runs `fut` on `runtime` and waits for it on a plain channel (see
/// [`S3BlobStore`]'s notes).
fn run_on<T, F>(runtime: &Handle, fut: F) -> Result<T, BlobError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, BlobError>> + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        // The receiver only goes if the caller did; nobody is left to tell.
        let _ = tx.send(fut.await);
    });
    // A panic in the task, or a runtime shut down with the store, drops the
    // sender: an error, not a hang.
    rx.recv().map_err(|_| stopped())?
}

/// The body of a blob being read, pulled by [`S3Chunks`] a chunk at a time.
type Body = BoxStream<'static, object_store::Result<Bytes>>;

/// Bytes gathered per chunk handed out: the HTTP client's pieces are a few
/// KiB, too small to cross to the calling thread one by one.
const READ_CHUNK: usize = 64 * 1024;

/// The chunks of an object being read. Each `next` polls the body on the
/// store's runtime (its connection lives there) until a chunk is full, so
/// at most one chunk of each read is in memory here.
struct S3Chunks {
    runtime: Handle,
    /// `None` once the body ended or failed.
    body: Option<Body>,
    left: u64,
}

impl Iterator for S3Chunks {
    type Item = Result<Vec<u8>, BlobError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut body = self.body.take()?;
        if self.left == 0 {
            return None;
        }
        let want = READ_CHUNK.min(usize::try_from(self.left).unwrap_or(READ_CHUNK));
        let got = run_on(&self.runtime, async move {
            let mut chunk = Vec::with_capacity(want);
            while chunk.len() < want {
                match body.next().await {
                    Some(Ok(bytes)) => chunk.extend_from_slice(&bytes),
                    Some(Err(e)) => return Ok((body, Err(io(e)))),
                    None => break,
                }
            }
            Ok((body, Ok(chunk)))
        });
        match got {
            Ok((body, Ok(chunk))) if !chunk.is_empty() && chunk.len() as u64 <= self.left => {
                self.left -= chunk.len() as u64;
                self.body = Some(body);
                Some(Ok(chunk))
            }
            Ok((_, Ok(chunk))) => {
                let how = if chunk.is_empty() { "short of" } else { "past" };
                Some(Err(BlobError::Storage(StorageError::Io(format!(
                    "the object store's body ended {how} the blob's length"
                )))))
            }
            Ok((_, Err(e))) | Err(e) => Some(Err(e)),
        }
    }
}

impl Drop for S3BlobStore {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which tokio refuses (it panics) on an
        // async worker, where the server's state may well be dropped.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Inner {
    fn blob_path(&self, hash: &str) -> Path {
        Path::from(format!("{}blobs/{hash}", self.prefix))
    }

    fn partial_dir(&self, hash: &str) -> Path {
        Path::from(format!("{}partial/{hash}", self.prefix))
    }

    fn part_path(&self, hash: &str, offset: u64) -> Path {
        Path::from(format!("{}partial/{hash}/{offset:020}", self.prefix))
    }

    /// The size of the complete blob, if there is one.
    async fn complete_len(&self, hash: &str) -> Result<Option<u64>, BlobError> {
        match self.store.head(&self.blob_path(hash)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    /// Every staged part of `hash`, in offset order.
    async fn staged(&self, hash: &str) -> Result<Vec<Part>, BlobError> {
        let metas: Vec<_> = self
            .store
            .list(Some(&self.partial_dir(hash)))
            .try_collect()
            .await
            .map_err(io)?;
        let mut parts: Vec<Part> = metas
            .into_iter()
            .filter_map(|m| {
                let offset = m.location.filename()?.parse().ok()?;
                Some(Part {
                    offset,
                    size: m.size,
                    path: m.location,
                })
            })
            .collect();
        parts.sort_by_key(|p| p.offset);
        Ok(parts)
    }

    /// The bytes received (the parts that follow each other from 0) and those parts.
    async fn progress(&self, hash: &str) -> Result<(u64, Vec<Part>), BlobError> {
        Ok(contiguous(self.staged(hash).await?))
    }

    async fn status(&self, hash: &str) -> Result<(u64, bool), BlobError> {
        if let Some(len) = self.complete_len(hash).await? {
            return Ok((len, true));
        }
        Ok((self.progress(hash).await?.0, false))
    }

    async fn put_chunk(
        &self,
        hash: String,
        offset: u64,
        total: u64,
        chunk: Bytes,
    ) -> Result<(u64, bool), BlobError> {
        // Content addressed: a blob already here is the same bytes.
        if let Some(len) = self.complete_len(&hash).await? {
            return Ok((len, true));
        }
        let (received, chain) = self.progress(&hash).await?;
        if offset != received {
            return Err(BlobError::Offset { received });
        }
        let end = offset
            .checked_add(chunk.len() as u64)
            .filter(|&e| e <= total)
            .ok_or_else(|| BlobError::Invalid(format!("the chunk ends past the blob's {total} bytes")))?;
        if end < total {
            if !chunk.is_empty() {
                // Durable once the PUT returns: S3 acknowledges stored objects only.
                self.store
                    .put(&self.part_path(&hash, offset), chunk.into())
                    .await
                    .map_err(io)?;
            }
            return Ok((end, false));
        }
        self.assemble(&hash, &chain, chunk, total).await?;
        // The blob is complete and checked; the staged parts are garbage
        // now, which nothing reads again once the blob exists, so failing
        // to delete them is no reason to report a failure.
        let _ = self.discard(&hash).await;
        Ok((total, true))
    }

    /// Writes `blobs/<hash>` from the staged `chain` and the `last` chunk,
    /// if and only if they hash to `hash`.
    async fn assemble(&self, hash: &str, chain: &[Part], last: Bytes, total: u64) -> Result<(), BlobError> {
        let target = self.blob_path(hash);
        if total <= SINGLE_PUT_MAX {
            let mut buf = Vec::with_capacity(total as usize);
            for part in chain {
                let bytes = self
                    .store
                    .get(&part.path)
                    .await
                    .map_err(io)?
                    .bytes()
                    .await
                    .map_err(io)?;
                buf.extend_from_slice(&bytes);
            }
            buf.extend_from_slice(&last);
            if sha256_hex(&buf) != hash {
                self.discard(hash).await?;
                return Err(BlobError::HashMismatch);
            }
            self.store.put(&target, buf.into()).await.map_err(io)?;
            return Ok(());
        }
        // A multipart upload is invisible until completed, so the bytes can
        // go up while they are hashed, and be abandoned on a mismatch.
        let upload = self.store.put_multipart(&target).await.map_err(io)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        match self.feed(&mut writer, chain, last).await {
            Ok(digest) if digest == hash => {
                // On failure the upload stays incomplete, hence invisible
                // (a lifecycle rule on the bucket reclaims its parts).
                writer.finish().await.map_err(io)?;
                Ok(())
            }
            Ok(_) => {
                // Best effort: an incomplete upload is invisible anyway.
                let _ = writer.abort().await;
                self.discard(hash).await?;
                Err(BlobError::HashMismatch)
            }
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    /// Streams the parts and the last chunk into `writer`, returning their hash.
    async fn feed(
        &self,
        writer: &mut WriteMultipart,
        chain: &[Part],
        last: Bytes,
    ) -> Result<String, BlobError> {
        let mut hasher = Sha256::new();
        for part in chain {
            let mut stream = self.store.get(&part.path).await.map_err(io)?.into_stream();
            while let Some(bytes) = stream.next().await {
                let bytes = bytes.map_err(io)?;
                hasher.update(&bytes);
                writer.wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(io)?;
                writer.put(bytes);
            }
        }
        hasher.update(&last);
        writer.wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(io)?;
        writer.put(last);
        Ok(hex::encode(hasher.finalize()))
    }

    /// Deletes every staged part of `hash`.
    async fn discard(&self, hash: &str) -> Result<(), BlobError> {
        for part in self.staged(hash).await? {
            match self.store.delete(&part.path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }

    /// The blob's length, the part of it read, and the body of that part.
    async fn open(
        &self,
        hash: &str,
        start: u64,
        end: Option<u64>,
    ) -> Result<Option<(u64, u64, u64, Body)>, BlobError> {
        let path = self.blob_path(hash);
        if start == 0 && end.is_none() {
            // The whole blob: one request, whose answer says the length.
            return match self.store.get(&path).await {
                Ok(result) => {
                    let len = result.meta.size;
                    Ok(Some((len, 0, len, result.into_stream())))
                }
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(io(e)),
            };
        }
        // A part: the length first, so that a range past the end is told
        // apart from a missing blob (S3 answers both with an error).
        let Some(len) = self.complete_len(hash).await? else {
            return Ok(None);
        };
        let (start, end) = read_range(len, start, end)?;
        if start == end {
            return Ok(Some((len, start, end, futures_util::stream::empty().boxed())));
        }
        let options = GetOptions {
            range: Some(GetRange::Bounded(start..end)),
            ..Default::default()
        };
        match self.store.get_opts(&path, options).await {
            Ok(result) => Ok(Some((len, start, end, result.into_stream()))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    /// Those of `hashes` without a complete blob, a few asked at once.
    async fn missing(&self, hashes: Vec<String>) -> Result<Vec<String>, BlobError> {
        let found: Vec<(String, bool)> = futures_util::stream::iter(hashes)
            .map(|hash| async move {
                let here = self.complete_len(&hash).await?.is_some();
                Ok::<_, BlobError>((hash, here))
            })
            .buffered(MISSING_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(found
            .into_iter()
            .filter(|(_, here)| !here)
            .map(|(h, _)| h)
            .collect())
    }
}

/// The parts that follow each other from offset 0, and where they end.
/// Parts past a gap (left by a chunk rewritten shorter by another instance)
/// are ignored: the upload goes on from the gap and overwrites them.
fn contiguous(parts: Vec<Part>) -> (u64, Vec<Part>) {
    let mut end = 0;
    let mut chain = Vec::new();
    for part in parts {
        if part.offset != end || part.size == 0 {
            break;
        }
        end += part.size;
        chain.push(part);
    }
    (end, chain)
}

impl BlobStore for S3BlobStore {
    fn status(&self, hash: &str) -> Result<(u64, bool), BlobError> {
        Self::check_name(hash)?;
        let inner = self.inner.clone();
        let hash = hash.to_string();
        self.run(async move { inner.status(&hash).await })
    }

    fn put_chunk(&self, hash: &str, offset: u64, total: u64, chunk: &[u8]) -> Result<(u64, bool), BlobError> {
        Self::check_name(hash)?;
        // Held while the runtime works, by this thread: one upload of a
        // blob at a time in this instance (others may race; see `contiguous`).
        let _guard = self.lock(hash)?;
        let inner = self.inner.clone();
        let hash = hash.to_string();
        let chunk = Bytes::copy_from_slice(chunk);
        self.run(async move { inner.put_chunk(hash, offset, total, chunk).await })
    }

    fn open(&self, hash: &str, start: u64, end: Option<u64>) -> Result<Option<BlobReader>, BlobError> {
        Self::check_name(hash)?;
        let inner = self.inner.clone();
        let hash = hash.to_string();
        let runtime = self.runtime.as_ref().ok_or_else(stopped)?.handle().clone();
        let opened = self.run(async move { inner.open(&hash, start, end).await })?;
        Ok(opened.map(|(len, start, end, body)| BlobReader {
            len,
            start,
            end,
            chunks: Box::new(S3Chunks {
                runtime,
                body: Some(body),
                left: end - start,
            }),
        }))
    }

    fn names(&self) -> Result<Vec<String>, BlobError> {
        let inner = self.inner.clone();
        self.run(async move {
            let root = Path::from(format!("{}blobs", inner.prefix));
            let metas: Vec<_> = inner.store.list(Some(&root)).try_collect().await.map_err(io)?;
            Ok(metas
                .into_iter()
                .filter_map(|m| {
                    m.location
                        .filename()
                        .filter(|n| is_blob_name(n))
                        .map(str::to_string)
                })
                .collect())
        })
    }

    fn missing(&self, hashes: &[String]) -> Result<Vec<String>, BlobError> {
        for hash in hashes {
            Self::check_name(hash)?;
        }
        let inner = self.inner.clone();
        let hashes = hashes.to_vec();
        self.run(async move { inner.missing(hashes).await })
    }

    fn exists(&self, hash: &str) -> Result<bool, BlobError> {
        Self::check_name(hash)?;
        let inner = self.inner.clone();
        let hash = hash.to_string();
        self.run(async move { Ok(inner.complete_len(&hash).await?.is_some()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(offset: u64, size: u64) -> Part {
        Part {
            offset,
            size,
            path: Path::from(format!("p/{offset:020}")),
        }
    }

    #[test]
    fn progress_is_the_run_of_parts_from_zero() {
        assert_eq!(contiguous(vec![]).0, 0);
        assert_eq!(contiguous(vec![part(0, 3), part(3, 4)]).0, 7);
        // A gap: what follows it does not count.
        assert_eq!(contiguous(vec![part(0, 3), part(5, 4)]).0, 3);
        assert_eq!(contiguous(vec![part(1, 3)]).0, 0);
    }

    #[test]
    fn addresses() {
        let c = S3Config::from_url("s3://kiemtra/site-a/?endpoint=http://127.0.0.1:8333&region=vn").unwrap();
        assert_eq!(c.bucket, "kiemtra");
        assert_eq!(c.prefix, "site-a");
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:8333"));
        assert_eq!(c.region, "vn");
        assert!(S3Config::from_url("http://kiemtra").is_err());
        assert!(S3Config::from_url("s3://key:secret@kiemtra").is_err());
        assert!(S3Config::from_url("s3://kiemtra?bucket=x").is_err());
    }
}
