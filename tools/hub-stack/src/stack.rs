//! The stack brought up from the template: stand-ins, resources, one host and one AWS proxy per
//! function, the HTTP API, the SQS event source mappings and the schedules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};

use crate::gateway::{Gateway, Route};
use crate::iam::{CallLog, Role, statements};
use crate::resources::{Clients, Provisioning, provision};
use crate::runtime::{FunctionHost, FunctionSpec};
use crate::schedule::{Expression, Schedule};
use crate::services::Services;
use crate::sqs::{Mapping, MappingCounters};
use crate::template::{ACCOUNT, Event, Function, REGION, Resolver, Template};

pub struct StackOptions {
    pub repo: PathBuf,
    pub template: PathBuf,
    pub data_dir: PathBuf,
    /// The hub's public base URL (the template's `PublicUrl` parameter).
    pub public_url: String,
    /// Where the functions' Lever is (`HUB_LEVER`, a local stand-in for `LeverEnvironment`).
    pub lever_url: String,
    /// The Lever OAuth app the sandbox knows (put into the template's Lever OAuth secret).
    pub lever_app: (String, String),
    /// Where the function binaries are; `None` builds them with cargo beside this binary.
    pub functions_dir: Option<PathBuf>,
    pub clock_offset_ms: i64,
    pub max_visibility_s: Option<u64>,
    /// Processes per function at most (Lambda's concurrency, bounded for one machine).
    pub max_instances: usize,
    /// Where the operator's endpoint listens (bound before the process's AWS variables were set
    /// to point at it).
    pub operator_listener: std::net::TcpListener,
}

pub struct Stack {
    pub services: Services,
    pub clients: Clients,
    pub gateway: Arc<Gateway>,
    pub functions: BTreeMap<String, Arc<FunctionHost>>,
    /// Functions whose first process failed its init at start.
    pub init_failures: Vec<String>,
    pub mappings: Vec<Arc<Mapping>>,
    pub calls: Arc<CallLog>,
    /// Per function: the template's variables.
    pub template_env: BTreeMap<String, BTreeMap<String, String>>,
    pub table: String,
    pub queue_urls: BTreeMap<String, String>,
    pub bucket: String,
    pub secrets_prefix: String,
    pub operator_endpoint: String,
    pub logs: PathBuf,
}

/// Variables Lambda itself sets in every function's environment.
fn lambda_environment(function: &Function, function_name: &str, log_group: &str, endpoint: &str) -> BTreeMap<String, String> {
    [
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_DEFAULT_REGION", REGION.to_owned()),
        (
            "AWS_ACCESS_KEY_ID",
            format!("ASIA{}", function.logical_id.to_ascii_uppercase().chars().filter(char::is_ascii_alphanumeric).take(16).collect::<String>()),
        ),
        ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
        ("AWS_SESSION_TOKEN", "local".to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", function_name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", function.memory_mb.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", log_group.to_owned()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/[$LATEST]{}", uuid::Uuid::new_v4().simple())),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned()),
        // The stand-ins: every AWS call goes through this function's own proxy.
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The role SAM makes for a function: its `Policies`, the managed policies SAM adds for its
/// events (SQS: `AWSLambdaSQSQueueExecutionRole`), and its permissions boundary.
fn role(resolver: &Resolver<'_>, function: &Function) -> anyhow::Result<Role> {
    let mut identity = vec![];
    for policy in &function.policies {
        let source = policy.get("Source").and_then(|s| s.as_str()).unwrap_or("ManagedPolicy");
        identity.extend(statements(policy.get("Statement").unwrap_or(&serde_json::Value::Null), source));
    }
    if function.events.iter().any(|(_, e)| matches!(e, Event::Sqs { .. })) {
        let sqs = serde_json::json!([{"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"], "Resource": "*"}]);
        identity.extend(statements(&sqs, "AWSLambdaSQSQueueExecutionRole (SAM, for the SQS event)"));
    }
    let boundary = match &function.boundary {
        Some(id) => Some(statements(&resolver.managed_policy(id)?, &format!("PermissionsBoundary {id}"))),
        None => None,
    };
    Ok(Role { function: function.binary.clone(), identity, boundary })
}

