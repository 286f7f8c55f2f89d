//! The SAM template as data: its parameters, resources and functions, with CloudFormation's
//! intrinsic functions (`!Ref`, `!GetAtt`, `!Sub`, `!If`, `!Not`, `!Equals`, `!Join`) resolved
//! against the local resources that stand in for the deployed ones.
//!
//! Only what the stack needs is modelled; anything the template says that this reader does not
//! understand (an intrinsic, an event type, a policy template) is an error naming it, never
//! silently skipped, so a template change cannot pass here and fail at `sam deploy`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use serde_norway::Value;

/// Where the local stack pretends to be.
pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// The template as read, before anything is resolved.
pub struct Template {
    pub parameters: BTreeMap<String, Value>,
    pub conditions: BTreeMap<String, Value>,
    pub globals: Value,
    pub resources: BTreeMap<String, Resource>,
}

#[derive(Clone)]
pub struct Resource {
    pub kind: String,
    pub properties: Value,
    pub metadata: Value,
}

impl Template {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("{}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let doc: Value = serde_norway::from_str(text).context("not YAML")?;
        let section = |name: &str| doc.get(name).cloned().unwrap_or(Value::Null);
        let mut resources = BTreeMap::new();
        for (id, body) in mapping(&section("Resources")) {
            let kind = body.get("Type").and_then(Value::as_str).ok_or_else(|| anyhow!("resource {id} has no Type"))?;
            resources.insert(
                id.clone(),
                Resource {
                    kind: kind.to_owned(),
                    properties: body.get("Properties").cloned().unwrap_or(Value::Null),
                    metadata: body.get("Metadata").cloned().unwrap_or(Value::Null),
                },
            );
        }
        Ok(Self {
            parameters: mapping(&section("Parameters")).into_iter().collect(),
            conditions: mapping(&section("Conditions")).into_iter().collect(),
            globals: section("Globals"),
            resources,
        })
    }

    /// Resources of one CloudFormation type, by logical id.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a String, &'a Resource)> + 'a {
        self.resources.iter().filter(move |(_, r)| r.kind == kind)
    }
}

/// A mapping's entries with string keys (anything else is not a template mapping).
pub fn mapping(value: &Value) -> Vec<(String, Value)> {
    match value {
        Value::Mapping(m) => m.iter().filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.clone()))).collect(),
        _ => vec![],
    }
}

/// What a deployed resource answers to `Ref` and `GetAtt`.
#[derive(Clone, Debug, Default)]
pub struct Physical {
    pub reference: String,
    pub attributes: BTreeMap<String, String>,
}

/// Everything intrinsics resolve against.
pub struct Resolver<'t> {
    pub template: &'t Template,
    pub stack_name: String,
    pub parameters: BTreeMap<String, String>,
    pub physical: BTreeMap<String, Physical>,
}

