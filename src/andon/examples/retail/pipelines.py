"""The andon demo line: retail orders, clickstream and FX rates in; a churn-style model out.

raw_orders ─► clean_orders ─► orders ─┐
fx_rates ─────────────────────────────┴► to_eur ─► orders_eur ─┬► daily_sales ─┐
raw_clickstream ─► sessionize ─► sessions ─────────────────────┴► features ─┬► train (last 7 days)
                                         model (a version of buy_tomorrow per run) ◄┘
                          features + serving version of buy_tomorrow ─► score ─► scores
             daily_sales + scores + serving version of buy_tomorrow ─► report
                                 scores + bought (a day later) ─► buy_tomorrow_performance
A blocking check on fx_rates refuses a rate outside 0.01..10 EUR (a decimal point lost pulls the
andon cord on that day); and, at the end, three kinds of waste for `andon audit` to find: a copy
of orders under another name (orders_bi_copy), a debug dump nobody reads (sessions_debug) and a
backup of daily_sales that was never restored in a drill (daily_sales_backup).
Each step reads and writes CSV/JSON files under data/ (the locations below). catalog.toml
declares the model `train` makes (models=), the service and library the pipelines use (uses=)
and an external data set. `score` and `report` read the version of the model that serves
(andon.serving): a version that is made but not promoted is not used, and a promotion or a
rollback changes what the next partition reads (deploy = "auto" promotes each new one).
`features` and `score` declare the durations of a real shop's (the feature build over the whole
clickstream takes an hour, scoring every customer 40 minutes; the planner plans with them until
it has learned its own): scores, due at 07:00, are then about 1h50m of work after the orders
land, so an order export that hangs puts them at risk over two hours before they are due.
"""

import csv
import gzip
import json
import math
import shutil
from collections import defaultdict

import andon

DATA = "data/{asset}/{partition}"

andon.source("raw_orders", owner="shop-backend@example.com", watch="landing/orders/{partition}.csv",
             description="order export of the web shop, one CSV per day",
             expected_arrival="2h")
andon.source("raw_clickstream", owner="web-analytics@example.com",
             watch="landing/clicks/{partition}.csv", expected_arrival="1h",
             description="page views with session and customer ids")
andon.source("fx_rates", owner="treasury@example.com", location="landing/fx/{partition}.csv",
             expected_arrival="30m", description="end-of-day FX rates to EUR (announced by notify)")
andon.source("bought", owner="shop-backend@example.com", watch="landing/bought/{partition}.csv",
             expected_arrival="28h",
             description="the labels: per customer, 1 if they bought on the day after (lands "
                         "once that day's orders are in)")


# treasury's rates are checked as they land: a rate outside 0.01..10 EUR (a decimal point lost)
# is a bad partition; the failing blocking check pulls the andon cord on it, and everything
# downstream of that day halts until a corrected file passes
andon.check("fx_rates", name="plausible_rates")(
    andon.checks.value_range("rate_to_eur", min=0.01, max=10))


def _read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path, rows, fields):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def _export_rows(path):
    """The rows of the shop's order export; refused when the file was cut short (its last line
    has fewer fields than the header): the shop's export job sometimes stops mid-write, and a
    day of orders with its last hours missing must not reach finance."""
    rows = _read(path)
    for line, row in enumerate(rows, start=2):
        if None in row.values():
            present = sum(v is not None for v in row.values())
            raise ValueError(f"order export {path} was cut short at line {line}: "
                             f"{present} of {len(row)} fields")
    return rows


@andon.pipeline(inputs=["raw_orders"], outputs=["orders"], owner="data-eng@example.com",
                locations={"orders": DATA + ".csv"}, retries=2, expected_duration="5m",
                description="drop duplicate and malformed orders")
def clean_orders(ctx):
    seen, rows = set(), []
    for row in _export_rows(ctx.inputs["raw_orders"]):
        if row["order_id"] in seen or float(row["amount"]) <= 0:
            continue
        seen.add(row["order_id"])
        rows.append(row)
    ctx.set_rows("orders", _write(ctx.output("orders"), rows, list(rows[0]) if rows else []))
    ctx.log.info("kept %d orders", len(rows))


