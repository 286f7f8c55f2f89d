//! Secrets Manager adapter against moto's server, and tokens at rest in DynamoDB Local.

use shared::testing as support;

use std::sync::Arc;

use shared::clock::{Clock, ManualClock};
use shared::core::connection::{Connection, ConnectionStatus, SealedTokens, TokenKind, token_context};
use shared::secrets::local::random_key;
use shared::secrets::{LocalSecrets, Secrets, SecretsError, SecretsManagerSecrets, TokenCipher, names};
use shared::store::dynamo::schema;
use shared::store::{Record, Records, keys};

async fn secrets_manager_client() -> Option<aws_sdk_secretsmanager::Client> {
    let endpoint = support::moto_endpoint().await?;
    Some(aws_sdk_secretsmanager::Client::new(&shared::aws::sdk_config(Some(&endpoint)).await))
}

#[tokio::test]
async fn secrets_manager_reads_caches_and_reports_missing() {
    let Some(client) = secrets_manager_client().await else { return };
    let prefix = format!("test-{}/", uuid::Uuid::new_v4());
    let name = format!("{prefix}{}", names::LEVER_OAUTH);
    client
        .create_secret()
        .name(&name)
        .secret_string(r#"{"client_id":"abc","client_secret":"s3cr3t"}"#)
        .send()
        .await
        .expect("moto creates the secret");

    let secrets = SecretsManagerSecrets::new(client.clone(), prefix.clone());
    let value = secrets.get(names::LEVER_OAUTH).await.unwrap();
    assert!(value.expose().contains("s3cr3t"));
    assert!(!format!("{value:?}").contains("s3cr3t"), "Debug must not show the value");

    // Cached: a change in Secrets Manager is not seen until the cache lifetime passes…
    client.put_secret_value().secret_id(&name).secret_string("rotated").send().await.unwrap();
    assert!(secrets.get(names::LEVER_OAUTH).await.unwrap().expose().contains("s3cr3t"));
    // …and a reader without cache sees the new value.
    let uncached = SecretsManagerSecrets::new(client, prefix).with_cache_ttl(std::time::Duration::ZERO);
    assert_eq!(uncached.get(names::LEVER_OAUTH).await.unwrap().expose(), "rotated");

    match uncached.get("hub/missing").await {
        Err(SecretsError::NotFound(id)) => assert!(id.ends_with("hub/missing")),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn secrets_manager_reads_several_secrets_in_one_batch_and_names_a_missing_one() {
    let Some(client) = secrets_manager_client().await else { return };
    let prefix = format!("test-{}/", uuid::Uuid::new_v4());
    for (name, value) in [(names::TOKEN_KEY, "token-key-value"), (names::STATE_KEY, "state-key-value")] {
        client.create_secret().name(format!("{prefix}{name}")).secret_string(value).send().await.unwrap();
    }
    let secrets = SecretsManagerSecrets::new(client, prefix.clone());
    let both = secrets.get_many(&[names::TOKEN_KEY, names::STATE_KEY]).await.unwrap();
    assert_eq!(both.len(), 2);
    assert_eq!(both[names::TOKEN_KEY].expose(), "token-key-value");
    assert_eq!(both[names::STATE_KEY].expose(), "state-key-value");
    // What the batch read is cached for single reads.
    assert_eq!(secrets.get(names::STATE_KEY).await.unwrap().expose(), "state-key-value");

    match secrets.get_many(&[names::TOKEN_KEY, names::LEVER_OAUTH]).await {
        Err(SecretsError::NotFound(id)) => assert_eq!(id, format!("{prefix}{}", names::LEVER_OAUTH)),
        other => panic!("expected NotFound naming the missing secret, got {other:?}"),
    }
    assert!(secrets.get_many(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn token_key_from_secrets_manager_seals_tokens() {
    let Some(client) = secrets_manager_client().await else { return };
    let prefix = format!("test-{}/", uuid::Uuid::new_v4());
    client.create_secret().name(format!("{prefix}{}", names::TOKEN_KEY)).secret_string(random_key()).send().await.unwrap();
    let cipher = TokenCipher::load(&SecretsManagerSecrets::new(client, prefix)).await.unwrap();
    let sealed = cipher.seal("tok", "ctx");
    assert_eq!(cipher.open(&sealed, "ctx").unwrap().expose(), "tok");
}

/// What lands in the table is ciphertext: the raw DynamoDB item holds no token bytes.
#[tokio::test]
async fn tokens_are_ciphertext_in_dynamodb() {
    let Some(store) = support::dynamo_store().await else { return };
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at_ms(1_764_000_000_000));
    let records = Records::new(store.clone(), clock.clone());
    let secrets = LocalSecrets::from_values([(names::TOKEN_KEY, random_key())]);
    let cipher = TokenCipher::load(&secrets).await.unwrap();

    let access = "eyJhbGciOiJIUzUxMiJ9.access-token-plaintext";
    let refresh = "v1.refresh-token-plaintext";
    let mut connection = Connection::new("conn-secret", "partner-a", clock.now_ms());
    connection.status = ConnectionStatus::Active;
    connection.tokens = Some(SealedTokens {
        access_token: cipher.seal(access, &token_context(&connection.id, TokenKind::Access)),
        refresh_token: cipher.seal(refresh, &token_context(&connection.id, TokenKind::Refresh)),
        access_expires_at_ms: clock.now_ms() + 3_600_000,
        refreshed_at_ms: clock.now_ms(),
    });
    records.create(&connection).await.unwrap();

    let client = support::dynamodb_client().await.unwrap();
    let key = connection.key();
    let raw = client
        .get_item()
        .table_name(store.table())
        .key(schema::PK, aws_sdk_dynamodb::types::AttributeValue::S(key.pk.clone()))
        .key(schema::SK, aws_sdk_dynamodb::types::AttributeValue::S(key.sk.clone()))
        .send()
        .await
        .unwrap()
        .item
        .expect("item stored");
    let dump = format!("{raw:?}");
    assert!(dump.contains("conn-secret"), "the dump is of the right item");
    for plaintext in [access, refresh, "access-token-plaintext", "refresh-token-plaintext"] {
        assert!(!dump.contains(plaintext), "plaintext token found in the stored item");
    }

    // And the hub reads them back through the cipher.
    let stored = records.get::<Connection>(&keys::connection("conn-secret")).await.unwrap().unwrap().record;
    let tokens = stored.tokens.unwrap();
    assert_eq!(cipher.open(&tokens.refresh_token, &token_context("conn-secret", TokenKind::Refresh)).unwrap().expose(), refresh);
    // A token moved to another connection does not open.
    assert!(cipher.open(&tokens.refresh_token, &token_context("conn-other", TokenKind::Refresh)).is_err());
}