/// Builds the function binaries the template names, as `cargo run -p hub-stack` builds itself
/// (same profile, same target directory).
fn build_functions(repo: &Path, functions: &[Function]) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("locating hub-stack")?;
    let dir = me.parent().ok_or_else(|| anyhow!("hub-stack has no directory"))?.to_owned();
    // A test binary lives in target/<profile>/deps; the functions go one up.
    let dir = if dir.ends_with("deps") { dir.parent().map(Path::to_owned).unwrap_or(dir) } else { dir };
    let mut cargo = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(repo).args(["build", "--quiet"]);
    if !cfg!(debug_assertions) {
        cargo.arg("--release");
    }
    for f in functions {
        cargo.args(["-p", &f.binary]);
    }
    eprintln!("hub-stack: building the {} functions of the template (cargo build)", functions.len());
    let status = cargo.status().context("running cargo build")?;
    if !status.success() {
        bail!("cargo build of the template's functions failed");
    }
    Ok(dir)
}

/// What triggers the functions, from their `Events`: API Gateway's routes, SQS mappings and
/// schedules.
#[derive(Default)]
struct Triggers {
    routes: Vec<Route>,
    mappings: Vec<Arc<Mapping>>,
    schedules: Vec<Arc<Schedule>>,
}

impl Triggers {
    fn add(&mut self, function: &Function, host: &Arc<FunctionHost>, function_name: &str, moto: &str, options: &StackOptions) -> anyhow::Result<()> {
        for (name, event) in &function.events {
            match event {
                Event::HttpApi { method, path } => {
                    self.routes.push(Route { method: method.clone(), path: path.clone(), function: function.binary.clone() })
                }
                Event::Sqs { queue_arn, batch_size, window_s, report_failures, max_concurrency } => {
                    let queue_name = queue_arn.rsplit(':').next().unwrap_or_default();
                    self.mappings.push(Arc::new(Mapping {
                        name: format!("{}.{name}", function.binary),
                        function: host.clone(),
                        queue_url: format!("{}/{ACCOUNT}/{queue_name}", moto),
                        queue_arn: queue_arn.clone(),
                        batch_size: *batch_size,
                        window: Duration::from_secs(*window_s),
                        report_failures: *report_failures,
                        pollers: max_concurrency.unwrap_or(2).min(options.max_instances).min(2),
                        counters: MappingCounters::default(),
                    }));
                }
                Event::Schedule { expression, timezone, input, v2 } => {
                    let timezone = match timezone {
                        Some(tz) => jiff::tz::TimeZone::get(tz).with_context(|| format!("time zone {tz}"))?,
                        None => jiff::tz::TimeZone::UTC,
                    };
                    self.schedules.push(Arc::new(Schedule {
                        name: format!("{}.{name}", function.binary),
                        function: host.clone(),
                        expression: Expression::parse(expression)?,
                        timezone,
                        input: input.clone(),
                        v2: *v2,
                        schedule_arn: format!("arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{}-{name}", function_name),
                        offset_ms: options.clock_offset_ms,
                        retries: function.async_retries,
                    }));
                }
            }
        }
        Ok(())
    }
}

/// The operator's own endpoint (registering partners, as `hub-ops` would): every call
/// allowed, none recorded against a function.
fn operator_endpoint(options: &StackOptions, services: &Services, secret_arns: Vec<(String, String)>) -> anyhow::Result<String> {
    let operator = Role {
        function: "operator".into(),
        identity: statements(&serde_json::json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]), "operator"),
        boundary: None,
    };
    let listener = options.operator_listener.try_clone()?;
    listener.set_nonblocking(true)?;
    crate::proxy::start_on(
        tokio::net::TcpListener::from_std(listener)?,
        crate::proxy::Proxy {
            role: operator,
            log: Arc::new(CallLog::default()),
            dynamodb: services.dynamodb.clone(),
            moto: services.moto.clone(),
            http: reqwest::Client::new(),
            secret_arns,
        },
    )
}