@andon.pipeline(inputs=["raw_clickstream"], outputs=["sessions"], owner="data-eng@example.com",
                locations={"sessions": DATA + ".csv"}, expected_duration="5m",
                description="one row per customer and day: sessions and page views")
def sessionize(ctx):
    sessions, views = defaultdict(set), defaultdict(int)
    for row in _read(ctx.inputs["raw_clickstream"]):
        sessions[row["customer_id"]].add(row["session_id"])
        views[row["customer_id"]] += 1
    rows = [{"customer_id": c, "sessions": len(s), "views": views[c]} for c, s in sessions.items()]
    ctx.set_rows("sessions", _write(ctx.output("sessions"), rows,
                                    ["customer_id", "sessions", "views"]))


@andon.pipeline(inputs=["orders", "fx_rates"], outputs=["orders_eur"], owner="data-eng@example.com",
                locations={"orders_eur": DATA + ".csv"}, expected_duration="5m",
                uses=["fx_rates_api"],
                description="order amounts converted to EUR with the day's rates")
def to_eur(ctx):
    rates = {r["currency"]: float(r["rate_to_eur"]) for r in _read(ctx.inputs["fx_rates"])}
    rows = []
    for row in _read(ctx.inputs["orders"]):
        rows.append({"order_id": row["order_id"], "customer_id": row["customer_id"],
                     "amount_eur": round(float(row["amount"]) * rates[row["currency"]], 2)})
    ctx.set_rows("orders_eur", _write(ctx.output("orders_eur"), rows,
                                      ["order_id", "customer_id", "amount_eur"]))


@andon.pipeline(inputs=["orders_eur"], outputs=["daily_sales"], deadline="6h", priority=3,
                owner="finance@example.com", locations={"daily_sales": DATA + ".json"},
                description="revenue and order count of the day (finance needs it by 06:00)")
def daily_sales(ctx):
    rows = _read(ctx.inputs["orders_eur"])
    revenue = sum(float(r["amount_eur"]) for r in rows)
    ctx.output("daily_sales").write_text(json.dumps(
        {"day": ctx.partition, "orders": len(rows), "revenue_eur": round(revenue, 2)}))


@andon.pipeline(inputs=["orders_eur", "sessions"], outputs=["features"],
                owner="ml@example.com", locations={"features": DATA + ".csv"},
                expected_duration="1h",
                description="per customer and day: spend, orders, sessions, views")
def features(ctx):
    spend, orders = defaultdict(float), defaultdict(int)
    for row in _read(ctx.inputs["orders_eur"]):
        spend[row["customer_id"]] += float(row["amount_eur"])
        orders[row["customer_id"]] += 1
    activity = {r["customer_id"]: r for r in _read(ctx.inputs["sessions"])}
    rows = []
    for customer in sorted(set(spend) | set(activity)):
        act = activity.get(customer, {})
        rows.append({"customer_id": customer, "spend": round(spend[customer], 2),
                     "orders": orders[customer], "sessions": int(act.get("sessions", 0)),
                     "views": int(act.get("views", 0))})
    ctx.set_rows("features", _write(ctx.output("features"), rows,
                                    ["customer_id", "spend", "orders", "sessions", "views"]))


# every partition of the features gets a profile as it is written: drift is computed from them
andon.profile("features", columns=["spend", "orders", "sessions", "views"])


FEATURES = ("spend", "orders", "sessions", "views")


def _vector(row):
    return [math.log1p(float(row[f])) for f in FEATURES]


@andon.pipeline(inputs=[andon.window("features", 7)], outputs=["model"], pool="ml",
                owner="ml@example.com", locations={"model": DATA + ".json"},
                expected_duration="15m", priority=2, uses=["numpy"], models=["buy_tomorrow"],
                description="logistic regression (numpy when installed): will the customer "
                            "buy tomorrow?")
