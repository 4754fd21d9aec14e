#!/usr/bin/env python3
"""The XGBoost peer of the risk benchmark (bench/risk.sh runs it).

It reads the feature matrices Borderlink wrote (`borderlink risk features`), so both models see
the same features and the same time split, tunes XGBoost with the same grid as Borderlink
(depth x learning rate x rounds, chosen by AUC on the last --tune-days of the training data,
never on the reported data; XGBoost takes the best point, Borderlink the best within its scoring
budget of trees x depth), evaluates it with the same metric definitions, and
measures XGBoost's predict throughput on Borderlink's own model (exported as XGBoost JSON), so
that the speed comparison is between two predictors of the very same trees.
"""

import argparse
import json
import os
import subprocess
import time

import numpy as np
import xgboost as xgb

K_PERCENT = [1, 2, 5, 10]
GRID = dict(depths=[6, 8, 10, 12], etas=[0.05, 0.1, 0.2], rounds=[100, 150, 200, 300])


def load(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
    a = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=np.float64, filling_values=np.nan)
    day, fraud, revenue = a[:, 0].astype(np.int64), a[:, 1] > 0.5, a[:, 2]
    return day, fraud, revenue, np.ascontiguousarray(a[:, 3:], dtype=np.float32), header[3:]


def auc(scores, labels):
    """Mann-Whitney AUC with ties counted half (as borderlink_risk::eval::auc)."""
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i : j + 1] = (i + j) / 2 + 1
        i = j + 1
    pos = labels[order]
    n_pos, n_neg = pos.sum(), len(pos) - pos.sum()
    if n_pos == 0 or n_neg == 0:
        return 0.5
    return (ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def auc_fast(scores, labels):
    """The same AUC, vectorised (average ranks over ties), for the bootstrap."""
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    ends = np.r_[starts[1:], len(s)]
    avg = (starts + ends - 1) / 2 + 1
    ranks = np.empty(len(s))
    ranks[order] = np.repeat(avg, ends - starts)
    n_pos = labels.sum()
    n_neg = len(labels) - n_pos
    return (ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def paired_bootstrap(a, b, labels, rounds=500, seed=1):
    """95 % interval of AUC(a) - AUC(b) over resamples of the rows (both models on the same
    resample), and the share of resamples where a is ahead."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    diffs = []
    for _ in range(rounds):
        i = rng.integers(0, n, n)
        diffs.append(auc_fast(a[i], labels[i]) - auc_fast(b[i], labels[i]))
    diffs = np.array(diffs)
    return float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5)), float((diffs > 0).mean())


def metrics(scores, fraud, revenue):
    """The top k % = the first max(1, floor(n*k/100)) items by descending score, ties in input
    order (as borderlink_risk::eval::evaluate)."""
    scores = np.asarray(scores, dtype=np.float32)
    n = len(scores)
    order = np.lexsort((np.arange(n), -scores))
    total_frauds = fraud.sum()
    total_rev = revenue[fraud].sum()
    out = {"auc": auc(scores, fraud), "at_k": []}
    for k in K_PERCENT:
        m = max(1, int(np.floor(n * k / 100)))
        top = order[:m]
        hits = fraud[top]
        out["at_k"].append(
            {
                "k": k,
                "n": m,
                "precision": hits.mean(),
                "recall": hits.sum() / total_frauds if total_frauds else 0.0,
                "revenue": revenue[top][hits].sum() / total_rev if total_rev else 0.0,
            }
        )
    return out


def code_book(meta, names):
    """Borderlink's code book (`categories` in the model file): column -> codes, ascending."""
    return {names.index(c["feature"]): np.asarray(c["codes"], dtype=np.float32) for c in meta.get("categories", [])}


def encode(X, book):
    """Codes as categories (their position among the book's codes); unknown or missing: NaN."""
    X = X.copy()
    for j, codes in book.items():
        pos = np.clip(np.searchsorted(codes, X[:, j]), 0, len(codes) - 1)
        X[:, j] = np.where(codes[pos] == X[:, j], pos, np.nan)
    return X


def feature_types(book, n):
    return ["c" if j in book else "q" for j in range(n)]


def train(X, y, depth, eta, rounds, threads, tree_method="hist", types=None):
    params = dict(
        objective="binary:logistic",
        tree_method=tree_method,
        max_depth=depth,
        eta=eta,
        nthread=threads,
        seed=7,
        eval_metric="auc",
    )
    kw = dict(feature_types=types, enable_categorical=True) if types else {}
    return xgb.train(params, xgb.DMatrix(X, label=y, nthread=threads, **kw), rounds)


def same_model(a, meta, book, Xt, yt, log):
    """The model XGBoost's predict speed is measured on: Borderlink's own trees (its XGBoost JSON
    export) when they split codes by thresholds. hessboost 0.4.6 exports categorical splits in a
    form XGBoost 3.2 loads but crashes predicting with, so for a model with categorical splits
    XGBoost predicts a model of the same size it trains itself: as many trees, as deep, on the
    same categories. Returns the booster, the rows it reads and what it is."""
    if not book:
        return xgb.Booster(model_file=a.ours_model_json), (lambda X: X), "Borderlink's trees"
    types = feature_types(book, Xt.shape[1])
    log(f"XGBoost model of Borderlink's size: {meta['trees']} trees, depth {meta['depth']}, categorical codes")
    booster = train(encode(Xt, book), yt, meta["depth"], meta["eta"], meta["trees"], a.threads, types=types)
    return booster, (lambda X: encode(X, book)), f"XGBoost's own model of the same size ({meta['trees']} trees of depth ≤ {meta['depth']}, codes as categories)"


def tune(X, y, day, tune_days, threads, log):
    cut = day.max() - tune_days + 1
    fit, check = day < cut, day >= cut
    dcheck = xgb.DMatrix(X[check], nthread=threads)
    best = None
    points = []
    for depth in GRID["depths"]:
        for eta in GRID["etas"]:
            booster = train(X[fit], y[fit], depth, eta, max(GRID["rounds"]), threads)
            for rounds in GRID["rounds"]:
                s = booster.predict(dcheck, iteration_range=(0, rounds))
                a = auc(s, y[check])
                points.append(dict(depth=depth, eta=eta, rounds=rounds, auc=a))
                log(f"  xgboost depth {depth:>2}  eta {eta:<5} rounds {rounds:>3}  AUC {a:.4f}")
                if best is None or a > best[0]:
                    best = (a, depth, eta, rounds)
    return best, points, int(fit.sum()), int(check.sum())


def rate(fn, rows, seconds):
    """Rows per second of fn() over at least `seconds` (after one warm-up call)."""
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += rows
    return n / (time.perf_counter() - start)


def latency(fn, seconds):
    fn()
    lat, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        fn()
        lat.append(time.perf_counter() - t)
    lat.sort()
    return lat[len(lat) // 2] * 1e6, lat[int((len(lat) - 1) * 0.99)] * 1e6


def interleaved(a, xgb_rate, log, rounds=3):
    """Borderlink's batch (`borderlink risk bench --batch-only`, a subprocess) and XGBoost's, measured
    turn about `rounds` times, so that both see the same moments of a noisy machine; returns the
    medians and every measurement. Without --borderlink, returns None."""
    if not a.borderlink:
        return None
    cmd = [a.borderlink, "risk", "bench", "--batch-only", "--json", "--model", a.ours_model,
           "--history", a.history_csv, "--data", a.data_csv, "--seconds", str(a.seconds)]
    env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads))
    ours, theirs = [], []
    for i in range(rounds):
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
        ours.append(json.loads(out)["batch_rows_per_s"])
        theirs.append(xgb_rate())
        log(f"round {i + 1}: Borderlink batch {ours[-1]:,.0f} rows/s, XGBoost {theirs[-1]:,.0f} rows/s")
    return float(np.median(ours)), float(np.median(theirs)), ours, theirs


def count_nodes(booster):
    trees = booster.get_dump()
    return len(trees), sum(t.count("\n") for t in trees)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--valid", required=True)
    ap.add_argument("--ours-scores", required=True)
    ap.add_argument("--ours-model-json", required=True, help="Borderlink's model as XGBoost JSON")
    ap.add_argument("--ours-speed", required=True)
    ap.add_argument("--ours-meta", required=True)
    ap.add_argument("--tune-days", type=int, default=92)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--speed-only", action="store_true", help="skip the tuning and the quality table")
    ap.add_argument("--borderlink", help="the borderlink binary, to measure both batches turn about")
    ap.add_argument("--ours-model", help="Borderlink's model file (with --borderlink)")
    ap.add_argument("--history-csv", help="the history the declarations are featurized against (with --borderlink)")
    ap.add_argument("--data-csv", help="the declarations to score (with --borderlink)")
    a = ap.parse_args()
    log = lambda m: print(m, flush=True)

    dt, yt, rt, Xt, names = load(a.train)
    dv, yv, rv, Xv, names_v = load(a.valid)
    assert names == names_v, "train and valid feature sets differ"
    log(f"xgboost {xgb.__version__}, {len(names)} features, train {len(yt)} rows, valid {len(yv)} rows")

    ours = np.loadtxt(a.ours_scores, skiprows=1, dtype=np.float32)
    assert len(ours) == len(yv), "Borderlink scored another number of rows"
    ours_m = metrics(ours, yv, rv)
    with open(a.ours_meta) as f:
        meta = json.load(f)
    book = code_book(meta, names)

    if a.speed_only:
        return speed_only(a, meta, book, Xt, yt, Xv, ours, log)
    log(f"tuning XGBoost on the last {a.tune_days} days of train (same grid as Borderlink, best point, no size limit):")
    (best_auc, depth, eta, rounds), points, n_fit, n_check = tune(Xt, yt, dt, a.tune_days, a.threads, log)
    log(f"chosen: depth {depth}, eta {eta}, rounds {rounds} (tuning AUC {best_auc:.4f})")
    t = time.perf_counter()
    peer = train(Xt, yt, depth, eta, rounds, a.threads)
    peer_fit_s = time.perf_counter() - t
    peer_scores = peer.predict(xgb.DMatrix(Xv, nthread=a.threads))
    peer_m = metrics(peer_scores, yv, rv)
    lo, hi, ahead = paired_bootstrap(ours.astype(np.float64), peer_scores.astype(np.float64), yv)
    default = train(Xt, yt, 6, 0.3, 100, a.threads)  # XGBoost's own defaults
    # Sensitivity: the tuned point with Borderlink's exact split search instead of bins.
    fine = train(Xt, yt, depth, eta, rounds, a.threads, tree_method="exact")
    fine_m = metrics(fine.predict(xgb.DMatrix(Xv, nthread=a.threads)), yv, rv)
    # Sensitivity: the tuned point with the code features as categories, like Borderlink's.
    cat_m = None
    if book:
        types = feature_types(book, Xt.shape[1])
        cat = train(encode(Xt, book), yt, depth, eta, rounds, a.threads, types=types)
        dcat = xgb.DMatrix(encode(Xv, book), nthread=a.threads, feature_types=types, enable_categorical=True)
        cat_m = metrics(cat.predict(dcat), yv, rv)
    default_m = metrics(default.predict(xgb.DMatrix(Xv, nthread=a.threads)), yv, rv)

    # Speed: XGBoost predicting Borderlink's own trees, same rows. XGBoost is given its best
    # thread count (on 2 shared cores one OpenMP thread is often faster than two), and a fresh
    # DMatrix per call: predicting twice from one DMatrix returns XGBoost's cached predictions.
    same, rows_for, same_what = same_model(a, meta, book, Xt, yt, log)
    Xs = rows_for(Xv)
    dkw = dict(feature_types=feature_types(book, Xv.shape[1]), enable_categorical=True) if book else {}
    same_scores = same.inplace_predict(Xs)
    max_diff = float(np.max(np.abs(same_scores - ours)))
    n_trees, n_nodes = count_nodes(same)
    speeds = {}
    for nt in sorted({1, a.threads}):
        same.set_param({"nthread": nt})
        speeds[nt] = (
            rate(lambda: same.inplace_predict(Xs), len(yv), a.seconds),
            rate(lambda: same.predict(xgb.DMatrix(Xs, nthread=nt, **dkw)), len(yv), a.seconds),
        )
    best_nt = max(speeds, key=lambda k: speeds[k][0])
    xgb_inplace, xgb_dmatrix = speeds[best_nt]
    same.set_param({"nthread": best_nt})
    turns = interleaved(a, lambda: rate(lambda: same.inplace_predict(Xs), len(yv), a.seconds), log)
    one = Xs[:1]
    xgb_p50, xgb_p99 = latency(lambda: same.inplace_predict(one), a.seconds)
    peer_trees, peer_nodes = count_nodes(peer)
    peer.set_param({"nthread": best_nt})
    peer_inplace = rate(lambda: peer.inplace_predict(Xv), len(yv), a.seconds)

    with open(a.ours_speed) as f:
        speed = json.load(f)
    if turns:
        # The medians of the interleaved rounds are the comparison; the single measurements
        # above stay in the report.
        speed["batch_rows_per_s"], xgb_inplace = turns[0], turns[1]

    def row(label, m):
        cells = [f"{m['auc']:.4f}"]
        cells += [f"{x['precision']:.3f}" for x in m["at_k"]]
        cells += [f"{x['recall']:.3f}" for x in m["at_k"]]
        cells += [f"{x['revenue']:.3f}" for x in m["at_k"]]
        return f"| {label} | " + " | ".join(cells) + " |"

    ks = " | ".join(f"P@{k}%" for k in K_PERCENT)
    rs = " | ".join(f"R@{k}%" for k in K_PERCENT)
    vs = " | ".join(f"Rev@{k}%" for k in K_PERCENT)
    lines = [
        f"| model | AUC | {ks} | {rs} | {vs} |",
        "|---|" + "---|" * 13,
        row(f"Borderlink ({meta['version']}: {meta['trees']} trees, depth ≤ {meta['depth']}, η {meta['eta']}, bag {meta['bag']}, "
            f"{meta['params'].get('splitSearch', 'hist')} split search"
            + (", codes as categories)" if book else ")"), ours_m),
        row(f"XGBoost {xgb.__version__} tuned (depth {depth}, {rounds} trees, η {eta})", peer_m),
        row("XGBoost at its defaults (depth 6, 100 trees, η 0.3)", default_m),
        row("XGBoost tuned point, exact split search like Borderlink's (not re-tuned)", fine_m),
    ] + ([row("XGBoost tuned point, code features as categories like Borderlink's (not re-tuned)", cat_m)] if cat_m else [])
    wins = []
    for name, key in [("AUC", None)] + [(f"P@{k}%", ("precision", i)) for i, k in enumerate(K_PERCENT)] + [
        (f"Rev@{k}%", ("revenue", i)) for i, k in enumerate(K_PERCENT)
    ]:
        if key is None:
            o, p = ours_m["auc"], peer_m["auc"]
        else:
            o, p = ours_m["at_k"][key[1]][key[0]], peer_m["at_k"][key[1]][key[0]]
        verdict = "tie at 1.0" if o == p == 1.0 else ("win" if o > p else ("tie" if o == p else "LOSS"))
        wins.append(f"{name} {o:.3f} vs {p:.3f} {verdict}")
    others = ", ".join(f"{nt} thread(s): inplace {v[0]:,.0f}, DMatrix {v[1]:,.0f}" for nt, v in speeds.items())
    speed_lines = [
        f"| predictor (Borderlink's model; XGBoost: {same_what}; same {len(yv):,} rows) | rows/s | Borderlink is |",
        "|---|---|---|",
        f"| Borderlink batch (`predict_rows`, {a.threads} threads) | {speed['batch_rows_per_s']:,.0f} | — |",
        f"| XGBoost {xgb.__version__} `inplace_predict` ({best_nt} thread(s), its best) | {xgb_inplace:,.0f} | {speed['batch_rows_per_s'] / xgb_inplace:.2f}× faster |",
        f"| XGBoost `predict` on a DMatrix ({best_nt} thread(s)) | {xgb_dmatrix:,.0f} | {speed['batch_rows_per_s'] / xgb_dmatrix:.2f}× faster |",
        "",
        f"XGBoost by thread count: {others}."
        + (
            f" Batch throughputs measured turn about, {len(turns[2])} rounds (the table shows the medians): Borderlink "
            + " / ".join(f"{v:,.0f}" for v in turns[2]) + ", XGBoost " + " / ".join(f"{v:,.0f}" for v in turns[3]) + " rows/s."
            if turns else ""
        ),
        "",
        f"XGBoost's model: {n_trees} trees, {n_nodes} nodes; largest difference between the two predictors' "
        f"probabilities {max_diff:.2e}{' (two models)' if book else ''}. The tuned peer's own model ({peer_trees} trees, {peer_nodes} nodes) "
        f"predicts {peer_inplace:,.0f} rows/s with `inplace_predict`.",
        "",
        f"One declaration: Borderlink in-process (items, features, score, reasons, criteria from a standardized "
        f"declaration) p50 {speed['single_p50_us']:.1f} µs, p99 {speed['single_p99_us']:.1f} µs"
        + (
            f"; over HTTP (`POST /api/v1/risk/score`, one request at a time) p50 {speed['http_p50_us']:.0f} µs, "
            f"p99 {speed['http_p99_us']:.0f} µs over {speed['http_samples']} requests"
            if "http_p50_us" in speed
            else ""
        )
        + f". XGBoost `inplace_predict` of one ready feature row from Python: p50 {xgb_p50:.1f} µs, p99 {xgb_p99:.1f} µs.",
    ]
    boot = (
        f"AUC difference (Borderlink − XGBoost), paired bootstrap over the {len(yv)} rows: "
        f"95 % interval [{lo:+.4f}, {hi:+.4f}]; Borderlink ahead in {ahead:.0%} of 500 resamples."
    )
    report = "\n".join(lines + ["", "Borderlink vs tuned XGBoost: " + "; ".join(wins), "", boot, ""] + speed_lines)
    log("")
    log(report)
    with open(a.out, "w") as f:
        f.write(report + "\n")
    with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
        json.dump(
            dict(
                ours=ours_m,
                peer=peer_m,
                peer_params=dict(depth=depth, eta=eta, rounds=rounds, tuning_auc=best_auc, fit_rows=n_fit, check_rows=n_check),
                peer_fit_seconds=peer_fit_s,
                auc_difference_interval=[lo, hi],
                borderlink_ahead_share=ahead,
                default=default_m,
                peer_exact=fine_m,
                peer_categorical=cat_m,
                grid=points,
                speed=dict(ours=speed, xgb_inplace=xgb_inplace, xgb_dmatrix=xgb_dmatrix, xgb_threads=best_nt,
                           xgb_single_p50_us=xgb_p50, xgb_single_p99_us=xgb_p99, trees=n_trees, nodes=n_nodes,
                           max_diff=max_diff, xgb_model=same_what,
                           interleaved=dict(ours=turns[2], xgb=turns[3]) if turns else None),
            ),
            f,
            indent=1,
            default=float,
        )


def speed_only(a, meta, book, Xt, yt, Xv, ours, log):
    """Only the speed comparison, for re-measuring it on a quiet machine."""
    with open(a.ours_speed) as f:
        speed = json.load(f)
    same, rows_for, same_what = same_model(a, meta, book, Xt, yt, log)
    Xs = rows_for(Xv)
    max_diff = float(np.max(np.abs(same.inplace_predict(Xs) - ours)))
    best = None
    for nt in sorted({1, a.threads}):
        same.set_param({"nthread": nt})
        r = rate(lambda: same.inplace_predict(Xs), len(Xv), a.seconds)
        log(f"XGBoost inplace_predict, {nt} thread(s): {r:,.0f} rows/s")
        best = max(best or (0, 0), (r, nt))
    same.set_param({"nthread": best[1]})
    turns = interleaved(a, lambda: rate(lambda: same.inplace_predict(Xs), len(Xv), a.seconds), log)
    if turns:
        speed["batch_rows_per_s"], best = turns[0], (turns[1], best[1])
    lines = [
        f"Borderlink batch: {speed['batch_rows_per_s']:,.0f} rows/s; XGBoost {xgb.__version__} inplace_predict at its best "
        f"({best[1]} thread(s)): {best[0]:,.0f} rows/s; Borderlink {speed['batch_rows_per_s'] / best[0]:.2f}× faster "
        f"(XGBoost predicting {same_what}; largest probability difference {max_diff:.1e})"
        + (
            f"; medians of {len(turns[2])} rounds turn about: Borderlink " + " / ".join(f"{v:,.0f}" for v in turns[2])
            + ", XGBoost " + " / ".join(f"{v:,.0f}" for v in turns[3]) + " rows/s."
            if turns else "."
        ),
        f"One declaration in-process p50 {speed['single_p50_us']:.1f} µs, p99 {speed['single_p99_us']:.1f} µs"
        + (f"; over HTTP p50 {speed['http_p50_us']:.0f} µs, p99 {speed['http_p99_us']:.0f} µs" if "http_p50_us" in speed else "")
        + ".",
    ]
    log("\n".join(lines))
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
