//! AWS SDK configuration shared by every adapter. In Lambda the SDK finds region and
//! credentials itself; locally and in tests an endpoint (DynamoDB Local, moto) is given.

use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the SDK configuration, pointed at `endpoint` when given (e.g. `http://127.0.0.1:8000`).
pub async fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
