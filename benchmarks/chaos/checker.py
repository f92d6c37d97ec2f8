#!/usr/bin/env python3
"""Chaos checker: joins the receiver's log with the ledger per (notice, group) and checks the targets.

Two views of the receiver, per (notice, group):
    accepted  requests the receiver answered 2xx: the message is in the group for sure (strict view)
    maybe     requests it read in full but dropped or hung on: a real receiver may have processed them
    refused   requests answered 429/503: seen, not processed
The strict view (accepted) decides "delivered exactly once", "duplicates" and "phantom sent"; the pessimistic
view (accepted + maybe) decides "possible duplicates". Both are printed.

Targets (exit 1 on a violation):
    hold    silent misses = phantom = stuck = 0; nothing sent again after the receiver confirmed it in time; one
            webhook-id per (notice, group); every in_doubt row was claimed at a kill or had a dropped/hung request,
            and in_doubt <= claimed at the kills + dropped/hung requests; nothing dead that the receiver accepted.
            The groups are generic (Standard Webhooks), whose receivers drop a repeat by webhook-id, so gridcast
            resends an unknown outcome to them by itself (docs/sinks.md): "resent after unknown" and the
            duplicates a receiver that does not deduplicate would count are printed, not targets.
    resend  silent misses = 0 (duplicates allowed, counted)
    both    no malformed request, nothing sent once settled, the final run exits as documented, `gridcast
            ledger verify` passes (when the command exists), SQLite integrity_check is ok

PostgreSQL runs (kills.json has "ledger": "postgres"): what each kill -9 or SIGSTOP left in doubt is read from the
ledger's event log (psql): every `expire` event's deliveries are attributed to the owner of their last claim, and
that owner to the instance (pid) killed or paused last before the event. Under hold the in_doubt rows must all be
explained by such an action (or a dropped/hung/late request), each action may leave at most twice
dispatch.concurrency, no claim of an instance nobody killed or paused may be ended, no (notice, group) may be
accepted twice unless the earlier accept was answered late, no instance may exit by itself, and every instance must
exit 0 on SIGTERM. SQLite's integrity_check does not apply.
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys


def load_jsonl(path):
    lines, torn = [], 0
    with open(path, "rb") as f:
        for raw in f:
            try:
                lines.append(json.loads(raw))
            except ValueError:
                torn += 1
    return lines, torn


def ledger_list(bin_, config):
    done = subprocess.run([bin_, "ledger", "list", "--config", config, "--format", "json"], capture_output=True,
                          timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"gridcast ledger list exited {done.returncode}: {done.stderr.decode()[-400:]}")
    return json.loads(done.stdout or b"[]")


def ledger_verify(bin_, config):
    helptext = subprocess.run([bin_, "ledger", "--help"], capture_output=True, timeout=60)
    if b"verify" not in helptext.stdout + helptext.stderr:
        return {"status": "unavailable", "ok": None}
    done = subprocess.run([bin_, "ledger", "verify", "--config", config], capture_output=True, timeout=600)
    out = (done.stdout + done.stderr).decode(errors="replace").strip()
    return {"status": "ok" if done.returncode == 0 else "FAILED", "ok": done.returncode == 0,
            "exit": done.returncode, "output": out[-400:]}


def integrity(path):
    try:
        db = sqlite3.connect(path, timeout=30)
        result = [row[0] for row in db.execute("PRAGMA integrity_check")]
        db.close()
        return "ok" if result == ["ok"] else "; ".join(result[:5])
    except sqlite3.Error as e:
        return f"error: {e}"


def psql(url, sql):
    done = subprocess.run(["psql", url, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"psql: {done.stderr.decode(errors='replace')[-400:]}")
    return [line.split("\t") for line in done.stdout.decode().splitlines() if line]


def postgres_claims(meta):
    """From the event log: what each chaos action left claimed ({action k: set of (notice, group)}), the claims ended
    by expiry that no kill or pause explains (made by an instance nobody killed or paused, or after its restart or
    SIGCONT), per (notice, group) how many attempts ended with an unknown outcome that gridcast then resent (the
    client never saw an answer, whatever the receiver logged), and the (notice, group) claimed again after the
    ledger recorded them sent."""
    url = meta["ledger_url"]
    keys = {i: (n, g) for i, n, g in psql(url, "SELECT id, notice_id, group_id FROM deliveries")}
    owner_pid = {o: int(p) for o, p in psql(url, "SELECT owner, pid FROM instances")}
    actions = [k for k in meta.get("kills", []) if k.get("type") in ("kill", "pause")]
    by_action = {k["k"]: set() for k in actions}
    live, current, unknown, sent, resent_after_sent = set(), {}, {}, set(), set()
    for at, kind, payload in psql(url, "SELECT at, kind, payload FROM events ORDER BY seq"):
        at = int(at) / 1000
        for image in json.loads(payload):
            if image.get("table") != "deliveries":
                continue
            row = image.get("set") or image.get("row") or {}
            did = row.get("id")
            key = keys.get(did, ("?", did))
            state = row.get("state")
            if state == "claimed" and row.get("lease_owner"):
                current[did] = (row["lease_owner"], at)
                if did in sent:
                    resent_after_sent.add(key)
            if kind == "outcome" and state == "sent":
                sent.add(did)
            if kind == "outcome" and state == "retry" and "outcome unknown" in (row.get("last_error") or ""):
                unknown[key] = unknown.get(key, 0) + 1
            if kind != "expire" or did is None:
                continue
            owner, claimed_at = current.pop(did, (None, None))
            pid = owner_pid.get(owner)
            # the kill or pause of that process that the claim was made before (kill: its moment; pause: its
            # SIGCONT), and that came before the expiry (the event's time is the expiring instance's clock)
            hit = [k for k in actions if k.get("pid") == pid and k["t"] <= at + 1.0
                   and claimed_at is not None and claimed_at <= k.get("t_cont", k["t"]) + 0.25]
            if hit:
                by_action[hit[-1]["k"]].add(key)
            else:
                live.add(key)
    return by_action, live, unknown, resent_after_sent


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--dir", required=True, help="the run directory written by run.sh / killer.py")
    ap.add_argument("--harness-exit", type=int, default=0, help="the killer's exit status")
    a = ap.parse_args()
    run = os.path.abspath(a.dir)
    with open(os.path.join(run, "kills.json")) as f:
        meta = json.load(f)
    policy, mode, notice = meta["policy"], meta["mode"], meta["notice_id"]
    config = meta["config"]
    with open(os.path.join(run, "groups.csv")) as f:
        groups = [line.split(",", 1)[0] for line in f.read().splitlines()[1:] if line]
    expected = {(notice, g) for g in groups}

    log, torn = load_jsonl(os.path.join(run, "received.jsonl"))
    # Requests answered so late that the client may have timed out: for the client, not a confirmation.
    late_requests = {(line["wid"], line["n"]) for line in log if line.get("event") == "late"}
    per = {}
    bad = 0
    faults = {"ok": 0, "429": 0, "503": 0, "drop": 0, "hang": 0, "bad": 0}
    late_keys, late = set(), 0
    for line in log:
        if line.get("event") == "late":
            late += 1
            late_keys.add((line["notice"], line["group"]))
            continue
        faults[line["fault"]] = faults.get(line["fault"], 0) + 1
        if not line.get("ok"):
            bad += 1
            continue
        key = (line["notice"], line["group"])
        p = per.setdefault(key, {"accepted": 0, "maybe": 0, "refused": 0, "wids": set(), "events": []})
        p["wids"].add(line["wid"])
        p["events"].append(line["fault"])
        p.setdefault("confirmed", []).append(line["fault"] == "ok" and (line["wid"], line["n"]) not in late_requests)
        if line["fault"] == "ok":
            p["accepted"] += 1
        elif line["fault"] in ("drop", "hang"):
            p["maybe"] += 1
        else:
            p["refused"] += 1

    rows = ledger_list(a.bin, config)
    ledger = {(r["notice_id"], r["group_id"]): r for r in rows}
    states = {}
    for r in rows:
        states[r["state"]] = states.get(r["state"], 0) + 1

    postgres = meta.get("ledger") == "postgres"
    claimed_keys = set()
    expired_live, unknown_resent, resent_after_sent = set(), {}, set()
    if postgres:
        by_action, expired_live, unknown_resent, resent_after_sent = postgres_claims(meta)
        for k in meta.get("kills", []):
            if k["k"] in by_action:
                k["claimed_keys"] = sorted(by_action[k["k"]])
                k["claimed_at_kill"] = len(by_action[k["k"]])
    for k in meta.get("kills", []):
        claimed_keys.update((n, g) for n, g in k["claimed_keys"])
    # distinct keys: a row still claimed by an earlier dead process is listed again at the next kill
    claimed_at_kills = len(claimed_keys)
    inflight_at_kills = sum(k["receiver_inflight"] for k in meta.get("kills", []))
    max_claimed = max((k["claimed_at_kill"] for k in meta.get("kills", [])), default=0)
    maybe_keys = {key for key, p in per.items() if p["maybe"] > 0}

    c = {name: 0 for name in [
        "exactly_once", "exactly_once_sent", "exactly_once_in_doubt", "duplicates", "duplicate_extra_accepts",
        "possible_duplicates", "silent_misses", "phantom_sent", "missing_rows", "stuck", "in_doubt",
        "in_doubt_accepted", "in_doubt_maybe", "in_doubt_refused_only", "in_doubt_not_received",
        "in_doubt_unexplained", "dead", "dead_but_accepted", "resent_after_unknown", "resent_after_confirmed",
        "unplanned_received",
        "multiple_webhook_ids", "duplicates_unexplained"]}
    examples = {}

    def note(name, key):
        c[name] += 1
        examples.setdefault(name, []).append(f"{key[0]}/{key[1]}") if len(examples.get(name, [])) < 5 else None

    # A request the receiver read only when the client's timeout ran out (accept queue or socket buffers of a busy
    # receiver after a restart's burst of new connections): the client saw a hang (curl 28) though the receiver
    # answered at once. Like a late answer, it explains an in_doubt row.
    for key, row in ledger.items():
        if row.get("state") == "in_doubt" and "curl 28" in (row.get("last_error") or "") and key in per:
            late_keys.add(key)

    for key in sorted(expected | set(ledger) | set(per)):
        p = per.get(key, {"accepted": 0, "maybe": 0, "refused": 0, "wids": set(), "events": []})
        row = ledger.get(key)
        state = row["state"] if row else None
        acc, maybe = p["accepted"], p["maybe"]
        events = p["events"]
        if key not in expected:
            note("unplanned_received", key)
        if acc == 1:
            note("exactly_once", key)
            if state == "sent":
                c["exactly_once_sent"] += 1
            elif state == "in_doubt":
                c["exactly_once_in_doubt"] += 1
        if acc >= 2:
            note("duplicates", key)
            c["duplicate_extra_accepts"] += acc - 1
            # an earlier accept the client did not see explains a second one: answered late, or (PostgreSQL runs)
            # an attempt the ledger ended as an unknown outcome and resent (a SIGSTOPped client times out on an
            # answer that came in time)
            accepts = [conf for conf, e in zip(p.get("confirmed", []), events) if e == "ok"]
            if sum(accepts[:-1]) > unknown_resent.get(key, 0):
                note("duplicates_unexplained", key)
        if acc + maybe >= 2:
            note("possible_duplicates", key)
        if len(p["wids"]) > 1:
            note("multiple_webhook_ids", key)
        # a request after a dropped/hung one: resent although the outcome was unknown
        events = p["events"]
        first_unknown = next((i for i, e in enumerate(events) if e in ("drop", "hang")), None)
        if first_unknown is not None and first_unknown < len(events) - 1:
            note("resent_after_unknown", key)
        # a request after one the receiver confirmed in time: sent again although it was known to be posted
        confirmed = p.get("confirmed", [])
        if any(confirmed[:-1]):
            note("resent_after_confirmed", key)
        if state is None:
            note("missing_rows", key)
        elif state in ("planned", "claimed", "retry"):
            note("stuck", key)
        elif state == "sent" and acc == 0:
            note("phantom_sent", key)
        elif state == "in_doubt":
            note("in_doubt", key)
            if acc:
                c["in_doubt_accepted"] += 1
            elif maybe:
                c["in_doubt_maybe"] += 1
            elif p["refused"]:
                c["in_doubt_refused_only"] += 1
            else:
                c["in_doubt_not_received"] += 1
            if key not in claimed_keys and key not in maybe_keys and key not in late_keys:
                note("in_doubt_unexplained", key)
        elif state == "dead":
            note("dead", key)
            if acc:
                note("dead_but_accepted", key)
        if acc == 0 and state not in ("in_doubt", "dead") and key in expected:
            note("silent_misses", key)

    # A frozen instance must not stop the others: while one is SIGSTOPped with more work left than it can hold
    # claimed, the receiver must keep getting requests from the others (after a 1 s grace).
    stalls = []
    if postgres:
        times = sorted(line["t"] for line in log if "fault" in line)
        for k in meta.get("kills", []):
            if k.get("type") != "pause" or k.get("pending_before", 0) <= 2 * meta.get("concurrency", 64):
                continue
            during = sum(1 for t in times if k["t"] + 1.0 <= t <= k["t_cont"])
            k["requests_during_pause"] = during
            if during == 0:
                stalls.append(f"action {k['k']}: instance {k['instance']} SIGSTOPped {k['paused_s']} s with "
                              f"{k['pending_before']} deliveries left, no request from the others meanwhile")

    # Not a target, for the eye: the longest time the receiver heard nothing while the fan-out was going on (a
    # stall after a PostgreSQL restart or during a pause shows here), and which action came last before it.
    silence = None
    if postgres:
        times = sorted(line["t"] for line in log if "fault" in line)
        gaps = [(b - a, a) for a, b in zip(times, times[1:])]
        if gaps:
            gap, since = max(gaps)
            before = [k for k in meta.get("kills", []) if k["t"] <= since + 0.5]
            silence = {"seconds": round(gap, 1), "after_action": before[-1]["k"] if before else None,
                       "after_type": before[-1]["type"] if before else None,
                       "action_to_silence_s": round(since - before[-1]["t"], 1) if before else None}

    # answered too late for the client: a hang from its side, though the receiver meant to answer
    late_only = late_keys - maybe_keys
    in_doubt_bound = claimed_at_kills + len(maybe_keys) + len(late_only)
    requests = len(log) - late
    verify = ledger_verify(a.bin, config)
    integ = "n/a (PostgreSQL)" if postgres else integrity(os.path.join(run, "ledger.sqlite"))

    violations = []

    def require(ok, text):
        if not ok:
            violations.append(text)

    require(a.harness_exit == 0, f"harness failed (killer exit {a.harness_exit}): {meta.get('harness_error')}")
    require(meta.get("settled") is True, "the ledger did not settle (planned/claimed/retry rows left)")
    require(c["silent_misses"] == 0, f"silent misses: {c['silent_misses']}")
    require(c["unplanned_received"] == 0, f"requests for a (notice, group) never planned: {c['unplanned_received']}")
    require(bad == 0, f"malformed/inconsistent requests: {bad}")
    require(meta.get("requests_after_settled", 0) == 0,
            f"requests after the ledger settled (re-run / re-POST): {meta.get('requests_after_settled')}")
    require(verify["ok"] is not False, f"ledger verify failed: {verify.get('output')}")
    if not postgres:
        require(integ == "ok", f"SQLite integrity_check: {integ}")
    else:
        for e in meta.get("self_exits", []):
            violations.append(f"instance {e['instance']} (pid {e['pid']}) exited by itself with {e['exit']}")
        require(meta.get("final_exits") and all(x == 0 for x in meta["final_exits"]),
                f"not every instance exited 0 on SIGTERM: {meta.get('final_exits')}")
        require(meta.get("pg_restarts_done", 0) >= min(1, meta.get("pg_restarts_planned", 0)),
                "no PostgreSQL restart happened during the fan-out (it finished first)")
        require(c["duplicates_unexplained"] == 0,
                f"duplicates: {c['duplicates_unexplained']} (notice, group) accepted twice after a timely accept "
                f"(e.g. {', '.join(examples.get('duplicates_unexplained', []))})")
        for s in stalls:
            violations.append(f"the others stalled while an instance was frozen: {s}")
        require(not expired_live, f"claims of an instance nobody killed or paused were ended: {len(expired_live)} "
                f"(e.g. {', '.join(f'{n}/{g}' for n, g in sorted(expired_live)[:5])})")
    if mode == "serve":
        require(meta.get("final_exit") == 0, f"serve did not exit 0 on SIGTERM: {meta.get('final_exit')}")
        answers = [s for s, _ in meta.get("notice_answers", [])]
        require(bool(answers) and answers[0] == 202 and answers[-1] == 200,
                f"POST /v1/notices answers {answers}: expected 202 first, 200 for the same notice again")
    else:
        require(meta.get("final_exit") in (0, 1), f"last send run exited {meta.get('final_exit')}")
        require(meta.get("rerun_exit") in (0, 1), f"send re-run of a finished notice exited {meta.get('rerun_exit')}")
    if postgres:
        # the receiver's "confirmed in time" does not reach a SIGSTOPped client; the ledger says what it knew
        c["resent_after_recorded_sent"] = len(resent_after_sent)
        examples["resent_after_recorded_sent"] = sorted(f"{n}/{g}" for n, g in resent_after_sent)[:5]
        require(not resent_after_sent, f"claimed again after the ledger recorded sent: {len(resent_after_sent)} "
                f"(e.g. {', '.join(examples['resent_after_recorded_sent'])})")
    if policy == "hold":
        for name in ("phantom_sent", "stuck", "missing_rows", "dead_but_accepted",
                     "in_doubt_unexplained", "multiple_webhook_ids") + (() if postgres else ("resent_after_confirmed",)):
            require(c[name] == 0, f"{name.replace('_', ' ')}: {c[name]} (e.g. {', '.join(examples.get(name, []))})")
        # What one kill leaves claimed is what was in flight plus the claims queued right behind it.
        require(max_claimed <= 2 * meta.get("concurrency", 64),
                f"one kill left {max_claimed} rows claimed, more than twice dispatch.concurrency "
                f"{meta.get('concurrency', 64)}")
        require(c["in_doubt"] <= in_doubt_bound,
                f"in_doubt {c['in_doubt']} > bound {in_doubt_bound} (claimed at kills + dropped/hung + late)")
        expected_final = 0 if c["in_doubt"] + c["dead"] == 0 else 1
        if mode == "send":
            require(meta.get("final_exit") == expected_final,
                    f"last send run exited {meta.get('final_exit')}, expected {expected_final}")

    kills = meta.get("kills", [])
    summary = {
        "verdict": "PASS" if not violations else "FAIL",
        "mode": mode, "policy": policy, "groups": len(groups), "seed": meta["seed"],
        "kills": len(kills), "kills_planned": meta["kills_planned"],
        "early_kills": sum(1 for k in kills if k["trigger"].startswith("early")),
        "starts": meta.get("starts"), "wall_s": meta.get("wall_s"),
        "receiver": {"requests": requests, "torn_lines": torn, "by_fault": faults, "late_answers": late},
        "ledger_states": states,
        "counts": c,
        "in_doubt_bound": {"claimed_at_kills": claimed_at_kills, "dropped_or_hung_keys": len(maybe_keys),
                           "late_answer_keys": len(late_only), "bound": in_doubt_bound,
                           "receiver_inflight_at_kills": inflight_at_kills, "max_claimed_at_one_kill": max_claimed,
                           "claim_window": 2 * meta.get("concurrency", 64)},
        "final_exit": meta.get("final_exit"), "rerun_exit": meta.get("rerun_exit"),
        "notice_answers": [s for s, _ in meta.get("notice_answers", [])],
        "requests_after_settled": meta.get("requests_after_settled"),
        "verify": verify, "integrity_check": integ,
        "ledger": meta.get("ledger", "sqlite"),
        "actions": [{x: k.get(x) for x in ("k", "type", "instance", "pid", "trigger", "claimed_at_kill",
                                           "pending_before", "requests_during_pause")}
                    for k in kills] if postgres else None,
        "expired_live": sorted(f"{n}/{g}" for n, g in expired_live)[:20],
        "stalls": stalls,
        "longest_silence": silence,
        "startup_exits": meta.get("startup_exits"),
        "notes": meta.get("notes", []),
        "examples": examples,
        "violations": violations,
    }
    with open(os.path.join(run, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, ensure_ascii=False)

    f = faults
    if postgres:
        kinds = [k.get("type") for k in kills]
        head = (f"== chaos postgres {mode}/{policy}: {len(groups)} groups, {meta.get('instances')} instances, "
                f"{len(kills)}/{meta['kills_planned']} actions ({kinds.count('kill')} kill -9, "
                f"{kinds.count('pause')} SIGSTOP, {kinds.count('pg-restart')} PostgreSQL restarts; "
                f"{summary['early_kills']} early), seed {meta['seed']}, {meta.get('starts')} starts, "
                f"{meta.get('wall_s')} s ==")
    else:
        head = (f"== chaos {mode}/{policy}: {len(groups)} groups, {len(kills)}/{meta['kills_planned']} kills "
                f"({summary['early_kills']} early), seed {meta['seed']}, {meta.get('starts')} starts, "
                f"{meta.get('wall_s')} s ==")
    out = [
        head,
        f"receiver   {requests} requests: {f['ok']} accepted, {f['429']} 429, {f['503']} 503, {f['drop']} dropped, "
        f"{f['hang']} hung, {f['bad']} malformed; {late} answered late (>= 1 s)",
        "ledger     " + ", ".join(f"{s} {n}" for s, n in sorted(states.items())),
        f"exactly once      {c['exactly_once']}  (ledger sent {c['exactly_once_sent']}, "
        f"in_doubt {c['exactly_once_in_doubt']})",
        f"duplicates        {c['duplicates']}  (+{c['duplicate_extra_accepts']} extra accepts"
        + (f"; after a timely accept {c['duplicates_unexplained']}" if postgres else "") + ")   "
        f"possible duplicates (accepted+dropped/hung >= 2) {c['possible_duplicates']}   "
        f"resent after unknown {c['resent_after_unknown']}   resent after confirmed {c['resent_after_confirmed']}",
        f"silent misses     {c['silent_misses']}  (phantom sent {c['phantom_sent']}, stuck {c['stuck']}, "
        f"missing rows {c['missing_rows']})",
        f"in_doubt          {c['in_doubt']}  (accepted {c['in_doubt_accepted']}, dropped/hung "
        f"{c['in_doubt_maybe']}, refused only {c['in_doubt_refused_only']}, not received "
        f"{c['in_doubt_not_received']}; unexplained {c['in_doubt_unexplained']})",
        f"in_doubt bound    {in_doubt_bound} = {claimed_at_kills} claimed at kills + {len(maybe_keys)} "
        f"dropped/hung + {len(late_only)} answered late or read at the client's timeout  (receiver in flight at kills {inflight_at_kills}; "
        f"most claimed at one kill {max_claimed}, window {2 * meta.get('concurrency', 64)})",
        f"dead              {c['dead']}  (receiver had accepted {c['dead_but_accepted']})",
        f"final run         exit {meta.get('final_exits') if postgres else meta.get('final_exit')}"
        + (f", re-run exit {meta.get('rerun_exit')}" if mode == "send" else
           f", POST answers {summary['notice_answers']}")
        + (f", self exits {len(meta.get('self_exits', []))}, claims of live instances ended {len(expired_live)}, "
           f"claimed again after recorded sent {len(resent_after_sent)}, stalls while one was frozen {len(stalls)}"
           if postgres else "")
        + f", requests after settled {meta.get('requests_after_settled')}",
        f"verify: {verify['status']}" + (f" ({verify.get('output', '').splitlines()[-1]})"
                                         if verify.get("output") else "")
        + f"   integrity_check: {integ}",
    ]
    for n in meta.get("notes", []):
        out.append(f"note: {n}")
    if silence:
        out.append(f"longest silence  {silence['seconds']} s without a request at the receiver"
                   + (f", from {silence['action_to_silence_s']} s after action {silence['after_action']} began "
                      f"({silence['after_type']})" if silence["after_action"] else "") + "  (not a target)")
    for e in meta.get("startup_exits", []):
        out.append(f"note: instance {e['instance']} (pid {e['pid']}) exited 1 at start-up, PostgreSQL not taking "
                   f"connections; restarted as systemd's Restart=on-failure would")
    if violations:
        out.append("VIOLATIONS:")
        out += [f"  - {v}" for v in violations]
    out.append(f"verdict: {summary['verdict']}   ({run}/summary.json)")
    text = "\n".join(out) + "\n"
    with open(os.path.join(run, "summary.txt"), "w") as fh:
        fh.write(text)
    print(text, end="")
    sys.exit(0 if not violations else 1)


if __name__ == "__main__":
    main()
