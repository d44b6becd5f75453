//! `RedisQueue`: a work queue on a Redis Stream with a consumer group.

use std::{fmt, sync::Arc, time::Duration};

use anysync::{
    resource::{Delivery, WorkQueue},
    rt::Timer,
    sync::futures::Notified,
};
use redis::Script;

use crate::{check_name, check_nonzero, millis, Error, Redis, RedisFuture, Wake};

const GROUP: &str = "anysync";

/// KEYS: stream, shutdown flag, wake channel. ARGV: max length, payload.
/// Returns 1 when added (and tells the waiting consumers), 0 when full, -1
/// when shut down.
const PUT: &str = r#"
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('XADD', KEYS[1], '*', 'v', ARGV[2])
redis.call('PUBLISH', KEYS[3], 'put')
return 1
"#;

/// KEYS: stream, dead letters, shutdown flag, wake channel. ARGV: group,
/// consumer, visibility ms, max deliveries. Claims an item left
/// unacknowledged past the visibility timeout (moving it to the dead
/// letters if delivered too often, which tells `put` and `join` waiters),
/// else reads a new one. Returns {id, payload, deliveries}; -1 when shut
/// down and drained; otherwise the ms until the first of (up to 64)
/// pending items can be claimed, or 0 when none is pending.
const GET: &str = r#"
for _ = 1, 16 do
  local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', 1)
  local entries = claimed[2]
  if #entries == 0 or not entries[1] then break end
  local e = entries[1]
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
  local deliveries = tonumber(p[1][4])
  if not e[2] then
    redis.call('XACK', KEYS[1], ARGV[1], e[1])
  elseif deliveries > tonumber(ARGV[4]) then
    redis.call('XADD', KEYS[2], '*', 'id', e[1], 'v', e[2][2], 'deliveries', deliveries)
    redis.call('XACK', KEYS[1], ARGV[1], e[1])
    redis.call('XDEL', KEYS[1], e[1])
    redis.call('PUBLISH', KEYS[4], 'done')
  else
    return {e[1], e[2][2], deliveries}
  end
end
local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[1], '>')
if r and r[1] and #r[1][2] > 0 then
  local e = r[1][2][1]
  return {e[1], e[2][2], 1}
end
if redis.call('EXISTS', KEYS[3]) == 1 and redis.call('XLEN', KEYS[1]) == 0 then return -1 end
-- A consumer that waits is listed by XINFO CONSUMERS, as one that got items.
redis.call('XGROUP', 'CREATECONSUMER', KEYS[1], ARGV[1], ARGV[2])
local wait = 0
for _, p in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 64)) do
  local left = math.max(tonumber(ARGV[3]) - tonumber(p[3]), 1)
  if wait == 0 or left < wait then wait = left end
end
return wait
"#;

/// KEYS: stream, wake channel. ARGV: group, consumer, id. Acknowledges and
/// deletes the item if it is pending for this consumer, and tells `put` and
/// `join` waiters. Returns 1 when done, 0 when not pending, -1 when pending
/// for another consumer.
const DONE: &str = r#"
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 then return 0 end
if p[1][2] ~= ARGV[2] then return -1 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
redis.call('PUBLISH', KEYS[2], 'done')
return 1
"#;

/// KEYS: shutdown flag, wake channel. Sets the flag and tells every waiter.
const SHUTDOWN: &str = r#"
redis.call('SET', KEYS[1], 1)
redis.call('PUBLISH', KEYS[2], 'shutdown')
return 1
"#;

/// Settings of a [`RedisQueue`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueOptions {
    /// The most unfinished items (waiting or being processed); `put` waits
    /// while there are this many (default 1000).
    pub max_len: u64,
    /// An item got but not marked done within this long is delivered to
    /// another consumer (default 30 s).
    pub visibility_timeout: Duration,
    /// An item delivered this many times without being marked done goes to
    /// the dead-letter stream instead of an (N+1)th delivery (default 5).
    pub max_deliveries: u32,
    /// How often a waiting `put`, `get` or `join` asks again if no message
    /// came (default 1 s): only a fallback for a lost message, since adding
    /// and finishing an item publish on the queue's channel, which wakes
    /// them at once. A waiting `get` also asks again when the first pending
    /// item's visibility timeout passes.
    pub poll_interval: Duration,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions {
            max_len: 1000,
            visibility_timeout: Duration::from_secs(30),
            max_deliveries: 5,
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// Names one delivery of an item of a [`RedisQueue`], for
/// [`task_done`](RedisQueue::task_done).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ticket {
    /// The stream entry id.
    pub id: String,
    /// How many times the item has been delivered, this one included.
    pub deliveries: u32,
}

