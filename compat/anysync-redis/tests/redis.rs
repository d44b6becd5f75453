//! anysync-redis against a real `redis-server` started on a loopback port.
//!
//! Without `redis-server` on `PATH` the tests pass after printing one loud
//! `SKIPPED` line, unless `ANYSYNC_REQUIRE_REDIS=1`, which turns the skip
//! into a failure (CI sets it). Multi-process tests re-run this test binary
//! as workers (the `worker` test, which does nothing unless
//! `ANYSYNC_REDIS_WORKER` is set).
#![forbid(unsafe_code)]

use std::{
    collections::{BTreeSet, HashMap},
    future::Future,
    io::{BufRead, BufReader, Write},
    num::NonZeroU32,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex as StdMutex, Once,
    },
    time::{Duration, Instant as StdInstant},
};

use anysync::{
    resource::{Delivery, Permits, WorkQueue},
    rt::{Spawn, Timer},
    time::Quota,
};
use anysync_redis::{
    server::{LocalServer, StartError},
    Error, QueueOptions, Redis, RedisMutex, RedisQueue, RedisRateLimiter, RedisSemaphore,
    SemaphoreOptions,
};
use anysync_tokio::Tokio;

const WORKER_VAR: &str = "ANYSYNC_REDIS_WORKER";

fn server_with(persistent: bool) -> Option<LocalServer> {
    let started = if persistent {
        LocalServer::start_persistent()
    } else {
        LocalServer::start()
    };
    match started {
        Ok(server) => Some(server),
        Err(StartError::NotInstalled)
            if std::env::var("ANYSYNC_REQUIRE_REDIS").as_deref() != Ok("1") =>
        {
            static ONCE: Once = Once::new();
            ONCE.call_once(|| {
                // Straight to the stderr stream: the test harness captures
                // `eprintln!` of passing tests, and this line must be seen.
                let _ = std::io::stderr().write_all(
                    b"\nSKIPPED: anysync-redis tests: redis-server is not installed \
                      (set ANYSYNC_REQUIRE_REDIS=1 to make this a failure)\n\n",
                );
            });
            None
        }
        Err(e) => panic!("could not start redis-server: {e}"),
    }
}

fn server() -> Option<LocalServer> {
    server_with(false)
}

fn on_tokio<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A fallback poll interval so long that a waiter served in a test was
/// told (by a published message, a lease or visibility timeout it waited
/// for, or a disconnection), not found its grant by polling.
const TOLD: Duration = Duration::from_secs(3600);

/// The value of the integer (or missing) Redis key `key`, read on `con`.
async fn int(con: &mut redis::aio::MultiplexedConnection, key: &str) -> u64 {
    let value: Option<u64> = redis::cmd("GET").arg(key).query_async(con).await.unwrap();
    value.unwrap_or(0)
}

/// The result of `cmd key` on `con`.
async fn count(con: &mut redis::aio::MultiplexedConnection, cmd: &str, key: &str) -> usize {
    redis::cmd(cmd).arg(key).query_async(con).await.unwrap()
}

/// Waits (asking Redis every 2 ms) until `n` requests have ever queued on
/// the semaphore with the keys `prefix` (its arrivals counter).
async fn arrivals<R: Timer>(
    rt: &R,
    con: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
    n: u64,
) {
    while int(con, &format!("{prefix}:arrivals")).await < n {
        rt.sleep(ms(2)).await;
    }
}

fn fast() -> SemaphoreOptions {
    SemaphoreOptions {
        lease_ttl: Duration::from_secs(2),
        poll_interval: TOLD,
    }
}

/// Tasks of two clients queued on one semaphore get it in arrival order,
/// never more than its capacity at once, each with a larger fencing token.
#[test]
fn semaphore_serves_clients_in_arrival_order_within_capacity() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let a = Redis::connect(&server.url()).await.unwrap();
        let b = Redis::connect(&server.url()).await.unwrap();
        let sem_a = RedisSemaphore::with_options(&a, Tokio::current(), "fifo", 2, fast()).unwrap();
        let sem_b = RedisSemaphore::with_options(&b, Tokio::current(), "fifo", 2, fast()).unwrap();
        let mut con = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let first = sem_a.acquire().await.unwrap();
        let second = sem_b.acquire().await.unwrap();
        assert!(second.fencing_token() > first.fencing_token());
        let order = Arc::new(StdMutex::new(Vec::new()));
        let inside = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..6usize {
            let sem = if i % 2 == 0 {
                sem_a.clone()
            } else {
                sem_b.clone()
            };
            let (order, inside) = (order.clone(), inside.clone());
            tasks.push(tokio::spawn(async move {
                let permit = sem.acquire().await.unwrap();
                assert!(
                    inside.fetch_add(1, Ordering::SeqCst) < 2,
                    "more than 2 inside"
                );
                order.lock().unwrap().push((i, permit.fencing_token()));
                tokio::time::sleep(ms(20)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
                assert!(permit.release().await.unwrap());
            }));
            // Let task i join the Redis queue before task i + 1 starts.
            loop {
                let queued: usize = redis::cmd("ZCARD")
                    .arg("anysync:sem:fifo:queue")
                    .query_async(&mut con)
                    .await
                    .unwrap();
                if queued > i {
                    break;
                }
                tokio::time::sleep(ms(2)).await;
            }
        }
        drop(first);
        drop(second);
        for t in tasks {
            t.await.unwrap();
        }
        // Grant order is fence order (tasks may notice their grants in a
        // different order): it must be arrival order.
        let mut order = order.lock().unwrap().clone();
        order.sort_by_key(|&(_, fence)| fence);
        assert_eq!(
            order.iter().map(|&(i, _)| i).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5]
        );
    });
}

