//! Keys the functions read once at cold start: from a Secrets Manager secret when deployed (its
//! name or ARN in one variable), or from a variable holding the key itself in local runs. Never
//! resolved into a function's environment at deploy time, where `GetFunctionConfiguration` would
//! show it and only a redeploy would rotate it.

use crate::ConfigError;

/// Where a key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The key itself (local runs).
    Value(String),
    /// A Secrets Manager secret (name or ARN) whose SecretString is the key: its current
    /// version, and its previous one while a rotation is under way.
    SecretsManager { id: String },
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Never print the key.
            Self::Value(_) => f.write_str("KeySource::Value(..)"),
            Self::SecretsManager { id } => f.debug_struct("SecretsManager").field("id", id).finish(),
        }
    }
}

/// The versions of a key that verify: the current one and, during a rotation, the previous.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyVersions {
    pub current: String,
    pub previous: Option<String>,
}

impl std::fmt::Debug for KeyVersions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a key.
        f.debug_struct("KeyVersions").field("previous", &self.previous.is_some()).finish_non_exhaustive()
    }
}

/// A key of at least this many bytes.
pub const MIN_KEY_BYTES: usize = 16;

fn checked(name: &'static str, key: String) -> Result<String, ConfigError> {
    if key.len() < MIN_KEY_BYTES {
        return Err(ConfigError::Invalid { name, why: format!("must be at least {MIN_KEY_BYTES} bytes") });
    }
    Ok(key)
}

impl KeySource {
    /// `id_var` (the secret's name or ARN) when set, else `value_var` (the key itself); the
    /// error names `id_var` when neither is set.
    pub fn from_env(id_var: &'static str, value_var: &'static str) -> Result<Self, ConfigError> {
        if let Ok(id) = crate::config::required(id_var) {
            return Ok(Self::SecretsManager { id: id.trim().to_owned() });
        }
        match crate::config::required(value_var) {
            Ok(key) => Ok(Self::Value(checked(value_var, key)?)),
            Err(_) => Err(ConfigError::Missing(id_var)),
        }
    }

    /// The key's versions; errors name `id_var`.
    pub async fn read(
        self,
        aws: &aws_config::SdkConfig,
        id_var: &'static str,
    ) -> Result<KeyVersions, ConfigError> {
        let id = match self {
            Self::Value(key) => return Ok(KeyVersions { current: key, previous: None }),
            Self::SecretsManager { id } => id,
        };
        let client = aws_sdk_secretsmanager::Client::new(aws);
        let unreadable = |why: String| ConfigError::Invalid { name: id_var, why };
        let stage = |stage: &'static str| {
            let client = client.clone();
            let id = id.clone();
            async move { client.get_secret_value().secret_id(id).version_stage(stage).send().await }
        };
        let current = stage("AWSCURRENT")
            .await
            .map_err(|error| {
                unreadable(format!("cannot read the secret: {}", aws_sdk_secretsmanager::Error::from(error)))
            })?
            .secret_string
            .ok_or_else(|| unreadable("the secret has no SecretString".into()))?;
        let previous = match stage("AWSPREVIOUS").await {
            Ok(previous) => previous.secret_string.filter(|key| key.len() >= MIN_KEY_BYTES),
            // No rotation yet: there is no previous version.
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                None
            }
            Err(error) => {
                return Err(unreadable(format!(
                    "cannot read the previous version: {}",
                    aws_sdk_secretsmanager::Error::from(error)
                )));
            }
        };
        Ok(KeyVersions { current: checked(id_var, current)?, previous })
    }
}
