use alloc::vec::Vec;
use core::{fmt, num::NonZeroU32, time::Duration};

use super::*;
use crate::{queue::Queue, rt::virtual_time::VirtualTime, time::KeyedRateLimiter};

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// Generic code: holds `n` permits while it checks that `others` cannot
/// get theirs.
async fn hold_and_check<P: Permits>(p: &P, n: u32) -> Result<(), P::Error> {
    let permit = p.acquire_permits(n).await?;
    drop(permit);
    Ok(())
}

#[test]
fn semaphore_permits_come_back_when_the_guard_drops() {
    futures_executor::block_on(async {
        let sem = Semaphore::new(3);
        {
            let _guard = sem.acquire_permits(2).await.unwrap();
            assert_eq!(sem.available_permits(), 1);
        }
        assert_eq!(sem.available_permits(), 3);
        hold_and_check(&sem, 3).await.unwrap();
        sem.close();
        assert_eq!(hold_and_check(&sem, 1).await, Err(AcquireError::Closed));
    });
}

/// Generic code: the times at which `count` single cells are granted.
async fn grant_times<S: RateSlots, T: Timer>(slots: &S, timer: &T, count: usize) -> Vec<Duration> {
    let mut times = Vec::new();
    for _ in 0..count {
        slots
            .acquire_slots(1)
            .await
            .unwrap_or_else(|_| panic!("refused"));
        times.push(timer.now().since_origin());
    }
    times
}

#[test]
fn rate_limiter_slots_through_the_trait_keep_the_schedule() {
    VirtualTime::new().block_on(|rt| async move {
        let limiter = RateLimiter::new(rt.clone(), Quota::per_second(nz(2)));
        assert_eq!(RateSlots::quota(&limiter), Quota::per_second(nz(2)));
        let times = grant_times(&limiter, &rt, 4).await;
        let ms = Duration::from_millis;
        assert_eq!(times, [ms(0), ms(0), ms(500), ms(1000)]);
        assert!(limiter.acquire_slots(3).await.is_err());
        let keyed = KeyedRateLimiter::new(rt.clone(), Quota::per_second(nz(1)));
        keyed.acquire_slots_for(&1, 1).await.unwrap();
        keyed.acquire_slots_for(&2, 1).await.unwrap();
        assert_eq!(rt.now().since_origin(), ms(1000));
        keyed.acquire_slots_for(&1, 1).await.unwrap();
        assert_eq!(rt.now().since_origin(), ms(2000));
    });
}

/// Generic code: a producer and one worker over any work queue; returns
/// what the worker processed.
async fn drain<Q>(q: &Q, items: Vec<Q::Item>) -> Vec<Q::Item>
where
    Q: WorkQueue,
    Q::PutError: fmt::Debug,
    Q::GetError: fmt::Debug,
    Q::TaskDoneError: fmt::Debug,
    Q::JoinError: fmt::Debug,
{
    let n = items.len();
    for item in items {
        q.put(item).await.unwrap();
    }
    let mut done = Vec::new();
    for _ in 0..n {
        let Delivery { item, ticket } = q.get().await.unwrap();
        done.push(item);
        q.task_done(ticket).await.unwrap();
    }
    q.join().await.unwrap();
    done
}

#[test]
fn local_queue_works_through_the_trait() {
    futures_executor::block_on(async {
        let q = Queue::bounded(8);
        assert_eq!(drain(&q, alloc::vec![1, 2, 3]).await, [1, 2, 3]);
        assert_eq!(q.unfinished_tasks(), 0);
        // task_done past the count is the local queue's own error.
        assert!(WorkQueue::task_done(&q, LocalTicket).await.is_err());
        q.shutdown();
        assert!(WorkQueue::get(&q).await.is_err());
        assert_eq!(WorkQueue::put(&q, 9).await.unwrap_err().into_inner(), 9);
    });
}

#[test]
fn limited_waits_for_the_rate_holding_no_permit_then_takes_a_permit() {
    VirtualTime::new().block_on(|rt| async move {
        let sem = Semaphore::new(1);
        let rate = RateLimiter::new(rt.clone(), Quota::per_second(nz(1)));
        let limited = Limited::new(&sem, &rate);
        let first = limited.acquire().await.unwrap();
        assert_eq!(sem.available_permits(), 0);
        drop(first);
        // The next cell is due at 1 s; meanwhile the permit stays free.
        let second = limited.acquire();
        let mut second = core::pin::pin!(second);
        let pending = core::future::poll_fn(|cx| {
            core::task::Poll::Ready(second.as_mut().poll(cx).is_pending())
        })
        .await;
        assert!(pending);
        assert_eq!(sem.available_permits(), 1);
        let permit = second.await.unwrap();
        assert_eq!(rt.now().since_origin(), Duration::from_secs(1));
        drop(permit);
        sem.close();
        assert_eq!(
            limited.acquire().await.unwrap_err(),
            LimitedError::Permits(AcquireError::Closed)
        );
        // Over a burst request the rate side fails at once.
        let limited2 = Limited::new(&sem, &rate);
        assert_eq!(limited2.slots().quota().burst(), nz(1));
    });
}
