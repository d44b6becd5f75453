#!/usr/bin/env bash
# rustfmt on every tracked `.rs` file, one file at a time, so code that
# `cargo fmt` cannot reach (a module declared inside a macro, a file no
# crate includes) is checked too.
#
# Each file goes through rustfmt's stdin: that formats exactly that file
# and follows none of its `mod` declarations. (Given a path, rustfmt treats
# the file as a non-`mod.rs` module and looks for `foo.rs`'s children in
# `foo/`, which is wrong for crate roots such as `tests/tests/foo.rs` or
# `src/bin/foo.rs`; and with stdin, `--check` always exits 0, hence the diff.)
#
# The test firmware in tests/embedded is its own workspace with its own
# rustfmt.toml; ci/embedded.sh checks it with that configuration.
set -euo pipefail
cd "$(dirname "$0")/.."

formatted="$(mktemp)"
trap 'rm -f "$formatted"' EXIT
status=0
while IFS= read -r file; do
  if ! rustfmt --edition 2021 --config-path .rustfmt.toml <"$file" >"$formatted"; then
    echo "rustfmt could not parse $file"
    status=1
  elif ! diff -u --label "$file" --label "$file (rustfmt)" "$file" "$formatted"; then
    status=1
  fi
done < <(git ls-files '*.rs' ':!tests/embedded/')
if [ "$status" != 0 ]; then
  echo "rustfmt: the files above are not formatted (run rustfmt --edition 2021 on them)"
fi

# rustfmt leaves a macro invoked with braces alone, so the structs and
# functions written inside `pin_project! { ... }` were never formatted.
# Invoked with parentheses (`pin_project!( ... );`), they are. Only
# criterion_group!, which lists names, keeps its braces. This covers the
# firmware in tests/embedded too.
if git grep -nE '^\s*[A-Za-z0-9_:]+! *\{\s*(//.*)?$' -- '*.rs' |
  grep -v 'criterion_group!'; then
  echo "rustfmt: the macros above are invoked with braces, which hides their contents from rustfmt; use parentheses and a trailing ';'"
  status=1
fi
exit "$status"