/// A request for 3 of 3 permits at the head is not overtaken by later
/// requests for 1.
#[test]
fn semaphore_weighted_head_is_not_overtaken() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let redis = Redis::connect(&server.url()).await.unwrap();
        let sem =
            RedisSemaphore::with_options(&redis, Tokio::current(), "weighted", 3, fast()).unwrap();
        let mut con = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let rt = Tokio::current();
        let prefix = "anysync:sem:weighted";
        let held = sem.acquire().await.unwrap();
        let big = tokio::spawn({
            let sem = sem.clone();
            async move { sem.acquire_many(3).await.unwrap() }
        });
        arrivals(&rt, &mut con, prefix, 2).await;
        // One permit is free... but the head wants 3, so a later 1 waits:
        // once its own script call (which grants what it can) has queued
        // it, one holder still holds and both wait.
        let small = tokio::spawn({
            let sem = sem.clone();
            async move { sem.acquire().await.unwrap() }
        });
        arrivals(&rt, &mut con, prefix, 3).await;
        assert_eq!(
            count(&mut con, "HLEN", &format!("{prefix}:held")).await,
            1,
            "a later small request overtook the head"
        );
        assert_eq!(
            count(&mut con, "ZCARD", &format!("{prefix}:queue")).await,
            2
        );
        held.release().await.unwrap();
        let big = big.await.unwrap();
        assert_eq!(big.permits(), 3);
        // The release granted the head only: the small request still waits.
        assert_eq!(
            count(&mut con, "ZCARD", &format!("{prefix}:queue")).await,
            1
        );
        assert!(!small.is_finished());
        big.release().await.unwrap();
        small.await.unwrap().release().await.unwrap();
    });
}

/// A dropped acquire leaves the Redis queue: the waiter behind it is served
/// as soon as the permit comes back, not after a TTL.
#[test]
fn semaphore_cancelled_acquire_leaves_the_queue() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let redis = Redis::connect(&server.url()).await.unwrap();
        let options = SemaphoreOptions {
            lease_ttl: Duration::from_secs(30),
            poll_interval: TOLD,
        };
        let sem =
            RedisSemaphore::with_options(&redis, Tokio::current(), "cancel", 1, options).unwrap();
        let held = sem.acquire().await.unwrap();
        let cancelled = tokio::time::timeout(ms(50), sem.acquire()).await;
        assert!(cancelled.is_err(), "the permit is held");
        let behind = tokio::spawn({
            let sem = sem.clone();
            async move { sem.acquire().await.unwrap() }
        });
        let mut con = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        // The holder, the cancelled waiter, and the one behind it.
        arrivals(&Tokio::current(), &mut con, "anysync:sem:cancel", 3).await;
        held.release().await.unwrap();
        // Were the cancelled waiter still queued, it would be granted and
        // the one behind would wait for its place to lapse (30 s).
        let permit = tokio::time::timeout(Duration::from_secs(5), behind)
            .await
            .expect("the waiter behind a cancelled one was stranded")
            .unwrap();
        permit.release().await.unwrap();
    });
}

/// Two mutexes of one name on two clients, with leases of an hour, a
/// connection to look at the keys, and the second client's wake channel.
async fn told_pair(
    url: &str,
    name: &str,
    poll_interval: Duration,
) -> (
    RedisMutex<Tokio>,
    RedisMutex<Tokio>,
    redis::aio::MultiplexedConnection,
    String,
) {
    let options = SemaphoreOptions {
        lease_ttl: TOLD,
        poll_interval,
    };
    let a = Redis::connect(url).await.unwrap();
    let b = Redis::connect(url).await.unwrap();
    let con = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    (
        RedisMutex::with_options(&a, Tokio::current(), name, options).unwrap(),
        RedisMutex::with_options(&b, Tokio::current(), name, options).unwrap(),
        con,
        format!("anysync:wake:{}", b.client_id()),
    )
}

/// A waiter on another client learns of its grant from the message the
/// release publishes: with no lease to expire and no poll for an hour, it
/// is served at once, round after round.
#[test]
fn semaphore_waiter_is_told_of_its_grant() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let (a, b, mut con, _) = told_pair(&server.url(), "told", TOLD).await;
        let rt = Tokio::current();
        for round in 0..20u64 {
            let held = a.lock().await.unwrap();
            let waiter = tokio::spawn({
                let b = b.clone();
                async move { b.lock().await.unwrap() }
            });
            arrivals(&rt, &mut con, "anysync:mutex:told", 2 * round + 2).await;
            assert!(held.release().await.unwrap());
            let next = tokio::time::timeout(Duration::from_secs(10), waiter)
                .await
                .expect("the waiter was not told of its grant")
                .unwrap();
            assert!(b.is_current(next.fencing_token()).await.unwrap());
            assert!(next.release().await.unwrap());
        }
    });
}

