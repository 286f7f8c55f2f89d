#!/usr/bin/env python3
"""Checks that infra/template.yaml is complete for what the repository holds, and fails naming
each gap:

- every crate in functions/ is built by exactly one template function
  (`Metadata.BuildProperties.Binary` names it), and every function builds a crate there;
- every SQS queue has a redrive policy to a dead-letter queue, and every dead-letter queue has an
  alarm on its depth that notifies someone;
- every function (after the SAM transform) logs JSON into a log group of the template that has a
  retention, and has an alarm on its errors;
- least privilege: every function role is capped by a permissions boundary, and a `*` resource
  appears only with actions that have no resource-level permissions;
- the dashboard is the one infra/dashboard.py generates (every function, queue, dead-letter
  queue and alarm on it).

    python infra/checks/complete.py infra/template.yaml
"""
import os
import subprocess
import sys
import tomllib

from samtranslator.yaml_helper import yaml_parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from no_cycles import OfflinePolicies  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402

# Actions IAM grants only on "*" (no resource types): X-Ray's writes, and BatchGetSecretValue,
# whose secrets are authorized one by one through GetSecretValue.
STAR_ONLY_ACTIONS = {
    "secretsmanager:BatchGetSecretValue",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
}


def function_crates(repo):
    crates = {}
    root = os.path.join(repo, "functions")
    for entry in sorted(os.listdir(root)):
        manifest = os.path.join(root, entry, "Cargo.toml")
        if os.path.isfile(manifest):
            with open(manifest, "rb") as f:
                crates[tomllib.load(f)["package"]["name"]] = entry
    return crates


def get_att(node):
    """`Fn::GetAtt: [Name, Attr]` -> (Name, Attr), else None."""
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        value = node["Fn::GetAtt"]
        return tuple(value) if isinstance(value, list) else tuple(str(value).split(".", 1))
    return None


def ref(node):
    return node.get("Ref") if isinstance(node, dict) else None


def check_functions(resources, crates, problems):
    binaries = {}
    for name, r in resources.items():
        if r["Type"] != "AWS::Serverless::Function":
            continue
        meta = r.get("Metadata") or {}
        binary = (meta.get("BuildProperties") or {}).get("Binary")
        if meta.get("BuildMethod") != "rust-cargolambda" or not binary:
            problems.append(f"{name}: not built by cargo-lambda with BuildProperties.Binary")
            continue
        binaries.setdefault(binary, []).append(name)
    for binary, names in sorted(binaries.items()):
        if len(names) > 1:
            problems.append(f"binary {binary} is built by {len(names)} functions: {', '.join(names)}")
        if binary not in crates:
            problems.append(f"{names[0]}: builds {binary}, which is no crate in functions/")
    for crate, folder in sorted(crates.items()):
        if crate not in binaries:
            problems.append(f"functions/{folder} ({crate}) is built by no function of the template")


def notifying_depth_alarms(resources):
    """Queue logical ids with a depth alarm that has an action."""
    watched = set()
    for r in resources.values():
        p = r.get("Properties") or {}
        if r["Type"] != "AWS::CloudWatch::Alarm" or p.get("Namespace") != "AWS/SQS" or not p.get("AlarmActions"):
            continue
        if p.get("MetricName") != "ApproximateNumberOfMessagesVisible":
            continue
        for d in p.get("Dimensions") or []:
            target = get_att(d.get("Value"))
            if d.get("Name") == "QueueName" and target and target[1] == "QueueName":
                watched.add(target[0])
    return watched


