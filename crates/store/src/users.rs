//! Dashboard users, their passwords and their sessions.
//!
//! A user is an operator (of the service, no organisation) or an admin or viewer of one
//! organisation. Passwords are kept as argon2id PHC strings; hashing and verifying are
//! plain functions because they cost tens of milliseconds of CPU, and the caller decides
//! where to spend them (a blocking thread in the server). A session is a random cookie
//! token of which only the SHA-256 is stored, with its own CSRF token.

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::Row;

use crate::keys::{random_bytes, token_hash};
use crate::{Result, Store, StoreError, corrupt, now_text};
use model::OrgId;

/// The shortest password accepted, in characters: length is what makes a password hard
/// to guess, not character classes.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in bytes: hashing cost grows with it.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Sessions kept per user; signing in again beyond it ends the oldest.
const MAX_SESSIONS_PER_USER: i64 = 20;
/// How stale `last_seen_at` may get before a request writes it again: every request
/// writing a row would turn reads into writes.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Staff of the service: enrols organisations and manages every user.
    Operator,
    /// Manages one organisation: its users, keys, personal addresses and settings.
    OrgAdmin,
    /// Reads one organisation's incidents and settings.
    OrgViewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::OrgAdmin => "org_admin",
            Role::OrgViewer => "org_viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Role> {
        match text {
            "operator" => Ok(Role::Operator),
            "org_admin" | "org-admin" => Ok(Role::OrgAdmin),
            "org_viewer" | "org-viewer" => Ok(Role::OrgViewer),
            other => Err(StoreError::Invalid(format!(
                "unknown role {other:?}; use operator, org_admin or org_viewer"
            ))),
        }
    }
}

/// A user to create. `password_hash` comes from [`hash_password`].
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    /// `None` exactly for operators.
    pub org: Option<OrgId>,
}

/// A stored user; the password hash never leaves the store through this type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub org: Option<OrgId>,
    pub created_at: String,
    pub disabled_at: Option<String>,
}

/// A session just opened: the cookie token (not stored) and the CSRF token the pages of
/// this session must send back.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

/// A live session and whose it is.
#[derive(Clone, Debug)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

/// Hashes a password with argon2id (the crate's default parameters) after checking its
/// length.
pub fn hash_password(password: &str) -> Result<String> {
    check_password(password)?;
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|error| StoreError::Invalid(format!("cannot encode a salt: {error}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| StoreError::Invalid(format!("cannot hash the password: {error}")))
}

/// Whether `password` matches the PHC string `hash`. An unreadable hash matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StoreError::Invalid(format!(
            "the password is too short: use at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(StoreError::Invalid(format!(
            "the password is too long: at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Checks the shape of an e-mail address and returns it trimmed and lower-cased: an
/// address is compared without regard to case everywhere in tocsin.
pub fn normalise_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"',;()[]\\".contains(c));
    if valid {
        Ok(email)
    } else {
        Err(StoreError::Invalid(format!(
            "{email:?} is not an e-mail address such as ana@example.org"
        )))
    }
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    let role = Role::from_str(&role).map_err(|_| corrupt(format!("user role {role:?}")))?;
    let org: Option<i64> = row.try_get("org_id")?;
    if (role == Role::Operator) != org.is_none() {
        return Err(corrupt(format!("user with role {role} and org {org:?}")));
    }
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role,
        org: org.map(OrgId),
        created_at: row.try_get("created_at")?,
        disabled_at: row.try_get("disabled_at")?,
    })
}

const USER_COLUMNS: &str = "users.id, users.email, users.name, users.role, users.org_id, \
                            users.created_at, users.disabled_at";