/// A grant whose message is lost (here: published on a channel nobody
/// hears) is found by the waiter's fallback poll.
#[test]
fn semaphore_lost_grant_message_is_found_by_the_fallback_poll() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let (a, b, mut con, _) = told_pair(&server.url(), "lost", ms(200)).await;
        let held = a.lock().await.unwrap();
        let waiter = tokio::spawn(async move { b.lock().await.unwrap() });
        arrivals(&Tokio::current(), &mut con, "anysync:mutex:lost", 2).await;
        let wants: HashMap<String, String> = redis::cmd("HGETALL")
            .arg("anysync:mutex:lost:wants")
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(wants.len(), 1);
        let (ticket, want) = wants.into_iter().next().unwrap();
        let (head, _channel) = want.rsplit_once('|').unwrap();
        let () = redis::cmd("HSET")
            .arg("anysync:mutex:lost:wants")
            .arg(&ticket)
            .arg(format!("{head}|anysync:wake:nobody"))
            .query_async(&mut con)
            .await
            .unwrap();
        assert!(held.release().await.unwrap());
        let next = tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .expect("a lost message left the waiter hanging")
            .unwrap();
        assert!(next.fencing_token() > 1);
        assert!(next.release().await.unwrap());
    });
}

/// The connections are cut while a waiter waits: it asks again on the new
/// connection (still queued), which is subscribed again, so the next
/// release still reaches it by message.
#[test]
fn semaphore_waiter_is_told_after_its_connection_was_cut() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let (a, b, mut con, channel) = told_pair(&server.url(), "cut", TOLD).await;
        let rt = Tokio::current();
        let held = a.lock().await.unwrap();
        let waiter = tokio::spawn(async move { b.lock().await.unwrap() });
        arrivals(&rt, &mut con, "anysync:mutex:cut", 2).await;
        let killed: usize = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("pubsub")
            .arg("SKIPME")
            .arg("yes")
            .query_async(&mut con)
            .await
            .unwrap();
        assert!(killed >= 2, "killed {killed} connections");
        // The waiter's client reconnects and subscribes again.
        loop {
            let subscribed: HashMap<String, usize> = redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(&channel)
                .query_async(&mut con)
                .await
                .unwrap();
            if subscribed.get(&channel) == Some(&1) {
                break;
            }
            rt.sleep(ms(2)).await;
        }
        assert!(!waiter.is_finished());
        assert!(held.release().await.unwrap());
        let next = tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .expect("the waiter was not told after a reconnection")
            .unwrap();
        assert!(next.release().await.unwrap());
    });
}

/// A dropped permit is released by a task on the runtime; a released
/// permit's fencing token is no longer current.
#[test]
fn dropped_permit_is_released_and_its_fence_is_no_longer_current() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let redis = Redis::connect(&server.url()).await.unwrap();
        let mutex = RedisMutex::with_options(&redis, Tokio::current(), "drop", fast()).unwrap();
        let guard = mutex.lock().await.unwrap();
        let fence = guard.fencing_token();
        assert!(mutex.is_current(fence).await.unwrap());
        drop(guard);
        let next = tokio::time::timeout(Duration::from_secs(5), mutex.lock())
            .await
            .expect("the dropped guard was never released")
            .unwrap();
        assert!(next.fencing_token() > fence);
        assert!(!mutex.is_current(fence).await.unwrap());
        assert!(mutex.is_current(next.fencing_token()).await.unwrap());
        // Through the shared trait, on the same lock.
        let released = next.release().await.unwrap();
        assert!(released);
        let via_trait = mutex.acquire_permits(1).await.unwrap();
        assert!(via_trait.release().await.unwrap());
    });
}

/// A lease whose holder stops renewing (its renewals fail) lapses after the
/// TTL, and the next holder gets a larger token; the lapsed release says so.
#[test]
fn lease_lapses_when_not_renewed() {
    let Some(server) = server() else { return };
    let fence = on_tokio(async {
        let redis = Redis::connect(&server.url()).await.unwrap();
        let options = SemaphoreOptions {
            lease_ttl: ms(600),
            poll_interval: TOLD,
        };
        let sem =
            RedisSemaphore::with_options(&redis, Tokio::current(), "lapse", 1, options).unwrap();
        // Hold for three TTLs: renewals keep it.
        let held = sem.acquire().await.unwrap();
        tokio::time::sleep(ms(1800)).await;
        assert!(sem.is_current(held.fencing_token()).await.unwrap());
        assert!(!held.is_lost());
        let fence = held.fencing_token();
        // Renewals stop (as when the holder is frozen): the lease lapses.
        std::mem::forget(held);
        fence
    });
    // The forgotten permit's renewal task died with the first runtime.
    on_tokio(async {
        let redis = Redis::connect(&server.url()).await.unwrap();
        let options = SemaphoreOptions {
            lease_ttl: ms(600),
            poll_interval: TOLD,
        };
        let sem =
            RedisSemaphore::with_options(&redis, Tokio::current(), "lapse", 1, options).unwrap();
        let started = StdInstant::now();
        let next = sem.acquire().await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(next.fencing_token() > fence);
        assert!(!sem.is_current(fence).await.unwrap());
        assert!(next.release().await.unwrap());
    });
}

