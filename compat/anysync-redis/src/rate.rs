//! `RedisRateLimiter`: GCRA in one Lua script, on the server's clock.

use std::{fmt, sync::Arc, time::Duration};

use anysync::{
    resource::{KeyedRateSlots, RateSlots},
    rt::Timer,
    sync::Mutex,
    time::{InsufficientCapacity, Quota},
};
use redis::Script;

use crate::{check_name, Error, Redis, RedisFuture};

/// KEYS[1]: the state (the theoretical arrival time, in microseconds of the
/// server's clock). ARGV: interval µs, tolerance µs, cells. Returns
/// {1, 0} when granted, {0, µs to wait} otherwise. The key expires when it
/// would be full again, so idle keys cost no memory. A server clock that
/// goes backwards leaves a later `tat` in place: it delays, never adds.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new = tat + interval * n
if new <= now + tolerance then
  redis.call('SET', KEYS[1], string.format('%.0f', new), 'PX', math.floor((new - now) / 1000) + 1)
  return {1, 0}
end
return {0, new - tolerance - now}
"#;

struct Inner<R> {
    redis: Redis,
    rt: R,
    name: String,
    quota: Quota,
    interval_us: u64,
    tolerance_us: u64,
    script: Script,
    /// Waiters of this client take turns, first come first served.
    turn: Mutex<()>,
}

/// A rate limiter shared by every client of a Redis server: GCRA with a
/// [`Quota`], decided by one Lua script on the server's clock, so the total
/// granted across all clients is exact (at most the burst plus the rate
/// times the elapsed time).
///
/// Waiting is client-side, and it does not poll: a refused caller sleeps
/// for exactly the time the script says the cells will be free and asks
/// again. What is guaranteed about order:
///
/// * **FIFO among the waiters of one client** (one `RedisRateLimiter` and
///   its clones): they take turns in arrival order, so a later
///   caller never overtakes an earlier one of the same client, and a
///   request for many cells is not starved by requests for few.
/// * **Across clients, no queue**: each request is decided by the script,
///   atomically, in the order its call reaches the server. The head waiter
///   of each client asks again at the instant its cells are due, so clients
///   compete at equal footing, but a client that has waited longer has no
///   priority over one that asks at the same instant, and a request for
///   many cells can be overtaken by other clients' requests for few.
///
/// A Redis-side queue would give FIFO across clients, at the price of
/// every waiter keeping a place alive there and of a crashed or stalled
/// client holding up every other until its place lapses; the total granted
/// is exact either way.
///
/// The keyed form ([`acquire_key`](Self::acquire_key)) keeps one state per
/// key in Redis, which expires when the key is idle; its waiters are not
/// queued client-side, so one busy key never holds up another (and they
/// have no order guarantee).
///
/// Times are in whole microseconds (the quota's interval rounded up).
pub struct RedisRateLimiter<R: Timer> {
    inner: Arc<Inner<R>>,
}

impl<R: Timer> Clone for RedisRateLimiter<R> {
    fn clone(&self) -> Self {
        RedisRateLimiter {
            inner: self.inner.clone(),
        }
    }
}

impl<R: Timer> RedisRateLimiter<R> {
    /// The limiter `name`, granting at `quota`. All clients of one name
    /// should use the same quota.
    ///
    /// # Errors
    /// [`Error::InvalidName`].
    pub fn new(redis: &Redis, rt: R, name: &str, quota: Quota) -> Result<Self, Error> {
        check_name(name)?;
        let interval_us = quota.replenish_interval().as_nanos().div_ceil(1000).max(1);
        let interval_us = u64::try_from(interval_us).unwrap_or(u64::MAX);
        Ok(RedisRateLimiter {
            inner: Arc::new(Inner {
                redis: redis.clone(),
                rt,
                name: name.to_owned(),
                quota,
                interval_us,
                tolerance_us: interval_us.saturating_mul(u64::from(quota.burst().get())),
                script: Script::new(GCRA),
                turn: Mutex::new(()),
            }),
        })
    }

    /// The quota.
    pub fn quota(&self) -> Quota {
        self.inner.quota
    }

    /// Waits for one cell.
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter. (No cell is taken while it waits; dropped while a script
    /// call is in flight, the cells that call took go unused: the limiter
    /// may then grant less, never more.)
    ///
    /// # Errors
    /// [`Error::Connection`] or [`Error::Server`]; nothing is taken.
    pub fn acquire(&self) -> RedisFuture<'static, Result<(), Error>> {
        self.acquire_n(1)
    }

