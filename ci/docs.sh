#!/usr/bin/env bash
# Fails when a public fn (core or compat crate) that returns a named future (or is async) has no
# `# Cancel safety` section in its docs, or one that does not open with one
# of the three approved sentences (CONTRIBUTING.md lists them), word for word.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
import pathlib, re, sys

fut_ret = re.compile(r'^\s*pub\s+(?:const\s+)?fn\s+(\w+)')
roots = ["crates/anysync/src"] + sorted(str(d / "src") for d in pathlib.Path("compat").iterdir())
files = [p for root in roots for p in sorted(pathlib.Path(root).rglob("*.rs"))
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
APPROVED = (
    "This method is cancel safe: dropping the future before it completes has no effect.",
    "This method is cancel safe. Dropping the future gives up its place in the queue; "
    "a wake-up it had already received is passed to the next waiter.",
)
NOT_SAFE = "This method is **not** cancel safe: "
# A combinator over the caller's future is exactly as cancel safe as that
# future: "This method is cancel safe if `future` is: <what dropping does>."
IF_SAFE = re.compile(r"This method is cancel safe if `\w+` is: ")

def section(doc):
    """The text of the `# Cancel safety` section, one line."""
    out, inside = [], False
    for d in doc:
        t = d.strip()
        if not t.startswith("///"):
            continue
        t = t[3:].strip()
        if t.startswith("#"):
            inside = t == "# Cancel safety"
            continue
        if inside:
            if not t and out:
                break
            out.append(t)
    return " ".join(x for x in out if x)

missing, wrong = [], []
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
            continue
        text = section(list(reversed(doc)))
        if not (text.startswith(APPROVED) or text.startswith(NOT_SAFE)
                or IF_SAFE.match(text)):
            wrong.append(f"{path}:{i+1}: pub fn {m.group(1)}: {text[:90]!r}")
if missing:
    print("public functions returning futures without a `# Cancel safety` section:")
    print("\n".join(missing))
if wrong:
    print("`# Cancel safety` sections that do not open with an approved sentence:")
    print("\n".join(wrong))
if missing or wrong:
    sys.exit(1)
print(f"cancel-safety docs: ok ({len(futures)} future types checked)")
PY