impl<'t> Resolver<'t> {
    /// Parameters take `overrides`, else their defaults; one without either is an error.
    pub fn new(template: &'t Template, stack_name: &str, overrides: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        let mut parameters = BTreeMap::new();
        for (name, spec) in &template.parameters {
            let value = match overrides.get(name) {
                Some(v) => v.clone(),
                None => match spec.get("Default") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    Some(Value::Bool(b)) => b.to_string(),
                    _ => bail!("parameter {name} has no default: give it a value"),
                },
            };
            if let Some(Value::Sequence(allowed)) = spec.get("AllowedValues") {
                let allowed: Vec<String> = allowed.iter().map(scalar_text).collect();
                if !allowed.contains(&value) {
                    bail!("parameter {name}={value} is not one of its AllowedValues {allowed:?}");
                }
            }
            parameters.insert(name.clone(), value);
        }
        for name in overrides.keys() {
            if !parameters.contains_key(name) {
                bail!("the template has no parameter {name}");
            }
        }
        Ok(Self { template, stack_name: stack_name.to_owned(), parameters, physical: BTreeMap::new() })
    }

    fn pseudo(&self, name: &str) -> Option<String> {
        Some(match name {
            "AWS::Region" => REGION.to_owned(),
            "AWS::AccountId" => ACCOUNT.to_owned(),
            "AWS::StackName" => self.stack_name.clone(),
            "AWS::Partition" => "aws".to_owned(),
            "AWS::URLSuffix" => "amazonaws.com".to_owned(),
            _ => return None,
        })
    }

    fn reference(&self, name: &str) -> anyhow::Result<String> {
        if let Some(v) = self.pseudo(name) {
            return Ok(v);
        }
        if let Some(v) = self.parameters.get(name) {
            return Ok(v.clone());
        }
        match self.physical.get(name) {
            Some(p) => Ok(p.reference.clone()),
            None if self.template.resources.contains_key(name) => {
                bail!("!Ref {name}: that resource is not made by the local stack yet")
            }
            None => bail!("!Ref {name}: no such parameter or resource"),
        }
    }

    fn attribute(&self, resource: &str, attribute: &str) -> anyhow::Result<String> {
        let physical = self.physical.get(resource).ok_or_else(|| anyhow!("!GetAtt {resource}.{attribute}: no such resource made locally"))?;
        physical
            .attributes
            .get(attribute)
            .cloned()
            .ok_or_else(|| anyhow!("!GetAtt {resource}.{attribute}: the local stack does not know that attribute"))
    }

    pub fn condition(&self, name: &str) -> anyhow::Result<bool> {
        let body = self.template.conditions.get(name).ok_or_else(|| anyhow!("no condition {name}"))?;
        match self.resolve(body)? {
            Value::Bool(b) => Ok(b),
            other => bail!("condition {name} is not a boolean: {other:?}"),
        }
    }

    /// The value with every intrinsic function replaced by what it stands for.
    pub fn resolve(&self, value: &Value) -> anyhow::Result<Value> {
        Ok(match value {
            Value::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                let name = tag.trim_start_matches('!');
                self.intrinsic(name, &tagged.value)?
            }
            Value::Mapping(m) => {
                if let (1, Some((Value::String(key), arg))) = (m.len(), m.iter().next())
                    && (key == "Ref" || key.starts_with("Fn::"))
                {
                    return self.intrinsic(key.trim_start_matches("Fn::"), arg);
                }
                let mut out = serde_norway::Mapping::new();
                for (k, v) in m {
                    out.insert(k.clone(), self.resolve(v)?);
                }
                Value::Mapping(out)
            }
            Value::Sequence(items) => Value::Sequence(items.iter().map(|v| self.resolve(v)).collect::<anyhow::Result<_>>()?),
            other => other.clone(),
        })
    }

    /// The value resolved to text (a string, number or boolean).
    pub fn text(&self, value: &Value) -> anyhow::Result<String> {
        match self.resolve(value)? {
            v @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) => Ok(scalar_text(&v)),
            other => bail!("expected text, found {other:?}"),
        }
    }

    fn intrinsic(&self, name: &str, arg: &Value) -> anyhow::Result<Value> {
        Ok(match name {
            "Ref" => Value::String(self.reference(&self.text(arg)?)?),
            "GetAtt" => {
                let (resource, attribute) = match self.resolve(arg)? {
                    Value::String(s) => {
                        let (r, a) = s.split_once('.').ok_or_else(|| anyhow!("!GetAtt {s}: expected Resource.Attribute"))?;
                        (r.to_owned(), a.to_owned())
                    }
                    Value::Sequence(parts) if parts.len() == 2 => (scalar_text(&parts[0]), scalar_text(&parts[1])),
                    other => bail!("!GetAtt {other:?}: expected Resource.Attribute"),
                };
                Value::String(self.attribute(&resource, &attribute)?)
            }
            "Sub" => {
                let (text, vars) = match arg {
                    Value::Sequence(parts) if parts.len() == 2 => (scalar_text(&parts[0]), mapping(&parts[1])),
                    other => (scalar_text(other), vec![]),
                };
                let mut given = BTreeMap::new();
                for (k, v) in vars {
                    given.insert(k, self.text(&v)?);
                }
                Value::String(self.substitute(&text, &given)?)
            }
            "Not" => match self.resolve(arg)? {
                Value::Sequence(v) if v.len() == 1 => Value::Bool(!v[0].as_bool().ok_or_else(|| anyhow!("!Not of a non-boolean"))?),
                other => bail!("!Not {other:?}"),
            },
            "Equals" => match self.resolve(arg)? {
                Value::Sequence(v) if v.len() == 2 => Value::Bool(scalar_text(&v[0]) == scalar_text(&v[1])),
                other => bail!("!Equals {other:?}"),
            },
            "If" => match arg {
                Value::Sequence(v) if v.len() == 3 => {
                    let which = if self.condition(&scalar_text(&v[0]))? { &v[1] } else { &v[2] };
                    self.resolve(which)?
                }
                other => bail!("!If {other:?}"),
            },
            "Join" => match self.resolve(arg)? {
                Value::Sequence(v) if v.len() == 2 => {
                    let parts: Vec<String> = v[1].as_sequence().map(|s| s.iter().map(scalar_text).collect()).unwrap_or_default();
                    Value::String(parts.join(&scalar_text(&v[0])))
                }
                other => bail!("!Join {other:?}"),
            },
            other => bail!("the intrinsic function {other} is not known to the local stack"),
        })
    }

    /// `${Name}`, `${Resource.Attribute}`, `${AWS::Region}`; `${!Literal}` stays `${Literal}`.
    fn substitute(&self, text: &str, given: &BTreeMap<String, String>) -> anyhow::Result<String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| anyhow!("!Sub {text}: an unclosed ${{"))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str(&format!("${{{literal}}}"));
            } else if let Some(v) = given.get(name) {
                out.push_str(v);
            } else if let Some((resource, attribute)) = name.split_once('.').filter(|_| !name.starts_with("AWS::")) {
                out.push_str(&self.attribute(resource, attribute)?);
            } else {
                out.push_str(&self.reference(name)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => format!("{other:?}"),
    }
}

