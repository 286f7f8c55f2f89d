//! The template's AWS resources made on the stand-ins, as the template declares them: the table
//! (keys, every index, TTL) on DynamoDB Local; every queue (visibility timeout, retention,
//! redrive policy), the bucket and every secret (generated values kept in the data directory,
//! so a restart can still open what was sealed with them) on moto.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use aws_sdk_dynamodb::types as ddb;
use rand::Rng as _;
use serde_norway::Value;

use crate::template::{ACCOUNT, Physical, REGION, Resolver, mapping, scalar_text};

/// SDK clients on the stand-ins (the stack's own, with full rights).
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Clients {
    pub fn new(dynamodb: &str, moto: &str) -> Self {
        let config = |endpoint: &str| {
            aws_config::SdkConfig::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(REGION))
                .endpoint_url(endpoint)
                // DynamoDB Local takes access keys of letters and digits only.
                .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(aws_sdk_dynamodb::config::Credentials::new(
                    "ASIAHUBSTACKPROVISION",
                    "local",
                    None,
                    None,
                    "hub-stack",
                )))
                .build()
        };
        let moto_config = config(moto);
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&config(dynamodb)),
            sqs: aws_sdk_sqs::Client::new(&moto_config),
            s3: aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&moto_config).force_path_style(true).build()),
            secrets: aws_sdk_secretsmanager::Client::new(&moto_config),
        }
    }
}

/// Options that depart from the template for local runs, each one documented in the README.
pub struct Provisioning<'a> {
    pub clients: &'a Clients,
    pub moto: &'a str,
    /// `--max-visibility-timeout`: queues' visibility timeouts capped, so a test sees a message
    /// come back in seconds rather than the template's minutes.
    pub max_visibility_s: Option<u64>,
    /// Generated secret values, kept across restarts.
    pub secrets_file: &'a Path,
    /// Secret values to use instead of the template's (the Lever OAuth app pointed at the
    /// sandbox), by the secret's name after the stage prefix (`hub/lever-oauth`).
    pub secret_values: BTreeMap<String, String>,
}

fn arn(service: &str, resource: &str) -> String {
    format!("arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}")
}

