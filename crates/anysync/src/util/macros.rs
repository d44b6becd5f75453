//! Internal macros.

/// Emits a `const fn` normally and a plain `fn` under loom, whose types
/// cannot be built in a const context.
///
/// Invoke it with parentheses, `loom_const_fn!( ... );`: rustfmt formats
/// the function inside those, and leaves a braced invocation alone
/// (`ci/rustfmt-all.sh` rejects one).
macro_rules! loom_const_fn {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident($($arg:ident: $T:ty),* $(,)?) -> $Ret:ty $body:block
    ) => {
        $(#[$meta])*
        #[cfg(not(anysync_loom))]
        $vis const fn $name($($arg: $T),*) -> $Ret $body

        $(#[$meta])*
        #[cfg(anysync_loom)]
        $vis fn $name($($arg: $T),*) -> $Ret $body
    };
}
pub(crate) use loom_const_fn;