/// A function of the template, resolved: what the stack runs and how it triggers it.
#[derive(Clone, Debug)]
pub struct Function {
    pub logical_id: String,
    /// The cargo binary (`Metadata.BuildProperties.Binary`).
    pub binary: String,
    pub memory_mb: u64,
    pub timeout_s: u64,
    /// `Globals.Function.Environment` with the function's own variables over it.
    pub environment: BTreeMap<String, String>,
    /// The function's policies, resolved (inline statements and SAM policy templates).
    pub policies: Vec<serde_json::Value>,
    /// The permissions boundary's logical id, when it is a managed policy of the template.
    pub boundary: Option<String>,
    /// Lambda's retries of a failed asynchronous invocation (a schedule's run):
    /// `EventInvokeConfig.MaximumRetryAttempts`, two without it. A schedule's own `RetryPolicy`
    /// retries only failed deliveries, which do not happen here.
    pub async_retries: u32,
    pub events: Vec<(String, Event)>,
}

#[derive(Clone, Debug)]
pub enum Event {
    HttpApi { method: String, path: String },
    Sqs { queue_arn: String, batch_size: usize, window_s: u64, report_failures: bool, max_concurrency: Option<usize> },
    Schedule { expression: String, timezone: Option<String>, input: Option<String>, v2: bool },
}

