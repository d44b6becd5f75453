//! anysync's coordination primitives across processes and machines, over
//! Redis: [`RedisSemaphore`], [`RedisMutex`], [`RedisRateLimiter`] and
//! [`RedisQueue`].
//!
//! They implement the same small traits as the local primitives
//! ([`anysync::resource::Permits`], [`RateSlots`](anysync::resource::RateSlots),
//! [`KeyedRateSlots`](anysync::resource::KeyedRateSlots),
//! [`WorkQueue`](anysync::resource::WorkQueue)), so code written against
//! those runs on a local `Semaphore` in one process or on a Redis one
//! shared by a fleet.
//!
//! | type                 | what                                                              |
//! |----------------------|-------------------------------------------------------------------|
//! | [`RedisSemaphore`]   | weighted permits, FIFO across all clients, leases with a TTL renewed by the guard, fencing tokens |
//! | [`RedisMutex`]       | the same with one permit                                          |
//! | [`RedisRateLimiter`] | GCRA in one Lua script (the same [`Quota`](anysync::time::Quota) as the local limiter), keyed; FIFO among one client's waiters, server arrival order across clients |
//! | [`RedisQueue`]       | a work queue on a Redis Stream with a consumer group: backpressure, acknowledgements, redelivery after a visibility timeout, a dead-letter stream |
//!
//! # How it works
//!
//! Every decision is made by a Lua script inside Redis, so it is atomic
//! across clients, and every time is the server's (`TIME`), so client clocks
//! do not matter.
//!
//! Waiters are told, not polling. Each [`Redis`] client subscribes (RESP3
//! pub/sub on its one connection) to a channel of its own; the script that
//! grants a waiter its permits publishes the grant on that waiter's
//! channel, so the waiter learns at once, with no extra round trip. A
//! queue publishes on a channel of its own when an item is added or
//! finished. A published message can be lost (the connection drops, the
//! server restarts), so every waiter also asks again after a slow fallback
//! interval (`poll_interval`, 1 s by default), and at once when its
//! connection reports a disconnection; a lost message costs at most that
//! delay, never a hang and never a grant. (Why pub/sub: a blocking `BLPOP`
//! on a list per waiter would take a connection per waiting task, since a
//! blocking command stalls a shared connection, and leave lists behind
//! cancelled or crashed waiters; keyspace notifications need a server
//! setting that managed services often forbid, and fire on every write
//! rather than for the waiter granted. A message per grant, to the one
//! client that waits, on the connection it already has, costs nothing
//! extra; the grant itself is recorded in Redis, so asking again always
//! finds it.)
//!
//! * A permit is a *lease*: it expires `lease_ttl` after it was granted or
//!   last renewed. The guard renews it in a background task on the
//!   runtime, so a process that crashes (or is `kill -9`ed) loses its
//!   permits after at most one TTL, and nobody else has to do anything.
//! * Every grant carries a *fencing token*, a number that grows with every
//!   grant. A protected resource that remembers the highest token it has
//!   seen can refuse a holder whose lease lapsed without it noticing (a
//!   long GC pause, a network partition).
//! * A lost connection is an [`Error::Connection`] the caller sees; nothing
//!   is ever granted on an error. The client reconnects by itself, and
//!   subscribes again.
//!
//! # Runtimes
//!
//! The `redis` crate's async client runs on tokio when it is called inside
//! a tokio runtime and on smol's reactor otherwise, which serves smol,
//! async-std and any other executor. Timers and background tasks come from
//! an [`anysync::rt`] runtime passed in (`anysync_tokio::Tokio`,
//! `anysync_smol::Smol`, `anysync_async_std::AsyncStd`).
//!
//! # Examples
//! ```no_run
//! use anysync_redis::{Redis, RedisSemaphore};
//! use anysync_tokio::Tokio;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), anysync_redis::Error> {
//!     let redis = Redis::connect("redis://127.0.0.1:6379").await?;
//!     let jobs = RedisSemaphore::new(&redis, Tokio::current(), "db-jobs", 3)?;
//!     let permit = jobs.acquire().await?;
//!     println!("holding permit with fencing token {}", permit.fencing_token());
//!     permit.release().await?;
//!     Ok(())
//! }
//! ```
#![forbid(unsafe_code)]

