#!/usr/bin/python3
"""Every field docs/report-json.md documents is in the real output (TAP).

usage: test-schema.py SOCKAUDIT SHIM SC-SCHEMA REPORT-JSON.MD

The field lists come from the document itself, so the two cannot drift: each
`## `sockaudit.X/1`` section's JSON example gives the top-level keys, each
table row a key of the object its heading names (`### process`,
`#### frames[]`, `### Socket objects (`groups[].sockets[]`, `untracked[]`)`,
...), with its documented type. Where a row's meaning spells out inner keys
(`{ "peer": string, "count": int }`, or `devlog`, `nscd`, ...: for an
object), those are checked too. The documents come from the CLI run on
sc-schema, a scenario that holds something of every kind: report --json
--all, dump --json, list --json (and --gc on a run directory left behind),
run --json.

Every documented key must be present with a value of a documented type in
every object of its place (dump's records: those with status "ok"), and
every place must have at least one object to look at; every key the CLI
prints must be documented. A heading the test cannot place fails it: a new
section of the document needs a line in PLACES below.
"""

import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import Tap  # noqa: E402  (tests/lib/tap.py, shared)

WAIT_S = 10


def bail(why):
    print("Bail out! " + why, flush=True)
    sys.exit(1)


# Where each table of the document lives in its JSON: (schema, heading as
# written after the ###) -> paths ("" is the top level, "a[]" every element
# of array a, "a.b" object b inside a). A heading not listed fails the test.
PLACES = {
    ("report", "process"): ["process"],
    ("report", "options"): ["options"],
    ("report", "kernel"): ["kernel"],
    ("report", "summary"): ["summary"],
    ("report", "groups[]"): ["groups[]"],
    ("report", "frames[]"): ["groups[].frames[]"],
    ("report", "Socket objects (groups[].sockets[], untracked[])"):
        ["groups[].sockets[]", "untracked[]"],
    ("report", "peer_process (on a socket object)"):
        ["groups[].sockets[].peer_process"],
    ("report", "Leak rule"): [],
    ("report", "stale[]"): ["stale[]"],
    ("report", "rescued"): ["rescued"],
    ("report", "rescued.sockets[]"): ["rescued.sockets[]"],
    ("report", "unknown_slots, notes"): [],
    ("list", None): ["processes[]"],          # the first, headless table
    ("list", "run_dirs"): ["run_dirs[]"],     # the table after run_dirs
    ("run", None): [""],
    ("run", "result"): ["result"],
    ("run", "options"): ["options"],
    ("run", "summary"): ["summary"],
    ("run", "processes[]"): ["processes[]"],
    ("run", "groups[]"): ["groups[]"],
    ("run", "Added:"): ["groups[].sockets[]"],
    ("dump", None): [""],
    ("host", None): [""],
    ("host", "summary"): ["summary"],
    ("dump", "Each record:"): ["records[]"],
}

# Places only the kernel-side recorder fills (`sockaudit trace`, root):
# never in this test's shim scenario; tests/trace/test-trace.c (go-gc)
# checks their keys against a real report.
RECORDER_ONLY = {("report", "rescued.sockets[]")}

# Places that also take the keys of another place (run's sockets are the
# report's socket objects plus the "Added:" table; run's groups take the
# report's frames).
INHERIT = {
    ("run", "groups[].sockets[]"): ("report", "groups[].sockets[]"),
    ("run", "groups[].frames[]"): ("report", "groups[].frames[]"),
}