def train(ctx):
    days = [{r["customer_id"]: r for r in _read(p)} for p in ctx.inputs["features"]]
    xs, ys = [], []
    for today, tomorrow in zip(days, days[1:]):
        for customer, row in today.items():
            xs.append(_vector(row))
            ys.append(1.0 if int(tomorrow.get(customer, {}).get("orders", 0)) > 0 else 0.0)
    if not xs:  # the first day has no "tomorrow" yet: fit on today's own activity
        for row in days[-1].values():
            xs.append(_vector(row))
            ys.append(1.0 if int(row["orders"]) > 0 else 0.0)
    steps, rate = 300, 0.5
    ctx.log_params(steps=steps, learning_rate=rate, features=",".join(FEATURES), days=len(days))
    mean, std, w, b, p = _fit(xs, ys, steps, rate)
    accuracy = sum((q > 0.5) == (t > 0.5) for q, t in zip(p, ys)) / len(ys)
    # the log loss, clipped so that a perfect separation stays finite
    loss = -sum(t * math.log(max(q, 1e-12)) + (1 - t) * math.log(max(1 - q, 1e-12))
                for q, t in zip(p, ys)) / len(ys)
    ctx.log_metric("train_accuracy", accuracy)
    ctx.log_metric("log_loss", loss)
    ctx.log_metric("samples", len(ys))
    ctx.output("model").write_text(json.dumps({
        "features": FEATURES, "mean": mean, "std": std, "weights": w,
        "bias": b, "train_accuracy": round(accuracy, 4), "samples": len(ys),
        "days": len(days)}))
    ctx.log.info("trained on %d samples from %d days: accuracy %.3f", len(ys), len(days),
                 accuracy)


def _fit(xs, ys, steps, rate):
    """Logistic regression by gradient descent on standardised features: (mean, std, weights,
    bias, fitted probabilities), with numpy when it is installed and in plain Python when not."""
    try:
        import numpy as np
    except ImportError:
        return _fit_plain(xs, ys, steps, rate)
    x, y = np.array(xs), np.array(ys)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        w -= rate * (z.T @ (p - y)) / len(y)
        b -= rate * float((p - y).mean())
    p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
    return mean.tolist(), std.tolist(), w.tolist(), b, p.tolist()


def _fit_plain(xs, ys, steps, rate):
    n, k = len(xs), len(xs[0])
    mean = [sum(r[j] for r in xs) / n for j in range(k)]
    std = [math.sqrt(sum((r[j] - mean[j]) ** 2 for r in xs) / n) + 1e-9 for j in range(k)]
    z = [[(r[j] - mean[j]) / std[j] for j in range(k)] for r in xs]
    w, b = [0.0] * k, 0.0

    def probabilities():
        return [1.0 / (1.0 + math.exp(-(sum(a * c for a, c in zip(w, row)) + b))) for row in z]

    for _ in range(steps):
        err = [q - t for q, t in zip(probabilities(), ys)]
        w = [w[j] - rate * sum(e * row[j] for e, row in zip(err, z)) / n for j in range(k)]
        b -= rate * sum(err) / n
    return mean, std, w, b, probabilities()


@andon.pipeline(inputs=["features", andon.serving("buy_tomorrow")], outputs=["scores"],
                owner="ml@example.com", locations={"scores": DATA + ".csv"}, priority=2,
                deadline="7h", expected_duration="40m",
                description="probability that each customer buys tomorrow, by the serving "
                            "version of the model")
def score(ctx):
    model = json.loads(ctx.inputs["buy_tomorrow"].read_text())
    rows = []
    for row in _read(ctx.inputs["features"]):
        z = [(v - m) / s for v, m, s in zip(_vector(row), model["mean"], model["std"])]
        logit = sum(w * v for w, v in zip(model["weights"], z)) + model["bias"]
        rows.append({"customer_id": row["customer_id"],
                     "p_buy_tomorrow": round(1 / (1 + math.exp(-logit)), 4)})
    rows.sort(key=lambda r: -r["p_buy_tomorrow"])
    ctx.set_rows("scores", _write(ctx.output("scores"), rows, ["customer_id", "p_buy_tomorrow"]))


