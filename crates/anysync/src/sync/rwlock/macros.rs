//! The macros that give the futures and guards their common impls.

/// Shared impls of the futures: `FusedFuture` and `Debug`.
macro_rules! future_common {
    ($name:ident<$($lt:lifetime,)? T>, |$this:ident| $terminated:expr) => {
        impl<$($lt,)? T: ?Sized> FusedFuture for $name<$($lt,)? T> {
            fn is_terminated(&self) -> bool {
                let $this = self;
                $terminated
            }
        }

        impl<$($lt,)? T: ?Sized> fmt::Debug for $name<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("done", &FusedFuture::is_terminated(self))
                    .finish_non_exhaustive()
            }
        }
    };
}

/// `Deref` for the guards that reach the data through their `Hold`.
macro_rules! guard_deref {
    ($name:ident<$($lt:lifetime,)? T>) => {
        impl<$($lt,)? T: ?Sized> Deref for $name<$($lt,)? T> {
            type Target = T;
            fn deref(&self) -> &T {
                self.hold.data()
            }
        }
    };
}

/// Shared impls of the guards: `Debug` and `Display`.
macro_rules! guard_common {
    ($name:ident<$($lt:lifetime,)? T>) => {
        impl<$($lt,)? T: ?Sized + fmt::Debug> fmt::Debug for $name<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$($lt,)? T: ?Sized + fmt::Display> fmt::Display for $name<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    };
}

/// `DerefMut` for the write guards.
macro_rules! guard_deref_mut {
    ($name:ident<$($lt:lifetime,)? T>) => {
        impl<$($lt,)? T: ?Sized> DerefMut for $name<$($lt,)? T> {
            fn deref_mut(&mut self) -> &mut T {
                self.hold.rwlock().data.with_mut(|p| {
                    // SAFETY: a write guard holds every read permit, so no
                    // other guard exists, and `&mut self` makes this
                    // reference unique.
                    unsafe { &mut *p }
                })
            }
        }
    };
}