def read_doc(path):
    """{schema: {place: {key: (type, meaning)}}} and a list of problems."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    doc, problems = {}, []
    schema = heading = None
    in_code = False
    code = []
    table_places = None
    for line in lines:
        if line.startswith("```"):
            if in_code and schema and code:
                # The example of a schema section: its top-level keys.
                text = "\n".join(code)
                top = doc[schema].setdefault("", {})
                for key in re.findall(r'^  "(\w+)":', text, re.M):
                    top.setdefault(key, ("", "the example"))
                # list/1's options are only in its example.
                m = re.search(r'"options": \{([^}]*)\}', text)
                if m:
                    opts = doc[schema].setdefault("options", {})
                    for key in re.findall(r'"(\w+)":', m.group(1)):
                        opts.setdefault(key, ("", "the example"))
            in_code = not in_code
            code = []
            continue
        if in_code:
            code.append(line)
            continue
        m = re.match(r"^## `sockaudit\.(\w+)/1`", line)
        if m:
            schema, heading, table_places = m.group(1), None, None
            doc[schema] = {}
            continue
        if line.startswith("## "):
            schema = None
            continue
        if schema is None:
            continue
        m = re.match(r"^#{3,4} (.*)$", line)
        if m:
            heading = m.group(1).replace("`", "").strip()
            table_places = None
            continue
        if line in ("Each record:",) or line.endswith("Added:"):
            heading = "Added:" if line.endswith("Added:") else line
            table_places = None
            continue
        if line.startswith("`run_dirs`"):
            heading = "run_dirs"
            table_places = None
            continue
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("key", "schema") or \
                set(cells[0]) <= set("-: "):
            continue
        if table_places is None:
            if (schema, heading) not in PLACES:
                problems.append("docs/report-json.md: sockaudit.%s/1, "
                                "section %r: the test does not know where "
                                "it is in the JSON (add it to PLACES)"
                                % (schema, heading))
                table_places = []
            else:
                table_places = PLACES[(schema, heading)]
        kind, meaning = cells[1], "|".join(cells[2:])
        for key in re.findall(r"`([^`]+)`", cells[0]):
            for place in table_places:
                doc[schema].setdefault(place, {})[key] = (kind, meaning)
    for (schema, place), (src_schema, src_place) in INHERIT.items():
        merged = dict(doc.get(src_schema, {}).get(src_place, {}))
        merged.update(doc.get(schema, {}).get(place, {}))
        doc.setdefault(schema, {})[place] = merged
    return doc, problems


def type_ok(value, kind):
    """Does value fit a documented type ("int / null", "array of string",
    "string or null", "object", "" for any)?"""
    kind = kind.lower()
    if not kind:
        return True
    alts = [a.strip() for a in re.split(r"\s*/\s*|\s+or\s+", kind)]
    for alt in alts:
        if alt == "null" and value is None:
            return True
        if alt in ("int", "integer") and type(value) is int:
            return True
        if alt in ("bool", "boolean") and type(value) is bool:
            return True
        if alt == "string" and type(value) is str:
            return True
        if alt.startswith("object") and type(value) is dict:
            return True
        if alt.startswith("array") and type(value) is list:
            m = re.match(r"array of (\w+?)s?$", alt)
            if not m:
                return True
            return all(type_ok(v, m.group(1)) for v in value)
    return False


def inner_keys(kind, meaning):
    """Keys a row's meaning spells out for the values inside it: the
    `{ "k": ... }` of an element, or the `names` of an object's keys."""
    m = re.search(r"\{\s*\"[^}]*\}", meaning)
    if m:
        return "each", re.findall(r'"(\w+)":', m.group(0))
    if kind.lower().startswith("object"):
        first = re.split(r";|\. ", meaning)[0]
        names = [n for n in re.findall(r"`([^`]+)`", first)
                 if re.match(r"^[a-z][a-z_-]*$", n)]
        if names:
            return "keys", names
    return None, []


def objects_at(root, place):
    """Every object at a place ("groups[].sockets[]")."""
    objs = [root]
    if not place:
        return objs
    for part in place.split("."):
        nxt = []
        for o in objs:
            if not isinstance(o, dict):
                continue
            if part.endswith("[]"):
                v = o.get(part[:-2])
                if isinstance(v, list):
                    nxt.extend(e for e in v if isinstance(e, dict))
            elif isinstance(o.get(part), dict):
                nxt.append(o[part])
        objs = nxt
    return objs


def check_schema(tap, name, root, fields, skip_obj=None):
    """Each documented place of schema `name` against the document root."""
    for place, keys in sorted(fields.items()):
        objs = [o for o in objects_at(root, place)
                if not (skip_obj and skip_obj(place, o))]
        where = "sockaudit.%s/1 %s" % (name, place or "(top level)")
        if not objs and (name, place) in RECORDER_ONLY:
            tap.ok(True, "%s: filled by the recorder only, checked in "
                   "tests/trace" % where)
            continue
        if not tap.ok(len(objs) > 0, "%s: the output has one to check (%d)"
                      % (where, len(objs))):
            continue
        missing, badtype, badinner = [], [], []
        for key, (kind, meaning) in sorted(keys.items()):
            how, inner = inner_keys(kind, meaning)
            for o in objs:
                if key not in o:
                    missing.append(key)
                    break
                if not type_ok(o[key], kind):
                    badtype.append("%s=%r (documented %s)"
                                   % (key, o[key], kind))
                    break
                v = o[key]
                if how == "keys" and isinstance(v, dict):
                    lost = [k for k in inner if k not in v]
                    if lost:
                        badinner.append("%s lacks %s" % (key, lost))
                        break
                elif how == "each":
                    # An array's elements; an object's values ("states"),
                    # unless it is itself the object ("suppressed").
                    if isinstance(v, dict):
                        elems = [v] if all(k in v for k in inner) else \
                            list(v.values())
                    else:
                        elems = v if isinstance(v, list) else []
                    lost = [k for e in elems for k in inner
                            if not (isinstance(e, dict) and k in e)]
                    if lost:
                        badinner.append("%s element lacks %s"
                                        % (key, sorted(set(lost))))
                        break
        tap.ok(not missing, "%s: every documented key is there (%d)%s"
               % (where, len(keys),
                  "; missing: " + ", ".join(missing) if missing else ""))
        tap.ok(not badtype, "%s: every value has its documented type%s"
               % (where, "; " + "; ".join(badtype) if badtype else ""))
        tap.ok(not badinner, "%s: the inner keys the document names are "
               "there%s" % (where, "; " + "; ".join(badinner)
                            if badinner else ""))
        extra = sorted({k for o in objs for k in o} - set(keys))
        tap.ok(not extra, "%s: every key printed is documented%s"
               % (where, "; undocumented: " + ", ".join(extra)
                  if extra else ""))