/// Bad input gets a typed error and leaves nothing locked.
#[test]
fn bad_input_gets_typed_errors_and_leaves_nothing_locked() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let redis = Redis::connect(&server.url()).await.unwrap();
        let rt = Tokio::current();
        assert!(matches!(
            RedisSemaphore::new(&redis, rt.clone(), "zero", 0),
            Err(Error::ZeroPermits)
        ));
        let zero_ttl = SemaphoreOptions {
            lease_ttl: Duration::ZERO,
            ..SemaphoreOptions::default()
        };
        assert!(matches!(
            RedisSemaphore::with_options(&redis, rt.clone(), "ttl", 1, zero_ttl),
            Err(Error::ZeroDuration { what: "lease_ttl" })
        ));
        for bad in ["a:b", "", ":"] {
            assert!(matches!(
                RedisSemaphore::new(&redis, rt.clone(), bad, 1),
                Err(Error::InvalidName { .. })
            ));
            assert!(matches!(
                RedisMutex::new(&redis, rt.clone(), bad),
                Err(Error::InvalidName { .. })
            ));
        }
        let sem = RedisSemaphore::with_options(&redis, rt.clone(), "bad", 2, fast()).unwrap();
        assert!(matches!(sem.acquire_many(0).await, Err(Error::ZeroPermits)));
        assert!(matches!(
            sem.acquire_many(3).await,
            Err(Error::TooManyPermits {
                requested: 3,
                capacity: 2
            })
        ));
        let other = RedisSemaphore::with_options(&redis, rt.clone(), "bad", 5, fast()).unwrap();
        let first = sem.acquire().await.unwrap();
        assert!(matches!(
            other.acquire().await,
            Err(Error::CapacityMismatch {
                stored: 2,
                given: 5
            })
        ));
        // A server that answers an error: the queue key has the wrong type.
        let limiter = RedisRateLimiter::new(
            &redis,
            rt.clone(),
            "bad",
            Quota::per_second(NonZeroU32::new(10).unwrap()),
        )
        .unwrap();
        assert!(matches!(
            limiter.acquire_key("a:b", 1).await,
            Err(Error::InvalidName { .. })
        ));
        assert!(matches!(
            limiter.acquire_n(11).await,
            Err(Error::InsufficientCapacity(_))
        ));
        let mut con = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let () = redis::cmd("SET")
            .arg("anysync:sem:bad:queue")
            .arg("not a sorted set")
            .query_async(&mut con)
            .await
            .unwrap();
        let err = sem.acquire().await.unwrap_err();
        assert!(matches!(err, Error::Server(_)), "{err:?}");
        let () = redis::cmd("DEL")
            .arg("anysync:sem:bad:queue")
            .query_async(&mut con)
            .await
            .unwrap();
        // Nothing was left locked by the failures: the second permit is free.
        let second = sem.acquire().await.unwrap();
        assert!(first.release().await.unwrap());
        assert!(second.release().await.unwrap());
        let queue_err = RedisQueue::open(&redis, rt.clone(), "q:x", QueueOptions::default()).await;
        assert!(matches!(queue_err, Err(Error::InvalidName { .. })));
    });
}

/// A restart of redis-server (append-only file on) during a run: clients
/// see typed connection errors, reconnect, and the counts stay exact; a
/// server that is gone is a typed connection error, never a grant.
#[test]
fn lost_connection_is_a_typed_error_and_reconnecting_resumes() {
    let Some(mut server) = server_with(true) else {
        return;
    };
    on_tokio(async {
        let redis = Redis::connect(&server.url()).await.unwrap();
        let sem =
            RedisSemaphore::with_options(&redis, Tokio::current(), "restart", 2, fast()).unwrap();
        let held = sem.acquire().await.unwrap();
        let fence = held.fencing_token();
        assert!(held.release().await.unwrap());
        // One permit is held across the restart, and a queue holds 5 items.
        let kept = sem.acquire().await.unwrap();
        let options = QueueOptions {
            poll_interval: TOLD,
            ..QueueOptions::default()
        };
        let q = RedisQueue::open(&redis, Tokio::current(), "restart", options)
            .await
            .unwrap();
        for i in 0..5u8 {
            q.put(vec![i]).await.unwrap();
        }
        // Kill the server (SIGKILL) and start it again on its files.
        let port = server.port();
        let restarted = tokio::task::spawn_blocking(move || {
            server.restart().unwrap();
            server
        });
        let server = restarted.await.unwrap();
        assert_eq!(server.port(), port);
        // Calls fail with a connection error until the client reconnects.
        let mut after = None;
        for _ in 0..50 {
            match sem.acquire().await {
                Ok(p) => {
                    after = Some(p);
                    break;
                }
                Err(e) => assert!(e.is_connection(), "{e:?}"),
            }
            tokio::time::sleep(ms(100)).await;
        }
        let after = after.expect("never reconnected");
        // The append-only file kept everything: the fence counter (a new
        // token is larger, never reused), the permit held across the
        // restart (so only one more was free), and the queue's items.
        assert!(after.fencing_token() > kept.fencing_token());
        assert!(kept.fencing_token() > fence);
        assert!(sem.is_current(kept.fencing_token()).await.unwrap());
        let third = tokio::time::timeout(ms(300), sem.acquire()).await;
        assert!(
            third.is_err(),
            "a third permit of 2 was granted after the restart"
        );
        assert_eq!(q.len().await.unwrap(), 5);
        for i in 0..5u8 {
            let d = q.get().await.unwrap();
            assert_eq!(d.item, [i]);
            q.task_done(d.ticket).await.unwrap();
        }
        q.join().await.unwrap();
        assert!(kept.release().await.unwrap());
        assert!(after.release().await.unwrap());
        drop(server);
        // And with no server at all: a connection error, not a grant.
        let err = loop {
            match sem.acquire().await {
                Err(e) => break e,
                Ok(p) => drop(p),
            }
        };
        assert!(err.is_connection(), "{err:?}");
    });
}