impl Resolver<'_> {
    fn function_property(&self, resource: &Resource, name: &str) -> Option<Value> {
        resource.properties.get(name).cloned().or_else(|| self.template.globals.get("Function").and_then(|g| g.get(name)).cloned())
    }

    pub fn functions(&self) -> anyhow::Result<Vec<Function>> {
        let mut out = vec![];
        for (id, resource) in self.template.of_kind("AWS::Serverless::Function") {
            out.push(self.function(id, resource).with_context(|| format!("function {id}"))?);
        }
        Ok(out)
    }

    fn function(&self, id: &str, resource: &Resource) -> anyhow::Result<Function> {
        let binary = resource
            .metadata
            .get("BuildProperties")
            .and_then(|b| b.get("Binary"))
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("no Metadata.BuildProperties.Binary"))?
            .to_owned();
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            match self.function_property(resource, name) {
                Some(v) => self.text(&v)?.parse().with_context(|| name.to_owned()),
                None => Ok(default),
            }
        };
        let mut environment = BTreeMap::new();
        let global_vars = self.template.globals.get("Function").and_then(|f| f.get("Environment")).and_then(|e| e.get("Variables"));
        let own_vars = resource.properties.get("Environment").and_then(|e| e.get("Variables"));
        for vars in [global_vars, own_vars].into_iter().flatten() {
            for (k, v) in mapping(vars) {
                environment.insert(k.clone(), self.text(&v).with_context(|| format!("Environment {k}"))?);
            }
        }
        let mut policies = vec![];
        if let Some(Value::Sequence(list)) = resource.properties.get("Policies") {
            for policy in list {
                policies.push(self.policy(policy)?);
            }
        }
        let boundary = match self.function_property(resource, "PermissionsBoundary") {
            Some(Value::Tagged(t)) if t.tag.to_string().trim_start_matches('!') == "Ref" => Some(scalar_text(&t.value)),
            Some(other) => bail!("PermissionsBoundary {other:?}: the local stack reads a !Ref to a managed policy of the template"),
            None => None,
        };
        let mut events = vec![];
        for (name, event) in mapping(resource.properties.get("Events").unwrap_or(&Value::Null)) {
            events.push((name.clone(), self.event(&event).with_context(|| format!("event {name}"))?));
        }
        Ok(Function {
            logical_id: id.to_owned(),
            binary,
            memory_mb: number("MemorySize", 128)?,
            timeout_s: number("Timeout", 3)?,
            environment,
            policies,
            boundary,
            async_retries: match self.function_property(resource, "EventInvokeConfig").and_then(|c| c.get("MaximumRetryAttempts").cloned()) {
                Some(v) => self.text(&v)?.parse().context("EventInvokeConfig.MaximumRetryAttempts")?,
                None => 2,
            },
            events,
        })
    }

    fn event(&self, event: &Value) -> anyhow::Result<Event> {
        let kind = event.get("Type").and_then(Value::as_str).unwrap_or_default();
        let props = event.get("Properties").cloned().unwrap_or(Value::Null);
        let text = |name: &str| -> anyhow::Result<Option<String>> { props.get(name).map(|v| self.text(v)).transpose() };
        Ok(match kind {
            "HttpApi" => Event::HttpApi {
                method: text("Method")?.unwrap_or_else(|| "ANY".into()).to_ascii_uppercase(),
                path: text("Path")?.unwrap_or_else(|| "$default".into()),
            },
            "SQS" => Event::Sqs {
                queue_arn: text("Queue")?.ok_or_else(|| anyhow!("SQS event without Queue"))?,
                batch_size: text("BatchSize")?.map(|s| s.parse()).transpose()?.unwrap_or(10),
                window_s: text("MaximumBatchingWindowInSeconds")?.map(|s| s.parse()).transpose()?.unwrap_or(0),
                report_failures: props
                    .get("FunctionResponseTypes")
                    .and_then(Value::as_sequence)
                    .is_some_and(|t| t.iter().any(|v| v.as_str() == Some("ReportBatchItemFailures"))),
                max_concurrency: props
                    .get("ScalingConfig")
                    .and_then(|s| s.get("MaximumConcurrency"))
                    .map(|v| self.text(v))
                    .transpose()?
                    .map(|s| s.parse())
                    .transpose()?,
            },
            "Schedule" | "ScheduleV2" => Event::Schedule {
                expression: text("ScheduleExpression")?.ok_or_else(|| anyhow!("schedule without ScheduleExpression"))?,
                timezone: text("ScheduleExpressionTimezone")?,
                input: text("Input")?,
                v2: kind == "ScheduleV2",
            },
            other => bail!("event type {other:?} is not run by the local stack"),
        })
    }

    /// A policy as IAM statements: inline `Statement` lists, SAM's policy templates, or a
    /// managed policy's name.
    fn policy(&self, policy: &Value) -> anyhow::Result<serde_json::Value> {
        let arn = |service: &str, resource: &str| format!("arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}");
        if let Some(name) = policy.as_str() {
            return Ok(serde_json::json!({"ManagedPolicy": name}));
        }
        let entries = mapping(policy);
        let [(name, body)] = entries.as_slice() else { bail!("a policy with more than one key: {policy:?}") };
        let statements = match name.as_str() {
            "Statement" => json_of(&self.resolve(body)?)?,
            "SQSSendMessagePolicy" => {
                let queue = self.text(body.get("QueueName").ok_or_else(|| anyhow!("SQSSendMessagePolicy without QueueName"))?)?;
                serde_json::json!([{"Effect": "Allow", "Action": ["sqs:SendMessage*"], "Resource": arn("sqs", &queue)}])
            }
            "SQSPollerPolicy" => {
                let queue = self.text(body.get("QueueName").ok_or_else(|| anyhow!("SQSPollerPolicy without QueueName"))?)?;
                serde_json::json!([{"Effect": "Allow", "Action": ["sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch", "sqs:DeleteMessage", "sqs:DeleteMessageBatch", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"], "Resource": arn("sqs", &queue)}])
            }
            "AWSSecretsManagerGetSecretValuePolicy" => {
                let secret = self.text(body.get("SecretArn").ok_or_else(|| anyhow!("AWSSecretsManagerGetSecretValuePolicy without SecretArn"))?)?;
                serde_json::json!([{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}])
            }
            other => bail!("the policy template {other} is not known to the local stack"),
        };
        Ok(serde_json::json!({"Statement": statements, "Source": name}))
    }

    /// A managed policy of the template (a permissions boundary), as its statements.
    pub fn managed_policy(&self, logical_id: &str) -> anyhow::Result<serde_json::Value> {
        let resource = self.template.resources.get(logical_id).ok_or_else(|| anyhow!("no resource {logical_id}"))?;
        let document = resource.properties.get("PolicyDocument").ok_or_else(|| anyhow!("{logical_id} has no PolicyDocument"))?;
        let resolved = json_of(&self.resolve(document)?)?;
        Ok(resolved.get("Statement").cloned().unwrap_or_default())
    }
}

pub fn json_of(value: &Value) -> anyhow::Result<serde_json::Value> {
    serde_json::to_value(value).context("a template value that is not JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
Parameters:
  Stage: { Type: String, Default: prod }
  Url: { Type: String, Default: "" }
Conditions:
  HasUrl: !Not [!Equals [!Ref Url, ""]]
Globals:
  Function:
    MemorySize: 256
    Environment:
      Variables:
        TABLE: !Ref Table
        SECRETS: !Sub "secretsmanager:${Stage}/"
Resources:
  Table: { Type: AWS::DynamoDB::Table }
  Queue: { Type: AWS::SQS::Queue }
  Fn:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: my-fn } }
    Properties:
      Timeout: 9
      Environment: { Variables: { OWN: !If [HasUrl, yes, no], ARN: !GetAtt Queue.Arn, LIT: !Sub "${!Keep}-${AWS::Region}" } }
      Policies:
        - SQSSendMessagePolicy: { QueueName: !GetAtt Queue.QueueName }
      Events:
        Api: { Type: HttpApi, Properties: { Method: get, Path: "/x/{id}" } }
        Work: { Type: SQS, Properties: { Queue: !GetAtt Queue.Arn, BatchSize: 5, FunctionResponseTypes: [ReportBatchItemFailures] } }
"#;

    fn resolver(template: &Template) -> Resolver<'_> {
        let mut r = Resolver::new(template, "s", &BTreeMap::new()).unwrap();
        r.physical.insert("Table".into(), Physical { reference: "s-Table".into(), attributes: BTreeMap::new() });
        let attrs = [("Arn", "arn:aws:sqs:us-east-1:123456789012:s-Queue"), ("QueueName", "s-Queue")];
        r.physical.insert(
            "Queue".into(),
            Physical { reference: "http://q/s-Queue".into(), attributes: attrs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect() },
        );
        r
    }

    #[test]
    fn a_function_gets_globals_its_own_variables_and_resolved_intrinsics() {
        let template = Template::parse(SMALL).unwrap();
        let functions = resolver(&template).functions().unwrap();
        let f = &functions[0];
        assert_eq!((f.binary.as_str(), f.memory_mb, f.timeout_s), ("my-fn", 256, 9));
        assert_eq!(f.environment["TABLE"], "s-Table");
        assert_eq!(f.environment["SECRETS"], "secretsmanager:prod/");
        assert_eq!(f.environment["OWN"], "no");
        assert_eq!(f.environment["ARN"], "arn:aws:sqs:us-east-1:123456789012:s-Queue");
        assert_eq!(f.environment["LIT"], "${Keep}-us-east-1");
        assert_eq!(f.policies[0]["Statement"][0]["Resource"], "arn:aws:sqs:us-east-1:123456789012:s-Queue");
        assert!(matches!(&f.events[0].1, Event::HttpApi { method, path } if method == "GET" && path == "/x/{id}"));
        assert!(matches!(&f.events[1].1, Event::Sqs { batch_size: 5, report_failures: true, .. }));
    }

    #[test]
    fn unknown_intrinsics_parameters_and_event_types_are_errors() {
        let template = Template::parse(&SMALL.replace("!GetAtt Queue.Arn, LIT", "!FindInMap [a, b, c], LIT")).unwrap();
        assert!(resolver(&template).functions().unwrap_err().chain().any(|e| e.to_string().contains("FindInMap")));
        let template = Template::parse(SMALL).unwrap();
        let overrides = BTreeMap::from([("Nope".to_owned(), "x".to_owned())]);
        assert!(Resolver::new(&template, "s", &overrides).is_err());
        let template = Template::parse(&SMALL.replace("Type: HttpApi", "Type: Kinesis")).unwrap();
        assert!(resolver(&template).functions().is_err());
    }
}