def read_line(stream, timeout):
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([stream], [], [], left)
        if not ready:
            return None
        chunk = os.read(stream.fileno(), 1)
        if not chunk:
            return None
        data += chunk
    return data.decode()


def cli_json(tap, cli, args, env, want_status=(0, 1)):
    r = subprocess.run([cli] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60, env=env)
    try:
        root = json.loads(r.stdout)
    except ValueError:
        root = None
    if not tap.ok(r.returncode in want_status and isinstance(root, dict),
                  "sockaudit %s: exit %d, one JSON document"
                  % (" ".join(args), r.returncode)):
        tap.diag("stderr: " + r.stderr)
        return None
    return root


def main():
    if len(sys.argv) != 5:
        bail("usage: test-schema.py SOCKAUDIT SHIM SC-SCHEMA REPORT-JSON.MD")
    cli, shim, scenario, doc_path = sys.argv[1:]
    tap = Tap()
    doc, problems = read_doc(doc_path)
    tap.ok(not problems, "every table of docs/report-json.md has a place")
    for p in problems:
        tap.diag(p)
    tap.ok(sorted(doc) == ["dump", "host", "list", "report", "run"],
           "the document describes report, report -A, list, run and dump (%s)"
           % ", ".join(sorted(doc)))

    tmp = tempfile.mkdtemp(prefix="sockaudit-schema-")
    env = dict(os.environ, SOCKAUDIT_DIR=tmp)
    proc = None
    try:
        proc = subprocess.Popen([scenario], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                env=dict(env, LD_PRELOAD=shim))
        line = read_line(proc.stdout, WAIT_S)
        if not line or not line.startswith("ready "):
            bail("sc-schema did not get ready: %r" % line)
        pid = str(proc.pid)

        docs = {}
        docs["report"] = cli_json(tap, cli, ["report", "--json", "--all",
                                             "--close-wait", "0ms", pid], env)
        docs["dump"] = cli_json(tap, cli, ["dump", "--json", pid], env, (0,))
        docs["host"] = cli_json(tap, cli, ["report", "-A", "--json", "--all",
                                           "--close-wait", "0ms"], env)
        docs["list"] = cli_json(tap, cli, ["list", "--json"], env, (0,))

        # A run directory whose run is gone, for list --gc's run_dirs.
        gone = subprocess.Popen(["true"])
        gone.wait()
        rdir = os.path.join(tmp, "sockaudit-run.0123456789abcdef")
        os.mkdir(rdir, 0o700)
        open(os.path.join(rdir, "owner.%d.1" % gone.pid), "w").close()
        gc = cli_json(tap, cli, ["list", "--json", "--gc"], env, (0,))
        if gc is not None and docs["list"] is not None:
            docs["list"]["run_dirs"] = gc.get("run_dirs")

        run_json = os.path.join(tmp, "run.json")
        r = subprocess.run([cli, "run", "--json", run_json, "--preload", shim,
                            "--fail-on", "at-exit", "--", scenario],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=60, env=env)
        try:
            with open(run_json, encoding="utf-8") as f:
                docs["run"] = json.load(f)
        except (OSError, ValueError) as e:
            docs["run"] = None
            tap.diag("run: %s; stderr: %s" % (e, r.stderr))
        tap.ok(r.returncode == 1 and docs["run"] is not None,
               "sockaudit run --json --fail-on at-exit -- sc-schema: exit 1 "
               "(%d), one JSON document" % r.returncode)

        for name in ("report", "list", "run", "dump", "host"):
            root = docs.get(name)
            if root is None:
                tap.ok(False, "sockaudit.%s/1: no document to check" % name)
                continue
            tap.ok(root.get("schema") == "sockaudit.%s/1" % name,
                   "schema is sockaudit.%s/1 (%r)" % (name, root.get("schema")))
            check_schema(tap, name, root, doc.get(name, {}),
                         lambda place, o: place == "records[]" and
                         o.get("status") != "ok")
    finally:
        if proc:
            proc.stdin.close()
            try:
                proc.wait(timeout=WAIT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