/// Every resource of the template, made or named, in `resolver.physical`.
pub async fn provision(resolver: &mut Resolver<'_>, options: &Provisioning<'_>) -> anyhow::Result<()> {
    let template = resolver.template;
    let stack = resolver.stack_name.clone();
    // Secrets first: their ARNs (a suffix moto picks) are what `!Ref` answers.
    for (id, resource) in template.of_kind("AWS::SecretsManager::Secret") {
        let physical = secret(resolver, id, &resource.properties, options).await.with_context(|| format!("secret {id}"))?;
        resolver.physical.insert(id.clone(), physical);
    }
    for (id, resource) in &template.resources {
        let attrs = |pairs: &[(&str, String)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect::<BTreeMap<_, _>>();
        let physical = match resource.kind.as_str() {
            "AWS::SecretsManager::Secret" => continue,
            "AWS::DynamoDB::Table" => {
                let name = format!("{stack}-{id}");
                Physical { attributes: attrs(&[("Arn", arn("dynamodb", &format!("table/{name}")))]), reference: name }
            }
            "AWS::SQS::Queue" => {
                let name = format!("{stack}-{id}");
                Physical {
                    attributes: attrs(&[
                        ("Arn", arn("sqs", &name)),
                        ("QueueName", name.clone()),
                        ("QueueUrl", format!("{}/{ACCOUNT}/{name}", options.moto)),
                    ]),
                    reference: format!("{}/{ACCOUNT}/{name}", options.moto),
                }
            }
            "AWS::S3::Bucket" => {
                let name = format!("{stack}-{id}").to_ascii_lowercase();
                Physical { attributes: attrs(&[("Arn", format!("arn:aws:s3:::{name}"))]), reference: name }
            }
            "AWS::Logs::LogGroup" => {
                let name = resource.properties.get("LogGroupName").map(|v| resolver.text(v)).transpose()?.unwrap_or_else(|| format!("/{stack}/{id}"));
                Physical { attributes: attrs(&[("Arn", arn("logs", &format!("log-group:{name}:*")))]), reference: name }
            }
            "AWS::IAM::ManagedPolicy" => Physical { reference: format!("arn:aws:iam::{ACCOUNT}:policy/{stack}-{id}"), attributes: BTreeMap::new() },
            "AWS::Serverless::Function" => {
                let name = format!("{stack}-{id}");
                Physical { attributes: attrs(&[("Arn", arn("lambda", &format!("function:{name}")))]), reference: name }
            }
            "AWS::SNS::Topic" => Physical { reference: arn("sns", &format!("{stack}-{id}")), attributes: BTreeMap::new() },
            _ => Physical { reference: id.clone(), attributes: BTreeMap::new() },
        };
        resolver.physical.insert(id.clone(), physical);
    }
    for (id, resource) in template.of_kind("AWS::DynamoDB::Table") {
        table(resolver, id, &resource.properties, options.clients).await.with_context(|| format!("table {id}"))?;
    }
    // Dead-letter queues before the queues that name them.
    let mut queues: Vec<_> = template.of_kind("AWS::SQS::Queue").collect();
    queues.sort_by_key(|(_, r)| r.properties.get("RedrivePolicy").is_some());
    for (id, resource) in queues {
        queue(resolver, id, &resource.properties, options).await.with_context(|| format!("queue {id}"))?;
    }
    for (id, _) in template.of_kind("AWS::S3::Bucket") {
        let name = resolver.physical[id].reference.clone();
        let made = options.clients.s3.create_bucket().bucket(&name).send().await;
        if let Err(e) = made {
            let exists = e.as_service_error().is_some_and(|s| s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists());
            if !exists {
                bail!("bucket {id}: {}", aws_sdk_s3::error::DisplayErrorContext(&e));
            }
        }
    }
    Ok(())
}

async fn secret(resolver: &Resolver<'_>, id: &str, props: &Value, options: &Provisioning<'_>) -> anyhow::Result<Physical> {
    let name = resolver.text(props.get("Name").ok_or_else(|| anyhow!("no Name (the local stack names secrets as the template does)"))?)?;
    let mut kept: BTreeMap<String, String> =
        std::fs::read_to_string(options.secrets_file).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    let put = options.secret_values.iter().find(|(suffix, _)| name.ends_with(&format!("/{suffix}")));
    let value = if let Some((_, v)) = put {
        v.clone()
    } else if let Some(v) = kept.get(&name) {
        v.clone()
    } else if let Some(generate) = props.get("GenerateSecretString") {
        let length: usize = generate.get("PasswordLength").map(scalar_text).unwrap_or_else(|| "32".into()).parse()?;
        let exclude = generate.get("ExcludeCharacters").map(scalar_text).unwrap_or_default();
        let alphabet: Vec<char> = (33u8..127).map(char::from).filter(|c| !exclude.contains(*c)).collect();
        let mut rng = rand::rng();
        let v: String = (0..length).map(|_| alphabet[rng.random_range(0..alphabet.len())]).collect();
        kept.insert(name.clone(), v.clone());
        shared::secrets::local::write_private(options.secrets_file, &serde_json::to_string_pretty(&kept)?)?;
        v
    } else {
        resolver.text(props.get("SecretString").ok_or_else(|| anyhow!("neither GenerateSecretString nor SecretString"))?)?
    };
    let client = &options.clients.secrets;
    let arn = match client.create_secret().name(&name).secret_string(&value).send().await {
        Ok(made) => made.arn().unwrap_or_default().to_owned(),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_exists_exception()) => {
            client.put_secret_value().secret_id(&name).secret_string(&value).send().await?.arn().unwrap_or_default().to_owned()
        }
        Err(e) => bail!("{}", aws_sdk_secretsmanager::error::DisplayErrorContext(&e)),
    };
    let _ = id;
    Ok(Physical { reference: arn.clone(), attributes: BTreeMap::from([("Id".to_owned(), arn)]) })
}