/// The rate limiter's script grants exactly the quota across clients: over
/// a window, the total is the burst plus the rate times the time.
#[test]
fn rate_limiter_total_across_clients_is_exact() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let quota = Quota::per_second(NonZeroU32::new(100).unwrap())
            .allow_burst(NonZeroU32::new(5).unwrap());
        let mut limiters = Vec::new();
        for _ in 0..4 {
            let redis = Redis::connect(&server.url()).await.unwrap();
            limiters.push(RedisRateLimiter::new(&redis, Tokio::current(), "total", quota).unwrap());
        }
        let granted = Arc::new(AtomicUsize::new(0));
        let start = StdInstant::now();
        let window = ms(1000);
        let mut tasks = Vec::new();
        for limiter in limiters {
            for _ in 0..3 {
                let (limiter, granted) = (limiter.clone(), granted.clone());
                tasks.push(tokio::spawn(async move {
                    loop {
                        limiter.acquire().await.unwrap();
                        if start.elapsed() >= window {
                            return;
                        }
                        granted.fetch_add(1, Ordering::SeqCst);
                    }
                }));
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        let total = granted.load(Ordering::SeqCst);
        // 5 at once, then 100 per second: at most 105 in the first second.
        assert!(total <= 105, "granted {total}");
        assert!(total >= 90, "granted only {total}");
    });
}

/// Keyed budgets are separate; impossible requests fail at once.
#[test]
fn rate_limiter_keys_are_separate() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let redis = Redis::connect(&server.url()).await.unwrap();
        let quota = Quota::per_minute(NonZeroU32::new(2).unwrap());
        let limiter = RedisRateLimiter::new(&redis, Tokio::current(), "keys", quota).unwrap();
        limiter.acquire_key("alice", 2).await.unwrap();
        limiter.acquire_key("bob", 2).await.unwrap();
        let waited = tokio::time::timeout(ms(100), limiter.acquire_key("alice", 1)).await;
        assert!(waited.is_err(), "alice's budget was already spent");
        assert!(limiter.try_acquire_n(2).await.unwrap().is_none());
        let wait = limiter.try_acquire_n(1).await.unwrap().expect("spent");
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
    });
}

/// Put, get, task_done and join through the shared trait; backpressure at
/// `max_len`; shutdown.
#[test]
fn queue_round_trip_backpressure_and_shutdown() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let redis = Redis::connect(&server.url()).await.unwrap();
        let options = QueueOptions {
            max_len: 3,
            poll_interval: TOLD,
            ..QueueOptions::default()
        };
        let q = RedisQueue::open(&redis, Tokio::current(), "round", options)
            .await
            .unwrap();
        for i in 0..3u8 {
            WorkQueue::put(&q, vec![i]).await.unwrap();
        }
        let blocked = tokio::time::timeout(ms(100), q.put(vec![9])).await;
        assert!(blocked.is_err(), "put did not wait at max_len");
        let Delivery { item, ticket } = WorkQueue::get(&q).await.unwrap();
        assert_eq!(item, [0]);
        assert_eq!(ticket.deliveries, 1);
        let join = tokio::spawn({
            let q = q.clone();
            async move { q.join().await }
        });
        WorkQueue::task_done(&q, ticket.clone()).await.unwrap();
        assert!(matches!(q.task_done(ticket).await, Err(Error::NotPending)));
        q.put(vec![3]).await.unwrap();
        for want in 1..4u8 {
            let d = q.get().await.unwrap();
            assert_eq!(d.item, [want]);
            q.task_done(d.ticket).await.unwrap();
        }
        tokio::time::timeout(Duration::from_secs(5), join)
            .await
            .expect("join did not return")
            .unwrap()
            .unwrap();
        q.shutdown().await.unwrap();
        assert!(matches!(q.put(vec![1]).await, Err(Error::ShutDown)));
        assert!(matches!(q.get().await, Err(Error::ShutDown)));
    });
}

/// Returns once a task waits to be told of a change to `q` (it asked, found
/// nothing to do, and now waits for a message; its fallback poll is an hour
/// away).
async fn until_waiting(rt: &Tokio, q: &RedisQueue<Tokio>) {
    while q.waiters() == 0 {
        rt.sleep(ms(2)).await;
    }
}

