//! Lever's `candidateHired` webhook → that hire imported, within seconds. A handler of the
//! Lever-event router; other flows may handle the same event beside it (the candidate status
//! events of the ingest flow do).

use async_trait::async_trait;

use super::HiresError;
use super::import::HireImport;
use super::send::HireOutcome;
use crate::flows::lever_events::{HandlerError, InboundLeverEvent, LeverEventHandler};

pub struct HireOnWebhook {
    import: HireImport,
}

impl HireOnWebhook {
    pub fn new(import: HireImport) -> Self {
        Self { import }
    }
}

#[async_trait]
impl LeverEventHandler for HireOnWebhook {
    fn name(&self) -> &'static str {
        super::FLOW
    }

    async fn handle(&self, event: &InboundLeverEvent) -> Result<(), HandlerError> {
        let opportunity_id = event.required_opportunity_id()?;
        match self.import.import_opportunity(&event.connection_id, opportunity_id).await {
            Ok(outcome) => {
                if outcome == HireOutcome::NotHired {
                    tracing::info!(connection_id = %event.connection_id, opportunity_id, "candidateHired for an opportunity Lever no longer has as hired");
                }
                Ok(())
            }
            // The partner has no hires flow: the event is not this flow's.
            Err(HiresError::NotEnabled(_)) => Ok(()),
            Err(e) if e.is_transient() => Err(HandlerError::Retry(e.to_string())),
            Err(e) => Err(HandlerError::Drop(e.to_string())),
        }
    }
}