async fn table(resolver: &Resolver<'_>, id: &str, props: &Value, clients: &Clients) -> anyhow::Result<()> {
    let name = resolver.physical[id].reference.clone();
    let props = resolver.resolve(props)?;
    let key_schema = |v: &Value| -> anyhow::Result<Vec<ddb::KeySchemaElement>> {
        v.as_sequence()
            .ok_or_else(|| anyhow!("KeySchema is not a list"))?
            .iter()
            .map(|k| {
                Ok(ddb::KeySchemaElement::builder()
                    .attribute_name(scalar_text(k.get("AttributeName").unwrap_or(&Value::Null)))
                    .key_type(ddb::KeyType::from(scalar_text(k.get("KeyType").unwrap_or(&Value::Null)).as_str()))
                    .build()?)
            })
            .collect()
    };
    let mut create = clients.dynamodb.create_table().table_name(&name).billing_mode(ddb::BillingMode::PayPerRequest);
    for a in props.get("AttributeDefinitions").and_then(Value::as_sequence).into_iter().flatten() {
        create = create.attribute_definitions(
            ddb::AttributeDefinition::builder()
                .attribute_name(scalar_text(a.get("AttributeName").unwrap_or(&Value::Null)))
                .attribute_type(ddb::ScalarAttributeType::from(scalar_text(a.get("AttributeType").unwrap_or(&Value::Null)).as_str()))
                .build()?,
        );
    }
    create = create.set_key_schema(Some(key_schema(props.get("KeySchema").unwrap_or(&Value::Null))?));
    for index in props.get("GlobalSecondaryIndexes").and_then(Value::as_sequence).into_iter().flatten() {
        let projection = index.get("Projection").and_then(|p| p.get("ProjectionType")).map(scalar_text).unwrap_or_else(|| "ALL".into());
        create = create.global_secondary_indexes(
            ddb::GlobalSecondaryIndex::builder()
                .index_name(scalar_text(index.get("IndexName").unwrap_or(&Value::Null)))
                .set_key_schema(Some(key_schema(index.get("KeySchema").unwrap_or(&Value::Null))?))
                .projection(ddb::Projection::builder().projection_type(ddb::ProjectionType::from(projection.as_str())).build())
                .build()?,
        );
    }
    match create.send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {} // kept from an earlier run
        Err(e) => bail!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)),
    }
    if let Some(ttl) = props.get("TimeToLiveSpecification") {
        let enabled = ttl.get("Enabled").and_then(Value::as_bool).unwrap_or(false);
        let spec = ddb::TimeToLiveSpecification::builder()
            .attribute_name(scalar_text(ttl.get("AttributeName").unwrap_or(&Value::Null)))
            .enabled(enabled)
            .build()?;
        let current = clients.dynamodb.describe_time_to_live().table_name(&name).send().await?;
        let on = current.time_to_live_description().and_then(|d| d.time_to_live_status()).is_some_and(|s| *s == ddb::TimeToLiveStatus::Enabled);
        if on != enabled {
            clients.dynamodb.update_time_to_live().table_name(&name).time_to_live_specification(spec).send().await?;
        }
    }
    Ok(())
}

async fn queue(resolver: &Resolver<'_>, id: &str, props: &Value, options: &Provisioning<'_>) -> anyhow::Result<()> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let name = resolver.physical[id].attributes["QueueName"].clone();
    let props = resolver.resolve(props)?;
    let mut create = options.clients.sqs.create_queue().queue_name(&name);
    for (key, value) in mapping(&props) {
        let attribute = match key.as_str() {
            "VisibilityTimeout" => {
                let seconds: u64 = scalar_text(&value).parse()?;
                let capped = options.max_visibility_s.map_or(seconds, |cap| seconds.min(cap));
                create = create.attributes(A::VisibilityTimeout, capped.to_string());
                continue;
            }
            "MessageRetentionPeriod" => A::MessageRetentionPeriod,
            "DelaySeconds" => A::DelaySeconds,
            "ReceiveMessageWaitTimeSeconds" => A::ReceiveMessageWaitTimeSeconds,
            "MaximumMessageSize" => A::MaximumMessageSize,
            "RedrivePolicy" => {
                create = create.attributes(A::RedrivePolicy, serde_json::to_string(&crate::template::json_of(&value)?)?);
                continue;
            }
            // Encryption at rest has no local meaning.
            "SqsManagedSseEnabled" | "KmsMasterKeyId" => continue,
            other => bail!("queue property {other} is not made by the local stack"),
        };
        create = create.attributes(attribute, scalar_text(&value));
    }
    match create.send().await {
        Ok(_) => Ok(()),
        Err(e) => Err(anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(&e))),
    }
}