/// Queue waiters are told: a consumer waiting in `get` when another client
/// puts an item, a `put` waiting for room when an item is done, `join`
/// when the last one is; none polls for an hour.
#[test]
fn queue_waiters_are_told() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let options = QueueOptions {
            max_len: 1,
            visibility_timeout: TOLD,
            poll_interval: TOLD,
            ..QueueOptions::default()
        };
        let rt = Tokio::current();
        let a = Redis::connect(&server.url()).await.unwrap();
        let b = Redis::connect(&server.url()).await.unwrap();
        let qa = RedisQueue::open(&a, rt.clone(), "told", options)
            .await
            .unwrap();
        let qb = RedisQueue::open(&b, rt.clone(), "told", options)
            .await
            .unwrap();
        let mut con = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let getter = tokio::spawn({
            let qb = qb.clone();
            async move { qb.get().await.unwrap() }
        });
        // Its first ask (which found nothing) made it a consumer of the
        // group: from then on it waits to be told.
        loop {
            let consumers: Vec<HashMap<String, redis::Value>> = redis::cmd("XINFO")
                .arg("CONSUMERS")
                .arg("anysync:queue:told:stream")
                .arg("anysync")
                .query_async(&mut con)
                .await
                .unwrap();
            let named = |c: &HashMap<String, redis::Value>| {
                c.get("name")
                    .and_then(|n| redis::from_redis_value::<String>(n.clone()).ok())
                    .as_deref()
                    == Some(qb.consumer())
            };
            if consumers.iter().any(named) {
                break;
            }
            rt.sleep(ms(2)).await;
        }
        qa.put(b"first".to_vec()).await.unwrap();
        let first = tokio::time::timeout(Duration::from_secs(10), getter)
            .await
            .expect("the waiting consumer was not told of the item")
            .unwrap();
        assert_eq!(first.item, b"first");
        // Full (the first item is not done): this put waits for room.
        let putter = tokio::spawn({
            let qa = qa.clone();
            async move { qa.put(b"second".to_vec()).await }
        });
        until_waiting(&rt, &qa).await;
        qb.task_done(first.ticket).await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), putter)
            .await
            .expect("the waiting put was not told of the room")
            .unwrap()
            .unwrap();
        let second = qb.get().await.unwrap();
        assert_eq!(second.item, b"second");
        let joiner = tokio::spawn({
            let qa = qa.clone();
            async move { qa.join().await }
        });
        until_waiting(&rt, &qa).await;
        qb.task_done(second.ticket).await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), joiner)
            .await
            .expect("join was not told")
            .unwrap()
            .unwrap();
    });
}

/// An item not marked done within the visibility timeout goes to another
/// consumer, is completed once, and after too many deliveries goes to the
/// dead-letter stream.
#[test]
fn queue_redelivers_after_the_visibility_timeout_then_dead_letters() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let redis = Redis::connect(&server.url()).await.unwrap();
        let options = QueueOptions {
            visibility_timeout: ms(200),
            max_deliveries: 2,
            poll_interval: TOLD,
            ..QueueOptions::default()
        };
        let rt = Tokio::current();
        let a = RedisQueue::open(&redis, rt.clone(), "redeliver", options)
            .await
            .unwrap();
        let b = RedisQueue::open(&redis, rt.clone(), "redeliver", options)
            .await
            .unwrap();
        assert_ne!(a.consumer(), b.consumer());
        a.put(b"job".to_vec()).await.unwrap();
        let first = a.get().await.unwrap();
        assert_eq!(first.ticket.deliveries, 1);
        // a stalls; after the timeout b gets the same item.
        let second = b.get().await.unwrap();
        assert_eq!(second.item, b"job");
        assert_eq!(second.ticket.id, first.ticket.id);
        assert_eq!(second.ticket.deliveries, 2);
        // a's late completion is refused; b's counts, once.
        assert!(matches!(
            a.task_done(first.ticket).await,
            Err(Error::NotPending)
        ));
        b.task_done(second.ticket).await.unwrap();
        a.join().await.unwrap();
        // An item that keeps failing goes to the dead letters after 2.
        a.put(b"poison".to_vec()).await.unwrap();
        let _d1 = a.get().await.unwrap();
        let _d2 = b.get().await.unwrap();
        let waiting = tokio::time::timeout(ms(600), a.get()).await;
        assert!(waiting.is_err(), "a third delivery happened");
        a.join().await.unwrap();
        let mut con = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let dead: u64 = redis::cmd("XLEN")
            .arg(a.dead_letter_key())
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(dead, 1);
    });
}

/// The same semaphore and queue on smol and async-std.
#[test]
fn works_on_smol_and_async_std() {
    let Some(server) = server() else { return };
    let url = server.url();
    smol::block_on(smoke(anysync_smol::Smol, url.clone(), "smol"));
    async_std::task::block_on(smoke(anysync_async_std::AsyncStd, url, "async-std"));
}

async fn smoke<R: Timer + Spawn>(rt: R, url: String, name: &str) {
    let redis = Redis::connect(&url).await.unwrap();
    let sem = RedisSemaphore::with_options(&redis, rt.clone(), name, 1, fast()).unwrap();
    let mut con = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let first = sem.acquire().await.unwrap();
    let waiter = rt.spawn({
        let sem = sem.clone();
        async move { sem.acquire().await.unwrap().fencing_token() }
    });
    arrivals(&rt, &mut con, &format!("anysync:sem:{name}"), 2).await;
    let fence = first.fencing_token();
    drop(first);
    assert!(waiter.await.unwrap() > fence);
    let q = RedisQueue::open(&redis, rt.clone(), name, QueueOptions::default())
        .await
        .unwrap();
    q.put(b"x".to_vec()).await.unwrap();
    let d = q.get().await.unwrap();
    q.task_done(d.ticket).await.unwrap();
    q.join().await.unwrap();
    let limiter = RedisRateLimiter::new(
        &redis,
        rt,
        name,
        Quota::per_second(NonZeroU32::new(50).unwrap()),
    )
    .unwrap();
    limiter.acquire_n(50).await.unwrap();
    limiter.acquire().await.unwrap();
}

// ---- several OS processes -------------------------------------------------------

/// Starts this test binary as a worker running `role` against `url`.
fn spawn_worker(url: &str, role: &str, arg: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "worker", "--nocapture", "--test-threads=1"])
        .env(WORKER_VAR, format!("{role} {url} {arg}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// What a worker printed after `@` on each line (the test harness may
/// print its own text before it on the first line).
fn worker_lines(child: &mut Child) -> impl Iterator<Item = String> + '_ {
    BufReader::new(child.stdout.as_mut().unwrap())
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| l.find('@').map(|at| l[at + 1..].to_owned()))
}