impl Store {
    /// Creates a user. The e-mail must be unused (whatever its case) and the organisation
    /// must exist for an organisation's user.
    pub async fn create_user(&self, new: &NewUser) -> Result<User> {
        let email = normalise_email(&new.email)?;
        let name = new.name.trim();
        if name.chars().count() > 200 {
            return Err(StoreError::Invalid(
                "the name is too long: at most 200 characters".into(),
            ));
        }
        if (new.role == Role::Operator) != new.org.is_none() {
            return Err(StoreError::Invalid(
                "an operator belongs to no organisation; an org_admin or org_viewer to one".into(),
            ));
        }
        if let Some(org) = new.org
            && self.organisation(org).await?.is_none()
        {
            return Err(StoreError::Invalid(format!(
                "organisation {org} does not exist"
            )));
        }
        let row = sqlx::query(
            "INSERT INTO users (email, name, password_hash, role, org_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING \
             RETURNING id, email, name, role, org_id, created_at, disabled_at",
        )
        .bind(&email)
        .bind(name)
        .bind(&new.password_hash)
        .bind(new.role.as_str())
        .bind(new.org.map(|o| o.0))
        .bind(now_text())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => user_from_row(&row),
            None => Err(StoreError::Invalid(format!(
                "a user with the e-mail {email} exists already"
            ))),
        }
    }

    /// Users of `org`, or of every organisation and the operators for `None`, oldest
    /// first, at most `limit`.
    pub async fn users(&self, org: Option<OrgId>, limit: u32) -> Result<Vec<User>> {
        let rows = match org {
            Some(org) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY id LIMIT $2"
                )))
                .bind(org.0)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {USER_COLUMNS} FROM users ORDER BY id LIMIT $1"
                )))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(user_from_row).collect()
    }

    /// Disables a user of `org` (any user for `None`) and ends their sessions. Returns
    /// the user, or `None` when there is no such user in that scope.
    pub async fn disable_user(&self, org: Option<OrgId>, id: i64) -> Result<Option<User>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE users SET disabled_at = coalesce(disabled_at, $1) \
             WHERE id = $2 AND ($3 IS NULL OR org_id = $4) \
             RETURNING id, email, name, role, org_id, created_at, disabled_at",
        )
        .bind(now_text())
        .bind(id)
        .bind(org.map(|o| o.0))
        .bind(org.map(|o| o.0))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        user_from_row(&row).map(Some)
    }

    /// The enabled user who signs in as `email`, with the password hash to check.
    pub async fn user_for_login(&self, email: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, users.password_hash FROM users \
             WHERE email = $1 AND disabled_at IS NULL"
        )))
        // Stored addresses are lower-case (`normalise_email`); PostgreSQL compares
        // exactly where SQLite's column is NOCASE.
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let hash: String = row.try_get("password_hash")?;
        Ok(Some((user_from_row(&row)?, hash)))
    }

    /// Opens a session for a user, valid for `lifetime` at most. Expired sessions of
    /// everyone and this user's oldest beyond a bound are removed on the way.
    pub async fn create_session(
        &self,
        user_id: i64,
        lifetime: SignedDuration,
    ) -> Result<NewSession> {
        let token = crate::keys::random_hex_token()?;
        let csrf_token = crate::keys::random_hex_token()?;
        let now = Timestamp::now();
        let expires_at = now
            .checked_add(lifetime)
            .map_err(|error| StoreError::Invalid(format!("session lifetime: {error}")))?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at_us <= $1")
            .bind(now.as_microsecond())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, csrf_token, created_at, expires_at_us, \
             last_seen_at_us) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(&csrf_token)
        .bind(now.to_string())
        .bind(expires_at.as_microsecond())
        .bind(now.as_microsecond())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND id NOT IN \
             (SELECT id FROM sessions WHERE user_id = $2 ORDER BY last_seen_at_us DESC LIMIT $3)",
        )
        .bind(user_id)
        .bind(user_id)
        .bind(MAX_SESSIONS_PER_USER)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(NewSession {
            token,
            csrf_token,
            expires_at,
        })
    }

    /// The live session of a cookie token: not expired, not idle for longer than `idle`,
    /// of an enabled user. Records that it was seen, at most once a minute.
    pub async fn session(&self, token: &str, idle: SignedDuration) -> Result<Option<Session>> {
        let now = Timestamp::now();
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, sessions.csrf_token, sessions.expires_at_us, \
             sessions.last_seen_at_us FROM sessions JOIN users ON users.id = sessions.user_id \
             WHERE sessions.id = $1 AND users.disabled_at IS NULL"
        )))
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_us: i64 = row.try_get("expires_at_us")?;
        let last_seen_us: i64 = row.try_get("last_seen_at_us")?;
        let now_us = now.as_microsecond();
        let idle_us = idle.as_micros().try_into().unwrap_or(i64::MAX);
        if expires_us <= now_us || now_us.saturating_sub(last_seen_us) > idle_us {
            self.delete_session(token).await?;
            return Ok(None);
        }
        let touch_us = TOUCH_EVERY.as_micros().try_into().unwrap_or(i64::MAX);
        if now_us.saturating_sub(last_seen_us) >= touch_us {
            sqlx::query("UPDATE sessions SET last_seen_at_us = $1 WHERE id = $2")
                .bind(now_us)
                .bind(token_hash(token))
                .execute(&self.pool)
                .await?;
        }
        let expires_at = Timestamp::from_microsecond(expires_us)
            .map_err(|error| corrupt(format!("session expiry: {error}")))?;
        Ok(Some(Session {
            user: user_from_row(&row)?,
            csrf_token: row.try_get("csrf_token")?,
            expires_at,
        }))
    }

    /// Ends a session; ending one that does not exist is not an error.
    pub async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store_with_user() -> (tempfile::TempDir, Store, User) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_for_tests(dir.path()).await.expect("store");
        let user = store
            .create_user(&NewUser {
                email: "Root@Cert.example".into(),
                name: "Root".into(),
                password_hash: hash_password("correct horse battery").expect("hash"),
                role: Role::Operator,
                org: None,
            })
            .await
            .expect("user");
        (dir, store, user)
    }

    #[tokio::test]
    async fn a_session_ends_when_idle_or_at_its_lifetime_and_the_cookie_is_not_stored() {
        let (_dir, store, user) = store_with_user().await;
        let hour = SignedDuration::from_hours(1);
        let session = store.create_session(user.id, hour).await.expect("session");
        let found = store.session(&session.token, hour).await.expect("lookup");
        assert_eq!(
            found.map(|s| s.user.email),
            Some("root@cert.example".into())
        );
        let stored: Vec<u8> = sqlx::query_scalar("SELECT id FROM sessions")
            .fetch_one(&store.pool)
            .await
            .expect("row");
        assert_ne!(stored, session.token.as_bytes());
        assert_eq!(stored, token_hash(&session.token));

        let short = SignedDuration::from_millis(100);
        let idle = store.create_session(user.id, hour).await.expect("session");
        let brief = store.create_session(user.id, short).await.expect("session");
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        assert!(
            store
                .session(&idle.token, short)
                .await
                .expect("idle")
                .is_none()
        );
        assert!(
            store
                .session(&brief.token, hour)
                .await
                .expect("brief")
                .is_none()
        );
        assert!(
            store
                .session(&session.token, hour)
                .await
                .expect("live")
                .is_some()
        );
    }

    #[tokio::test]
    async fn an_address_is_one_user_whatever_its_case() {
        let (_dir, store, _) = store_with_user().await;
        let again = store
            .create_user(&NewUser {
                email: "ROOT@cert.example".into(),
                name: String::new(),
                password_hash: hash_password("another long password").expect("hash"),
                role: Role::Operator,
                org: None,
            })
            .await;
        assert!(matches!(again, Err(StoreError::Invalid(_))), "{again:?}");
        let (user, hash) = store
            .user_for_login("root@CERT.example")
            .await
            .expect("lookup")
            .expect("found");
        assert_eq!(user.role, Role::Operator);
        assert!(verify_password(&hash, "correct horse battery"));
    }

    #[test]
    fn a_password_is_stored_as_an_argon2id_string_that_verifies_only_itself() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterY"));
        assert!(!verify_password("not a hash", "correct horse battery"));
    }

    #[test]
    fn passwords_are_bounded_both_ways() {
        assert!(hash_password("short").is_err());
        assert!(hash_password(&"a".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }

    #[test]
    fn addresses_are_lower_cased_and_checked() {
        assert_eq!(
            normalise_email(" Ana@Echo.Example ").expect("valid"),
            "ana@echo.example"
        );
        for bad in [
            "ana",
            "@echo.example",
            "ana@echo",
            "a b@echo.example",
            "a@b@c.d",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }
}