struct Inner<R> {
    redis: Redis,
    rt: R,
    name: String,
    consumer: String,
    stream: String,
    dead: String,
    shutdown: String,
    channel: String,
    wake: Arc<Wake>,
    options: QueueOptions,
    put: Script,
    get: Script,
    done: Script,
    stop: Script,
}

/// A work queue shared by every client of a Redis server, asyncio's
/// `Queue` with `task_done`/`join` across processes, on a Redis Stream and
/// a consumer group.
///
/// * [`put`](Self::put) waits while [`max_len`](QueueOptions::max_len)
///   items are unfinished (backpressure).
/// * [`get`](Self::get) hands each item to one consumer. An item not marked
///   [done](Self::task_done) within the
///   [visibility timeout](QueueOptions::visibility_timeout) (its consumer
///   crashed, or is stuck) is delivered to another; one delivered
///   [`max_deliveries`](QueueOptions::max_deliveries) times goes to the
///   dead-letter stream ([`dead_letter_key`](Self::dead_letter_key))
///   instead.
/// * [`join`](Self::join) waits until no item is unfinished;
///   [`shutdown`](Self::shutdown) makes `put` fail and `get` fail once the
///   queue is drained.
///
/// Items are bytes. Every handle has its own consumer name.
pub struct RedisQueue<R: Timer> {
    inner: Arc<Inner<R>>,
}

impl<R: Timer> Clone for RedisQueue<R> {
    fn clone(&self) -> Self {
        RedisQueue {
            inner: self.inner.clone(),
        }
    }
}

