//! The pool under random interleavings of gets (polled by hand, dropped at
//! any point), returns, broken objects and detaches: no object is lent
//! twice, `max_size` holds, and nothing leaks.

use alloc::{sync::Arc, vec::Vec};
use core::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures_util::task::noop_waker;
use proptest::prelude::*;

use super::*;
use crate::{loom::sync::atomic::AtomicUsize, rt::virtual_time::VirtualTime};

#[derive(Debug, Default)]
struct Counted {
    live: Arc<AtomicUsize>,
    next_id: AtomicUsize,
}

#[derive(Debug)]
struct Obj {
    id: usize,
    live: Arc<AtomicUsize>,
}

impl Drop for Obj {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Manager for Counted {
    type Object = Obj;
    type Error = ();

    async fn create(&self) -> Result<Obj, ()> {
        // Creating takes one extra poll, so a get can be dropped mid-way.
        crate::task::yield_now().await;
        self.live.fetch_add(1, Ordering::SeqCst);
        Ok(Obj {
            id: self.next_id.fetch_add(1, Ordering::SeqCst),
            live: self.live.clone(),
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Start,
    Poll(usize),
    DropGet(usize),
    Return(usize),
    Broken(usize),
    Take(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Start),
        4 => any::<usize>().prop_map(Op::Poll),
        1 => any::<usize>().prop_map(Op::DropGet),
        2 => any::<usize>().prop_map(Op::Return),
        1 => any::<usize>().prop_map(Op::Broken),
        1 => any::<usize>().prop_map(Op::Take),
    ]
}

type Pending<'a> = Pin<Box<Get<'a, Counted, VirtualTime>>>;

fn poll(get: &mut Pending<'_>) -> Poll<Result<Object<Counted>, PoolError<()>>> {
    let waker = noop_waker();
    get.as_mut().poll(&mut Context::from_waker(&waker))
}

proptest!(
    #[test]
    fn pool_keeps_its_invariants_under_any_interleaving(
        max in 1usize..4,
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let pool = Pool::builder(Counted::default())
            .max_size(max)
            .wait_timeout(None)
            .build(VirtualTime::new())
            .unwrap();
        let live = pool.manager().live.clone();
        let mut gets: Vec<Pending<'_>> = Vec::new();
        let mut held: Vec<Object<Counted>> = Vec::new();
        for op in ops {
            match op {
                Op::Start => gets.push(Box::pin(pool.get())),
                Op::Poll(i) if !gets.is_empty() => {
                    let i = i % gets.len();
                    if let Poll::Ready(out) = poll(&mut gets[i]) {
                        drop(gets.swap_remove(i));
                        let object = out.expect("no timeout, no close, no failure");
                        prop_assert!(
                            held.iter().all(|h| h.id != object.id),
                            "object {} lent twice", object.id
                        );
                        held.push(object);
                    }
                }
                Op::DropGet(i) if !gets.is_empty() => {
                    drop(gets.swap_remove(i % gets.len()));
                }
                Op::Return(i) if !held.is_empty() => drop(held.swap_remove(i % held.len())),
                Op::Broken(i) if !held.is_empty() => {
                    let mut object = held.swap_remove(i % held.len());
                    Object::mark_broken(&mut object);
                }
                Op::Take(i) if !held.is_empty() => {
                    drop(Object::take(held.swap_remove(i % held.len())));
                }
                _ => {}
            }
            let stats = pool.statistics();
            let alive = live.load(Ordering::SeqCst);
            prop_assert!(stats.size <= max, "{stats:?}");
            prop_assert!(alive <= stats.size, "{alive} alive, {stats:?}");
            prop_assert!(held.len() + stats.idle <= stats.size, "{stats:?}");
            prop_assert_eq!(alive, held.len() + stats.idle);
            prop_assert!(stats.waiters <= gets.len());
        }
        // Everything given back: every slot can be had again, at once.
        drop(gets);
        drop(held);
        let stats = pool.statistics();
        prop_assert_eq!(stats.waiters, 0);
        prop_assert_eq!(stats.size, stats.idle);
        prop_assert_eq!(live.load(Ordering::SeqCst), stats.size);
        let mut again = Vec::new();
        for _ in 0..max {
            let mut get: Pending<'_> = Box::pin(pool.get());
            let mut out = poll(&mut get);
            if out.is_pending() {
                out = poll(&mut get); // a creation takes one more poll
            }
            match out {
                Poll::Ready(Ok(object)) => again.push(object),
                other => prop_assert!(false, "slot lost: {:?}", other.map(|r| r.map(|o| o.id))),
            }
        }
        let mut extra: Pending<'_> = Box::pin(pool.get());
        prop_assert!(poll(&mut extra).is_pending(), "more than max_size lent");
    }
);

/// A manager whose user code panics on demand: `is_broken`, `recycle`,
/// `create`, and the objects' own drop.
#[cfg(feature = "std")]
mod hostile {
    use core::sync::atomic::{AtomicBool, Ordering::SeqCst};

    use super::*;
    use crate::util::hostile::panics;

    #[derive(Debug, Default)]
    struct Touchy {
        in_is_broken: AtomicBool,
        in_recycle: AtomicBool,
        in_create: AtomicBool,
    }

    #[derive(Debug)]
    struct Thing {
        panic_on_drop: bool,
    }

    impl Drop for Thing {
        fn drop(&mut self) {
            if self.panic_on_drop && !std::thread::panicking() {
                panic!("Thing::drop");
            }
        }
    }

    impl Manager for Touchy {
        type Object = Thing;
        type Error = ();

        fn create(&self) -> impl Future<Output = Result<Thing, ()>> + Send {
            assert!(!self.in_create.load(SeqCst), "Touchy::create");
            async {
                Ok(Thing {
                    panic_on_drop: false,
                })
            }
        }

        fn recycle(&self, object: Thing) -> impl Future<Output = Result<Thing, ()>> + Send {
            assert!(!self.in_recycle.load(SeqCst), "Touchy::recycle");
            async { Ok(object) }
        }

        fn is_broken(&self, _: &Thing) -> bool {
            assert!(!self.in_is_broken.load(SeqCst), "Touchy::is_broken");
            false
        }
    }

    type TouchyPool = Pool<Touchy, VirtualTime>;

    fn pool() -> TouchyPool {
        Pool::builder(Touchy::default())
            .max_size(1)
            .wait_timeout(None)
            .build(VirtualTime::new())
            .unwrap()
    }

    fn get_now(pool: &TouchyPool) -> Object<Touchy> {
        let mut get = Box::pin(pool.get());
        let waker = noop_waker();
        match get.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(Ok(object)) => object,
            _ => panic!("the pool's one slot is free"),
        }
    }

    /// The one slot can be had again, and nothing is left counted.
    #[track_caller]
    fn assert_whole(pool: &TouchyPool) {
        drop(get_now(pool));
        let stats = pool.statistics();
        assert_eq!(
            (stats.size, stats.in_use, stats.waiters),
            (1, 0, 0),
            "{stats:?}"
        );
    }

    #[test]
    fn a_discarded_object_whose_drop_panics_frees_its_slot_and_permit() {
        let pool = pool();
        let mut object = get_now(&pool);
        object.panic_on_drop = true;
        Object::mark_broken(&mut object);
        assert!(panics(move || drop(object)));
        assert_eq!(pool.statistics().size, 0);
        assert_whole(&pool);
    }

    #[test]
    fn an_is_broken_that_panics_discards_the_object_and_frees_its_permit() {
        let pool = pool();
        let object = get_now(&pool);
        pool.manager().in_is_broken.store(true, SeqCst);
        assert!(panics(move || drop(object)));
        pool.manager().in_is_broken.store(false, SeqCst);
        assert_eq!(pool.statistics().size, 0);
        assert_whole(&pool);
    }

    /// `close` drops every idle object and frees its slot, even if their
    /// drops panic; the first panic comes out after.
    #[test]
    fn close_frees_every_idle_slot_even_if_an_idle_object_drop_panics() {
        let pool = Pool::builder(Touchy::default())
            .max_size(2)
            .wait_timeout(None)
            .build(VirtualTime::new())
            .unwrap();
        let mut a = get_now(&pool);
        let mut b = get_now(&pool);
        a.panic_on_drop = true;
        b.panic_on_drop = true;
        drop((a, b));
        assert_eq!(pool.statistics().idle, 2);
        assert!(panics(|| pool.close()));
        let stats = pool.statistics();
        assert_eq!(
            (stats.size, stats.idle, stats.discarded),
            (0, 0, 2),
            "{stats:?}"
        );
        assert!(pool.is_closed());
    }

    #[test]
    fn a_recycle_or_create_that_panics_frees_the_slot_and_permit() {
        let pool = pool();
        drop(get_now(&pool)); // one idle object, to recycle
        pool.manager().in_recycle.store(true, SeqCst);
        assert!(panics(|| drop(get_now(&pool))));
        pool.manager().in_recycle.store(false, SeqCst);
        assert_eq!(pool.statistics().size, 0, "the object was discarded");
        pool.manager().in_create.store(true, SeqCst);
        assert!(panics(|| drop(get_now(&pool))));
        pool.manager().in_create.store(false, SeqCst);
        assert_eq!(pool.statistics().size, 0);
        assert_whole(&pool);
    }
}