use std::{
    collections::HashMap,
    convert::Infallible,
    fmt,
    future::Future,
    hash::{BuildHasher, RandomState},
    pin::Pin,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex as StdMutex, MutexGuard, PoisonError,
    },
    task::{Context, Poll},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anysync::{
    sync::{futures::Notified, Notify},
    time::InsufficientCapacity,
};
use redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    IntoConnectionInfo, ProtocolVersion, PushInfo, PushKind,
};

mod queue;
mod rate;
mod semaphore;
pub mod server;

pub use queue::{QueueOptions, RedisQueue, Ticket};
pub use rate::RedisRateLimiter;
pub use semaphore::{RedisMutex, RedisPermit, RedisSemaphore, SemaphoreOptions};

/// The named futures returned by this crate's methods: all one type,
/// [`RedisFuture`], with the output in the name.
pub mod futures {
    pub use super::RedisFuture;
}

/// Separates the parts of the Redis keys this crate uses; names and keys
/// given by the caller must not contain it.
pub const SEPARATOR: char = ':';

/// Errors from the Redis-backed primitives.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The connection to Redis failed or was lost (I/O error, refused,
    /// timed out). Nothing was granted; the next call reconnects.
    Connection(redis::RedisError),
    /// Redis answered with an error (a script error, a wrong type at a key,
    /// out of memory, ...).
    Server(redis::RedisError),
    /// A name or key was empty or contained [`SEPARATOR`].
    InvalidName {
        /// The name as given.
        name: String,
    },
    /// A semaphore with zero permits, or a request for zero permits.
    ZeroPermits,
    /// A lease TTL, poll interval or visibility timeout of zero.
    ZeroDuration {
        /// Which setting was zero.
        what: &'static str,
    },
    /// More permits requested than the semaphore has: never possible.
    TooManyPermits {
        /// Permits requested.
        requested: u32,
        /// The semaphore's capacity.
        capacity: u32,
    },
    /// Another client created this semaphore with a different capacity.
    CapacityMismatch {
        /// The capacity stored in Redis.
        stored: u64,
        /// The capacity this client was built with.
        given: u32,
    },
    /// More rate cells requested than the quota's burst: never possible.
    InsufficientCapacity(InsufficientCapacity),
    /// The queue was shut down (for `put`), or shut down and drained (for
    /// `get`).
    ShutDown,
    /// `task_done` for an item that is not pending for this consumer: it was
    /// already done, or its visibility timeout passed and it was delivered
    /// to another consumer.
    NotPending,
    /// Redis answered something this crate did not expect.
    Protocol(String),
}

impl Error {
    /// `true` for [`Error::Connection`]: the operation may be retried.
    pub fn is_connection(&self) -> bool {
        matches!(self, Error::Connection(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Connection(e) => write!(f, "lost connection to redis: {e}"),
            Error::Server(e) => write!(f, "redis answered an error: {e}"),
            Error::InvalidName { name } => write!(
                f,
                "invalid name {name:?}: must be non-empty and must not contain {SEPARATOR:?}"
            ),
            Error::ZeroPermits => {
                f.write_str("zero permits: a semaphore and a request need at least one")
            }
            Error::ZeroDuration { what } => write!(f, "{what} must be greater than zero"),
            Error::TooManyPermits {
                requested,
                capacity,
            } => write!(
                f,
                "requested {requested} permits of a semaphore of {capacity}"
            ),
            Error::CapacityMismatch { stored, given } => write!(
                f,
                "semaphore exists in redis with capacity {stored}, this client says {given}"
            ),
            Error::InsufficientCapacity(e) => fmt::Display::fmt(e, f),
            Error::ShutDown => f.write_str("queue shut down"),
            Error::NotPending => f.write_str("item is not pending for this consumer"),
            Error::Protocol(what) => write!(f, "unexpected reply from redis: {what}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connection(e) | Error::Server(e) => Some(e),
            Error::InsufficientCapacity(e) => Some(e),
            _ => None,
        }
    }
}

impl From<redis::RedisError> for Error {
    fn from(e: redis::RedisError) -> Self {
        if e.is_io_error()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || e.is_timeout()
            || e.is_unrecoverable_error()
        {
            Error::Connection(e)
        } else {
            Error::Server(e)
        }
    }
}

/// The future returned by every async method of this crate: a boxed future
/// with a name, so it can be stored in a struct.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct RedisFuture<'a, T> {
    inner: Pin<Box<dyn Future<Output = T> + Send + 'a>>,
}

impl<'a, T> RedisFuture<'a, T> {
    pub(crate) fn new(future: impl Future<Output = T> + Send + 'a) -> Self {
        RedisFuture {
            inner: Box::pin(future),
        }
    }
}

impl<T> Future for RedisFuture<'_, T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.inner.as_mut().poll(cx)
    }
}