/// The worker side: does nothing unless started by a multi-process test.
#[test]
fn worker() {
    let Ok(spec) = std::env::var(WORKER_VAR) else {
        return;
    };
    let mut parts = spec.split(' ');
    let (role, url, arg) = (
        parts.next().unwrap().to_owned(),
        parts.next().unwrap().to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    on_tokio(async move {
        let redis = Redis::connect(&url).await.unwrap();
        let mut con = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        match role.as_str() {
            // Holds one of 3 permits `arg` times; records the holders in a
            // Redis set to check the bound from outside.
            "contend" => {
                let sem =
                    RedisSemaphore::with_options(&redis, Tokio::current(), "procs", 3, fast())
                        .unwrap();
                let rounds: u32 = arg.parse().unwrap();
                for _ in 0..rounds {
                    let permit = sem.acquire().await.unwrap();
                    let token = permit.fencing_token();
                    let (inside, ()): (u64, ()) = redis::pipe()
                        .cmd("SADD")
                        .arg("inside")
                        .arg(token)
                        .ignore()
                        .cmd("SCARD")
                        .arg("inside")
                        .cmd("SET")
                        .arg("dummy")
                        .arg(1)
                        .query_async(&mut con)
                        .await
                        .unwrap();
                    println!("@held {token} {inside}");
                    tokio::time::sleep(ms(10)).await;
                    let () = redis::cmd("SREM")
                        .arg("inside")
                        .arg(token)
                        .query_async(&mut con)
                        .await
                        .unwrap();
                    assert!(permit.release().await.unwrap());
                }
                println!("@done");
            }
            // Takes one permit of a full semaphore, says which, gives it back.
            "once" => {
                let sem =
                    RedisSemaphore::with_options(&redis, Tokio::current(), "order", 3, fast())
                        .unwrap();
                let permit = sem.acquire().await.unwrap();
                println!("@granted {arg} {}", permit.fencing_token());
                assert!(permit.release().await.unwrap());
            }
            // Takes the mutex, says so, and holds it until killed.
            "hold" => {
                let options = SemaphoreOptions {
                    lease_ttl: ms(1000),
                    poll_interval: TOLD,
                };
                let m =
                    RedisMutex::with_options(&redis, Tokio::current(), "killed", options).unwrap();
                let guard = m.lock().await.unwrap();
                println!("@locked {}", guard.fencing_token());
                std::future::pending::<()>().await;
            }
            // Takes rate cells until the shared deadline `arg` (ms since the
            // epoch) and prints how many it got.
            "rate" => {
                let quota = Quota::per_second(NonZeroU32::new(50).unwrap())
                    .allow_burst(NonZeroU32::new(10).unwrap());
                let limiter =
                    RedisRateLimiter::new(&redis, Tokio::current(), "procs", quota).unwrap();
                let deadline: u128 = arg.parse().unwrap();
                let now_ms = || {
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_millis()
                };
                let mut got = 0u64;
                loop {
                    limiter.acquire().await.unwrap();
                    if now_ms() >= deadline {
                        break;
                    }
                    got += 1;
                }
                println!("@got {got}");
            }
            // Processes queue items; with arg "die", dies in the middle of
            // its first item.
            "consume" => {
                let options = QueueOptions {
                    visibility_timeout: ms(500),
                    poll_interval: TOLD,
                    ..QueueOptions::default()
                };
                let q = RedisQueue::open(&redis, Tokio::current(), "procs", options)
                    .await
                    .unwrap();
                loop {
                    let d = match q.get().await {
                        Ok(d) => d,
                        Err(Error::ShutDown) => break,
                        Err(e) => panic!("{e}"),
                    };
                    let item = String::from_utf8(d.item).unwrap();
                    if arg == "die" {
                        println!("@dying {item}");
                        std::process::abort();
                    }
                    tokio::time::sleep(ms(5)).await;
                    if q.task_done(d.ticket).await.is_ok() {
                        let () = redis::cmd("RPUSH")
                            .arg("completed")
                            .arg(&item)
                            .query_async(&mut con)
                            .await
                            .unwrap();
                    }
                }
                println!("@done");
            }
            other => panic!("unknown worker role {other}"),
        }
    });
}

/// Several OS processes contend on one `RedisSemaphore(3)`: never more than
/// 3 holders at once, every worker served, every token distinct.
#[test]
fn processes_share_a_semaphore_of_three() {
    let Some(server) = server() else { return };
    let mut workers: Vec<Child> = (0..5)
        .map(|_| spawn_worker(&server.url(), "contend", "8"))
        .collect();
    let mut tokens = BTreeSet::new();
    for w in &mut workers {
        let mut done = false;
        for line in worker_lines(w) {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts[0] {
                "held" => {
                    assert!(
                        tokens.insert(parts[1].parse::<u64>().unwrap()),
                        "token reused"
                    );
                    let inside: u64 = parts[2].parse().unwrap();
                    assert!(inside <= 3, "{inside} holders at once");
                }
                "done" => done = true,
                _ => {}
            }
        }
        assert!(done, "a worker was not served");
        assert!(w.wait().unwrap().success());
    }
    assert_eq!(tokens.len(), 40);
}

/// Processes that queue one after another on a full semaphore are granted
/// in that order (fencing tokens grow in arrival order).
#[test]
fn processes_are_granted_in_arrival_order() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let redis = Redis::connect(&server.url()).await.unwrap();
        let sem =
            RedisSemaphore::with_options(&redis, Tokio::current(), "order", 3, fast()).unwrap();
        let held = sem.acquire_many(3).await.unwrap();
        let mut con = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let mut workers = Vec::new();
        for i in 0..5usize {
            workers.push(spawn_worker(&server.url(), "once", &i.to_string()));
            loop {
                let queued: usize = redis::cmd("ZCARD")
                    .arg("anysync:sem:order:queue")
                    .query_async(&mut con)
                    .await
                    .unwrap();
                if queued > i {
                    break;
                }
                tokio::time::sleep(ms(5)).await;
            }
        }
        assert!(held.release().await.unwrap());
        let mut grants = Vec::new();
        for w in &mut workers {
            let line = worker_lines(w).next().expect("a worker was not served");
            let parts: Vec<u64> = line
                .strip_prefix("granted ")
                .unwrap()
                .split(' ')
                .map(|p| p.parse().unwrap())
                .collect();
            grants.push((parts[1], parts[0]));
            assert!(w.wait().unwrap().success());
        }
        grants.sort();
        assert_eq!(
            grants.iter().map(|&(_, i)| i).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
    });
}

