//! Correlation of detections into incidents, notification payloads, signed webhooks and the outbox delivery worker.
