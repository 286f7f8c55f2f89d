#!/usr/bin/env python3
"""Transforms the SAM template as CloudFormation will (aws-sam-translator) and fails on any
dependency cycle between the resulting resources ("Circular dependency between resources"),
which `sam validate --lint` and some cfn-lint versions let through.

    python infra/checks/no_cycles.py infra/template.yaml
"""
import os
import re
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicies:
    """The translator asks for AWS managed policy ARNs (e.g. for X-Ray tracing); offline, derive them."""

    def load(self):
        return {}

    def __getattr__(self, _name):
        return lambda *a, **k: {}


def references(node, found):
    """Every resource name `node` points at: Ref, Fn::GetAtt, Fn::Sub ${Name}, DependsOn."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                if isinstance(text, str):
                    for name in re.findall(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}", text):
                        found.add(name)
                if isinstance(value, list) and len(value) > 1:
                    references(value[1], found)
            else:
                references(value, found)
    elif isinstance(node, list):
        for item in node:
            references(item, found)
    return found


def cycle(graph):
    """One dependency cycle as a list of names, or None."""
    state, stack = {}, []

    def visit(name):
        state[name] = "open"
        stack.append(name)
        for dep in sorted(graph.get(name, ())):
            if state.get(dep) == "open":
                return stack[stack.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[name] = "done"
        return None

    for name in sorted(graph):
        if name not in state:
            found = visit(name)
            if found:
                return found
    return None


def main(path):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path) as f:
        template = yaml_parse(f.read())
    # As `sam package` would: local code locations become S3 objects before the transform.
    for name, resource in template.get("Resources", {}).items():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and not str(props.get("CodeUri", "s3://")).startswith("s3://"):
            props["CodeUri"] = f"s3://packaged/{name}.zip"
    params = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    try:
        out = transform(template, params, OfflinePolicies())
    except InvalidDocumentException as e:
        print(f"{path}: the SAM transform failed: {e}", file=sys.stderr)
        return 1
    resources = out.get("Resources", {})
    graph = {}
    for name, resource in resources.items():
        deps = references(resource.get("Properties", {}), set())
        depends_on = resource.get("DependsOn", [])
        deps |= set([depends_on] if isinstance(depends_on, str) else depends_on)
        graph[name] = {d for d in deps if d in resources and d != name}
    found = cycle(graph)
    if found:
        print(f"{path}: circular dependency after the SAM transform: {' -> '.join(found)}", file=sys.stderr)
        return 1
    print(f"{path}: {len(resources)} resources after the SAM transform, no dependency cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"))
