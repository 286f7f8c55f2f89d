#!/usr/bin/env python3
"""The CloudWatch dashboard of infra/template.yaml, generated from the template itself: every
function, queue, dead-letter queue and alarm in it is on the dashboard, beside the hub's flow
metrics (namespace LeverHub, per partner with SEARCH where the metric has a Partner dimension).

    python infra/dashboard.py            # prints the DashboardBody
    python infra/dashboard.py --write    # writes it into infra/template.yaml
    python infra/dashboard.py --check    # fails if the template's body is not the generated one
"""
import json
import os
import re
import sys

from samtranslator.yaml_helper import yaml_parse

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "template.yaml")
BEGIN = "      DashboardBody: !Sub |\n"


def words(logical_id, drop):
    """`DeadLeverEventsQueue` -> `dead lever events` (the suffix `drop` removed)."""
    name = logical_id[: -len(drop)] if logical_id.endswith(drop) else logical_id
    return " ".join(w.lower() for w in re.findall(r"[A-Z][a-z0-9]*", name))


def inventory(template):
    resources = template["Resources"]
    funcs = [(n, r["Metadata"]["BuildProperties"]["Binary"]) for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    queues = [n for n, r in resources.items() if r["Type"] == "AWS::SQS::Queue"]
    targets = set()
    for n in queues:
        redrive = (resources[n].get("Properties") or {}).get("RedrivePolicy")
        if redrive:
            targets.add(redrive["deadLetterTargetArn"]["Fn::GetAtt"][0])
    work = [(q, words(q, "Queue")) for q in queues if q not in targets]
    dead = [(q, words(q, "Queue")) for q in queues if q in targets]
    alarms = [n for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    return funcs, work, dead, alarms


class Layout:
    """Widgets placed left to right on CloudWatch's 24-column grid, rows 6 high."""

    def __init__(self):
        self.widgets, self.x, self.y = [], 0, 0

    def add(self, widget, width=8, height=6):
        if self.x + width > 24:
            self.x, self.y = 0, self.y + 6
        widget.update({"x": self.x, "y": self.y, "width": width, "height": height})
        self.x += width
        self.widgets.append(widget)

    def heading(self, markdown):
        if self.x:
            self.x, self.y = 0, self.y + 6
        self.widgets.append({"type": "text", "x": 0, "y": self.y, "width": 24, "height": 1, "properties": {"markdown": markdown}})
        self.y += 1

    def metric(self, title, metrics, stat="Sum", period=300, unit=None):
        props = {"title": title, "view": "timeSeries", "region": "${AWS::Region}", "stat": stat, "period": period, "metrics": metrics}
        if unit:
            props["yAxis"] = {"left": {"label": unit, "min": 0}}
        self.add({"type": "metric", "properties": props})


def hub(name, flow, label=None, stat=None):
    """A LeverHub metric over all partners (the Flow dimension)."""
    options = {"label": label or name}
    if stat:
        options["stat"] = stat
    return ["LeverHub", name, "Flow", flow, options]


def per_partner(name, flow, stat, ids):
    """One line per partner: a SEARCH over the Flow+Partner dimension set."""
    ids.append(f"p{len(ids) + 1}")
    search = f"SEARCH('{{LeverHub,Flow,Partner}} Flow=\"{flow}\" MetricName=\"{name}\"', '{stat}', 300)"
    return [[{"expression": search, "id": ids[-1], "label": ""}]]


def each(namespace, metric, dimension, things, value="${%s}", stat=None):
    rows = []
    for logical_id, label in things:
        options = {"label": label}
        if stat:
            options["stat"] = stat
        rows.append([namespace, metric, dimension, value % logical_id, options])
    return rows


def body(template):
    funcs, queues, dead, alarms = inventory(template)
    d, ids = Layout(), []
    d.heading("## Flows: job syncs, candidate writes, hires, partner deliveries (LeverHub; per partner where the metric has a Partner dimension)")
    d.metric("Job syncs (all partners)", [hub("SyncRuns", "jobs", "completed syncs"), hub("SyncFailures", "jobs", "failed runs"), hub("JobsChanged", "jobs", "jobs changed")])
    d.metric("Job syncs per partner", per_partner("SyncRuns", "jobs", "Sum", ids))
    d.metric("Job sync lag (due to dispatched, max) and sync time (p90 per partner)",
             [hub("ScheduleLag", "jobs", "schedule lag", "Maximum")] + per_partner("SyncDuration", "jobs", "p90", ids), stat="Maximum", unit="ms")
    d.metric("Job sync failures per partner", per_partner("SyncFailures", "jobs", "Sum", ids))
    d.metric("Candidate writes (all partners)", [hub("SubmissionsWritten", "candidates", "in Lever"), hub("SubmissionsQueued", "candidates", "answered 202, queued"), hub("SubmissionFailures", "candidates", "failed")])
    d.metric("Candidate writes and failures per partner", per_partner("SubmissionsWritten", "candidates", "Sum", ids) + per_partner("SubmissionFailures", "candidates", "Sum", ids))
    d.metric("Candidate lag: accepted to in Lever", [hub("SubmissionLag", "candidates", "p50", "p50"), hub("SubmissionLag", "candidates", "p90", "p90"), hub("SubmissionLag", "candidates", "max", "Maximum")], unit="ms")
    d.metric("Candidate lag p90 per partner", per_partner("SubmissionLag", "candidates", "p90", ids), unit="ms")
    d.metric("Hires (all partners)", [hub("HiresSent", "hires", "hires sent"), hub("HireImportRuns", "hires", "import runs"), hub("HireImportFailures", "hires", "failed runs"), hub("HiresFailed", "hires", "hires not imported")])
    d.metric("Hires sent per partner", per_partner("HiresSent", "hires", "Sum", ids))
    d.metric("Hire lag: hired in Lever to event stored", [hub("HireLag", "hires", "p50", "p50"), hub("HireLag", "hires", "p90", "p90"), hub("HireLag", "hires", "max", "Maximum"), hub("ScheduleLag", "hires", "daily run schedule lag", "Maximum")], unit="ms")
    d.metric("Partner deliveries (all partners)", [hub("EventsDelivered", "delivery", "delivered"), hub("DeliveryAttemptsFailed", "delivery", "attempts failed"), hub("DeliveriesDead", "delivery", "dead (gave up)")])
    d.metric("Deliveries and dead deliveries per partner", per_partner("EventsDelivered", "delivery", "Sum", ids) + per_partner("DeliveriesDead", "delivery", "Sum", ids))
    d.metric("Delivery lag: event stored to delivered", [hub("DeliveryLag", "delivery", "p50", "p50"), hub("DeliveryLag", "delivery", "p90", "p90"), hub("DeliveryLag", "delivery", "max", "Maximum")] + per_partner("DeliveryLag", "delivery", "p90", ids), unit="ms")
    d.metric("Lever webhooks in per partner (accepted, refused)", per_partner("LeverWebhooksAccepted", "lever-webhooks", "Sum", ids) + per_partner("LeverWebhooksRefused", "lever-webhooks", "Sum", ids))

    d.heading("## Queues and dead-letter queues (every dead-letter queue has an alarm)")
    d.metric("Queue depth (visible messages)", each("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queues, "${%s.QueueName}"), stat="Maximum", period=60)
    d.metric("Age of the oldest message", each("AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queues, "${%s.QueueName}"), stat="Maximum", period=60, unit="s")
    d.metric("Dead-letter queue depth", each("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dead, "${%s.QueueName}"), stat="Maximum", period=60)
    d.add({"type": "alarm", "properties": {"title": "Alarms: dead letters and function errors", "alarms": ["${%s.Arn}" % a for a in alarms]}}, width=24, height=4)

    d.heading("## Functions and the HTTP API")
    d.metric("Function errors", each("AWS/Lambda", "Errors", "FunctionName", funcs))
    d.metric("Function duration p90", each("AWS/Lambda", "Duration", "FunctionName", funcs), stat="p90", unit="ms")
    d.metric("Function throttles", each("AWS/Lambda", "Throttles", "FunctionName", funcs))
    api = [("HttpApi", "requests")]
    d.metric("API requests, 4xx and 5xx", each("AWS/ApiGateway", "Count", "ApiId", api) + each("AWS/ApiGateway", "4xx", "ApiId", [("HttpApi", "4xx")]) + each("AWS/ApiGateway", "5xx", "ApiId", [("HttpApi", "5xx")]))
    d.metric("API latency", each("AWS/ApiGateway", "Latency", "ApiId", [("HttpApi", "p50")], stat="p50") + each("AWS/ApiGateway", "Latency", "ApiId", [("HttpApi", "p90")], stat="p90")
             + each("AWS/ApiGateway", "IntegrationLatency", "ApiId", [("HttpApi", "integration p90")], stat="p90"), stat="p90", unit="ms")
    d.metric("Function concurrency (max)", each("AWS/Lambda", "ConcurrentExecutions", "FunctionName", funcs), stat="Maximum")

    lines = ['{"start": "-PT6H", "periodOverride": "inherit", "widgets": [']
    for i, w in enumerate(d.widgets):
        lines.append("  " + json.dumps(w, separators=(", ", ": ")) + ("," if i < len(d.widgets) - 1 else ""))
    lines.append("]}")
    return "".join("        " + line + "\n" for line in lines)


def split(text):
    """The template's text before the body, the body, and after it."""
    start = text.index(BEGIN) + len(BEGIN)
    end = start
    for line in text[start:].splitlines(keepends=True):
        if line.strip() and not line.startswith("        "):
            break
        end += len(line)
    return text[:start], text[start:end], text[end:]


def main(args):
    with open(TEMPLATE) as f:
        text = f.read()
    generated = body(yaml_parse(text))
    before, current, after = split(text)
    if "--write" in args:
        with open(TEMPLATE, "w") as f:
            f.write(before + generated + after)
        return 0
    if "--check" in args:
        if current.rstrip() != generated.rstrip():
            print(f"{TEMPLATE}: the dashboard is not the generated one; run python infra/dashboard.py --write", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(generated)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
