#!/usr/bin/env bash
# Fails when a public fn that returns a named future (or is async) has no
# `# Cancel safety` section in its docs (the rule and its three approved
# sentences are in CONTRIBUTING.md).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
import pathlib, re, sys

fut_ret = re.compile(r'^\s*pub\s+(?:const\s+)?fn\s+(\w+)')
files = [p for p in sorted(pathlib.Path("crates/anysync/src").rglob("*.rs"))
         if "tests" not in p.parts and p.name != "tests.rs"]
# The crate's named futures: every type with a `Future` impl, plus the
# runtime traits' associated future types.
futures = {"Self::Sleep", "Self::JoinHandle", "Self::BlockingHandle"}
impl_re = re.compile(r'impl\s*(?:<[^>]*>)?\s*(?:core::future::)?Future\s+for\s+(\w+)')
struct_re = re.compile(r'pub\s+struct\s+(\w+)')
local, defined = {}, {}
for path in files:
    text = path.read_text()
    local[path] = set(impl_re.findall(text))
    futures.update(local[path])
    for name in struct_re.findall(text):
        defined.setdefault(name, set()).add(path)
futures.discard("T")
# A name that is also a non-future type somewhere (oneshot::Receiver is a
# future, broadcast::Receiver is not) only counts in files that make it one.
ambiguous = {n for n in futures
             if any(n not in local[p] for p in defined.get(n, ()))}
missing = []
for path in files:
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        m = fut_ret.match(line)
        if not m:
            continue
        sig, j = line, i
        while "{" not in sig and ";" not in sig and j + 1 < len(lines):
            j += 1
            sig += " " + lines[j].strip()
        if "->" not in sig:
            continue
        ret = sig.split("->", 1)[1].split("{", 1)[0].split(" where ", 1)[0].strip()
        head = re.split(r'[<\s;]', ret, 1)[0]
        is_future = head in local[path] or (head in futures and head not in ambiguous)
        if not is_future and not ret.startswith("impl Future"):
            continue
        k, doc = i - 1, []
        while k >= 0 and (lines[k].strip().startswith(("///", "#[")) ):
            doc.append(lines[k])
            k -= 1
        if not any("# Cancel safety" in d for d in doc):
            missing.append(f"{path}:{i+1}: pub fn {m.group(1)} -> {ret}")
if missing:
    print("public functions returning futures without a `# Cancel safety` section:")
    print("\n".join(missing))
    sys.exit(1)
print(f"cancel-safety docs: ok ({len(futures)} future types checked)")
PY
