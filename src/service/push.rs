//! Push notification configs: registering, reading, listing and deleting a task's
//! webhooks. Delivery itself is the push worker's (`crate::push::worker`).

use super::{TaskService, store_error};
use crate::protocol::{A2aError, InlinePushConfig, PushConfig, PushConfigPage};
use crate::push::ssrf;
use crate::store::Scope;

/// Default and maximum page size of `ListTaskPushNotificationConfigs`.
pub const DEFAULT_CONFIG_PAGE: usize = 100;
pub const MAX_CONFIG_PAGE: usize = 1000;

impl TaskService {
    /// Refuses webhook URLs the server must not call (not http(s), or a private,
    /// loopback, link-local or metadata address, or a name resolving to one, without the
    /// switch), with the reason. A name that does not resolve yet is accepted (see
    /// [`ssrf::check_registration`]).
    pub async fn check_webhook(&self, url: &str) -> Result<(), A2aError> {
        ssrf::check_registration(url, self.inner.config.push_allow_private)
            .await
            .map(|_| ())
            .map_err(|e| A2aError::InvalidParams(e.to_string()))
    }

    /// Checks an inline config of a send before anything is created.
    pub(super) async fn check_inline_push(
        &self,
        push: Option<&InlinePushConfig>,
    ) -> Result<(), A2aError> {
        match push {
            Some(p) => self.check_webhook(&p.url).await,
            None => Ok(()),
        }
    }

    /// Creates (or replaces, by id) a webhook of an existing task.
    pub async fn set_push_config(
        &self,
        scope: &Scope,
        config: PushConfig,
    ) -> Result<PushConfig, A2aError> {
        self.check_webhook(&config.url).await?;
        self.inner
            .store
            .put_push_config(scope, &config)
            .await
            .map_err(|e| task_error(e, &config.task_id))?;
        Ok(config)
    }

    /// The config `id` of the task. With `None` (0.x), the default one: the config whose
    /// id is the task id (what a config registered without an id gets), else the first.
    pub async fn get_push_config(
        &self,
        scope: &Scope,
        task_id: &str,
        id: Option<&str>,
    ) -> Result<PushConfig, A2aError> {
        let store = &self.inner.store;
        let found = match id {
            Some(id) => store.get_push_config(scope, task_id, id).await,
            None => match store.get_push_config(scope, task_id, task_id).await {
                Ok(None) => store
                    .list_push_configs(scope, task_id, None, 1)
                    .await
                    .map(|mut v| v.pop()),
                other => other,
            },
        }
        .map_err(|e| task_error(e, task_id))?;
        found.ok_or_else(|| {
            A2aError::TaskNotFound(match id {
                Some(id) => format!("task `{task_id}` has no push notification config `{id}`"),
                None => format!("task `{task_id}` has no push notification config"),
            })
        })
    }

    /// One page of the task's configs, by id; the page token is the last id seen.
    pub async fn list_push_configs(
        &self,
        scope: &Scope,
        task_id: &str,
        size: usize,
        page_token: Option<&str>,
    ) -> Result<PushConfigPage, A2aError> {
        let after = page_token.filter(|t| !t.is_empty());
        // One more than the page tells whether another follows.
        let mut configs = self
            .inner
            .store
            .list_push_configs(scope, task_id, after, size + 1)
            .await
            .map_err(|e| task_error(e, task_id))?;
        let more = configs.len() > size;
        configs.truncate(size);
        let next_page_token = match configs.last() {
            Some(last) if more => last.id.clone(),
            _ => String::new(),
        };
        Ok(PushConfigPage {
            configs,
            next_page_token,
        })
    }

    /// Deletes the config and whatever it had not yet delivered. Deleting a config that
    /// does not exist is not an error (the method is idempotent).
    pub async fn delete_push_config(
        &self,
        scope: &Scope,
        task_id: &str,
        id: &str,
    ) -> Result<(), A2aError> {
        self.inner
            .store
            .delete_push_config(scope, task_id, id)
            .await
            .map(|_| ())
            .map_err(|e| task_error(e, task_id))
    }
}

fn task_error(e: crate::store::StoreError, task_id: &str) -> A2aError {
    match e {
        crate::store::StoreError::NotFound => {
            A2aError::TaskNotFound(format!("no task with id `{task_id}`"))
        }
        other => store_error(other),
    }
}