/// `kill -9` of the process holding the mutex: the lock comes back within
/// the TTL and the dead holder's token is no longer current.
#[test]
fn killed_holder_loses_the_lock_within_the_ttl() {
    let Some(server) = server() else { return };
    let mut holder = spawn_worker(&server.url(), "hold", "");
    let token: u64 = worker_lines(&mut holder)
        .find_map(|l| l.strip_prefix("locked ").map(|t| t.parse().unwrap()))
        .expect("the holder never locked");
    holder.kill().unwrap(); // SIGKILL
    holder.wait().unwrap();
    let killed_at = StdInstant::now();
    on_tokio(async {
        let redis = Redis::connect(&server.url()).await.unwrap();
        let options = SemaphoreOptions {
            lease_ttl: ms(1000),
            poll_interval: TOLD,
        };
        let m = RedisMutex::with_options(&redis, Tokio::current(), "killed", options).unwrap();
        let guard = m.lock().await.unwrap();
        assert!(
            killed_at.elapsed() < ms(1500),
            "took {:?}",
            killed_at.elapsed()
        );
        assert!(guard.fencing_token() > token);
        assert!(!m.is_current(token).await.unwrap());
        guard.release().await.unwrap();
    });
}

/// 5 processes share 50 per second (burst 10) for 2 s: together they get
/// at most 100 + the burst.
#[test]
fn processes_share_a_rate_limit_exactly() {
    let Some(server) = server() else { return };
    let start_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    // Processes start within the first second; the window is what the
    // limiter grants from the first grant to the deadline, at most 3 s.
    let deadline = (start_ms + 3000).to_string();
    let mut workers: Vec<Child> = (0..5)
        .map(|_| spawn_worker(&server.url(), "rate", &deadline))
        .collect();
    let mut total = 0u64;
    for w in &mut workers {
        let got = worker_lines(w)
            .find_map(|l| l.strip_prefix("got ").map(|n| n.parse::<u64>().unwrap()))
            .expect("a worker reported nothing");
        total += got;
        assert!(w.wait().unwrap().success());
    }
    // At most 150 + the burst of 10 in any 3 s; the workers started a
    // little after `start_ms`, so a little less is normal.
    assert!(total <= 160, "granted {total}");
    assert!(total >= 120, "granted only {total}");
}

/// 3 consumer processes; one dies in the middle of an item. That item is
/// redelivered and completed exactly once, and `join` returns.
#[test]
fn queue_item_of_a_dead_consumer_is_completed_exactly_once() {
    let Some(server) = server() else { return };
    on_tokio(async {
        let redis = Redis::connect(&server.url()).await.unwrap();
        let options = QueueOptions {
            visibility_timeout: ms(500),
            poll_interval: TOLD,
            ..QueueOptions::default()
        };
        let q = RedisQueue::open(&redis, Tokio::current(), "procs", options)
            .await
            .unwrap();
        // The doomed consumer takes the first item and dies with it.
        q.put(b"item-0".to_vec()).await.unwrap();
        let mut doomed = spawn_worker(&server.url(), "consume", "die");
        let dying = worker_lines(&mut doomed)
            .next()
            .expect("the consumer said nothing");
        assert_eq!(dying, "dying item-0");
        doomed.wait().unwrap();
        let mut workers: Vec<Child> = (0..2)
            .map(|_| spawn_worker(&server.url(), "consume", ""))
            .collect();
        for i in 1..20 {
            q.put(format!("item-{i}").into_bytes()).await.unwrap();
        }
        tokio::time::timeout(Duration::from_secs(20), q.join())
            .await
            .expect("join did not return")
            .unwrap();
        q.shutdown().await.unwrap();
        for w in &mut workers {
            assert!(w.wait().unwrap().success());
        }
        let mut con = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let mut completed: Vec<String> = redis::cmd("LRANGE")
            .arg("completed")
            .arg(0)
            .arg(-1)
            .query_async(&mut con)
            .await
            .unwrap();
        completed.sort();
        let mut want: Vec<String> = (0..20).map(|i| format!("item-{i}")).collect();
        want.sort();
        assert_eq!(completed, want, "each item completed exactly once");
    });
}
