//! RateLimiter: anysync against governor, direct and keyed (the Redis
//! round trips are in `redis.rs`).
//!
//! * `rate_limit/check`: a non-waiting check that is always granted (a
//!   quota too large to run out). anysync reads the std monotonic clock
//!   (as the compat crates' timers do); governor its default TSC clock, and
//!   (`governor_std_clock`) the std clock too; `anysync_free_clock` reads
//!   no clock at all (the limiter's own work). The clock read is most of
//!   the cost: a whole check on the std clock was about 33 ns in the last
//!   run (70 ns for the clock alone on an earlier VM).
//!   Like for like, on the same clock, is `anysync` against
//!   `governor_std_clock` (here and in the other two groups).
//! * `rate_limit/check_keyed`: the same over 1024 keys, round robin
//!   (governor on either clock). The two keep different promises about
//!   memory: anysync forgets idle keys by itself (its map stays about twice
//!   the recently used keys), governor keeps every key until
//!   `retain_recent` is called. With this quota a key is idle again a
//!   nanosecond after its check, so on the std clock anysync's sweeps
//!   forget keys that come back 1024 checks later, and each such check
//!   re-creates its key. `anysync_with_capacity` is built with
//!   `KeyedRateLimiter::with_capacity(.., 1024)`, which keeps that many
//!   keys without sweeping: governor's promise for these 1024 keys, the
//!   like-for-like row.
//! * `rate_limit/acquire`: the waiting form, granted at once, one task
//!   under `futures_executor::block_on` (governor's `until_ready`, on
//!   either clock).
//!
//! `cargo bench -p anysync-benches --bench rate_limit`
#![forbid(unsafe_code)]
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]
// `criterion_group!` defines an undocumented public fn.
#![allow(missing_docs)]

use std::{future::Pending, hint::black_box, num::NonZeroU32, time::Duration};

use anysync::{
    rt::{Instant, Timer},
    time::{KeyedRateLimiter, Quota, RateLimiter},
};
use anysync_benches::{criterion, group, uncontended};
use criterion::{criterion_group, criterion_main, Criterion};

/// The std monotonic clock, which is also governor's default. Its sleeps
/// never end: the benches never wait.
#[derive(Clone, Copy, Debug)]
struct StdClock;

impl Timer for StdClock {
    type Sleep = Pending<()>;

    fn sleep(&self, _: Duration) -> Pending<()> {
        std::future::pending()
    }

    fn now(&self) -> Instant {
        Instant::from_std(std::time::Instant::now())
    }
}

/// A clock that stands still and costs nothing: `anysync_free_clock` is
/// the limiter's own work, without any clock read.
#[derive(Clone, Copy, Debug)]
struct FreeClock;

impl Timer for FreeClock {
    type Sleep = Pending<()>;

    fn sleep(&self, _: Duration) -> Pending<()> {
        std::future::pending()
    }

    fn now(&self) -> Instant {
        Instant::ORIGIN
    }
}

const HUGE: NonZeroU32 = NonZeroU32::MAX;

fn check(c: &mut Criterion) {
    let mut g = group(c, "rate_limit/check", 1);
    let ours = RateLimiter::new(StdClock, Quota::per_second(HUGE));
    g.bench_function("anysync", |b| {
        b.iter(|| black_box(ours.try_acquire()).unwrap())
    });
    let theirs = governor::RateLimiter::direct(governor::Quota::per_second(HUGE));
    g.bench_function("governor", |b| {
        b.iter(|| black_box(theirs.check()).unwrap())
    });
    // governor's default clock reads the TSC (quanta); on the same std
    // clock as anysync the two compare like for like.
    let theirs = governor::RateLimiter::direct_with_clock(
        governor::Quota::per_second(HUGE),
        governor::clock::MonotonicClock,
    );
    g.bench_function("governor_std_clock", |b| {
        b.iter(|| black_box(theirs.check()).unwrap())
    });
    let free = RateLimiter::new(FreeClock, Quota::per_second(HUGE));
    g.bench_function("anysync_free_clock", |b| {
        b.iter(|| black_box(free.try_acquire()).unwrap())
    });
    g.finish();

    let mut g = group(c, "rate_limit/check_keyed", 1);
    let ours = KeyedRateLimiter::new(StdClock, Quota::per_second(HUGE));
    let mut k = 0u32;
    g.bench_function("anysync", |b| {
        b.iter(|| {
            k = (k + 1) % 1024;
            black_box(ours.try_acquire(&k)).unwrap()
        })
    });
    let sized = KeyedRateLimiter::with_capacity(StdClock, Quota::per_second(HUGE), 1024);
    g.bench_function("anysync_with_capacity", |b| {
        b.iter(|| {
            k = (k + 1) % 1024;
            black_box(sized.try_acquire(&k)).unwrap()
        })
    });
    let theirs = governor::RateLimiter::keyed(governor::Quota::per_second(HUGE));
    g.bench_function("governor", |b| {
        b.iter(|| {
            k = (k + 1) % 1024;
            black_box(theirs.check_key(&k)).unwrap()
        })
    });
    let theirs = governor::RateLimiter::dashmap_with_clock(
        governor::Quota::per_second(HUGE),
        governor::clock::MonotonicClock,
    );
    g.bench_function("governor_std_clock", |b| {
        b.iter(|| {
            k = (k + 1) % 1024;
            black_box(theirs.check_key(&k)).unwrap()
        })
    });
    g.finish();

    let mut g = group(c, "rate_limit/acquire", 1);
    let ours = RateLimiter::new(StdClock, Quota::per_second(HUGE));
    g.bench_function("anysync", |b| {
        b.iter_custom(|iters| uncontended(iters, || async { ours.acquire().await.unwrap() }))
    });
    let theirs = governor::RateLimiter::direct(governor::Quota::per_second(HUGE));
    g.bench_function("governor", |b| {
        b.iter_custom(|iters| uncontended(iters, || theirs.until_ready()))
    });
    let theirs = governor::RateLimiter::direct_with_clock(
        governor::Quota::per_second(HUGE),
        governor::clock::MonotonicClock,
    );
    g.bench_function("governor_std_clock", |b| {
        b.iter_custom(|iters| uncontended(iters, || theirs.until_ready()))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = check
}
criterion_main!(benches);