@andon.pipeline(inputs=["daily_sales", "scores", andon.serving("buy_tomorrow")],
                outputs=["report"],
                owner="finance@example.com", locations={"report": DATA + ".md"}, deadline="8h",
                description="the morning report: sales, model quality, customers to contact")
def report(ctx):
    sales = json.loads(ctx.inputs["daily_sales"].read_text())
    model = json.loads(ctx.inputs["buy_tomorrow"].read_text())  # the version that serves
    top = _read(ctx.inputs["scores"])[:5]
    lines = [f"# Retail report {ctx.partition}", "",
             f"- orders: {sales['orders']}", f"- revenue: EUR {sales['revenue_eur']:,.2f}",
             f"- model: version {ctx.models['buy_tomorrow']}, accuracy "
             f"{model['train_accuracy']:.1%} on {model['samples']} samples",
             "", "## Most likely to buy tomorrow", ""]
    lines += [f"- {r['customer_id']}: {float(r['p_buy_tomorrow']):.0%}" for r in top]
    ctx.output("report").write_text("\n".join(lines) + "\n")


# the model's realised performance: each day's scores joined with who really bought the day
# after, measured when those labels land (a day later); the board draws auc against 0.6
andon.performance("buy_tomorrow", predictions="scores", labels="bought",
                  metric=["auc", "accuracy"], key="customer_id", prediction="p_buy_tomorrow",
                  label="bought", threshold={"auc": 0.6})

# checks on the model judge the version serving each time something is measured about it: its
# features drifting red from the data it trained on pulls the andon cord on that version (what
# scores with it halts, until a retrained version is promoted); a realised AUC under 0.6 warns
andon.check("buy_tomorrow")(andon.checks.drift(columns=["spend", "orders", "sessions", "views"]))
andon.check("buy_tomorrow", blocking=False)(andon.checks.performance("auc", min=0.6))


# -- waste, as real lines grow it: `andon audit` (the board's Audit page) finds these three after
# the demo, with the evidence and the cost (README, "Find the waste"; [audit] in andon.toml)

@andon.pipeline(inputs=["orders"], outputs=["orders_bi_copy"], owner="bi@example.com",
                locations={"orders_bi_copy": DATA + ".csv"},
                description="the BI team's own copy of the clean orders, under its own name "
                            "(byte for byte the same file: duplicate data)")
def copy_orders_for_bi(ctx):
    shutil.copyfile(ctx.inputs["orders"], ctx.output("orders_bi_copy"))


@andon.pipeline(inputs=["raw_clickstream"], outputs=["sessions_debug"],
                owner="web-analytics@example.com", locations={"sessions_debug": DATA + ".csv"},
                description="every session's pages in order, written to debug sessionize once "
                            "and still made every day; nothing reads it (data deluge)")
def debug_sessions(ctx):
    pages = defaultdict(list)
    for row in _read(ctx.inputs["raw_clickstream"]):
        pages[(row["session_id"], row["customer_id"])].append(row["page"])
    rows = [{"session_id": s, "customer_id": c, "pages": " ".join(p)}
            for (s, c), p in sorted(pages.items())]
    ctx.set_rows("sessions_debug", _write(ctx.output("sessions_debug"), rows,
                                          ["session_id", "customer_id", "pages"]))


@andon.pipeline(inputs=["daily_sales"], outputs=["daily_sales_backup"],
                owner="finance@example.com", backup_of="daily_sales",
                locations={"daily_sales_backup": DATA + ".json.gz"},
                description="a compressed backup of finance's daily sales; no one ever tried to "
                            "restore from it (no andon.restore_drill: a backup never drilled)")
def backup_daily_sales(ctx):
    # mtime=0: the same day compresses to the same bytes, whenever it is backed up
    ctx.output("daily_sales_backup").write_bytes(
        gzip.compress(ctx.inputs["daily_sales"].read_bytes(), mtime=0))