impl<R: Timer> RedisQueue<R> {
    /// Opens (creating if needed) the queue `name`.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    ///
    /// # Errors
    /// [`Error::InvalidName`], [`Error::ZeroDuration`], [`Error::ZeroPermits`]
    /// (a `max_len` or `max_deliveries` of zero), or a connection or server
    /// error while creating the consumer group.
    pub fn open(
        redis: &Redis,
        rt: R,
        name: &str,
        options: QueueOptions,
    ) -> RedisFuture<'static, Result<Self, Error>> {
        let checked = (|| {
            check_name(name)?;
            check_nonzero("visibility_timeout", options.visibility_timeout)?;
            check_nonzero("poll_interval", options.poll_interval)?;
            if options.max_len == 0 || options.max_deliveries == 0 {
                return Err(Error::ZeroPermits);
            }
            Ok(())
        })();
        let key = |part: &str| format!("anysync:queue:{name}:{part}");
        let (redis, name) = (redis.clone(), name.to_owned());
        let (stream, dead, shutdown, channel) =
            (key("stream"), key("dead"), key("shutdown"), key("wake"));
        RedisFuture::new(async move {
            checked?;
            // Listening before the first ask: nothing published after it
            // is missed.
            let wake = redis.listen(&channel).await?;
            let inner = Inner {
                consumer: redis.unique(),
                redis,
                rt,
                name,
                stream,
                dead,
                shutdown,
                channel,
                wake,
                options,
                put: Script::new(PUT),
                get: Script::new(GET),
                done: Script::new(DONE),
                stop: Script::new(SHUTDOWN),
            };
            let mut con = inner.redis.con();
            let created: Result<(), redis::RedisError> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(&inner.stream)
                .arg(GROUP)
                .arg("0")
                .arg("MKSTREAM")
                .query_async(&mut con)
                .await;
            match created {
                Ok(()) => {}
                Err(e) if e.code() == Some("BUSYGROUP") => {}
                Err(e) => return Err(e.into()),
            }
            Ok(RedisQueue {
                inner: Arc::new(inner),
            })
        })
    }

    /// The Redis key of the dead-letter stream (entries with fields `id`,
    /// `v` and `deliveries`).
    pub fn dead_letter_key(&self) -> &str {
        &self.inner.dead
    }

    /// The number of local tasks waiting to be told of a change to this
    /// queue: a `put` waiting for room, a `get` for an item, a `join` for
    /// the last item to be done. It counts the tasks of every handle of
    /// this queue opened on the same [`Redis`] connection, not those of
    /// other clients.
    pub fn waiters(&self) -> usize {
        self.inner.wake.waiters()
    }

    /// This handle's consumer name in the group.
    pub fn consumer(&self) -> &str {
        &self.inner.consumer
    }

    /// Puts `item` in the queue, waiting while it is full.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (Dropped while it waits for room, nothing was added. Dropped while
    /// its one script call is in flight, the item was added exactly once or
    /// not at all, and the caller cannot tell which: use a spawned task's
    /// `put` when a duplicate put would matter.)
    ///
    /// # Errors
    /// [`Error::ShutDown`], [`Error::Connection`] or [`Error::Server`].
    pub fn put(&self, item: Vec<u8>) -> RedisFuture<'static, Result<(), Error>> {
        let inner = self.inner.clone();
        RedisFuture::new(async move {
            loop {
                let woken = inner.wake.notified();
                let mut con = inner.redis.con();
                let added: i64 = inner
                    .put
                    .key(&inner.stream)
                    .key(&inner.shutdown)
                    .key(&inner.channel)
                    .arg(inner.options.max_len)
                    .arg(&item[..])
                    .invoke_async(&mut con)
                    .await?;
                match added {
                    1 => return Ok(()),
                    // Full: until an item is finished (or the fallback).
                    0 => inner.wait(inner.options.poll_interval, woken).await,
                    _ => return Err(Error::ShutDown),
                }
            }
        })
    }

    /// Takes the next item (or one whose visibility timeout passed),
    /// waiting while there is none.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (Dropped while it waits, nothing was taken. An item delivered by a
    /// script call in flight when the future is dropped reaches nobody
    /// until its visibility timeout passes, and that delivery counts
    /// towards [`max_deliveries`](QueueOptions::max_deliveries).)
    ///
    /// # Errors
    /// [`Error::ShutDown`] once the queue is shut down and drained;
    /// [`Error::Connection`] or [`Error::Server`].
    pub fn get(&self) -> RedisFuture<'static, Result<Delivery<Vec<u8>, Ticket>, Error>> {
        let inner = self.inner.clone();
        RedisFuture::new(async move {
            loop {
                let woken = inner.wake.notified();
                let mut con = inner.redis.con();
                let reply: redis::Value = inner
                    .get
                    .key(&inner.stream)
                    .key(&inner.dead)
                    .key(&inner.shutdown)
                    .key(&inner.channel)
                    .arg(GROUP)
                    .arg(&inner.consumer)
                    .arg(millis(inner.options.visibility_timeout))
                    .arg(inner.options.max_deliveries)
                    .invoke_async(&mut con)
                    .await?;
                match reply {
                    redis::Value::Int(-1) => return Err(Error::ShutDown),
                    // Nothing: until an item is added, a pending item can be
                    // claimed, or the fallback.
                    redis::Value::Int(claimable) => {
                        let fallback = inner.options.poll_interval;
                        let wait = match u64::try_from(claimable) {
                            Ok(ms) if ms > 0 => fallback.min(Duration::from_millis(ms)),
                            _ => fallback,
                        };
                        inner.wait(wait, woken).await;
                    }
                    value => {
                        let (id, item, deliveries): (String, Vec<u8>, u32) =
                            redis::from_redis_value(value)
                                .map_err(|e| Error::Protocol(e.to_string()))?;
                        return Ok(Delivery {
                            item,
                            ticket: Ticket { id, deliveries },
                        });
                    }
                }
            }
        })
    }

    /// Marks the delivery `ticket` as processed: acknowledges and deletes
    /// the item.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (Dropped while its script call is in flight, the item may have been
    /// marked done already; calling again then answers
    /// [`Error::NotPending`].)
    ///
    /// # Errors
    /// [`Error::NotPending`] if the item was already done or was redelivered
    /// to another consumer (its visibility timeout passed);
    /// [`Error::Connection`] or [`Error::Server`].
    pub fn task_done(&self, ticket: Ticket) -> RedisFuture<'static, Result<(), Error>> {
        let inner = self.inner.clone();
        RedisFuture::new(async move {
            let mut con = inner.redis.con();
            let done: i64 = inner
                .done
                .key(&inner.stream)
                .key(&inner.channel)
                .arg(GROUP)
                .arg(&inner.consumer)
                .arg(&ticket.id)
                .invoke_async(&mut con)
                .await?;
            if done == 1 {
                Ok(())
            } else {
                Err(Error::NotPending)
            }
        })
    }

    /// Waits until no item is unfinished (none waiting, none being
    /// processed).
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    ///
    /// # Errors
    /// [`Error::Connection`] or [`Error::Server`].
    pub fn join(&self) -> RedisFuture<'static, Result<(), Error>> {
        let inner = self.inner.clone();
        RedisFuture::new(async move {
            loop {
                let woken = inner.wake.notified();
                if len(&inner).await? == 0 {
                    return Ok(());
                }
                inner.wait(inner.options.poll_interval, woken).await;
            }
        })
    }

    /// The number of unfinished items (waiting or being processed).
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    ///
    /// # Errors
    /// [`Error::Connection`] or [`Error::Server`].
    pub fn len(&self) -> RedisFuture<'static, Result<u64, Error>> {
        let inner = self.inner.clone();
        RedisFuture::new(async move { len(&inner).await })
    }

    /// Shuts the queue down for every client: `put` fails from now on, and
    /// `get` fails once every item is done.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    ///
    /// # Errors
    /// [`Error::Connection`] or [`Error::Server`].
    pub fn shutdown(&self) -> RedisFuture<'static, Result<(), Error>> {
        let inner = self.inner.clone();
        RedisFuture::new(async move {
            let mut con = inner.redis.con();
            let _: i64 = inner
                .stop
                .key(&inner.shutdown)
                .key(&inner.channel)
                .invoke_async(&mut con)
                .await?;
            Ok(())
        })
    }
}

