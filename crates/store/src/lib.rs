//! Persistence: the embedded SQLite store, its migrations, tenancy-scoped queries and the notification outbox table.