impl Stack {
    pub async fn up(options: &StackOptions) -> anyhow::Result<Self> {
        let template = Template::read(&options.template)?;
        let logs = options.data_dir.join("logs");
        std::fs::create_dir_all(&logs)?;
        let services = Services::start(&options.repo, &options.data_dir, &logs).await?;
        let clients = Clients::new(&services.dynamodb, &services.moto);
        let overrides = BTreeMap::from([("PublicUrl".to_owned(), options.public_url.clone())]);
        let mut resolver = Resolver::new(&template, "hub-stack", &overrides)?;
        let lever_app = serde_json::json!({"client_id": options.lever_app.0, "client_secret": options.lever_app.1}).to_string();
        provision(
            &mut resolver,
            &Provisioning {
                clients: &clients,
                moto: &services.moto,
                max_visibility_s: options.max_visibility_s,
                secrets_file: &options.data_dir.join("stack-secrets.json"),
                secret_values: BTreeMap::from([(shared::secrets::names::LEVER_OAUTH.to_owned(), lever_app)]),
            },
        )
        .await?;
        let functions_spec = resolver.functions()?;
        let binaries = match &options.functions_dir {
            Some(dir) => dir.clone(),
            None => build_functions(&options.repo, &functions_spec)?,
        };
        let secret_arns: Vec<(String, String)> = template
            .of_kind("AWS::SecretsManager::Secret")
            .filter_map(|(id, r)| Some((resolver.text(r.properties.get("Name")?).ok()?, resolver.physical.get(id)?.reference.clone())))
            .collect();
        let calls = Arc::new(CallLog::default());
        let mut functions = BTreeMap::new();
        let mut template_env = BTreeMap::new();
        let mut triggers = Triggers::default();
        for function in &functions_spec {
            let role = role(&resolver, function).with_context(|| format!("the role of {}", function.logical_id))?;
            let endpoint = crate::proxy::start(crate::proxy::Proxy {
                role,
                log: calls.clone(),
                dynamodb: services.dynamodb.clone(),
                moto: services.moto.clone(),
                http: reqwest::Client::new(),
                secret_arns: secret_arns.clone(),
            })
            .await?;
            let physical = &resolver.physical[&function.logical_id];
            let log_group = resolver
                .template
                .resources
                .get(&function.logical_id)
                .and_then(|r| r.properties.get("LoggingConfig"))
                .and_then(|l| l.get("LogGroup"))
                .map(|v| resolver.text(v))
                .transpose()?
                .unwrap_or_else(|| format!("/aws/lambda/{}", physical.reference));
            let mut environment = lambda_environment(function, &physical.reference, &log_group, &endpoint);
            environment.extend(function.environment.clone());
            // Local stand-ins the template cannot say (README: what the stack departs from).
            environment.insert("HUB_LEVER".into(), options.lever_url.clone());
            environment.insert("HUB_ALLOW_HTTP_LOOPBACK".into(), "1".into());
            let report = logs.join(format!("{}.env-reads", function.binary));
            let _ = std::fs::remove_file(&report);
            environment.insert(shared::hub::READS_REPORT_VAR.into(), report.display().to_string());
            template_env.insert(function.binary.clone(), function.environment.clone());
            let host = FunctionHost::new(FunctionSpec {
                name: function.binary.clone(),
                function_name: physical.reference.clone(),
                function_arn: physical.attributes.get("Arn").cloned().unwrap_or_default(),
                binary: binaries.join(&function.binary),
                environment,
                timeout: Duration::from_secs(function.timeout_s),
                memory_mb: function.memory_mb,
                log: logs.join(format!("{}.log", function.binary)),
                max_instances: options.max_instances,
            });
            triggers.add(function, &host, &physical.reference, &services.moto, options)?;
            functions.insert(function.binary.clone(), host);
        }
        let domain = url::Url::parse(&options.public_url)
            .ok()
            .and_then(|u| u.host_str().map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(80))))
            .unwrap_or_default();
        let Triggers { routes, mappings, schedules } = triggers;
        let gateway = Arc::new(Gateway { routes, functions: functions.clone(), domain });
        let warmed = futures::future::join_all(functions.iter().map(|(name, host)| async move { (name.clone(), host.warm().await) })).await;
        let init_failures = warmed.into_iter().filter_map(|(name, r)| r.err().map(|why| format!("{name} did not start: {why}"))).collect();
        for mapping in &mappings {
            crate::sqs::start(mapping.clone(), clients.sqs.clone());
        }
        for schedule in schedules {
            crate::schedule::start(schedule);
        }
        let of = |kind: &str| template.of_kind(kind).map(|(id, _)| resolver.physical[id].clone()).collect::<Vec<_>>();
        let table = of("AWS::DynamoDB::Table").first().map(|p| p.reference.clone()).unwrap_or_default();
        let bucket = of("AWS::S3::Bucket").first().map(|p| p.reference.clone()).unwrap_or_default();
        let queue_urls = template.of_kind("AWS::SQS::Queue").map(|(id, _)| (id.clone(), resolver.physical[id].reference.clone())).collect();
        let secrets_prefix = functions_spec
            .first()
            .and_then(|f| f.environment.get("HUB_SECRETS"))
            .and_then(|s| s.strip_prefix("secretsmanager:"))
            .unwrap_or_default()
            .to_owned();
        let operator_endpoint = operator_endpoint(options, &services, secret_arns)?;
        Ok(Self {
            services,
            clients,
            gateway,
            functions,
            init_failures,
            mappings,
            calls,
            template_env,
            table,
            queue_urls,
            bucket,
            secrets_prefix,
            operator_endpoint,
            logs,
        })
    }

    /// Every function's processes stopped.
    pub fn stop(&self) {
        for host in self.functions.values() {
            host.kill_all();
        }
    }
}