impl<R: Timer> Inner<R> {
    /// Waits for `woken` (a message on the queue's channel, or a
    /// disconnection), at most `fallback`.
    async fn wait(&self, fallback: Duration, woken: Notified<'_>) {
        let _ = anysync::time::timeout(&self.rt, fallback, woken).await;
    }
}

async fn len<R>(inner: &Inner<R>) -> Result<u64, Error> {
    let mut con = inner.redis.con();
    Ok(redis::cmd("XLEN")
        .arg(&inner.stream)
        .query_async(&mut con)
        .await?)
}

impl<R: Timer> fmt::Debug for RedisQueue<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisQueue")
            .field("name", &self.inner.name)
            .field("consumer", &self.inner.consumer)
            .field("options", &self.inner.options)
            .finish()
    }
}

impl<R: Timer> WorkQueue for RedisQueue<R> {
    type Item = Vec<u8>;
    type Ticket = Ticket;
    type PutError = Error;
    type GetError = Error;
    type TaskDoneError = Error;
    type JoinError = Error;
    type Put<'a> = RedisFuture<'static, Result<(), Error>>;
    type Get<'a> = RedisFuture<'static, Result<Delivery<Vec<u8>, Ticket>, Error>>;
    type TaskDone<'a> = RedisFuture<'static, Result<(), Error>>;
    type Join<'a> = RedisFuture<'static, Result<(), Error>>;

    /// [`RedisQueue::put`].
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    fn put(&self, item: Vec<u8>) -> Self::Put<'_> {
        RedisQueue::put(self, item)
    }

    /// [`RedisQueue::get`].
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    fn get(&self) -> Self::Get<'_> {
        RedisQueue::get(self)
    }

    /// [`RedisQueue::task_done`].
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    fn task_done(&self, ticket: Ticket) -> Self::TaskDone<'_> {
        RedisQueue::task_done(self, ticket)
    }

    /// [`RedisQueue::join`].
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    fn join(&self) -> Self::Join<'_> {
        RedisQueue::join(self)
    }
}