def check_queues(resources, problems):
    queues = {n for n, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    dead = {}
    for name in sorted(queues):
        redrive = (resources[name].get("Properties") or {}).get("RedrivePolicy")
        if redrive:
            target = get_att(redrive.get("deadLetterTargetArn"))
            if not target or target[0] not in queues:
                problems.append(f"{name}: its redrive policy names no queue of the template")
            else:
                dead.setdefault(target[0], []).append(name)
    for name in sorted(queues - set(dead)):
        # A queue no redrive policy points at is a work queue: it must have one itself.
        if not (resources[name].get("Properties") or {}).get("RedrivePolicy"):
            problems.append(f"{name}: an SQS queue without a redrive policy to a dead-letter queue")
    watched = notifying_depth_alarms(resources)
    for name in sorted(dead):
        if name not in watched:
            problems.append(f"{name}: dead-letter queue of {', '.join(dead[name])} without a depth alarm that notifies")


def check_logs_and_alarms(out, problems):
    resources = out["Resources"]
    error_alarms = set()
    for r in resources.values():
        p = r.get("Properties") or {}
        if r["Type"] == "AWS::CloudWatch::Alarm" and p.get("Namespace") == "AWS/Lambda" and p.get("MetricName") == "Errors":
            for d in p.get("Dimensions") or []:
                if d.get("Name") == "FunctionName" and ref(d.get("Value")) and p.get("AlarmActions"):
                    error_alarms.add(ref(d["Value"]))
    for name, r in sorted(resources.items()):
        if r["Type"] != "AWS::Lambda::Function":
            continue
        config = (r.get("Properties") or {}).get("LoggingConfig") or {}
        group = ref(config.get("LogGroup"))
        if config.get("LogFormat") != "JSON":
            problems.append(f"{name}: its log format is not JSON")
        if not group or resources.get(group, {}).get("Type") != "AWS::Logs::LogGroup":
            problems.append(f"{name}: logs into no log group of the template (LoggingConfig.LogGroup)")
        elif "RetentionInDays" not in (resources[group].get("Properties") or {}):
            problems.append(f"{name}: its log group {group} has no retention")
        if name not in error_alarms:
            problems.append(f"{name}: no alarm on its errors")


def statements(document):
    found = (document or {}).get("Statement") or []
    return found if isinstance(found, list) else [found]


def listed(value):
    return value if isinstance(value, list) else [value]


def check_least_privilege(out, problems):
    resources = out["Resources"]
    documents = []
    for name, r in resources.items():
        p = r.get("Properties") or {}
        if r["Type"] == "AWS::IAM::Role":
            principals = [s.get("Principal", {}).get("Service") for s in statements(p.get("AssumeRolePolicyDocument"))]
            if any("lambda.amazonaws.com" in listed(s) for s in principals if s) and not p.get("PermissionsBoundary"):
                problems.append(f"{name}: a function role without a permissions boundary")
            documents += [(f"{name}/{pol.get('PolicyName')}", pol.get("PolicyDocument")) for pol in p.get("Policies") or []]
        elif r["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            documents.append((name, p.get("PolicyDocument")))
    for where, document in documents:
        for s in statements(document):
            if s.get("Effect") != "Allow" or "*" not in listed(s.get("Resource")):
                continue
            broad = sorted(set(listed(s.get("Action"))) - STAR_ONLY_ACTIONS)
            if broad:
                problems.append(f"{where}: {', '.join(broad)} on resource \"*\" (name the resource)")


def main(path):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    with open(path) as f:
        template = yaml_parse(f.read())
    problems = []
    check_functions(template["Resources"], function_crates(repo), problems)
    check_queues(template["Resources"], problems)
    for name, resource in template["Resources"].items():
        props = resource.get("Properties") or {}
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = f"s3://packaged/{name}.zip"
    params = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    out = transform(template, params, OfflinePolicies())
    check_logs_and_alarms(out, problems)
    check_least_privilege(out, problems)
    dashboard = os.path.join(repo, "infra", "dashboard.py")
    if subprocess.run([sys.executable, dashboard, "--check"]).returncode != 0:
        problems.append("the dashboard is not the generated one (python infra/dashboard.py --write)")
    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    if problems:
        return 1
    functions = sum(1 for r in out["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    print(f"{path}: {functions} functions, one per crate, each with its JSON log group, retention and errors alarm; "
          "every queue dead-letters to an alarmed queue; no broad \"*\"; the dashboard is current")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"))