impl<T> fmt::Debug for RedisFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RedisFuture")
    }
}

/// A connection to one Redis server, shared by every primitive built on it.
/// Cheap to clone; reconnects by itself after the connection is lost.
///
/// The connection speaks RESP3 (Redis 6 or later; the queue needs 6.2) and
/// is subscribed to this client's wake-up channel, on which the server
/// tells its waiters they were granted.
#[derive(Clone)]
pub struct Redis {
    con: ConnectionManager,
    id: Arc<str>,
    counter: Arc<AtomicU64>,
    wakeups: Arc<Wakeups>,
}

impl Redis {
    /// Connects to the server at `url` (`redis://host:port/db`) and
    /// subscribes to this client's wake-up channel.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    ///
    /// # Errors
    /// [`Error::Connection`] if the server cannot be reached;
    /// [`Error::Server`] if it refuses RESP3 or the subscription.
    pub fn connect(url: &str) -> RedisFuture<'static, Result<Redis, Error>> {
        let client = url.into_connection_info().and_then(|info| {
            let settings = info
                .redis_settings()
                .clone()
                .set_protocol(ProtocolVersion::RESP3);
            redis::Client::open(info.set_redis_settings(settings))
        });
        RedisFuture::new(async move {
            let client = client?;
            // Tickets start with this id, so two clients must never share
            // it: the process, the time, and 64 random bits (std seeds
            // every `RandomState` afresh).
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let random = RandomState::new().hash_one(nanos);
            let id: Arc<str> = format!("{}-{nanos:x}-{random:x}", std::process::id()).into();
            let wakeups = Arc::new(Wakeups::new(format!("anysync:wake:{id}")));
            let dispatch = {
                let wakeups = wakeups.clone();
                move |info: PushInfo| {
                    wakeups.dispatch(info);
                    Ok::<(), Infallible>(())
                }
            };
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(2)))
                .set_response_timeout(Some(Duration::from_secs(5)))
                .set_number_of_retries(2)
                .set_push_sender(dispatch)
                .set_automatic_resubscription();
            let mut con = ConnectionManager::new_with_config(client, config).await?;
            con.subscribe(wakeups.channel.as_str()).await?;
            Ok(Redis {
                con,
                id,
                counter: Arc::new(AtomicU64::new(0)),
                wakeups,
            })
        })
    }

    /// This client's identity in Redis (process id, start time and random
    /// bits): the prefix of its tickets and its queue consumer names.
    pub fn client_id(&self) -> &str {
        &self.id
    }

    pub(crate) fn con(&self) -> ConnectionManager {
        self.con.clone()
    }

    /// A name unique to this client and call.
    pub(crate) fn unique(&self) -> String {
        format!(
            "{}-{}",
            self.id,
            self.counter.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// The channel on which the server tells this client's waiters that
    /// they were granted (message: `ticket|fence`).
    pub(crate) fn wake_channel(&self) -> &str {
        &self.wakeups.channel
    }

    /// Where the grant of `ticket` will be delivered, until the returned
    /// registration is dropped.
    pub(crate) fn register(&self, ticket: &str) -> Registration {
        let wake = Arc::new(Wake::default());
        self.wakeups.slots().insert(ticket.to_owned(), wake.clone());
        Registration {
            wakeups: self.wakeups.clone(),
            key: ticket.to_owned(),
            wake,
        }
    }

    /// Subscribes to `channel` (kept across reconnections) and returns the
    /// wake-up its messages trigger, shared by every user of the channel on
    /// this client.
    pub(crate) async fn listen(&self, channel: &str) -> Result<Arc<Wake>, Error> {
        let wake = self
            .wakeups
            .slots()
            .entry(channel.to_owned())
            .or_default()
            .clone();
        self.con().subscribe(channel).await?;
        Ok(wake)
    }
}

/// The wake-ups of one client's waiters, by semaphore ticket or by queue
/// channel, fed by the pub/sub messages that arrive on its connection.
struct Wakeups {
    channel: String,
    slots: StdMutex<HashMap<String, Arc<Wake>>>,
}

impl Wakeups {
    fn new(channel: String) -> Self {
        Wakeups {
            channel,
            slots: StdMutex::new(HashMap::new()),
        }
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<String, Arc<Wake>>> {
        // Nothing under this lock can panic half-way.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs on the connection's reader for every push it receives.
    fn dispatch(&self, info: PushInfo) {
        if info.kind == PushKind::Disconnection {
            // Messages may have been lost: every waiter asks again (and
            // sees the lost connection, or finds its grant).
            let all: Vec<Arc<Wake>> = self.slots().values().cloned().collect();
            for wake in all {
                wake.notify.notify_all();
            }
            return;
        }
        let Some(msg) = redis::Msg::from_push_info(info) else {
            return;
        };
        let (Ok(channel), Ok(payload)) = (msg.get_channel::<String>(), msg.get_payload::<String>())
        else {
            return;
        };
        let key = if channel == self.channel {
            payload.split('|').next().unwrap_or_default()
        } else {
            channel.as_str()
        };
        // Clone it out: the wake-up runs with no lock held.
        let wake = self.slots().get(key).cloned();
        if let Some(wake) = wake {
            if channel == self.channel {
                *wake.payload() = Some(payload);
            }
            wake.notify.notify_all();
        }
    }
}

/// One wake-up slot: the waiter takes `notified()` before it asks Redis,
/// so a message that arrives while it asks is not missed.
#[derive(Default)]
pub(crate) struct Wake {
    notify: Notify,
    payload: StdMutex<Option<String>>,
}

impl Wake {
    /// A future that completes at the next message (or disconnection) after
    /// this call.
    pub(crate) fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }

    /// The number of tasks waiting for the next message.
    pub(crate) fn waiters(&self) -> usize {
        self.notify.waiters()
    }

    fn payload(&self) -> MutexGuard<'_, Option<String>> {
        self.payload.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fencing token of a grant delivered by message, if one came.
    pub(crate) fn take_fence(&self) -> Option<u64> {
        let payload = self.payload().take()?;
        payload.rsplit('|').next()?.parse().ok()
    }
}

/// A semaphore waiter's slot in [`Wakeups`], removed on drop.
pub(crate) struct Registration {
    wakeups: Arc<Wakeups>,
    key: String,
    wake: Arc<Wake>,
}

impl Registration {
    pub(crate) fn wake(&self) -> &Wake {
        &self.wake
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let removed = self.wakeups.slots().remove(&self.key);
        drop(removed);
    }
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("client_id", &self.id)
            .finish()
    }
}

/// Checks a caller-given name or key.
pub(crate) fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.contains(SEPARATOR) {
        Err(Error::InvalidName {
            name: name.to_owned(),
        })
    } else {
        Ok(())
    }
}

pub(crate) fn check_nonzero(what: &'static str, d: Duration) -> Result<(), Error> {
    if d.is_zero() {
        Err(Error::ZeroDuration { what })
    } else {
        Ok(())
    }
}

/// Whole milliseconds, at least 1.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}