    /// Waits for `n` cells at once, after this client's earlier waiters
    /// (across clients, the server decides each call in arrival order).
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter. (No cell is taken while it waits; dropped while a script
    /// call is in flight, the cells that call took go unused: the limiter
    /// may then grant less, never more.)
    ///
    /// # Errors
    /// [`Error::InsufficientCapacity`] at once if `n` exceeds the burst;
    /// [`Error::Connection`] or [`Error::Server`].
    pub fn acquire_n(&self, n: u32) -> RedisFuture<'static, Result<(), Error>> {
        let inner = self.inner.clone();
        RedisFuture::new(async move {
            check_burst(&inner.quota, n)?;
            if n == 0 {
                return Ok(());
            }
            let _turn = inner.turn.lock().await;
            let key = format!("anysync:rate:{}", inner.name);
            wait_for_cells(&inner, &key, n).await
        })
    }

    /// Waits for `n` cells of `key`'s own budget.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    /// (Keyed waiters keep no place. No cell is taken while it waits;
    /// dropped while a script call is in flight, the cells that call took
    /// go unused.)
    ///
    /// # Errors
    /// [`Error::InvalidName`] if `key` is empty or contains the separator;
    /// otherwise as for [`acquire_n`](Self::acquire_n).
    pub fn acquire_key(&self, key: &str, n: u32) -> RedisFuture<'static, Result<(), Error>> {
        let inner = self.inner.clone();
        let checked = check_name(key).map(|()| format!("anysync:rate:{}:{key}", inner.name));
        RedisFuture::new(async move {
            let key = checked?;
            check_burst(&inner.quota, n)?;
            if n == 0 {
                return Ok(());
            }
            wait_for_cells(&inner, &key, n).await
        })
    }

    /// Takes `n` cells if the script grants them now, without waiting.
    /// `Ok(None)` if granted; `Ok(Some(wait))` if refused, with the time
    /// until they would be.
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    ///
    /// # Errors
    /// As for [`acquire_n`](Self::acquire_n).
    pub fn try_acquire_n(&self, n: u32) -> RedisFuture<'static, Result<Option<Duration>, Error>> {
        let inner = self.inner.clone();
        RedisFuture::new(async move {
            check_burst(&inner.quota, n)?;
            if n == 0 {
                return Ok(None);
            }
            let key = format!("anysync:rate:{}", inner.name);
            check(&inner, &key, n).await
        })
    }
}

fn check_burst(quota: &Quota, n: u32) -> Result<(), Error> {
    let burst = quota.burst().get();
    if n > burst {
        return Err(Error::InsufficientCapacity(InsufficientCapacity {
            requested: n,
            burst,
        }));
    }
    Ok(())
}

async fn check<R>(inner: &Inner<R>, key: &str, n: u32) -> Result<Option<Duration>, Error> {
    let mut con = inner.redis.con();
    let (granted, wait_us): (i64, u64) = inner
        .script
        .key(key)
        .arg(inner.interval_us)
        .arg(inner.tolerance_us)
        .arg(n)
        .invoke_async(&mut con)
        .await?;
    Ok((granted != 1).then(|| Duration::from_micros(wait_us.max(1))))
}

async fn wait_for_cells<R: Timer>(inner: &Inner<R>, key: &str, n: u32) -> Result<(), Error> {
    while let Some(wait) = check(inner, key, n).await? {
        inner.rt.sleep(wait).await;
    }
    Ok(())
}

impl<R: Timer> fmt::Debug for RedisRateLimiter<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("name", &self.inner.name)
            .field("quota", &self.inner.quota)
            .finish()
    }
}

impl<R: Timer> RateSlots for RedisRateLimiter<R> {
    type Error = Error;
    type AcquireSlots<'a> = RedisFuture<'static, Result<(), Error>>;

    /// [`RedisRateLimiter::acquire_n`].
    ///
    /// # Cancel safety
    /// This method is cancel safe. Dropping the future gives up its place in
    /// the queue; a wake-up it had already received is passed to the next
    /// waiter.
    fn acquire_slots(&self, n: u32) -> Self::AcquireSlots<'_> {
        self.acquire_n(n)
    }

    fn quota(&self) -> Quota {
        self.inner.quota
    }
}

impl<R: Timer> KeyedRateSlots<String> for RedisRateLimiter<R> {
    type Error = Error;
    type AcquireSlotsFor<'a> = RedisFuture<'static, Result<(), Error>>;

    /// [`RedisRateLimiter::acquire_key`].
    ///
    /// # Cancel safety
    /// This method is cancel safe: dropping the future before it completes has no effect.
    fn acquire_slots_for(&self, key: &String, n: u32) -> Self::AcquireSlotsFor<'_> {
        self.acquire_key(key, n)
    }
}
